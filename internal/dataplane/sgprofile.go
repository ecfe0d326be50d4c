package dataplane

import "net/netip"

// The security group profiles (sgprofile_linux.go): this type is here because every
// platform's eniInfo names it.

// profEntry is a profile the plane knows: wanted by this pass, loaded in the ruleset, or
// both.
type profEntry struct {
	id         uint64 // profileID
	num        uint32
	groups     []string // sorted, each once
	resolver   netip.Addr
	unfiltered bool

	key       uint64 // profileKey of the groups as the pass knows them
	loaded    bool   // its chains are in the ruleset, with the rules of loadedKey
	loadedKey uint64
	refs      int // the loaded ENIs that use it (nftENI)
}
