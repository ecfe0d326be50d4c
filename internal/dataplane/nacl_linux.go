package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Network ACLs are enforced in the VPC router, the only place every packet that enters or
// leaves a subnet passes (traffic within a subnet stays on its bridge and is not filtered,
// as on AWS). The router namespace holds a table "<prefix>acl" (inet) whose forward chain
// sends a packet that came in on subnet S's leg to S's outbound chain (o_<S>) and one that
// leaves on S's leg to S's inbound chain (i_<S>): an entry that allows returns (so that a
// packet between two subnets meets both ACLs), one that denies drops, and a packet that
// matches no entry is dropped (the "*" rule). Nothing is stateful: no conntrack state is
// consulted, so a change applies to the next packet of every flow. What is addressed to the
// router itself (the metadata service, the VPC's DNS, its own ICMP) is never forwarded and
// so never meets an ACL, as on AWS.
// Fragments are matched whole: connection tracking (which the table's own ct expression
// turns on in the router namespace) reassembles them before the forward hook, so a port
// cannot hide in a second fragment (TestAttackNetworkACLBypass).
//
// A rule change rewrites the two chains of the subnets whose ACL changed, and the empty
// marker chain k_<S>_<key> that names their spec, in one atomic batch; a change of the set
// of subnets, a new router namespace or a table someone else changed (the namespace's
// nftables generation is not the one the plane's last change left) reloads the table whole.

// aclState is what the plane last wrote into a router's ACL table.
type aclState struct {
	nsGen uint64            // the router namespace handle's generation
	gen   uint32            // the namespace's nftables generation after the write
	base  uint64            // spec of the base chain (the subnets and their legs)
	subs  map[string]uint64 // subnet id → spec of its ACL
}

func aclTableName(prefix string) string { return prefix + "acl" }

func aclOutChain(subnet string) string { return "o_" + subnet }
func aclInChain(subnet string) string  { return "i_" + subnet }
func aclMarker(subnet string, key uint64) string {
	return fmt.Sprintf("k_%s_%016x", subnet, key)
}

// ensureACLs realises the network ACLs of every VPC whose router is up in this pass.
func (r *reconciler) ensureACLs() {
	if r.c.acls == nil {
		r.c.acls = map[string]aclState{}
	}
	seen := map[string]bool{}
	for _, v := range r.vpcs {
		if c := r.routers[v.ID]; c != nil {
			seen[v.ID] = true
			r.ensureACL(v, c)
		}
	}
	for id := range r.c.acls {
		if !seen[id] {
			delete(r.c.acls, id)
		}
	}
}

// aclSubnets are the subnets of v that have an ACL and a leg, in v's order.
func (r *reconciler) aclSubnets(v VPC) []*subnetInfo {
	var out []*subnetInfo
	for _, s := range v.Subnets {
		if si := r.subnets[s.ID]; si != nil && si.ACL != nil {
			out = append(out, si)
		}
	}
	return out
}

func aclBaseKey(uplink string, subs []*subnetInfo, public6 []string) uint64 {
	k := newKeyHash()
	k.str(nftVersion)
	k.str(uplink)
	for _, s := range subs {
		k.str(s.ID)
		k.str(s.legRT)
	}
	for _, l := range public6 {
		k.str(l)
	}
	return k.sum()
}

// publicIPv6Legs are the router legs of v's subnets whose IPv6 goes to an internet
// gateway (Subnet.PublicIPv6): the internet may start connections to them.
func (r *reconciler) publicIPv6Legs(v VPC) []string {
	var out []string
	for _, s := range v.Subnets {
		if si := r.subnets[s.ID]; si != nil && si.PublicIPv6 && si.prefix6.IsValid() {
			out = append(out, si.legRT)
		}
	}
	return out
}

// aclKey is the spec of an ACL's entries.
func aclKey(a *NetworkACL) uint64 {
	k := newKeyHash()
	for _, es := range [][]ACLEntry{a.Inbound, a.Outbound} {
		k.int(len(es))
		for _, e := range es {
			k.int(e.RuleNumber)
			k.str(e.Protocol)
			k.bool(e.Allow)
			k.str(e.CIDR)
			k.int(e.FromPort)
			k.int(e.ToPort)
			k.int(e.ICMPType)
			k.int(e.ICMPCode)
		}
	}
	return k.sum()
}

// ensureACL brings one router's ACL table to what v's subnets ask for.
func (r *reconciler) ensureACL(v VPC, c *nsCtx) {
	subs := r.aclSubnets(v)
	uplink := ifName(r.p.prefix, kindUplink, v.ID)
	public6 := r.publicIPv6Legs(v)
	base := aclBaseKey(uplink, subs, public6)
	keys := make(map[string]uint64, len(subs))
	for _, s := range subs {
		keys[s.ID] = aclKey(s.ACL)
	}
	st, ok := r.c.acls[v.ID]
	delete(r.c.acls, v.ID)
	gen, err := c.nftGen()
	if err != nil {
		r.fail(fmt.Errorf("%s: network ACLs: %w", c.name, err))
		return
	}
	conn, err := c.nft()
	if err != nil {
		r.fail(fmt.Errorf("%s: nftables: %w", c.name, err))
		return
	}
	defer c.nftDone(r, r.nerr)
	changed := true
	if ok && st.nsGen == c.gen && st.gen == gen && st.base == base {
		changed, err = aclApply(conn, r.p.prefix, subs, keys, st.subs)
	} else {
		err = nftReplace(conn, "", aclTable(r.p.prefix, uplink, subs, keys, public6))
	}
	if err != nil {
		r.fail(fmt.Errorf("%s: network ACLs: %w", c.name, err))
		return
	}
	if !changed {
		r.c.acls[v.ID] = st
		return
	}
	r.changes++
	after, err := c.nftGen()
	if err != nil {
		r.fail(fmt.Errorf("%s: network ACLs: %w", c.name, err))
		return
	}
	// The plane's own change: the router's tables are still the plane's (drift_linux.go).
	if ent, ok := r.c.routers[v.ID]; ok && ent.gen == gen {
		ent.gen = after
		r.c.routers[v.ID] = ent
		r.p.routerGens.Store(c.name, uint64(after)+1)
	}
	r.c.acls[v.ID] = aclState{nsGen: c.gen, gen: after, base: base, subs: keys}
}

// aclTable is the whole ACL table of a router. Its forward chain also keeps the
// egress-only internet gateways' promise (eigw_linux.go): IPv6 from the uplink passes only
// as a reply, except to the subnets whose IPv6 goes to an internet gateway (their legs,
// public6), which the internet may reach as on AWS.
func aclTable(prefix, uplink string, subs []*subnetInfo, keys map[string]uint64, public6 []string) *nftTable {
	t := &nftTable{name: aclTableName(prefix), family: nftables.TableFamilyINet}
	fwd := t.chain(&nftChain{name: "forward", hook: nftables.ChainHookForward,
		prio: nftables.ChainPriorityRef(-10), typ: nftables.ChainTypeFilter})
	stateful := []expr.Any{meta(expr.MetaKeyIIFNAME), cmpEq(ifnameKey(uplink)), meta(expr.MetaKeyNFPROTO), cmpEq([]byte{unix.NFPROTO_IPV6})}
	for _, leg := range public6 {
		stateful = append(stateful, meta(expr.MetaKeyOIFNAME), cmpNeq(ifnameKey(leg)))
	}
	fwd.add(append(stateful,
		&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: native32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: native32(0)},
		cmpEq(native32(0)), &expr.Counter{}, verdict(expr.VerdictDrop))...)
	for _, s := range subs {
		fwd.add(meta(expr.MetaKeyIIFNAME), cmpEq(ifnameKey(s.legRT)), jump(aclOutChain(s.ID)))
		fwd.add(meta(expr.MetaKeyOIFNAME), cmpEq(ifnameKey(s.legRT)), jump(aclInChain(s.ID)))
	}
	for _, s := range subs {
		t.chains = append(t.chains, aclChains(s, keys[s.ID])...)
	}
	return t
}

// aclChains are a subnet's marker, outbound and inbound chains.
func aclChains(s *subnetInfo, key uint64) []*nftChain {
	out := &nftChain{name: aclOutChain(s.ID)}
	in := &nftChain{name: aclInChain(s.ID)}
	for _, d := range []struct {
		ch      *nftChain
		entries []ACLEntry
		inbound bool
	}{{out, s.ACL.Outbound, false}, {in, s.ACL.Inbound, true}} {
		for _, e := range aclOrdered(d.entries) {
			es, ok := aclEntryExprs(e, d.inbound)
			if !ok {
				continue
			}
			if e.Allow {
				es = append(es, verdict(expr.VerdictReturn))
			} else {
				es = append(es, &expr.Counter{}, verdict(expr.VerdictDrop))
			}
			d.ch.add(es...)
		}
		d.ch.add(&expr.Counter{}, verdict(expr.VerdictDrop)) // the "*" rule
	}
	return []*nftChain{{name: aclMarker(s.ID, key)}, out, in}
}

// aclOrdered sorts entries by rule number (lowest first).
func aclOrdered(es []ACLEntry) []ACLEntry {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b ACLEntry) int { return a.RuleNumber - b.RuleNumber })
	return out
}

// aclEntryExprs is the match of one entry: its block against the source (inbound) or the
// destination (outbound), its protocol, the destination port range of TCP and UDP, the
// type and code of ICMP and ICMPv6. An entry that cannot be parsed matches nothing.
func aclEntryExprs(e ACLEntry, inbound bool) ([]expr.Any, bool) {
	p, err := netip.ParsePrefix(e.CIDR)
	if err != nil {
		return nil, false
	}
	proto, err := protoNumber(e.Protocol)
	if err != nil {
		return nil, false
	}
	p = p.Masked()
	nfproto, off := byte(unix.NFPROTO_IPV4), uint32(16)
	if inbound {
		off = 12
	}
	if p.Addr().Is6() {
		nfproto, off = unix.NFPROTO_IPV6, 24
		if inbound {
			off = 8
		}
	}
	es := append([]expr.Any{meta(expr.MetaKeyNFPROTO), cmpEq([]byte{nfproto})}, prefixMatch(off, p)...)
	if proto < 0 {
		return es, true
	}
	es = append(es, meta(expr.MetaKeyL4PROTO), cmpEq([]byte{byte(proto)}))
	switch proto {
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP:
		from, to := e.FromPort, e.ToPort
		if from < 0 || to < 0 || (from == 0 && to == 65535) {
			break
		}
		es = append(es, load(expr.PayloadBaseTransportHeader, 2, 2),
			&expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(from))},
			&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(to))})
	case unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6:
		if e.ICMPType >= 0 {
			es = append(es, load(expr.PayloadBaseTransportHeader, 0, 1), cmpEq([]byte{byte(e.ICMPType)}))
			if e.ICMPCode >= 0 {
				es = append(es, load(expr.PayloadBaseTransportHeader, 1, 1), cmpEq([]byte{byte(e.ICMPCode)}))
			}
		}
	}
	return es, true
}

// aclApply rewrites, in one atomic batch, the chains of the subnets whose spec differs
// from old (the set of subnets is the same). It reports whether it changed anything.
func aclApply(c *nftables.Conn, prefix string, subs []*subnetInfo, keys, old map[string]uint64) (bool, error) {
	tab := &nftables.Table{Name: aclTableName(prefix), Family: nftables.TableFamilyINet}
	n := 0
	for _, s := range subs {
		if keys[s.ID] == old[s.ID] {
			continue
		}
		n++
		chs := aclChains(s, keys[s.ID])
		c.DelChain(&nftables.Chain{Name: aclMarker(s.ID, old[s.ID]), Table: tab})
		c.AddChain(&nftables.Chain{Name: chs[0].name, Table: tab})
		for _, ch := range chs[1:] {
			nc := &nftables.Chain{Name: ch.name, Table: tab}
			c.FlushChain(nc)
			for _, r := range ch.rules {
				c.AddRule(&nftables.Rule{Table: tab, Chain: nc, Exprs: r.exprs})
			}
		}
	}
	if n == 0 {
		return false, nil
	}
	if err := c.Flush(); err != nil {
		return false, errors.Join(errors.New("nftables batch"), err)
	}
	return true, nil
}
