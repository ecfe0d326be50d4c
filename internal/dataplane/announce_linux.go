package dataplane

import (
	"net/netip"
	"slices"
)

// Who a new ENI's gratuitous ARP is for. It teaches the bridges where the ENI's MAC is,
// which a frame to the router alone does as well, and the subnet's instances which MAC
// its addresses have: that only matters to an instance that may still hold another MAC
// for one of them, from an ENI that had the address before. So the announcement is
// flooded to the subnet when an address of the ENI was held by another ENI while the
// plane ran (released), or when the plane cannot know (announceAll: it found namespaces
// it did not make, a restart, or a pass after an error lost what changed since the last
// clean one); otherwise it goes to the router alone. A flood costs the sending pass
// about 10 µs a port of the subnet and every instance there an ARP packet to process:
// 27 % of the CPU of a launch of 5,000 in subnets of 250.

// addrKey is an IPv4 address of a VPC.
type addrKey struct {
	vpc string
	a   netip.Addr
}

// noteReleases records the addresses that the ENIs of the last clean pass's Desired held
// and no longer hold in d (prev nil: the plane's first pass, or one after an error).
func (r *reconciler) noteReleases(prev, d *Desired) {
	p := r.p
	if prev == nil {
		if len(r.c.enis) > 0 {
			p.announceAll = true // what went since the last clean pass is not known
		}
		return
	}
	note := func(a, b *ENI) {
		if a != nil {
			for _, k := range releasedAddrs(a, b) {
				p.released[k] = true
			}
		}
	}
	if r.delta != nil {
		for _, k := range r.delta.released {
			p.released[k] = true
		}
		return
	}
	pairs(prev.ENIs, d.ENIs, func(e ENI) string { return e.ID }, eniEqual, note)
	if prev.Overlay != nil && d.Overlay != nil {
		pairs(prev.Overlay.Remote, d.Overlay.Remote, func(e RemoteENI) string { return e.ID }, remoteEqual, func(a, b *RemoteENI) {
			if a != nil && b != nil {
				note(&a.ENI, &b.ENI)
			} else if a != nil {
				note(&a.ENI, nil)
			}
		})
	} else if prev.Overlay != nil {
		for i := range prev.Overlay.Remote {
			note(&prev.Overlay.Remote[i].ENI, nil)
		}
	}
}

// releasedAddrs are the IPv4 addresses a holds that b (the same ENI later, or nil when it
// went) does not.
func releasedAddrs(a, b *ENI) []addrKey {
	var out []addrKey
	for _, s := range append([]string{a.PrimaryIP}, a.SecondaryIPs...) {
		if b != nil && (s == b.PrimaryIP || slices.Contains(b.SecondaryIPs, s)) {
			continue
		}
		if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() {
			out = append(out, addrKey{a.VPCID, ip})
		}
	}
	return out
}

// quietAnnounce reports whether e's announcement may go to its router alone.
func (r *reconciler) quietAnnounce(e *eniInfo) bool {
	p := r.p
	return !p.announceAll && !slices.ContainsFunc(e.ips, func(a netip.Addr) bool { return p.released[addrKey{e.VPCID, a}] })
}
