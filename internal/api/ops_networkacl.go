package api

import "github.com/eni-net/eni/internal/core"

// networkACLOps registers the actions of network ACLs.
func networkACLOps(m map[string]handler) {
	m["CreateNetworkAcl"] = write((*core.Tx).CreateNetworkAcl)
	m["DeleteNetworkAcl"] = write((*core.Tx).DeleteNetworkAcl)
	m["DescribeNetworkAcls"] = read((*core.Tx).DescribeNetworkAcls)
	m["CreateNetworkAclEntry"] = write((*core.Tx).CreateNetworkAclEntry)
	m["ReplaceNetworkAclEntry"] = write((*core.Tx).ReplaceNetworkAclEntry)
	m["DeleteNetworkAclEntry"] = write((*core.Tx).DeleteNetworkAclEntry)
	m["ReplaceNetworkAclAssociation"] = write((*core.Tx).ReplaceNetworkAclAssociation)
}
