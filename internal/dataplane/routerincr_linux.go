package dataplane

import (
	"net/netip"
)

// routerIncr brings a VPC's router up to date by the ENIs the pass's delta names alone:
// their former parts (routerState.byENI) out, their present ones in. A move, a launch or a
// deleted ENI then costs the router the same at ten ENIs as at thousands: no list of
// every ENI's neighbours and numbers is made, and the keys are updated by the elements
// that changed (neighboursKey and mdKey are sums of their elements' hashes). It reports
// whether it did; if not (no state to start from, a static part that changed, delegated
// IPv6 prefixes involved, an error), the caller makes the router's spec whole.
func (r *reconciler) routerIncr(v VPC, c *nsCtx, ent *routerEntry, gen uint32, upName string) bool {
	st := ent.st
	if st == nil || st.byENI == nil || r.delta.remote || st.static != r.routerKey(v, c) {
		return false
	}
	var olds, nows []routerPart
	var ids []string
	var keep []bool
	for id := range r.delta.enis {
		old, had := st.byENI[id]
		now, has := r.routerPartNow(v.ID, id)
		if old.pfx6 || now.pfx6 {
			return false // its prefix routes: the whole router's pass
		}
		if had || has {
			olds, nows, ids, keep = append(olds, old), append(nows, now), append(ids, id), append(keep, has)
		}
	}
	if len(ids) == 0 {
		return true
	}
	if !r.routerApply(c, st, upName, v.ResolverIP, olds, nows) {
		ent.st = nil // what the kernel holds is unknown: the full pass makes it whole
		return false
	}
	for i, id := range ids {
		if keep[i] {
			st.byENI[id] = nows[i]
		} else {
			delete(st.byENI, id)
		}
	}
	after, err := c.nftGen()
	if err != nil {
		ent.st = nil
		return false
	}
	ent.key, ent.gen = st.static^(st.nbrSum+st.pfx6)^st.mdSum, after
	r.c.routers[v.ID] = *ent
	r.p.routerDeltas.Add(1)
	r.p.routerIncrs.Add(1)
	r.ownRouterChange(v.ID, c, gen, after, true)
	return true
}

// routerPartNow is the part of ENI id in VPC vpcID's router in this pass (a new metadata
// number if it moved), and whether it has one: an ENI planned in the VPC.
func (r *reconciler) routerPartNow(vpcID, id string) (routerPart, bool) {
	e := r.planned(id)
	if e == nil || e.subnet == nil || e.subnet.vpcID != vpcID {
		return routerPart{}, false
	}
	ns, pfx6 := routerNeighbours([]*eniInfo{e})
	part := routerPart{nbrs: ns, pfx6: len(pfx6) > 0}
	if md := r.p.metadataIDs(vpcID, []*eniInfo{e}); len(md) == 1 {
		part.md, part.hasMD = md[0], true
	}
	return part, true
}

// routerApply changes st's router from the parts olds to nows: the legs' permanent
// neighbours, the guard's next hops and metadata sets and its marker. It reports whether
// it did.
func (r *reconciler) routerApply(c *nsCtx, st *routerState, uplink, resolver string, olds, nows []routerPart) bool {
	nbrs := map[nbrKey]string{} // the neighbours of the changed parts: their MACs now ("": gone)
	mdHave, mdWant := map[string]uint32{}, map[string]uint32{}
	refs := map[netip.Addr]int{} // next hops: the change of their counts
	for _, p := range olds {
		for _, n := range p.nbrs {
			if _, ok := st.legs[n.subnet]; ok {
				nbrs[nbrKey{n.subnet, n.ip}] = ""
			}
			refs[n.ip]--
			st.nbrSum -= nbrHash(n)
		}
		if p.hasMD {
			mdHave[string(p.md.mac)] = p.md.id
			st.mdSum -= mdHash(p.md)
		}
	}
	for _, p := range nows {
		for _, n := range p.nbrs {
			if _, ok := st.legs[n.subnet]; ok {
				nbrs[nbrKey{n.subnet, n.ip}] = n.mac.String()
			}
			refs[n.ip]++
			st.nbrSum += nbrHash(n)
		}
		if p.hasMD {
			mdWant[string(p.md.mac)] = p.md.id
			st.mdSum += mdHash(p.md)
		}
	}
	for mac, id := range mdHave { // unchanged: no element to replace
		if mdWant[mac] == id {
			delete(mdHave, mac)
			delete(mdWant, mac)
		}
	}
	changes, err := r.neighbourChange(c, st, nbrs)
	if err != nil {
		return false
	}
	var add, del []netip.Addr
	for a, d := range refs {
		was := st.nhRef[a]
		st.nhRef[a] = was + d
		switch {
		case was+d <= 0:
			delete(st.nhRef, a)
			if was > 0 {
				del = append(del, a)
			}
		case was <= 0:
			add = append(add, a)
		}
	}
	// The marker chain is renamed once the passes pause (writeMarkers): a rename frees the
	// old name after an RCU grace period, which on this machine interrupts the other CPU,
	// 0.15-0.25 ms of the pass that brings a task up.
	if len(add)+len(del)+len(mdHave)+len(mdWant) > 0 {
		if err := guardChange(c, r.p.prefix+"rt", st.marker, st.marker, add, del, mdHave, mdWant); err != nil {
			return false
		}
		changes++
	}
	st.due = ""
	if marker := guardMarkerOf(uplink, resolver, st.nbrSum, st.mdSum); marker != st.marker {
		st.due = marker
		r.p.noteDue()
		r.p.markersDue = true
	}
	for mac := range mdHave {
		delete(st.md, mac)
	}
	for mac, id := range mdWant {
		st.md[mac] = id
	}
	r.changes += changes
	return true
}

// neighbourChange sets (or, for "", deletes) the permanent neighbours of want whose MAC
// st does not hold, and records them in st. (set and gone are disjoint: neighbourDelta
// sets the first and deletes the second.)
func (r *reconciler) neighbourChange(c *nsCtx, st *routerState, want map[nbrKey]string) (int, error) {
	set, gone := map[nbrKey]string{}, map[nbrKey]string{}
	for k, mac := range want {
		switch have, ok := st.nbrs[k]; {
		case mac == "" && ok:
			gone[k] = have
		case mac != "" && have != mac:
			set[k] = mac
		}
	}
	n, err := r.neighbourDelta(c, &routerState{legs: st.legs, nbrs: gone}, set)
	for k := range gone {
		delete(st.nbrs, k)
	}
	for k, mac := range set {
		st.nbrs[k] = mac
	}
	return n, err
}
