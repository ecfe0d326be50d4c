package dataplane

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The VPC resolver (Amazon-provided DNS), and where it listens.
//
// As the metadata service, it is the server's and lives in the VPC's router namespace:
// the VPC's resolver address (its primary block's base + 2, VPC.ResolverIP),
// 169.254.169.253 and fd00:ec2::253 are on the router's loopback, and the plane opens a
// UDP socket and a TCP listener on port 53 of each, inside the router namespace, that
// it hands to the server (Options.DNS) with the VPC's id: the VPC names the records it
// answers, so only the VPC's own ENIs can ask it (nothing else reaches the router's legs).
// The router's guard lets UDP and TCP to port 53 of these addresses in, from the subnet legs
// only (never from the uplink or a peering link: the internet and peer VPCs cannot query a
// VPC's resolver); as on AWS,
// security groups do not filter it (the egress tail lets it pass). When base + 2 falls inside a
// subnet, the router's leg answers ARP for it (the router's stack answers for all of its
// addresses on every link), as the subnet's reserved address.

// Resolver addresses every VPC router has besides its VPC's base + 2.
var (
	ResolverIPv4 = netip.MustParseAddr("169.254.169.253")
	ResolverIPv6 = netip.MustParseAddr("fd00:ec2::253")
)

const dnsPort = 53

// dnsState is the plane's resolver sockets, by VPC.
type dnsState struct {
	mu      sync.Mutex
	routers map[string]*dnsRouter
}

type dnsRouter struct {
	gen     uint64     // of the router namespace's handle the sockets were opened in
	addr    netip.Addr // the VPC's base + 2 they listen on
	closers []interface{ Close() error }
}

// resolverAddrs are the addresses the resolver of a VPC whose base + 2 is vpcIP
// answers on.
func resolverAddrs(vpcIP netip.Addr) []netip.Addr {
	out := []netip.Addr{ResolverIPv4, ResolverIPv6}
	if vpcIP.IsValid() {
		out = append([]netip.Addr{vpcIP}, out...)
	}
	return out
}

// ensureDNSListeners puts the resolver's addresses on the router's loopback and serves
// a UDP socket and a TCP listener on port 53 of each (once per router namespace handle
// and resolver address).
func (r *reconciler) ensureDNSListeners(v VPC, c *nsCtx) {
	p := r.p
	if p.dns == nil {
		return
	}
	vpcIP, _ := netip.ParseAddr(v.ResolverIP)
	p.dnsl.mu.Lock()
	cur := p.dnsl.routers[v.ID]
	p.dnsl.mu.Unlock()
	same := cur != nil && cur.gen == c.gen && cur.addr == vpcIP
	if same && !r.full {
		return
	}
	lo, err := c.linkByName("lo")
	if err != nil || lo == nil {
		r.fail(fmt.Errorf("%s: lo: %v", c.name, err))
		return
	}
	var want []netip.Prefix
	for _, a := range resolverAddrs(vpcIP) {
		want = append(want, netip.PrefixFrom(a, a.BitLen()))
	}
	n, err := ensureLocalAddrs(c, lo, want)
	r.count(n, err)
	if err != nil || same {
		return
	}
	p.closeDNS(v.ID)
	var pcs []net.PacketConn
	var lns []net.Listener
	err = doInNS(c.ns, func() error {
		for _, a := range resolverAddrs(vpcIP) {
			ap := netip.AddrPortFrom(a, dnsPort).String()
			pc, err := net.ListenPacket("udp", ap)
			if err != nil {
				return err
			}
			pcs = append(pcs, pc)
			ln, err := net.Listen("tcp", ap)
			if err != nil {
				return err
			}
			lns = append(lns, p.dnsConns.limit(ln, v.ID)) // connlimit.go
		}
		return nil
	})
	dr := &dnsRouter{gen: c.gen, addr: vpcIP}
	for _, pc := range pcs {
		dr.closers = append(dr.closers, pc)
	}
	for _, ln := range lns {
		dr.closers = append(dr.closers, ln)
	}
	if err != nil {
		for _, cl := range dr.closers {
			_ = cl.Close() // not served yet
		}
		r.fail(fmt.Errorf("%s: resolver sockets: %w", c.name, err))
		return
	}
	p.dnsl.mu.Lock()
	p.dnsl.routers[v.ID] = dr
	p.dnsl.mu.Unlock()
	for _, pc := range pcs {
		go func() { _ = p.dns.ServeDNSPacket(v.ID, pc) }() // returns when the socket is closed
	}
	for _, ln := range lns {
		go func() { _ = p.dns.ServeDNSStream(v.ID, ln) }()
	}
	r.changes++
}

// closeDNS closes the resolver sockets of a VPC's router.
func (p *Plane) closeDNS(vpcID string) {
	p.dnsl.mu.Lock()
	cur := p.dnsl.routers[vpcID]
	delete(p.dnsl.routers, vpcID)
	p.dnsl.mu.Unlock()
	if cur == nil {
		return
	}
	for _, cl := range cur.closers {
		_ = cl.Close() // its Serve returns
	}
}

// closeAllDNS closes every resolver socket.
func (p *Plane) closeAllDNS() {
	p.dnsl.mu.Lock()
	ids := make([]string, 0, len(p.dnsl.routers))
	for id := range p.dnsl.routers {
		ids = append(ids, id)
	}
	p.dnsl.mu.Unlock()
	for _, id := range ids {
		p.closeDNS(id)
	}
}

// dnsMatch matches UDP or TCP to port 53 of address a (l4 is the protocol).
func dnsMatch(a netip.Addr, l4 byte) []expr.Any {
	proto, off := byte(unix.NFPROTO_IPV4), uint32(16)
	if a.Is6() {
		proto, off = unix.NFPROTO_IPV6, 24
	}
	return cat([]expr.Any{meta(expr.MetaKeyNFPROTO), cmpEq([]byte{proto})},
		prefixMatch(off, hostPrefix(a)),
		[]expr.Any{meta(expr.MetaKeyL4PROTO), cmpEq([]byte{l4}),
			load(expr.PayloadBaseTransportHeader, 2, 2), cmpEq(binaryutil.BigEndian.PutUint16(dnsPort))})
}

// dnsInput are the router guard's input rules that let queries to the resolver in from
// the subnet legs only (the interfaces named <prefix>s…): not from the uplink, not over a
// peering link (a peer VPC's instances ask their own resolver).
func dnsInput(prefix string, vpcIP netip.Addr) [][]expr.Any {
	leg := []byte(prefix + string(kindRouterNS))
	var out [][]expr.Any
	for _, a := range resolverAddrs(vpcIP) {
		for _, l4 := range []byte{unix.IPPROTO_UDP, unix.IPPROTO_TCP} {
			out = append(out, cat([]expr.Any{meta(expr.MetaKeyIIFNAME), cmpEq(leg)},
				dnsMatch(a, l4), []expr.Any{verdict(expr.VerdictAccept)}))
		}
	}
	return out
}

// dnsEgress are the rules of the egress tail (egressTail) that let an ENI reach its VPC's resolver whatever
// its groups (as on AWS, where groups do not filter Amazon-provided DNS).
func dnsEgress(vpcIP netip.Addr) [][]expr.Any {
	var out [][]expr.Any
	for _, a := range resolverAddrs(vpcIP) {
		for _, l4 := range []byte{unix.IPPROTO_UDP, unix.IPPROTO_TCP} {
			out = append(out, append(slices.Clip(dnsMatch(a, l4)), verdict(expr.VerdictReturn)))
		}
	}
	return out
}
