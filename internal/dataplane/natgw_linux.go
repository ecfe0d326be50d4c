package dataplane

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// NAT gateways. A gateway is a namespace of its own (an Instance with the gateway's id)
// whose eth0 is its ENI, an Unfiltered one (no security groups, source/dest check off).
// Subnets route 0.0.0.0/0 to that ENI (Subnet.DefaultRouteENI), as to a NAT instance; in
// the gateway's namespace the table "<prefix>natgw" then
//
//   - forwards new connections from its Sources only (its VPC's blocks), and of the rest
//     only what connection tracking knows as a reply: nothing the internet starts gets
//     through it (an Elastic IP maps to the gateway's own address, where nothing listens);
//   - translates the sources to its private addresses (NATGateway.SNAT: a public
//     gateway's with an Elastic IP), each new connection to one of them by a hash of its
//     source address and port, with source ports natPortMin–natPortMax: 55,000 ports, so
//     at most 55,000 connections at a time to one destination (address, port and
//     protocol) per address, AWS's documented limit, beyond which new connections fail
//     (AWS's ErrorPortAllocation);
//   - answers ICMP itself and drops every other new connection to it.
//
// Its connection tracking forgets an idle TCP connection, or a UDP flow, after
// natIdleTimeout (AWS's 350 s idle timeout). A public gateway's Elastic IP is an ordinary
// 1:1 mapping at the router's uplink (router_linux.go), so the internet sees the EIP.

const (
	natPortMin     = 1024
	natPortMax     = natPortMin + 55000 - 1
	natIdleTimeout = "350"
)

// natgwSysctls are a gateway namespace's sysctls besides an instance's (eth: its ENI).
func natgwSysctls(eth string) []sysctl {
	return []sysctl{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv4/conf/all/send_redirects", "0"},
		{"net/ipv4/conf/default/send_redirects", "0"},
		{"net/ipv4/conf/" + eth + "/send_redirects", "0"},
	}
}

// natgwTimeouts are set once its table (and so connection tracking) is in place.
var natgwTimeouts = []sysctl{
	{"net/netfilter/nf_conntrack_tcp_timeout_established", natIdleTimeout},
	{"net/netfilter/nf_conntrack_udp_timeout", natIdleTimeout},
	{"net/netfilter/nf_conntrack_udp_timeout_stream", natIdleTimeout},
}

// natgwTable is the gateway's table: e is its ENI, snat the addresses it translates to
// (one of e's, primary first), sources the blocks it serves.
func natgwTable(prefix string, e *eniInfo, snat []netip.Addr, sources []netip.Prefix) *nftTable {
	t := &nftTable{name: prefix + "natgw", family: nftables.TableFamilyIPv4}
	eth := ifnameKey(e.eth)
	post := t.chain(&nftChain{name: "post", hook: nftables.ChainHookPostrouting,
		prio: nftables.ChainPriorityNATSource, typ: nftables.ChainTypeNAT})
	forwarded := []expr.Any{meta(expr.MetaKeyIIFNAME), cmpEq(eth), meta(expr.MetaKeyOIFNAME), cmpEq(eth)}
	for i, ip := range snat {
		for _, proto := range []byte{unix.IPPROTO_TCP, unix.IPPROTO_UDP} {
			post.add(cat(forwarded, []expr.Any{meta(expr.MetaKeyL4PROTO), cmpEq([]byte{proto})}, natgwPick(i, len(snat), true),
				[]expr.Any{&expr.Immediate{Register: 1, Data: ip.AsSlice()},
					&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(natPortMin)},
					&expr.Immediate{Register: 3, Data: binaryutil.BigEndian.PutUint16(natPortMax)},
					&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1,
						RegProtoMin: 2, RegProtoMax: 3, Specified: true}})...)
		}
		other := []expr.Any{meta(expr.MetaKeyL4PROTO), cmpNeq([]byte{unix.IPPROTO_TCP}), cmpNeq([]byte{unix.IPPROTO_UDP})}
		post.add(cat(forwarded, other, natgwPick(i, len(snat), false), []expr.Any{&expr.Immediate{Register: 1, Data: ip.AsSlice()},
			&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}})...)
	}

	replies := append(ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), verdict(expr.VerdictAccept))
	drop := []expr.Any{&expr.Counter{}, verdict(expr.VerdictDrop)}
	fwd := t.chain(&nftChain{name: "forward", hook: nftables.ChainHookForward,
		prio: nftables.ChainPriorityFilter, typ: nftables.ChainTypeFilter})
	fwd.add(replies...)
	for _, p := range sources {
		fwd.add(cat([]expr.Any{meta(expr.MetaKeyIIFNAME), cmpEq(eth)}, ctState(expr.CtStateBitNEW),
			prefixMatch(12, p), []expr.Any{verdict(expr.VerdictAccept)})...)
	}
	fwd.add(drop...)
	in := t.chain(&nftChain{name: "input", hook: nftables.ChainHookInput,
		prio: nftables.ChainPriorityFilter, typ: nftables.ChainTypeFilter})
	in.add(replies...)
	in.add(meta(expr.MetaKeyL4PROTO), cmpEq([]byte{unix.IPPROTO_ICMP}), verdict(expr.VerdictAccept))
	in.add(meta(expr.MetaKeyIIFNAME), cmpEq(ifnameKey("lo")), verdict(expr.VerdictAccept))
	in.add(drop...)
	return t
}

// natgwPick matches the new connections that go to address i of n: a hash of the
// source address (and port, withPort) modulo n is i. The last address takes every
// connection the others did not (none is left untranslated), and nothing is matched
// when n is 1.
func natgwPick(i, n int, withPort bool) []expr.Any {
	if i == n-1 {
		return nil
	}
	es := []expr.Any{&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 8, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}}
	length := uint32(4)
	if withPort {
		es = append(es, &expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 9, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 2})
		length = 8 // registers of 4 bytes each
	}
	return append(es, &expr.Hash{SourceRegister: 8, DestRegister: 1, Length: length, Modulus: uint32(n), Type: expr.HashTypeJenkins},
		cmpEq(native32(uint32(i))))
}

// ensureNATGateways configures the namespaces of the NAT gateways.
func (r *reconciler) ensureNATGateways() {
	if r.c.natgw == nil {
		r.c.natgw = map[string]uint64{}
	}
	seen := map[string]bool{}
	for _, g := range r.natgws {
		c, e := r.insts[g.ID], r.planned(g.ENIID)
		if c == nil || e == nil || e.InstanceID != g.ID || len(e.ips) == 0 {
			continue // not up (yet): what is missing is reported where it is made
		}
		if _, ok := r.status.ENIs.Lookup(e.ID); !ok {
			continue
		}
		seen[g.ID] = true
		var sources []netip.Prefix
		for _, s := range g.Sources {
			if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
				sources = append(sources, p.Masked())
			}
		}
		t := natgwTable(r.p.prefix, e, natgwAddrs(e, g.SNAT), sources)
		digest := nftDigest(t)
		key := specKey(digest, c.gen)
		if r.c.natgw[g.ID] == key && !r.full {
			continue
		}
		delete(r.c.natgw, g.ID)
		n0 := r.nerr
		// The table before forwarding: a packet forwarded without it would leave
		// untranslated, and its flow would stay so (connection tracking decides a
		// flow's translation on its first packet).
		r.ensureNATGatewayTable(c, t, digest)
		if r.nerr == n0 {
			r.count(ensureSysctls(c.ns, append(natgwSysctls(e.eth), natgwTimeouts...)))
		}
		if r.nerr == n0 {
			r.c.natgw[g.ID] = key
		}
	}
	for id := range r.c.natgw {
		if !seen[id] {
			delete(r.c.natgw, id)
		}
	}
}

// ensureNATGatewayTable replaces the gateway's table unless it holds t already.
func (r *reconciler) ensureNATGatewayTable(c *nsCtx, t *nftTable, digest string) {
	conn, err := c.nft()
	if err != nil {
		r.fail(fmt.Errorf("%s: nftables: %w", c.name, err))
		return
	}
	defer c.nftDone(r, r.nerr)
	if ok, err := nftCurrent(conn, digest, t); err != nil || ok {
		r.fail(err)
		return
	}
	if err := nftReplace(conn, digest, t); err != nil {
		r.fail(fmt.Errorf("%s: NAT gateway: %w", c.name, err))
		return
	}
	r.changes++
}

// natgwAddrs are the addresses of snat that e has, its primary first; none: the primary.
func natgwAddrs(e *eniInfo, snat []string) []netip.Addr {
	out := []netip.Addr{e.ips[0]}
	for _, a := range snat {
		ip, err := netip.ParseAddr(a)
		if err == nil && ip != e.ips[0] && slices.Contains(e.ips, ip) {
			out = append(out, ip)
		}
	}
	return out
}
