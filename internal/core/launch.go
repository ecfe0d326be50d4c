package core

import "github.com/eni-net/eni/internal/ec2wire"

// launchOptions are what RunInstances gives each instance beyond its
// networking, resolved and checked before anything is created.
type launchOptions struct {
	volumes    []volumeSpec // root first
	volumeTags Tags
	metadata   MetadataOptions
}

// launchOptionsOf checks a launch's key pair and resolves its block device
// mappings and metadata options against its image.
func (tx *Tx) launchOptionsOf(in *ec2wire.RunInstancesInput, imageID string) (*launchOptions, error) {
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
	return &launchOptions{volumes: vols, volumeTags: volTags, metadata: md}, nil
}

// applyLaunchOptions gives a new instance its volumes and metadata options.
func (tx *Tx) applyLaunchOptions(inst *Instance, o *launchOptions) {
	md := o.metadata
	inst.Metadata = &md
	tx.createVolumes(inst, o.volumes, o.volumeTags)
}
