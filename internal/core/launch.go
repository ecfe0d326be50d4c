package core

import "github.com/eni-net/eni/internal/ec2wire"

// launchOptions are what RunInstances gives each instance beyond its
// networking, resolved and checked before anything is created.
type launchOptions struct {
	volumes    []volumeSpec // root first
	volumeTags Tags
}

// launchOptionsOf checks a launch's key pair and resolves its block device
// mappings against its image.
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
	return &launchOptions{volumes: vols, volumeTags: volTags}, nil
}

// applyLaunchOptions gives a new instance its volumes.
func (tx *Tx) applyLaunchOptions(inst *Instance, o *launchOptions) {
	tx.createVolumes(inst, o.volumes, o.volumeTags)
}
