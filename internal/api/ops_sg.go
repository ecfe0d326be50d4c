package api

// securityGroupOps registers the actions of security groups.
func securityGroupOps(m map[string]handler) {
}
