package api

// tagOps registers the actions of tags.
func tagOps(m map[string]handler) {
}
