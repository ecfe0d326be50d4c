package api

// addressOps registers the actions of Elastic IPs.
func addressOps(m map[string]handler) {
}
