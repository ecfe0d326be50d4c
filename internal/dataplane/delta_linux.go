package dataplane

import (
	"fmt"
	"net/netip"
	"slices"
)

// Work in proportion to what changed. When the last pass realised its Desired without an
// error (the plane's memo, memo.go) and the new Desired differs from it only in ENIs,
// instances and security groups (its VPCs, public addresses and peerings are equal), the pass knows
// exactly which ENIs and instances changed: the delta. The steps whose cost grows with the
// host then look only at those: the instances' routing, the datapath ruleset's keys, the
// routers' neighbours, the removal of what went away. Any other change, a full pass, or an
// error earlier in the pass, and every step looks at everything, as without a delta.

// delta is what changed since the last clean pass.
type delta struct {
	enis    map[string]bool // added, removed or changed, or whose instance started or stopped
	insts   map[string]bool // added, removed, started or stopped, or that held or hold an ENI of enis
	vpcs    map[string]bool // VPCs whose routers' neighbours may differ (an ENI of theirs realised or not any more, or with other addresses)
	planned map[string]bool // the ENIs of enis that this pass realises
	// groups are the security groups whose rules changed (or that came or went): the
	// chains of the profiles that hold them change (only the datapath ruleset depends on
	// groups; an ENI's own list of groups puts it in enis).
	groups map[string]bool
	remote bool // the overlay's remote ENIs changed (overlay_linux.go)
	// released are the addresses that changed or gone ENIs (local or remote) gave up
	// (announce_linux.go).
	released []addrKey
}

// incr reports whether the step may use the delta: an incremental pass with a delta and
// no error so far. The steps trust, for the ENIs the delta does not name, that every
// earlier step realised them (their instance, bridge, mark and chains): so a step that
// skips an ENI must say so with r.fail, never silently.
func (r *reconciler) incr() bool { return !r.full && r.delta != nil && r.nerr == 0 }

// unchanged reports whether the ENI id equals the last clean pass's (a known delta that
// does not name it).
func (x *delta) unchanged(id string) bool { return x != nil && !x.enis[id] }

// diff computes the delta of d against the last clean pass's Desired (nil when there is
// none or something else than ENIs and instances changed).
func (r *reconciler) diff(prev *Desired, d *Desired) *delta {
	if prev == nil || r.full || !eqFunc(prev.VPCs, d.VPCs, vpcEqual) || !overlayStaticEqual(prev.Overlay, d.Overlay) ||
		!slices.Equal(prev.PublicIPs, d.PublicIPs) || !slices.Equal(prev.Peerings, d.Peerings) ||
		!eqFunc(prev.NATGateways, d.NATGateways, natgwEqual) {
		return nil
	}
	x := &delta{enis: map[string]bool{}, insts: map[string]bool{}, vpcs: map[string]bool{}, planned: map[string]bool{}}
	x.groups = groupsChanged(prev.Groups, d.Groups)
	changed, wasRunning := map[string]bool{}, map[string]bool{} // instances
	pairs(prev.Instances, d.Instances, func(a *Instance) string { return a.ID }, func(a, b *Instance) bool { return *a == *b },
		func(a, b *Instance) {
			for _, in := range []*Instance{a, b} {
				if in != nil {
					x.insts[in.ID], changed[in.ID] = true, true
				}
			}
			if a != nil && a.Running {
				wasRunning[a.ID] = true
			}
		})
	running := func(id string, before bool) bool {
		if id == "" {
			return false
		}
		if before && changed[id] {
			return wasRunning[id]
		}
		return r.running[id]
	}
	vpcOf := func(e *ENI) {
		if si := r.subnets[e.SubnetID]; si != nil {
			x.vpcs[si.vpcID] = true
		}
	}
	pairs(prev.ENIs, d.ENIs, func(e *ENI) string { return e.ID }, eniEqual, func(a, b *ENI) {
		x.released = append(x.released, releasedAddrs(a, b)...)
		for _, e := range []*ENI{a, b} {
			if e == nil {
				continue
			}
			x.enis[e.ID] = true
			if e.InstanceID != "" {
				x.insts[e.InstanceID] = true
			}
			for _, s := range r.subnetSeq {
				if s.DefaultRouteENI == e.ID || slices.ContainsFunc(s.ENIRoutes, func(r ENIRoute) bool { return r.ENI == e.ID }) {
					x.vpcs[s.vpcID] = true // its router routes to it
				}
			}
		}
		// The router's view of an ENI: its addresses, and its metadata number, which
		// names the instance holding it (a moved ENI gets a new one, metadata_linux.go).
		for _, e := range []*ENI{a, b} {
			if e != nil {
				vpcOf(e)
			}
		}
	})
	// The remote ENIs: the routers know them as their own.
	if prev.Overlay != nil {
		pairs(prev.Overlay.Remote, d.Overlay.Remote, func(e *RemoteENI) string { return e.ID }, remoteEqual, func(a, b *RemoteENI) {
			x.remote = true
			x.released = append(x.released, remoteReleased(a, b)...)
			for _, e := range []*RemoteENI{a, b} {
				if e != nil {
					vpcOf(&e.ENI)
				}
			}
		})
	}
	// The ENIs of instances that started or stopped.
	for i := 0; len(changed) > 0 && i < len(d.ENIs); i++ {
		if e := &d.ENIs[i]; e.InstanceID != "" && changed[e.InstanceID] && !x.enis[e.ID] &&
			running(e.InstanceID, true) != running(e.InstanceID, false) {
			x.enis[e.ID] = true
			vpcOf(e)
		}
	}
	return x
}

// groupsChanged are the ids of the groups of b that differ from the group of a with
// their id, and of the groups only one of them has.
func groupsChanged(a, b []Group) map[string]bool {
	changed := map[string]bool{}
	pairs(a, b, func(g *Group) string { return g.ID }, groupEqual, func(x, y *Group) {
		for _, g := range []*Group{x, y} {
			if g != nil {
				changed[g.ID] = true
			}
		}
	})
	return changed
}

// pairs calls changed(old, new) for every element of b that differs from the element of a
// with the same id (old nil: new in b) and for every element of a that b lacks (new nil).
// Lists in the same order (the usual case: the model lists them so) are compared in
// place; others through an index.
func pairs[T any](a, b []T, id func(*T) string, eq func(x, y *T) bool, changed func(old, new *T)) {
	n := min(len(a), len(b))
	i := 0
	for ; i < n && id(&a[i]) == id(&b[i]); i++ {
		if !eq(&a[i], &b[i]) {
			changed(&a[i], &b[i])
		}
	}
	if i == n { // one is a prefix of the other
		for j := n; j < len(a); j++ {
			changed(&a[j], nil)
		}
		for j := n; j < len(b); j++ {
			changed(nil, &b[j])
		}
		return
	}
	old := make(map[string]*T, len(a)-i)
	for j := i; j < len(a); j++ {
		old[id(&a[j])] = &a[j]
	}
	for j := i; j < len(b); j++ {
		o := old[id(&b[j])]
		delete(old, id(&b[j]))
		if o == nil || !eq(o, &b[j]) {
			changed(o, &b[j])
		}
	}
	for _, o := range old {
		changed(o, nil)
	}
}

// parsedENI is an ENI as a pass parsed it, with what the parsing depended on: a later pass
// reuses it while they are equal.
type parsedENI struct {
	from            ENI // a deep copy
	prefix, prefix6 netip.Prefix
	info            eniInfo
}

// parse sets dst to e parsed (validated) for subnet si, with its interface names. An ENI
// the delta does not name is the one the last clean pass parsed (and realised): its parse
// is reused without comparing them.
func (r *reconciler) parse(dst *eniInfo, e ENI, si *subnetInfo) error {
	if old := r.c.parsed[e.ID]; old != nil && old.prefix == si.prefix && old.prefix6 == si.prefix6 &&
		(r.delta.unchanged(e.ID) || eniEqual(&old.from, &e)) {
		*dst = old.info
		dst.ENI, dst.subnet = e, si
		return nil
	}
	delete(r.c.parsed, e.ID)
	ei, err := parseENI(e, si)
	if err != nil {
		return err
	}
	if _, err := parseMAC(ei.mac); err != nil {
		return fmt.Errorf("eni %s: %w", e.ID, err)
	}
	ei.host = ifName(r.p.prefix, kindENIHost, e.ID)
	ei.host2 = ifName(r.p.prefix, kindENIHost2, e.ID)
	ei.host3 = ifName(r.p.prefix, kindENIHost3, e.ID)
	ei.eth = ethName(e.DeviceIndex)
	r.c.parsed[e.ID] = &parsedENI{from: cloneENI(e), prefix: si.prefix, prefix6: si.prefix6, info: *ei}
	*dst = *ei
	return nil
}
