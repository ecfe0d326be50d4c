package api

import "github.com/eni-net/eni/internal/core"

// handlers is the dispatch table: one entry per implemented action. Each
// work area registers its actions in its own ops_*.go file.
func handlers() map[string]handler {
	m := map[string]handler{
		"DescribeRegions":           read((*core.Tx).DescribeRegions),
		"DescribeAvailabilityZones": read((*core.Tx).DescribeAvailabilityZones),
		"DescribeAccountAttributes": read((*core.Tx).DescribeAccountAttributes),

		"CreateVpc":                write((*core.Tx).CreateVpc),
		"DescribeVpcs":             read((*core.Tx).DescribeVpcs),
		"DeleteVpc":                write((*core.Tx).DeleteVpc),
		"AssociateVpcCidrBlock":    write((*core.Tx).AssociateVpcCidrBlock),
		"DisassociateVpcCidrBlock": write((*core.Tx).DisassociateVpcCidrBlock),
		"DescribeVpcAttribute":     read((*core.Tx).DescribeVpcAttribute),
		"ModifyVpcAttribute":       write((*core.Tx).ModifyVpcAttribute),
	}
	subnetOps(m)
	securityGroupOps(m)
	eniOps(m)
	instanceOps(m)
	addressOps(m)
	natGatewayOps(m)
	tagOps(m)
	classicLinkOps(m)
	keyPairOps(m)
	launchTemplateOps(m)
	volumeOps(m)
	vpcExtraOps(m)
	networkACLOps(m)
	instanceOptionOps(m)
	routeTableAssocOps(m)
	prefixListOps(m)
	sgRuleOps(m)
	vpcPeeringOps(m)
	vpcEndpointOps(m)
	iamInstanceProfileOps(m)
	return m
}
