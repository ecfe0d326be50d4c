package api

import "github.com/eni-net/eni/internal/core"

// sgRuleOps registers the actions that change existing security group rules.
func sgRuleOps(m map[string]handler) {
	m["ModifySecurityGroupRules"] = write((*core.Tx).ModifySecurityGroupRules)
	m["UpdateSecurityGroupRuleDescriptionsIngress"] = write((*core.Tx).UpdateSecurityGroupRuleDescriptionsIngress)
	m["UpdateSecurityGroupRuleDescriptionsEgress"] = write((*core.Tx).UpdateSecurityGroupRuleDescriptionsEgress)
}
