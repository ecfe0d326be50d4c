package dataplane

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Egress-only internet gateways. A subnet whose route table sends ::/0 to one
// (Subnet.EgressOnlyIPv6) reaches the simulated internet over IPv6, at InternetIPv6 and
// beyond, with its own addresses (no translation, as on AWS), and gets the replies; nothing
// the internet starts comes in. In the VPC router, `from <subnet's IPv6 block> lookup 102`
// (priority 33100, after the main table, so the VPC's own blocks stay local) sends ::/0 out
// of the uplink to the internet leg's link-local address; the internet namespace routes the
// block back through the uplink's link-local address (routes of protocol 0x46, its own).
// The statefulness is the ACL table's (nacl_linux.go): IPv6 that comes in on the uplink
// passes only when connection tracking knows it as a reply (established or related).
// A subnet whose ::/0 goes to an internet gateway (Subnet.PublicIPv6) is routed the same
// way, and the ACL table lets the internet start connections to it (its security groups
// decide, as on AWS).

// InternetIPv6 is the simulated internet's IPv6 address (on its loopback).
var InternetIPv6 = netip.MustParseAddr("2001:db8:ffff::1")

const (
	rtEgressOnly     = 102   // router: ::/0 via the uplink, for subnets behind an egress-only gateway
	rtPrioEgressOnly = 33100 // router: `from <subnet's IPv6 block> lookup 102`
	// routeProtoEgressOnly marks the internet namespace's routes back to those subnets
	// (its other routes, protocol routeProto, are ensureRouters').
	routeProtoEgressOnly = netlink.RouteProtocol(0x46)
)

// eigwCache is what ensureEgressOnly last realised.
type eigwCache struct {
	vpcs    map[string]eigwEntry
	inetKey uint64
}

type eigwEntry struct {
	key  uint64
	inet []route // the routes back to its subnets, in the internet namespace
}

// ensureEgressOnly realises the IPv6 routes of the subnets behind egress-only gateways.
func (r *reconciler) ensureEgressOnly() {
	if r.inet == nil {
		return
	}
	if r.c.eigw.vpcs == nil {
		r.c.eigw.vpcs = map[string]eigwEntry{}
	}
	var inet []route
	seen := map[string]bool{}
	for _, v := range r.vpcs {
		c := r.routers[v.ID]
		if c == nil {
			continue
		}
		seen[v.ID] = true
		inet = append(inet, r.ensureEgressOnlyVPC(v, c)...)
	}
	for id := range r.c.eigw.vpcs {
		if !seen[id] {
			delete(r.c.eigw.vpcs, id)
		}
	}
	key := specKey(fmt.Sprint(inet), r.inet.gen)
	if key == r.c.eigw.inetKey && !r.full {
		return
	}
	r.c.eigw.inetKey = 0
	n0 := r.nerr
	lo, err := r.inet.linkByName("lo")
	if err != nil || lo == nil {
		r.fail(fmt.Errorf("%s: lo: %v", r.inet.name, err))
		return
	}
	if err := r.inet.h.AddrReplace(lo, &netlink.Addr{IPNet: ipNet(netip.PrefixFrom(InternetIPv6, 128))}); err != nil {
		r.fail(fmt.Errorf("%s: address %s: %w", r.inet.name, InternetIPv6, err))
	}
	r.count(ensureProtoRoutes6(r.inet, routeProtoEgressOnly, inet))
	if r.nerr == n0 {
		r.c.eigw.inetKey = key
	}
}

// ensureEgressOnlyVPC realises one router's part and returns the internet's routes back.
func (r *reconciler) ensureEgressOnlyVPC(v VPC, c *nsCtx) []route {
	var pfx []netip.Prefix
	for _, s := range v.Subnets {
		if si := r.subnets[s.ID]; si != nil && (si.EgressOnlyIPv6 || si.PublicIPv6) && si.prefix6.IsValid() {
			pfx = append(pfx, si.prefix6)
		}
	}
	upName := ifName(r.p.prefix, kindUplink, v.ID)
	gName := ifName(r.p.prefix, kindInetLeg, v.ID)
	// A router made whole may have a new uplink; one changed by its ENIs alone (a move,
	// routerincr_linux.go) has the same.
	rt := r.c.routers[v.ID]
	key := specKey(fmt.Sprint(pfx), upName, gName, c.gen, r.inet.gen, rt.made)
	if ent, ok := r.c.eigw.vpcs[v.ID]; ok && ent.key == key && !r.full {
		return ent.inet
	}
	delete(r.c.eigw.vpcs, v.ID)
	var routes, inet []route
	var rules []policy
	if len(pfx) > 0 {
		up, err1 := c.linkByName(upName)
		g, err2 := r.inet.linkByName(gName)
		if err := errors.Join(err1, err2); err != nil || up == nil || g == nil {
			r.fail(fmt.Errorf("%s: egress-only gateway: uplink: %v", c.name, err))
			return nil
		}
		upLL, gLL := linkLocal(up.Attrs().HardwareAddr), linkLocal(g.Attrs().HardwareAddr)
		routes = append(routes, route{dst: anyIPv6, gw: gLL, link: up.Attrs().Index, table: rtEgressOnly})
		for _, p := range pfx {
			rules = append(rules, policy{prio: rtPrioEgressOnly, src: p, table: rtEgressOnly})
			inet = append(inet, route{dst: p, gw: upLL, link: g.Attrs().Index, table: unix.RT_TABLE_MAIN})
		}
	}
	n0 := r.nerr
	r.count(ensureRoutes(c, []int{rtEgressOnly}, routes))
	r.count(ensureRules(c, rtPrioEgressOnly, rtPrioEgressOnly, rules))
	if r.nerr == n0 {
		r.c.eigw.vpcs[v.ID] = eigwEntry{key: key, inet: inet}
	}
	return inet
}

// ensureProtoRoutes6 makes c's IPv6 routes of protocol proto in the main table exactly want.
func ensureProtoRoutes6(c *nsCtx, proto netlink.RouteProtocol, want []route) (int, error) {
	have, err := c.h.RouteListFiltered(netlink.FAMILY_V6, &netlink.Route{Protocol: proto, Table: unix.RT_TABLE_MAIN},
		netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return 0, fmt.Errorf("%s: list routes: %w", c.name, err)
	}
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w.key()] = true
	}
	n := 0
	var errs error
	haveKeys := map[string]bool{}
	for _, hr := range have {
		r := route{link: hr.LinkIndex, table: hr.Table}
		if hr.Dst != nil {
			r.dst = prefixOf(hr.Dst)
		}
		if hr.Gw != nil {
			r.gw, _ = netip.AddrFromSlice(hr.Gw)
		}
		if wanted[r.key()] {
			haveKeys[r.key()] = true
			continue
		}
		if err := c.h.RouteDel(&hr); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = errors.Join(errs, fmt.Errorf("%s: delete route %s: %w", c.name, r.dst, err))
			continue
		}
		n++
	}
	for _, w := range want {
		if haveKeys[w.key()] {
			continue
		}
		nr := w.netlink()
		nr.Protocol = proto
		if err := c.h.RouteReplace(nr); err != nil {
			errs = errors.Join(errs, fmt.Errorf("%s: add route %s via %s: %w", c.name, w.dst, w.gw, err))
			continue
		}
		n++
	}
	return n, errs
}
