package api

import "github.com/eni-net/eni/internal/core"

// securityGroupOps registers the actions of security groups.
func securityGroupOps(m map[string]handler) {
	m["CreateSecurityGroup"] = write((*core.Tx).CreateSecurityGroup)
	m["DescribeSecurityGroups"] = read((*core.Tx).DescribeSecurityGroups)
	m["DeleteSecurityGroup"] = write((*core.Tx).DeleteSecurityGroup)
	m["AuthorizeSecurityGroupIngress"] = write((*core.Tx).AuthorizeSecurityGroupIngress)
	m["AuthorizeSecurityGroupEgress"] = write((*core.Tx).AuthorizeSecurityGroupEgress)
	m["RevokeSecurityGroupIngress"] = write((*core.Tx).RevokeSecurityGroupIngress)
	m["RevokeSecurityGroupEgress"] = write((*core.Tx).RevokeSecurityGroupEgress)
	m["DescribeSecurityGroupRules"] = read((*core.Tx).DescribeSecurityGroupRules)
}
