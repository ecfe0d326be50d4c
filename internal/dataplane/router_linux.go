package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The VPC router knows its neighbours; it never asks. Every address of the VPC's ENIs is a
// permanent neighbour entry on the router's leg of its subnet (addresses of delegated IPv4
// prefixes each, delegated IPv6 prefixes as routes via the ENI's link-local address), and
// the router forwards or sends nothing whose next hop is not one of them. So an instance
// that sends to thousands of unused addresses of the VPC makes the router resolve none of
// them: the kernel's neighbour table (shared by every namespace of the host) cannot be
// filled through the router, and the router's own entries are exempt from its garbage
// collection. The router's own stack answers ICMP (and neighbour discovery) only, besides
// the metadata service (metadata_linux.go) and the VPC resolver (dns_linux.go): TCP, UDP
// and the rest addressed to it are dropped, so no other port of it is ever seen from a VPC.

// neighbour is a permanent neighbour entry of a router leg.
type neighbour struct {
	subnet string
	ip     netip.Addr
	mac    net.HardwareAddr
}

// prefixRoute is a delegated IPv6 prefix, routed by the router via its ENI's link-local
// address.
type prefixRoute struct {
	subnet string
	pfx    netip.Prefix
	via    netip.Addr
}

// enisByVPC groups the realised ENIs by VPC.
func (r *reconciler) enisByVPC() map[string][]*eniInfo {
	m := map[string][]*eniInfo{}
	for _, e := range r.enis {
		if e.subnet != nil {
			m[e.subnet.vpcID] = append(m[e.subnet.vpcID], e)
		}
	}
	return m
}

// routerNeighbours are the addresses of enis with their MACs, and the routes of their
// delegated IPv6 prefixes.
func routerNeighbours(enis []*eniInfo) ([]neighbour, []prefixRoute) {
	var ns []neighbour
	var pfx6 []prefixRoute
	for _, e := range enis {
		mac, err := net.ParseMAC(e.mac)
		if err != nil {
			continue
		}
		add := func(a netip.Addr) { ns = append(ns, neighbour{e.subnet.ID, a, mac}) }
		for _, a := range e.ips {
			add(a)
		}
		for _, p := range e.pfx4 {
			for a := p.Masked().Addr(); p.Contains(a); a = a.Next() {
				add(a)
			}
		}
		if e.subnet.prefix6.IsValid() {
			ll := linkLocal(mac)
			add(ll)
			for _, a := range e.ips6 {
				add(a)
			}
			for _, p := range e.pfx6 {
				pfx6 = append(pfx6, prefixRoute{e.subnet.ID, p, ll})
			}
		}
	}
	return ns, pfx6
}

// ensureNeighbours makes the permanent neighbour entries of the router's legs exactly want.
func ensureNeighbours(c *nsCtx, legs map[string]netlink.Link, want []neighbour) (int, error) {
	n := 0
	var errs []error
	wanted := map[string]bool{}
	for _, w := range want {
		leg := legs[w.subnet]
		if leg == nil {
			continue
		}
		fam := netlink.FAMILY_V4
		if w.ip.Is6() {
			fam = netlink.FAMILY_V6
		}
		wanted[fmt.Sprint(leg.Attrs().Index, w.ip, w.mac)] = true
		errs = append(errs, c.h.NeighSet(&netlink.Neigh{LinkIndex: leg.Attrs().Index, Family: fam,
			State: netlink.NUD_PERMANENT, IP: net.IP(w.ip.AsSlice()), HardwareAddr: w.mac}))
	}
	for _, leg := range legs {
		for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
			have, err := c.h.NeighList(leg.Attrs().Index, fam)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, h := range have {
				a, ok := netip.AddrFromSlice(h.IP)
				if !ok || h.State&netlink.NUD_PERMANENT == 0 || wanted[fmt.Sprint(h.LinkIndex, a.Unmap(), h.HardwareAddr)] {
					continue
				}
				errs = append(errs, c.h.NeighDel(&h))
				n++
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("%s: neighbours: %w", c.name, err)
	}
	return n, nil
}

// neighboursKey is the spec of a router's neighbours and prefix routes: the sum of its
// elements' hashes, whatever their order, so that a change of a few updates it (routerIncr).
func neighboursKey(ns []neighbour, pfx6 []prefixRoute) uint64 {
	var sum uint64
	for _, n := range ns {
		sum += nbrHash(n)
	}
	for _, p := range pfx6 {
		k := newKeyHash()
		k.str(p.subnet)
		k.prefix(p.pfx)
		k.addr(p.via)
		sum += k.sum()
	}
	return sum
}

func nbrHash(n neighbour) uint64 {
	k := newKeyHash()
	k.str(n.subnet)
	k.addr(n.ip)
	k.str(string(n.mac))
	return k.sum()
}

// guardMarker names the router guard's marker chain: the spec of everything it holds.
func guardMarker(uplink, resolver string, ns []neighbour, md []mdEntry) string {
	return guardMarkerOf(uplink, resolver, neighboursKey(ns, nil), mdKey(md))
}

// guardMarkerOf is guardMarker of the neighbours' and metadata entries' keys.
func guardMarkerOf(uplink, resolver string, nbrSum, mdSum uint64) string {
	return fmt.Sprintf("v%s_%016x", nftVersion, nbrSum^specKey(uplink, "peering-guard", "resolver "+resolver)^mdSum)
}

// Named sets of the router guard: the legs' next hops, by family.
const (
	guardNextHops4 = "nh4"
	guardNextHops6 = "nh6"
)

func guardSets(tab *nftables.Table) (v4, v6 *nftables.Set) {
	return &nftables.Set{Table: tab, Name: guardNextHops4, KeyType: nftables.TypeIPAddr},
		&nftables.Set{Table: tab, Name: guardNextHops6, KeyType: nftables.TypeIP6Addr}
}

// ensureRouterGuard replaces the router's filter table: the next hop of everything
// forwarded or sent to a leg is a known neighbour; nothing but ICMP reaches the router's
// own stack. (The router's spec key covers the neighbours, so this runs when they change;
// routerDelta changes only the elements when nothing else did.) It is replaced whatever it
// holds when force (its generation says someone else changed it). It reports whether the
// table holds what ns and md ask for.
func (r *reconciler) ensureRouterGuard(c *nsCtx, uplink, resolver string, ns []neighbour, md []mdEntry, force bool) bool {
	conn, err := c.nft()
	if err != nil {
		r.fail(fmt.Errorf("%s: nftables: %w", c.name, err))
		return false
	}
	defer c.nftDone(r, r.nerr)
	tab := &nftables.Table{Name: r.p.prefix + "rt", Family: nftables.TableFamilyINet}
	marker := guardMarker(uplink, resolver, ns, md)
	if chains, err := conn.ListChainsOfTableFamily(tab.Family); err == nil && !force {
		for _, ch := range chains {
			if ch.Table != nil && ch.Table.Name == tab.Name && ch.Name == marker {
				return true // what it holds is what ns asks for
			}
		}
	}
	conn.AddTable(tab)
	conn.DelTable(tab)
	conn.AddTable(tab)
	conn.AddChain(&nftables.Chain{Name: marker, Table: tab})
	accept := nftables.ChainPolicyAccept
	in := conn.AddChain(&nftables.Chain{Name: "input", Table: tab, Hooknum: nftables.ChainHookInput,
		Priority: nftables.ChainPriorityFilter, Type: nftables.ChainTypeFilter, Policy: &accept})
	// What the metadata chains marked is for the metadata service (metadata_linux.go).
	conn.AddRule(&nftables.Rule{Table: tab, Chain: in, Exprs: []expr.Any{meta(expr.MetaKeyMARK), cmpNeq(native32(0)),
		verdict(expr.VerdictAccept)}})
	// Queries to the VPC resolver from the legs are the resolver's (dns_linux.go).
	vpcIP, _ := netip.ParseAddr(resolver)
	for _, es := range dnsInput(r.p.prefix, vpcIP) {
		conn.AddRule(&nftables.Rule{Table: tab, Chain: in, Exprs: es})
	}
	conn.AddRule(&nftables.Rule{Table: tab, Chain: in, Exprs: []expr.Any{meta(expr.MetaKeyL4PROTO),
		cmpNeq([]byte{unix.IPPROTO_ICMP}), cmpNeq([]byte{unix.IPPROTO_ICMPV6}), &expr.Counter{}, verdict(expr.VerdictDrop)}})
	if err := addMetadataRules(conn, tab, md); err != nil {
		r.fail(fmt.Errorf("%s: router guard: %w", c.name, err))
		return false
	}
	if err := addGuardChains(conn, tab, r.p.prefix, uplink, ns); err != nil {
		r.fail(fmt.Errorf("%s: router guard: %w", c.name, err))
		return false
	}
	if err := conn.Flush(); err != nil {
		r.fail(fmt.Errorf("%s: router guard: %w", c.name, err))
		return false
	}
	r.changes++
	return true
}

// nextHopElems are the guard's set elements of the neighbours' addresses, by family.
func nextHopElems(ns []neighbour) (v4, v6 []nftables.SetElement) {
	for a := range nextHops(ns) {
		if a.Is4() {
			v4 = append(v4, nftables.SetElement{Key: a.AsSlice()})
		} else {
			v6 = append(v6, nftables.SetElement{Key: a.AsSlice()})
		}
	}
	return v4, v6
}

// nextHops are the neighbours' addresses.
func nextHops(ns []neighbour) map[netip.Addr]bool {
	m := make(map[netip.Addr]bool, len(ns))
	for _, n := range ns {
		m[n.ip] = true
	}
	return m
}

// addGuardChains adds the forward and output chains: what leaves by a leg goes to a known
// next hop (the named sets, which routerDelta updates element by element).
func addGuardChains(conn *nftables.Conn, tab *nftables.Table, prefix, uplink string, ns []neighbour) error {
	v4, v6 := nextHopElems(ns)
	set4, set6 := guardSets(tab)
	if err := addSet(conn, set4, v4); err != nil {
		return err
	}
	if err := addSet(conn, set6, v6); err != nil {
		return err
	}
	accept := nftables.ChainPolicyAccept
	for _, hook := range []*nftables.ChainHook{nftables.ChainHookForward, nftables.ChainHookOutput} {
		ch := conn.AddChain(&nftables.Chain{Name: fmt.Sprint("guard", *hook), Table: tab, Hooknum: hook,
			Priority: nftables.ChainPriorityFilter, Type: nftables.ChainTypeFilter, Policy: &accept})
		add := func(es ...expr.Any) { conn.AddRule(&nftables.Rule{Table: tab, Chain: ch, Exprs: es}) }
		for _, es := range peerGuardRules(prefix, *hook == *nftables.ChainHookForward) {
			add(es...)
		}
		add(meta(expr.MetaKeyOIFNAME), cmpEq(ifnameKey(uplink)), verdict(expr.VerdictAccept))
		add(meta(expr.MetaKeyOIFNAME), cmpEq(ifnameKey("lo")), verdict(expr.VerdictAccept))
		add(append(prefixMatch(24, netip.MustParsePrefix("ff00::/8")), meta(expr.MetaKeyNFPROTO),
			cmpEq([]byte{unix.NFPROTO_IPV6}), verdict(expr.VerdictAccept))...)
		for _, f := range []struct {
			proto byte
			key   expr.RtKey
			set   *nftables.Set
		}{{unix.NFPROTO_IPV4, expr.RtNexthop4, set4}, {unix.NFPROTO_IPV6, expr.RtNexthop6, set6}} {
			add(meta(expr.MetaKeyNFPROTO), cmpEq([]byte{f.proto}), &expr.Rt{Register: 1, Key: f.key},
				&expr.Lookup{SourceRegister: 1, SetName: f.set.Name, SetID: f.set.ID}, verdict(expr.VerdictAccept))
		}
		add(&expr.Counter{}, verdict(expr.VerdictDrop))
	}
	return nil
}

// routerState is what the plane last made of a router's per-ENI part: its legs'
// permanent neighbours and its guard's elements. When nothing else of the router changed
// (the legs, uplink, routes, NAT: its static key), a change of its ENIs updates those
// alone (routerDelta): a neighbour set or deleted per address, and one nftables batch of
// set elements and metadata chains, whatever the VPC holds. A new ENI, a moved one (a new
// metadata number) or a deleted one costs the same at ten ENIs as at thousands.
type routerState struct {
	static uint64            // routerKey when it was made
	pfx6   uint64            // the delegated IPv6 prefixes' routes (their change: a full pass)
	legs   map[string]int    // subnet -> ifindex of its leg
	nbrs   map[nbrKey]string // permanent neighbours -> MAC
	marker string            // the guard's marker chain
	due    string            // the name it is to have once the passes pause ("": marker's); writeMarkers
	md     map[string]uint32 // MAC -> metadata number

	// What each ENI adds (for routerIncr), the next hops with how many neighbours have
	// each, and the keys of the neighbours and of md (neighboursKey, mdKey).
	byENI         map[string]routerPart
	nhRef         map[netip.Addr]int
	nbrSum, mdSum uint64
}

// routerPart is what one ENI adds to its VPC's router: neighbours, a metadata number (a
// local ENI's), and whether it has delegated IPv6 prefixes (routes: routerIncr leaves
// those to the whole router's pass).
type routerPart struct {
	nbrs  []neighbour
	md    mdEntry
	hasMD bool
	pfx6  bool
}

// routerParts are the parts of the router's local and remote ENIs, md the local ones'
// metadata numbers.
func routerParts(local, remote []*eniInfo, md []mdEntry) map[string]routerPart {
	byMAC := make(map[string]mdEntry, len(md))
	for _, m := range md {
		byMAC[string(m.mac)] = m
	}
	parts := make(map[string]routerPart, len(local)+len(remote))
	for i, e := range slices.Concat(local, remote) {
		ns, pfx6 := routerNeighbours([]*eniInfo{e})
		part := routerPart{nbrs: ns, pfx6: len(pfx6) > 0}
		if mac, err := parseMAC(e.mac); err == nil && i < len(local) {
			part.md, part.hasMD = byMAC[string(mac)]
		}
		parts[e.ID] = part
	}
	return parts
}

// setParts records parts, ns and md as what st's router holds.
func (st *routerState) setParts(parts map[string]routerPart, ns []neighbour, md []mdEntry) {
	st.byENI = parts
	st.nhRef = make(map[netip.Addr]int, len(ns))
	for _, n := range ns {
		st.nhRef[n.ip]++
	}
	st.nbrSum, st.mdSum = neighboursKey(ns, nil), mdKey(md)
}

type nbrKey struct {
	subnet string
	ip     netip.Addr
}

// newRouterState records what a full pass made.
func newRouterState(static, pfx6 uint64, legs map[string]netlink.Link, uplink, resolver string, ns []neighbour, md []mdEntry, parts map[string]routerPart) *routerState {
	st := &routerState{static: static, pfx6: pfx6, legs: map[string]int{}, nbrs: map[nbrKey]string{},
		marker: guardMarker(uplink, resolver, ns, md), md: map[string]uint32{}}
	for s, l := range legs {
		st.legs[s] = l.Attrs().Index
	}
	for _, n := range ns {
		if _, ok := legs[n.subnet]; ok {
			st.nbrs[nbrKey{n.subnet, n.ip}] = n.mac.String()
		}
	}
	for _, e := range md {
		st.md[string(e.mac)] = e.id
	}
	st.setParts(parts, ns, md)
	return st
}

// routerDelta brings the router's neighbours and guard from st to ns and md, changing
// only what differs. It reports whether it did; if not (a neighbour on a leg st does not
// know, a netlink error), the caller makes the router whole.
func (r *reconciler) routerDelta(c *nsCtx, st *routerState, uplink, resolver string, ns []neighbour, md []mdEntry, parts map[string]routerPart) bool {
	want := make(map[nbrKey]string, len(ns))
	for _, n := range ns {
		if _, ok := st.legs[n.subnet]; ok { // as ensureNeighbours: none where there is no leg
			want[nbrKey{n.subnet, n.ip}] = n.mac.String()
		}
	}
	changes, err := r.neighbourDelta(c, st, want)
	if err != nil {
		return false
	}
	marker, nh := guardMarker(uplink, resolver, ns, md), nextHops(ns)
	mdWant := make(map[string]uint32, len(md))
	for _, e := range md {
		mdWant[string(e.mac)] = e.id
	}
	if marker != st.marker || st.due != "" { // due: the elements are not what st.marker names
		if err := guardDelta(c, r.p.prefix+"rt", st, marker, nh, mdWant); err != nil {
			return false
		}
		changes++
	}
	st.nbrs, st.marker, st.md, st.due = want, marker, mdWant, ""
	st.setParts(parts, ns, md)
	r.changes += changes
	return true
}

// neighbourDelta sets the neighbours of want that st does not hold and deletes those st
// holds that want does not.
func (r *reconciler) neighbourDelta(c *nsCtx, st *routerState, want map[nbrKey]string) (int, error) {
	n := 0
	neigh := func(k nbrKey, mac string) (*netlink.Neigh, error) {
		idx, ok := st.legs[k.subnet]
		if !ok {
			return nil, fmt.Errorf("no leg for subnet %s", k.subnet)
		}
		fam := netlink.FAMILY_V4
		if k.ip.Is6() {
			fam = netlink.FAMILY_V6
		}
		hw, _ := net.ParseMAC(mac) // made by MAC.String
		return &netlink.Neigh{LinkIndex: idx, Family: fam, State: netlink.NUD_PERMANENT, IP: net.IP(k.ip.AsSlice()), HardwareAddr: hw}, nil
	}
	for k, mac := range want {
		if st.nbrs[k] == mac {
			continue
		}
		nb, err := neigh(k, mac)
		if err == nil {
			err = c.h.NeighSet(nb)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	for k, mac := range st.nbrs {
		if _, ok := want[k]; ok {
			continue
		}
		nb, err := neigh(k, mac)
		if err == nil {
			err = c.h.NeighDel(nb)
		}
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return n, err
		}
		n++
	}
	return n, nil
}

// guardDelta updates the guard table's next-hop sets and metadata map and chains from st
// to nh and md, and renames its marker, in one nftables batch.
func guardDelta(c *nsCtx, table string, st *routerState, marker string, nh map[netip.Addr]bool, md map[string]uint32) error {
	var add, del []netip.Addr
	for a := range nh {
		if st.nhRef[a] <= 0 {
			add = append(add, a)
		}
	}
	for a := range st.nhRef {
		if !nh[a] {
			del = append(del, a)
		}
	}
	return guardChange(c, table, st.marker, marker, add, del, st.md, md)
}

// guardChange renames the guard table's marker from old to marker (unless they are the
// same), adds the next hops add and deletes del, and changes its metadata sets from have to
// want (metadataDelta), in one nftables batch.
func guardChange(c *nsCtx, table, old, marker string, add, del []netip.Addr, have, want map[string]uint32) (err error) {
	conn, err := c.nft()
	if err != nil {
		return err
	}
	defer func() { c.nftKeep(err == nil) }()
	tab := &nftables.Table{Name: table, Family: nftables.TableFamilyINet}
	if old != marker {
		conn.DelChain(&nftables.Chain{Name: old, Table: tab})
		conn.AddChain(&nftables.Chain{Name: marker, Table: tab})
	}
	set4, set6 := guardSets(tab)
	byFamily := func(as []netip.Addr) (v4, v6 []nftables.SetElement) {
		for _, a := range as {
			if a.Is4() {
				v4 = append(v4, nftables.SetElement{Key: a.AsSlice()})
			} else {
				v6 = append(v6, nftables.SetElement{Key: a.AsSlice()})
			}
		}
		return v4, v6
	}
	add4, add6 := byFamily(add)
	del4, del6 := byFamily(del)
	errs := []error{delElems(conn, set4, del4), delElems(conn, set6, del6),
		addElems(conn, set4, add4), addElems(conn, set6, add6), metadataDelta(conn, tab, have, want)}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return conn.Flush()
}
