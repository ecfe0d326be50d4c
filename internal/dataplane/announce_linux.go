package dataplane

import (
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
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
	var released []addrKey
	if r.delta != nil {
		released = r.delta.released
	} else {
		pairs(prev.ENIs, d.ENIs, func(e *ENI) string { return e.ID }, eniEqual, func(a, b *ENI) {
			released = append(released, releasedAddrs(a, b)...)
		})
		var now []RemoteENI
		if d.Overlay != nil {
			now = d.Overlay.Remote
		}
		if prev.Overlay != nil {
			pairs(prev.Overlay.Remote, now, func(e *RemoteENI) string { return e.ID }, remoteEqual, func(a, b *RemoteENI) {
				released = append(released, remoteReleased(a, b)...)
			})
		}
	}
	for _, k := range released {
		p.released[k] = true
	}
}

// remoteReleased is releasedAddrs of a remote ENI.
func remoteReleased(a, b *RemoteENI) []addrKey {
	if a == nil {
		return nil
	}
	if b == nil {
		return releasedAddrs(&a.ENI, nil)
	}
	return releasedAddrs(&a.ENI, &b.ENI)
}

// releasedAddrs are the IPv4 addresses a holds that b (the same ENI later, or nil when it
// went) does not: its own, and those of its delegated prefixes (its instance may have
// used any of them). A nil a (a new ENI) gave up nothing.
func releasedAddrs(a, b *ENI) []addrKey {
	if a == nil {
		return nil
	}
	var out []addrKey
	for _, s := range append([]string{a.PrimaryIP}, a.SecondaryIPs...) {
		if b != nil && (s == b.PrimaryIP || slices.Contains(b.SecondaryIPs, s)) {
			continue
		}
		if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() {
			out = append(out, addrKey{a.VPCID, ip})
		}
	}
	for _, s := range a.IPv4Prefixes {
		pfx, err := netip.ParsePrefix(s)
		if err != nil || !pfx.Addr().Is4() || pfx.Bits() < 24 || (b != nil && slices.Contains(b.IPv4Prefixes, s)) {
			continue // AWS delegates /28s; the plane refuses what it cannot parse
		}
		for ip := pfx.Masked().Addr(); pfx.Contains(ip); ip = ip.Next() {
			out = append(out, addrKey{a.VPCID, ip})
		}
	}
	return out
}

// announce queues e's gratuitous ARP from its interface idx in inst, sent once the
// instance's routing is in place (ensureInstanceRouting) and the ENI's port, host, is up:
// the bridge forwards a new port's frames only once the kernel has seen its carrier come
// up, in its link watch work a moment after the link did, and drops what comes before. A
// flood is sent again a little later, in case it went in the moment between the two.
// The port is on bridge br.
func (r *reconciler) announce(e *eniInfo, inst *nsCtx, idx int, host string, br int) {
	if len(e.ips) == 0 {
		return
	}
	mac, _ := net.ParseMAC(e.mac) // validated in plan
	p, dp, ns, ips, to := r.p, r.dp, inst.ns, e.ips, net.HardwareAddr(nil)
	if r.known[e.ID] || r.quietAnnounce(e) {
		to = mac // a quiet announcement (see below)
		if br != r.bridges[e.SubnetID] && r.legKnown(e) {
			to = deterministicMAC(e.subnet.ID)
		}
	}
	r.garps[e.InstanceID] = append(r.garps[e.InstanceID], func() error {
		portUp(dp, host)
		if to == nil {
			// Its own handle of the namespace: the instance's may be closed by then.
			if again, err := unix.Dup(int(ns)); err == nil {
				p.bg.Add(1)
				time.AfterFunc(announceAgain, func() {
					defer p.bg.Done()
					defer unix.Close(again)
					_ = p.sendGARP(netns.NsHandle(again), idx, mac, nil, ips) // best effort: the first one went
				})
			}
		}
		return p.sendGARP(ns, idx, mac, to, ips)
	})
}

const (
	portUpWait    = 200 * time.Millisecond
	announceAgain = 50 * time.Millisecond
)

// portUp waits, up to portUpWait, for the datapath's link name to be operationally up.
func portUp(dp *nsCtx, name string) {
	deadline := time.Now().Add(portUpWait)
	for {
		l, err := dp.linkByName(name)
		if err != nil || l == nil || l.Attrs().OperState == netlink.OperUp || time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// A quiet announcement goes to the ENI's own MAC, which teaches its bridge where it is
// and goes no further (the bridge learns the frame's source before it looks up its
// destination, the port it came by); from a segment whose subnet's router leg was there
// before the pass, to the router, so that the subnet's bridge learns it too (the router's
// MAC is a static entry there: not flooded). To the router alone, a new subnet's
// announcements were flooded all the same: its router is made after its instances'
// routing, where they are sent, so the bridge did not know where the router's MAC was (a
// launch of 1,000 in subnets of 250 flooded each to 250 ports, 14 % of its CPU, perf).

// legKnown reports whether e's subnet had its router leg before this pass (the routers
// step, which makes new ones, comes after the announcements).
func (r *reconciler) legKnown(e *eniInfo) bool {
	ent, ok := r.c.routers[e.VPCID]
	return ok && ent.st != nil && ent.st.legs[e.SubnetID] != 0
}

// quietAnnounce reports whether e's announcement may go to its router alone.
func (r *reconciler) quietAnnounce(e *eniInfo) bool {
	p := r.p
	return !p.announceAll && !slices.ContainsFunc(e.ips, func(a netip.Addr) bool { return p.released[addrKey{e.VPCID, a}] })
}
