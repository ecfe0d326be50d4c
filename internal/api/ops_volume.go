package api

import "github.com/eni-net/eni/internal/core"

// volumeOps registers the actions of EBS volumes beyond the instances'
// own (DescribeVolumes is with the instances).
func volumeOps(m map[string]handler) {
	m["CreateVolume"] = write((*core.Tx).CreateVolume)
	m["AttachVolume"] = write((*core.Tx).AttachVolume)
	m["DetachVolume"] = write((*core.Tx).DetachVolume)
	m["DeleteVolume"] = write((*core.Tx).DeleteVolume)
	m["ModifyVolume"] = write((*core.Tx).ModifyVolume)
	m["DescribeVolumesModifications"] = read((*core.Tx).DescribeVolumesModifications)
	m["DescribeVolumeStatus"] = read((*core.Tx).DescribeVolumeStatus)
}
