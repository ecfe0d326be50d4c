package core

import (
	"slices"
	"sync"
)

// hostMemo remembers each committed ENI row's part of the host view that depends on
// the row alone: a host view of 5,000 ENIs converts only the rows written since the
// last one. Committed rows are never changed in place (a write replaces them:
// record.clone), so a row's pointer is its version. Readers of the host view, under the
// region's read lock, share it under its own lock.
type hostMemo struct {
	mu   sync.Mutex
	enis map[*ENI]*hostENIBase
}

// hostENIBase is an ENI's HostENI before its realisation (InstanceID, DeviceIndex,
// Unfiltered, Remote: of other rows), and its addresses as a member of its groups.
type hostENIBase struct {
	he    HostENI
	cidrs []string
}

// eni is e's base, made if e is new. Call with m.mu held.
func (m *hostMemo) eni(e *ENI) *hostENIBase {
	if b := m.enis[e]; b != nil {
		return b
	}
	if m.enis == nil {
		m.enis = map[*ENI]*hostENIBase{}
	}
	b := newHostENIBase(e)
	m.enis[e] = b
	return b
}

// prune forgets the rows not in live once the memo holds twice as many as live: its
// size stays bounded by the table's, at a cost spread over the writes that made it
// grow.
func (m *hostMemo) prune(live []*ENI) {
	if len(m.enis) <= 2*len(live)+64 {
		return
	}
	next := make(map[*ENI]*hostENIBase, len(live))
	for _, e := range live {
		if b := m.enis[e]; b != nil {
			next[e] = b
		}
	}
	m.enis = next
}

// newHostENIBase converts e.
func newHostENIBase(e *ENI) *hostENIBase {
	he := HostENI{ID: e.ID, MAC: e.MAC, SubnetID: e.SubnetID, VpcID: e.VpcID, IPv6: e.IPv6,
		IPv4Prefixes: e.IPv4Prefixes, IPv6Prefixes: e.IPv6Prefixes, SourceDestCheck: e.SourceDestCheck, Groups: e.Groups}
	he.PrivateIPs = append(make([]string, 0, len(e.PrivateIPs)+1), e.PrimaryIP())
	for _, ip := range e.PrivateIPs {
		if !ip.Primary {
			he.PrivateIPs = append(he.PrivateIPs, ip.Address)
		}
	}
	he.PrivateIPs = slices.Clip(he.PrivateIPs) // shared by every view: an append copies
	b := &hostENIBase{he: he}
	if len(e.Groups) > 0 {
		for _, ip := range he.PrivateIPs {
			b.cidrs = append(b.cidrs, ip+"/32")
		}
		for _, ip := range e.IPv6 {
			b.cidrs = append(b.cidrs, ip+"/128")
		}
		b.cidrs = append(b.cidrs, e.IPv4Prefixes...) // addresses in them are the ENI's too
		b.cidrs = slices.Clip(append(b.cidrs, e.IPv6Prefixes...))
	}
	return b
}
