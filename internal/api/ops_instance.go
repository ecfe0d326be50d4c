package api

import "github.com/eni-net/eni/internal/core"

// instanceOps registers the actions of instances, instance types and images.
func instanceOps(m map[string]handler) {
	m["RunInstances"] = write((*core.Tx).RunInstances)
	m["DescribeInstances"] = read((*core.Tx).DescribeInstances)
	m["StopInstances"] = write((*core.Tx).StopInstances)
	m["StartInstances"] = write((*core.Tx).StartInstances)
	m["TerminateInstances"] = write((*core.Tx).TerminateInstances)
	m["DescribeInstanceAttribute"] = read((*core.Tx).DescribeInstanceAttribute)
	m["ModifyInstanceAttribute"] = write((*core.Tx).ModifyInstanceAttribute)
	m["DescribeInstanceTypes"] = read((*core.Tx).DescribeInstanceTypes)
	m["DescribeImages"] = read((*core.Tx).DescribeImages)
	m["DescribeInstanceCreditSpecifications"] = read((*core.Tx).DescribeInstanceCreditSpecifications)
	m["DescribeVolumes"] = read((*core.Tx).DescribeVolumes)
	m["DescribeInstanceStatus"] = read((*core.Tx).DescribeInstanceStatus)
	m["DescribeInstanceTypeOfferings"] = read((*core.Tx).DescribeInstanceTypeOfferings)
	m["RebootInstances"] = write((*core.Tx).RebootInstances)
	m["ModifyInstanceMetadataOptions"] = write((*core.Tx).ModifyInstanceMetadataOptions)
}
