package dataplane

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
)

// VPC peering. An active peering connection is a veth between the two VPCs'
// routers, one end in each (<prefix>p<hash of connection/VPC>). A subnet
// whose route table sends a destination to the connection gets a router
// table of its own holding those routes (next hop: a fixed address that is a
// permanent neighbour on the link, the other router's end), looked up for
// packets from the subnet before its default route. The router guard lets
// packets that arrived over a peering link leave only by a subnet leg, so
// traffic never transits: not to another peering link, not to the internet.
// A reply needs the other VPC's route back, as on AWS.

const (
	rtPrioPeer = 32900   // router: `from <subnet> lookup <its peering table>`, before rtPrioRouter
	rtPeerBase = 0x20000 // router: a subnet's peering table is rtPeerBase + 16 bits of its hash
)

// peerGW is the next hop of every peering route: on each link, a permanent
// neighbour with the MAC of the other router's end.
var peerGW = netip.MustParseAddr("169.254.0.1")

// peerLinkName is the name of VPC vpc's end of connection pcx's link.
func peerLinkName(prefix, pcx, vpc string) string { return ifName(prefix, kindPeer, pcx+"/"+vpc) }

// peerTable is the router table of a subnet's peering routes.
func peerTable(subnet string) int { return rtPeerBase + int(hash32("pcx:"+subnet)&0xffff) }

// peerEnd is one of a VPC's peering links: its end, and the other.
type peerEnd struct {
	pcx, remoteVPC, local, remote string
}

// peerEnds returns the peering links of each VPC of the pass, sorted.
func (r *reconciler) peerEnds() map[string][]peerEnd {
	out := map[string][]peerEnd{}
	for _, pc := range r.peerings {
		a, b := pc.VPCs[0], pc.VPCs[1]
		if a == b {
			continue
		}
		la, lb := peerLinkName(r.p.prefix, pc.ID, a), peerLinkName(r.p.prefix, pc.ID, b)
		out[a] = append(out[a], peerEnd{pc.ID, b, la, lb})
		out[b] = append(out[b], peerEnd{pc.ID, a, lb, la})
	}
	for _, ends := range out {
		slices.SortFunc(ends, func(x, y peerEnd) int { return strings.Compare(x.pcx, y.pcx) })
	}
	return out
}

// peerKey is the spec of a VPC's peering: its links (and the namespaces
// they join, by handle generation) and its subnets' peering routes.
func (r *reconciler) peerKey(v VPC, ends []peerEnd) uint64 {
	k := newKeyHash()
	k.u64(r.routers[v.ID].gen)
	for _, e := range ends {
		k.str(e.pcx)
		k.str(e.local)
		if rc := r.routers[e.remoteVPC]; rc != nil {
			k.u64(rc.gen)
		}
	}
	for _, s := range v.Subnets {
		k.str(s.ID)
		k.str(s.CIDR)
		for _, pr := range s.PeerRoutes {
			k.str(pr.CIDR)
			k.str(pr.Peering)
		}
		for _, er := range s.ENIRoutes {
			k.str(er.CIDR)
			k.str(er.ENI)
			if e, ok := r.findENI(er.ENI); ok { // where its traffic goes
				k.str(e.PrimaryIP)
				k.str(e.SubnetID)
			}
		}
	}
	return k.sum()
}

// ensurePeerings realises every VPC's peering links, routes and rules; a
// VPC whose peering spec is unchanged is skipped (unless the pass is full).
func (r *reconciler) ensurePeerings() {
	if r.c.peers == nil {
		r.c.peers = map[string]uint64{}
	}
	ends := r.peerEnds()
	for _, v := range r.vpcs {
		c := r.routers[v.ID]
		if c == nil {
			delete(r.c.peers, v.ID)
			continue
		}
		key := r.peerKey(v, ends[v.ID])
		if k, ok := r.c.peers[v.ID]; ok && k == key && !r.full {
			continue
		}
		delete(r.c.peers, v.ID)
		n0 := r.nerr
		links := r.ensurePeerLinks(c, ends[v.ID])
		r.ensurePeerRouting(c, v, links)
		if r.nerr == n0 {
			r.c.peers[v.ID] = key
		}
	}
	for id := range r.c.peers {
		if r.routers[id] == nil {
			delete(r.c.peers, id)
		}
	}
}

// ensurePeerLinks makes the router's peering links exactly ends (each a
// veth to the other router, up, with the next hop a permanent neighbour on
// both ends) and returns connection id → ifindex of the local end.
func (r *reconciler) ensurePeerLinks(c *nsCtx, ends []peerEnd) map[string]int {
	out := map[string]int{}
	want := map[string]bool{}
	for _, e := range ends {
		want[e.local] = true
		rc := r.routers[e.remoteVPC]
		if rc == nil {
			continue // the other router failed; its pass retries
		}
		la := r.ensurePair(c, e.local, nil, rc, e.remote, 0)
		if la == nil {
			continue
		}
		lb, err := rc.linkByName(e.remote)
		if err != nil || lb == nil {
			r.fail(fmt.Errorf("%s: peering link %s vanished: %v", rc.name, e.remote, err))
			continue
		}
		r.fail(setPeerNeighbour(c, la, lb.Attrs().HardwareAddr))
		r.fail(setPeerNeighbour(rc, lb, la.Attrs().HardwareAddr))
		out[e.pcx] = la.Attrs().Index
	}
	kind := r.p.prefix + string(kindPeer)
	r.removeLinks(c, func(l netlink.Link) bool {
		n := l.Attrs().Name
		return strings.HasPrefix(n, kind) && len(n) == len(kind)+8 && !want[n]
	})
	return out
}

// setPeerNeighbour makes peerGW on link l a permanent neighbour with mac.
func setPeerNeighbour(c *nsCtx, l netlink.Link, mac net.HardwareAddr) error {
	err := c.h.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: netlink.FAMILY_V4,
		State: netlink.NUD_PERMANENT, IP: net.IP(peerGW.AsSlice()), HardwareAddr: mac})
	if err != nil {
		return fmt.Errorf("%s: peering neighbour on %s: %w", c.name, l.Attrs().Name, err)
	}
	return nil
}

// ensurePeerRouting makes the router's peering tables and rules: for each
// subnet with peering routes whose link is up, its table and a rule for
// packets from it.
func (r *reconciler) ensurePeerRouting(c *nsCtx, v VPC, links map[string]int) {
	var routes []route
	var rules []policy
	var tables []int
	for _, s := range v.Subnets {
		si := r.subnets[s.ID]
		if si == nil {
			continue
		}
		tbl := peerTable(s.ID)
		tables = append(tables, tbl)
		n := len(routes)
		for _, pr := range s.PeerRoutes {
			dst, err := netip.ParsePrefix(pr.CIDR)
			idx, ok := links[pr.Peering]
			if err != nil || !dst.Addr().Is4() || !ok {
				continue
			}
			routes = append(routes, route{dst: dst.Masked(), gw: peerGW, link: idx, table: tbl})
		}
		routes = append(routes, r.eniRoutes(c, s.ENIRoutes, tbl)...)
		if len(routes) > n {
			rules = append(rules, policy{prio: rtPrioPeer, src: si.prefix, table: tbl})
		}
	}
	r.count(ensureRoutes(c, tables, routes))
	r.count(ensureRules(c, rtPrioPeer, rtPrioPeer, rules))
}

// peerLinkNames are the names of a VPC's ends of its peering links (kept by
// removeLeftovers).
func (r *reconciler) peerLinkNames(vpc string) []string {
	var out []string
	for _, pc := range r.peerings {
		if pc.VPCs[0] == vpc || pc.VPCs[1] == vpc {
			out = append(out, peerLinkName(r.p.prefix, pc.ID, vpc))
		}
	}
	return out
}

// peerGuardRules are the router guard's rules for peering links, first in
// its forward (and output) chain: what arrived over a peering link leaves
// only by a subnet leg, and only what came in by a subnet leg leaves by a
// peering link (no transit: not between peering links, not from or to the
// internet); what a subnet's route sends over a peering link goes (its next
// hop is the link's permanent neighbour).
func peerGuardRules(prefix string, forward bool) [][]expr.Any {
	peer := []byte(prefix + string(kindPeer))
	leg := []byte(prefix + string(kindRouterNS))
	accept := []expr.Any{meta(expr.MetaKeyOIFNAME), cmpEq(peer), verdict(expr.VerdictAccept)}
	if !forward {
		return [][]expr.Any{accept}
	}
	return [][]expr.Any{
		{meta(expr.MetaKeyIIFNAME), cmpEq(peer), meta(expr.MetaKeyOIFNAME), cmpNeq(leg), &expr.Counter{}, verdict(expr.VerdictDrop)},
		{meta(expr.MetaKeyOIFNAME), cmpEq(peer), meta(expr.MetaKeyIIFNAME), cmpNeq(leg), &expr.Counter{}, verdict(expr.VerdictDrop)},
		accept,
	}
}

// eniRoutes are a subnet's routes to ENIs, in table tbl of the router: each to
// the ENI's primary address on its subnet's leg. A route to an ENI that is not
// there (not attached, not up) is left out: a blackhole, as on AWS.
func (r *reconciler) eniRoutes(c *nsCtx, ers []ENIRoute, tbl int) []route {
	var out []route
	for _, er := range ers {
		dst, err := netip.ParsePrefix(er.CIDR)
		e, ok := r.findENI(er.ENI)
		if err != nil || !dst.Addr().Is4() || !ok {
			continue
		}
		gw, err := netip.ParseAddr(e.PrimaryIP)
		si := r.subnets[e.SubnetID]
		if err != nil || si == nil {
			continue
		}
		leg, err := c.h.LinkByName(si.legRT)
		if err != nil { // ensureRouters makes the legs first: try again next pass
			r.fail(fmt.Errorf("%s: route %s to %s: leg %s: %w", c.name, er.CIDR, er.ENI, si.legRT, err))
			continue
		}
		out = append(out, route{dst: dst.Masked(), gw: gw, link: leg.Attrs().Index, table: tbl})
	}
	return out
}
