package core

import (
	"slices"
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Block storage, as far as the instances' network life needs it: every
// instance gets an EBS root volume at launch from its image's block device
// mapping (the catalogue image's snapshot, size and type, or AWS's defaults
// for an image outside the catalogue), overridden by the launch's own
// BlockDeviceMapping for the root device; other EBS mappings of the launch
// become further volumes. Volumes are records like the others, created in
// the launch's change set: DescribeInstances shows them as the instance's
// BlockDeviceMappings, DescribeVolumes lists them, and TerminateInstances
// deletes those marked DeleteOnTermination and detaches the others. Nothing
// is stored on them: there is no disk.

// volumeSpec is one volume a launch creates.
type volumeSpec struct {
	device       string
	size         int32 // GiB
	typ          string
	iops, tput   int32
	snapshot     string
	encrypted    bool
	kmsKey       string
	deleteOnTerm bool
}

// volumeSizes are the EBS volume types and their size range in GiB.
var volumeSizes = map[string][2]int32{
	"gp2": {1, 16384}, "gp3": {1, 16384}, "io1": {4, 16384}, "io2": {4, 65536},
	"st1": {125, 16384}, "sc1": {125, 16384}, "standard": {1, 1024},
}

// volumeDefaultSize is the root volume of an image outside the catalogue.
const volumeDefaultSize = 8

// imageRootVolume returns the root device of an image and the volume its
// block device mapping gives it.
func imageRootVolume(imageID string) volumeSpec {
	v := volumeSpec{device: "/dev/xvda", size: volumeDefaultSize, typ: "gp3", deleteOnTerm: true}
	if im := imageByID(imageID); im != nil {
		v = volumeSpec{device: im.rootDevice(), size: im.RootSize, typ: im.VolumeType, snapshot: im.SnapshotID, deleteOnTerm: true}
	}
	_ = checkVolume(&v) // fills in the type's IOPS and throughput; the catalogue's volumes are valid
	return v
}

// snapshotSize returns the size of a snapshot (a catalogue image's), or
// the Malformed/NotFound error.
func snapshotSize(id string) (int32, error) {
	if !validID(id, "snap") {
		return 0, errorf(CodeInvalidSnapshotIDMalformed, "Invalid id: \"%s\" (expecting \"snap-...\")", id)
	}
	for _, im := range imageCatalogue {
		if im.SnapshotID == id {
			return im.RootSize, nil
		}
	}
	return 0, errorf(CodeInvalidSnapshotNotFound, "The snapshot '%s' does not exist.", id)
}

// launchVolumes resolves a launch's BlockDeviceMapping.N against its image's
// root volume: the volumes to create, the root first.
func launchVolumes(imageID string, bdms []ec2wire.BlockDeviceMapping) ([]volumeSpec, error) {
	root := imageRootVolume(imageID)
	out := []volumeSpec{root}
	seen := map[string]bool{}
	for _, m := range bdms {
		dev := str(m.DeviceName)
		if dev == "" {
			return nil, errorf(CodeMissingParameter, "The request must contain the parameter BlockDeviceMapping.DeviceName")
		}
		if seen[dev] {
			return nil, errorf(CodeInvalidBlockDeviceMapping, "The device '%s' is used in more than one block-device mapping", dev)
		}
		seen[dev] = true
		switch {
		case m.NoDevice != nil && dev == root.device:
			return nil, errorf(CodeInvalidBlockDeviceMapping, "The root device '%s' cannot be suppressed", dev)
		case m.NoDevice != nil || (m.Ebs == nil && str(m.VirtualName) != ""):
			continue // suppresses nothing the image maps / instance store: no volume
		case m.Ebs == nil:
			return nil, errorf(CodeInvalidBlockDeviceMapping, "The block-device mapping for '%s' needs Ebs, VirtualName or NoDevice", dev)
		}
		base := volumeSpec{device: dev, typ: "gp2", deleteOnTerm: true}
		if dev == root.device {
			base = root
		}
		v, err := volumeFromMapping(base, m.Ebs, dev == root.device)
		if err != nil {
			return nil, err
		}
		if dev == root.device {
			out[0] = v
		} else {
			out = append(out, v)
		}
	}
	return out, nil
}

// volumeFromMapping applies an Ebs mapping to base (the image's root volume,
// or an empty one) and checks the result.
func volumeFromMapping(v volumeSpec, ebs *ec2wire.EbsBlockDevice, root bool) (volumeSpec, error) {
	if s := str(ebs.SnapshotId); s != "" {
		v.snapshot = s
		v.size = 0
	}
	var min int32
	if v.snapshot != "" {
		n, err := snapshotSize(v.snapshot)
		if err != nil {
			return v, err
		}
		min, v.size = n, n
	}
	if ebs.VolumeSize != nil {
		v.size = *ebs.VolumeSize
	}
	if v.size == 0 {
		return v, errorf(CodeInvalidBlockDeviceMapping, "Either snapshot ID or volume size must be provided for: %s", v.device)
	}
	if v.size < min {
		return v, errorf(CodeInvalidBlockDeviceMapping, "Volume of size %dGB is smaller than  snapshot '%s', expect size >= %dGB", v.size, v.snapshot, min)
	}
	if t := str(ebs.VolumeType); t != "" && t != v.typ {
		v.typ, v.iops, v.tput = t, 0, 0
	}
	v.iops, v.tput = i32(ebs.Iops), i32(ebs.Throughput)
	if ebs.DeleteOnTermination != nil {
		v.deleteOnTerm = *ebs.DeleteOnTermination
	}
	v.encrypted = v.encrypted || boolv(ebs.Encrypted)
	if k := str(ebs.KmsKeyId); k != "" {
		if !v.encrypted {
			return v, errorf(CodeInvalidParameterDependency, "The parameter KmsKeyId requires the parameter Encrypted to be set.")
		}
		v.kmsKey = k
	}
	if root && (v.typ == "st1" || v.typ == "sc1") {
		return v, errorf(CodeInvalidBlockDeviceMapping, "Volume type %s is not supported for root (boot) volumes", v.typ)
	}
	return v, checkVolume(&v)
}

// checkVolume checks a volume's type, size, IOPS and throughput against the
// ranges of its type, and fills in the type's defaults.
func checkVolume(v *volumeSpec) error {
	sizes, ok := volumeSizes[v.typ]
	if !ok {
		return errorf(CodeInvalidParameterValue, "Value (%s) for parameter volumeType is invalid. Valid values are: standard, io1, io2, gp2, sc1, st1, gp3.", v.typ)
	}
	if v.size < sizes[0] || v.size > sizes[1] {
		return errorf(CodeInvalidParameterValue, "Volume of %dGiB is outside the range of %d-%dGiB for volume type %s.", v.size, sizes[0], sizes[1], v.typ)
	}
	switch v.typ {
	case "io1", "io2":
		if v.iops == 0 {
			return errorf(CodeInvalidParameterCombination, "The parameter iops must be specified for %s volumes.", v.typ)
		}
		if err := checkVolumeIops(v); err != nil {
			return err
		}
	case "gp3":
		v.iops, v.tput = cmpOr(v.iops, 3000), cmpOr(v.tput, 125)
		if err := checkVolumeIops(v); err != nil {
			return err
		}
		if v.tput < 125 || v.tput > 1000 {
			return errorf(CodeInvalidParameterValue, "The throughput value %d is outside the range of 125-1000 MiB/s for gp3 volumes.", v.tput)
		}
		if v.tput*4 > v.iops {
			return errorf(CodeInvalidParameterValue, "Throughput (MiBps) to iops ratio of %f is too high; maximum is 0.250000 MiBps per iops.", float64(v.tput)/float64(v.iops))
		}
		return nil
	default:
		if v.iops != 0 {
			return errorf(CodeInvalidParameterCombination, "The parameter iops is not supported for %s volumes.", v.typ)
		}
	}
	if v.tput != 0 {
		return errorf(CodeInvalidParameterCombination, "The parameter throughput is not supported for %s volumes.", v.typ)
	}
	if v.typ == "gp2" {
		v.iops = min(max(3*v.size, 100), 16000) // gp2's baseline, as AWS reports it
	}
	return nil
}

// volumeIops are the provisioned IOPS range and the most IOPS per GiB of
// the types that take IOPS.
var volumeIops = map[string]struct{ min, max, perGiB int32 }{
	"gp3": {3000, 16000, 500}, "io1": {100, 64000, 50}, "io2": {100, 256000, 1000},
}

// checkVolumeIops checks a volume's IOPS against its type's range and IOPS
// per GiB (gp3's baseline of 3,000 is allowed on any size).
func checkVolumeIops(v *volumeSpec) error {
	r := volumeIops[v.typ]
	if v.iops < r.min || v.iops > r.max {
		return errorf(CodeInvalidParameterValue, "The iops value %d is outside the range of %d-%d for %s volumes.", v.iops, r.min, r.max, v.typ)
	}
	if v.iops > v.size*r.perGiB && !(v.typ == "gp3" && v.iops == 3000) {
		return errorf(CodeInvalidParameterValue, "Iops to volume size ratio of %f is too high; maximum is %f.", float64(v.iops)/float64(v.size), float64(r.perGiB))
	}
	return nil
}

func cmpOr(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// createVolumes creates a launched instance's volumes, attached to it.
func (tx *Tx) createVolumes(inst *Instance, specs []volumeSpec, tags Tags) {
	for _, s := range specs {
		tx.volumes.Put(&Volume{
			ID: tx.newID("vol"), Owner: inst.Owner, AZ: inst.AZ, Size: s.size, Type: s.typ, Iops: s.iops,
			Throughput: s.tput, SnapshotID: s.snapshot, Encrypted: s.encrypted, KmsKeyID: s.kmsKey,
			CreateTime: tx.Now(), Tags: tags,
			Attachment: &VolumeAttachment{InstanceID: inst.ID, Device: s.device, AttachTime: tx.Now(), DeleteOnTermination: s.deleteOnTerm},
		})
	}
}

// volumesOfInstance returns the volumes attached to an instance, the root
// device's first, then by device name.
func (tx *Tx) volumesOfInstance(inst *Instance) []*Volume {
	var ids []string
	for id := range tx.db.idx.volByInst[inst.ID] {
		ids = append(ids, id)
	}
	out := tx.volumes.Pick(ids, func(v *Volume) bool { return v.Attachment != nil && v.Attachment.InstanceID == inst.ID })
	root := instanceRootDevice(inst)
	slices.SortFunc(out, func(a, b *Volume) int {
		if ra, rb := a.Attachment.Device == root, b.Attachment.Device == root; ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Attachment.Device, b.Attachment.Device)
	})
	return out
}

// terminateVolumes deletes an instance's volumes marked delete-on-termination
// and detaches the others (they become available).
func (tx *Tx) terminateVolumes(inst *Instance) {
	for _, v := range tx.volumesOfInstance(inst) {
		if v.Attachment.DeleteOnTermination {
			tx.volumes.Delete(v.ID)
			continue
		}
		tx.volumes.Mut(v.ID).Attachment = nil
	}
}

// instanceRootDevice is the device name of the instance's root volume.
func instanceRootDevice(inst *Instance) string { return imageRootVolume(inst.ImageID).device }

// instanceBlockDevices renders an instance's volumes as its block device
// mappings.
func (tx *Tx) instanceBlockDevices(inst *Instance) []ec2wire.InstanceBlockDeviceMapping {
	out := []ec2wire.InstanceBlockDeviceMapping{}
	for _, v := range tx.volumesOfInstance(inst) {
		a := v.Attachment
		out = append(out, ec2wire.InstanceBlockDeviceMapping{DeviceName: p(a.Device), Ebs: &ec2wire.EbsInstanceBlockDevice{
			AttachTime: ec2wire.NewTime(a.AttachTime), DeleteOnTermination: p(a.DeleteOnTermination), Status: p("attached"), VolumeId: p(v.ID),
		}})
	}
	return out
}

// instanceVolumeFilters adds DescribeInstances' block device filters to fs.
func (tx *Tx) instanceVolumeFilters(fs filterSet[Instance]) {
	each := func(f func(v *Volume) string) func(*Instance) []string {
		return func(i *Instance) []string {
			var out []string
			for _, v := range tx.volumesOfInstance(i) {
				out = append(out, f(v))
			}
			return out
		}
	}
	fs["block-device-mapping.attach-time"] = each(func(v *Volume) string { return v.Attachment.AttachTime.UTC().Format(ec2wire.TimeFormat) })
	fs["block-device-mapping.delete-on-termination"] = each(func(v *Volume) string { return bstr(v.Attachment.DeleteOnTermination) })
	fs["block-device-mapping.device-name"] = each(func(v *Volume) string { return v.Attachment.Device })
	fs["block-device-mapping.status"] = each(func(v *Volume) string { return "attached" })
	fs["block-device-mapping.volume-id"] = each(func(v *Volume) string { return v.ID })
	fs["root-device-name"] = func(i *Instance) []string { return []string{instanceRootDevice(i)} }
}

// volumeState is the volume's state as DescribeVolumes shows it.
func volumeState(v *Volume) string {
	if v.Attachment != nil {
		return "in-use"
	}
	return "available"
}

func volumeOut(v *Volume) ec2wire.Volume {
	out := ec2wire.Volume{
		VolumeId: p(v.ID), AvailabilityZone: p(v.AZ), Size: p(v.Size), VolumeType: p(v.Type), SnapshotId: p(v.SnapshotID),
		State: p(volumeState(v)), CreateTime: ec2wire.NewTime(v.CreateTime), Encrypted: p(v.Encrypted),
		MultiAttachEnabled: p(false), Tags: tagsOut(v.Tags), Attachments: []ec2wire.VolumeAttachment{},
	}
	if v.Iops != 0 {
		out.Iops = p(v.Iops)
	}
	if v.Throughput != 0 {
		out.Throughput = p(v.Throughput)
	}
	if v.KmsKeyID != "" {
		out.KmsKeyId = p(v.KmsKeyID)
	}
	if a := v.Attachment; a != nil {
		out.Attachments = append(out.Attachments, ec2wire.VolumeAttachment{
			VolumeId: p(v.ID), InstanceId: p(a.InstanceID), Device: p(a.Device), State: p("attached"),
			AttachTime: ec2wire.NewTime(a.AttachTime), DeleteOnTermination: p(a.DeleteOnTermination),
		})
	}
	return out
}

// volumeFilters are DescribeVolumes' filters.
func volumeFilters() filterSet[Volume] {
	att := func(f func(a *VolumeAttachment) string) func(*Volume) []string {
		return func(v *Volume) []string {
			if v.Attachment == nil {
				return nil
			}
			return []string{f(v.Attachment)}
		}
	}
	one := func(f func(v *Volume) string) func(*Volume) []string {
		return func(v *Volume) []string { return []string{f(v)} }
	}
	return filterSet[Volume]{
		"attachment.attach-time":           att(func(a *VolumeAttachment) string { return a.AttachTime.UTC().Format(ec2wire.TimeFormat) }),
		"attachment.delete-on-termination": att(func(a *VolumeAttachment) string { return bstr(a.DeleteOnTermination) }),
		"attachment.device":                att(func(a *VolumeAttachment) string { return a.Device }),
		"attachment.instance-id":           att(func(a *VolumeAttachment) string { return a.InstanceID }),
		"attachment.status":                att(func(a *VolumeAttachment) string { return "attached" }),
		"availability-zone":                one(func(v *Volume) string { return v.AZ }),
		"create-time":                      one(func(v *Volume) string { return v.CreateTime.UTC().Format(ec2wire.TimeFormat) }),
		"encrypted":                        one(func(v *Volume) string { return bstr(v.Encrypted) }),
		"multi-attach-enabled":             one(func(v *Volume) string { return "false" }),
		"fast-restored":                    one(func(v *Volume) string { return "false" }),
		"size":                             one(func(v *Volume) string { return strconv.Itoa(int(v.Size)) }),
		"snapshot-id":                      one(func(v *Volume) string { return v.SnapshotID }),
		"status":                           one(volumeState),
		"volume-id":                        one(func(v *Volume) string { return v.ID }),
		"volume-type":                      one(func(v *Volume) string { return v.Type }),
	}
}

// getVolume returns the caller's volume, or the Malformed/NotFound error.
func (tx *Tx) getVolume(id string) (*Volume, error) {
	if !validID(id, "vol") {
		return nil, errorf(CodeInvalidVolumeIDMalformed, "Invalid id: \"%s\" (expecting \"vol-...\")", id)
	}
	v := tx.volumes.Get(id)
	if v == nil || v.Owner != tx.Account {
		return nil, errorf(CodeInvalidVolumeNotFound, "The volume '%s' does not exist.", id)
	}
	return v, nil
}

// DescribeVolumes lists the caller's volumes.
func (tx *Tx) DescribeVolumes(in *ec2wire.DescribeVolumesInput) (*ec2wire.DescribeVolumesOutput, error) {
	if len(in.VolumeIds) > 0 && in.MaxResults != nil {
		return nil, errorf(CodeInvalidParameterCombination, "The parameter volumeSet cannot be used with the parameter maxResults")
	}
	m, err := newMatcher(volumeFilters(), func(v *Volume) Tags { return v.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.VolumeIds {
		if _, err := tx.getVolume(id); err != nil {
			return nil, err
		}
	}
	items := tx.volumes.Sorted(func(v *Volume) bool {
		return v.Owner == tx.Account && (len(in.VolumeIds) == 0 || contains(in.VolumeIds, v.ID)) && m.match(v)
	})
	page, next, err := paginate(items, func(v *Volume) string { return v.ID }, in.MaxResults, in.NextToken, 5, 500)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeVolumesOutput{Volumes: []ec2wire.Volume{}, NextToken: next}
	for _, v := range page {
		out.Volumes = append(out.Volumes, volumeOut(v))
	}
	return out, nil
}

// checkVolumes verifies the volumes' invariants: every attachment points at
// a live instance of the same availability zone, one volume per device, and
// the index says what the records say.
func (d *db) checkVolumes(bad func(format string, args ...any)) {
	devices := map[string]string{}
	indexed := 0
	for _, set := range d.idx.volByInst {
		indexed += len(set)
	}
	attached := 0
	for _, v := range d.volumes.rows {
		a := v.Attachment
		if a == nil {
			continue
		}
		attached++
		inst := d.instances.rows[a.InstanceID]
		if inst == nil || inst.State == "terminated" || inst.AZ != v.AZ {
			bad("volume %s attached to %s, which is not a live instance of %s", v.ID, a.InstanceID, v.AZ)
		}
		key := a.InstanceID + " " + a.Device
		if o, ok := devices[key]; ok {
			bad("device %s held by volumes %s and %s", key, o, v.ID)
		}
		devices[key] = v.ID
		if _, ok := d.idx.volByInst[a.InstanceID][v.ID]; !ok {
			bad("index: volume %s of %s is not indexed", v.ID, a.InstanceID)
		}
	}
	if indexed != attached {
		bad("index: %d volume attachments indexed, records have %d", indexed, attached)
	}
}
