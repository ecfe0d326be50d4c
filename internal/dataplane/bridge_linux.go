package dataplane

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The datapath's bridge table: every frame an instance sends passes these chains before it
// is switched anywhere, and every frame to an instance before it leaves for its port. They
// are the same for every ENI: what differs lives in sets and maps keyed by the ENI's number
// (dpENIElems), so that an ENI comes, changes and goes by elements, in O(1).
//
//	from        the frame's port names its ENI (ifsrc → mark bits 0-15; none: dropped);
//	            its source MAC is the ENI's; only IPv4, ARP and IPv6; no DHCP server replies
//	from_arp    sender MAC and address are the ENI's
//	from_ip4    the source is the ENI's (source/dest check on)
//	from_ip6    no RA, redirect, MLD query or DHCPv6 server reply; neighbour discovery
//	            and MLD go through nd; the only link-local source is the ENI's own (EUI-64
//	            of its MAC); :: only for DAD, RS and MLD reports; other sources are the
//	            ENI's (source/dest check on)
//	nd          at most ndRate ND/MLD packets a second per ENI; NA, NS and RS checked by
//	nd_na       the target of an NA is the ENI's, its link-layer option the ENI's MAC
//	nd_ns       an NS's source link-layer option is the ENI's MAC; a DAD probe (from ::)
//	            is for one of the ENI's addresses
//	nd_rs       an RS's source link-layer option is the ENI's MAC
//	own6        returns when the ICMPv6 target address is the ENI's (drops otherwise)
//	to          the port names the destination ENI (ifdst → skb priority, n<<16; none:
//	            dropped); only frames for its MAC (or multicast); the destination check
//	            (source/dest check on): to_ip4, to_ip6
//
// The destination travels in the packet's priority, not in mark bits 16-31: nftables sets
// a register from a map, but cannot OR two registers; the security group table joins the
// two in the connection's ct mark (dpBase).

// The bridge table's sets and maps.
const (
	dpSrcMap  = "ifsrc"  // host end name → n
	dpDstMap  = "ifdst"  // host end name → n<<16
	dpMACSet  = "mac"    // n . MAC, n<<16 . MAC
	dpIP4Set  = "ip4"    // n . source, n<<16 . destination
	dpIP6Set  = "ip6"    //
	dpPfx4Set = "pfx4"   // the same, delegated prefixes (intervals)
	dpPfx6Set = "pfx6"   //
	dpNoSDC   = "nosdc"  // n, n<<16 of ENIs whose source/dest check is off
	dpNDMeter = "ndrate" // n → its ND/MLD rate
)

// Registers: 1 (16 bytes) and the 4-byte registers from 8 (8 is 1's first 4 bytes), in
// which a concatenation's fields follow each other.
const (
	reg1  = 1
	reg9  = 9
	mark8 = 8 // where the ENI's number goes before a field in reg9
)

// dpBridgeSets are the bridge table's sets and maps, empty.
func dpBridgeSets() []*nftSet {
	concat := func(t nftables.SetDatatype) nftables.SetDatatype {
		ct, _ := nftables.ConcatSetType(nftables.TypeMark, t)
		return ct
	}
	return []*nftSet{
		{set: nftables.Set{Name: dpSrcMap, IsMap: true, KeyType: nftables.TypeIFName, DataType: nftables.TypeMark}},
		{set: nftables.Set{Name: dpDstMap, IsMap: true, KeyType: nftables.TypeIFName, DataType: nftables.TypeMark}},
		{set: nftables.Set{Name: dpMACSet, Concatenation: true, KeyType: concat(nftables.TypeEtherAddr)}},
		{set: nftables.Set{Name: dpIP4Set, Concatenation: true, KeyType: concat(nftables.TypeIPAddr)}},
		{set: nftables.Set{Name: dpIP6Set, Concatenation: true, KeyType: concat(nftables.TypeIP6Addr)}},
		{set: nftables.Set{Name: dpPfx4Set, Concatenation: true, Interval: true, KeyType: concat(nftables.TypeIPAddr)}},
		{set: nftables.Set{Name: dpPfx6Set, Concatenation: true, Interval: true, KeyType: concat(nftables.TypeIP6Addr)}},
		{set: nftables.Set{Name: dpNoSDC, KeyType: nftables.TypeMark}},
		{set: nftables.Set{Name: dpNDMeter, KeyType: nftables.TypeMark, Dynamic: true, HasTimeout: true, Timeout: time.Minute, Size: 65535}},
	}
}

// dpBridge builds the bridge table: its sets, base and shared chains.
func dpBridge(prefix string, subnets []*subnetInfo) *nftTable {
	br := &nftTable{name: prefix, family: nftables.TableFamilyBridge, sets: dpBridgeSets()}
	br.chain(&nftChain{name: dpBaseMarker(dpBaseKey(prefix, subnets))})
	pre := br.chain(&nftChain{name: "pre", hook: nftables.ChainHookPrerouting,
		prio: nftables.ChainPriorityRef(-200), typ: nftables.ChainTypeFilter})
	fwd := br.chain(&nftChain{name: "forward", hook: nftables.ChainHookForward,
		prio: nftables.ChainPriorityRef(-200), typ: nftables.ChainTypeFilter})
	for _, k := range eniHostKinds {
		pre.add(meta(expr.MetaKeyIIFNAME), cmpEq([]byte(prefix+string(k))), jump("from")) // a prefix match
	}
	bridgePatchResets(pre, prefix)
	// Nothing reaches or leaves the datapath namespace's own stack: the bridges are
	// switches, not hosts an instance could talk to.
	for _, hook := range []*nftables.ChainHook{nftables.ChainHookInput, nftables.ChainHookOutput} {
		br.chain(&nftChain{name: fmt.Sprint("local", *hook), hook: hook,
			prio: nftables.ChainPriorityRef(-200), typ: nftables.ChainTypeFilter}).add(&expr.Counter{}, verdict(expr.VerdictDrop))
	}
	// The destination ENI is decided anew on each bridge a frame leaves, by its port
	// there: a frame leaving through a patch to another bridge of its subnet is in
	// transit, its destination is decided on the bridge it goes to (segments_linux.go).
	fwd.add(&expr.Immediate{Register: reg1, Data: native32(0)}, prioritySet())
	for _, k := range []byte{kindPatchHub, kindPatchSeg} {
		fwd.add(meta(expr.MetaKeyOIFNAME), cmpEq([]byte(prefix+string(k))), // a prefix match
			&expr.Immediate{Register: reg1, Data: native32(markTransit << 16)}, prioritySet())
	}
	for _, k := range eniHostKinds {
		fwd.add(meta(expr.MetaKeyOIFNAME), cmpEq([]byte(prefix+string(k))), jump("to"))
	}
	// The router's leg gets no unicast frame for another MAC (one the bridge floods
	// because it does not know where that MAC is, e.g. an ENI between two owners): the
	// router would drop it, but its connection would be tracked as one with the router.
	for _, s := range subnets {
		fwd.add(cat([]expr.Any{meta(expr.MetaKeyOIFNAME), cmpEq(ifnameKey(s.legDP))}, otherUnicast(deterministicMAC(s.ID)),
			[]expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)})...)
	}
	bridgeFrom(br)
	bridgeFrom6(br)
	bridgeND(br)
	bridgeTo(br)
	return br
}

// bridgePatchResets marks (markPatchReset) a TCP reset that comes from another bridge of
// its subnet (through a patch, segments_linux.go); the inet chains let it through if
// conntrack finds it invalid (patchResets). A connection's packets are tracked on each
// bridge they cross, in one entry (the subnet's zone). A reset that is its connection's
// first reply (a closed port's) makes conntrack delete the entry on the first bridge it
// crosses (nf_conntrack_proto_tcp: "only reply is a RST"), so that on the next one it
// belongs to no connection, and was dropped as invalid: a closed port across bridges
// looked filtered, not refused. It passed the first bridge's checks as its connection's
// (a reset belonging to no connection is invalid there too, and dropped); this bridge's
// table still checks its destination (bridgeTo). (The bridge table cannot read conntrack
// without bridge conntrack; the inet chains cannot tell the bridge's port it came in by.)
func bridgePatchResets(pre *nftChain, prefix string) {
	for _, k := range []byte{kindPatchHub, kindPatchSeg} {
		pre.add(cat([]expr.Any{meta(expr.MetaKeyIIFNAME), cmpEq([]byte(prefix + string(k)))}, // a prefix match
			tcpReset(), []expr.Any{meta(expr.MetaKeyMARK), &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
				Mask: native32(^uint32(markPatchReset)), Xor: native32(markPatchReset)}, markSet(), &expr.Counter{}})...)
	}
}

// bridgeFrom: from, from_arp, from_ip4.
func bridgeFrom(br *nftTable) {
	from, arp, f4 := br.chain(&nftChain{name: "from"}), br.chain(&nftChain{name: "from_arp"}), br.chain(&nftChain{name: "from_ip4"})
	drop := []expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)}
	// An ENI's port carries nothing while its elements are not in the table (before they
	// are loaded, after they are removed): a connection opened through such a port would
	// be tracked as one with the VPC router (source 0).
	from.add(meta(expr.MetaKeyIIFNAME), lookupMap(dpSrcMap), markSet())
	from.add(cat([]expr.Any{meta(expr.MetaKeyMARK), cmpEq(native32(0))}, drop)...)
	from.add(cat(markAnd(expr.MetaKeyMARK, expr.PayloadBaseLLHeader, 6, 6), []expr.Any{notIn(dpMACSet)}, drop)...)
	// Multicast listeners' reports and router solicitations are no one's business (the
	// bridges do no multicast snooping, VPCs route no multicast, no instance may be a
	// router): dropped as they come in, not flooded to every port of the subnet to be
	// dropped there, each port's copy through the forward chain (a launch of n in a
	// subnet sent n² copies there: 5 % of a launch's CPU at 5,000, perf).
	for _, t := range []byte{icmp6MLDReport, icmp6MLDDone, icmp6MLDv2, icmp6RS} {
		from.add(append(icmp6Type(t), drop...)...)
	}
	// Only IPv4, ARP and IPv6 frames (no VLAN tags, no other protocols).
	from.add(cat([]expr.Any{load(expr.PayloadBaseLLHeader, 12, 2), cmpNeq(binaryutil.BigEndian.PutUint16(ethIPv4)),
		cmpNeq(binaryutil.BigEndian.PutUint16(ethARP)), cmpNeq(binaryutil.BigEndian.PutUint16(ethIPv6))}, drop)...)
	from.add(append(etherType(ethARP), jump(arp.name))...)
	// No DHCP server replies from instances (the VPC is the only DHCP server).
	from.add(cat(etherType(ethIPv4), udpPorts(67, 68), drop)...)
	from.add(append(etherType(ethIPv4), jump(f4.name))...)
	from.add(append(etherType(ethIPv6), jump("from_ip6"))...)
	// ARP: sender hardware address (offset 8) and sender address (offset 14) are the ENI's.
	arp.add(cat(markAnd(expr.MetaKeyMARK, expr.PayloadBaseNetworkHeader, 8, 6), []expr.Any{notIn(dpMACSet)}, drop)...)
	for _, set := range []string{dpIP4Set, dpPfx4Set} {
		arp.add(append(markAnd(expr.MetaKeyMARK, expr.PayloadBaseNetworkHeader, 14, 4), in(set), verdict(expr.VerdictReturn))...)
	}
	arp.add(drop...)
	f4.add(meta(expr.MetaKeyMARK), in(dpNoSDC, reg1), verdict(expr.VerdictReturn))
	for _, set := range []string{dpIP4Set, dpPfx4Set} {
		f4.add(append(markAnd(expr.MetaKeyMARK, expr.PayloadBaseNetworkHeader, 12, 4), in(set), verdict(expr.VerdictReturn))...)
	}
	f4.add(drop...)
}

// bridgeFrom6: from_ip6. Link-local and unspecified sources are checked whatever the
// source/dest check: nothing is ever routed from them.
func bridgeFrom6(br *nftTable) {
	f6 := br.chain(&nftChain{name: "from_ip6"})
	drop := []expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)}
	for _, t := range []byte{icmp6MLDQuery, icmp6RA, icmp6Redirect, icmp6RouterRen} {
		f6.add(append(icmp6Type(t), drop...)...)
	}
	f6.add(cat(etherType(ethIPv6), udpPorts(547, 546), drop)...) // DHCPv6 server
	for _, t := range []byte{icmp6MLDReport, icmp6MLDDone, icmp6RS, icmp6NS, icmp6NA, icmp6MLDv2} {
		f6.add(append(icmp6Type(t), jump("nd"))...)
	}
	// The ENI's own link-local address and its others.
	f6.add(append(markAnd(expr.MetaKeyMARK, expr.PayloadBaseNetworkHeader, 8, 16), in(dpIP6Set), verdict(expr.VerdictReturn))...)
	for _, t := range []byte{icmp6MLDReport, icmp6MLDDone, icmp6RS, icmp6NS, icmp6MLDv2} {
		f6.add(cat(prefixMatch(8, hostPrefix(netip.IPv6Unspecified())), icmp6Type(t),
			[]expr.Any{verdict(expr.VerdictReturn)})...)
	}
	f6.add(append(prefixMatch(8, hostPrefix(netip.IPv6Unspecified())), drop...)...)
	f6.add(append(prefixMatch(8, netip.MustParsePrefix("fe80::/10")), drop...)...)
	f6.add(meta(expr.MetaKeyMARK), in(dpNoSDC, reg1), verdict(expr.VerdictReturn))
	f6.add(append(markAnd(expr.MetaKeyMARK, expr.PayloadBaseNetworkHeader, 8, 16), in(dpPfx6Set), verdict(expr.VerdictReturn))...)
	f6.add(drop...)
}

// bridgeND: nd and the checks of neighbour advertisements, solicitations and router
// solicitations. ND messages are never fragmented nor carry extension headers (RFC 6980),
// and carry at most the one link-layer option Linux sends (or a DAD nonce).
func bridgeND(br *nftTable) {
	nd := br.chain(&nftChain{name: "nd"})
	na, ns, rs := br.chain(&nftChain{name: "nd_na"}), br.chain(&nftChain{name: "nd_ns"}), br.chain(&nftChain{name: "nd_rs"})
	own6 := br.chain(&nftChain{name: "own6"})
	drop := []expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)}
	nd.add(meta(expr.MetaKeyMARK), &expr.Dynset{SrcRegKey: reg1, SetName: dpNDMeter, Operation: unix.NFT_DYNSET_OP_UPDATE,
		Exprs: []expr.Any{&expr.Limit{Type: expr.LimitTypePkts, Rate: ndRate, Unit: expr.LimitTimeSecond, Burst: ndBurst, Over: true}}},
		&expr.Counter{}, verdict(expr.VerdictDrop))
	for _, d := range []struct {
		t byte
		c *nftChain
	}{{icmp6NA, na}, {icmp6NS, ns}, {icmp6RS, rs}} {
		nd.add(append(icmp6Type(d.t), jump(d.c.name))...)
	}
	for _, c := range []*nftChain{na, ns, rs} {
		c.add(cat([]expr.Any{load(expr.PayloadBaseNetworkHeader, 6, 1), cmpNeq([]byte{unix.IPPROTO_ICMPV6})}, drop)...)
	}
	// An option of the ENI's MAC at off of the ICMPv6 message: its type and length 1
	// (8 bytes), then the MAC (n . MAC in the mac set).
	notOwnMAC := func(off uint32) []expr.Any {
		return cat(markAnd(expr.MetaKeyMARK, expr.PayloadBaseTransportHeader, off+2, 6), []expr.Any{notIn(dpMACSet)})
	}
	opt := func(off uint32, typ byte) []expr.Any {
		return []expr.Any{load(expr.PayloadBaseTransportHeader, off, 2), cmpEq([]byte{typ, 1})}
	}
	// NA: 24 bytes, or 32 with the ENI's MAC as target link-layer address; a target of
	// the ENI's.
	na.add(cat(icmp6Len(32), transport(24, 2), []expr.Any{cmpNeq([]byte{2, 1})}, drop)...)
	na.add(cat(icmp6Len(32), notOwnMAC(24), drop)...)
	na.add(cat(icmp6Len(24, 32), drop)...)
	na.add(jump(own6.name))
	// NS: 24 bytes, 32 with the ENI's MAC as source link-layer address or a nonce; from ::
	// (DAD) only for an address of the ENI's.
	ns.add(cat(icmp6Len(32), opt(24, 1), notOwnMAC(24), drop)...)
	ns.add(cat(icmp6Len(32), transport(24, 2), []expr.Any{cmpNeq([]byte{1, 1}), cmpNeq([]byte{14, 1})}, drop)...)
	ns.add(cat(icmp6Len(24, 32), drop)...)
	ns.add(cat(prefixMatch(8, hostPrefix(netip.IPv6Unspecified())), []expr.Any{jump(own6.name)})...)
	// RS: 8 bytes, or 16 with the ENI's MAC.
	rs.add(cat(icmp6Len(16), transport(8, 2), []expr.Any{cmpNeq([]byte{1, 1})}, drop)...)
	rs.add(cat(icmp6Len(16), notOwnMAC(8), drop)...)
	rs.add(cat(icmp6Len(8, 16), drop)...)
	// own6: the target (offset 8) is one of the ENI's addresses.
	for _, set := range []string{dpIP6Set, dpPfx6Set} {
		own6.add(append(markAnd(expr.MetaKeyMARK, expr.PayloadBaseTransportHeader, 8, 16), in(set), verdict(expr.VerdictReturn))...)
	}
	own6.add(drop...)
}

// bridgeTo: to, to_ip4, to_ip6: the destination check, then the destination ENI in the
// packet's priority.
func bridgeTo(br *nftTable) {
	to, t4, t6 := br.chain(&nftChain{name: "to"}), br.chain(&nftChain{name: "to_ip4"}), br.chain(&nftChain{name: "to_ip6"})
	drop := []expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)}
	to.add(meta(expr.MetaKeyOIFNAME), lookupMap(dpDstMap), prioritySet())
	to.add(cat([]expr.Any{meta(expr.MetaKeyPRIORITY), cmpEq(native32(0))}, drop)...) // no ENI's elements (yet)
	// Only frames for the ENI's MAC (or broadcast, multicast): one flooded to every port
	// must not open a connection towards this ENI (it would be tracked as this ENI's).
	to.add(cat([]expr.Any{load(expr.PayloadBaseLLHeader, 0, 1),
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{1}, Xor: []byte{0}}, cmpEq([]byte{0})},
		markAnd(expr.MetaKeyPRIORITY, expr.PayloadBaseLLHeader, 0, 6), []expr.Any{notIn(dpMACSet)}, drop)...)
	// Nor do those of the router's legs reach an instance (an instance's own are dropped
	// as they come in, see bridgeFrom): they would tell it nothing it may use.
	for _, t := range []byte{icmp6MLDReport, icmp6MLDDone, icmp6MLDv2, icmp6RS} {
		to.add(append(icmp6Type(t), drop...)...)
	}
	to.add(meta(expr.MetaKeyPRIORITY), in(dpNoSDC, reg1), verdict(expr.VerdictReturn))
	to.add(append(etherType(ethIPv4), jump(t4.name))...)
	to.add(append(etherType(ethIPv6), jump(t6.name))...)
	for _, set := range []string{dpIP4Set, dpPfx4Set} {
		t4.add(append(markAnd(expr.MetaKeyPRIORITY, expr.PayloadBaseNetworkHeader, 16, 4), in(set), verdict(expr.VerdictReturn))...)
	}
	t4.add(append(prefixMatch(16, netip.MustParsePrefix("224.0.0.0/4")), verdict(expr.VerdictReturn))...)
	t4.add(drop...)
	for _, set := range []string{dpIP6Set, dpPfx6Set} {
		t6.add(append(markAnd(expr.MetaKeyPRIORITY, expr.PayloadBaseNetworkHeader, 24, 16), in(set), verdict(expr.VerdictReturn))...)
	}
	t6.add(append(prefixMatch(24, netip.MustParsePrefix("ff00::/8")), verdict(expr.VerdictReturn))...)
	t6.add(append(prefixMatch(24, netip.MustParsePrefix("fe80::/10")), verdict(expr.VerdictReturn))...)
	t6.add(drop...)
}

// markAnd loads the ENI's number (meta key k: the mark, or the priority) into register 8
// and n bytes at off of base after it: a key of a concatenated set.
func markAnd(k expr.MetaKey, base expr.PayloadBase, off, n uint32) []expr.Any {
	return []expr.Any{&expr.Meta{Key: k, Register: mark8},
		&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: reg9, Base: base, Offset: off, Len: n}}
}

// in and notIn look the key in register 8 (or sreg) up in the named set; the set's id is
// filled in when the table is loaded (nftReplace).
func in(set string, sreg ...uint32) expr.Any {
	r := uint32(mark8)
	if len(sreg) > 0 {
		r = sreg[0]
	}
	return &expr.Lookup{SourceRegister: r, SetName: set}
}

func notIn(set string) expr.Any {
	return &expr.Lookup{SourceRegister: mark8, SetName: set, Invert: true}
}

// lookupMap puts the value the named map has for register 1 in register 1 (no value: the
// rule ends).
func lookupMap(set string) expr.Any {
	return &expr.Lookup{SourceRegister: reg1, SetName: set, IsDestRegSet: true, DestRegister: reg1}
}

func prioritySet() expr.Any {
	return &expr.Meta{Key: expr.MetaKeyPRIORITY, SourceRegister: true, Register: reg1}
}
