package core

import (
	"iter"
	"maps"
	"slices"
	"strings"
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
	// insts and view are the instances' and the ENIs' parts of the last host view: the
	// next one patches them with the rows written since (changedSince) when it can, so
	// that a pass's view of 5,000 instances costs what changed, not 5,000 conversions.
	// Their slices are shared by every view made of them and never changed.
	insts *instView
	view  *eniView
	// lent counts, by their first element, the views handed out of each of the last
	// lists of ENIs and those given back (Core.ReturnHostView); spare is a list no view
	// holds any more, the memory of the next patch's list (5,000 ENIs made afresh a pass
	// cost a page fault every 4 KiB whenever the heap grew). Only a list lent knows
	// entirely given back is reused: it forgets the oldest beyond maxLent, and one it
	// forgot is never reused.
	lent  map[*HostENI]*lentList
	seq   uint64
	spare []HostENI
}

// lentList is one of the memo's lists of ENIs: how many views of it are out, whether
// the memo's view has moved on from it, and when it was first lent (lent forgets the
// oldest first).
type lentList struct {
	out, seq uint64
	retired  bool
	list     []HostENI // with its memory's whole capacity
}

// maxLent bounds how many lists the memo keeps count of.
const maxLent = 8

// lend counts a view of the list l (full: with its memory's capacity) as handed out.
// Call with m.mu held.
func (m *hostMemo) lend(l, full []HostENI) {
	if len(l) == 0 {
		return
	}
	if x := m.lent[&l[0]]; x != nil {
		x.out++
		return
	}
	if m.lent == nil {
		m.lent = map[*HostENI]*lentList{}
	}
	if len(m.lent) >= maxLent { // forget the oldest: it will never be reused
		var oldest *HostENI
		for k, x := range m.lent {
			if oldest == nil || x.seq < m.lent[oldest].seq {
				oldest = k
			}
		}
		delete(m.lent, oldest)
	}
	m.seq++
	m.lent[&l[0]] = &lentList{out: 1, seq: m.seq, list: full}
}

// giveBack counts a view of the list l as given back. Call with m.mu held.
func (m *hostMemo) giveBack(l []HostENI) {
	if len(l) == 0 {
		return
	}
	x := m.lent[&l[0]]
	if x == nil || x.out == 0 {
		return // not the memo's, or forgotten
	}
	x.out--
	m.reuse(&l[0], x)
}

// retire notes that the memo's view moved on from the list l. Call with m.mu held.
func (m *hostMemo) retire(l []HostENI) {
	if len(l) == 0 {
		return
	}
	if x := m.lent[&l[0]]; x != nil {
		x.retired = true
		m.reuse(&l[0], x)
	}
}

// reuse makes the list x (first element k) spare once no view holds it.
func (m *hostMemo) reuse(k *HostENI, x *lentList) {
	if x.out > 0 || !x.retired {
		return
	}
	delete(m.lent, k)
	if cap(x.list) > cap(m.spare) {
		m.spare = x.list[:0]
	}
}

// sameList reports whether a and b are the same memory (both empty: not a list).
func sameList(a, b []HostENI) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// takeSpare is the spare list's memory, emptied (nil when there is none). Call with
// m.mu held.
func (m *hostMemo) takeSpare() []HostENI {
	s := m.spare
	m.spare = nil
	return s
}

// instView is the instances' part of a host view (those pending or running, by id) at
// the instances table's gen.
type instView struct {
	gen  uint64
	list []HostInstance
}

// eniView is the ENIs' part of a host view, made at the ENI and instance tables' gens
// from in.
type eniView struct {
	enisGen, instGen uint64
	in               hostENIInputs
	out              []HostENI
	full             []HostENI           // out with its memory's whole capacity (the memo's, to reuse)
	members          map[string][]string // group -> member addresses as CIDRs
	public           []PublicMapping     // the ENIs' own public IPv4 addresses, sorted
}

// hostENIInputs is what the ENIs' part of a host view depends on besides the ENI rows
// and the instances' states.
type hostENIInputs struct {
	taskOf   map[string]string // ENI -> the task (or endpoint namespace) it is eth0 of
	natOf    map[string]string // ENI -> the NAT gateway it is eth0 of
	ipv6Only map[string]bool   // IPv6-only subnets (not realised)
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

// prune forgets the rows not in the table t once the memo holds twice as many as t: its
// size stays bounded by the table's, at a cost spread over the writes that made it
// grow (sorted: t's rows).
func (m *hostMemo) prune(t *table[ENI, *ENI], sorted func(keep func(*ENI) bool) []*ENI) {
	if len(m.enis) <= 2*len(t.rows)+64 {
		return
	}
	live := sorted(nil)
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

// hostInstances is the instances' part of the host view: the instances pending or
// running, by id, patched from the last view's when few were written since.
func (tx *Tx) hostInstances() []HostInstance {
	if !tx.readOnly {
		return appendInstancesUp(nil, tx.instances.Sorted(nil)) // a write's own rows: not memoised
	}
	m, t := &tx.db.hostMemo, tx.db.instances
	m.mu.Lock()
	defer m.mu.Unlock()
	if v := m.insts; v != nil {
		if ids, ok := t.changedSince(v.gen); ok && len(ids) <= len(v.list)/4+64 {
			list := mergeSorted(v.list, nil, func(i *HostInstance) string { return i.ID }, sortedSet(ids),
				func(out []HostInstance, id string, _ *HostInstance) []HostInstance {
					return appendInstancesUp(out, []*Instance{tx.instances.Get(id)})
				})
			m.insts = &instView{gen: t.gen, list: slices.Clip(list)}
			return m.insts.list
		}
	}
	m.insts = &instView{gen: t.gen, list: slices.Clip(appendInstancesUp(nil, tx.instances.Sorted(nil)))}
	return m.insts.list
}

// hostENIView is the ENIs' part of the host view, patched from the last view's when
// it can be.
func (tx *Tx) hostENIView(in hostENIInputs) *eniView {
	if !tx.readOnly {
		return tx.buildENIView(in, newHostENIBase) // a write's own rows may change yet: not memoised
	}
	m := &tx.db.hostMemo
	m.mu.Lock()
	defer m.mu.Unlock()
	last := m.view
	next, ok := (*eniView)(nil), false
	if last != nil {
		next, ok = tx.patchENIView(last, in)
	}
	if !ok {
		next = tx.buildENIView(in, m.eni)
	}
	m.view = next
	if last != nil && !sameList(last.out, next.out) {
		m.retire(last.full)
	}
	m.lend(next.out, next.full)
	m.prune(tx.db.enis, tx.enis.Sorted)
	return next
}

// patchENIView is v with the ENIs whose part may have changed made again: those written
// since, those attached to instances written since, and those whose task, endpoint or
// NAT gateway came or went. false: v cannot be patched (an IPv6-only subnet came or
// went, the tables' logs no longer reach back to v) or so much changed that making
// the view afresh costs as much.
func (tx *Tx) patchENIView(v *eniView, in hostENIInputs) (*eniView, bool) {
	enis, ok := tx.db.enis.changedSince(v.enisGen)
	insts, ok2 := tx.db.instances.changedSince(v.instGen)
	if !ok || !ok2 || !maps.Equal(v.in.ipv6Only, in.ipv6Only) {
		return nil, false
	}
	dirty := make(map[string]bool, len(enis))
	for _, id := range enis {
		dirty[id] = true
	}
	attached := func(ns string) {
		for id := range tx.db.idx.byInstance[ns] {
			dirty[id] = true
		}
	}
	for _, id := range insts {
		attached(id)
	}
	for id := range keysDiffer(v.in.taskOf, in.taskOf) {
		dirty[id] = true
	}
	for id := range keysDiffer(v.in.natOf, in.natOf) {
		dirty[id] = true
	}
	if len(dirty) > len(v.out)/4+64 {
		return nil, false
	}
	next := &eniView{enisGen: tx.db.enis.gen, instGen: tx.db.instances.gen, in: in, members: v.members}
	regroup := false
	ids := slices.Sorted(maps.Keys(dirty))
	var into []HostENI
	if len(ids) > 0 {
		into = tx.db.hostMemo.takeSpare()
	}
	next.full = mergeSorted(v.out, into, func(e *HostENI) string { return e.ID }, ids,
		func(out []HostENI, id string, old *HostENI) []HostENI {
			e := tx.enis.Get(id)
			if e != nil && !in.ipv6Only[e.SubnetID] {
				out = append(out, tx.hostENI(e, tx.db.hostMemo.eni(e), in))
				regroup = regroup || !sameMembership(old, &out[len(out)-1])
			} else {
				regroup = regroup || !sameMembership(old, nil)
			}
			return out
		})
	if len(ids) == 0 {
		next.full = v.full // the same list
	}
	clear(next.full[len(next.full):cap(next.full)]) // of a reused list: holds on to no row of before
	next.out = slices.Clip(next.full)
	if regroup {
		next.members = groupMembers(next.out, func(i int) []string { return tx.db.hostMemo.eni(tx.enis.Get(next.out[i].ID)).cidrs })
	}
	next.public = patchPublic(v.public, ids, func(id string) (PublicMapping, bool) { return eniPublicMapping(tx.enis.Get(id)) })
	return next, true
}

// buildENIView makes the ENIs' part of the host view from every ENI row (base: an ENI's
// conversion, memoised or not).
func (tx *Tx) buildENIView(in hostENIInputs, base func(*ENI) *hostENIBase) *eniView {
	v := &eniView{enisGen: tx.db.enis.gen, instGen: tx.db.instances.gen, in: in}
	enis := tx.enis.Sorted(nil)
	v.out = make([]HostENI, 0, len(enis))
	bases := make([]*hostENIBase, 0, len(enis))
	for _, e := range enis {
		if m, ok := eniPublicMapping(e); ok {
			v.public = append(v.public, m)
		}
		if in.ipv6Only[e.SubnetID] {
			continue
		}
		b := base(e)
		v.out = append(v.out, tx.hostENI(e, b, in))
		bases = append(bases, b)
	}
	v.members = groupMembers(v.out, func(i int) []string { return bases[i].cidrs })
	if len(v.out) == 0 {
		v.out = nil // as a patched one has it
	}
	sortPublicMappings(v.public)
	v.full = v.out
	v.out, v.public = slices.Clip(v.out), slices.Clip(v.public) // shared by every view: an append copies
	return v
}

// groupMembers are the member addresses of each security group, as CIDRs, of the ENIs
// of a view (cidrs: those of out[i]).
func groupMembers(out []HostENI, cidrs func(i int) []string) map[string][]string {
	members := map[string][]string{}
	for i := range out {
		for _, g := range out[i].Groups {
			members[g] = append(members[g], cidrs(i)...)
		}
	}
	for g, cidrs := range members {
		members[g] = slices.Clip(cidrs)
	}
	return members
}

// hostENI is e as the data plane sees it: attached to its instance when that is up,
// eth0 of its task's, endpoint's or NAT gateway's namespace.
func (tx *Tx) hostENI(e *ENI, b *hostENIBase, in hostENIInputs) HostENI {
	he := b.he
	if a := e.Attachment; a != nil && instanceLive(tx.instances.Get(a.InstanceID)) {
		he.InstanceID = a.InstanceID
		he.DeviceIndex = int(a.DeviceIndex)
	}
	if t := in.taskOf[e.ID]; t != "" {
		he.InstanceID, he.DeviceIndex = t, 0 // a task's ENI is eth0 of its namespace
	}
	if g := in.natOf[e.ID]; g != "" {
		he.InstanceID, he.DeviceIndex, he.Unfiltered = g, 0, true // likewise a NAT gateway's
	}
	return he
}

// instanceLive reports whether i's namespace should exist: it is pending or running.
// (An attachment names an instance: a task's, an endpoint's or a NAT gateway's ENI is
// attached to no instance, and is eth0 of its namespace by hostENIInputs.)
func instanceLive(i *Instance) bool {
	return i != nil && (i.State == "pending" || i.State == "running")
}

// appendInstancesUp appends those of insts (nil ones skipped) pending or running.
func appendInstancesUp(out []HostInstance, insts []*Instance) []HostInstance {
	for _, i := range insts {
		if instanceLive(i) {
			out = append(out, HostInstance{ID: i.ID, State: i.State, UserData: i.UserData})
		}
	}
	return out
}

// sameMembership reports whether two conversions of an ENI (nil: none) make the same
// security group members.
func sameMembership(a, b *HostENI) bool {
	if a == nil || b == nil {
		return (a == nil || len(a.Groups) == 0) && (b == nil || len(b.Groups) == 0)
	}
	return slices.Equal(a.Groups, b.Groups) && slices.Equal(a.PrivateIPs, b.PrivateIPs) && slices.Equal(a.IPv6, b.IPv6) &&
		slices.Equal(a.IPv4Prefixes, b.IPv4Prefixes) && slices.Equal(a.IPv6Prefixes, b.IPv6Prefixes)
}

// patchPublic is ms (sorted) with the mappings of the ENIs ids made again by of; ms
// itself when none of them has or had one.
func patchPublic(ms []PublicMapping, ids []string, of func(id string) (PublicMapping, bool)) []PublicMapping {
	var add []PublicMapping
	for _, id := range ids {
		if m, ok := of(id); ok {
			add = append(add, m)
		}
	}
	drop := func(m PublicMapping) bool { _, ok := slices.BinarySearch(ids, m.ENIID); return ok }
	if len(add) == 0 && !slices.ContainsFunc(ms, drop) {
		return ms
	}
	out := append(slices.DeleteFunc(slices.Clone(ms), drop), add...)
	if len(out) == 0 {
		return nil // as a view made afresh has it
	}
	sortPublicMappings(out)
	return slices.Clip(out)
}

// mergeSorted returns s (sorted by id) with its entries of ids (sorted, distinct)
// replaced by what remake appends for each (given the entry it replaces, or nil;
// nothing: the entry goes). s is not changed: the result is new (s itself when ids is
// empty), made in into's memory when into (empty, another array than s's) has room.
func mergeSorted[E any](s, into []E, id func(*E) string, ids []string, remake func(out []E, id string, old *E) []E) []E {
	if len(ids) == 0 {
		return s
	}
	out := into[:0]
	if cap(out) < len(s)+len(ids) { // room for a few more, so that it may be reused
		out = make([]E, 0, len(s)+len(ids)+len(s)/64+8)
	}
	i := 0
	for _, k := range ids {
		j, found := slices.BinarySearchFunc(s[i:], k, func(e E, k string) int { return strings.Compare(id(&e), k) })
		out = append(out, s[i:i+j]...)
		i += j
		var old *E
		if found {
			old = &s[i]
			i++
		}
		out = remake(out, k, old)
	}
	if out = append(out, s[i:]...); len(out) == 0 {
		return nil // as a view made afresh has it
	}
	return out
}

// sortedSet is ids sorted, without repeats.
func sortedSet(ids []string) []string { return slices.Compact(slices.Sorted(slices.Values(ids))) }

// keysDiffer yields the keys whose values differ between a and b (missing in one of them
// included).
func keysDiffer[V comparable](a, b map[string]V) iter.Seq[string] {
	return func(yield func(string) bool) {
		for k, v := range a {
			if w, ok := b[k]; (!ok || w != v) && !yield(k) {
				return
			}
		}
		for k := range b {
			if _, ok := a[k]; !ok && !yield(k) {
				return
			}
		}
	}
}
