package core

// Managed prefix lists: a customer's own lists (pl-..., versioned entries
// with a maximum) and the AWS-managed lists every region has.

import (
	"maps"
	"slices"
)

// PrefixListEntry is one CIDR of a prefix list.
type PrefixListEntry struct {
	Cidr        string `json:"cidr"`
	Description string `json:"description,omitempty"`
}

// PrefixListVersion is the entries a list had at one version.
type PrefixListVersion struct {
	Version int64             `json:"version"`
	Entries []PrefixListEntry `json:"entries,omitempty"`
}

// PrefixList is a customer-managed prefix list. Its versions are kept
// (GetManagedPrefixListEntries' TargetVersion, RestoreManagedPrefixListVersion);
// the last one is the current one.
type PrefixList struct {
	ID            string              `json:"id"`
	Owner         string              `json:"owner"`
	Name          string              `json:"name"`
	AddressFamily string              `json:"addressFamily"` // IPv4 | IPv6
	MaxEntries    int32               `json:"maxEntries"`
	State         string              `json:"state"` // create-complete | modify-complete | restore-complete
	Versions      []PrefixListVersion `json:"versions"`
	Tags          Tags                `json:"tags,omitempty"`
}

func (l *PrefixList) key() string { return l.ID }
func (l *PrefixList) clone() *PrefixList {
	c := *l
	c.Versions = make([]PrefixListVersion, len(l.Versions))
	for i, v := range l.Versions {
		c.Versions[i] = PrefixListVersion{Version: v.Version, Entries: slices.Clone(v.Entries)}
	}
	c.Tags = maps.Clone(l.Tags)
	return &c
}

// getOwnPrefixList returns one of the caller's own prefix lists.
func (tx *Tx) getOwnPrefixList(id string) (*PrefixList, error) {
	if !validID(id, "pl") {
		return nil, errorf(CodeInvalidPrefixListIDMalformed, "Invalid id: \"%s\" (expecting \"pl-...\")", id)
	}
	l := tx.pls.Get(id)
	if l == nil || l.Owner != tx.Account {
		return nil, errorf(CodeInvalidPrefixListIDNotFound, "The prefix list ID '%s' does not exist", id)
	}
	return l, nil
}
