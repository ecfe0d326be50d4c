package core

import "github.com/eni-net/eni/internal/ec2wire"

// launchOptions are what RunInstances gives each instance beyond its
// networking, resolved and checked before anything is created.
type launchOptions struct {
	volumes    []volumeSpec // root first
	volumeTags Tags
	metadata   MetadataOptions

	ebsOptimized, monitoring, hibernation bool
	credits, autoRecovery, capacity       string
	profile                               *profileRef // IamInstanceProfile (iaminstanceprofile.go)
	cpu                                   *CPUOptions // CpuOptions (instancecpu.go)
}

// launchOptionsOf checks a launch's key pair and resolves its block device
// mappings and metadata options against its image, its CPU options against
// its instance type.
func (tx *Tx) launchOptionsOf(in *ec2wire.RunInstancesInput, imageID, typ string) (*launchOptions, error) {
	if err := tx.checkLaunchKey(str(in.KeyName)); err != nil {
		return nil, err
	}
	vols, err := launchVolumes(imageID, in.BlockDeviceMappings)
	if err != nil {
		return nil, err
	}
	volTags, err := tagSpecsFor(in.TagSpecifications, "volume")
	if err != nil {
		return nil, err
	}
	md, err := launchMetadata(imageID, in.MetadataOptions)
	if err != nil {
		return nil, err
	}
	o := &launchOptions{volumes: vols, volumeTags: volTags, metadata: md, ebsOptimized: boolv(in.EbsOptimized)}
	if in.IamInstanceProfile != nil && (str(in.IamInstanceProfile.Arn) != "" || str(in.IamInstanceProfile.Name) != "") {
		if o.profile, err = tx.resolveProfile(in.IamInstanceProfile); err != nil {
			return nil, err
		}
	}
	if in.Monitoring != nil {
		o.monitoring = boolv(in.Monitoring.Enabled)
	}
	if in.HibernationOptions != nil {
		o.hibernation = boolv(in.HibernationOptions.Configured)
	}
	if err := checkHibernation(o.hibernation, vols); err != nil {
		return nil, err
	}
	if o.credits, o.autoRecovery, err = launchCreditAndRecovery(in); err != nil {
		return nil, err
	}
	if in.CapacityReservationSpecification != nil {
		if o.capacity, err = capacityPreference(in.CapacityReservationSpecification); err != nil {
			return nil, err
		}
	}
	if o.cpu, err = launchCPUOptions(typ, in.CpuOptions); err != nil {
		return nil, err
	}
	return o, nil
}

// applyLaunchOptions gives a new instance its volumes, metadata options,
// EBS optimization, monitoring, hibernation, CPU credit, automatic
// recovery, Capacity Reservation and CPU options.
func (tx *Tx) applyLaunchOptions(inst *Instance, o *launchOptions) {
	md := o.metadata
	inst.Metadata = &md
	inst.EbsOptimized, inst.Monitoring, inst.Hibernation = o.ebsOptimized, o.monitoring, o.hibernation
	inst.CPUCredits, inst.AutoRecovery, inst.CapacityPreference = o.credits, o.autoRecovery, o.capacity
	inst.CPU = o.cpu
	tx.createVolumes(inst, o.volumes, o.volumeTags)
	if o.profile != nil {
		inst.Profile = tx.newProfileAssoc(o.profile)
	}
}
