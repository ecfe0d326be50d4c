package api

// eniOps registers the actions of network interfaces.
func eniOps(m map[string]handler) {
}
