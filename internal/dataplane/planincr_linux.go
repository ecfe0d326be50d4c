package dataplane

import (
	"maps"
	"slices"
	"strings"
)

// A pass with a delta (delta_linux.go) plans by patching the last clean pass's plan
// instead of making it again: the ENIs the delta does not name keep their eniInfo (and
// with it their mark and profile), the instances their handles, the subnets theirs. The
// steps whose cost grows with the host then look at what the delta names only (patched),
// so that an ENI's move costs the same with 5,000 instances on the host as with ten.
// A full pass, a pass without a delta, or one after an error plans everything again.

// planMemo is the plan of the last pass that realised its Desired without an error (the
// plane's memo), for the next pass to patch. Nothing in it changes after that pass:
// patching copies what it changes, or takes ownership of it (the memo is the next pass's
// alone, and the last memo's status with it).
type planMemo struct {
	vpcs      []VPC
	subnets   map[string]*subnetInfo
	subnetSeq []*subnetInfo
	running   map[string]bool
	enis      []*eniInfo
	used      map[slot]bool
	insts     map[string]*nsCtx
	eniLink   map[string]int
	byInst    instIndex // nil: not made yet
}

// memoPlan is what the clean pass r leaves the next one.
func (r *reconciler) memoPlan() *planMemo {
	return &planMemo{vpcs: r.vpcs, subnets: r.subnets, subnetSeq: r.subnetSeq, running: r.running,
		enis: r.enis, used: r.used, insts: r.insts, eniLink: r.eniLink, byInst: r.byInst}
}

// patched reports whether the pass patches the last clean pass's plan (and so may look
// only at what its delta names): an incremental pass with a delta, no error so far, and
// its plan patched.
func (r *reconciler) patched() bool { return r.last != nil && r.incr() }

// reusePlanned takes the last clean pass's subnets (its VPCs are d's) and, when d's
// instances are its too, which of them run.
func (r *reconciler) reusePlanned(d, prev *Desired) bool {
	last := r.last
	if last == nil || prev == nil || r.full || !eqFunc(prev.VPCs, d.VPCs, vpcEqual) {
		r.last = nil
		return false
	}
	r.vpcs, r.subnets, r.subnetSeq = last.vpcs, last.subnets, last.subnetSeq
	if slices.Equal(prev.Instances, d.Instances) {
		r.running = last.running
	}
	return true
}

// planDelta plans d's ENIs as the last clean pass's with those the delta names planned
// again (in id order, as planENIs would). It reports false when
// an ENI the delta names would take the device index of one it does not: planENIs
// decides which of them fails, as a full pass would, and the pass patches nothing.
func (r *reconciler) planDelta(d *Desired) bool {
	last := r.last
	r.sorted = sortedENIs(d.ENIs)
	ids := slices.Sorted(maps.Keys(r.delta.enis))
	used, byInst := last.used, last.byInst
	enis := last.enis        // theirs: the memo is gone
	for _, id := range ids { // out with the old
		if i, ok := findInfo(enis, id); ok {
			delete(used, slot{enis[i].InstanceID, enis[i].DeviceIndex})
			byInst.remove(enis[i])
			enis = slices.Delete(enis, i, i+1)
		}
	}
	if r.slotTaken(ids, used) {
		return false // used is spoilt: nobody else uses it (planENIs makes its own)
	}
	var add []*eniInfo
	for _, id := range ids {
		e, ok := r.realisedHere(id)
		if !ok {
			continue
		}
		ei, ok := r.planOne(e)
		if !ok {
			continue
		}
		used[slot{e.InstanceID, e.DeviceIndex}] = true
		add = append(add, ei)
	}
	for _, ei := range add {
		i, _ := findInfo(enis, ei.ID)
		enis = slices.Insert(enis, i, ei)
		byInst.add(ei)
		r.delta.planned[ei.ID] = true
	}
	r.enis, r.used, r.byInst = enis, used, byInst
	r.pruneParsed()
	return true
}

// slotTaken reports whether an ENI of ids that this host realises would take a device
// index that used, or another of ids, holds: before any is parsed, so that planENIs,
// which then plans the pass, is the only one to report a bad ENI.
func (r *reconciler) slotTaken(ids []string, used map[slot]bool) bool {
	mine := map[slot]bool{}
	for _, id := range ids {
		e, ok := r.realisedHere(id)
		if !ok {
			continue
		}
		k := slot{e.InstanceID, e.DeviceIndex}
		if used[k] || mine[k] {
			return true
		}
		mine[k] = true
	}
	return false
}

// realisedHere is the ENI id of the Desired when this host realises it (its instance
// runs here).
func (r *reconciler) realisedHere(id string) (ENI, bool) {
	e, ok := findSorted(r.sorted, id)
	return e, ok && e.InstanceID != "" && r.running[e.InstanceID]
}

// planOne parses e into a new eniInfo (failing the pass for a bad one).
func (r *reconciler) planOne(e ENI) (*eniInfo, bool) {
	si := r.subnets[e.SubnetID]
	if si == nil {
		r.fail(errUnknownSubnet(e))
		return nil, false
	}
	ei := &eniInfo{}
	if err := r.parse(ei, e, si); err != nil {
		r.fail(err)
		return nil, false
	}
	return ei, true
}

// sortedENIs is enis in id order (enis itself when it is: the check compares the ids in
// place, as copying each ENI to a comparison function cost 0.2 ms at 5,000).
func sortedENIs(enis []ENI) []ENI {
	sorted := true
	for i := 1; i < len(enis) && sorted; i++ {
		sorted = enis[i-1].ID <= enis[i].ID
	}
	if sorted {
		return enis
	}
	s := slices.Clone(enis)
	slices.SortFunc(s, func(a, b ENI) int { return strings.Compare(a.ID, b.ID) })
	return s
}

// findSorted is the ENI with id in enis (in id order).
func findSorted(enis []ENI, id string) (ENI, bool) {
	i, ok := bisectENI(enis, id)
	if !ok {
		return ENI{}, false
	}
	return enis[i], true
}

// findInfo is where the ENI id is, or would be, in enis (in id order).
func findInfo(enis []*eniInfo, id string) (int, bool) {
	return slices.BinarySearchFunc(enis, id, func(e *eniInfo, id string) int { return strings.Compare(e.ID, id) })
}

// deltaPlanned are the ENIs of the pass that its delta names, in id order.
func (r *reconciler) deltaPlanned() []*eniInfo {
	var out []*eniInfo
	for id := range r.delta.planned {
		if e := r.planned(id); e != nil {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *eniInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// enisToEnsure are the ENIs whose links ensureENIs looks at: all of them (r.eniLink and
// r.status.ENIs made for them, sized: a map grown entry by entry rehashes, at every
// pass), or when patching those the delta names or whose instances it names (in id
// order, found without walking every ENI), the others' links and status the last clean
// pass's.
func (r *reconciler) enisToEnsure() []*eniInfo {
	if !r.patched() {
		r.eniLink, r.status.ENIs, r.eniOwn = make(map[string]int, len(r.enis)), newRealised[string](len(r.enis)), ownAll
		return r.enis
	}
	r.enisPatched = true
	r.eniLink = r.last.eniLink // theirs, the memo's gone
	r.status.ENIs, r.eniOwn = r.c.memoStatus.ENIs, ownNothing
	for id := range r.delta.enis {
		delete(r.eniLink, id)
	}
	var out []*eniInfo
	for id := range r.delta.enis {
		if e := r.planned(id); e != nil && !r.delta.insts[e.InstanceID] {
			out = append(out, e)
		}
	}
	for id := range r.delta.insts {
		out = append(out, r.enisOf(id)...)
	}
	slices.SortFunc(out, func(a, b *eniInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// instIndex is the realised ENIs of each instance, in id order.
type instIndex map[string][]*eniInfo

// enisOf are the ENIs of the pass realised in instance id, in id order (the index made
// at the first look of a pass that has none, then patched with the plan, planDelta).
func (r *reconciler) enisOf(id string) []*eniInfo {
	if r.byInst == nil {
		r.byInst = instIndex{}
		for _, e := range r.enis {
			r.byInst[e.InstanceID] = append(r.byInst[e.InstanceID], e)
		}
	}
	return r.byInst[id]
}

// add puts e in its instance's list (nothing when x is not made yet).
func (x instIndex) add(e *eniInfo) {
	if x == nil {
		return
	}
	l := x[e.InstanceID]
	i, _ := findInfo(l, e.ID)
	x[e.InstanceID] = slices.Insert(l, i, e)
}

// remove takes e out of its instance's list.
func (x instIndex) remove(e *eniInfo) {
	l := x[e.InstanceID]
	i, ok := findInfo(l, e.ID)
	if !ok {
		return
	}
	if l = slices.Delete(l, i, i+1); len(l) == 0 {
		delete(x, e.InstanceID)
	} else {
		x[e.InstanceID] = l
	}
}

// unrealised takes out of the status the ENIs the delta names that the pass did not
// realise (when patching: the others are as they were).
func (r *reconciler) unrealised() {
	if !r.enisPatched { // patched() may be false by now: an ENI of the step failed
		return
	}
	for id := range r.delta.enis {
		if _, ok := r.eniLink[id]; !ok {
			r.status.ENIs.set(&r.eniOwn, id, "", true)
		}
	}
}
