package dataplane

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// What one ENI adds to the datapath ruleset. In the bridge table, no rule: elements of the
// sets and maps that the shared chains (dpBridge, bridge_linux.go) look up, keyed by the
// ENI's number (its mark n for what it sends, n<<16 for what it receives):
//
//	ifsrc, ifdst  its host ends' names → n, n<<16
//	mac           n . its MAC, n<<16 . its MAC
//	ip4, ip6      n . each source it may use, n<<16 . each destination it may receive
//	              (its addresses; IPv6: its link-local address as a source; IPv4: the
//	              subnet's broadcast and 255.255.255.255 as destinations)
//	pfx4, pfx6    the same for its delegated prefixes (intervals)
//	nosdc         n and n<<16 when its source/dest check is off
//
// so that adding, changing or removing an ENI adds and removes elements, which the kernel
// does without validating the table (a rule added makes it walk every chain). And in the
// inet tables of the stateful security groups, which also hold connections to the ENIs
// that made them (see dpBase and sgPins), elements too:
//
//	eniout, enin  (in the shard of its profile) n → its profile P, n<<16 → P: the
//	              profile's chains o<P> and i<P> hold its groups' rules
//	              (sgprofile_linux.go)
//	pins          four elements (pinElems): the established packets of its connections
//	unbound       n, when its profile is unfiltered: no bound on its connections

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
	marker string // its marker chain (bridge table)
	elems  []dpElem
}

// dpElem is an element of one of the datapath's sets or maps: of the bridge table, or of
// the inet table named prefix+table (the groups table "sg", a shard "g<k>").
type dpElem struct {
	table       string // "": the bridge table
	set         string
	key, keyEnd []byte // keyEnd: intervals
	data        []byte // maps
}

func (e dpElem) String() string {
	return fmt.Sprintf("%s %s %x-%x:%x", e.table, e.set, e.key, e.keyEnd, e.data)
}

// dpENI builds an ENI's marker and elements (e.prof set).
func dpENI(e *eniInfo, key uint64) *dpENIPart {
	return &dpENIPart{marker: dpENIMarker(e.mark, key, e.ID), elems: dpENIElems(e)}
}

// dpENIElems are the elements of e (see above; e.prof set).
func dpENIElems(e *eniInfo) []dpElem {
	src, dst := native32(e.mark), native32(e.mark<<16)
	mac, _ := parseMAC(e.mac) // validated in plan
	var es []dpElem
	add := func(set string, ms [][]byte, a []byte) {
		for _, m := range ms {
			es = append(es, dpElem{set: set, key: cat8(m, a)})
		}
	}
	both := [][]byte{src, dst}
	for _, h := range e.hostNames() {
		if h != "" {
			es = append(es, dpElem{set: dpSrcMap, key: ifnameKey(h), data: src}, dpElem{set: dpDstMap, key: ifnameKey(h), data: dst})
		}
	}
	add(dpMACSet, both, mac)
	for _, a := range e.ips {
		add(dpIP4Set, both, a.AsSlice())
	}
	for _, a := range []netip.Addr{e.subnet.bcast, netip.AddrFrom4([4]byte{255, 255, 255, 255})} {
		if !slices.Contains(e.ips, a) {
			add(dpIP4Set, [][]byte{dst}, a.AsSlice())
		}
	}
	add(dpIP6Set, [][]byte{src}, linkLocal(mac).AsSlice())
	for _, a := range e.ips6 {
		add(dpIP6Set, both, a.AsSlice())
	}
	for _, p := range append(slices.Clone(e.pfx4), e.pfx6...) {
		set := dpPfx4Set
		if p.Addr().Is6() {
			set = dpPfx6Set
		}
		first, last := prefixRange(p)
		for _, m := range both {
			es = append(es, dpElem{set: set, key: cat8(m, first), keyEnd: cat8(m, last)})
		}
	}
	if !e.SourceDestCheck {
		es = append(es, dpElem{set: dpNoSDC, key: src}, dpElem{set: dpNoSDC, key: dst})
	}
	return append(es, dpProfElems(e)...)
}

// dpProfElems are the elements that give e its profile's chains (sgprofile_linux.go), and
// take it out of the connection bound when its profile is unfiltered (sgConnLimit).
func dpProfElems(e *eniInfo) []dpElem {
	sh, num := sgShardSuffix(e.prof.num), native32(e.prof.num)
	es := []dpElem{{table: sh, set: dpENIOut, key: native32(e.mark), data: num},
		{table: sh, set: dpENIIn, key: native32(e.mark << 16), data: num}}
	if e.prof.unfiltered {
		es = append(es, dpElem{table: dpGroupsSuffix, set: dpUnbound, key: native32(e.mark)})
	}
	return es
}

// cat8 is a concatenated key: m, then a padded to a multiple of 4 bytes (as registers
// hold the fields of a concatenation).
func cat8(m, a []byte) []byte {
	out := append(slices.Clone(m), a...)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}

// prefixRange is the first and the last address of p.
func prefixRange(p netip.Prefix) (first, last []byte) {
	p = p.Masked()
	first = p.Addr().AsSlice()
	last = slices.Clone(first)
	for i := p.Bits(); i < len(last)*8; i++ {
		last[i/8] |= 0x80 >> (i % 8)
	}
	return first, last
}

// egressTailName is the name of the egress tail of the ENIs whose VPC resolver is
// resolver (in every shard).
func egressTailName(resolver netip.Addr) string {
	if !resolver.IsValid() {
		return "egress"
	}
	return "egress_" + hex.EncodeToString(resolver.AsSlice())
}

// egressTail is what an ENI may reach whatever its groups, as on AWS: the metadata
// service and its VPC's resolver (returns); then the drop of everything its groups did
// not let out. Every filtered profile's o<P> ends with a goto to the tail of its VPC, so
// that these rules are not in each profile's chain.
func egressTail(resolver netip.Addr) *nftChain {
	c := &nftChain{name: egressTailName(resolver)}
	for _, es := range metadataEgress() {
		c.add(es...)
	}
	for _, es := range dnsEgress(resolver) {
		c.add(es...)
	}
	c.add(&expr.Counter{}, verdict(expr.VerdictDrop))
	return c
}

// The pins: a packet of a tracked connection passes the datapath only between the two
// ENIs that made the connection. A connection's ct mark holds the packet mark of its
// first packet: the source ENI in bits 0-15, the destination ENI in bits 16-31 (0: the VPC
// router). So a packet an instance forges to plant a connection for another ENI (a
// spoofed link-local source, or any source with the source/dest check off) lets nothing
// through to that ENI. nftables cannot compare two registers, so the groups table looks
// (part of the ct mark . the packet's ENI) up in a set of the pairs that agree, four per
// ENI n (pinElems): as the connection's source (n . n), as its destination (n<<16 . n<<16),
// and each as the packet's other end (n<<16 . n: n sends a reply of a connection it was
// the destination of; n . n<<16: n receives a reply of one it began). A number and a
// number shifted by 16 never collide (n < 0xffff), so one set holds them all. This was
// three rules in each of an ENI's two chains; one set shared by all is O(1) per ENI.
const dpPins = "pins"

func dpPinsSet() *nftSet {
	return &nftSet{set: nftables.Set{Name: dpPins, Concatenation: true,
		KeyType: nftables.MustConcatSetType(nftables.TypeMark, nftables.TypeMark)}}
}

// pinElems are the pins of ENI n.
func pinElems(n uint32) []nftables.SetElement {
	pair := func(a, b uint32) nftables.SetElement {
		return nftables.SetElement{Key: append(native32(a), native32(b)...)}
	}
	return []nftables.SetElement{pair(n, n), pair(n<<16, n<<16), pair(n<<16, n), pair(n, n<<16)}
}

// sgPins drops a tracked connection's packet that does not travel between its two ENIs:
// its source ENI (the packet's mark, when an ENI sent it) must be the connection's source
// in the original direction and its destination in the reply direction; its destination
// ENI (the packet's priority, when it goes to an ENI: not 0, the router, nor markTransit,
// a frame bound for another bridge of its subnet, which checks it there) the other way
// round.
func sgPins(sfwd *nftChain) {
	for _, c := range []struct {
		dir    byte
		key    expr.MetaKey
		ctMask uint32
	}{
		{0, expr.MetaKeyMARK, 0xffff},         // n sends: it began the connection
		{1, expr.MetaKeyMARK, 0xffff0000},     // n sends a reply: it was the destination
		{0, expr.MetaKeyPRIORITY, 0xffff0000}, // n receives: it is the destination
		{1, expr.MetaKeyPRIORITY, 0xffff},     // n receives a reply: it began the connection
	} {
		eni := []expr.Any{&expr.Meta{Key: c.key, Register: reg9}}
		if c.key == expr.MetaKeyMARK { // as the shards look it up
			eni = append(eni, &expr.Bitwise{SourceRegister: reg9, DestRegister: reg9, Len: 4, Mask: native32(0xffff), Xor: native32(0)})
		} else {
			eni = append(eni, &expr.Cmp{Op: expr.CmpOpNeq, Register: reg9, Data: native32(markTransit << 16)})
		}
		eni = append(eni, &expr.Cmp{Op: expr.CmpOpNeq, Register: reg9, Data: native32(0)})
		sfwd.add(cat(ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED),
			[]expr.Any{&expr.Ct{Key: expr.CtKeyDIRECTION, Register: reg1}, cmpEq([]byte{c.dir})}, eni,
			[]expr.Any{&expr.Ct{Key: expr.CtKeyMARK, Register: mark8},
				&expr.Bitwise{SourceRegister: mark8, DestRegister: mark8, Len: 4, Mask: native32(c.ctMask), Xor: native32(0)},
				notIn(dpPins), &expr.Counter{}, verdict(expr.VerdictDrop)})...)
	}
}

// The datapath's inet sets and maps of ENIs and profiles.
const (
	dpGroupsSuffix = "sg"      // the groups table is prefix+"sg"
	dpENIOut       = "eniout"  // shards: mark n → its profile
	dpENIIn        = "enin"    // shards: n<<16 → its profile
	dpProfOut      = "outprof" // shards: profile P → jump o<P>
	dpProfIn       = "inprof"  // shards: P → jump i<P>
	dpConnLimit    = "connlim" // groups table: n → its tracked connections (dynamic)
	dpUnbound      = "unbound" // groups table: the n whose connections are not bounded
)

// dpConnSets are the groups table's sets of the connection bound (sgConnLimit).
func dpConnSets() []*nftSet {
	return []*nftSet{
		{set: nftables.Set{Name: dpConnLimit, KeyType: nftables.TypeMark, Dynamic: true, Size: 65535}},
		{set: nftables.Set{Name: dpUnbound, KeyType: nftables.TypeMark}},
	}
}

// sgConnLimit bounds each ENI's tracked connections (connPerENI), so that one instance
// cannot fill the table all ENIs share: a new connection an ENI begins counts in its
// element of the dynamic set connlim, keyed by its mark, and one over the bound is
// dropped. The ENIs of unfiltered profiles (a NAT gateway's, which carries every
// connection of its subnets) are in unbound and not counted.
func sgConnLimit(sfwd *nftChain) {
	sfwd.add(cat(ctState(expr.CtStateBitNEW), []expr.Any{meta(expr.MetaKeyMARK),
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: native32(0xffff), Xor: native32(0)},
		cmpNeq(native32(0)),
		&expr.Lookup{SourceRegister: reg1, SetName: dpUnbound, Invert: true},
		&expr.Dynset{SrcRegKey: reg1, SetName: dpConnLimit, Operation: 0, // add
			Exprs: []expr.Any{&expr.Connlimit{Count: connPerENI, Flags: 1 /* NFT_CONNLIMIT_F_INV: over the count */}}},
		&expr.Counter{}, verdict(expr.VerdictDrop)})...)
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

// linkLocal is the EUI-64 link-local address of mac, the one the kernel gives an ENI.
func linkLocal(mac []byte) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10], a[11] = mac[0]^2, mac[1], mac[2], 0xff
	a[12], a[13], a[14], a[15] = 0xfe, mac[3], mac[4], mac[5]
	return netip.AddrFrom16(a)
}
