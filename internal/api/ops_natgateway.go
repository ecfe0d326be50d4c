package api

import "github.com/eni-net/eni/internal/core"

// natGatewayOps registers the actions of NAT gateways.
func natGatewayOps(m map[string]handler) {
	m["CreateNatGateway"] = write((*core.Tx).CreateNatGateway)
	m["DescribeNatGateways"] = read((*core.Tx).DescribeNatGateways)
	m["DeleteNatGateway"] = write((*core.Tx).DeleteNatGateway)
	m["AssignPrivateNatGatewayAddress"] = write((*core.Tx).AssignPrivateNatGatewayAddress)
	m["UnassignPrivateNatGatewayAddress"] = write((*core.Tx).UnassignPrivateNatGatewayAddress)
	m["AssociateNatGatewayAddress"] = write((*core.Tx).AssociateNatGatewayAddress)
	m["DisassociateNatGatewayAddress"] = write((*core.Tx).DisassociateNatGatewayAddress)
}
