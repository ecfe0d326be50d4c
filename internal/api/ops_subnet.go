package api

// subnetOps registers the actions of subnets, internet gateways and route tables.
func subnetOps(m map[string]handler) {
}
