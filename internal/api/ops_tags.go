package api

import "github.com/eni-net/eni/internal/core"

// tagOps registers the actions of tags.
func tagOps(m map[string]handler) {
	m["CreateTags"] = write((*core.Tx).CreateTags)
	m["DeleteTags"] = write((*core.Tx).DeleteTags)
	m["DescribeTags"] = read((*core.Tx).DescribeTags)
}
