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

// neighboursKey is the spec of a router's neighbours and prefix routes.
func neighboursKey(ns []neighbour, pfx6 []prefixRoute) uint64 {
	k := newKeyHash()
	for _, n := range ns {
		k.str(n.subnet)
		k.addr(n.ip)
		k.str(n.mac.String())
	}
	for _, p := range pfx6 {
		k.str(p.subnet)
		k.prefix(p.pfx)
		k.addr(p.via)
	}
	return k.sum()
}

// ensureRouterGuard replaces the router's filter table: the next hop of everything
// forwarded or sent to a leg is a known neighbour; nothing but ICMP reaches the router's
// own stack. (The router's spec key covers the neighbours, so this runs when they change.)
// It is replaced whatever it holds when force (its generation says someone else changed it).
func (r *reconciler) ensureRouterGuard(c *nsCtx, uplink, resolver string, ns []neighbour, md []mdEntry, force bool) {
	conn, err := newNFT(int(c.ns))
	if err != nil {
		r.fail(fmt.Errorf("%s: nftables: %w", c.name, err))
		return
	}
	defer conn.CloseLasting()
	tab := &nftables.Table{Name: r.p.prefix + "rt", Family: nftables.TableFamilyINet}
	marker := fmt.Sprintf("v%s_%016x", nftVersion, neighboursKey(ns, nil)^specKey(uplink, "peering-guard", "resolver "+resolver)^mdKey(md))
	if chains, err := conn.ListChainsOfTableFamily(tab.Family); err == nil && !force {
		for _, ch := range chains {
			if ch.Table != nil && ch.Table.Name == tab.Name && ch.Name == marker {
				return // what it holds is what ns asks for
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
	var v4, v6 []nftables.SetElement
	for _, n := range ns {
		if n.ip.Is4() {
			v4 = append(v4, nftables.SetElement{Key: n.ip.AsSlice()})
		} else {
			v6 = append(v6, nftables.SetElement{Key: n.ip.AsSlice()})
		}
	}
	if err := addMetadataRules(conn, tab, md); err != nil {
		r.fail(fmt.Errorf("%s: router guard: %w", c.name, err))
		return
	}
	for _, hook := range []*nftables.ChainHook{nftables.ChainHookForward, nftables.ChainHookOutput} {
		ch := conn.AddChain(&nftables.Chain{Name: fmt.Sprint("guard", *hook), Table: tab, Hooknum: hook,
			Priority: nftables.ChainPriorityFilter, Type: nftables.ChainTypeFilter, Policy: &accept})
		add := func(es ...expr.Any) { conn.AddRule(&nftables.Rule{Table: tab, Chain: ch, Exprs: es}) }
		for _, es := range peerGuardRules(r.p.prefix, *hook == *nftables.ChainHookForward) {
			add(es...)
		}
		add(meta(expr.MetaKeyOIFNAME), cmpEq(ifnameKey(uplink)), verdict(expr.VerdictAccept))
		add(meta(expr.MetaKeyOIFNAME), cmpEq(ifnameKey("lo")), verdict(expr.VerdictAccept))
		add(append(prefixMatch(24, netip.MustParsePrefix("ff00::/8")), meta(expr.MetaKeyNFPROTO),
			cmpEq([]byte{unix.NFPROTO_IPV6}), verdict(expr.VerdictAccept))...)
		for _, f := range []struct {
			proto byte
			key   expr.RtKey
			typ   nftables.SetDatatype
			elems []nftables.SetElement
		}{{unix.NFPROTO_IPV4, expr.RtNexthop4, nftables.TypeIPAddr, v4}, {unix.NFPROTO_IPV6, expr.RtNexthop6, nftables.TypeIP6Addr, v6}} {
			if len(f.elems) == 0 {
				continue
			}
			set := &nftables.Set{Table: tab, Anonymous: true, Constant: true, KeyType: f.typ}
			if err := conn.AddSet(set, slices.Clone(f.elems)); err != nil {
				r.fail(fmt.Errorf("%s: router guard: %w", c.name, err))
				return
			}
			add(meta(expr.MetaKeyNFPROTO), cmpEq([]byte{f.proto}), &expr.Rt{Register: 1, Key: f.key},
				&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID}, verdict(expr.VerdictAccept))
		}
		add(&expr.Counter{}, verdict(expr.VerdictDrop))
	}
	if err := conn.Flush(); err != nil {
		r.fail(fmt.Errorf("%s: router guard: %w", c.name, err))
		return
	}
	r.changes++
}
