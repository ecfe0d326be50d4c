package e2e

// Attacks by root inside an instance on the data plane (issue 9): each test
// crafts the frames an attacker would (rawpkt_linux_test.go) from inside its
// instance's namespace and checks that the promise holds — security groups,
// the source/destination check, MAC/IP anti-spoofing, the router's neighbour
// table, the datapath's own stack and its ruleset.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Waits of the attack tests. A frame that must not arrive is given quiet
// (delivery through the veths and bridge takes microseconds; this is margin
// for a loaded machine); one that must arrive, or a connection that must work,
// gets up to `arrive`.
const (
	quiet  = time.Second
	arrive = 3 * time.Second
	// driftBound is how long a tampered datapath ruleset may stay tampered.
	driftBound = 2 * time.Second
)

// node is a lab instance as an attacker knows it.
type node struct {
	id, ns, eni string
	mac         net.HardwareAddr
	ip4, ip6    netip.Addr // primary IPv4 and first IPv6 address
	ll          netip.Addr // eth0's link-local address
}

// lab: a VPC with IPv4 and IPv6; subnet 1 holds A (the attacker) and V (the
// victim), subnet 2 holds C (a bystander, reached through the VPC router). V's
// group "web" admits only tcp/80 (from the VPC's IPv4 CIDR and from ::/0); A's
// and C's group "open" admits everything from the same sources. V serves tcp
// 80 ("v") and 22 ("v-ssh"), C serves tcp 7000 ("c").
type lab struct {
	*env
	vpc, sub1, sub2  string
	prefix1, prefix2 netip.Prefix // the subnets' IPv6 /64s
	open, web        string
	a, v, c          node
	rt               string           // the VPC router's namespace
	rtMAC            net.HardwareAddr // the router's leg on subnet 1
	rt4, rt6, rtLL   netip.Addr       // its addresses there
}

func newLab(t *testing.T) *lab {
	t.Helper()
	e := newEnv(t)
	l := &lab{env: e}
	out, err := e.ec2.CreateVpc(ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	e.must(err)
	l.vpc = *out.Vpc.VpcId
	block := netip.MustParsePrefix(*out.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock) // a /56
	l.prefix1 = netip.PrefixFrom(block.Addr(), 64)
	b := block.Addr().As16()
	b[7]++
	l.prefix2 = netip.PrefixFrom(netip.AddrFrom16(b), 64)
	l.sub1 = l.subnet6("10.0.1.0/24", l.prefix1)
	l.sub2 = l.subnet6("10.0.2.0/24", l.prefix2)
	l.open = l.group("open", "-1", 0)
	l.web = l.group("web", "tcp", 80)
	ia, iv, ic := l.launch6(l.sub1, l.open), l.launch6(l.sub1, l.web), l.launch6(l.sub2, l.open)
	e.waitRunning(ia, iv, ic)
	l.a, l.v, l.c = l.node(ia), l.node(iv), l.node(ic)
	l.rt = e.plane.RouterNS(l.vpc)
	l.rt4 = netip.MustParseAddr("10.0.1.1")
	l.rt6 = l.prefix1.Addr().Next()
	e.must(e.plane.Do(l.rt, func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, ifi := range ifs {
			addrs, _ := ifi.Addrs()
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(l.rt4.AsSlice()) {
					l.rtMAC = ifi.HardwareAddr
				}
			}
		}
		if l.rtMAC == nil {
			return fmt.Errorf("no router leg with %s", l.rt4)
		}
		return nil
	}))
	l.rtLL = eui64LL(l.rtMAC)
	e.serve(l.v.ns, 80, "v")
	e.serve(l.v.ns, 22, "v-ssh")
	e.serve(l.c.ns, 7000, "c")
	e.reach(l.a.ns, hostPort(l.v.ip6, 80), "v")
	e.reach(l.a.ns, hostPort(l.v.ll, 80), "v")
	e.reach(l.c.ns, hostPort(l.v.ip6, 80), "v")
	e.reach(l.v.ns, hostPort(l.c.ip6, 7000), "c")
	e.settle()
	t.Logf("A %s %s %s %s; V %s %s %s %s; C %s %s; router %s %s %s", l.a.mac, l.a.ip4, l.a.ip6, l.a.ll,
		l.v.mac, l.v.ip4, l.v.ip6, l.v.ll, l.c.ip4, l.c.ip6, l.rtMAC, l.rt6, l.rtLL)
	return l
}

// sub runs f as a subtest with the env's helpers failing that subtest.
func (l *lab) sub(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	t.Run(name, func(st *testing.T) {
		saved := l.env.t
		l.env.t = st
		defer func() { l.env.t = saved }()
		f(st)
	})
}

func (l *lab) subnet6(cidr string, p6 netip.Prefix) string {
	l.t.Helper()
	out, err := l.ec2.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: aws.String(l.vpc), CidrBlock: aws.String(cidr),
		Ipv6CidrBlock: aws.String(p6.String()), AvailabilityZone: aws.String(testAZ)})
	l.must(err)
	return *out.Subnet.SubnetId
}

// group creates a group admitting proto (port, for tcp/udp) from 10.0.0.0/16 and ::/0.
func (l *lab) group(name, proto string, port int32) string {
	l.t.Helper()
	out, err := l.ec2.CreateSecurityGroup(ctx(), &ec2.CreateSecurityGroupInput{VpcId: aws.String(l.vpc),
		GroupName: aws.String(name), Description: aws.String(name)})
	l.must(err)
	perm := types.IpPermission{IpProtocol: aws.String(proto), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/16")}},
		Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}
	if proto != "-1" {
		perm.FromPort, perm.ToPort = aws.Int32(port), aws.Int32(port)
	}
	_, err = l.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: out.GroupId,
		IpPermissions: []types.IpPermission{perm}})
	l.must(err)
	return *out.GroupId
}

// launch6 runs an instance with one IPv6 address on eth0.
func (l *lab) launch6(subnet string, groups ...string) string {
	l.t.Helper()
	out, err := l.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: groups,
		Ipv6AddressCount: aws.Int32(1)})
	l.must(err)
	return *out.Instances[0].InstanceId
}

// node describes the instance and waits until eth0's link-local address is
// usable (past duplicate address detection).
func (l *lab) node(id string) node {
	l.t.Helper()
	n := l.primaryENI(id)
	if len(n.Ipv6Addresses) == 0 {
		l.t.Fatalf("%s: eth0 has no IPv6 address", id)
	}
	nd := node{id: id, ns: l.plane.InstanceNS(id), eni: *n.NetworkInterfaceId, mac: mustMAC(*n.MacAddress),
		ip4: netip.MustParseAddr(*n.PrivateIpAddress), ip6: netip.MustParseAddr(*n.Ipv6Addresses[0].Ipv6Address)}
	l.waitFor(id+" link-local address ready", func() (bool, string) {
		var ll netip.Addr
		var tentative bool
		err := l.plane.Do(nd.ns, func() error {
			link, err := netlink.LinkByName("eth0")
			if err != nil {
				return err
			}
			addrs, err := netlink.AddrList(link, netlink.FAMILY_V6)
			for _, a := range addrs {
				if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.IsLinkLocalUnicast() {
					ll, tentative = ip, a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0
				}
			}
			return err
		})
		if err != nil || !ll.IsValid() || tentative {
			return false, fmt.Sprintf("%v %v tentative=%v", ll, err, tentative)
		}
		nd.ll = ll
		return true, ""
	})
	if nd.ll != eui64LL(nd.mac) {
		l.t.Logf("%s: eth0's link-local address %s is not the EUI-64 of its MAC %s", id, nd.ll, nd.mac)
	}
	return nd
}

// hostPort is "addr:port", with eth0 as the zone of a link-local address.
func hostPort(a netip.Addr, port int) string {
	h := a.String()
	if a.Is6() && a.IsLinkLocalUnicast() {
		h += "%eth0"
	}
	return net.JoinHostPort(h, strconv.Itoa(port))
}

func zoneOf(a netip.Addr) string {
	if a.IsLinkLocalUnicast() {
		return "eth0"
	}
	return ""
}

func udpAddr(a netip.Addr, port int) *net.UDPAddr {
	return &net.UDPAddr{IP: a.AsSlice(), Port: port, Zone: zoneOf(a)}
}

func tcpAddr(a netip.Addr, port int) *net.TCPAddr {
	return &net.TCPAddr{IP: a.AsSlice(), Port: port, Zone: zoneOf(a)}
}

// send sends frames from the node's eth0 as they are.
func (l *lab) send(n node, frames ...[]byte) {
	l.t.Helper()
	r := l.openRaw(n.ns, "eth0")
	if err := r.send(frames...); err != nil {
		l.t.Fatalf("send from %s: %v", n.id, err)
	}
}

// repeat sends the frames from n's eth0 every interval until stop is called.
func (l *lab) repeat(n node, every time.Duration, frames ...[]byte) (stop func()) {
	l.t.Helper()
	r := l.openRaw(n.ns, "eth0")
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			_ = r.send(frames...) // the first send is checked below
			select {
			case <-quit:
				return
			case <-time.After(every):
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	l.t.Cleanup(stop)
	return stop
}

// dialFrom connects from local inside the namespace and returns the first line the server sends.
func (e *env) dialFrom(nsname string, local *net.TCPAddr, addr string, timeout time.Duration) (string, error) {
	var c net.Conn
	err := e.plane.Do(nsname, func() error {
		var err error
		d := net.Dialer{LocalAddr: local, Timeout: timeout}
		c, err = d.Dial("tcp", addr)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	buf := make([]byte, 128)
	n, err := c.Read(buf)
	return strings.TrimSpace(string(buf[:n])), err
}

// connects reports whether a TCP handshake from local to addr completes inside
// the namespace (nil), whatever happens to data afterwards.
func (e *env) connects(nsname string, local *net.TCPAddr, addr string, timeout time.Duration) error {
	return e.plane.Do(nsname, func() error {
		d := net.Dialer{LocalAddr: local, Timeout: timeout}
		c, err := d.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err
	})
}

// udpLog is a UDP server's record of what it received.
type udpLog struct {
	mu  sync.Mutex
	got []string // "payload from"
}

// udpEcho serves UDP port (IPv4 and IPv6) in the namespace: it records each
// datagram and answers it with "name:payload".
func (e *env) udpEcho(nsname string, port int, name string) *udpLog {
	e.t.Helper()
	var c *net.UDPConn
	err := e.plane.Do(nsname, func() error {
		var err error
		c, err = net.ListenUDP("udp", &net.UDPAddr{Port: port})
		return err
	})
	if err != nil {
		e.t.Fatalf("udp listen on %d in %s: %v", port, nsname, err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	u := &udpLog{}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			u.mu.Lock()
			u.got = append(u.got, string(buf[:n])+" "+from.String())
			u.mu.Unlock()
			_, _ = c.WriteToUDP([]byte(name+":"+string(buf[:n])), from)
		}
	}()
	return u
}

// received waits up to d for a datagram whose payload starts with prefix and
// returns "payload from".
func (u *udpLog) received(prefix string, d time.Duration) (string, bool) {
	deadline := time.Now().Add(d)
	for {
		u.mu.Lock()
		for _, g := range u.got {
			if strings.HasPrefix(g, prefix) {
				u.mu.Unlock()
				return g, true
			}
		}
		u.mu.Unlock()
		if !time.Now().Before(deadline) {
			return "", false
		}
		time.Sleep(pollInterval)
	}
}

// udpAsk sends payload from local to dst inside the namespace and returns the
// first datagram that comes back from dst within the timeout ("" if none).
func (e *env) udpAsk(nsname string, local, dst *net.UDPAddr, payload string, timeout time.Duration) string {
	e.t.Helper()
	var c *net.UDPConn
	err := e.plane.Do(nsname, func() error {
		var err error
		c, err = net.ListenUDP("udp", local)
		return err
	})
	if err != nil {
		e.t.Fatalf("udp bind %s in %s: %v", local, nsname, err)
	}
	defer c.Close()
	if _, err := c.WriteToUDP([]byte(payload), dst); err != nil {
		e.t.Fatalf("udp send %s → %s: %v", local, dst, err)
	}
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			return ""
		}
		if from.IP.Equal(dst.IP) && from.Port == dst.Port {
			return string(buf[:n])
		}
	}
}

// setSourceDestCheck turns the ENI's source/destination check on or off and settles.
func (l *lab) setSourceDestCheck(eni string, on bool) {
	l.t.Helper()
	_, err := l.ec2.ModifyNetworkInterfaceAttribute(ctx(), &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String(eni), SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(on)}})
	l.must(err)
	l.settle()
}

// neigh is a neighbour table entry.
type neigh struct {
	ip    netip.Addr
	mac   string
	state int
}

// neighs lists the namespace's neighbour entries (both families).
func (e *env) neighs(nsname string) []neigh {
	e.t.Helper()
	var out []neigh
	e.must(e.plane.Do(nsname, func() error {
		ns, err := netlink.NeighList(0, netlink.FAMILY_ALL)
		for _, n := range ns {
			ip, ok := netip.AddrFromSlice(n.IP)
			if !ok {
				continue
			}
			out = append(out, neigh{ip: ip.Unmap(), mac: n.HardwareAddr.String(), state: n.State})
		}
		return err
	}))
	return out
}

// neighWithMAC waits up to d for an entry with the link-layer address mac.
func (e *env) neighWithMAC(nsname string, mac net.HardwareAddr, d time.Duration) (neigh, bool) {
	deadline := time.Now().Add(d)
	for {
		for _, n := range e.neighs(nsname) {
			if n.mac == mac.String() {
				return n, true
			}
		}
		if !time.Now().Before(deadline) {
			return neigh{}, false
		}
		time.Sleep(5 * pollInterval)
	}
}

// forgetNeigh deletes the namespace's neighbour entries for ip.
func (e *env) forgetNeigh(nsname string, ip netip.Addr) {
	e.t.Helper()
	e.must(e.plane.Do(nsname, func() error {
		ns, err := netlink.NeighList(0, netlink.FAMILY_ALL)
		for _, n := range ns {
			if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == ip {
				_ = netlink.NeighDel(&n) // it may have gone meanwhile
			}
		}
		return err
	}))
}

// isRefused reports whether err is a TCP reset (ECONNREFUSED): something answered.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// --- 1. conntrack planting ---

// TestAttackConntrackPlanting (issue 9, item 1): V's group admits only tcp/80,
// and A cannot get around it by planting a connection-tracking entry. A sends,
// to the router's MAC (the router's port has no ingress group) and with hop
// limit / TTL 1 (so that the router does not send it back to A), a packet that
// looks like V's to A: V's link-local address as its source (the anti-spoofing
// check lets fe80::/64 through), or V's IPv4 address with A's source/dest check
// off. The subnet's conntrack zone then holds a "flow" V→A, and A's packets to
// V's closed ports are its replies, accepted as established.
//
//	plant:  Ether(A_MAC→ROUTER_MAC)/IPv6(V_LL→A_LL, hlim 1)/UDP(53→5555) "plant"
//	probe:  UDP socket [A_LL%eth0]:5555 → [V_LL%eth0]:53 "probe6"  (V's udp/53 must not get it, A no answer)
//	plant:  Ether(A_MAC→ROUTER_MAC)/IPv6(V_LL→A_LL, hlim 1)/TCP(22→5600, SYN)
//	probe:  TCP connect [A_LL%eth0]:5600 → [V_LL%eth0]:22  (the handshake must not complete; today it
//	        does, and only V's data is then dropped, as invalid for the planted sequence numbers)
//	and with A's check off, the same over IPv4 (V_IP→A_IP, TTL 1; ports 5556 and 5601).
func TestAttackConntrackPlanting(t *testing.T) {
	l := newLab(t)
	a, v := l.a, l.v
	rx := l.udpEcho(v.ns, 53, "v")
	// The listener works: V answers itself.
	if ans := l.udpAsk(v.ns, udpAddr(netip.IPv6Loopback(), 0), udpAddr(netip.IPv6Loopback(), 53), "self", arrive); ans != "v:self" {
		t.Fatalf("V's udp/53 does not answer locally: %q", ans)
	}

	l.sub(t, "UDPToClosedPortOverPlantedLinkLocalFlow", func(t *testing.T) {
		// Without a planted entry, the group drops A's datagram.
		if ans := l.udpAsk(a.ns, udpAddr(a.ll, 5554), udpAddr(v.ll, 53), "base6", quiet); ans != "" {
			t.Fatalf("baseline: V's udp/53 answered A (%q) without any planted entry: the group is not enforced", ans)
		}
		l.send(a, eth6(l.rtMAC, a.mac, ip6Pkt(v.ll, a.ll, 1, ipUDP, udpSeg(v.ll, a.ll, 53, 5555, []byte("plant")))))
		ans := l.udpAsk(a.ns, udpAddr(a.ll, 5555), udpAddr(v.ll, 53), "probe6", quiet)
		if got, ok := rx.received("probe6", 0); ok || ans != "" {
			t.Errorf("a planted flow [%s]:53→[%s]:5555 let A's datagram through V's group: V received %q, A got answer %q", v.ll, a.ll, got, ans)
		}
	})

	l.sub(t, "TCPHandshakeToClosedPortOverPlantedLinkLocalSYN", func(t *testing.T) {
		if err := l.connects(a.ns, tcpAddr(a.ll, 5599), hostPort(v.ll, 22), failTimeout); err == nil {
			t.Fatalf("baseline: A's handshake with V's tcp/22 completed without any planted entry")
		}
		l.send(a, eth6(l.rtMAC, a.mac, ip6Pkt(v.ll, a.ll, 1, ipTCP, tcpSeg(v.ll, a.ll, 22, 5600, 0x1000, 0, tcpSYN, nil))))
		if err := l.connects(a.ns, tcpAddr(a.ll, 5600), hostPort(v.ll, 22), quiet); err == nil {
			t.Errorf("a planted SYN [%s]:22→[%s]:5600 let A's handshake with V's tcp/22 complete", v.ll, a.ll)
		}
	})

	l.setSourceDestCheck(a.eni, false)

	l.sub(t, "UDPToClosedPortOverPlantedIPv4FlowWithCheckOff", func(t *testing.T) {
		if ans := l.udpAsk(a.ns, udpAddr(a.ip4, 5557), udpAddr(v.ip4, 53), "base4", quiet); ans != "" {
			t.Fatalf("baseline: V's udp/53 answered A (%q) without any planted entry", ans)
		}
		l.send(a, eth4(l.rtMAC, a.mac, ip4Pkt(v.ip4, a.ip4, 1, ipUDP, udpSeg(v.ip4, a.ip4, 53, 5556, []byte("plant")))))
		ans := l.udpAsk(a.ns, udpAddr(a.ip4, 5556), udpAddr(v.ip4, 53), "probe4", quiet)
		if got, ok := rx.received("probe4", 0); ok || ans != "" {
			t.Errorf("a planted flow %s:53→%s:5556 (A's check off) let A's datagram through V's group: V received %q, A got answer %q", v.ip4, a.ip4, got, ans)
		}
	})

	l.sub(t, "TCPHandshakeToClosedPortOverPlantedIPv4SYNWithCheckOff", func(t *testing.T) {
		if err := l.connects(a.ns, tcpAddr(a.ip4, 5598), hostPort(v.ip4, 22), failTimeout); err == nil {
			t.Fatalf("baseline: A's handshake with V's tcp/22 completed without any planted entry")
		}
		l.send(a, eth4(l.rtMAC, a.mac, ip4Pkt(v.ip4, a.ip4, 1, ipTCP, tcpSeg(v.ip4, a.ip4, 22, 5601, 0x1000, 0, tcpSYN, nil))))
		if err := l.connects(a.ns, tcpAddr(a.ip4, 5601), hostPort(v.ip4, 22), quiet); err == nil {
			t.Errorf("a planted SYN %s:22→%s:5601 (A's check off) let A's handshake with V's tcp/22 complete", v.ip4, a.ip4)
		}
	})
}

// TestAttackConntrackHijackThroughRouter: the pins (sgPins in the datapath) let a tracked
// connection's packet through only from the ENI that is its end, each rule alone. A, its
// check off, forges packets of connections between ENIs of its subnet and C in the other
// subnet, to the router's MAC: there the router is the connection's other end, so only
// the check of the packet's source ENI stands between A and C.
//
//	original direction (V began it): Ether(A_MAC→ROUTER_MAC)/IP(V_IP→C_IP)/UDP(5701→5300) "forged"
//	reply direction (C began it with W): Ether(A_MAC→ROUTER_MAC)/IP(W_IP→C_IP)/UDP(5301→5702) "forged-reply"
//
// The same frames sent by V and W themselves reach C: what stops A's is the pins.
func TestAttackConntrackHijackThroughRouter(t *testing.T) {
	l := newLab(t)
	iw := l.launch6(l.sub1, l.open)
	l.waitRunning(iw)
	a, v, c, w := l.a, l.v, l.c, l.node(iw)
	l.setSourceDestCheck(a.eni, false)
	frame := func(from node, src netip.Addr, sport, dport uint16, payload string) []byte {
		return eth4(l.rtMAC, from.mac, ip4Pkt(src, c.ip4, 64, ipUDP, udpSeg(src, c.ip4, sport, dport, []byte(payload))))
	}
	// forge sends the packet of owner's end of a connection to C from A, then from owner:
	// only the second may reach C (rx).
	forge := func(t *testing.T, rx *udpLog, owner node, sport, dport uint16, forged, genuine, what, whose string) {
		l.send(a, frame(a, owner.ip4, sport, dport, forged))
		if got, ok := rx.received(forged, quiet); ok {
			t.Errorf("A's forged %s reached C: %q", what, got)
		}
		l.send(owner, frame(owner, owner.ip4, sport, dport, genuine))
		if _, ok := rx.received(genuine, arrive); !ok {
			t.Errorf("%s did not reach C: the test shows nothing", whose)
		}
	}

	l.sub(t, "OriginalDirection", func(t *testing.T) {
		rx := l.udpEcho(c.ns, 5300, "c")
		if ans := l.udpAsk(v.ns, udpAddr(v.ip4, 5701), udpAddr(c.ip4, 5300), "hello", arrive); ans != "c:hello" {
			t.Fatalf("V's flow to C: answer %q", ans)
		}
		forge(t, rx, v, 5701, 5300, "forged", "genuine", "packet of V's connection to C", "V's own packet of its connection to C")
	})

	l.sub(t, "ReplyDirection", func(t *testing.T) {
		l.udpEcho(w.ns, 5301, "w")
		if ans := l.udpAsk(c.ns, udpAddr(c.ip4, 5702), udpAddr(w.ip4, 5301), "hi", arrive); ans != "w:hi" {
			t.Fatalf("C's flow to W: answer %q", ans)
		}
		rx := l.udpEcho(c.ns, 5702, "c2") // C's end of the connection, listening again
		forge(t, rx, w, 5301, 5702, "forged-reply", "genuine-reply", "reply of C's connection to W", "W's own reply of C's connection")
	})
}

// --- 2. spoofed IPv6 sources ---

// TestAttackSpoofedIPv6Source (issue 9, item 2): with the source/dest check on,
// an ENI may source only its own addresses — its own link-local address (the
// EUI-64 of its MAC) and its IPv6 addresses; :: is for DAD, ND and MLD only.
// A sends TCP SYNs to V's tcp/80 (which V's group admits from ::/0) with other
// sources; none may reach V's eth0 (sniffed there). Its own addresses must.
//
//	Ether(A_MAC→V_MAC)/IPv6(SRC→DST)/TCP(sport→80, SYN), SRC in {A_LL, A_IP6, fe80::dead, ::, ROUTER_LL}, DST in {V_LL, V_IP6}
func TestAttackSpoofedIPv6Source(t *testing.T) {
	l := newLab(t)
	a, v := l.a, l.v
	cases := []struct {
		name     string
		src, dst netip.Addr
		want     bool
	}{
		{"OwnLinkLocalToLinkLocalArrives", a.ll, v.ll, true},
		{"OwnLinkLocalToGlobalArrives", a.ll, v.ip6, true},
		{"OwnGlobalToGlobalArrives", a.ip6, v.ip6, true},
		{"ForeignLinkLocalToLinkLocalDropped", netip.MustParseAddr("fe80::dead"), v.ll, false},
		{"ForeignLinkLocalToGlobalDropped", netip.MustParseAddr("fe80::dead"), v.ip6, false},
		{"UnspecifiedToLinkLocalDropped", netip.IPv6Unspecified(), v.ll, false},
		{"UnspecifiedToGlobalDropped", netip.IPv6Unspecified(), v.ip6, false},
		{"RouterLinkLocalToLinkLocalDropped", l.rtLL, v.ll, false},
		{"VictimLinkLocalToGlobalDropped", v.ll, v.ip6, false},
	}
	const base = 41000
	sn := l.sniff(v.ns, "eth0", func(p pkt) bool {
		s, d := p.ports()
		return !p.outgoing && p.proto == ipTCP && p.tcpFlags()&tcpSYN != 0 && d == 80 && s >= base && s < base+uint16(len(cases))
	})
	var frames [][]byte
	for i, c := range cases {
		frames = append(frames, eth6(v.mac, a.mac, ip6Pkt(c.src, c.dst, 64, ipTCP, tcpSeg(c.src, c.dst, uint16(base+i), 80, 1, 0, tcpSYN, nil))))
	}
	l.send(a, frames...)
	time.Sleep(quiet)
	got := map[uint16]bool{}
	for _, p := range sn.all() {
		s, _ := p.ports()
		got[s] = true
	}
	for i, c := range cases {
		l.sub(t, c.name, func(t *testing.T) {
			if arrived := got[uint16(base+i)]; arrived != c.want {
				t.Errorf("SYN [%s]→[%s]:80 from A: arrived at V %v, want %v", c.src, c.dst, arrived, c.want)
			}
		})
	}
	l.sub(t, "OwnLinkLocalConnects", func(t *testing.T) {
		l.reach(a.ns, hostPort(v.ll, 80), "v")
		if got, err := l.dialFrom(a.ns, tcpAddr(a.ll, 0), hostPort(v.ip6, 80), arrive); err != nil || !strings.HasPrefix(got, "v ") {
			t.Errorf("A from its link-local address to [%s]:80: %q %v", v.ip6, got, err)
		}
	})
}

// --- 3. NDP poisoning ---

// TestAttackNDPPoisoning (issue 9, item 3): neighbour discovery from an ENI may
// speak only for the ENI: an NA's target must be one of its addresses (and its
// link-layer option its MAC), an NS's source link-layer option its MAC. C (in
// subnet 2) reaches V's IPv6 through the router; A must not redirect that by
// claiming V's address to the router, nor V's traffic to the router by
// claiming the router's address to V.
//
//	NS:  Ether(A_MAC→33:33:ff:..)/IPv6(A_LL→ff02::1:ffXX:XXXX of V_IP6, hlim 255)/NS(target V_IP6, SLLA 02:00:00:00:de:01)
//	NS:  Ether(A_MAC→33:33:ff:..)/IPv6(A_IP6→ff02::1:ffXX:XXXX of RT6, hlim 255)/NS(target RT6, SLLA 02:00:00:00:de:02)
//	NA:  Ether(A_MAC→33:33:00:00:00:01)/IPv6(A_LL→ff02::1, hlim 255)/NA(O, target V_IP6, TLLA A_MAC)
//	     and the same unicast Ether(A_MAC→ROUTER_MAC)/IPv6(A_LL→ROUTER_LL); every 100 ms, plain,
//	     behind a destination options header, and split in two fragments;
//	NA:  Ether(A_MAC→33:33:00:00:00:01)/IPv6(A_LL→ff02::1, hlim 255)/NA(R|O, target RT6, TLLA A_MAC), every 100 ms.
func TestAttackNDPPoisoning(t *testing.T) {
	l := newLab(t)
	a, v, c := l.a, l.v, l.c
	allNodes := netip.MustParseAddr("ff02::1")

	l.sub(t, "NSWithForgedLinkLayerOptionNotLearnedByVictim", func(t *testing.T) {
		// Control: an honest NS (A's own MAC in the option) is learned.
		l.forgetNeigh(v.ns, a.ip6)
		sol := solicitedNode(v.ip6)
		l.send(a, eth6(mcastMAC(sol), a.mac, ip6Pkt(a.ip6, sol, 255, ipICMPv6, ndNS(a.ip6, sol, v.ip6, a.mac))))
		if _, ok := l.neighWithMAC(v.ns, a.mac, arrive); !ok {
			t.Fatalf("control: V did not learn A's honest NS (%s at %s)", a.ip6, a.mac)
		}
		forged := mustMAC("02:00:00:00:de:01")
		l.send(a, eth6(mcastMAC(sol), a.mac, ip6Pkt(a.ll, sol, 255, ipICMPv6, ndNS(a.ll, sol, v.ip6, forged))))
		if n, ok := l.neighWithMAC(v.ns, forged, quiet); ok {
			t.Errorf("V learned %s at %s from A's NS with a forged source link-layer option", n.ip, n.mac)
		}
	})

	l.sub(t, "NSWithForgedLinkLayerOptionNotLearnedByRouter", func(t *testing.T) {
		forged := mustMAC("02:00:00:00:de:02")
		sol := solicitedNode(l.rt6)
		l.send(a, eth6(mcastMAC(sol), a.mac, ip6Pkt(a.ip6, sol, 255, ipICMPv6, ndNS(a.ip6, sol, l.rt6, forged))))
		if n, ok := l.neighWithMAC(l.rt, forged, quiet); ok {
			t.Errorf("the router learned %s at %s from A's NS with a forged source link-layer option", n.ip, n.mac)
		}
	})

	// fresh: the router knows V's IPv6 at V's MAC (C just talked to V); a learned
	// entry (maybe poisoned by the subtest before) is forgotten first, a permanent
	// one (the router knowing its neighbours from the model) is left alone.
	fresh := func() {
		for _, n := range l.neighs(l.rt) {
			if n.ip == v.ip6 && n.state&unix.NUD_PERMANENT == 0 {
				l.forgetNeigh(l.rt, v.ip6)
			}
		}
		l.reach(c.ns, hostPort(v.ip6, 80), "v")
	}
	// poisoned reports, while A keeps sending frames, whether the router's
	// entry for V's IPv6 carries A's MAC, and whether C still reaches V.
	check := func(t *testing.T, what string, frames ...[]byte) {
		stop := l.repeat(a, 100*time.Millisecond, frames...)
		defer stop()
		time.Sleep(300 * time.Millisecond)
		for _, n := range l.neighs(l.rt) {
			if n.ip == v.ip6 && n.mac == a.mac.String() {
				t.Errorf("%s: the router's entry for V's %s now carries A's MAC %s (state %#x)", what, v.ip6, a.mac, n.state)
			}
		}
		if got, err := l.dial(c.ns, hostPort(v.ip6, 80), arrive); err != nil || !strings.HasPrefix(got, "v ") {
			t.Errorf("%s: C cannot reach V at [%s]:80 while A sends it: %q %v", what, v.ip6, got, err)
		}
	}
	na := ndNA(a.ll, allNodes, v.ip6, naOverride, a.mac)
	naToRouter := ndNA(a.ll, l.rtLL, v.ip6, naOverride, a.mac)

	l.sub(t, "FragmentedNAClaimingVictimIgnored", func(t *testing.T) {
		fresh()
		frag := func(dst netip.Addr, msg []byte, id uint32) [][]byte {
			return [][]byte{
				ip6Pkt(a.ll, dst, 255, ipFragment, fragment(ipICMPv6, 0, true, id, msg[:16])),
				ip6Pkt(a.ll, dst, 255, ipFragment, fragment(ipICMPv6, 16, false, id, msg[16:])),
			}
		}
		var frames [][]byte
		for _, p := range frag(allNodes, na, 0x9001) {
			frames = append(frames, eth6(mcastMAC(allNodes), a.mac, p))
		}
		for _, p := range frag(l.rtLL, naToRouter, 0x9002) {
			frames = append(frames, eth6(l.rtMAC, a.mac, p))
		}
		check(t, "fragmented NA", frames...)
	})

	l.sub(t, "NABehindDestinationOptionsClaimingVictimIgnored", func(t *testing.T) {
		fresh()
		check(t, "NA behind a destination options header",
			eth6(mcastMAC(allNodes), a.mac, ip6Pkt(a.ll, allNodes, 255, ipDestOpts, optsHdr(ipICMPv6, nil, na))),
			eth6(l.rtMAC, a.mac, ip6Pkt(a.ll, l.rtLL, 255, ipDestOpts, optsHdr(ipICMPv6, nil, naToRouter))))
	})

	l.sub(t, "UnsolicitedNAClaimingVictimIgnored", func(t *testing.T) {
		fresh()
		check(t, "unsolicited NA",
			eth6(mcastMAC(allNodes), a.mac, ip6Pkt(a.ll, allNodes, 255, ipICMPv6, na)),
			eth6(l.rtMAC, a.mac, ip6Pkt(a.ll, l.rtLL, 255, ipICMPv6, naToRouter)))
	})

	l.sub(t, "UnsolicitedNAClaimingRouterIgnoredByVictim", func(t *testing.T) {
		l.forgetNeigh(v.ns, l.rt6)
		l.reach(v.ns, hostPort(c.ip6, 7000), "c") // V knows its gateway
		msg := ndNA(a.ll, allNodes, l.rt6, naRouter|naOverride, a.mac)
		stop := l.repeat(a, 100*time.Millisecond,
			eth6(mcastMAC(allNodes), a.mac, ip6Pkt(a.ll, allNodes, 255, ipICMPv6, msg)),
			eth6(v.mac, a.mac, ip6Pkt(a.ll, v.ll, 255, ipICMPv6, ndNA(a.ll, v.ll, l.rt6, naRouter|naOverride, a.mac))))
		defer stop()
		time.Sleep(300 * time.Millisecond)
		for _, n := range l.neighs(v.ns) {
			if n.ip == l.rt6 && n.mac == a.mac.String() {
				t.Errorf("V's entry for its gateway %s now carries A's MAC %s", l.rt6, a.mac)
			}
		}
		if got, err := l.dial(v.ns, hostPort(c.ip6, 7000), arrive); err != nil || !strings.HasPrefix(got, "c ") {
			t.Errorf("V cannot reach C at [%s]:7000 while A claims the router's address: %q %v", c.ip6, got, err)
		}
	})
}

// TestAttackRogueICMPv6: an instance is not a router nor a multicast querier:
// its router advertisements, redirects and MLD queries reach nobody (sniffed on
// V's eth0), even when V's group admits all ICMPv6.
//
//	RA:       Ether(A_MAC→33:33:00:00:00:01)/IPv6(A_LL→ff02::1, hlim 255)/RA(lifetime 1800, SLLA A_MAC, prefix 2001:db8:bad::/64 L|A)
//	redirect: Ether(A_MAC→V_MAC)/IPv6(A_LL→V_LL, hlim 255)/Redirect(target A_LL, destination C_IP6)
//	query:    Ether(A_MAC→33:33:00:00:00:01)/IPv6(A_LL→ff02::1, hlim 1)/HopByHop(RouterAlert)/MLDv2 query (general)
func TestAttackRogueICMPv6(t *testing.T) {
	l := newLab(t)
	a, v, c := l.a, l.v, l.c
	// V's group admits ICMPv6 too: what stops these must be the data plane's
	// rules about what an instance may send, not V's group.
	_, err := l.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(l.web),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("icmpv6"), FromPort: aws.Int32(-1), ToPort: aws.Int32(-1),
			Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}})
	l.must(err)
	l.settle()
	allNodes := netip.MustParseAddr("ff02::1")
	ra := []byte{64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0} // hop limit, flags, lifetime 1800, reachable, retrans
	ra = append(append(ra, 1, 1), a.mac...)
	pfx := netip.MustParseAddr("2001:db8:bad::").As16()
	ra = append(append(ra, 3, 4, 64, 0xc0, 0, 1, 0x51, 0x80, 0, 0, 0x38, 0x40, 0, 0, 0, 0), pfx[:]...)
	tgt, dst := a.ll.As16(), c.ip6.As16()
	redirect := append(append(append([]byte{0, 0, 0, 0}, tgt[:]...), dst[:]...), 2, 1)
	redirect = append(redirect, a.mac...)
	query := make([]byte, 24) // max response code, reserved, group ::, S/QRV, QQIC, no sources
	be.PutUint16(query, 1000)
	cases := []struct {
		name  string
		typ   int
		frame []byte
	}{
		{"RouterAdvertisementDropped", 134, eth6(mcastMAC(allNodes), a.mac, ip6Pkt(a.ll, allNodes, 255, ipICMPv6, icmp6Msg(a.ll, allNodes, 134, 0, ra)))},
		{"RedirectDropped", 137, eth6(v.mac, a.mac, ip6Pkt(a.ll, v.ll, 255, ipICMPv6, icmp6Msg(a.ll, v.ll, 137, 0, redirect)))},
		{"MLDQueryDropped", 130, eth6(mcastMAC(allNodes), a.mac, ip6Pkt(a.ll, allNodes, 1, ipHopOpts,
			optsHdr(ipICMPv6, routerAlert, icmp6Msg(a.ll, allNodes, 130, 0, query))))},
	}
	sn := l.sniff(v.ns, "eth0", func(p pkt) bool { return !p.outgoing && p.src.String() == a.mac.String() && p.proto == ipICMPv6 })
	for _, k := range cases {
		l.send(a, k.frame)
	}
	time.Sleep(quiet)
	hits := sn.all()
	for _, k := range cases {
		l.sub(t, k.name, func(t *testing.T) {
			for _, p := range hits {
				if p.icmpType() == k.typ {
					t.Errorf("A's ICMPv6 type %d reached V: %s", k.typ, p)
				}
			}
		})
	}
}

// --- 4. the datapath's own stack ---

// hostEnd returns the name and index of the datapath end of n's eth0, and the
// index of the bridge it is on.
func (l *lab) hostEnd(n node) (name string, index, bridge int) {
	l.t.Helper()
	l.must(l.plane.Do(n.ns, func() error {
		link, err := netlink.LinkByName("eth0")
		if err == nil {
			index = link.Attrs().ParentIndex
		}
		return err
	}))
	l.must(l.plane.Do(l.plane.DatapathNS(), func() error {
		lk, err := netlink.LinkByIndex(index)
		if err != nil {
			return fmt.Errorf("host end of %s: %w", n.id, err)
		}
		name, bridge = lk.Attrs().Name, lk.Attrs().MasterIndex
		return nil
	}))
	return name, index, bridge
}

// dpPort is an interface of the datapath namespace on A's subnet.
type dpPort struct {
	name  string
	index int
	mac   net.HardwareAddr
	ll    netip.Addr // its link-local address, or the EUI-64 of its MAC if it has none
	has   bool       // it carries ll
}

// dpPorts lists the bridge of n's subnet and every port on it, with the
// datapath's addresses on them.
func (l *lab) dpPorts(n node) []dpPort {
	l.t.Helper()
	_, _, br := l.hostEnd(n)
	var out []dpPort
	l.must(l.plane.Do(l.plane.DatapathNS(), func() error {
		links, err := netlink.LinkList()
		if err != nil {
			return err
		}
		for _, lk := range links {
			at := lk.Attrs()
			if at.Index != br && at.MasterIndex != br {
				continue
			}
			p := dpPort{name: at.Name, index: at.Index, mac: at.HardwareAddr, ll: eui64LL(at.HardwareAddr)}
			addrs, _ := netlink.AddrList(lk, netlink.FAMILY_ALL)
			for _, a := range addrs {
				if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.IsLinkLocalUnicast() {
					p.ll, p.has = ip, true
				} else if ok {
					l.t.Logf("datapath %s carries %s", at.Name, ip)
				}
			}
			out = append(out, p)
		}
		return nil
	}))
	return out
}

// TestAttackDatapathStackUnreachable (issue 9, item 4): nothing of the
// datapath namespace's own IP stack answers an instance. For the bridge of A's
// subnet and each port on it (the host ends of the ENIs, the router's leg), A
// tries the port's link-local address (read from the datapath; the EUI-64 of
// its MAC where it has none):
//
//	TCP connect [LL%eth0]:22                                  (no RST: not ECONNREFUSED)
//	Ether(A_MAC→PORT_MAC)/IPv6(A_LL→LL)/ICMPv6 echo request    (no echo reply)
//
// and no frame from the port's MAC or address (NA, RST, echo reply) may reach A.
func TestAttackDatapathStackUnreachable(t *testing.T) {
	l := newLab(t)
	a := l.a
	ports := l.dpPorts(a)
	if len(ports) < 4 { // bridge, A's, V's host ends, router leg
		t.Fatalf("datapath ports on A's subnet: %+v", ports)
	}
	hostA, _, bridge := l.hostEnd(a)
	hostV, _, _ := l.hostEnd(l.v)
	var br string
	for _, p := range ports {
		if p.index == bridge {
			br = p.name
		}
	}
	type result struct {
		err     error
		answers []pkt
	}
	res := make([]result, len(ports))
	sn := l.sniff(a.ns, "eth0", func(p pkt) bool { return !p.outgoing })
	var wg sync.WaitGroup
	for i, p := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, res[i].err = l.dial(a.ns, hostPort(p.ll, 22), quiet)
		}()
		l.send(a, eth6(p.mac, a.mac, ip6Pkt(a.ll, p.ll, 64, ipICMPv6, echo6(a.ll, p.ll, 0x4242, uint16(i), []byte("datapath?")))))
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	lls := map[netip.Addr]bool{}
	for _, p := range ports {
		lls[p.ll] = true
	}
	for i, p := range ports {
		// By source address; by MAC (a bridge has one of its ports' MACs) what has no port's.
		for _, h := range sn.all() {
			if h.ipSrc == p.ll || !lls[h.ipSrc] && h.src.String() == p.mac.String() {
				res[i].answers = append(res[i].answers, h)
			}
		}
		name := "Port_" + p.name
		switch p.name {
		case br:
			name = "Bridge"
		case hostA:
			name = "HostEndOfA"
		case hostV:
			name = "HostEndOfV"
		default:
			if strings.HasPrefix(p.name, l.prefix+"r") {
				name = "RouterLeg"
			}
		}
		l.sub(t, name+"Silent", func(t *testing.T) {
			t.Logf("%s %s %s (on it: %v): connect → %v", p.name, p.mac, p.ll, p.has, res[i].err)
			if res[i].err == nil || isRefused(res[i].err) {
				t.Errorf("TCP connect [%s%%eth0]:22 to datapath %s: %v (the datapath's stack answered)", p.ll, p.name, res[i].err)
			}
			for _, h := range res[i].answers {
				t.Errorf("datapath %s answered A: %s", p.name, h)
			}
		})
	}
}

// --- 5. ruleset drift ---

// ingressChains returns the datapath's ingress group chains of the ENI whose host end is
// host: chain i<P> of its security group profile P, in the inet table its profile is in
// (one of the shards "<prefix>g<k>", whose map enin gives the profile of the ENI's mark
// shifted by 16), with the mark from the bridge table's map ifsrc (host end → mark); every
// shard's i* chains when those maps cannot be read.
func (l *lab) ingressChains(c *nftables.Conn, host string) ([]*nftables.Chain, error) {
	want, wantTable := "", ""
	br := &nftables.Table{Name: l.prefix, Family: nftables.TableFamilyBridge}
	if set, err := c.GetSetByName(br, "ifsrc"); err == nil {
		els, err := c.GetSetElements(set)
		for _, el := range els {
			if err == nil && strings.TrimRight(string(el.Key), "\x00") == host && len(el.Val) == 4 {
				want, wantTable = l.profileIngress(c, binary.NativeEndian.Uint32(el.Val))
			}
		}
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, err
	}
	var out []*nftables.Chain
	for _, ch := range chains {
		shard := strings.HasPrefix(ch.Table.Name, l.prefix+"g") && ch.Table.Name != l.prefix+"gen"
		if want == "" && shard && strings.HasPrefix(ch.Name, "i") || ch.Name == want && ch.Table.Name == wantTable {
			out = append(out, ch)
		}
	}
	return out, nil
}

// profileIngress is the ingress chain of the profile of the ENI with mark n and its
// table (none found: "").
func (l *lab) profileIngress(c *nftables.Conn, n uint32) (chain, table string) {
	for k := range 16 {
		tab := &nftables.Table{Name: fmt.Sprintf("%sg%x", l.prefix, k), Family: nftables.TableFamilyINet}
		set, err := c.GetSetByName(tab, "enin")
		if err != nil {
			continue
		}
		els, err := c.GetSetElements(set)
		for _, el := range els {
			if err == nil && binary.NativeEndian.Uint32(el.Key) == n<<16 && len(el.Val) == 4 {
				return fmt.Sprint("i", binary.NativeEndian.Uint32(el.Val)), tab.Name
			}
		}
	}
	return "", ""
}

// verdictChain is the chain a verdict map element jumps to. google/nftables
// leaves the verdict undecoded in Val (NFTA_VERDICT_CODE, NFTA_VERDICT_CHAIN).
func verdictChain(el nftables.SetElement) string {
	if el.VerdictData != nil {
		return el.VerdictData.Chain
	}
	b := el.Val
	for len(b) >= 4 {
		n := int(nl.NativeEndian().Uint16(b))
		if n < 4 || n > len(b) {
			break
		}
		if nl.NativeEndian().Uint16(b[2:])&0x7fff == 2 { // NFTA_VERDICT_CHAIN
			return strings.TrimRight(string(b[4:n]), "\x00")
		}
		b = b[min((n+3)&^3, len(b)):]
	}
	return ""
}

// tamper runs f on an nftables connection in the datapath namespace.
func (l *lab) tamper(f func(c *nftables.Conn) error) error {
	return l.plane.Do(l.plane.DatapathNS(), func() error {
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		c, err := nftables.New(nftables.WithNetNSFd(fd))
		if err != nil {
			return err
		}
		return f(c)
	})
}

// deniedAgain measures how long after start A's connections to V's tcp/22 are
// refused again (two attempts in a row unanswered), up to limit.
func (l *lab) deniedAgain(start time.Time, limit time.Duration) (time.Duration, bool) {
	addr := hostPort(l.v.ip4, 22)
	for time.Since(start) < limit {
		at := time.Since(start)
		if _, err := l.dial(l.a.ns, addr, 300*time.Millisecond); err != nil {
			if _, err := l.dial(l.a.ns, addr, 300*time.Millisecond); err != nil {
				return at, true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, false
}

// TestAttackRulesetDrift (issue 9, item 5): the datapath notices a changed
// ruleset and restores it within driftBound, with the agent running as the
// tests run it (no periodic full pass). In the datapath namespace (root on the
// host, the one thing an instance cannot do — this is about drift, not an
// instance's attack): V's ingress group chain is replaced by a single accept
// (flush chain + add rule), then the whole ruleset is flushed. After each, A's
// connections to V's tcp/22 must be refused again within the bound (measured
// and logged). A change the kernel refuses (an owned table) holds as well.
func TestAttackRulesetDrift(t *testing.T) {
	l := newLab(t)
	l.noReach(l.a.ns, hostPort(l.v.ip4, 22))

	l.sub(t, "GroupChainReplacedWithAcceptIsRestored", func(t *testing.T) {
		var chains []*nftables.Chain
		host, _, _ := l.hostEnd(l.v)
		start := time.Now()
		err := l.tamper(func(c *nftables.Conn) error {
			var err error
			if chains, err = l.ingressChains(c, host); err != nil {
				return err
			}
			if len(chains) == 0 {
				return errors.New("no ingress group chain found")
			}
			for _, ch := range chains {
				c.FlushChain(ch)
				c.AddRule(&nftables.Rule{Table: ch.Table, Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}})
			}
			start = time.Now()
			return c.Flush()
		})
		if err != nil {
			t.Logf("replacing %v was refused: %v", chains, err)
		} else {
			t.Logf("replaced %v with accept", chains)
		}
		took, ok := l.deniedAgain(start, 3*driftBound)
		switch {
		case !ok:
			t.Errorf("V's tcp/22 still open %s after its group chain %v was replaced with accept", 3*driftBound, chains)
		case took > driftBound:
			t.Errorf("restored after %s, want ≤ %s", took.Round(time.Millisecond), driftBound)
		default:
			t.Logf("denied again after %s", took.Round(time.Millisecond))
		}
		l.reach(l.a.ns, hostPort(l.v.ip4, 80), "v")
	})

	l.sub(t, "FlushedRulesetIsRestored", func(t *testing.T) {
		start := time.Now()
		err := l.tamper(func(c *nftables.Conn) error {
			c.FlushRuleset()
			start = time.Now()
			return c.Flush()
		})
		if err != nil {
			t.Logf("flush ruleset was refused: %v", err)
		}
		var left []string
		_ = l.tamper(func(c *nftables.Conn) error {
			ts, err := c.ListTables()
			for _, tb := range ts {
				left = append(left, fmt.Sprintf("%s(%d)", tb.Name, tb.Family))
			}
			return err
		})
		t.Logf("tables right after the flush: %v", left)
		took, ok := l.deniedAgain(start, 3*driftBound)
		switch {
		case !ok:
			t.Errorf("V's tcp/22 still open %s after the datapath's ruleset was flushed", 3*driftBound)
		case took > driftBound:
			t.Errorf("restored after %s, want ≤ %s", took.Round(time.Millisecond), driftBound)
		default:
			t.Logf("denied again after %s", took.Round(time.Millisecond))
		}
		l.reach(l.a.ns, hostPort(l.v.ip4, 80), "v")
		// The anti-spoofing table is back too: a forged source from A is dropped.
		ln := l.sniff(l.v.ns, "eth0", func(p pkt) bool { return !p.outgoing && p.ipSrc == l.c.ip4 })
		l.send(l.a, eth4(l.v.mac, l.a.mac, ip4Pkt(l.c.ip4, l.v.ip4, 64, ipTCP, tcpSeg(l.c.ip4, l.v.ip4, 40000, 80, 1, 0, tcpSYN, nil))))
		if p, ok := ln.seen(quiet); ok {
			t.Errorf("after the restore, a forged source from A reached V: %s", p)
		}
	})
}

// --- extras ---

// TestAttackDHCPServerReplies: A plays a rogue DHCP server; its replies must not
// reach V (whose group admits only tcp/80). Sniffed on V's eth0, with V's
// client ports open:
//
//	Ether(A_MAC→V_MAC)/IPv6(A_LL→V_LL)/UDP(547→546) DHCPv6 Reply
//	Ether(A_MAC→33:33:00:00:00:01)/IPv6(A_LL→ff02::1)/UDP(547→546) DHCPv6 Reply
//	Ether(A_MAC→ff:ff:ff:ff:ff:ff)/IP(A_IP→255.255.255.255)/UDP(67→68) DHCPOFFER
func TestAttackDHCPServerReplies(t *testing.T) {
	l := newLab(t)
	a, v := l.a, l.v
	rx6 := l.udpEcho(v.ns, 546, "v")
	rx4 := l.udpEcho(v.ns, 68, "v")
	sn := l.sniff(v.ns, "eth0", func(p pkt) bool {
		s, d := p.ports()
		return !p.outgoing && p.proto == ipUDP && (s == 547 && d == 546 || s == 67 && d == 68)
	})
	allNodes := netip.MustParseAddr("ff02::1")
	reply := []byte{7, 0x12, 0x34, 0x56} // Reply, transaction id (options omitted)
	offer := make([]byte, 240)
	offer[0], offer[1], offer[2] = 2, 1, 6 // BOOTREPLY, Ethernet
	copy(offer[28:], v.mac)
	copy(offer[236:], []byte{99, 130, 83, 99}) // magic cookie
	bcast := netip.MustParseAddr("255.255.255.255")
	l.send(a,
		eth6(v.mac, a.mac, ip6Pkt(a.ll, v.ll, 64, ipUDP, udpSeg(a.ll, v.ll, 547, 546, reply))),
		eth6(mcastMAC(allNodes), a.mac, ip6Pkt(a.ll, allNodes, 64, ipUDP, udpSeg(a.ll, allNodes, 547, 546, reply))),
		ethFrame(mustMAC("ff:ff:ff:ff:ff:ff"), a.mac, etherIPv4, ip4Pkt(a.ip4, bcast, 64, ipUDP, udpSeg(a.ip4, bcast, 67, 68, offer))))
	if p, ok := sn.seen(quiet); ok {
		t.Errorf("A's DHCP server reply reached V: %s", p)
	}
	if g, ok := rx6.received("", 0); ok {
		t.Errorf("V's DHCPv6 client port received %q", g)
	}
	if g, ok := rx4.received("", 0); ok {
		t.Errorf("V's DHCPv4 client port received %q", g)
	}
}

// Attributes of an RTM_GETMDB dump (linux/if_bridge.h).
const (
	mdbaMDB          = 1 // MDBA_MDB
	mdbaMDBEntry     = 1 // MDBA_MDB_ENTRY
	mdbaMDBEntryInfo = 1 // MDBA_MDB_ENTRY_INFO: struct br_mdb_entry, port ifindex first
)

// mdb counts the multicast database entries of the bridge with index br, per port ifindex.
func mdb(br int) (map[int]int, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETMDB, unix.NLM_F_DUMP)
	req.AddRawData([]byte{unix.AF_BRIDGE, 0, 0, 0, 0, 0, 0, 0}) // struct br_port_msg
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWMDB)
	if err != nil {
		return nil, err
	}
	native := nl.NativeEndian()
	out := map[int]int{}
	nested := func(b []byte, typ uint16, f func([]byte)) {
		attrs, _ := nl.ParseRouteAttr(b)
		for _, a := range attrs {
			if a.Attr.Type&^unix.NLA_F_NESTED == typ {
				f(a.Value)
			}
		}
	}
	for _, m := range msgs {
		if len(m) < 8 || int(native.Uint32(m[4:8])) != br {
			continue
		}
		nested(m[8:], mdbaMDB, func(b []byte) {
			nested(b, mdbaMDBEntry, func(b []byte) {
				nested(b, mdbaMDBEntryInfo, func(b []byte) {
					if len(b) >= 4 {
						out[int(native.Uint32(b[:4]))]++
					}
				})
			})
		})
	}
	return out, nil
}

// TestAttackListenerReportsReachNoInstance: an instance's multicast listener reports and
// router solicitations go to the router's leg only, not to the other instances of its
// subnet (the bridges flood them to every port: a launch of n in a subnet made n² of
// them, each telling its addresses' low bits). Sniffed on V's eth0, while A sends:
//
//	Ether(A_MAC→33:33:00:00:00:16)/IPv6(A_LL→ff02::16)/HBH(router alert)/ICMPv6 MLDv2 Report
//	Ether(A_MAC→33:33:00:00:00:02)/IPv6(A_LL→ff02::2)/ICMPv6 RS(source link-layer: A_MAC)
//	Ether(A_MAC→33:33:ff:…)/IPv6(A_LL→V's solicited-node group)/ICMPv6 NS(V_LL, A_MAC)
//
// The first two must not arrive, the solicitation must (address resolution works).
func TestAttackListenerReportsReachNoInstance(t *testing.T) {
	l := newLab(t)
	a, v := l.a, l.v
	got := l.sniff(v.ns, "eth0", func(p pkt) bool {
		return !p.outgoing && p.src.String() == a.mac.String() && p.proto == ipICMPv6 && len(p.l4) > 0
	})
	mld, rtrs := netip.MustParseAddr("ff02::16"), netip.MustParseAddr("ff02::2")
	g := netip.MustParseAddr("ff05::1:3").As16()
	report := icmp6Msg(a.ll, mld, icmp6MLDv2Report, 0, append([]byte{0, 0, 0, 1, 4, 0, 0, 0}, g[:]...))
	rs := icmp6Msg(a.ll, rtrs, icmp6RS, 0, append([]byte{0, 0, 0, 0, 1, 1}, a.mac...))
	sn := solicitedNode(v.ll)
	l.send(a,
		eth6(mcastMAC(mld), a.mac, ip6Pkt(a.ll, mld, 1, ipHopOpts, optsHdr(ipICMPv6, routerAlert, report))),
		eth6(mcastMAC(rtrs), a.mac, ip6Pkt(a.ll, rtrs, 255, ipICMPv6, rs)),
		eth6(mcastMAC(sn), a.mac, ip6Pkt(a.ll, sn, 255, ipICMPv6, ndNS(a.ll, sn, v.ll, a.mac))))
	deadline := time.Now().Add(quiet)
	seen := map[byte]bool{}
	for time.Now().Before(deadline) && !seen[icmp6NS] {
		time.Sleep(20 * time.Millisecond)
		got.mu.Lock()
		for _, p := range got.hits {
			seen[p.l4[0]] = true
		}
		got.mu.Unlock()
	}
	time.Sleep(100 * time.Millisecond) // the others, had they come, came before it
	got.mu.Lock()
	for _, p := range got.hits {
		seen[p.l4[0]] = true
	}
	got.mu.Unlock()
	if !seen[icmp6NS] {
		t.Fatal("A's neighbour solicitation for V never reached V: the test sees nothing")
	}
	for typ, name := range map[byte]string{icmp6MLDv2Report: "MLDv2 report", icmp6RS: "router solicitation"} {
		if seen[typ] {
			t.Errorf("A's %s reached V", name)
		}
	}
}

// TestAttackMLDFlood: A joins 5,000 multicast groups (MLDv2 reports of 70
// records each, CHANGE_TO_EXCLUDE with no sources, groups ff05::1:0:N):
//
//	Ether(A_MAC→33:33:00:00:00:16)/IPv6(A_LL→ff02::16, hlim 1)/HopByHop(RouterAlert)/ICMPv6 MLDv2 report
//
// The bridge's multicast handling must not change for the others (snooping
// stays as it was; the kernel turns it off when its database overflows), A's
// share of the database stays bounded (≤ 1,024 groups), and V still gets
// unicast.
func TestAttackMLDFlood(t *testing.T) {
	l := newLab(t)
	a := l.a
	_, peer, br := l.hostEnd(a)
	state := func() (snoop bool, db map[int]int) {
		l.must(l.plane.Do(l.plane.DatapathNS(), func() error {
			brl, err := netlink.LinkByIndex(br)
			if err != nil {
				return err
			}
			if b, ok := brl.(*netlink.Bridge); ok && b.MulticastSnooping != nil {
				snoop = *b.MulticastSnooping
			}
			db, err = mdb(brl.Attrs().Index)
			return err
		}))
		return snoop, db
	}
	snoop0, db0 := state()
	t.Logf("before: snooping %v, mdb %v (A's host end %d)", snoop0, db0, peer)
	const groups, perReport = 5000, 70
	mld := netip.MustParseAddr("ff02::16")
	var frames [][]byte
	for g := 0; g < groups; g += perReport {
		n := min(perReport, groups-g)
		body := []byte{0, 0, byte(n >> 8), byte(n)}
		for i := g; i < g+n; i++ {
			grp := netip.AddrFrom16([16]byte{0xff, 0x05, 11: 1, 12: 0, 13: 0, 14: byte(i >> 8), 15: byte(i)})
			s := grp.As16()
			body = append(append(body, 4, 0, 0, 0), s[:]...)
		}
		msg := icmp6Msg(a.ll, mld, icmp6MLDv2Report, 0, body)
		frames = append(frames, eth6(mcastMAC(mld), a.mac, ip6Pkt(a.ll, mld, 1, ipHopOpts, optsHdr(ipICMPv6, routerAlert, msg))))
	}
	l.send(a, frames...)
	time.Sleep(200 * time.Millisecond)
	snoop1, db1 := state()
	t.Logf("after %d groups: snooping %v, A's port %d entries, total %d ports", groups, snoop1, db1[peer], len(db1))
	if snoop1 != snoop0 {
		t.Errorf("A's MLD reports turned the bridge's multicast snooping from %v to %v (for every ENI of the subnet)", snoop0, snoop1)
	}
	if db1[peer] > 1024 {
		t.Errorf("A holds %d groups in the bridge's multicast database, want ≤ 1024", db1[peer])
	}
	l.reach(l.c.ns, hostPort(l.v.ip6, 80), "v")
	l.reach(a.ns, hostPort(l.v.ip4, 80), "v")
}

// TestAttackIPv6ExtensionHeaders: extension headers do not get a packet past
// V's group or the anti-spoofing check. Sent by A to V's MAC (the routing
// header one to the router's), sniffed on V's eth0; each control (an allowed
// port) must arrive:
//
//	IPv6(A_IP6→V_IP6)/Frag(0,M)[TCP header + 4 bytes] + Frag(24)[12 bytes], SYN → 80 (control), → 22
//	IPv6(A_IP6→V_IP6)/Frag(0,M)[TCP's first 8 bytes] + Frag(8)[rest], SYN → 22 (tiny first fragment)
//	IPv6(A_IP6→V_IP6)/HopByHop(PadN)/TCP SYN → 80 (control), → 22
//	IPv6(A_IP6→V_IP6)/DestOpts(PadN)/TCP SYN → 22
//	IPv6(A_IP6→ROUTER_IP6)/Routing(type 0, [V_IP6])/TCP SYN → 22 (via the router's MAC)
//	IPv6(C_IP6→V_IP6)/Frag…/TCP SYN → 80 (C's address forged, in fragments)
//	IPv6(fe80::dead→V_LL)/HopByHop(PadN)/TCP SYN → 80 (a foreign link-local source)
func TestAttackIPv6ExtensionHeaders(t *testing.T) {
	l := newLab(t)
	a, v, c := l.a, l.v, l.c
	type tc struct {
		name   string
		sport  uint16
		want   bool
		frames [][]byte
	}
	syn := func(src, dst netip.Addr, sport, dport uint16) []byte {
		return tcpSeg(src, dst, sport, dport, 7, 0, tcpSYN, []byte("0123456789abcdef"))
	}
	// Two fragments, the first with the whole TCP header (24 bytes) or only its
	// ports and sequence number (8: a "tiny" first fragment, RFC 7112).
	fragAt := func(first int) func(src, dst netip.Addr, seg []byte, id uint32) [][]byte {
		return func(src, dst netip.Addr, seg []byte, id uint32) [][]byte {
			return [][]byte{
				eth6(v.mac, a.mac, ip6Pkt(src, dst, 64, ipFragment, fragment(ipTCP, 0, true, id, seg[:first]))),
				eth6(v.mac, a.mac, ip6Pkt(src, dst, 64, ipFragment, fragment(ipTCP, first, false, id, seg[first:]))),
			}
		}
	}
	frag, tiny := fragAt(24), fragAt(8)
	dead := netip.MustParseAddr("fe80::dead")
	cases := []tc{
		{"FragmentedSYNToAllowedPortArrives", 42001, true, frag(a.ip6, v.ip6, syn(a.ip6, v.ip6, 42001, 80), 0x7001)},
		{"FragmentedSYNToClosedPortDropped", 42002, false, frag(a.ip6, v.ip6, syn(a.ip6, v.ip6, 42002, 22), 0x7002)},
		{"TinyFirstFragmentSYNToClosedPortDropped", 42009, false, tiny(a.ip6, v.ip6, syn(a.ip6, v.ip6, 42009, 22), 0x7009)},
		{"HopByHopSYNToAllowedPortArrives", 42003, true, [][]byte{eth6(v.mac, a.mac,
			ip6Pkt(a.ip6, v.ip6, 64, ipHopOpts, optsHdr(ipTCP, nil, syn(a.ip6, v.ip6, 42003, 80))))}},
		{"HopByHopSYNToClosedPortDropped", 42004, false, [][]byte{eth6(v.mac, a.mac,
			ip6Pkt(a.ip6, v.ip6, 64, ipHopOpts, optsHdr(ipTCP, nil, syn(a.ip6, v.ip6, 42004, 22))))}},
		{"DestOptsSYNToClosedPortDropped", 42005, false, [][]byte{eth6(v.mac, a.mac,
			ip6Pkt(a.ip6, v.ip6, 64, ipDestOpts, optsHdr(ipTCP, nil, syn(a.ip6, v.ip6, 42005, 22))))}},
		{"RoutingHeader0ViaRouterToClosedPortDropped", 42006, false, [][]byte{eth6(l.rtMAC, a.mac,
			ip6Pkt(a.ip6, l.rt6, 64, ipRouting, rh0(ipTCP, []netip.Addr{v.ip6}, syn(a.ip6, v.ip6, 42006, 22))))}},
		{"ForgedGlobalSourceInFragmentsDropped", 42007, false, frag(c.ip6, v.ip6, syn(c.ip6, v.ip6, 42007, 80), 0x7007)},
		{"ForeignLinkLocalSourceBehindHopByHopDropped", 42008, false, [][]byte{eth6(v.mac, a.mac,
			ip6Pkt(dead, v.ll, 64, ipHopOpts, optsHdr(ipTCP, nil, syn(dead, v.ll, 42008, 80))))}},
	}
	// A fragment without ports (the second) is attributed by its source and arrival.
	sn := l.sniff(v.ns, "eth0", func(p pkt) bool { return !p.outgoing && p.etype == etherIPv6 && (p.proto == ipTCP || p.frag) })
	for _, k := range cases {
		l.send(a, k.frames...)
	}
	time.Sleep(quiet)
	hits := sn.all()
	for _, k := range cases {
		l.sub(t, k.name, func(t *testing.T) {
			var got []pkt
			for _, p := range hits {
				if s, _ := p.ports(); s == k.sport {
					got = append(got, p)
				}
			}
			if arrived := len(got) > 0; arrived != k.want {
				t.Errorf("arrived at V: %v, want %v %v", arrived, k.want, got)
			}
		})
	}
}

// TestAttackVLANTags: tagged frames from A do not reach V. A sends V a TCP SYN
// to its allowed port 80 with a marker payload, untagged (the control, must
// arrive) and behind 802.1Q / 802.1ad tags; sniffed on V's eth0 (the marker
// anywhere in a frame counts, tags stripped or not):
//
//	Ether(A_MAC→V_MAC)/[tags]/IP(A_IP→V_IP)/TCP(SYN, → 80)/"vlan-<case>"
//	tags: none; 802.1Q vid 0; 802.1Q vid 7; 802.1ad vid 7 + 802.1Q vid 8; 802.1Q vid 7 + 802.1Q vid 8
//	and the same with an IPv6 packet inside 802.1ad + 802.1Q.
func TestAttackVLANTags(t *testing.T) {
	l := newLab(t)
	a, v := l.a, l.v
	cases := []struct {
		name string
		v6   bool
		tags []vlanTag
		want bool
	}{
		{"UntaggedArrives", false, nil, true},
		{"PriorityTagDropped", false, []vlanTag{{ether1Q, 0}}, false},
		{"Dot1QDropped", false, []vlanTag{{ether1Q, 7}}, false},
		{"QinQDot1ADDropped", false, []vlanTag{{ether1AD, 7}, {ether1Q, 8}}, false},
		{"DoubleDot1QDropped", false, []vlanTag{{ether1Q, 7}, {ether1Q, 8}}, false},
		{"QinQIPv6Dropped", true, []vlanTag{{ether1AD, 7}, {ether1Q, 8}}, false},
	}
	marker := func(name string) []byte { return []byte("vlan-" + name) }
	sn := l.sniff(v.ns, "eth0", func(p pkt) bool { return !p.outgoing && strings.Contains(string(p.raw), "vlan-") })
	for i, k := range cases {
		sport := uint16(43000 + i)
		if k.v6 {
			l.send(a, ethFrame(v.mac, a.mac, etherIPv6, ip6Pkt(a.ip6, v.ip6, 64, ipTCP,
				tcpSeg(a.ip6, v.ip6, sport, 80, 1, 0, tcpSYN, marker(k.name))), k.tags...))
		} else {
			l.send(a, ethFrame(v.mac, a.mac, etherIPv4, ip4Pkt(a.ip4, v.ip4, 64, ipTCP,
				tcpSeg(a.ip4, v.ip4, sport, 80, 1, 0, tcpSYN, marker(k.name))), k.tags...))
		}
	}
	time.Sleep(quiet)
	hits := sn.all()
	for _, k := range cases {
		l.sub(t, k.name, func(t *testing.T) {
			arrived := false
			for _, p := range hits {
				if strings.Contains(string(p.raw), string(marker(k.name))) {
					arrived = true
				}
			}
			if arrived != k.want {
				t.Errorf("arrived at V: %v, want %v", arrived, k.want)
			}
		})
	}
}

// Neighbour entries per family are counted host-wide (gc_thresh3 is global,
// 1,024 by default, for all namespaces together): the test sends to fewer
// unused addresses than would fill it, and asserts that the router does not
// keep one entry per address an instance names.
const (
	neighFlood6    = 400
	neighFlood4    = 200
	neighMaxGrowth = 64
)

// TestAttackRouterNeighbourTable: the VPC router's neighbour table is not A's to
// fill. A sends one UDP datagram to each of 400 unused IPv6 addresses of subnet
// 2's /64 and 200 unused IPv4 addresses of 10.0.2.0/24, through the router:
//
//	Ether(A_MAC→ROUTER_MAC)/IPv6(A_IP6→PREFIX2::1:N)/UDP(44000→9)
//	Ether(A_MAC→ROUTER_MAC)/IP(A_IP→10.0.2.N)/UDP(44000→9)
//
// The router must not hold more than 64 entries for them (a table that takes
// an entry per named address is exhaustible; at 1,024 it is full for every
// namespace of the host), and a flow from C to an instance launched afterwards
// (in subnet 1: a new neighbour for the router) must work at once.
func TestAttackRouterNeighbourTable(t *testing.T) {
	l := newLab(t)
	a, c := l.a, l.c
	flood := map[netip.Addr]bool{}
	var frames [][]byte
	for i := range neighFlood6 {
		b := l.prefix2.Addr().As16()
		b[11], b[13], b[14], b[15] = 1, 0, byte(i>>8), byte(i)
		dst := netip.AddrFrom16(b)
		flood[dst] = true
		frames = append(frames, eth6(l.rtMAC, a.mac, ip6Pkt(a.ip6, dst, 64, ipUDP, udpSeg(a.ip6, dst, 44000, 9, []byte("x")))))
	}
	for i := range neighFlood4 {
		dst := netip.AddrFrom4([4]byte{10, 0, 2, byte(40 + i)})
		flood[dst] = true
		frames = append(frames, eth4(l.rtMAC, a.mac, ip4Pkt(a.ip4, dst, 64, ipUDP, udpSeg(a.ip4, dst, 44000, 9, []byte("x")))))
	}
	l.send(a, frames...)
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, e := range l.neighs(l.rt) {
		if flood[e.ip] {
			n++
		}
	}
	t.Logf("the router holds %d neighbour entries for the %d unused addresses A named", n, len(flood))
	if n > neighMaxGrowth {
		t.Errorf("the router holds %d neighbour entries for unused addresses named by A, want ≤ %d", n, neighMaxGrowth)
	}
	// A new instance is reachable at once.
	id := l.launch6(l.sub1, l.web)
	l.waitRunning(id)
	nn := l.node(id)
	l.serve(nn.ns, 80, "new")
	for _, addr := range []string{hostPort(nn.ip4, 80), hostPort(nn.ip6, 80)} {
		if got, err := l.dial(c.ns, addr, arrive); err != nil || !strings.HasPrefix(got, "new ") {
			t.Errorf("C → new instance %s: %q %v", addr, got, err)
		}
	}
}

// conntrackFlood is how many flows A opens. The per-ENI bound of the datapath's
// connection tracking must be below it.
const conntrackFlood = 20000

// ctCount is the datapath namespace's number of conntrack entries.
func (l *lab) ctCount() int {
	l.t.Helper()
	var n int
	l.must(l.plane.Do(l.plane.DatapathNS(), func() error {
		b, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_count")
		if err != nil {
			return err
		}
		n, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err
	}))
	return n
}

// TestAttackConntrackTableShare: one ENI cannot fill the datapath's shared
// connection tracking table. A opens 20,000 UDP flows (distinct source ports)
// to the router, which its group lets out:
//
//	Ether(A_MAC→ROUTER_MAC)/IP(A_IP→10.0.1.1)/UDP(20000+N→9)
//
// The datapath must track fewer than that many for A (a per-ENI bound), and
// other instances' new connections must still work.
func TestAttackConntrackTableShare(t *testing.T) {
	l := newLab(t)
	a := l.a
	before := l.ctCount()
	frames := make([][]byte, 0, conntrackFlood)
	for i := range conntrackFlood {
		frames = append(frames, eth4(l.rtMAC, a.mac, ip4Pkt(a.ip4, l.rt4, 64, ipUDP, udpSeg(a.ip4, l.rt4, uint16(20000+i), 9, []byte("x")))))
	}
	start := time.Now()
	l.send(a, frames...)
	sent := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	added := l.ctCount() - before
	t.Logf("A's %d flows (sent in %s) added %d entries to the datapath's conntrack table", conntrackFlood, sent.Round(time.Millisecond), added)
	if added >= conntrackFlood*9/10 {
		t.Errorf("A alone added %d conntrack entries to the shared datapath table: no per-ENI bound below %d", added, conntrackFlood)
	}
	for _, addr := range []string{hostPort(l.v.ip4, 80), hostPort(l.v.ip6, 80)} {
		if got, err := l.dial(l.c.ns, addr, arrive); err != nil || !strings.HasPrefix(got, "v ") {
			t.Errorf("C → V %s after A's flood: %q %v", addr, got, err)
		}
	}
	if got, err := l.dial(l.v.ns, hostPort(l.c.ip4, 7000), arrive); err != nil || !strings.HasPrefix(got, "c ") {
		t.Errorf("V → C after A's flood: %q %v", got, err)
	}
}

// TestAttackForgedResets: a closed port's TCP reset reaches the instance that connected,
// and resets A forges do not reach V, also when they cross bridges of the subnet
// (TestAttacksAcrossSegments): there a reset passes the bridge it comes to without a
// connection of its own (its connection may have ended on the bridge it came from,
// bridgePatchResets in the datapath), so the bridge A's frame enters must stop it.
func TestAttackForgedResets(t *testing.T) {
	l := newLab(t)
	a, v, c := l.a, l.v, l.c
	l.sub(t, "ClosedPortRefused", func(t *testing.T) {
		for _, dst := range []netip.Addr{a.ip4, a.ip6, c.ip4} {
			if got, err := l.dial(v.ns, hostPort(dst, 9), arrive); !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("V → %s: %q, %v; want the connection refused", hostPort(dst, 9), got, err)
			}
		}
	})
	forged := func(sport uint16) *sniffer {
		return l.sniff(v.ns, "eth0", func(p pkt) bool {
			s, _ := p.ports()
			return !p.outgoing && p.tcpFlags()&tcpRST != 0 && s == sport
		})
	}
	l.sub(t, "ResetOfNoConnection", func(t *testing.T) {
		rx := forged(5701)
		l.send(a, eth4(v.mac, a.mac, ip4Pkt(a.ip4, v.ip4, 64, ipTCP, tcpSeg(a.ip4, v.ip4, 5701, 80, 1, 0, tcpRST, nil))),
			eth6(v.mac, a.mac, ip6Pkt(a.ip6, v.ip6, 64, ipTCP, tcpSeg(a.ip6, v.ip6, 5701, 80, 1, 0, tcpRST, nil))))
		if p, ok := rx.seen(quiet); ok {
			t.Errorf("V received A's reset of no connection: %v", p)
		}
	})
	l.setSourceDestCheck(a.eni, false)
	l.sub(t, "ResetOfAnotherInstancesConnection", func(t *testing.T) {
		if got, err := l.dialFrom(c.ns, tcpAddr(c.ip4, 5702), hostPort(v.ip4, 80), arrive); err != nil || !strings.HasPrefix(got, "v ") {
			t.Fatalf("C → V:80 from port 5702: %q, %v", got, err)
		}
		// A, its check off, forges C's reset of that connection, straight to V.
		rx := forged(5702)
		l.send(a, eth4(v.mac, a.mac, ip4Pkt(c.ip4, v.ip4, 64, ipTCP, tcpSeg(c.ip4, v.ip4, 5702, 80, 1, 0, tcpRST, nil))))
		if p, ok := rx.seen(quiet); ok {
			t.Errorf("V received A's reset of C's connection: %v", p)
		}
	})
}
