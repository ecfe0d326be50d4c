package dataplane

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// underlayHosts makes two "host" namespaces of the test's own (ov<rand>-h1, -h2) joined by
// a veth: h1 at 10.254.0.1/24, h2 at 10.254.0.2/24, IPv6 off and each other's MAC
// permanent (so that nothing but the overlay's own packets crosses the veth). It returns
// the namespaces' names and the veth's name in h1.
func underlayHosts(t *testing.T) (h1, h2, veth string) {
	t.Helper()
	requireNetAdmin(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	tag := fmt.Sprintf("ov%02x%02x", b[0], b[1])
	h1, h2, veth = tag+"-h1", tag+"-h2", tag+"u"
	var hs [2]*nsCtx
	for i, name := range []string{h1, h2} {
		ns, err := createNS(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = deleteNS(name) })
		c, err := openCtx(name, ns)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.close)
		if _, err := ensureSysctls(ns, []sysctl{{"net/ipv6/conf/all/disable_ipv6", "1"}, {"net/ipv6/conf/default/disable_ipv6", "1"}}); err != nil {
			t.Fatal(err)
		}
		lo, _ := c.linkByName("lo")
		if err := c.h.LinkSetUp(lo); err != nil {
			t.Fatal(err)
		}
		hs[i] = c
	}
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: veth}, PeerName: veth, PeerNamespace: netlink.NsFd(int(hs[1].ns))}
	if err := hs[0].h.LinkAdd(v); err != nil {
		t.Fatal(err)
	}
	var links [2]netlink.Link
	for i, c := range hs {
		l, err := c.linkByName(veth)
		if err != nil || l == nil {
			t.Fatalf("%s: %v", veth, err)
		}
		a, _ := netlink.ParseAddr(fmt.Sprintf("10.254.0.%d/24", i+1))
		if err := c.h.AddrAdd(l, a); err != nil {
			t.Fatal(err)
		}
		if err := c.h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
		links[i] = l
	}
	for i, c := range hs {
		other := links[1-i]
		if err := c.h.NeighSet(&netlink.Neigh{LinkIndex: links[i].Attrs().Index, Family: netlink.FAMILY_V4, State: netlink.NUD_PERMANENT,
			IP: net.ParseIP(fmt.Sprintf("10.254.0.%d", 2-i)), HardwareAddr: other.Attrs().HardwareAddr}); err != nil {
			t.Fatal(err)
		}
	}
	return h1, h2, veth
}

// overlayWorld is the region of the overlay test: which host each instance runs on.
type overlayWorld struct {
	hostOf map[string]int // instance → 0 or 1
	ns     [2]string
	enis   []ENI
}

var underlayIP = [2]string{"10.254.0.1", "10.254.0.2"}

func newOverlayWorld(h1, h2 string) *overlayWorld {
	return &overlayWorld{
		hostOf: map[string]int{"i-a": 0, "i-x": 0, "i-b": 1, "i-c": 1},
		ns:     [2]string{h1, h2},
		enis: []ENI{
			{ID: "eni-a", MAC: "02:00:00:00:01:0a", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.0.1.10",
				IPv6: []string{"2001:db8:1::10"}, InstanceID: "i-a", SourceDestCheck: true, Groups: []string{"sg-open"}},
			{ID: "eni-b", MAC: "02:00:00:00:01:0b", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.0.1.11",
				IPv6: []string{"2001:db8:1::11"}, InstanceID: "i-b", SourceDestCheck: true, Groups: []string{"sg-web"}},
			{ID: "eni-c", MAC: "02:00:00:00:02:0c", SubnetID: "subnet-b", VPCID: "vpc-1", PrimaryIP: "10.0.2.10",
				IPv6: []string{"2001:db8:2::10"}, InstanceID: "i-c", SourceDestCheck: true, Groups: []string{"sg-open"}},
			{ID: "eni-m", MAC: "02:00:00:00:01:20", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.0.1.20",
				InstanceID: "i-a", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}},
			{ID: "eni-x", MAC: "02:00:00:00:01:0d", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.0.1.13",
				InstanceID: "i-x", SourceDestCheck: true, Groups: []string{"sg-open"}},
		},
	}
}

// desired is host h's share of the region.
func (w *overlayWorld) desired(h int) Desired {
	all := []string{"0.0.0.0/0", "::/0"}
	d := Desired{
		VPCs: []VPC{{ID: "vpc-1", Subnets: []Subnet{
			{ID: "subnet-a", CIDR: "10.0.1.0/24", IPv6CIDR: "2001:db8:1::/64", VNI: 101, Public: true},
			{ID: "subnet-b", CIDR: "10.0.2.0/24", IPv6CIDR: "2001:db8:2::/64", VNI: 102},
		}}},
		Groups: []Group{
			{ID: "sg-open", Ingress: []Rule{{Protocol: "-1", CIDRs: all}}, Egress: []Rule{{Protocol: "-1", CIDRs: all}}},
			{ID: "sg-web", Ingress: []Rule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: all},
				{Protocol: "udp", FromPort: 9, ToPort: 9, CIDRs: all},
				{Protocol: "icmp", FromPort: -1, ToPort: -1, CIDRs: all[:1]}, {Protocol: "icmpv6", FromPort: -1, ToPort: -1, CIDRs: all[1:]}},
				Egress: []Rule{{Protocol: "-1", CIDRs: all}}},
		},
		PublicIPs: []PublicMapping{
			{Public: "198.51.100.10", Private: "10.0.1.10", ENIID: "eni-a", VPCID: "vpc-1"},
			{Public: "198.51.100.11", Private: "10.0.1.11", ENIID: "eni-b", VPCID: "vpc-1"},
			{Public: "198.51.100.20", Private: "10.0.1.20", ENIID: "eni-m", VPCID: "vpc-1"},
		},
		Overlay: &Overlay{Local: underlayIP[h], UnderlayNS: nsPath(w.ns[h]), Hosts: underlayIP[:]},
	}
	for _, id := range []string{"i-a", "i-b", "i-c", "i-x"} {
		if w.hostOf[id] == h {
			d.Instances = append(d.Instances, Instance{ID: id, Running: true})
		}
	}
	for _, e := range w.enis {
		if o := w.hostOf[e.InstanceID]; o == h {
			d.ENIs = append(d.ENIs, e)
		} else {
			d.Overlay.Remote = append(d.Overlay.Remote, RemoteENI{ENI: e, Host: underlayIP[o]})
		}
	}
	return d
}

// echo sends one ICMP (or ICMPv6) echo request from the namespace to addr and waits for
// its reply.
func echo(p *Plane, nsname, addr string, timeout time.Duration) error {
	dst := netip.MustParseAddr(addr)
	network, laddr, typ := "ip4:icmp", "0.0.0.0", byte(8)
	if dst.Is6() {
		network, laddr, typ = "ip6:ipv6-icmp", "::", 128
	}
	var c net.PacketConn
	if err := p.Do(nsname, func() error {
		var err error
		c, err = net.ListenPacket(network, laddr)
		return err
	}); err != nil {
		return err
	}
	defer c.Close()
	id := uint16(time.Now().UnixNano())
	msg := []byte{typ, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'e', 'n', 'i'}
	if dst.Is4() {
		var sum uint32
		for i := 0; i < len(msg); i += 2 {
			w := uint32(msg[i]) << 8
			if i+1 < len(msg) {
				w |= uint32(msg[i+1])
			}
			sum += w
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		binary.BigEndian.PutUint16(msg[2:], ^uint16(sum))
	} // the kernel computes ICMPv6 checksums
	if _, err := c.WriteTo(msg, &net.IPAddr{IP: net.IP(dst.AsSlice())}); err != nil {
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("no echo reply from %s: %w", addr, err)
		}
		a, _ := netip.AddrFromSlice(from.(*net.IPAddr).IP)
		if a.Unmap() == dst && n >= 8 && (buf[0] == 0 || buf[0] == 129) && binary.BigEndian.Uint16(buf[4:]) == id {
			return nil
		}
	}
}

func mustEcho(t *testing.T, p *Plane, nsname, addr string) {
	t.Helper()
	if err := echo(p, nsname, addr, passTimeout); err != nil {
		t.Fatalf("%s → %s: %v", nsname, addr, err)
	}
}

// txPackets is the packets sent by the link in the named namespace.
func txPackets(t *testing.T, nsname, link string) uint64 {
	t.Helper()
	var n uint64
	withHandle(t, nsname, func(h *netlink.Handle) {
		l, err := h.LinkByName(link)
		if err != nil {
			t.Fatal(err)
		}
		n = l.Attrs().Statistics.TxPackets
	})
	return n
}

// TestOverlay: two hosts, each with its own Plane, realise one VPC over a VXLAN overlay.
// Instances on different hosts talk as if on one segment (ICMP, TCP, IPv4 and IPv6) and
// through the routers across subnets; the destination host enforces its ENI's security
// group; neighbour resolution never crosses the underlay; an ENI moved from host 1 to
// host 2 is reached there; a second pass changes nothing on either host.
func TestOverlay(t *testing.T) {
	h1, h2, veth := underlayHosts(t)
	p := [2]*Plane{newTestPlane(t), newTestPlane(t)}
	w := newOverlayWorld(h1, h2)
	for h := range p {
		reconcileStable(t, p[h], w.desired(h))
	}
	ns := func(inst string) string { return p[w.hostOf[inst]].InstanceNS(inst) }
	// Servers (the test's, not a subtest's: they outlive the subtests).
	serveTCP(t, p[0], ns("i-a"), 80, "a")
	serveTCP(t, p[1], ns("i-b"), 80, "b")
	serveTCP(t, p[1], ns("i-b"), 81, "b81")
	serveTCP(t, p[1], ns("i-c"), 80, "c")
	serveTCP(t, p[0], ns("i-a"), 90, "a90")
	serveTCP(t, p[1], ns("i-b"), 90, "b90")

	t.Run("same subnet", func(t *testing.T) {
		mustEcho(t, p[0], ns("i-a"), "10.0.1.11")
		mustEcho(t, p[0], ns("i-a"), "2001:db8:1::11")
		mustEcho(t, p[1], ns("i-b"), "10.0.1.10")
		mustReach(t, p[0], ns("i-a"), "10.0.1.11:80", "b ")
		mustReach(t, p[0], ns("i-a"), "[2001:db8:1::11]:80", "b ")
		mustReach(t, p[1], ns("i-b"), "10.0.1.10:80", "a ")
		mustReach(t, p[1], ns("i-b"), "[2001:db8:1::10]:80", "a ")
	})
	t.Run("security group on the destination host", func(t *testing.T) {
		mustNotReach(t, p[0], ns("i-a"), "10.0.1.11:81")
		mustNotReach(t, p[0], ns("i-a"), "[2001:db8:1::11]:81")
	})
	t.Run("across subnets", func(t *testing.T) {
		mustEcho(t, p[0], ns("i-a"), "10.0.2.10")
		mustEcho(t, p[0], ns("i-a"), "2001:db8:2::10")
		mustReach(t, p[0], ns("i-a"), "10.0.2.10:80", "c ")
		mustReach(t, p[0], ns("i-a"), "[2001:db8:2::10]:80", "c ")
		mustReach(t, p[1], ns("i-c"), "10.0.1.10:80", "a ")
		mustReach(t, p[1], ns("i-c"), "[2001:db8:1::10]:80", "a ")
		// The datapaths track only flows with a local end: none from a router leg to a
		// remote ENI (mark 0: neither end an ENI of the host).
		for h := range p {
			withHandle(t, p[h].DatapathNS(), func(hd *netlink.Handle) {
				for _, fam := range []netlink.InetFamily{unix.AF_INET, unix.AF_INET6} {
					flows, err := hd.ConntrackTableList(netlink.ConntrackTable, fam)
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range flows {
						if f.Mark == 0 {
							t.Errorf("host %d tracks %s → %s (mark 0)", h+1, f.Forward.SrcIP, f.Forward.DstIP)
						}
					}
				}
			})
		}
	})
	t.Run("no neighbour discovery crosses the underlay", func(t *testing.T) {
		for _, x := range [][2]string{{"10.0.1.11", "10.0.1.10"}, {"2001:db8:1::11", "2001:db8:1::10"}} {
			dst := x[0]
			u := listenUDP(t, p[1], ns("i-b"), net.JoinHostPort(dst, "9"))
			withHandle(t, ns("i-a"), func(h *netlink.Handle) {
				l, err := h.LinkByName("eth0")
				if err != nil {
					t.Fatal(err)
				}
				for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
					ns, _ := h.NeighList(l.Attrs().Index, fam)
					for _, n := range ns {
						_ = h.NeighDel(&n)
					}
				}
			})
			before := txPackets(t, h1, veth)
			sendUDP(t, p[0], "i-a", net.JoinHostPort(dst, "9"))
			if !received(u, x[1], passTimeout) {
				t.Fatalf("%s: the datagram did not arrive", dst)
			}
			if sent := txPackets(t, h1, veth) - before; sent != 1 {
				t.Errorf("%s: %d packets crossed the underlay, want 1 (the datagram)", dst, sent)
			}
			withHandle(t, ns("i-a"), func(h *netlink.Handle) {
				l, _ := h.LinkByName("eth0")
				fam := netlink.FAMILY_V4
				if netip.MustParseAddr(dst).Is6() {
					fam = netlink.FAMILY_V6
				}
				ns, _ := h.NeighList(l.Attrs().Index, fam)
				for _, n := range ns {
					if n.IP.String() == dst && n.HardwareAddr.String() == "02:00:00:00:01:0b" {
						return
					}
				}
				t.Errorf("%s: not resolved to eni-b's MAC: %v", dst, ns)
			})
		}
	})
	t.Run("the internet across hosts", func(t *testing.T) {
		for h := range p {
			mustReach(t, p[h], p[h].InternetNS(), "198.51.100.11:80", "b ")
			mustReach(t, p[h], p[h].InternetNS(), "198.51.100.10:80", "a ")
			mustReach(t, p[h], p[h].InternetNS(), "198.51.100.20:90", "a90 ")
		}
	})
	t.Run("move to the other host", func(t *testing.T) {
		mustReach(t, p[0], ns("i-x"), "10.0.1.20:90", "a90 ")
		mustReach(t, p[1], ns("i-c"), "10.0.1.20:90", "a90 ")
		for i := range w.enis {
			if w.enis[i].ID == "eni-m" {
				w.enis[i].InstanceID = "i-b"
			}
		}
		for h := range p {
			reconcile(t, p[h], w.desired(h))
		}
		mustReach(t, p[0], ns("i-x"), "10.0.1.20:90", "b90 ")
		mustReach(t, p[1], ns("i-c"), "10.0.1.20:90", "b90 ")
		mustReach(t, p[0], ns("i-a"), "10.0.1.20:90", "b90 ")
		for h := range p { // the Elastic IP follows
			mustReach(t, p[h], p[h].InternetNS(), "198.51.100.20:90", "b90 ")
		}
		for h := range p {
			reconcileStable(t, p[h], w.desired(h))
		}
		mustReach(t, p[0], ns("i-x"), "10.0.1.20:90", "b90 ")
		// and back
		for i := range w.enis {
			if w.enis[i].ID == "eni-m" {
				w.enis[i].InstanceID = "i-a"
			}
		}
		for h := range p {
			reconcile(t, p[h], w.desired(h))
		}
		mustReach(t, p[0], ns("i-x"), "10.0.1.20:90", "a90 ")
		mustReach(t, p[1], ns("i-c"), "10.0.1.20:90", "a90 ")
		mustReach(t, p[1], ns("i-b"), "10.0.1.20:90", "a90 ")
		for h := range p {
			mustReach(t, p[h], p[h].InternetNS(), "198.51.100.20:90", "a90 ")
		}
	})
	for h := range p {
		if st := reconcile(t, p[h], w.desired(h)); st.Changes != 0 {
			t.Errorf("host %d: a pass with nothing to do made %d changes", h+1, st.Changes)
		}
		if st := verify(t, p[h], w.desired(h)); st.Changes != 0 {
			t.Errorf("host %d: a full pass with nothing to do made %d changes", h+1, st.Changes)
		}
	}
	// Without the overlay, the VXLAN ports and the overlay table go.
	d := w.desired(0)
	d.Overlay = nil
	reconcileStable(t, p[0], d)
	withHandle(t, p[0].DatapathNS(), func(h *netlink.Handle) {
		links, _ := h.LinkList()
		for _, l := range links {
			if l.Type() == "vxlan" {
				t.Errorf("VXLAN port %s left without the overlay", l.Attrs().Name)
			}
		}
	})
	withHandle(t, p[0].InternetNS(), func(h *netlink.Handle) {
		links, _ := h.LinkList()
		for _, l := range links {
			if l.Type() == "vxlan" {
				t.Errorf("internet segment %s left without the overlay", l.Attrs().Name)
			}
		}
	})
}
