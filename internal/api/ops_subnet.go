package api

import "github.com/eni-net/eni/internal/core"

// subnetOps registers the actions of subnets, internet gateways and route tables.
func subnetOps(m map[string]handler) {
	m["CreateSubnet"] = write((*core.Tx).CreateSubnet)
	m["DescribeSubnets"] = read((*core.Tx).DescribeSubnets)
	m["DeleteSubnet"] = write((*core.Tx).DeleteSubnet)
	m["ModifySubnetAttribute"] = write((*core.Tx).ModifySubnetAttribute)

	m["CreateInternetGateway"] = write((*core.Tx).CreateInternetGateway)
	m["AttachInternetGateway"] = write((*core.Tx).AttachInternetGateway)
	m["DetachInternetGateway"] = write((*core.Tx).DetachInternetGateway)
	m["DeleteInternetGateway"] = write((*core.Tx).DeleteInternetGateway)
	m["DescribeInternetGateways"] = read((*core.Tx).DescribeInternetGateways)

	m["CreateRouteTable"] = write((*core.Tx).CreateRouteTable)
	m["DeleteRouteTable"] = write((*core.Tx).DeleteRouteTable)
	m["DescribeRouteTables"] = read((*core.Tx).DescribeRouteTables)
	m["CreateRoute"] = write((*core.Tx).CreateRoute)
	m["ReplaceRoute"] = write((*core.Tx).ReplaceRoute)
	m["DeleteRoute"] = write((*core.Tx).DeleteRoute)
	m["AssociateRouteTable"] = write((*core.Tx).AssociateRouteTable)
	m["DisassociateRouteTable"] = write((*core.Tx).DisassociateRouteTable)
}
