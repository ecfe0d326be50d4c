package dataplane

import "github.com/vishvananda/netns"

// CreateNamedNS creates the network namespace /run/netns/NAME without
// changing the caller's (for tools that build their own, such as the
// underlay of eni dev-cluster).
func CreateNamedNS(name string) (netns.NsHandle, error) { return createNS(name) }

// DeleteNamedNS removes /run/netns/NAME (a missing one is fine).
func DeleteNamedNS(name string) error { return deleteNS(name) }
