package api

import "github.com/eni-net/eni/internal/core"

// addressOps registers the actions of Elastic IPs.
func addressOps(m map[string]handler) {
	m["AllocateAddress"] = write((*core.Tx).AllocateAddress)
	m["AssociateAddress"] = write((*core.Tx).AssociateAddress)
	m["DisassociateAddress"] = write((*core.Tx).DisassociateAddress)
	m["ReleaseAddress"] = write((*core.Tx).ReleaseAddress)
	m["DescribeAddresses"] = read((*core.Tx).DescribeAddresses)
	m["DescribeAddressesAttribute"] = read((*core.Tx).DescribeAddressesAttribute)
	m["ModifyAddressAttribute"] = write((*core.Tx).ModifyAddressAttribute)
	m["ResetAddressAttribute"] = write((*core.Tx).ResetAddressAttribute)
}
