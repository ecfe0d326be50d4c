package dataplane

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	mdnetlink "github.com/mdlayher/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nftVersion changes whenever the shape of the generated rulesets changes, so that a new
// binary replaces rulesets written by an old one.
const nftVersion = "19"

// nftSockBuf is the netlink buffer size forced on nftables sockets: with default buffers a
// batch fails at about 30 ENIs.
const nftSockBuf = 256 << 20

// nftChunk is how many set elements go in one netlink message. A message's element list is
// one netlink attribute, whose length has 16 bits, and google/nftables does not split it:
// a longer list wraps the length, and the kernel silently takes only the elements in its
// first 64 KiB (at 1,000 ENIs the datapath's interface maps, 2,000 elements each, kept
// 829 and 907: ENIs at random passed nothing). So every element list goes through addSet
// and addElems.
const nftChunk = 256

// addSet queues the creation of s with elems, nftChunk elements per message.
func addSet(c *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	first := elems[:min(len(elems), nftChunk)]
	if err := c.AddSet(s, first); err != nil {
		return err
	}
	return addElems(c, s, elems[len(first):])
}

// addElems and delElems queue elems' addition to (removal from) s, nftChunk per message
// (none when there are none).
func addElems(c *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	return inChunks(elems, func(es []nftables.SetElement) error { return c.SetAddElements(s, es) })
}

func delElems(c *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	return inChunks(elems, func(es []nftables.SetElement) error { return c.SetDeleteElements(s, es) })
}

func inChunks(elems []nftables.SetElement, queue func([]nftables.SetElement) error) error {
	for len(elems) > 0 {
		n := min(len(elems), nftChunk)
		if err := queue(elems[:n]); err != nil {
			return err
		}
		elems = elems[n:]
	}
	return nil
}

// newNFT opens an nftables connection bound to the namespace fd, with large buffers. Its
// socket is made in the namespace by doInNS, not by the netlink package's namespace option
// (see dialNetfilter).
func newNFT(fd int) (*nftables.Conn, error) {
	var c *nftables.Conn
	err := doInNS(netns.NsHandle(fd), func() error {
		var err error
		c, err = newNFTHere()
		return err
	})
	if err == nil && c == nil {
		err = errors.New("nftables: no connection made")
	}
	return c, err
}

// newNFTHere opens a lasting nftables connection in the thread's namespace.
func newNFTHere() (*nftables.Conn, error) {
	return nftables.New(nftables.AsLasting(),
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

// nftRule is one rule: exprs, optionally followed by a verdict map lookup on register 1
// (an anonymous map, or the table's named map mapName).
type nftRule struct {
	exprs   []expr.Any
	vmap    *nftVmap
	mapName string
}

// nftMap is a named verdict map of a table.
type nftMap struct {
	name    string
	keyType nftables.SetDatatype
	elems   []nftVmapElem
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
	maps   []*nftMap
	sets   []*nftSet
}

// nftSet is a named set (or map) of a table, any kind: set is its template (without its
// table). Rules look it up by name (expr.Lookup, expr.Dynset with SetName set).
type nftSet struct {
	set   nftables.Set
	elems []nftables.SetElement
}

// of is the set in tab.
func (s *nftSet) of(tab *nftables.Table) *nftables.Set {
	set := s.set
	set.Table = tab
	return &set
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
				if r.mapName != "" {
					fmt.Fprintf(h, " vmap @%s", r.mapName)
				}
				h.Write([]byte("\n"))
			}
		}
		for _, m := range t.maps {
			fmt.Fprintf(h, "map %s %s", m.name, m.keyType.Name)
			for _, e := range m.elems {
				fmt.Fprintf(h, " %x:%s", e.key, e.chain)
			}
			h.Write([]byte("\n"))
		}
		for _, st := range t.sets {
			fmt.Fprintf(h, "set %+v", st.set)
			for _, e := range st.elems {
				fmt.Fprintf(h, " %x-%x:%x", e.Key, e.KeyEnd, e.Val)
			}
			h.Write([]byte("\n"))
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
		if digest != "" {
			c.AddChain(&nftables.Chain{Name: nftMarker(digest), Table: tab})
		}
		for _, ch := range t.chains {
			nc := &nftables.Chain{Name: ch.name, Table: tab}
			if ch.hook != nil {
				nc.Hooknum, nc.Priority, nc.Type = ch.hook, ch.prio, ch.typ
				pol := nftables.ChainPolicyAccept
				nc.Policy = &pol
			}
			c.AddChain(nc)
		}
		named := map[string]*nftables.Set{}
		for _, m := range t.maps {
			set := nftMapSet(tab, m)
			if err := addSet(c, set, nftElems(m.elems)); err != nil {
				return fmt.Errorf("nftables map %s: %w", m.name, err)
			}
			named[m.name] = set
		}
		for _, st := range t.sets {
			set := st.of(tab)
			if err := addSet(c, set, st.elems); err != nil {
				return fmt.Errorf("nftables set %s: %w", set.Name, err)
			}
			named[set.Name] = set
		}
		for _, ch := range t.chains {
			nc := &nftables.Chain{Name: ch.name, Table: tab}
			for _, r := range ch.rules {
				es, err := withSetIDs(r.exprs, named)
				if err != nil {
					return err
				}
				if r.mapName != "" {
					set := named[r.mapName]
					if set == nil {
						return fmt.Errorf("nftables: no map %s", r.mapName)
					}
					es = append(es, &expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID,
						IsDestRegSet: true, DestRegister: 0})
				}
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
					if err := addSet(c, set, elems); err != nil {
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

// withSetIDs is a copy of es whose lookups of named sets carry the sets' ids (as in the
// batch that makes them).
func withSetIDs(es []expr.Any, named map[string]*nftables.Set) ([]expr.Any, error) {
	out := slices.Clone(es)
	id := func(name string) (uint32, error) {
		if set := named[name]; set != nil {
			return set.ID, nil
		}
		return 0, fmt.Errorf("nftables: no set %s", name)
	}
	var err error
	for i, e := range out {
		switch x := e.(type) {
		case *expr.Lookup:
			if x.SetName != "" {
				l := *x
				l.SetID, err = id(x.SetName)
				out[i] = &l
			}
		case *expr.Dynset:
			d := *x
			d.SetID, err = id(x.SetName)
			out[i] = &d
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func nftMapSet(tab *nftables.Table, m *nftMap) *nftables.Set {
	return &nftables.Set{Table: tab, Name: m.name, IsMap: true, KeyType: m.keyType, DataType: nftables.TypeVerdict}
}

func nftElems(es []nftVmapElem) []nftables.SetElement {
	out := make([]nftables.SetElement, 0, len(es))
	for _, e := range es {
		out = append(out, nftables.SetElement{Key: e.key, VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: e.chain}})
	}
	return out
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

// otherUnicast matches frames to a unicast MAC other than mac.
func otherUnicast(mac []byte) []expr.Any {
	return []expr.Any{load(expr.PayloadBaseLLHeader, 0, 1),
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{1}, Xor: []byte{0}}, cmpEq([]byte{0}),
		load(expr.PayloadBaseLLHeader, 0, 6), cmpNeq(mac)}
}

// --- the datapath ruleset ---

// The datapath ruleset: a bridge table (anti-spoofing, source/dest check, the ENIs a frame
// is between: bridge_linux.go) and an inet table (conntrack zones, stateful security
// groups). The bridge table's chains are shared, and look up sets keyed by ENI; so do the
// inet tables' base chains (mark → the ENI's profile → the profile's security group
// chains, sgprofile_linux.go).
// So an ENI is added, changed or removed in a small batch of its own (dpApply) instead of
// a reload of the whole ruleset. Which spec each part was built from is recorded in the
// names of empty marker chains in the bridge table: "v<base key>", per ENI
// "k<mark>_<key>_<eni>" and per profile "p<num>_<id>_<key>"; a full pass compares the
// chain names.
const dpZoneMap = "zones" // inet: iifname (a subnet's bridges) → its conntrack zone

// markTransit<<16 in a packet's priority says the frame leaves its bridge for another
// bridge of its subnet (segments_linux.go), not for its destination: the bridge it goes
// to sets it. No ENI has it as its mark.
const markTransit = 0xffff

func dpBaseMarker(key uint64) string { return fmt.Sprintf("v%016x", key) }

// dpENIMarker names an ENI's marker chain: its mark, the spec of its part, and its id,
// so that a restarted plane finds which mark each ENI had (adoptMarks).
func dpENIMarker(mark uint32, key uint64, eni string) string {
	return fmt.Sprintf("k%d_%016x_%s", mark, key, eni)
}

// parseENIMarker is dpENIMarker's inverse; ok is false for another chain's name.
func parseENIMarker(name string) (mark uint32, eni string, ok bool) {
	rest, found := strings.CutPrefix(name, "k")
	if !found {
		return 0, "", false
	}
	m, rest, found := strings.Cut(rest, "_")
	if !found {
		return 0, "", false
	}
	_, eni, found = strings.Cut(rest, "_")
	n, err := strconv.ParseUint(m, 10, 32)
	if !found || err != nil || n == 0 || n >= markTransit || eni == "" {
		return 0, "", false
	}
	return uint32(n), eni, true
}

// dpBaseKey is the spec of the base chains.
func dpBaseKey(prefix string, subnets []*subnetInfo) uint64 {
	var b strings.Builder
	fmt.Fprintf(&b, "v%s %s;", nftVersion, prefix)
	for _, s := range subnets {
		fmt.Fprintf(&b, "%s %d %s;", s.bridge, s.ordinal, s.resolver) // the resolver: its egress tail
	}
	return specKey(b.String())
}

// dpENIKey is the spec of an ENI's elements (e.prof set): its groups' rules are its
// profile's (profileKey).
func dpENIKey(e *eniInfo) uint64 {
	k := newKeyHash()
	k.u64(e.prof.id)
	k.u64(uint64(e.prof.num))
	k.u64(uint64(e.mark))
	k.str(e.host)
	k.str(e.host2)
	k.str(e.host3)
	k.str(e.mac)
	k.addrs(e.ips)
	k.addrs(e.ips6)
	k.prefixes(e.pfx4)
	k.prefixes(e.pfx6)
	k.bool(e.SourceDestCheck)
	k.bool(e.Unfiltered)
	k.addr(e.subnet.bcast)
	k.addr(e.subnet.resolver)
	return k.sum()
}

// groupKey is the spec of a security group's rules (a group missing from groups has its
// own key).
func groupKey(groups map[string]Group, gid string) uint64 {
	g, ok := groups[gid]
	k := newKeyHash()
	k.bool(ok)
	for _, rules := range [][]Rule{g.Ingress, g.Egress} {
		k.int(len(rules))
		for _, r := range rules {
			k.str(r.Protocol)
			k.int(r.FromPort)
			k.int(r.ToPort)
			k.strs(r.CIDRs)
		}
	}
	return k.sum()
}

// dpBase builds the two tables with their base and shared chains, empty sets and maps,
// and base marker.
func dpBase(prefix string, subnets []*subnetInfo) (br, sg *nftTable, shards []*nftTable) {
	return dpBridge(prefix, subnets), dpGroupsTable(prefix, subnets), dpShards(prefix, subnets)
}

// sgShards is how many tables the profiles' security group chains are spread over (by
// number): a rule added to a table makes the kernel validate that table, every chain its
// base chains reach, so that a group's rule change costs what its profiles' shards hold,
// a sixteenth of the host's profiles (as many as its ENIs when every ENI has groups of
// its own).
const sgShards = 16

// sgShardName is the name of the table of profile num's security group chains.
func sgShardName(prefix string, num uint32) string { return prefix + sgShardSuffix(num) }

func sgShardSuffix(num uint32) string { return fmt.Sprintf("g%x", num%sgShards) }

// dpShards are the tables of the profiles' security group chains, empty: each has a base
// chain (after the groups table's) that looks the packet's source ENI up in its eniout
// and the profile found in outprof (egress, o<P>: returns when allowed), and its
// destination in its enin and inprof (ingress, i<P>). A packet passes every shard: an
// ENI's profile is in one of them, and the packet is dropped if one drops it. Neighbour discovery and MLD pass (the groups do not apply to them), and
// so do the packets of tracked connections, which the groups table's pins let through
// only between the connection's two ENIs (sgPins). Each shard also has the egress tail of
// every VPC resolver of the host's subnets (egressTail).
func dpShards(prefix string, subnets []*subnetInfo) []*nftTable {
	var resolvers []netip.Addr
	for _, s := range subnets {
		if !slices.Contains(resolvers, s.resolver) {
			resolvers = append(resolvers, s.resolver)
		}
	}
	var out []*nftTable
	for k := range uint32(sgShards) {
		t := &nftTable{name: sgShardName(prefix, k), family: nftables.TableFamilyINet,
			maps: []*nftMap{{name: dpProfOut, keyType: nftables.TypeMark}, {name: dpProfIn, keyType: nftables.TypeMark}}}
		nd := &nftSet{set: nftables.Set{Name: "nd", KeyType: nftables.TypeICMP6Type, Constant: true}}
		for _, typ := range []byte{130, 131, 132, 133, 134, 135, 136, 143} {
			nd.elems = append(nd.elems, nftables.SetElement{Key: []byte{typ}})
		}
		t.sets = []*nftSet{nd, dpProfMap(dpENIOut), dpProfMap(dpENIIn)}
		fwd := t.chain(&nftChain{name: "forward", hook: nftables.ChainHookForward,
			prio: nftables.ChainPriorityRef(*nftables.ChainPriorityFilter + 1), typ: nftables.ChainTypeFilter})
		fwd.add(meta(expr.MetaKeyL4PROTO), cmpEq([]byte{unix.IPPROTO_ICMPV6}), load(expr.PayloadBaseTransportHeader, 0, 1),
			in("nd", reg1), verdict(expr.VerdictAccept))
		fwd.add(append(ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), verdict(expr.VerdictAccept))...)
		patchResets(fwd)
		fwd.rules = append(fwd.rules, nftRule{exprs: []expr.Any{meta(expr.MetaKeyMARK),
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(0xffff), Xor: native32(0)},
			lookupMap(dpENIOut)}, mapName: dpProfOut},
			nftRule{exprs: []expr.Any{meta(expr.MetaKeyPRIORITY), lookupMap(dpENIIn)}, mapName: dpProfIn})
		for _, a := range resolvers {
			t.chain(egressTail(a))
		}
		out = append(out, t)
	}
	return out
}

// dpProfMap is a shard's map of ENIs to their profiles (eniout, enin).
func dpProfMap(name string) *nftSet {
	return &nftSet{set: nftables.Set{Name: name, IsMap: true, KeyType: nftables.TypeMark, DataType: nftables.TypeMark}}
}

// dpGroupsTable is the inet table of conntrack zones, connections' ct marks and the
// bound of each ENI's connections (the groups' chains are in the shards, dpShards).
func dpGroupsTable(prefix string, subnets []*subnetInfo) *nftTable {
	// Each subnet's connections are tracked in a zone of their own (the ordinal of the
	// subnet), whichever of its bridges they cross: the subnet's bridge and its segments.
	zones := &nftSet{set: nftables.Set{Name: dpZoneMap, IsMap: true, KeyType: nftables.TypeIFName, DataType: nftables.TypeInteger}}
	for _, s := range subnets {
		zone := append(binaryutil.NativeEndian.PutUint16(uint16(s.ordinal)), 0, 0)
		zones.elems = append(zones.elems, nftables.SetElement{Key: ifnameKey(s.bridge), Val: zone})
		for k := 1; k <= maxSegments; k++ {
			zones.elems = append(zones.elems, nftables.SetElement{Key: ifnameKey(segBridgeName(prefix, s.ID, k)), Val: zone})
		}
	}
	sg := &nftTable{name: prefix + dpGroupsSuffix, family: nftables.TableFamilyINet,
		sets: append([]*nftSet{zones, dpPinsSet()}, dpConnSets()...)}
	raw := sg.chain(&nftChain{name: "raw", hook: nftables.ChainHookPrerouting,
		prio: nftables.ChainPriorityRaw, typ: nftables.ChainTypeFilter})
	// A frame the overlay table (overlay_linux.go) left untracked keeps out of the zones
	// (setting a zone would track it).
	raw.add(append(ctState(expr.CtStateBitUNTRACKED), verdict(expr.VerdictAccept))...)
	raw.add(meta(expr.MetaKeyIIFNAME), lookupMap(dpZoneMap), &expr.Ct{Key: expr.CtKeyZONE, Register: reg1, SourceRegister: true})
	sfwd := sg.chain(&nftChain{name: "forward", hook: nftables.ChainHookForward,
		prio: nftables.ChainPriorityFilter, typ: nftables.ChainTypeFilter})
	for _, t := range []byte{130, 131, 132, 133, 134, 135, 136, 143} { // MLD and neighbour discovery
		sfwd.add(meta(expr.MetaKeyL4PROTO), cmpEq([]byte{unix.IPPROTO_ICMPV6}),
			load(expr.PayloadBaseTransportHeader, 0, 1), cmpEq([]byte{t}), verdict(expr.VerdictAccept))
	}
	patchResets(sfwd)
	sfwd.add(append(ctState(expr.CtStateBitINVALID), verdict(expr.VerdictDrop))...)
	sgConnMark(sfwd)
	sgPins(sfwd)
	sgConnLimit(sfwd)
	return sg
}

// tcpReset matches TCP segments with the RST flag.
func tcpReset() []expr.Any {
	return []expr.Any{meta(expr.MetaKeyL4PROTO), cmpEq([]byte{unix.IPPROTO_TCP}), load(expr.PayloadBaseTransportHeader, 13, 1),
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{0x04}, Xor: []byte{0}}, cmpNeq([]byte{0})}
}

// markPatchReset in a packet's mark says the bridge table found it a TCP reset that came
// from another bridge of its subnet (bridgePatchResets). ENI marks are 16 bits: the rules
// that look a mark up take its low half.
const markPatchReset = 0x80000000

// patchResets (the inet chains) lets through the TCP resets the bridge table marked
// markPatchReset that conntrack finds invalid: their connection ended on the bridge they
// came from.
func patchResets(c *nftChain) {
	c.add(cat(ctState(expr.CtStateBitINVALID), []expr.Any{meta(expr.MetaKeyMARK),
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(markPatchReset), Xor: native32(0)}, cmpNeq(native32(0))},
		tcpReset(), []expr.Any{&expr.Counter{}, verdict(expr.VerdictAccept)})...)
}

// sgConnMark: a new connection remembers which ENIs it is between in its ct mark, the
// source (the packet's mark, n) in bits 0-15 and the destination (its priority, n<<16) in
// bits 16-31; the pins (sgPins) let its later packets through between those two only.
// nftables cannot OR two registers, but the connection's labels take an OR: the two go
// into the labels' first word one after the other, and the ct mark is set from it. A
// packet in transit to another bridge of its subnet does not know its destination yet:
// the last bridge it crosses sets the ct mark. A broadcast or multicast flow's packets go
// to many ENIs: its ct mark names only its source (its packets are never established).
func sgConnMark(sfwd *nftChain) {
	notTransit := []expr.Any{meta(expr.MetaKeyPRIORITY), cmpNeq(native32(markTransit << 16))}
	zero := &expr.Immediate{Register: reg1, Data: make([]byte, 16)}
	labelFrom := func(k expr.MetaKey) []expr.Any {
		return []expr.Any{zero, &expr.Meta{Key: k, Register: reg1}, &expr.Ct{Key: expr.CtKeyLABELS, Register: reg1, SourceRegister: true}}
	}
	sfwd.add(cat(ctState(expr.CtStateBitNEW), notTransit,
		[]expr.Any{meta(expr.MetaKeyPKTTYPE), cmpNeq([]byte{unix.PACKET_BROADCAST}), cmpNeq([]byte{unix.PACKET_MULTICAST})},
		labelFrom(expr.MetaKeyMARK), labelFrom(expr.MetaKeyPRIORITY),
		[]expr.Any{&expr.Ct{Key: expr.CtKeyLABELS, Register: reg1}, &expr.Ct{Key: expr.CtKeyMARK, Register: reg1, SourceRegister: true}})...)
	for _, t := range []byte{unix.PACKET_BROADCAST, unix.PACKET_MULTICAST} {
		sfwd.add(cat(ctState(expr.CtStateBitNEW), notTransit, []expr.Any{meta(expr.MetaKeyPKTTYPE), cmpEq([]byte{t}),
			meta(expr.MetaKeyMARK), &expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true}})...)
	}
}

// dpTables builds the whole datapath ruleset (e.mark and e.prof must be set on every ENI;
// profs are their profiles).
func dpTables(prefix string, subnets []*subnetInfo, enis []*eniInfo, keys map[*eniInfo]uint64,
	profs []*profEntry, groups map[string]Group) []*nftTable {
	br, sg, shards := dpBase(prefix, subnets)
	sets := map[string]*nftSet{} // table suffix + " " + set name
	for _, st := range br.sets {
		sets[" "+st.set.Name] = st
	}
	for _, st := range sg.sets {
		sets[dpGroupsSuffix+" "+st.set.Name] = st
	}
	for k, sh := range shards {
		for _, st := range sh.sets {
			sets[sgShardSuffix(uint32(k))+" "+st.set.Name] = st
		}
	}
	pins := sets[dpGroupsSuffix+" "+dpPins]
	for _, e := range enis {
		part := dpENI(e, keys[e])
		pins.elems = append(pins.elems, pinElems(e.mark)...)
		br.chains = append(br.chains, &nftChain{name: part.marker})
		for _, el := range part.elems {
			st := sets[el.table+" "+el.set]
			st.elems = append(st.elems, nftables.SetElement{Key: el.key, KeyEnd: el.keyEnd, Val: el.data})
		}
	}
	for _, p := range profs {
		br.chains = append(br.chains, &nftChain{name: profileMarker(p.num, p.id, p.key)})
		sh := shards[p.num%sgShards]
		out, in := profileChains(p, groups)
		sh.chains = append(sh.chains, out, in)
		vo, vi := profVmapElems(p.num)
		sh.maps[0].elems = append(sh.maps[0].elems, vo)
		sh.maps[1].elems = append(sh.maps[1].elems, vi)
	}
	return append([]*nftTable{br, sg}, shards...)
}

// dpCurrent reports whether the kernel holds exactly the tables' chains (by name: the
// markers name the specs) and their sets and maps.
func dpCurrent(c *nftables.Conn, ts ...*nftTable) (bool, error) {
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
		want := map[string]bool{}
		for _, ch := range t.chains {
			want[ch.name] = true
		}
		n := 0
		for _, ch := range fams[t.family] {
			if ch.Table == nil || ch.Table.Name != t.name {
				continue
			}
			if !want[ch.Name] {
				return false, nil
			}
			n++
		}
		if n != len(want) {
			return false, nil
		}
		// The sets and maps must exist. Their elements are not counted: google/nftables
		// reads only the first part of a long element dump (about 900 of 2,000 here). Like
		// rules edited by hand, elements deleted by hand are not detected by this (the
		// drift check sees the table's generation move: drift_linux.go).
		tab := &nftables.Table{Name: t.name, Family: t.family}
		sets, err := c.GetSets(tab)
		if err != nil {
			return false, nil // no table
		}
		have := map[string]bool{}
		for _, s := range sets {
			have[s.Name] = true
		}
		for _, m := range t.maps {
			if !have[m.name] {
				return false, nil
			}
		}
		for _, st := range t.sets {
			if !have[st.set.Name] {
				return false, nil
			}
		}
	}
	return true, nil
}

// dpGone is an ENI whose chains and elements go.
type dpGone struct {
	id    string
	mark  uint32
	key   uint64
	elems []dpElem
}

// dpChange is an ENI whose part changes: its elements before (the rest is as it will be).
type dpChange struct {
	e     *eniInfo
	elems []dpElem
}

// dpApply changes the ruleset in one atomic batch: the gone ENIs' elements and markers
// go, the changed ones' elements change and their markers are renamed, the new ones'
// come, and so do the profiles' changes (dpProfApply).
func dpApply(c *nftables.Conn, prefix string, add []*eniInfo, change []dpChange, keys map[*eniInfo]uint64,
	oldKey map[uint32]uint64, gone []dpGone, pc profChanges, groups map[string]Group) error {
	br := &nftables.Table{Name: prefix, Family: nftables.TableFamilyBridge}
	pins := dpPinsSet().of(&nftables.Table{Name: prefix + dpGroupsSuffix, Family: nftables.TableFamilyINet})
	var del, put []dpElem
	var delPins, addPins []nftables.SetElement
	for _, g := range gone {
		del = append(del, g.elems...)
		delPins = append(delPins, pinElems(g.mark)...)
		c.DelChain(&nftables.Chain{Name: dpENIMarker(g.mark, g.key, g.id), Table: br})
	}
	for _, ch := range change {
		part := dpENI(ch.e, keys[ch.e])
		c.DelChain(&nftables.Chain{Name: dpENIMarker(ch.e.mark, oldKey[ch.e.mark], ch.e.ID), Table: br})
		c.AddChain(&nftables.Chain{Name: part.marker, Table: br})
		gone, came := elemDiff(ch.elems, part.elems)
		del, put = append(del, gone...), append(put, came...)
	}
	for _, e := range add {
		part := dpENI(e, keys[e])
		c.AddChain(&nftables.Chain{Name: part.marker, Table: br})
		put = append(put, part.elems...)
		addPins = append(addPins, pinElems(e.mark)...)
	}
	errs := []error{dpProfApply(c, prefix, pc, groups), dpElems(c, prefix, del, delElems), dpElems(c, prefix, put, addElems),
		delElems(c, pins, delPins), addElems(c, pins, addPins)}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nftables batch: %w", err)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables batch: %w", err)
	}
	return nil
}

// dpProfApply queues the profiles' changes: the new ones' chains, their rules and the
// verdict map elements that jump to them; the changed ones' chains refilled; the gone
// ones' elements, then chains; and their markers.
func dpProfApply(c *nftables.Conn, prefix string, pc profChanges, groups map[string]Group) error {
	br := &nftables.Table{Name: prefix, Family: nftables.TableFamilyBridge}
	shard := func(num uint32) (sh *nftables.Table, out, in *nftables.Set) {
		sh = &nftables.Table{Name: sgShardName(prefix, num), Family: nftables.TableFamilyINet}
		return sh, nftMapSet(sh, &nftMap{name: dpProfOut, keyType: nftables.TypeMark}), nftMapSet(sh, &nftMap{name: dpProfIn, keyType: nftables.TypeMark})
	}
	fill := func(sh *nftables.Table, chs ...*nftChain) {
		for _, ch := range chs {
			nc := &nftables.Chain{Name: ch.name, Table: sh}
			for _, r := range ch.rules {
				c.AddRule(&nftables.Rule{Table: sh, Chain: nc, Exprs: r.exprs})
			}
		}
	}
	var errs []error
	for _, p := range pc.gone {
		sh, out, in := shard(p.num)
		vo, vi := profVmapElems(p.num)
		errs = append(errs, c.SetDeleteElements(out, []nftables.SetElement{{Key: vo.key}}),
			c.SetDeleteElements(in, []nftables.SetElement{{Key: vi.key}}))
		for _, n := range []string{vo.chain, vi.chain} {
			c.FlushChain(&nftables.Chain{Name: n, Table: sh})
			c.DelChain(&nftables.Chain{Name: n, Table: sh})
		}
		c.DelChain(&nftables.Chain{Name: profileMarker(p.num, p.id, p.loadedKey), Table: br})
	}
	// The changed ones' chains are flushed and filled again, the new ones' made and
	// filled, then their verdict map elements go in.
	for _, p := range append(slices.Clone(pc.refill), pc.add...) {
		sh, outMap, inMap := shard(p.num)
		out, in := profileChains(p, groups)
		for _, ch := range []*nftChain{out, in} {
			if nc := (&nftables.Chain{Name: ch.name, Table: sh}); p.loaded {
				c.FlushChain(nc)
			} else {
				c.AddChain(nc)
			}
		}
		fill(sh, out, in)
		if p.loaded {
			c.DelChain(&nftables.Chain{Name: profileMarker(p.num, p.id, p.loadedKey), Table: br})
		} else {
			vo, vi := profVmapElems(p.num)
			errs = append(errs, addElems(c, outMap, nftElems([]nftVmapElem{vo})), addElems(c, inMap, nftElems([]nftVmapElem{vi})))
		}
		c.AddChain(&nftables.Chain{Name: profileMarker(p.num, p.id, p.key), Table: br})
	}
	return errors.Join(errs...)
}

// The datapath's stamp: every batch the plane commits to the datapath's ruleset also
// replaces a chain of a table of its own (family arp, where nothing else of the plane is)
// whose name is the generation that batch makes and the spec of the base chains. The
// kernel moves the generation on every commit in the namespace, whoever makes it: a plane
// (a restarted one) that finds the stamp of the current generation knows that the
// ruleset is a plane's last change, untouched since, and need not load it again to trust
// it (at 5,000 ENIs that load took 4.3 s of a restart's 6.8). A commit between the read
// of the generation and the batch's only makes the stamp name a generation that never
// matches: the ruleset is loaded again, as without a stamp.
func dpStampTable(prefix string) *nftables.Table {
	return &nftables.Table{Name: prefix + "gen", Family: nftables.TableFamilyARP}
}

func dpStampName(gen uint32, base uint64) string { return fmt.Sprintf("g%d_%016x", gen, base) }

// queueDPStamp queues the stamp of generation gen (the batch's) with base.
func queueDPStamp(c *nftables.Conn, prefix string, gen uint32, base uint64) {
	tab := dpStampTable(prefix)
	c.AddTable(tab)
	c.DelTable(tab)
	c.AddTable(tab)
	c.AddChain(&nftables.Chain{Name: dpStampName(gen, base), Table: tab})
}

// dpStamped reports whether the datapath's ruleset carries the stamp of generation gen
// with base.
func (r *reconciler) dpStamped(gen uint32, base uint64) bool {
	conn, err := r.dp.nft()
	if err != nil {
		return false // the pass reports the datapath's nftables error itself
	}
	chains, err := conn.ListChainsOfTableFamily(nftables.TableFamilyARP)
	if err != nil {
		r.dp.nftKeep(false)
		return false
	}
	tab, want := dpStampTable(r.p.prefix), dpStampName(gen, base)
	return slices.ContainsFunc(chains, func(ch *nftables.Chain) bool {
		return ch.Table != nil && ch.Table.Name == tab.Name && ch.Name == want
	})
}

// dpElems queues es by set, in as many messages as nftChunk asks.
func dpElems(c *nftables.Conn, prefix string, es []dpElem,
	queue func(*nftables.Conn, *nftables.Set, []nftables.SetElement) error) error {
	type ts struct{ table, set string }
	by := map[ts][]nftables.SetElement{}
	var order []ts
	for _, e := range es {
		k := ts{e.table, e.set}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], nftables.SetElement{Key: e.key, KeyEnd: e.keyEnd, Val: e.data})
	}
	var errs []error
	for _, k := range order {
		st := dpSetTemplate(k.table, k.set)
		if st == nil {
			errs = append(errs, fmt.Errorf("nftables: no set %s in table %q", k.set, k.table))
			continue
		}
		tab := &nftables.Table{Name: prefix + k.table, Family: nftables.TableFamilyINet}
		if k.table == "" {
			tab.Family = nftables.TableFamilyBridge
		}
		errs = append(errs, queue(c, st.of(tab), by[k]))
	}
	return errors.Join(errs...)
}

// dpSetTemplate is the set name of the datapath's table with suffix table (nil: none
// that holds ENIs' elements).
func dpSetTemplate(table, name string) *nftSet {
	var sets []*nftSet
	switch {
	case table == "":
		sets = dpBridgeSets()
	case table == dpGroupsSuffix:
		sets = dpConnSets()
	case strings.HasPrefix(table, "g"):
		sets = []*nftSet{dpProfMap(dpENIOut), dpProfMap(dpENIIn)}
	}
	for _, st := range sets {
		if st.set.Name == name {
			return st
		}
	}
	return nil
}

// elemDiff is what of before is not in after (gone), and what of after is not in before.
func elemDiff(before, after []dpElem) (gone, came []dpElem) {
	had := map[string]bool{}
	for _, e := range before {
		had[e.String()] = true
	}
	has := map[string]bool{}
	for _, e := range after {
		has[e.String()] = true
		if !had[e.String()] {
			came = append(came, e)
		}
	}
	for _, e := range before {
		if !has[e.String()] {
			gone = append(gone, e)
		}
	}
	return gone, came
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
	// Nothing leaves for the internet untranslated: a packet from an address without a
	// mapping (yet) is dropped before connection tracking keeps its flow, which would stay
	// untranslated once the mapping comes (a NAT gateway's first datagrams, say).
	guard := t.chain(&nftChain{name: "guard", hook: nftables.ChainHookPostrouting,
		prio: nftables.ChainPriorityRef(*nftables.ChainPriorityNATSource + 1), typ: nftables.ChainTypeFilter})
	guard.add(meta(expr.MetaKeyOIFNAME), cmpEq(ifnameKey(uplink)), &expr.Ct{Key: expr.CtKeySTATUS, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: native32(ctStatusSrcNAT | ctStatusDstNAT), Xor: native32(0)},
		cmpEq(native32(0)), &expr.Counter{}, verdict(expr.VerdictDrop))
	return t
}

// The conntrack status bits of a translated connection (IPS_SRC_NAT, IPS_DST_NAT).
const (
	ctStatusSrcNAT = 1 << 4
	ctStatusDstNAT = 1 << 5
)

// parseMAC parses a MAC address into its 6 bytes.
func parseMAC(s string) ([]byte, error) {
	// Exactly six two-digit hex octets separated by colons: "02:00:5e:00:53:01".
	if len(s) != 17 {
		return nil, fmt.Errorf("bad MAC %q", s)
	}
	b := make([]byte, 6)
	for i := range b {
		if i > 0 && s[3*i-1] != ':' {
			return nil, fmt.Errorf("bad MAC %q", s)
		}
		hi, ok1 := unhex(s[3*i])
		lo, ok2 := unhex(s[3*i+1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("bad MAC %q", s)
		}
		b[i] = hi<<4 | lo
	}
	return b, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
