package api

import "github.com/eni-net/eni/internal/core"

// vpcPeeringOps registers the VPC peering connection actions.
func vpcPeeringOps(m map[string]handler) {
	m["CreateVpcPeeringConnection"] = write((*core.Tx).CreateVpcPeeringConnection)
	m["AcceptVpcPeeringConnection"] = write((*core.Tx).AcceptVpcPeeringConnection)
	m["RejectVpcPeeringConnection"] = write((*core.Tx).RejectVpcPeeringConnection)
	m["DeleteVpcPeeringConnection"] = write((*core.Tx).DeleteVpcPeeringConnection)
	m["DescribeVpcPeeringConnections"] = read((*core.Tx).DescribeVpcPeeringConnections)
	m["ModifyVpcPeeringConnectionOptions"] = write((*core.Tx).ModifyVpcPeeringConnectionOptions)
}
