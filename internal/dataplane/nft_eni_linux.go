package dataplane

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// What one ENI adds to the datapath ruleset. Everything an instance sends passes the
// chains of its ENI in the bridge table before it is switched anywhere:
//
//	from_<N>      the frame's source MAC is the ENI's; only IPv4, ARP and IPv6; no DHCP
//	              server replies; the source ENI's number goes in mark bits 0-15
//	from_arp_<N>  ARP: sender MAC and address are the ENI's
//	from_ip4_<N>  IPv4 source is the ENI's (source/dest check on)
//	from_ip6_<N>  IPv6: no RA, redirect, MLD query or DHCPv6 server reply; neighbour
//	              discovery and MLD go through nd_<N>; the only link-local source is the
//	              ENI's own (EUI-64 of its MAC); :: only for DAD, RS and MLD reports;
//	              other sources are the ENI's (source/dest check on)
//	nd_<N>        at most ndRate ND/MLD packets a second; NA, NS and RS checked by
//	nd_na_<N>     the target of an NA is the ENI's, its link-layer option the ENI's MAC
//	nd_ns_<N>     an NS's source link-layer option is the ENI's MAC; a DAD probe (from ::)
//	              is for one of the ENI's addresses
//	nd_rs_<N>     an RS's source link-layer option is the ENI's MAC
//	own6_<N>      returns when the ICMPv6 target address is the ENI's (drops otherwise)
//	to_<N>        only frames for the ENI's MAC (or multicast); destination check
//	              (source/dest check on); mark bits 16-31
//
// and in the inet table the stateful security groups, which also hold connections to
// the ENIs that made them (see dpBase and sgEstablished):
//
//	out_<N>       egress: established packets of this ENI's connections, new ones
//	              within the groups' egress rules and connPerENI tracked connections
//	in_<N>        ingress: established packets of this ENI's connections, new ones
//	              within the groups' ingress rules

const (
	// ndRate and ndBurst bound the neighbour discovery and MLD packets an ENI may send
	// (per second), so that one instance cannot flood the subnet's neighbour caches.
	ndRate  = 100
	ndBurst = 200
	// connPerENI bounds the connections an ENI has open through the datapath's
	// connection tracking, so that one instance cannot fill the table all ENIs share.
	connPerENI = 16384
)

// ICMPv6 types.
const (
	icmp6MLDQuery  = 130
	icmp6MLDReport = 131
	icmp6MLDDone   = 132
	icmp6RS        = 133
	icmp6RA        = 134
	icmp6NS        = 135
	icmp6NA        = 136
	icmp6Redirect  = 137
	icmp6RouterRen = 138
	icmp6MLDv2     = 143
)

// dpENIPart is what one ENI adds to the datapath ruleset.
type dpENIPart struct {
	br, sg             []*nftChain // its chains, the marker first in br
	pre, fwd, out, in_ []nftVmapElem
}

// dpENIChainNames are the names of an ENI's chains (the same set whatever its spec, so that
// a change only flushes and refills them).
func dpENIChainNames(mark uint32) (br, sg []string) {
	id := fmt.Sprint(mark)
	return []string{"from_" + id, "from_arp_" + id, "from_ip4_" + id, "from_ip6_" + id, "nd_" + id,
			"nd_na_" + id, "nd_ns_" + id, "nd_rs_" + id, "own6_" + id, "to_" + id, "to_ip4_" + id, "to_ip6_" + id},
		[]string{"out_" + id, "in_" + id}
}

// eniChains are an ENI's chains by role.
type eniChains struct {
	from, arp, ip4, ip6, nd, na, ns, rs, own6, to, to4, to6, out, in *nftChain
}

// dpENI builds an ENI's chains and map elements.
func dpENI(e *eniInfo, groups map[string]Group, key uint64) *dpENIPart {
	n := e.mark
	brNames, sgNames := dpENIChainNames(n)
	part := &dpENIPart{}
	part.br = append(part.br, &nftChain{name: dpENIMarker(n, key, e.ID)})
	var all []*nftChain
	for _, name := range append(slices.Clone(brNames), sgNames...) {
		all = append(all, &nftChain{name: name})
	}
	part.br = append(part.br, all[:len(brNames)]...)
	part.sg = all[len(brNames):]
	ch := eniChains{from: all[0], arp: all[1], ip4: all[2], ip6: all[3], nd: all[4], na: all[5], ns: all[6],
		rs: all[7], own6: all[8], to: all[9], to4: all[10], to6: all[11], out: all[12], in: all[13]}
	for _, h := range []string{e.host, e.host2} {
		if h == "" {
			continue
		}
		part.pre = append(part.pre, nftVmapElem{key: ifnameKey(h), chain: ch.from.name})
		part.fwd = append(part.fwd, nftVmapElem{key: ifnameKey(h), chain: ch.to.name})
	}
	part.out = []nftVmapElem{{key: native32(n), chain: ch.out.name}}
	part.in_ = []nftVmapElem{{key: native32(n << 16), chain: ch.in.name}}
	mac, _ := parseMAC(e.mac) // validated in plan

	eniFrom(e, mac, ch)
	eniFrom6(e, mac, ch)
	eniND(e, mac, ch)
	eniTo(e, ch)
	eniGroups(e, groups, ch)
	return part
}

// eniFrom: from_<N>, from_arp_<N>, from_ip4_<N>.
func eniFrom(e *eniInfo, mac []byte, ch eniChains) {
	from, fromARP, f4 := ch.from, ch.arp, ch.ip4
	from.add(load(expr.PayloadBaseLLHeader, 6, 6), cmpNeq(mac), &expr.Counter{}, verdict(expr.VerdictDrop))
	// Only IPv4, ARP and IPv6 frames (no VLAN tags, no other protocols).
	from.add(load(expr.PayloadBaseLLHeader, 12, 2), cmpNeq(binaryutil.BigEndian.PutUint16(ethIPv4)),
		cmpNeq(binaryutil.BigEndian.PutUint16(ethARP)), cmpNeq(binaryutil.BigEndian.PutUint16(ethIPv6)),
		&expr.Counter{}, verdict(expr.VerdictDrop))
	from.add(append(etherType(ethARP), jump(fromARP.name))...)
	// ARP: sender hardware address (offset 8) and sender address (offset 14) are the ENI's.
	fromARP.add(load(expr.PayloadBaseNetworkHeader, 8, 6), cmpNeq(mac), &expr.Counter{}, verdict(expr.VerdictDrop))
	for _, a := range e.ips {
		fromARP.add(load(expr.PayloadBaseNetworkHeader, 14, 4), cmpEq(a.AsSlice()), verdict(expr.VerdictReturn))
	}
	for _, p := range e.pfx4 {
		fromARP.add(append(prefixMatch(14, p), verdict(expr.VerdictReturn))...)
	}
	fromARP.add(&expr.Counter{}, verdict(expr.VerdictDrop))
	// No DHCP server replies from instances (the VPC is the only DHCP server).
	from.add(cat(etherType(ethIPv4), udpPorts(67, 68), []expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)})...)
	if e.SourceDestCheck {
		from.add(append(etherType(ethIPv4), jump(f4.name))...)
		for _, a := range e.ips {
			f4.add(append(prefixMatch(12, hostPrefix(a)), verdict(expr.VerdictReturn))...)
		}
		for _, p := range e.pfx4 {
			f4.add(append(prefixMatch(12, p), verdict(expr.VerdictReturn))...)
		}
		f4.add(&expr.Counter{}, verdict(expr.VerdictDrop))
	}
	from.add(append(etherType(ethIPv6), jump(ch.ip6.name))...)
	from.add(&expr.Immediate{Register: 1, Data: native32(e.mark)}, markSet())
}

// eniFrom6: from_ip6_<N>. Link-local and unspecified sources are checked whatever the
// source/dest check: nothing is ever routed from them.
func eniFrom6(e *eniInfo, mac []byte, ch eniChains) {
	f6 := ch.ip6
	for _, t := range []byte{icmp6MLDQuery, icmp6RA, icmp6Redirect, icmp6RouterRen} {
		f6.add(append(icmp6Type(t), &expr.Counter{}, verdict(expr.VerdictDrop))...)
	}
	f6.add(cat(etherType(ethIPv6), udpPorts(547, 546), []expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)})...) // DHCPv6 server
	for _, t := range []byte{icmp6MLDReport, icmp6MLDDone, icmp6RS, icmp6NS, icmp6NA, icmp6MLDv2} {
		f6.add(append(icmp6Type(t), jump(ch.nd.name))...)
	}
	f6.add(append(prefixMatch(8, hostPrefix(linkLocal(mac))), verdict(expr.VerdictReturn))...)
	for _, t := range []byte{icmp6MLDReport, icmp6MLDDone, icmp6RS, icmp6NS, icmp6MLDv2} {
		f6.add(cat(prefixMatch(8, hostPrefix(netip.IPv6Unspecified())), icmp6Type(t),
			[]expr.Any{verdict(expr.VerdictReturn)})...)
	}
	f6.add(append(prefixMatch(8, hostPrefix(netip.IPv6Unspecified())), &expr.Counter{}, verdict(expr.VerdictDrop))...)
	f6.add(append(prefixMatch(8, netip.MustParsePrefix("fe80::/10")), &expr.Counter{}, verdict(expr.VerdictDrop))...)
	if !e.SourceDestCheck {
		return
	}
	for _, a := range e.ips6 {
		f6.add(append(prefixMatch(8, hostPrefix(a)), verdict(expr.VerdictReturn))...)
	}
	for _, p := range e.pfx6 {
		f6.add(append(prefixMatch(8, p), verdict(expr.VerdictReturn))...)
	}
	f6.add(&expr.Counter{}, verdict(expr.VerdictDrop))
}

// eniND: nd_<N> and the checks of neighbour advertisements, solicitations and router
// solicitations. ND messages are never fragmented nor carry extension headers (RFC 6980),
// and carry at most the one link-layer option Linux sends (or a DAD nonce).
func eniND(e *eniInfo, mac []byte, ch eniChains) {
	ch.nd.add(&expr.Limit{Type: expr.LimitTypePkts, Rate: ndRate, Unit: expr.LimitTimeSecond, Burst: ndBurst, Over: true},
		&expr.Counter{}, verdict(expr.VerdictDrop))
	for _, d := range []struct {
		t byte
		c *nftChain
	}{{icmp6NA, ch.na}, {icmp6NS, ch.ns}, {icmp6RS, ch.rs}} {
		ch.nd.add(append(icmp6Type(d.t), jump(d.c.name))...)
	}
	lla := func(typ byte) []byte { return append([]byte{typ, 1}, mac...) }
	drop := []expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)}
	ret := []expr.Any{verdict(expr.VerdictReturn)}
	for _, c := range []*nftChain{ch.na, ch.ns, ch.rs} {
		c.add(load(expr.PayloadBaseNetworkHeader, 6, 1), cmpNeq([]byte{unix.IPPROTO_ICMPV6}), drop[0], drop[1])
	}
	// NA: 24 bytes, or 32 with the ENI's MAC as target link-layer address; a target of
	// the ENI's.
	ch.na.add(cat(icmp6Len(32), transport(24, 8), []expr.Any{cmpNeq(lla(2))}, drop)...)
	ch.na.add(cat(icmp6Len(24, 32), drop)...)
	ch.na.add(jump(ch.own6.name))
	// NS: 24 bytes, 32 with the ENI's MAC as source link-layer address or a nonce; from ::
	// (DAD) only for an address of the ENI's.
	ch.ns.add(cat(icmp6Len(32), transport(24, 8), []expr.Any{cmpNeq(lla(1))}, transport(24, 2),
		[]expr.Any{cmpNeq([]byte{14, 1})}, drop)...)
	ch.ns.add(cat(icmp6Len(24, 32), drop)...)
	ch.ns.add(cat(prefixMatch(8, hostPrefix(netip.IPv6Unspecified())), []expr.Any{jump(ch.own6.name)})...)
	// RS: 8 bytes, or 16 with the ENI's MAC.
	ch.rs.add(cat(icmp6Len(16), transport(8, 8), []expr.Any{cmpNeq(lla(1))}, drop)...)
	ch.rs.add(cat(icmp6Len(8, 16), drop)...)
	// own6: the target (offset 8) is one of the ENI's addresses.
	own := append([]netip.Prefix{hostPrefix(linkLocal(mac))}, e.pfx6...)
	for _, a := range e.ips6 {
		own = append(own, hostPrefix(a))
	}
	for _, p := range own {
		ch.own6.add(cat(transportPrefix(8, p), ret)...)
	}
	ch.own6.add(drop...)
}

// eniTo: to_<N>, the destination check, then the destination ENI in mark bits 16-31.
func eniTo(e *eniInfo, ch eniChains) {
	n, to, t4, t6 := e.mark, ch.to, ch.to4, ch.to6
	// Only frames for the ENI's MAC (or broadcast, multicast): one flooded to every port
	// must not open a connection towards this ENI (it would be tracked as this ENI's).
	mac, _ := parseMAC(e.mac) // validated in plan
	to.add(append(otherUnicast(mac), &expr.Counter{}, verdict(expr.VerdictDrop))...)
	if e.SourceDestCheck {
		to.add(append(etherType(ethIPv4), jump(t4.name))...)
		dsts := append(slices.Clone(e.ips), e.subnet.bcast, netip.AddrFrom4([4]byte{255, 255, 255, 255}))
		for _, a := range dsts {
			t4.add(append(prefixMatch(16, hostPrefix(a)), verdict(expr.VerdictReturn))...)
		}
		for _, p := range e.pfx4 {
			t4.add(append(prefixMatch(16, p), verdict(expr.VerdictReturn))...)
		}
		t4.add(append(prefixMatch(16, netip.MustParsePrefix("224.0.0.0/4")), verdict(expr.VerdictReturn))...)
		t4.add(&expr.Counter{}, verdict(expr.VerdictDrop))
		to.add(append(etherType(ethIPv6), jump(t6.name))...)
		for _, a := range e.ips6 {
			t6.add(append(prefixMatch(24, hostPrefix(a)), verdict(expr.VerdictReturn))...)
		}
		for _, p := range e.pfx6 {
			t6.add(append(prefixMatch(24, p), verdict(expr.VerdictReturn))...)
		}
		t6.add(append(prefixMatch(24, netip.MustParsePrefix("ff00::/8")), verdict(expr.VerdictReturn))...)
		t6.add(append(prefixMatch(24, netip.MustParsePrefix("fe80::/10")), verdict(expr.VerdictReturn))...)
		t6.add(&expr.Counter{}, verdict(expr.VerdictDrop))
	}
	to.add(meta(expr.MetaKeyMARK), // bits 16-31 replaced (a frame in transit has markTransit there)
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(0xffff), Xor: native32(n << 16)},
		markSet())
}

// eniGroups: out_<N> returns when egress is allowed, in_<N> accepts ingress. Packets of
// tracked connections pass only between the two ENIs that made the connection
// (sgEstablished); new connections are bounded per ENI.
func eniGroups(e *eniInfo, groups map[string]Group, ch eniChains) {
	n, out, in := e.mark, ch.out, ch.in
	if e.Unfiltered {
		out.add(verdict(expr.VerdictReturn))
		in.add(verdict(expr.VerdictAccept))
		return
	}
	sgEstablished(out, n, false)
	sgEstablished(in, n, true)
	out.add(cat(ctState(expr.CtStateBitNEW), []expr.Any{
		&expr.Connlimit{Count: connPerENI, Flags: 1 /* NFT_CONNLIMIT_F_INV: over the count */},
		&expr.Counter{}, verdict(expr.VerdictDrop)})...)
	for _, es := range metadataEgress() {
		out.add(es...)
	}
	for _, es := range dnsEgress(e.subnet.resolver) {
		out.add(es...)
	}
	for _, gid := range e.Groups {
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
	out.add(&expr.Counter{}, verdict(expr.VerdictDrop))
	in.add(&expr.Counter{}, verdict(expr.VerdictDrop))
}

// sgEstablished lets the packets of tracked connections pass the chain of ENI n (out_ or
// in_) only when n is the end of the connection the packet comes from (out) or goes to
// (in). A connection's ct mark holds the packet mark of its first packet: the source ENI
// in bits 0-15, the destination ENI in bits 16-31 (0: the VPC router). So a packet an
// instance forges to plant a connection for another ENI (a spoofed link-local source,
// or any source with the source/dest check off) lets nothing through to that ENI.
func sgEstablished(c *nftChain, n uint32, ingress bool) {
	src := struct {
		mask uint32
		want []byte
	}{0xffff, native32(n)} // n began the connection
	dst := struct {
		mask uint32
		want []byte
	}{0xffff0000, native32(n << 16)} // n was its destination
	ok := verdict(expr.VerdictReturn)
	// out_: n sends an original-direction packet of a connection it began, or a reply
	// of one it was the destination of; in_: the other way round.
	origin, reply := src, dst
	if ingress {
		ok = verdict(expr.VerdictAccept)
		origin, reply = dst, src
	}
	for dir, m := range []struct {
		mask uint32
		want []byte
	}{origin, reply} {
		c.add(cat(ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), []expr.Any{
			&expr.Ct{Key: expr.CtKeyDIRECTION, Register: 1}, cmpEq([]byte{byte(dir)}),
			&expr.Ct{Key: expr.CtKeyMARK, Register: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(m.mask), Xor: native32(0)},
			cmpEq(m.want), ok})...)
	}
	c.add(cat(ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED),
		[]expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)})...)
}

// --- expression helpers ---

// ctState matches packets whose connection state has one of bits.
func ctState(bits uint32) []expr.Any {
	return []expr.Any{&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(bits), Xor: native32(0)},
		cmpNeq(native32(0))}
}

// icmp6Type matches ICMPv6 messages of type t (in the bridge table: meta nfproto is
// the bridge's there, so the frame's ethertype says IPv6).
func icmp6Type(t byte) []expr.Any {
	return []expr.Any{load(expr.PayloadBaseLLHeader, 12, 2), cmpEq(binaryutil.BigEndian.PutUint16(ethIPv6)),
		meta(expr.MetaKeyL4PROTO), cmpEq([]byte{unix.IPPROTO_ICMPV6}),
		load(expr.PayloadBaseTransportHeader, 0, 1), cmpEq([]byte{t})}
}

// udpPorts matches UDP datagrams from port src to port dst.
func udpPorts(src, dst uint16) []expr.Any {
	return []expr.Any{meta(expr.MetaKeyL4PROTO), cmpEq([]byte{unix.IPPROTO_UDP}),
		load(expr.PayloadBaseTransportHeader, 0, 4),
		cmpEq(append(binaryutil.BigEndian.PutUint16(src), binaryutil.BigEndian.PutUint16(dst)...))}
}

// icmp6Len matches IPv6 packets whose payload length is one of ls (one value: equal;
// several: none of them, to drop the others).
func icmp6Len(ls ...uint16) []expr.Any {
	es := []expr.Any{load(expr.PayloadBaseNetworkHeader, 4, 2)}
	if len(ls) == 1 {
		return append(es, cmpEq(binaryutil.BigEndian.PutUint16(ls[0])))
	}
	for _, l := range ls {
		es = append(es, cmpNeq(binaryutil.BigEndian.PutUint16(l)))
	}
	return es
}

// transport loads n bytes at off of the transport header.
func transport(off, n uint32) []expr.Any {
	return []expr.Any{load(expr.PayloadBaseTransportHeader, off, n)}
}

// transportPrefix matches the IPv6 address at off of the transport header against p.
func transportPrefix(off uint32, p netip.Prefix) []expr.Any {
	es := prefixMatch(off, p)
	es[0].(*expr.Payload).Base = expr.PayloadBaseTransportHeader
	return es
}

// linkLocal is the EUI-64 link-local address of mac, the one the kernel gives an ENI.
func linkLocal(mac []byte) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10], a[11] = mac[0]^2, mac[1], mac[2], 0xff
	a[12], a[13], a[14], a[15] = 0xfe, mac[3], mac[4], mac[5]
	return netip.AddrFrom16(a)
}
