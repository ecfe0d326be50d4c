package api

import "github.com/eni-net/eni/internal/core"

// vpcExtraOps registers DHCP options sets, egress-only internet gateways,
// subnet CIDR blocks and the default VPC and subnets.
func vpcExtraOps(m map[string]handler) {
	m["CreateDhcpOptions"] = write((*core.Tx).CreateDhcpOptions)
	m["DescribeDhcpOptions"] = read((*core.Tx).DescribeDhcpOptions)
	m["AssociateDhcpOptions"] = write((*core.Tx).AssociateDhcpOptions)
	m["DeleteDhcpOptions"] = write((*core.Tx).DeleteDhcpOptions)

	m["CreateEgressOnlyInternetGateway"] = write((*core.Tx).CreateEgressOnlyInternetGateway)
	m["DescribeEgressOnlyInternetGateways"] = read((*core.Tx).DescribeEgressOnlyInternetGateways)
	m["DeleteEgressOnlyInternetGateway"] = write((*core.Tx).DeleteEgressOnlyInternetGateway)
	m["CreateVpnGateway"] = write((*core.Tx).CreateVpnGateway)
	m["DescribeVpnGateways"] = read((*core.Tx).DescribeVpnGateways)
	m["AttachVpnGateway"] = write((*core.Tx).AttachVpnGateway)
	m["DetachVpnGateway"] = write((*core.Tx).DetachVpnGateway)
	m["DeleteVpnGateway"] = write((*core.Tx).DeleteVpnGateway)
	m["EnableVgwRoutePropagation"] = write((*core.Tx).EnableVgwRoutePropagation)
	m["DisableVgwRoutePropagation"] = write((*core.Tx).DisableVgwRoutePropagation)

	m["AssociateSubnetCidrBlock"] = write((*core.Tx).AssociateSubnetCidrBlock)
	m["DisassociateSubnetCidrBlock"] = write((*core.Tx).DisassociateSubnetCidrBlock)

	m["CreateDefaultVpc"] = write((*core.Tx).CreateDefaultVpc)
	m["CreateDefaultSubnet"] = write((*core.Tx).CreateDefaultSubnet)
}
