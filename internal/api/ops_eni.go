package api

import "github.com/eni-net/eni/internal/core"

// eniOps registers the actions of network interfaces.
func eniOps(m map[string]handler) {
	m["CreateNetworkInterface"] = write((*core.Tx).CreateNetworkInterface)
	m["DeleteNetworkInterface"] = write((*core.Tx).DeleteNetworkInterface)
	m["DescribeNetworkInterfaces"] = read((*core.Tx).DescribeNetworkInterfaces)
	m["AttachNetworkInterface"] = write((*core.Tx).AttachNetworkInterface)
	m["DetachNetworkInterface"] = write((*core.Tx).DetachNetworkInterface)
	m["ModifyNetworkInterfaceAttribute"] = write((*core.Tx).ModifyNetworkInterfaceAttribute)
	m["ResetNetworkInterfaceAttribute"] = write((*core.Tx).ResetNetworkInterfaceAttribute)
	m["DescribeNetworkInterfaceAttribute"] = read((*core.Tx).DescribeNetworkInterfaceAttribute)
	m["AssignPrivateIpAddresses"] = write((*core.Tx).AssignPrivateIpAddresses)
	m["UnassignPrivateIpAddresses"] = write((*core.Tx).UnassignPrivateIpAddresses)
	m["AssignIpv6Addresses"] = write((*core.Tx).AssignIpv6Addresses)
	m["UnassignIpv6Addresses"] = write((*core.Tx).UnassignIpv6Addresses)
	m["CreateNetworkInterfacePermission"] = write((*core.Tx).CreateNetworkInterfacePermission)
	m["DescribeNetworkInterfacePermissions"] = read((*core.Tx).DescribeNetworkInterfacePermissions)
	m["DeleteNetworkInterfacePermission"] = write((*core.Tx).DeleteNetworkInterfacePermission)
}
