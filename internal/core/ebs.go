package core

import (
	"regexp"
	"strconv"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// EBS volumes of their own: CreateVolume, AttachVolume, DetachVolume,
// DeleteVolume, ModifyVolume and their descriptions. There is no disk, so
// every transition settles in the change that asks for it: the replies say
// creating, attaching, detaching and modifying as AWS's do, and the next
// DescribeVolumes shows available, in-use or the volume gone, so that the
// volume-available, volume-in-use and volume-deleted waiters end at once.
// A modification is reported optimizing for VolumeOptimizeTime after it
// starts and completed afterwards, computed from the transaction's time.

// VolumeOptimizeTime is how long a modified volume is reported optimizing.
const VolumeOptimizeTime = 10 * time.Second

// volumeModInterval is AWS's minimum time between two modifications of a
// volume.
const volumeModInterval = 6 * time.Hour

// CreateVolume creates an available volume in an availability zone.
func (tx *Tx) CreateVolume(in *ec2wire.CreateVolumeInput) (*ec2wire.CreateVolumeOutput, error) {
	az, ok := tx.azByName(str(in.AvailabilityZone))
	if !ok {
		return nil, errorf(CodeInvalidParameterValue, "Invalid availability zone: [%s]", str(in.AvailabilityZone))
	}
	spec, err := createVolumeSpec(in)
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecsFor(in.TagSpecifications, "volume")
	if err != nil {
		return nil, err
	}
	v := &Volume{
		ID: tx.newID("vol"), Owner: tx.Account, AZ: az.Name, Size: spec.size, Type: spec.typ, Iops: spec.iops,
		Throughput: spec.tput, SnapshotID: spec.snapshot, Encrypted: spec.encrypted, KmsKeyID: spec.kmsKey,
		CreateTime: tx.Now(), Tags: tags,
	}
	tx.volumes.Put(v)
	out := volumeOut(v)
	out.State = p("creating") // as AWS's reply; available in the same change
	return &out, nil
}

// createVolumeSpec checks CreateVolume's size, snapshot, type, IOPS,
// throughput and encryption.
func createVolumeSpec(in *ec2wire.CreateVolumeInput) (volumeSpec, error) {
	v := volumeSpec{typ: cmpOrStr(str(in.VolumeType), "gp2"), iops: i32(in.Iops), tput: i32(in.Throughput), encrypted: boolv(in.Encrypted)}
	if in.Size == nil && in.SnapshotId == nil {
		return v, errorf(CodeMissingParameter, "The request must contain the parameter size or snapshotId")
	}
	if v.snapshot = str(in.SnapshotId); v.snapshot != "" {
		n, err := snapshotSize(v.snapshot)
		if err != nil {
			return v, err
		}
		v.size = n
		if in.Size != nil && *in.Size < n {
			return v, errorf(CodeInvalidParameterValue, "Volume of size %dGB is smaller than  snapshot '%s', expect size >= %dGB", *in.Size, v.snapshot, n)
		}
	}
	if in.Size != nil {
		v.size = *in.Size
	}
	if k := str(in.KmsKeyId); k != "" {
		if !v.encrypted {
			return v, errorf(CodeInvalidParameterDependency, "The parameter KmsKeyId requires the parameter Encrypted to be set.")
		}
		v.kmsKey = k
	}
	if in.OutpostArn != nil {
		return v, errorf(CodeUnsupportedOperation, "Outposts are not supported by this server.")
	}
	if err := checkVolume(&v); err != nil {
		return v, err
	}
	if boolv(in.MultiAttachEnabled) {
		if v.typ != "io1" && v.typ != "io2" {
			return v, errorf(CodeInvalidParameterCombination, "Multi-Attach is supported only for io1 and io2 volumes.")
		}
		return v, errorf(CodeUnsupportedOperation, "Multi-Attach volumes are not supported by this server.")
	}
	return v, nil
}

func cmpOrStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// volumeDevice matches the device names EBS volumes attach at: Linux's
// /dev/sd*, /dev/hd* and /dev/xvd* (with a partition number up to 15 for
// paravirtual names), and Windows' xvd*.
var volumeDevice = regexp.MustCompile(`^(/dev/(sd[a-z]|hd[a-z]|xvd[a-z]{1,2})([1-9]|1[0-5])?|xvd[a-z]{1,2})$`)

// AttachVolume attaches an available volume to a running or stopped
// instance of its availability zone at a free device.
func (tx *Tx) AttachVolume(in *ec2wire.AttachVolumeInput) (*ec2wire.AttachVolumeOutput, error) {
	v, err := tx.getVolume(str(in.VolumeId))
	if err != nil {
		return nil, err
	}
	inst, err := tx.getInstance(str(in.InstanceId))
	if err != nil {
		return nil, err
	}
	dev := str(in.Device)
	if !volumeDevice.MatchString(dev) {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter device is invalid. %s is not a valid EBS device name.", dev, dev)
	}
	if v.Attachment != nil {
		return nil, errorf(CodeVolumeInUse, "%s is already attached to an instance", v.ID)
	}
	if inst.State != "running" && inst.State != "stopped" {
		return nil, errorf(CodeIncorrectState, "Instance '%s' is not 'running'.", inst.ID)
	}
	if v.AZ != inst.AZ {
		return nil, errorf(CodeInvalidVolumeZoneMismatch, "The volume '%s' is not in the same availability zone as instance '%s'", v.ID, inst.ID)
	}
	for _, o := range tx.volumesOfInstance(inst) {
		if o.Attachment.Device == dev {
			return nil, errorf(CodeInvalidParameterValue, "Invalid value '%s' for unixDevice. Attachment point %s is already in use", dev, dev)
		}
	}
	m := tx.volumes.Mut(v.ID)
	m.Attachment = &VolumeAttachment{InstanceID: inst.ID, Device: dev, AttachTime: tx.Now()}
	return &ec2wire.AttachVolumeOutput{
		VolumeId: p(v.ID), InstanceId: p(inst.ID), Device: p(dev), State: p("attaching"), AttachTime: ec2wire.NewTime(tx.Now()),
	}, nil
}

// DetachVolume detaches an attached volume; the root volume only from a
// stopped instance, as AWS. Force changes nothing: there is no guest to
// wait for.
func (tx *Tx) DetachVolume(in *ec2wire.DetachVolumeInput) (*ec2wire.DetachVolumeOutput, error) {
	v, err := tx.getVolume(str(in.VolumeId))
	if err != nil {
		return nil, err
	}
	if id := str(in.InstanceId); id != "" {
		if _, err := tx.getInstance(id); err != nil {
			return nil, err
		}
	}
	a := v.Attachment
	if a == nil {
		return nil, errorf(CodeIncorrectState, "Volume '%s' is in the 'available' state.", v.ID)
	}
	if id := str(in.InstanceId); id != "" && id != a.InstanceID {
		return nil, errorf(CodeInvalidVolumeAttachNotFound, "Volume %s can not be detached from %s because it is not attached", v.ID, id)
	}
	if dev := str(in.Device); dev != "" && dev != a.Device {
		return nil, errorf(CodeInvalidVolumeAttachNotFound, "The volume %s is not attached to instance %s as device %s", v.ID, a.InstanceID, dev)
	}
	inst := tx.instances.Get(a.InstanceID)
	if a.Device == instanceRootDevice(inst) && inst.State != "stopped" {
		return nil, errorf(CodeIncorrectState, "Unable to detach root volume '%s' from instance '%s'", v.ID, inst.ID)
	}
	tx.volumes.Mut(v.ID).Attachment = nil
	return &ec2wire.DetachVolumeOutput{
		VolumeId: p(v.ID), InstanceId: p(a.InstanceID), Device: p(a.Device), State: p("detaching"),
		AttachTime: ec2wire.NewTime(a.AttachTime), DeleteOnTermination: p(a.DeleteOnTermination),
	}, nil
}

// DeleteVolume deletes an available volume.
func (tx *Tx) DeleteVolume(in *ec2wire.DeleteVolumeInput) (*ec2wire.DeleteVolumeOutput, error) {
	v, err := tx.getVolume(str(in.VolumeId))
	if err != nil {
		return nil, err
	}
	if v.Attachment != nil {
		return nil, errorf(CodeVolumeInUse, "Volume %s is currently attached to %s", v.ID, v.Attachment.InstanceID)
	}
	tx.volumes.Delete(v.ID)
	return &ec2wire.DeleteVolumeOutput{Return: p(true)}, nil
}

// instanceHasRoot reports whether a volume is attached at the instance's
// root device: StartInstances needs one.
func (tx *Tx) instanceHasRoot(inst *Instance) bool {
	root := instanceRootDevice(inst)
	for _, v := range tx.volumesOfInstance(inst) {
		if v.Attachment.Device == root {
			return true
		}
	}
	return false
}

// ModifyVolume changes a volume's size, type, IOPS or throughput. The
// volume has its new configuration at once; the modification is reported
// as it settles (see volumeModState). AWS allows one modification of a
// volume every six hours.
func (tx *Tx) ModifyVolume(in *ec2wire.ModifyVolumeInput) (*ec2wire.ModifyVolumeOutput, error) {
	v, err := tx.getVolume(str(in.VolumeId))
	if err != nil {
		return nil, err
	}
	if boolv(in.MultiAttachEnabled) {
		return nil, errorf(CodeUnsupportedOperation, "Multi-Attach volumes are not supported by this server.")
	}
	if in.Size == nil && in.VolumeType == nil && in.Iops == nil && in.Throughput == nil {
		return nil, errorf(CodeInvalidParameterValue, "Invalid input: Must specify at least one of size, volumeType, iops or throughput")
	}
	if m := v.Modification; m != nil && tx.now.Before(m.StartTime.Add(volumeModInterval)) {
		return nil, errorf(CodeVolumeModRateExceeded, "You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.")
	}
	spec, err := modifiedVolume(v, in)
	if err != nil {
		return nil, err
	}
	if v.Attachment != nil && (spec.typ == "st1" || spec.typ == "sc1") && v.Attachment.Device == instanceRootDevice(tx.instances.Get(v.Attachment.InstanceID)) {
		return nil, errorf(CodeInvalidParameterValue, "Volume type %s is not supported for root (boot) volumes", spec.typ)
	}
	m := tx.volumes.Mut(v.ID)
	m.Modification = &VolumeModification{StartTime: tx.Now(), OrigSize: v.Size, OrigType: v.Type, OrigIops: v.Iops, OrigThroughput: v.Throughput}
	m.Size, m.Type, m.Iops, m.Throughput = spec.size, spec.typ, spec.iops, spec.tput
	out := volumeModOut(m, tx.now)
	out.ModificationState, out.Progress, out.EndTime = p("modifying"), p(int64(0)), nil // as AWS's reply
	return &ec2wire.ModifyVolumeOutput{VolumeModification: &out}, nil
}

// modifiedVolume is what a volume becomes under ModifyVolume: IOPS are kept
// within a type and default to 3,000 for a new gp3, io1 or io2 type;
// throughput is kept from gp3 to gp3 and defaults to 125.
func modifiedVolume(v *Volume, in *ec2wire.ModifyVolumeInput) (volumeSpec, error) {
	s := volumeSpec{size: v.Size, typ: v.Type, iops: v.Iops, tput: v.Throughput}
	if in.Size != nil {
		if *in.Size < v.Size {
			return s, errorf(CodeInvalidParameterValue, "New size cannot be smaller than existing size")
		}
		s.size = *in.Size
	}
	if t := str(in.VolumeType); t != "" && t != v.Type {
		s.typ, s.iops, s.tput = t, 0, 0
		if t == "io1" || t == "io2" {
			s.iops = 3000
		}
	}
	if s.typ == "gp2" {
		s.iops = 0 // derived from the size by checkVolume
	}
	if in.Iops != nil {
		s.iops = *in.Iops
	}
	if in.Throughput != nil {
		s.tput = *in.Throughput
	}
	return s, checkVolume(&s)
}

// volumeModState is a modification's state and progress at now.
func volumeModState(m *VolumeModification, now time.Time) (string, int64) {
	done := now.Sub(m.StartTime)
	if done >= VolumeOptimizeTime {
		return "completed", 100
	}
	return "optimizing", int64(done * 100 / VolumeOptimizeTime)
}

func volumeModOut(v *Volume, now time.Time) ec2wire.VolumeModification {
	m := v.Modification
	state, progress := volumeModState(m, now)
	out := ec2wire.VolumeModification{
		VolumeId: p(v.ID), ModificationState: p(state), Progress: p(progress), StartTime: ec2wire.NewTime(m.StartTime),
		OriginalSize: p(m.OrigSize), OriginalVolumeType: p(m.OrigType), TargetSize: p(v.Size), TargetVolumeType: p(v.Type),
		OriginalMultiAttachEnabled: p(false), TargetMultiAttachEnabled: p(false),
	}
	if m.OrigIops != 0 {
		out.OriginalIops = p(m.OrigIops)
	}
	if v.Iops != 0 {
		out.TargetIops = p(v.Iops)
	}
	if m.OrigThroughput != 0 {
		out.OriginalThroughput = p(m.OrigThroughput)
	}
	if v.Throughput != 0 {
		out.TargetThroughput = p(v.Throughput)
	}
	if state == "completed" {
		out.EndTime = ec2wire.NewTime(m.StartTime.Add(VolumeOptimizeTime))
	}
	return out
}

// volumeModFilters are DescribeVolumesModifications' filters.
func volumeModFilters(now time.Time) filterSet[Volume] {
	one := func(f func(v *Volume) string) func(*Volume) []string {
		return func(v *Volume) []string { return []string{f(v)} }
	}
	num := func(n int32) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(int(n))
	}
	return filterSet[Volume]{
		"modification-state":         one(func(v *Volume) string { s, _ := volumeModState(v.Modification, now); return s }),
		"original-iops":              one(func(v *Volume) string { return num(v.Modification.OrigIops) }),
		"original-size":              one(func(v *Volume) string { return num(v.Modification.OrigSize) }),
		"original-volume-type":       one(func(v *Volume) string { return v.Modification.OrigType }),
		"originalMultiAttachEnabled": one(func(v *Volume) string { return "false" }),
		"start-time":                 one(func(v *Volume) string { return v.Modification.StartTime.UTC().Format(ec2wire.TimeFormat) }),
		"target-iops":                one(func(v *Volume) string { return num(v.Iops) }),
		"target-size":                one(func(v *Volume) string { return num(v.Size) }),
		"target-volume-type":         one(func(v *Volume) string { return v.Type }),
		"targetMultiAttachEnabled":   one(func(v *Volume) string { return "false" }),
		"volume-id":                  one(func(v *Volume) string { return v.ID }),
	}
}

// DescribeVolumesModifications lists the latest modification of the
// caller's modified volumes.
func (tx *Tx) DescribeVolumesModifications(in *ec2wire.DescribeVolumesModificationsInput) (*ec2wire.DescribeVolumesModificationsOutput, error) {
	m, err := newMatcher(volumeModFilters(tx.now), nil, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.VolumeIds {
		v, err := tx.getVolume(id)
		if err != nil {
			return nil, err
		}
		if v.Modification == nil {
			return nil, errorf(CodeInvalidVolumeModNotFound, "Modification for volume '%s' does not exist.", id)
		}
	}
	items := tx.volumes.Sorted(func(v *Volume) bool {
		return v.Owner == tx.Account && v.Modification != nil && (len(in.VolumeIds) == 0 || contains(in.VolumeIds, v.ID)) && m.match(v)
	})
	page, next, err := paginate(items, func(v *Volume) string { return v.ID }, in.MaxResults, in.NextToken, 5, 500)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeVolumesModificationsOutput{VolumesModifications: []ec2wire.VolumeModification{}, NextToken: next}
	for _, v := range page {
		out.VolumesModifications = append(out.VolumesModifications, volumeModOut(v, tx.now))
	}
	return out, nil
}

// volumeIOPerformance is the io-performance check of a volume: measured for
// provisioned-IOPS volumes only.
func volumeIOPerformance(v *Volume) string {
	if v.Type == "io1" || v.Type == "io2" {
		return "normal"
	}
	return "not-applicable"
}

// volumeStatusFilters are DescribeVolumeStatus' filters. There are no
// events or actions: their filters match nothing.
func volumeStatusFilters() filterSet[Volume] {
	none := func(*Volume) []string { return nil }
	return filterSet[Volume]{
		"availability-zone":            func(v *Volume) []string { return []string{v.AZ} },
		"volume-status.status":         func(v *Volume) []string { return []string{"ok"} },
		"volume-status.details-name":   func(v *Volume) []string { return []string{"io-enabled", "io-performance"} },
		"volume-status.details-status": func(v *Volume) []string { return []string{"passed", volumeIOPerformance(v)} },
		"action.code":                  none,
		"action.description":           none,
		"action.event-id":              none,
		"event.description":            none,
		"event.event-id":               none,
		"event.event-type":             none,
		"event.not-after":              none,
		"event.not-before":             none,
	}
}

// DescribeVolumeStatus reports every volume ok: its I/O is enabled and, for
// provisioned-IOPS volumes, normal.
func (tx *Tx) DescribeVolumeStatus(in *ec2wire.DescribeVolumeStatusInput) (*ec2wire.DescribeVolumeStatusOutput, error) {
	if len(in.VolumeIds) > 0 && in.MaxResults != nil {
		return nil, errorf(CodeInvalidParameterCombination, "The parameter volumeSet cannot be used with the parameter maxResults")
	}
	m, err := newMatcher(volumeStatusFilters(), nil, in.Filters)
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
	page, next, err := paginate(items, func(v *Volume) string { return v.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeVolumeStatusOutput{VolumeStatuses: []ec2wire.VolumeStatusItem{}, NextToken: next}
	for _, v := range page {
		item := ec2wire.VolumeStatusItem{
			VolumeId: p(v.ID), AvailabilityZone: p(v.AZ), Actions: []ec2wire.VolumeStatusAction{}, Events: []ec2wire.VolumeStatusEvent{},
			VolumeStatus: &ec2wire.VolumeStatusInfo{Status: p("ok"), Details: []ec2wire.VolumeStatusDetails{
				{Name: p("io-enabled"), Status: p("passed")}, {Name: p("io-performance"), Status: p(volumeIOPerformance(v))},
			}},
		}
		if a := v.Attachment; a != nil {
			item.AttachmentStatuses = []ec2wire.VolumeStatusAttachmentStatus{{InstanceId: p(a.InstanceID)}}
		}
		out.VolumeStatuses = append(out.VolumeStatuses, item)
	}
	return out, nil
}

// modifyInstanceVolumes applies ModifyInstanceAttribute's BlockDeviceMapping:
// the DeleteOnTermination of volumes attached to the instance, named by
// their device. Every mapping is checked before any is applied.
func (tx *Tx) modifyInstanceVolumes(inst *Instance, maps []ec2wire.InstanceBlockDeviceMappingSpecification) error {
	byDevice := map[string]*Volume{}
	for _, v := range tx.volumesOfInstance(inst) {
		byDevice[v.Attachment.Device] = v
	}
	set := map[string]bool{}
	for _, m := range maps {
		dev := str(m.DeviceName)
		if dev == "" {
			return errorf(CodeMissingParameter, "The request must contain the parameter BlockDeviceMapping.DeviceName")
		}
		v := byDevice[dev]
		if v == nil {
			return errorf(CodeInvalidInstanceAttributeValue, "No device is currently mapped at %s", dev)
		}
		if m.Ebs == nil || m.Ebs.DeleteOnTermination == nil {
			return errorf(CodeMissingParameter, "The request must contain the parameter BlockDeviceMapping.Ebs.DeleteOnTermination")
		}
		if id := str(m.Ebs.VolumeId); id != "" && id != v.ID {
			return errorf(CodeInvalidInstanceAttributeValue, "The volume '%s' is not mapped at %s", id, dev)
		}
		set[v.ID] = *m.Ebs.DeleteOnTermination
	}
	for id, del := range set {
		tx.volumes.Mut(id).Attachment.DeleteOnTermination = del
	}
	return nil
}
