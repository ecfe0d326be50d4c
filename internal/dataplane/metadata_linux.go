package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The instance metadata service, and how it knows who asks.
//
// An instance reaches 169.254.169.254 (and [fd00:ec2::254]) through its default
// gateway, the VPC router: both addresses are on the router namespace's loopback, and
// the plane opens one TCP listener on each, inside the router namespace, that it hands
// to the server (Options.Metadata). Nothing of it runs inside an instance, so root in
// an instance can neither stop nor replace it.
//
// The asker is the ENI the packets came in through, never what they say. Every frame
// reaching a router leg from a subnet bridge passed its ENI's from_<N> chain in the
// datapath, which drops any frame whose source MAC is not that ENI's: at the router, the
// source MAC names the port the frame entered by. (Packet marks do not cross network
// namespaces, so the datapath's own ENI marks cannot be read there.) The router's
// "mdpre" chain maps the source MAC of every packet for a metadata address to the
// ENI's metadata number (a map, "mdids"), sets it as the packet mark, and pins each
// connection to the ENI that opened it: a new connection's ct mark is set to it, and a
// later packet of the connection whose mark differs (another ENI guessing a
// connection's addresses and sequence numbers; the pair ct mark . mark is not in
// "mdpins") is dropped, as is anything for a metadata address from an unknown MAC (the uplink), to
// a port other than 80, or not TCP. The router's stack has net.ipv4.tcp_fwmark_accept
// on, so an accepted connection's socket mark is the mark of its SYN; the listener reads
// it (SO_MARK) and its connections tell the server their ENI (MetadataAsker). A spoofed
// source address changes nothing: the reply goes to that address, and the asker is
// still the ENI the request came in through.
//
// Metadata numbers are given once per plane and never reused, so a connection that
// outlives its ENI's attachment never speaks for another ENI; an ENI moved to another
// instance gets a new one. A connection also names the instance the plane had put the
// ENI's link in, and the server answers only when the model agrees (imds.InstanceAsker):
// between the API moving an ENI and the plane moving its link, the old instance, still
// holding the link, is not answered as the new one (with its role's credentials).
// Security groups do not apply to the metadata service (as on AWS): the egress tail lets TCP to
// its port 80 pass.

// Metadata service addresses and port.
var (
	MetadataIPv4 = netip.MustParseAddr("169.254.169.254")
	MetadataIPv6 = netip.MustParseAddr("fd00:ec2::254")
)

const metadataPort = 80

// mdState is the plane's metadata numbers and listeners.
type mdState struct {
	mu      sync.Mutex
	next    uint32
	ids     map[string]uint32 // ENI id → metadata number
	askers  map[uint32]mdAsker
	routers map[string]*mdRouter // VPC id → its listeners
}

// mdAsker is what a metadata number stands for: an ENI as the plane realised it, in
// its VPC and in the instance whose namespace holds its link.
type mdAsker struct{ vpc, eni, inst string }

func newMDState() mdState {
	return mdState{ids: map[string]uint32{}, askers: map[uint32]mdAsker{}, routers: map[string]*mdRouter{}}
}

type mdRouter struct {
	gen uint64 // of the router namespace's handle the listeners were opened in
	lns []net.Listener
}

// mdEntry is one ENI's metadata number with its MAC.
type mdEntry struct {
	mac []byte
	id  uint32
}

// metadataIDs gives the ENIs of a VPC their metadata numbers (new ones for new ENIs).
func (p *Plane) metadataIDs(vpcID string, enis []*eniInfo) []mdEntry {
	p.md.mu.Lock()
	defer p.md.mu.Unlock()
	var out []mdEntry
	for _, e := range enis {
		mac, err := parseMAC(e.mac)
		if err != nil {
			continue
		}
		id, ok := p.md.ids[e.ID]
		if a := p.md.askers[id]; !ok || a.vpc != vpcID || a.inst != e.InstanceID { // moved: a new number
			delete(p.md.askers, id)
			p.md.next++
			id = p.md.next
			p.md.ids[e.ID] = id
		}
		p.md.askers[id] = mdAsker{vpc: vpcID, eni: e.ID, inst: e.InstanceID}
		out = append(out, mdEntry{mac: mac, id: id})
	}
	return out
}

// forgetMetadataID drops the number of an ENI that is not realised any more.
func (p *Plane) forgetMetadataID(eni string) {
	p.md.mu.Lock()
	defer p.md.mu.Unlock()
	if id, ok := p.md.ids[eni]; ok {
		delete(p.md.ids, eni)
		delete(p.md.askers, id)
	}
}

// forgetMetadataIDs drops the numbers of ENIs that are not realised any more.
func (p *Plane) forgetMetadataIDs(keep map[string]bool) {
	p.md.mu.Lock()
	defer p.md.mu.Unlock()
	for eni, id := range p.md.ids {
		if !keep[eni] {
			delete(p.md.ids, eni)
			delete(p.md.askers, id)
		}
	}
}

// metadataAsker is what metadata number id stands for in the VPC's router.
func (p *Plane) metadataAsker(vpcID string, id uint32) (mdAsker, bool) {
	p.md.mu.Lock()
	defer p.md.mu.Unlock()
	a, ok := p.md.askers[id]
	return a, ok && a.vpc == vpcID
}

// mdKey is the spec of a router's metadata entries.
func mdKey(es []mdEntry) uint64 {
	var sum uint64 // whatever their order (see neighboursKey)
	for _, e := range es {
		sum += mdHash(e)
	}
	return sum
}

func mdHash(e mdEntry) uint64 {
	k := newKeyHash()
	k.str(string(e.mac))
	k.u64(uint64(e.id))
	return k.sum()
}

// ensureMetadataListeners puts the metadata addresses on the router's loopback and
// serves a listener on each (once per router namespace handle).
func (r *reconciler) ensureMetadataListeners(vpcID string, c *nsCtx) {
	p := r.p
	if p.metadata == nil {
		return
	}
	p.md.mu.Lock()
	cur := p.md.routers[vpcID]
	p.md.mu.Unlock()
	if cur != nil && cur.gen == c.gen && !r.full {
		return
	}
	lo, err := c.linkByName("lo")
	if err != nil || lo == nil {
		r.fail(fmt.Errorf("%s: lo: %v", c.name, err))
		return
	}
	n, err := ensureLocalAddrs(c, lo, []netip.Prefix{netip.PrefixFrom(MetadataIPv4, 32), netip.PrefixFrom(MetadataIPv6, 128)})
	r.count(n, err)
	if err != nil || (cur != nil && cur.gen == c.gen) {
		return
	}
	p.closeMetadata(vpcID)
	var lns []net.Listener
	err = doInNS(c.ns, func() error {
		for _, a := range []netip.Addr{MetadataIPv4, MetadataIPv6} {
			ln, err := net.Listen("tcp", netip.AddrPortFrom(a, metadataPort).String())
			if err != nil {
				return err
			}
			lns = append(lns, &mdListener{Listener: ln, p: p, vpc: vpcID})
		}
		return nil
	})
	if err != nil {
		for _, ln := range lns {
			_ = ln.Close() // not served yet
		}
		r.fail(fmt.Errorf("%s: metadata listener: %w", c.name, err))
		return
	}
	p.md.mu.Lock()
	p.md.routers[vpcID] = &mdRouter{gen: c.gen, lns: lns}
	p.md.mu.Unlock()
	for _, ln := range lns {
		go func() { _ = p.metadata.Serve(ln) }() // returns when the listener is closed
	}
	r.changes++
}

// closeMetadata closes the listeners of a VPC's router.
func (p *Plane) closeMetadata(vpcID string) {
	p.md.mu.Lock()
	cur := p.md.routers[vpcID]
	delete(p.md.routers, vpcID)
	p.md.mu.Unlock()
	if cur == nil {
		return
	}
	for _, ln := range cur.lns {
		_ = ln.Close() // its Serve returns
	}
}

// closeAllMetadata closes every listener.
func (p *Plane) closeAllMetadata() {
	p.md.mu.Lock()
	ids := make([]string, 0, len(p.md.routers))
	for id := range p.md.routers {
		ids = append(ids, id)
	}
	p.md.mu.Unlock()
	for _, id := range ids {
		p.closeMetadata(id)
	}
}

// ensureLocalAddrs adds the addresses (and removes none): loopback keeps its own.
func ensureLocalAddrs(c *nsCtx, l netlink.Link, want []netip.Prefix) (int, error) {
	have, err := c.h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return 0, fmt.Errorf("%s: addresses of %s: %w", c.name, l.Attrs().Name, err)
	}
	n := 0
	var errs []error
	for _, w := range want {
		if slices.ContainsFunc(have, func(a netlink.Addr) bool { return prefixOf(a.IPNet) == w }) {
			continue
		}
		a := &netlink.Addr{IPNet: ipNet(w)}
		if w.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		if err := c.h.AddrReplace(l, a); err != nil {
			errs = append(errs, fmt.Errorf("%s: add address %s: %w", c.name, w, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// mdListener accepts the connections of the ENIs it knows, each with its asker.
type mdListener struct {
	net.Listener
	p   *Plane
	vpc string
}

// Accept returns the next connection whose SYN carried a known ENI's metadata number
// and that is within that ENI's connection budget (Plane.mdConns, connlimit.go), closing
// the others.
func (l *mdListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		id, err := socketMark(c)
		if err == nil {
			if a, ok := l.p.metadataAsker(l.vpc, id); ok && l.p.mdConns.take(a.eni) {
				b := l.p.mdConns
				return &mdConn{TCPConn: c.(*net.TCPConn), eni: a.eni, inst: a.inst, release: func() { b.release(a.eni) }}, nil
			}
		}
		_ = c.Close() // an asker the plane does not know, or beyond its budget: nothing to say
	}
}

// mdConn is a metadata connection, the ENI it came in through and the instance
// whose namespace held that ENI's link when the plane last realised it.
type mdConn struct {
	*net.TCPConn
	eni, inst string
	once      sync.Once
	release   func() // gives its place in the budget back
}

// Close closes the connection and gives its place back (once).
func (c *mdConn) Close() error {
	err := c.TCPConn.Close()
	if c.release != nil {
		c.once.Do(c.release)
	}
	return err
}

// MetadataAsker is the ENI the connection came in through (imds.Asker).
func (c *mdConn) MetadataAsker() string { return c.eni }

// MetadataInstance is the instance that ENI is in on this host (imds.InstanceAsker):
// until the plane has moved an ENI the API moved, it is the old one.
func (c *mdConn) MetadataInstance() string { return c.inst }

// socketMark is the SO_MARK of a TCP connection's socket.
func socketMark(c net.Conn) (uint32, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, errors.New("no socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var v int
	var serr error
	if err := raw.Control(func(fd uintptr) { v, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK) }); err != nil {
		return 0, err
	}
	return uint32(v), serr
}

// addMetadataRules adds to the router's guard table the chain that names the asking ENI
// (see the top of this file) and its two sets; the input chain accepts what it marked.
// Nothing in it is per ENI but set elements: an ENI's arrival or departure changes two
// elements, and no chain or jump, so the kernel validates nothing of the table's chains.
func addMetadataRules(conn *nftables.Conn, tab *nftables.Table, es []mdEntry) error {
	md := conn.AddChain(&nftables.Chain{Name: "md", Table: tab})
	ids, pins := metadataSets(tab)
	idElems, pinElems := make([]nftables.SetElement, 0, len(es)), make([]nftables.SetElement, 0, len(es))
	for _, e := range es {
		idElems, pinElems = append(idElems, metadataIDElem(e.mac, e.id)), append(pinElems, metadataPinElem(e.id))
	}
	if err := addSet(conn, ids, idElems); err != nil {
		return fmt.Errorf("metadata map: %w", err)
	}
	if err := addSet(conn, pins, pinElems); err != nil {
		return fmt.Errorf("metadata pins: %w", err)
	}
	drop := []expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)}
	for _, r := range [][]expr.Any{
		{&expr.Immediate{Register: 1, Data: native32(0)}, markSet()},
		append([]expr.Any{meta(expr.MetaKeyL4PROTO), cmpNeq([]byte{unix.IPPROTO_TCP})}, drop...),
		append([]expr.Any{load(expr.PayloadBaseTransportHeader, 2, 2), cmpNeq(binaryutil.BigEndian.PutUint16(metadataPort))}, drop...),
		// meta mark set ether saddr map @mdids (no element: the rule ends, the mark stays 0)
		{load(expr.PayloadBaseLLHeader, 6, 6), &expr.Lookup{SourceRegister: 1, SetName: ids.Name, SetID: ids.ID, IsDestRegSet: true, DestRegister: 1}, markSet()},
		append([]expr.Any{meta(expr.MetaKeyMARK), cmpEq(native32(0))}, drop...),
		// ct state new ct mark set meta mark
		append(ctState(expr.CtStateBitNEW), meta(expr.MetaKeyMARK), &expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true}),
		// ct mark . meta mark != @mdpins drop: a connection opened by another ENI
		append([]expr.Any{&expr.Ct{Key: expr.CtKeyMARK, Register: 1}, &expr.Meta{Key: expr.MetaKeyMARK, Register: 9},
			&expr.Lookup{SourceRegister: 1, SetName: pins.Name, SetID: pins.ID, Invert: true}}, drop...),
	} {
		conn.AddRule(&nftables.Rule{Table: tab, Chain: md, Exprs: r})
	}
	accept := nftables.ChainPolicyAccept
	pre := conn.AddChain(&nftables.Chain{Name: "mdpre", Table: tab, Hooknum: nftables.ChainHookPrerouting,
		Priority: nftables.ChainPriorityMangle, Type: nftables.ChainTypeFilter, Policy: &accept})
	for _, a := range []struct {
		proto byte
		off   uint32
		addr  netip.Addr
	}{{unix.NFPROTO_IPV4, 16, MetadataIPv4}, {unix.NFPROTO_IPV6, 24, MetadataIPv6}} {
		conn.AddRule(&nftables.Rule{Table: tab, Chain: pre, Exprs: cat(
			[]expr.Any{meta(expr.MetaKeyNFPROTO), cmpEq([]byte{a.proto})}, prefixMatch(a.off, hostPrefix(a.addr)),
			[]expr.Any{jump(md.Name)})})
	}
	return nil
}

// metadataSets are the router guard's map of ENI MACs to their metadata numbers and its
// set of the pairs (ct mark . meta mark) a connection may carry: a number with itself.
func metadataSets(tab *nftables.Table) (ids, pins *nftables.Set) {
	return &nftables.Set{Table: tab, Name: "mdids", IsMap: true, KeyType: nftables.TypeEtherAddr, DataType: nftables.TypeMark},
		&nftables.Set{Table: tab, Name: "mdpins", Concatenation: true, KeyType: nftables.MustConcatSetType(nftables.TypeMark, nftables.TypeMark)}
}

func metadataIDElem(mac []byte, id uint32) nftables.SetElement {
	return nftables.SetElement{Key: mac, Val: native32(id)}
}

func metadataPinElem(id uint32) nftables.SetElement {
	return nftables.SetElement{Key: append(native32(id), native32(id)...)}
}

// metadataDelta queues the changes of the metadata sets from have to want (MAC ->
// metadata number): the elements out, before the new ones in.
func metadataDelta(conn *nftables.Conn, tab *nftables.Table, have, want map[string]uint32) error {
	ids, pins := metadataSets(tab)
	var delIDs, delPins, addIDs, addPins []nftables.SetElement
	for mac, id := range have {
		if want[mac] != id {
			delIDs, delPins = append(delIDs, nftables.SetElement{Key: []byte(mac)}), append(delPins, metadataPinElem(id))
		}
	}
	for mac, id := range want {
		if have[mac] != id {
			addIDs, addPins = append(addIDs, metadataIDElem([]byte(mac), id)), append(addPins, metadataPinElem(id))
		}
	}
	return errors.Join(delElems(conn, ids, delIDs), delElems(conn, pins, delPins),
		addElems(conn, ids, addIDs), addElems(conn, pins, addPins))
}

// metadataEgress are the rules of the egress tail (egressTail) that let an ENI reach the metadata service
// whatever its groups (as on AWS, where groups do not filter it).
func metadataEgress() [][]expr.Any {
	var out [][]expr.Any
	for _, a := range []struct {
		proto byte
		off   uint32
		addr  netip.Addr
	}{{unix.NFPROTO_IPV4, 16, MetadataIPv4}, {unix.NFPROTO_IPV6, 24, MetadataIPv6}} {
		out = append(out, cat([]expr.Any{meta(expr.MetaKeyNFPROTO), cmpEq([]byte{a.proto})},
			prefixMatch(a.off, hostPrefix(a.addr)),
			[]expr.Any{meta(expr.MetaKeyL4PROTO), cmpEq([]byte{unix.IPPROTO_TCP}),
				load(expr.PayloadBaseTransportHeader, 2, 2), cmpEq(binaryutil.BigEndian.PutUint16(metadataPort)),
				verdict(expr.VerdictReturn)}))
	}
	return out
}
