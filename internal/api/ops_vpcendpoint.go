package api

import "github.com/eni-net/eni/internal/core"

// vpcEndpointOps registers the VPC endpoint actions.
func vpcEndpointOps(m map[string]handler) {
	m["CreateVpcEndpoint"] = write((*core.Tx).CreateVpcEndpoint)
	m["DescribeVpcEndpoints"] = read((*core.Tx).DescribeVpcEndpoints)
	m["ModifyVpcEndpoint"] = write((*core.Tx).ModifyVpcEndpoint)
	m["DeleteVpcEndpoints"] = write((*core.Tx).DeleteVpcEndpoints)
	m["DescribeVpcEndpointServices"] = read((*core.Tx).DescribeVpcEndpointServices)
}
