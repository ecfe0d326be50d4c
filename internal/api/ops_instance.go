package api

// instanceOps registers the actions of instances, instance types and images.
func instanceOps(m map[string]handler) {
}
