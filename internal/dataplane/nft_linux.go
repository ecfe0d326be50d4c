package dataplane

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	mdnetlink "github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// nftVersion changes whenever the shape of the generated rulesets changes, so that a new
// binary replaces rulesets written by an old one.
const nftVersion = "2"

// nftSockBuf is the netlink buffer size forced on nftables sockets: with default buffers a
// batch fails at about 30 ENIs.
const nftSockBuf = 32 << 20

// newNFT opens an nftables connection bound to the namespace fd, with large buffers.
func newNFT(fd int) (*nftables.Conn, error) {
	return nftables.New(nftables.WithNetNSFd(fd), nftables.AsLasting(),
		nftables.WithSockOptions(func(c *mdnetlink.Conn) error {
			raw, err := c.SyscallConn()
			if err != nil {
				return err
			}
			var serr error
			err = raw.Control(func(s uintptr) {
				serr = unix.SetsockoptInt(int(s), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, nftSockBuf)
				if serr == nil {
					serr = unix.SetsockoptInt(int(s), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, nftSockBuf)
				}
			})
			if err != nil {
				return err
			}
			return serr
		}))
}

// nftRule is one rule: exprs, optionally followed by a verdict map lookup on register 1.
type nftRule struct {
	exprs []expr.Any
	vmap  *nftVmap
}

type nftVmap struct {
	keyType nftables.SetDatatype
	elems   []nftVmapElem
}

type nftVmapElem struct {
	key   []byte
	chain string // jump target
}

type nftChain struct {
	name     string
	hook     *nftables.ChainHook
	prio     *nftables.ChainPriority
	typ      nftables.ChainType
	rules    []nftRule
	policyOK bool // base chains: policy accept
}

// nftTable is a table to replace as a whole.
type nftTable struct {
	name   string
	family nftables.TableFamily
	chains []*nftChain
}

func (t *nftTable) chain(c *nftChain) *nftChain { t.chains = append(t.chains, c); return c }

func (c *nftChain) add(r ...expr.Any) { c.rules = append(c.rules, nftRule{exprs: r}) }

// digest is a stable hash of the tables' content.
func nftDigest(ts ...*nftTable) string {
	h := sha256.New()
	fmt.Fprintf(h, "v%s\n", nftVersion)
	for _, t := range ts {
		fmt.Fprintf(h, "table %s %d\n", t.name, t.family)
		for _, c := range t.chains {
			fmt.Fprintf(h, "chain %s %v %v %s\n", c.name, ptrVal(c.hook), ptrVal(c.prio), c.typ)
			for _, r := range c.rules {
				h.Write([]byte("rule"))
				hashExprs(h, r.exprs)
				if r.vmap != nil {
					fmt.Fprintf(h, " vmap %s", r.vmap.keyType.Name)
					for _, e := range r.vmap.elems {
						fmt.Fprintf(h, " %x:%s", e.key, e.chain)
					}
				}
				h.Write([]byte("\n"))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func ptrVal[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func hashExprs(h hash.Hash, es []expr.Any) {
	for _, e := range es {
		fmt.Fprintf(h, " %T%+v", e, e)
	}
}

// nftMarker is the name of the empty chain that records which ruleset a table holds.
func nftMarker(digest string) string { return "v" + digest }

// nftCurrent reports whether every table exists and holds the marker chain of digest.
func nftCurrent(c *nftables.Conn, digest string, ts ...*nftTable) (bool, error) {
	fams := map[nftables.TableFamily][]*nftables.Chain{}
	for _, t := range ts {
		if _, ok := fams[t.family]; ok {
			continue
		}
		chains, err := c.ListChainsOfTableFamily(t.family)
		if err != nil {
			return false, fmt.Errorf("list nftables chains: %w", err)
		}
		fams[t.family] = chains
	}
	for _, t := range ts {
		want := len(t.chains) + 1
		n, marked := 0, false
		for _, ch := range fams[t.family] {
			if ch.Table == nil || ch.Table.Name != t.name {
				continue
			}
			n++
			if ch.Name == nftMarker(digest) {
				marked = true
			}
		}
		if !marked || n != want {
			return false, nil
		}
	}
	return true, nil
}

// nftReplace replaces the tables in one atomic batch (add, delete, re-add with content).
func nftReplace(c *nftables.Conn, digest string, ts ...*nftTable) error {
	for _, t := range ts {
		tab := &nftables.Table{Name: t.name, Family: t.family}
		c.AddTable(tab)
		c.DelTable(tab)
		c.AddTable(tab)
		c.AddChain(&nftables.Chain{Name: nftMarker(digest), Table: tab})
		for _, ch := range t.chains {
			nc := &nftables.Chain{Name: ch.name, Table: tab}
			if ch.hook != nil {
				nc.Hooknum, nc.Priority, nc.Type = ch.hook, ch.prio, ch.typ
				pol := nftables.ChainPolicyAccept
				nc.Policy = &pol
			}
			c.AddChain(nc)
		}
		for _, ch := range t.chains {
			nc := &nftables.Chain{Name: ch.name, Table: tab}
			for _, r := range ch.rules {
				es := slices.Clone(r.exprs)
				if r.vmap != nil {
					if len(r.vmap.elems) == 0 {
						continue
					}
					set := &nftables.Set{Table: tab, Anonymous: true, Constant: true, IsMap: true,
						KeyType: r.vmap.keyType, DataType: nftables.TypeVerdict}
					var elems []nftables.SetElement
					for _, e := range r.vmap.elems {
						elems = append(elems, nftables.SetElement{Key: e.key,
							VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: e.chain}})
					}
					if err := c.AddSet(set, elems); err != nil {
						return fmt.Errorf("nftables vmap: %w", err)
					}
					es = append(es, &expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID,
						IsDestRegSet: true, DestRegister: 0})
				}
				c.AddRule(&nftables.Rule{Table: tab, Chain: nc, Exprs: es})
			}
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables batch: %w", err)
	}
	return nil
}

// nftDelete deletes the tables (missing ones are fine).
func nftDelete(c *nftables.Conn, ts ...*nftTable) error {
	for _, t := range ts {
		tab := &nftables.Table{Name: t.name, Family: t.family}
		c.AddTable(tab)
		c.DelTable(tab)
	}
	return c.Flush()
}

// --- expression helpers ---

func ifnameKey(n string) []byte {
	b := make([]byte, 16)
	copy(b, n)
	return b
}

func verdict(k expr.VerdictKind) expr.Any { return &expr.Verdict{Kind: k} }

func jump(chain string) expr.Any { return &expr.Verdict{Kind: expr.VerdictJump, Chain: chain} }

func load(base expr.PayloadBase, off, n uint32) expr.Any {
	return &expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: base, Offset: off, Len: n}
}

func cmpEq(b []byte) expr.Any  { return &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b} }
func cmpNeq(b []byte) expr.Any { return &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: b} }

func meta(k expr.MetaKey) expr.Any { return &expr.Meta{Key: k, Register: 1} }

func etherType(t uint16) []expr.Any {
	return []expr.Any{load(expr.PayloadBaseLLHeader, 12, 2), cmpEq(binaryutil.BigEndian.PutUint16(t))}
}

const (
	ethIPv4 = 0x0800
	ethARP  = 0x0806
	ethIPv6 = 0x86dd
)

// prefixMatch loads len(addr) bytes at off of the network header and compares to p.
func prefixMatch(off uint32, p netip.Prefix) []expr.Any {
	a := p.Addr().AsSlice()
	n := uint32(len(a))
	if p.Bits() == 0 {
		return nil
	}
	es := []expr.Any{load(expr.PayloadBaseNetworkHeader, off, n)}
	if p.Bits() < int(n*8) {
		mask := make([]byte, n)
		for i := 0; i < p.Bits(); i++ {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		es = append(es, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: mask, Xor: make([]byte, n)})
	}
	return append(es, cmpEq(p.Masked().Addr().AsSlice()))
}

func hostPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

func cat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func markSet() expr.Any { return &expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1} }

func native32(v uint32) []byte { return binaryutil.NativeEndian.PutUint32(v) }

// --- the datapath ruleset ---

// dpTables builds the datapath's bridge table (anti-spoofing, source/dest check, marks) and
// inet table (conntrack zones, stateful security groups).
func dpTables(prefix string, subnets []*subnetInfo, enis []*eniInfo, groups map[string]Group) []*nftTable {
	br := &nftTable{name: prefix, family: nftables.TableFamilyBridge}
	pre := br.chain(&nftChain{name: "pre", hook: nftables.ChainHookPrerouting,
		prio: nftables.ChainPriorityRef(-200), typ: nftables.ChainTypeFilter})
	fwd := br.chain(&nftChain{name: "forward", hook: nftables.ChainHookForward,
		prio: nftables.ChainPriorityRef(-200), typ: nftables.ChainTypeFilter})
	preMap := &nftVmap{keyType: nftables.TypeIFName}
	fwdMap := &nftVmap{keyType: nftables.TypeIFName}
	pre.rules = append(pre.rules, nftRule{exprs: []expr.Any{meta(expr.MetaKeyIIFNAME)}, vmap: preMap})
	fwd.rules = append(fwd.rules, nftRule{exprs: []expr.Any{meta(expr.MetaKeyOIFNAME)}, vmap: fwdMap})

	sg := &nftTable{name: prefix + "sg", family: nftables.TableFamilyINet}
	raw := sg.chain(&nftChain{name: "raw", hook: nftables.ChainHookPrerouting,
		prio: nftables.ChainPriorityRaw, typ: nftables.ChainTypeFilter})
	for _, s := range subnets {
		raw.add(meta(expr.MetaKeyIIFNAME), cmpEq(ifnameKey(s.bridge)),
			&expr.Immediate{Register: 1, Data: binaryutil.NativeEndian.PutUint16(uint16(s.ordinal))},
			&expr.Ct{Key: expr.CtKeyZONE, Register: 1, SourceRegister: true})
	}
	sfwd := sg.chain(&nftChain{name: "forward", hook: nftables.ChainHookForward,
		prio: nftables.ChainPriorityFilter, typ: nftables.ChainTypeFilter})
	for _, t := range []byte{130, 131, 132, 133, 134, 135, 136, 143} { // MLD and neighbour discovery
		sfwd.add(meta(expr.MetaKeyL4PROTO), cmpEq([]byte{unix.IPPROTO_ICMPV6}),
			load(expr.PayloadBaseTransportHeader, 0, 1), cmpEq([]byte{t}), verdict(expr.VerdictAccept))
	}
	ctState := func(bits uint32, v expr.VerdictKind) {
		sfwd.add(&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(bits), Xor: native32(0)},
			cmpNeq(native32(0)), verdict(v))
	}
	ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED, expr.VerdictAccept)
	ctState(expr.CtStateBitINVALID, expr.VerdictDrop)
	outMap := &nftVmap{keyType: nftables.TypeMark}
	inMap := &nftVmap{keyType: nftables.TypeMark}
	markMasked := func(mask uint32) []expr.Any {
		return []expr.Any{meta(expr.MetaKeyMARK),
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(mask), Xor: native32(0)}}
	}
	sfwd.rules = append(sfwd.rules, nftRule{exprs: markMasked(0xffff), vmap: outMap},
		nftRule{exprs: markMasked(0xffff0000), vmap: inMap})

	for _, e := range enis {
		n := e.mark
		id := fmt.Sprint(n)
		preMap.elems = append(preMap.elems, nftVmapElem{ifnameKey(e.host), "from_" + id})
		fwdMap.elems = append(fwdMap.elems, nftVmapElem{ifnameKey(e.host), "to_" + id})
		mac, _ := parseMAC(e.mac) // validated in plan

		// from<N>: anti-spoofing, then mark the source ENI in bits 0-15.
		from := br.chain(&nftChain{name: "from_" + id})
		from.add(load(expr.PayloadBaseLLHeader, 6, 6), cmpNeq(mac), &expr.Counter{}, verdict(expr.VerdictDrop))
		fromARP := br.chain(&nftChain{name: "from_arp_" + id})
		from.add(append(etherType(ethARP), jump(fromARP.name))...)
		for _, a := range e.ips {
			fromARP.add(load(expr.PayloadBaseNetworkHeader, 14, 4), cmpEq(a.AsSlice()), verdict(expr.VerdictReturn))
		}
		fromARP.add(&expr.Counter{}, verdict(expr.VerdictDrop))
		if e.SourceDestCheck {
			f4 := br.chain(&nftChain{name: "from_ip4_" + id})
			from.add(append(etherType(ethIPv4), jump(f4.name))...)
			for _, a := range e.ips {
				f4.add(append(prefixMatch(12, hostPrefix(a)), verdict(expr.VerdictReturn))...)
			}
			f4.add(&expr.Counter{}, verdict(expr.VerdictDrop))
			f6 := br.chain(&nftChain{name: "from_ip6_" + id})
			from.add(append(etherType(ethIPv6), jump(f6.name))...)
			f6.add(append(prefixMatch(8, hostPrefix(netip.IPv6Unspecified())), verdict(expr.VerdictReturn))...)
			f6.add(append(prefixMatch(8, netip.MustParsePrefix("fe80::/64")), verdict(expr.VerdictReturn))...)
			for _, a := range e.ips6 {
				f6.add(append(prefixMatch(8, hostPrefix(a)), verdict(expr.VerdictReturn))...)
			}
			f6.add(&expr.Counter{}, verdict(expr.VerdictDrop))
		}
		// Only IPv4, ARP and IPv6 frames; no router advertisements from instances.
		from.add(load(expr.PayloadBaseLLHeader, 12, 2), cmpNeq(binaryutil.BigEndian.PutUint16(ethIPv4)),
			cmpNeq(binaryutil.BigEndian.PutUint16(ethARP)), cmpNeq(binaryutil.BigEndian.PutUint16(ethIPv6)),
			&expr.Counter{}, verdict(expr.VerdictDrop))
		from.add(cat(etherType(ethIPv6), []expr.Any{meta(expr.MetaKeyL4PROTO), cmpEq([]byte{unix.IPPROTO_ICMPV6}),
			load(expr.PayloadBaseTransportHeader, 0, 1), cmpEq([]byte{134}), &expr.Counter{}, verdict(expr.VerdictDrop)})...)
		from.add(&expr.Immediate{Register: 1, Data: native32(n)}, markSet())

		// to<N>: destination check, then mark the destination ENI in bits 16-31.
		to := br.chain(&nftChain{name: "to_" + id})
		if e.SourceDestCheck {
			t4 := br.chain(&nftChain{name: "to_ip4_" + id})
			to.add(append(etherType(ethIPv4), jump(t4.name))...)
			dsts := append(slices.Clone(e.ips), e.subnet.bcast, netip.AddrFrom4([4]byte{255, 255, 255, 255}))
			for _, a := range dsts {
				t4.add(append(prefixMatch(16, hostPrefix(a)), verdict(expr.VerdictReturn))...)
			}
			t4.add(append(prefixMatch(16, netip.MustParsePrefix("224.0.0.0/4")), verdict(expr.VerdictReturn))...)
			t4.add(&expr.Counter{}, verdict(expr.VerdictDrop))
			t6 := br.chain(&nftChain{name: "to_ip6_" + id})
			to.add(append(etherType(ethIPv6), jump(t6.name))...)
			for _, a := range e.ips6 {
				t6.add(append(prefixMatch(24, hostPrefix(a)), verdict(expr.VerdictReturn))...)
			}
			t6.add(append(prefixMatch(24, netip.MustParsePrefix("ff00::/8")), verdict(expr.VerdictReturn))...)
			t6.add(append(prefixMatch(24, netip.MustParsePrefix("fe80::/10")), verdict(expr.VerdictReturn))...)
			t6.add(&expr.Counter{}, verdict(expr.VerdictDrop))
		}
		to.add(meta(expr.MetaKeyMARK),
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(^(n << 16)), Xor: native32(n << 16)},
			markSet())

		// Security groups: out<N> returns when egress is allowed, in<N> accepts ingress.
		out := sg.chain(&nftChain{name: "out_" + id})
		in := sg.chain(&nftChain{name: "in_" + id})
		outMap.elems = append(outMap.elems, nftVmapElem{native32(n), out.name})
		inMap.elems = append(inMap.elems, nftVmapElem{native32(n << 16), in.name})
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
	return []*nftTable{br, sg}
}

// sgRuleExprs is one match (without verdict) per CIDR of r; ingress matches the source
// address, egress the destination. Invalid parts are skipped.
func sgRuleExprs(r Rule, ingress bool) [][]expr.Any {
	proto, err := protoNumber(r.Protocol)
	if err != nil {
		return nil
	}
	var out [][]expr.Any
	for _, c := range r.CIDRs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			continue
		}
		p = p.Masked()
		v6 := p.Addr().Is6()
		if (proto == 1 && v6) || (proto == 58 && !v6) {
			continue
		}
		nfproto, off := byte(unix.NFPROTO_IPV4), uint32(12)
		if !ingress {
			off = 16
		}
		if v6 {
			nfproto, off = unix.NFPROTO_IPV6, 8
			if !ingress {
				off = 24
			}
		}
		es := []expr.Any{meta(expr.MetaKeyNFPROTO), cmpEq([]byte{nfproto})}
		es = append(es, prefixMatch(off, p)...)
		if proto >= 0 {
			es = append(es, meta(expr.MetaKeyL4PROTO), cmpEq([]byte{byte(proto)}))
			switch proto {
			case 6, 17, 132:
				from, to := r.FromPort, r.ToPort
				if from < 0 || to < 0 || (from == 0 && to == 65535) {
					break
				}
				es = append(es, load(expr.PayloadBaseTransportHeader, 2, 2))
				if from == to {
					es = append(es, cmpEq(binaryutil.BigEndian.PutUint16(uint16(from))))
				} else {
					es = append(es,
						&expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(from))},
						&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(to))})
				}
			case 1, 58:
				if r.FromPort >= 0 {
					es = append(es, load(expr.PayloadBaseTransportHeader, 0, 1), cmpEq([]byte{byte(r.FromPort)}))
					if r.ToPort >= 0 {
						es = append(es, load(expr.PayloadBaseTransportHeader, 1, 1), cmpEq([]byte{byte(r.ToPort)}))
					}
				}
			}
		}
		out = append(out, es)
	}
	return out
}

// --- the router's NAT table ---

func natTable(prefix, uplink string, maps []PublicMapping) *nftTable {
	t := &nftTable{name: prefix + "nat", family: nftables.TableFamilyIPv4}
	pre := t.chain(&nftChain{name: "pre", hook: nftables.ChainHookPrerouting,
		prio: nftables.ChainPriorityNATDest, typ: nftables.ChainTypeNAT})
	post := t.chain(&nftChain{name: "post", hook: nftables.ChainHookPostrouting,
		prio: nftables.ChainPriorityNATSource, typ: nftables.ChainTypeNAT})
	for _, m := range maps {
		pub, err1 := netip.ParseAddr(m.Public)
		priv, err2 := netip.ParseAddr(m.Private)
		if err1 != nil || err2 != nil || !pub.Is4() || !priv.Is4() {
			continue
		}
		pre.add(load(expr.PayloadBaseNetworkHeader, 16, 4), cmpEq(pub.AsSlice()),
			&expr.Immediate{Register: 1, Data: priv.AsSlice()},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1})
		post.add(meta(expr.MetaKeyOIFNAME), cmpEq(ifnameKey(uplink)),
			load(expr.PayloadBaseNetworkHeader, 12, 4), cmpEq(priv.AsSlice()),
			&expr.Immediate{Register: 1, Data: pub.AsSlice()},
			&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1})
	}
	return t
}

// parseMAC parses a MAC address into its 6 bytes.
func parseMAC(s string) ([]byte, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return nil, fmt.Errorf("bad MAC %q", s)
	}
	b := make([]byte, 6)
	for i, p := range parts {
		v, err := hex.DecodeString(p)
		if err != nil || len(v) != 1 {
			return nil, fmt.Errorf("bad MAC %q", s)
		}
		b[i] = v[0]
	}
	return b, nil
}
