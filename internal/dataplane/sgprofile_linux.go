package dataplane

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
)

// Security group profiles. The ENIs with the same groups (and VPC resolver) share one
// pair of security group chains, their profile's: o<P> (egress) and i<P> (ingress) in
// the shard of P (sgShardName(prefix, P)). What is an ENI's own is data: the shard's
// maps eniout (its mark n → P) and enin (n<<16 → P), which the shard's base chain looks
// up before the verdict maps outprof and inprof (P → jump o<P>, i<P>). So:
//
//   - an ENI comes, moves or goes by elements of data maps, which the kernel adds without
//     validating anything (an element of a verdict map that jumps, or a rule, makes it
//     validate the whole table);
//   - a group's rule change refills the chains of the profiles that hold the group,
//     whatever the number of their members;
//   - the datapath namespace holds two chains per profile instead of two per ENI, which
//     nftables' device notifier walks whenever a link registers there (every new veth
//     pair: 1.1 ms a move at 5,000 ENIs with a chain pair each).
//
// The bound of an ENI's tracked connections (connPerENI), which was a rule of its own
// chain, is a dynamic set keyed by mark in the groups table (sgConnLimit).
//
// A profile has a number, handed out by the plane and kept while an ENI uses it; the
// bridge table's empty marker chain p<P>_<id>_<key> records it with the profile's
// identity (profileID) and the spec of its rules (profileKey), so that a full pass
// compares names and a restarted plane numbers the profiles as the ruleset does
// (adoptMarks).

// profileID is the identity of e's profile: what its chains are made of but the groups'
// rules. An unfiltered ENI's chains let everything through, whatever else it has.
func profileID(e *eniInfo) uint64 {
	k := newKeyHash()
	k.bool(e.Unfiltered)
	if !e.Unfiltered {
		k.addr(e.subnet.resolver)
		k.strs(profileGroups(e.Groups))
	}
	return k.sum()
}

// profileGroups are gs sorted, each once: the chains accept what any of them does,
// whatever the order.
func profileGroups(gs []string) []string {
	i := 1
	for i < len(gs) && gs[i-1] < gs[i] {
		i++
	}
	if i >= len(gs) {
		return gs // sorted, each once
	}
	out := slices.Clone(gs)
	slices.Sort(out)
	return slices.Compact(out)
}

// profileKey is the spec of p's chains: its identity and its groups' rules.
func profileKey(p *profEntry, groups map[string]Group) uint64 {
	k := newKeyHash()
	k.u64(p.id)
	for _, gid := range p.groups {
		k.u64(groupKey(groups, gid))
	}
	return k.sum()
}

// profileChainNames are the names of profile num's chains.
func profileChainNames(num uint32) (out, in string) {
	id := strconv.FormatUint(uint64(num), 10)
	return "o" + id, "i" + id
}

// profileMarker names profile p's marker chain (bridge table) with the key of its rules.
func profileMarker(num uint32, id, key uint64) string {
	return fmt.Sprintf("p%d_%016x_%016x", num, id, key)
}

// parseProfileMarker is profileMarker's inverse; ok is false for another chain's name.
func parseProfileMarker(name string) (num uint32, id uint64, ok bool) {
	rest, found := strings.CutPrefix(name, "p")
	if !found {
		return 0, 0, false
	}
	parts := strings.Split(rest, "_")
	if len(parts) != 3 || len(parts[1]) != 16 || len(parts[2]) != 16 {
		return 0, 0, false
	}
	n, err1 := strconv.ParseUint(parts[0], 10, 32)
	v, err2 := strconv.ParseUint(parts[1], 16, 64)
	if err1 != nil || err2 != nil || n == 0 {
		return 0, 0, false
	}
	return uint32(n), v, true
}

// profileChains builds p's chains: o<P> returns when a new connection's egress is
// allowed, i<P> accepts its ingress. Packets of tracked connections never reach them: the
// groups table's pins (sgPins) decide those, and the shards accept what passed. What
// every ENI may reach whatever its groups (the metadata service, its VPC's resolver) is
// in the shard's egress tail of its VPC's resolver, which o<P> ends with.
func profileChains(p *profEntry, groups map[string]Group) (out, in *nftChain) {
	on, inn := profileChainNames(p.num)
	out, in = &nftChain{name: on}, &nftChain{name: inn}
	if p.unfiltered {
		out.add(verdict(expr.VerdictReturn))
		in.add(verdict(expr.VerdictAccept))
		return out, in
	}
	for _, gid := range p.groups {
		g := groups[gid]
		for _, r := range g.Egress {
			for _, es := range sgRuleExprs(r, false) {
				out.add(append(es, verdict(expr.VerdictReturn))...)
			}
		}
		for _, r := range g.Ingress {
			for _, es := range sgRuleExprs(r, true) {
				in.add(append(es, verdict(expr.VerdictAccept))...)
			}
		}
	}
	out.add(&expr.Verdict{Kind: expr.VerdictGoto, Chain: egressTailName(p.resolver)})
	in.add(&expr.Counter{}, verdict(expr.VerdictDrop))
	return out, in
}

// profVmapElems are p's elements of its shard's verdict maps (outprof, inprof).
func profVmapElems(num uint32) (out, in nftVmapElem) {
	on, inn := profileChainNames(num)
	return nftVmapElem{key: native32(num), chain: on}, nftVmapElem{key: native32(num), chain: inn}
}

// profile is e's profile, made (numbered, its rules' key computed) when the plane has
// none with its identity.
func (c *planeCache) profile(e *eniInfo, groups map[string]Group) *profEntry {
	id := profileID(e)
	for ; c.profs[id] != nil; id++ { // another group set with the same hash: the next id
		if p := c.profs[id]; p.holds(e) {
			return p
		}
	}
	p := &profEntry{id: id, num: c.profNum(id), unfiltered: e.Unfiltered}
	if !e.Unfiltered {
		p.groups, p.resolver = slices.Clone(profileGroups(e.Groups)), e.subnet.resolver
	}
	p.key = profileKey(p, groups)
	c.profs[id] = p
	return p
}

// holds reports whether p is e's profile (its identity, not only its hash).
func (p *profEntry) holds(e *eniInfo) bool {
	if p.unfiltered || e.Unfiltered {
		return p.unfiltered == e.Unfiltered
	}
	return p.resolver == e.subnet.resolver && slices.Equal(p.groups, profileGroups(e.Groups))
}

// profNum hands out a profile's number: the one the ruleset a former plane left gave it
// (adoptMarks), else a freed one, else a new one.
func (c *planeCache) profNum(id uint64) uint32 {
	if n, ok := c.adoptedProfs[id]; ok {
		delete(c.adoptedProfs, id)
		return n
	}
	if k := len(c.freeProfs); k > 0 {
		n := c.freeProfs[k-1]
		c.freeProfs = c.freeProfs[:k-1]
		return n
	}
	c.nextProf++
	return c.nextProf
}

// dropProfile forgets p (no ENI uses it, and its chains are not in the ruleset).
func (c *planeCache) dropProfile(p *profEntry) {
	if c.profs[p.id] == p {
		delete(c.profs, p.id)
		c.freeProfs = append(c.freeProfs, p.num)
	}
}

// rekeyProfiles computes again the key of the profiles that hold a group of changed
// (every profile when changed is nil): their rules may differ.
func (c *planeCache) rekeyProfiles(changed map[string]bool, groups map[string]Group) {
	for _, p := range c.profs {
		if changed == nil || slices.ContainsFunc(p.groups, func(g string) bool { return changed[g] }) {
			p.key = profileKey(p, groups)
		}
	}
}

// profChanges is what a pass changes of the profiles in the ruleset.
type profChanges struct {
	add, refill, gone []*profEntry
}

func (pc profChanges) empty() bool { return len(pc.add)+len(pc.refill)+len(pc.gone) == 0 }

// profPlan is what the profiles' references become (refs: by how much each changes) and
// what that asks of the ruleset: the profiles no ENI used that one will, those no ENI will
// use any more, and those whose rules changed.
func (c *planeCache) profPlan(refs map[*profEntry]int, rekeyed bool) profChanges {
	var pc profChanges
	for p, dv := range refs {
		switch n := p.refs + dv; {
		case n > 0 && !p.loaded:
			pc.add = append(pc.add, p)
		case n <= 0 && p.loaded:
			pc.gone = append(pc.gone, p)
		}
	}
	if rekeyed {
		for _, p := range c.profs {
			if p.loaded && p.key != p.loadedKey && p.refs+refs[p] > 0 {
				pc.refill = append(pc.refill, p)
			}
		}
	}
	byNum := func(a, b *profEntry) int { return int(a.num) - int(b.num) }
	slices.SortFunc(pc.add, byNum)
	slices.SortFunc(pc.gone, byNum)
	slices.SortFunc(pc.refill, byNum)
	return pc
}

// profApplied records that pc and refs are in the ruleset; the profiles no ENI uses
// and whose chains are not there are forgotten.
func (c *planeCache) profApplied(pc profChanges, refs map[*profEntry]int) {
	for p, dv := range refs {
		p.refs += dv
	}
	for _, p := range append(pc.add, pc.refill...) {
		p.loaded, p.loadedKey = true, p.key
	}
	for _, p := range pc.gone {
		p.loaded = false
	}
	for p := range refs {
		if p.refs <= 0 && !p.loaded {
			c.dropProfile(p)
		}
	}
}

// profWhole records that the ruleset holds the profiles of enis' entries, and only
// those: the others are forgotten.
func (c *planeCache) profWhole(entries map[string]nftEntry) {
	for _, p := range c.profs {
		p.refs, p.loaded = 0, false
	}
	for _, en := range entries {
		en.prof.refs++
		en.prof.loaded, en.prof.loadedKey = true, en.prof.key
	}
	for _, p := range c.profs {
		if p.refs == 0 {
			c.dropProfile(p)
		}
	}
	clear(c.adoptedProfs)
}

// regroup realises a Desired that differs from the last clean pass's only in its
// security groups (the caller compared the rest), when nobody changed the plane's rulesets since: a group's rules are
// the datapath ruleset's business alone, so the chains of the profiles that hold the
// changed groups are refilled in one batch and nothing else is looked at (a pass would
// walk every ENI and instance to find that nothing else changed). ok is false when it
// does not apply, or its batch failed (nothing of it is left): the caller makes a pass.
func (p *Plane) regroup(d *Desired) (st Status, ok bool) {
	c := p.cache
	if c.memo == nil || c.dp == nil || c.nftBase == 0 {
		return Status{}, false
	}
	gen, ok := p.rulesetsAsLeft(d)
	if !ok {
		return Status{}, false
	}
	groups := make(map[string]Group, len(d.Groups))
	for _, g := range d.Groups {
		groups[g.ID] = g
	}
	c.rekeyProfiles(groupsChanged(c.memo.Groups, d.Groups), groups)
	pc := c.profPlan(nil, true)
	if !pc.empty() {
		conn, err := c.dp.nft()
		if err != nil {
			return Status{}, false
		}
		if err := dpApply(conn, p.prefix, nil, nil, nil, nil, nil, pc, groups); err != nil {
			c.dp.nftKeep(false)
			p.dpGen.Store(0) // the generation may have moved: the next pass checks it all
			return Status{}, false
		}
		p.dpGen.Store(uint64(gen+1) + 1)
		p.stampLater() // once the passes pause (writeStamp)
		c.profApplied(pc, nil)
	}
	m := *c.memo // the rest is shared: equal
	m.Groups = cloneGroups(d.Groups)
	c.memo = &m
	p.lastDelta = true
	return Status{Instances: c.memoStatus.Instances, ENIs: c.memoStatus.ENIs, Changes: len(pc.refill)}, true
}
