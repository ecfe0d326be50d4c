package dataplane

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/netadmin/nettest"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// requireNetAdmin skips (fails under CI=true) when the process cannot create
// network namespaces.
func requireNetAdmin(tb testing.TB) { tb.Helper(); nettest.Require(tb, "./internal/dataplane") }

// newTestPlane returns a plane with a unique prefix, torn down when the test ends.
func newTestPlane(tb testing.TB) *Plane {
	tb.Helper()
	requireNetAdmin(tb)
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand never fails
	prefix := "et"
	for _, c := range b {
		prefix += string(chars[int(c)%len(chars)])
	}
	p, err := New(Options{Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	p.bridgePorts = testBridgePorts
	tb.Cleanup(func() {
		if err := p.Teardown(context.Background()); err != nil {
			tb.Errorf("teardown: %v", err)
		}
		if left, _ := listNS(prefix); len(left) > 0 {
			tb.Errorf("namespaces left after teardown: %v", left)
		}
	})
	return p
}

func reconcile(tb testing.TB, p *Plane, d Desired) Status {
	tb.Helper()
	st, err := p.Reconcile(context.Background(), d)
	if err != nil {
		tb.Fatalf("reconcile: %v", err)
	}
	checkPortCount(tb, p)
	return st
}

// verify runs a full pass (it repairs damage done behind the plane's back).
func verify(tb testing.TB, p *Plane, d Desired) Status {
	tb.Helper()
	st, err := p.Verify(context.Background(), d)
	if err != nil {
		tb.Fatalf("verify: %v", err)
	}
	checkPortCount(tb, p)
	return st
}

// checkPortCount checks the cache's count of ports per bridge against its ENIs.
func checkPortCount(tb testing.TB, p *Plane) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	want := map[int]int{}
	for _, ent := range p.cache.enis {
		if ent.bridge > 0 {
			want[ent.bridge]++
		}
	}
	if !maps.Equal(want, p.cache.ports) {
		tb.Fatalf("the cache counts ports %v, its ENIs are on %v", p.cache.ports, want)
	}
	checkInstIndex(tb, p.cache.lastPlan)
}

// checkInstIndex checks that the last clean pass's index of ENIs by instance, when it
// has one (patched, planDelta), is its ENIs'.
func checkInstIndex(tb testing.TB, m *planMemo) {
	tb.Helper()
	if m == nil || m.byInst == nil {
		return
	}
	want := instIndex{}
	for _, e := range m.enis {
		want[e.InstanceID] = append(want[e.InstanceID], e)
	}
	if !maps.EqualFunc(want, m.byInst, slices.Equal) {
		tb.Fatalf("the plan's ENIs by instance are %v, its ENIs' %v", m.byInst, want)
	}
}

// reconcileStable reconciles twice and checks that the second pass changes nothing, and
// that a full pass then finds nothing to repair either (what the incremental passes
// realised is what a full pass wants).
func reconcileStable(tb testing.TB, p *Plane, d Desired) Status {
	tb.Helper()
	reconcile(tb, p, d)
	st := reconcile(tb, p, d)
	if st.Changes != 0 {
		tb.Fatalf("second reconcile made %d changes, want 0", st.Changes)
	}
	if vs := verify(tb, p, d); vs.Changes != 0 {
		tb.Fatalf("verify after reconcile made %d changes, want 0", vs.Changes)
	}
	return st
}

// serveTCP listens on port inside the namespace and answers every connection with name.
func serveTCP(tb testing.TB, p *Plane, nsname string, port int, name string) {
	tb.Helper()
	var ln net.Listener
	err := p.Do(nsname, func() error {
		var err error
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		tb.Fatalf("listen in %s: %v", nsname, err)
	}
	tb.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s %s\n", name, c.RemoteAddr())
			_ = c.Close()
		}
	}()
}

// dialTCP connects from inside the namespace and returns the first line the server sends.
func dialTCP(p *Plane, nsname, addr string, timeout time.Duration) (string, error) {
	return dialFrom(p, nsname, "", addr, timeout)
}

// dialFrom is dialTCP from source address src ("" : the kernel's choice).
func dialFrom(p *Plane, nsname, src, addr string, timeout time.Duration) (string, error) {
	var c net.Conn
	err := p.Do(nsname, func() error {
		d := net.Dialer{Timeout: timeout}
		if src != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
		}
		var err error
		c, err = d.Dial("tcp", addr)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

const (
	passTimeout = 3 * time.Second
	failTimeout = 400 * time.Millisecond
)

func mustReach(t *testing.T, p *Plane, from, addr, wantPrefix string) string {
	t.Helper()
	got, err := dialTCP(p, from, addr, passTimeout)
	if err != nil {
		t.Fatalf("%s → %s: %v, want a connection", from, addr, err)
	}
	if !strings.HasPrefix(got, wantPrefix) {
		t.Fatalf("%s → %s answered %q, want %q…", from, addr, got, wantPrefix)
	}
	return got
}

func mustNotReach(t *testing.T, p *Plane, from, addr string) {
	t.Helper()
	if got, err := dialTCP(p, from, addr, failTimeout); err == nil {
		t.Fatalf("%s → %s answered %q, want no connection", from, addr, got)
	}
}

// mustRefuse: a connection from inside from to addr, a closed port that its security
// groups let through, is refused (the reset reached from), not left unanswered.
func mustRefuse(t *testing.T, p *Plane, from, addr string) {
	t.Helper()
	if got, err := dialTCP(p, from, addr, 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("%s → %s: %q, %v; want the connection refused", from, addr, got, err)
	}
}

// baseDesired: one VPC, a public subnet A (IPv4+IPv6) and a private subnet B; web (sg-web)
// and b in A, c in B; an Elastic IP on web and one on c.
func baseDesired() Desired {
	return Desired{
		VPCs: []VPC{{ID: "vpc-1", Subnets: []Subnet{
			{ID: "subnet-a", CIDR: "10.0.1.0/24", IPv6CIDR: "2001:db8:1::/64", Public: true},
			{ID: "subnet-b", CIDR: "10.0.2.0/24"},
		}}},
		Instances: []Instance{{ID: "i-web", Running: true}, {ID: "i-b", Running: true}, {ID: "i-c", Running: true}},
		ENIs: []ENI{
			{ID: "eni-web", MAC: "02:00:00:00:01:0a", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.0.1.10",
				IPv6: []string{"2001:db8:1::10"}, InstanceID: "i-web", SourceDestCheck: true, Groups: []string{"sg-web"}},
			{ID: "eni-b", MAC: "02:00:00:00:01:0b", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.0.1.11",
				IPv6: []string{"2001:db8:1::11"}, InstanceID: "i-b", SourceDestCheck: true, Groups: []string{"sg-open"}},
			{ID: "eni-c", MAC: "02:00:00:00:02:0a", SubnetID: "subnet-b", VPCID: "vpc-1", PrimaryIP: "10.0.2.10",
				InstanceID: "i-c", SourceDestCheck: true, Groups: []string{"sg-open"}},
		},
		Groups: []Group{
			{ID: "sg-web",
				Ingress: []Rule{
					{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []string{"0.0.0.0/0", "::/0"}},
					{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"10.0.2.0/24"}},
				},
				Egress: []Rule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0", "::/0"}}}},
			{ID: "sg-open",
				Ingress: []Rule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0", "::/0"}}},
				Egress:  []Rule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0", "::/0"}}}},
		},
		PublicIPs: []PublicMapping{
			{Public: "198.51.100.10", Private: "10.0.1.10", ENIID: "eni-web", VPCID: "vpc-1"},
			{Public: "198.51.100.11", Private: "10.0.2.10", ENIID: "eni-c", VPCID: "vpc-1"},
		},
	}
}

func findENI(d *Desired, id string) *ENI {
	for i := range d.ENIs {
		if d.ENIs[i].ID == id {
			return &d.ENIs[i]
		}
	}
	return nil
}

// nsHandle runs fn with a netlink handle bound to the named namespace.
func withHandle(t *testing.T, nsname string, fn func(h *netlink.Handle)) {
	t.Helper()
	ns, err := openNS(nsname)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	fn(h)
}

// sendUDPFrom sends one datagram from src (added to eth0 inside the instance as a spoofed
// address) to dst.
func sendUDPFrom(t *testing.T, p *Plane, inst, src, dst string) {
	t.Helper()
	withHandle(t, p.InstanceNS(inst), func(h *netlink.Handle) {
		l, err := h.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		a, _ := netlink.ParseAddr(src + "/32")
		if err := h.AddrReplace(l, a); err != nil {
			t.Fatal(err)
		}
	})
	err := p.DoInstance(inst, func() error {
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, mustUDPAddr(dst))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("spoof"))
		return err
	})
	if err != nil {
		t.Fatalf("send from %s: %v", src, err)
	}
}

// sendUDP sends one datagram from inst to dst (host:port), from the address the instance
// picks.
func sendUDP(t *testing.T, p *Plane, inst, dst string) {
	t.Helper()
	err := p.DoInstance(inst, func() error {
		c, err := net.Dial("udp", dst)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("hello"))
		return err
	})
	if err != nil {
		t.Fatalf("%s: send to %s: %v", inst, dst, err)
	}
}

func mustUDPAddr(s string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", s)
	if err != nil {
		panic(err)
	}
	return a
}

// listenUDP opens a UDP socket inside the namespace.
func listenUDP(t *testing.T, p *Plane, nsname, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := p.Do(nsname, func() error {
		var err error
		c, err = net.ListenUDP("udp", mustUDPAddr(addr))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// received reports whether a datagram from src arrives on c before the timeout.
func received(c *net.UDPConn, src string, timeout time.Duration) bool {
	buf := make([]byte, 64)
	deadline := time.Now().Add(timeout)
	for {
		_ = c.SetReadDeadline(deadline)
		_, from, err := c.ReadFromUDP(buf)
		if err != nil {
			return false
		}
		if from.IP.String() == src {
			return true
		}
	}
}

func TestDataplane(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	st := reconcileStable(t, p, d)
	for _, id := range []string{"i-web", "i-b", "i-c"} {
		if !st.Instances.Get(id) {
			t.Errorf("instance %s not up: %+v", id, st.Instances)
		}
	}
	for id, inst := range map[string]string{"eni-web": "i-web", "eni-b": "i-b", "eni-c": "i-c"} {
		if st.ENIs.Get(id) != inst {
			t.Errorf("ENI %s attached to %q, want %s", id, st.ENIs.Get(id), inst)
		}
	}
	web, b, c := p.InstanceNS("i-web"), p.InstanceNS("i-b"), p.InstanceNS("i-c")
	// Each end of an ENI's pair has one queue each way (vethQueues).
	queues := func(l netlink.Link) {
		if a := l.Attrs(); a.NumTxQueues != vethQueues || a.NumRxQueues != vethQueues {
			t.Errorf("%s: %d transmit and %d receive queues, want %d", a.Name, a.NumTxQueues, a.NumRxQueues, vethQueues)
		}
	}
	withHandle(t, web, func(h *netlink.Handle) {
		eth, err := h.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		queues(eth)
	})
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		links, err := h.LinkList()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range links {
			if strings.HasPrefix(l.Attrs().Name, p.prefix+string(kindENIHost)) {
				queues(l)
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d ENI host ends in the datapath, want 3", n)
		}
	})
	serveTCP(t, p, web, 80, "web")
	serveTCP(t, p, web, 22, "ssh")
	serveTCP(t, p, b, 8080, "b")
	serveTCP(t, p, p.InternetNS(), 8000, "internet")
	serveTCP(t, p, c, 80, "c")

	t.Run("SameSubnet", func(t *testing.T) {
		mustReach(t, p, b, "10.0.1.10:80", "web")
		mustReach(t, p, web, "10.0.1.11:8080", "b")
	})
	t.Run("IPv6SameSubnet", func(t *testing.T) {
		mustReach(t, p, b, "[2001:db8:1::10]:80", "web")
	})
	t.Run("SecurityGroupPortAndCIDR", func(t *testing.T) {
		mustReach(t, p, b, "10.0.1.10:80", "web")
		mustNotReach(t, p, b, "10.0.1.10:22")        // 10.0.1.11 is not in 10.0.2.0/24
		mustNotReach(t, p, b, "[2001:db8:1::10]:22") // nor over IPv6
		mustReach(t, p, c, "10.0.1.10:22", "ssh")    // 10.0.2.10 is
		mustReach(t, p, c, "10.0.1.10:80", "web")    // via the VPC router
		mustReach(t, p, web, "10.0.2.10:80", "c")    // and back
	})
	t.Run("Stateful", func(t *testing.T) {
		// web's ingress allows only 80 and 22: the reply to its own connection to b:8080
		// comes back to an ephemeral port.
		mustReach(t, p, web, "10.0.1.11:8080", "b")
	})
	t.Run("ClosedPortRefused", func(t *testing.T) {
		// A closed port's reset comes back, also as the first and only reply of a
		// connection, across the bridges of a subnet (TestSegments) and the router.
		mustRefuse(t, p, web, "10.0.1.11:8081")
		mustRefuse(t, p, web, "[2001:db8:1::11]:8081")
		mustRefuse(t, p, b, "10.0.2.10:81")
		mustRefuse(t, p, c, "10.0.1.11:8081")
	})
	t.Run("FlushInsideInstanceChangesNothing", func(t *testing.T) {
		ns, err := openNS(web)
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		conn, err := nftables.New(nftables.WithNetNSFd(int(ns)))
		if err != nil {
			t.Fatal(err)
		}
		conn.FlushRuleset()
		if err := conn.Flush(); err != nil {
			t.Fatal(err)
		}
		mustNotReach(t, p, b, "10.0.1.10:22")
		mustReach(t, p, b, "10.0.1.10:80", "web")
	})
	t.Run("Internet", func(t *testing.T) {
		got := mustReach(t, p, web, p.InternetIP().String()+":8000", "internet")
		if !strings.Contains(got, "198.51.100.10:") {
			t.Errorf("internet saw %q, want the Elastic IP 198.51.100.10 as source", got)
		}
		mustReach(t, p, p.InternetNS(), "198.51.100.10:80", "web")
		// The private subnet neither reaches the internet nor is reached through its EIP.
		mustNotReach(t, p, c, p.InternetIP().String()+":8000")
		mustNotReach(t, p, p.InternetNS(), "198.51.100.11:80")
	})
	t.Run("SourceDestCheck", func(t *testing.T) {
		ln := listenUDP(t, p, b, "10.0.1.11:5000")
		sendUDPFrom(t, p, "i-web", "10.0.1.99", "10.0.1.11:5000")
		if received(ln, "10.0.1.99", failTimeout) {
			t.Fatal("spoofed source passed with the source/dest check on")
		}
		findENI(&d, "eni-web").SourceDestCheck = false
		// The spoofed address added by hand is damage that only a full pass looks for.
		if st := reconcile(t, p, d); st.ENIs.Get("eni-web") != "i-web" || st.Changes == 0 {
			t.Fatalf("eni-web not attached: %+v", st.ENIs)
		}
		sendUDPFrom(t, p, "i-web", "10.0.1.99", "10.0.1.11:5000")
		if !received(ln, "10.0.1.99", passTimeout) {
			t.Fatal("spoofed source dropped with the source/dest check off")
		}
		findENI(&d, "eni-web").SourceDestCheck = true
		reconcile(t, p, d)
		verify(t, p, d) // also removes the spoofed address
		reconcileStable(t, p, d)
		mustReach(t, p, b, "10.0.1.10:80", "web")
	})
	t.Run("MACSpoof", func(t *testing.T) {
		withHandle(t, web, func(h *netlink.Handle) {
			l, err := h.LinkByName("eth0")
			if err != nil {
				t.Fatal(err)
			}
			mac, _ := net.ParseMAC("02:00:00:00:99:99")
			if err := h.LinkSetHardwareAddr(l, mac); err != nil {
				t.Fatal(err)
			}
		})
		// Flush b's neighbour cache so that b has to learn web's (spoofed) MAC again.
		withHandle(t, b, func(h *netlink.Handle) {
			l, _ := h.LinkByName("eth0")
			neighs, _ := h.NeighList(l.Attrs().Index, netlink.FAMILY_V4)
			for _, n := range neighs {
				_ = h.NeighDel(&n)
			}
		})
		mustNotReach(t, p, b, "10.0.1.10:80")
		mustNotReach(t, p, web, "10.0.1.11:8080")
		if st := verify(t, p, d); st.Changes == 0 {
			t.Fatal("verify did not restore the MAC")
		}
		mustReach(t, p, b, "10.0.1.10:80", "web")
	})
}

func TestENIMove(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	d.ENIs = append(d.ENIs, ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.20", InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}})
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 9000, "web")
	serveTCP(t, p, p.InstanceNS("i-b"), 9000, "b")
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.20:9000", "web")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.20:9000", "web")

	findENI(&d, "eni-x").InstanceID = "i-b"
	st := reconcile(t, p, d)
	if st.ENIs.Get("eni-x") != "i-b" {
		t.Fatalf("eni-x realised in %q, want i-b", st.ENIs.Get("eni-x"))
	}
	// From another subnet (through the router) and from the same subnet (the old
	// instance's ARP entry stays valid: the MAC moves with the ENI).
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.20:9000", "b")
	mustReach(t, p, p.InstanceNS("i-web"), "10.0.1.20:9000", "b")
	// Back and forth before the old pairs are deleted in the background.
	for _, to := range []string{"i-web", "i-b", "i-web", "i-b"} {
		findENI(&d, "eni-x").InstanceID = to
		if st := reconcile(t, p, d); st.ENIs.Get("eni-x") != to {
			t.Fatalf("eni-x realised in %q, want %s", st.ENIs.Get("eni-x"), to)
		}
		mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.20:9000", strings.TrimPrefix(to, "i-"))
	}
	waitRetired(t, p)
	reconcileStable(t, p, d)
	withHandle(t, p.InstanceNS("i-web"), func(h *netlink.Handle) {
		if _, err := h.LinkByName("eth1"); err == nil {
			t.Error("eth1 still in i-web after the move")
		}
	})
	// Detach: the ENI disappears from both.
	findENI(&d, "eni-x").InstanceID = ""
	st = reconcileStable(t, p, d)
	if _, ok := st.ENIs.Lookup("eni-x"); ok {
		t.Fatal("detached eni-x still realised")
	}
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.20:9000")
}

// TestReconcileRepairsDamage: damage done by hand is repaired by a full pass (Verify); an
// incremental Reconcile, which trusts the plane's memory, touches only what changed.
func TestReconcileRepairsDamage(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)

	// An instance namespace deleted by hand comes back with its ENI.
	if err := deleteNS(p.InstanceNS("i-web")); err != nil {
		t.Fatal(err)
	}
	if st := verify(t, p, d); st.Changes == 0 || st.ENIs.Get("eni-web") != "i-web" {
		t.Fatalf("repair of i-web: %+v", st)
	}
	p.bg.Wait()
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "web")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:80", "web")

	// A host end deleted by hand (the peer goes with it).
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		l, err := h.LinkByName(ifName(p.Prefix(), kindENIHost, "eni-b"))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.LinkDel(l); err != nil {
			t.Fatal(err)
		}
	})
	mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:80")
	if st := reconcile(t, p, d); st.Changes != 0 {
		t.Fatalf("incremental reconcile of an unchanged desired state made %d changes", st.Changes)
	}
	if st := verify(t, p, d); st.Changes == 0 {
		t.Fatal("deleted veth not repaired")
	}
	reconcileStable(t, p, d)
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:80", "web")

	// A router leg, an address and the instance's default route.
	withHandle(t, p.RouterNS("vpc-1"), func(h *netlink.Handle) {
		l, err := h.LinkByName(ifName(p.Prefix(), kindRouterNS, "subnet-b"))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.LinkDel(l); err != nil {
			t.Fatal(err)
		}
	})
	withHandle(t, p.InstanceNS("i-c"), func(h *netlink.Handle) {
		routes, _ := h.RouteList(nil, netlink.FAMILY_V4)
		for _, r := range routes {
			if r.Dst == nil || r.Dst.String() == "0.0.0.0/0" {
				_ = h.RouteDel(&r)
			}
		}
	})
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80")
	// A change elsewhere (eni-web's rules) is realised without touching the damage.
	d.Groups[0].Ingress = append(d.Groups[0].Ingress, Rule{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"0.0.0.0/0"}})
	if st := reconcile(t, p, d); st.Changes == 0 {
		t.Fatal("rule change not realised")
	}
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80")
	if st := verify(t, p, d); st.Changes == 0 {
		t.Fatal("router leg not repaired")
	}
	reconcileStable(t, p, d)
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80", "web")
}

// TestFullEvery: with Options.FullEvery, Reconcile itself turns into a full pass.
func TestFullEvery(t *testing.T) {
	p := newTestPlane(t)
	p.fullEvery = time.Nanosecond
	d := baseDesired()
	reconcile(t, p, d)
	withHandle(t, p.InstanceNS("i-c"), func(h *netlink.Handle) {
		l, err := h.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetDown(l); err != nil {
			t.Fatal(err)
		}
	})
	if st := reconcile(t, p, d); st.Changes == 0 {
		t.Fatal("a Reconcile due for a full pass did not repair eth0")
	}
}

func TestLeftoversRemoved(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)

	// Leftovers with the prefix: a namespace and a datapath interface nobody wants.
	stale := p.InstanceNS("i-stale")
	ns, err := createNS(stale)
	if err != nil {
		t.Fatal(err)
	}
	_ = ns.Close()
	strayName := ifName(p.Prefix(), kindENIHost, "eni-gone")
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: strayName}, PeerName: strayName + "p"}); err != nil {
			t.Fatal(err)
		}
	})
	// An instance that stops and a VPC that goes away; the strays are found by a full pass.
	d.Instances[2].Running = false // i-c
	st := verify(t, p, d)
	if st.Changes == 0 || st.Instances.Get("i-c") {
		t.Fatalf("leftovers not removed: %+v", st)
	}
	if _, ok := st.ENIs.Lookup("eni-c"); ok {
		t.Fatal("ENI of a stopped instance still realised")
	}
	reconcileStable(t, p, d)
	names, _ := listNS(p.Prefix())
	sort.Strings(names)
	want := []string{p.DatapathNS(), p.InstanceNS("i-b"), p.InstanceNS("i-web"), p.InternetNS(), p.RouterNS("vpc-1")}
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("namespaces %v, want %v", names, want)
	}
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		if _, err := h.LinkByName(strayName); err == nil {
			t.Error("stray datapath interface not removed")
		}
	})

	// Everything gone from the desired state: only the datapath and internet remain.
	reconcileStable(t, p, Desired{})
	names, _ = listNS(p.Prefix())
	sort.Strings(names)
	want = []string{p.DatapathNS(), p.InternetNS()}
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("namespaces %v, want %v", names, want)
	}
}

// TestNATInstance: the private subnet's route table sends 0.0.0.0/0 to the ENI of a NAT
// instance (source/dest check off, masquerading) in the public subnet.
func TestNATInstance(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	d.VPCs[0].Subnets[1].DefaultRouteENI = "eni-nat"
	d.Instances = append(d.Instances, Instance{ID: "i-nat", Running: true})
	d.ENIs = append(d.ENIs, ENI{ID: "eni-nat", MAC: "02:00:00:00:01:1e", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.30", InstanceID: "i-nat", SourceDestCheck: true, Groups: []string{"sg-open"}})
	d.PublicIPs = append(d.PublicIPs, PublicMapping{Public: "198.51.100.30", Private: "10.0.1.30", ENIID: "eni-nat", VPCID: "vpc-1"})
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InternetNS(), 8000, "internet")

	// The NAT instance forwards and masquerades.
	err := p.DoInstance("i-nat", func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := openNS(p.InstanceNS("i-nat"))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	conn, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		t.Fatal(err)
	}
	tab := conn.AddTable(&nftables.Table{Name: "nat", Family: nftables.TableFamilyIPv4})
	ch := conn.AddChain(&nftables.Chain{Name: "post", Table: tab, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	conn.AddRule(&nftables.Rule{Table: tab, Chain: ch, Exprs: []expr.Any{
		&expr.Payload{OperationType: expr.PayloadLoad, DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{10, 0, 1, 30}},
		&expr.Masq{}}})
	if err := conn.Flush(); err != nil {
		t.Fatal(err)
	}

	// With the source/dest check on, the NAT instance drops what is not addressed to it.
	mustNotReach(t, p, p.InstanceNS("i-c"), p.InternetIP().String()+":8000")
	findENI(&d, "eni-nat").SourceDestCheck = false
	reconcileStable(t, p, d)
	got := mustReach(t, p, p.InstanceNS("i-c"), p.InternetIP().String()+":8000", "internet")
	if !strings.Contains(got, "198.51.100.30:") {
		t.Errorf("internet saw %q, want the NAT instance's Elastic IP", got)
	}
}

func TestExec(t *testing.T) {
	p := newTestPlane(t)
	reconcileStable(t, p, baseDesired())
	var out strings.Builder
	cmd := exec.Command("/bin/cat", "/proc/self/net/dev")
	cmd.Stdout = &out
	if err := p.Exec("i-web", cmd); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "eth0:") {
		t.Fatalf("command did not run inside the instance: %s", out.String())
	}
	if err := p.Exec("i-missing", exec.Command("/bin/true")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("exec in a missing instance: %v, want os.ErrNotExist", err)
	}
}

// TestRulesetNamesUnique: no two chains of the generated ruleset share a name (a clash
// merges two ENIs' chains).
func TestRulesetNamesUnique(t *testing.T) {
	si, err := parseSubnet("vpc-1", Subnet{ID: "subnet-a", CIDR: "10.0.0.0/16", IPv6CIDR: "2001:db8::/64"})
	if err != nil {
		t.Fatal(err)
	}
	si.ordinal, si.bridge = 1, "br"
	var enis []*eniInfo
	c := &planeCache{profs: map[uint64]*profEntry{}}
	groups := map[string]Group{"sg": {ID: "sg"}, "sg2": {ID: "sg2"}}
	keys := map[*eniInfo]uint64{}
	for i := 1; i <= 300; i++ {
		e, err := parseENI(ENI{ID: fmt.Sprintf("eni-%d", i), MAC: "02:00:00:00:00:01", SubnetID: "subnet-a",
			PrimaryIP: fmt.Sprintf("10.0.%d.%d", i/200, 10+i%200), IPv6: []string{fmt.Sprintf("2001:db8::%x", i)},
			SourceDestCheck: true, Groups: []string{"sg", "sg2"}[:1+i%2]}, si)
		if err != nil {
			t.Fatal(err)
		}
		e.mark, e.host = uint32(i), fmt.Sprintf("h%d", i)
		e.prof = c.profile(e, groups)
		keys[e] = dpENIKey(e)
		enis = append(enis, e)
	}
	var profs []*profEntry
	for _, p := range c.profs {
		profs = append(profs, p)
	}
	if len(profs) != 2 {
		t.Fatalf("%d profiles for two sets of groups", len(profs))
	}
	for _, tab := range dpTables("eni", []*subnetInfo{si}, enis, keys, profs, groups) {
		seen := map[string]bool{}
		for _, c := range tab.chains {
			if seen[c.name] {
				t.Fatalf("table %s: chain %s twice", tab.name, c.name)
			}
			seen[c.name] = true
		}
	}
}

func TestNames(t *testing.T) {
	for _, id := range []string{"eni-0123456789abcdef0", "subnet-1", "vpc-1"} {
		for _, k := range []byte{kindBridge, kindENIHost, kindENIHost2, kindENIHost3, kindRouterDP, kindRouterNS, kindUplink, kindInetLeg} {
			n := ifName("eni123", k, id)
			if len(n) > 15 || !strings.HasPrefix(n, "eni123") {
				t.Errorf("ifName(%q) = %q", id, n)
			}
		}
	}
	if ifName("eni", kindENIHost, "eni-a") == ifName("eni", kindENIHost, "eni-b") {
		t.Error("names collide")
	}
	if err := validPrefix("toolong"); err == nil {
		t.Error("7-character prefix accepted")
	}
	if _, err := New(Options{Prefix: "BAD"}); err == nil {
		t.Error("upper-case prefix accepted")
	}
}

// --- benchmarks ---

// prober sends a datagram to addr every millisecond from inside nsname and records the
// first time each responder name answers a probe sent after the last reset. A probe
// carries its number, and an echo (echoUDP) returns it: an answer still queued, or in
// flight, when reset is called is not taken for one to a later probe.
type prober struct {
	mu     sync.Mutex
	seen   map[string]time.Time
	from   int64 // the first probe whose answers count (under mu)
	conn   *net.UDPConn
	stop   chan struct{}
	wg     sync.WaitGroup
	target *net.UDPAddr
	sent   atomic.Int64 // probes sent; the next probe's number
}

func startProber(tb testing.TB, p *Plane, nsname, addr string) *prober {
	pr := &prober{seen: map[string]time.Time{}, stop: make(chan struct{}), target: mustUDPAddr(addr)}
	err := p.Do(nsname, func() error {
		var err error
		pr.conn, err = net.ListenUDP("udp", &net.UDPAddr{})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	pr.wg.Add(2)
	go func() {
		defer pr.wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-pr.stop:
				return
			case <-tick.C:
				seq := strconv.FormatInt(pr.sent.Load(), 10)
				_, _ = pr.conn.WriteToUDP([]byte(seq), pr.target) // losses are what we measure
				pr.sent.Add(1)
			}
		}
	}()
	go func() {
		defer pr.wg.Done()
		buf := make([]byte, 64)
		for {
			n, _, err := pr.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			name, seq, _ := strings.Cut(string(buf[:n]), "#")
			num, err := strconv.ParseInt(seq, 10, 64)
			pr.mu.Lock()
			if _, ok := pr.seen[name]; !ok && err == nil && num >= pr.from {
				pr.seen[name] = time.Now()
			}
			pr.mu.Unlock()
		}
	}()
	tb.Cleanup(pr.close)
	return pr
}

// reset forgets what was seen and counts only the answers to probes sent after it: the
// probe numbered sent may be on its way already (the sender counts it once written).
func (pr *prober) reset() {
	pr.mu.Lock()
	pr.seen = map[string]time.Time{}
	pr.from = pr.sent.Load() + 1
	pr.mu.Unlock()
}

func (pr *prober) firstSeen(name string) (time.Time, bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	t, ok := pr.seen[name]
	return t, ok
}

// echoUDP answers every datagram to addr (bound even before the address exists) with
// name, "#" and the datagram (a prober's probe number).
func echoUDP(tb testing.TB, p *Plane, nsname, addr, name string) {
	var c net.PacketConn
	err := p.Do(nsname, func() error {
		lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
			})
			return errors.Join(err, serr)
		}}
		var err error
		c, err = lc.ListenPacket(context.Background(), "udp4", addr)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteTo([]byte(name+"#"+string(buf[:n])), from) // a lost reply is a lost probe
		}
	}()
}

func percentile(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q * float64(len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

// BenchmarkENIMove: a client probes the ENI's address every millisecond; the time from the
// start of the Reconcile that moves the ENI until the new instance answers.
func BenchmarkENIMove(b *testing.B) {
	p := newTestPlane(b)
	d := baseDesired()
	d.ENIs = append(d.ENIs, ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.20", InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}})
	reconcile(b, p, d)
	echoUDP(b, p, p.InstanceNS("i-web"), "10.0.1.20:7", "i-web")
	echoUDP(b, p, p.InstanceNS("i-b"), "10.0.1.20:7", "i-b")
	pr := startProber(b, p, p.InstanceNS("i-c"), "10.0.1.20:7")
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		to := "i-b"
		if findENI(&d, "eni-x").InstanceID == "i-b" {
			to = "i-web"
		}
		findENI(&d, "eni-x").InstanceID = to
		pr.reset()
		start := time.Now()
		if _, err := p.Reconcile(context.Background(), d); err != nil {
			b.Fatal(err)
		}
		for {
			if t, ok := pr.firstSeen(to); ok {
				ds = append(ds, t.Sub(start))
				break
			}
			if time.Since(start) > 5*time.Second {
				b.Fatalf("move %d to %s: no answer", i, to)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	b.StopTimer()
	b.ReportMetric(percentile(ds, 0.5), "p50-ms")
	b.ReportMetric(percentile(ds, 0.99), "p99-ms")
}

// BenchmarkLaunch: a new instance with one ENI, from the start of the Reconcile until the
// instance's kernel answers a TCP connection (RST from a closed port) from a neighbour.
func BenchmarkLaunch(b *testing.B) {
	p := newTestPlane(b)
	d := baseDesired()
	reconcile(b, p, d)
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("i-l%d", i)
		ip := fmt.Sprintf("10.0.1.%d", 100+i%150)
		if i >= 150 {
			ip = fmt.Sprintf("10.0.2.%d", 20+i%200)
		}
		sub := "subnet-a"
		if i >= 150 {
			sub = "subnet-b"
		}
		d.Instances = append(d.Instances, Instance{ID: id, Running: true})
		d.ENIs = append(d.ENIs, ENI{ID: "eni-l" + fmt.Sprint(i), MAC: fmt.Sprintf("02:00:00:01:%02x:%02x", i>>8, i&0xff),
			SubnetID: sub, VPCID: "vpc-1", PrimaryIP: ip, InstanceID: id, SourceDestCheck: true, Groups: []string{"sg-open"}})
		start := time.Now()
		if _, err := p.Reconcile(context.Background(), d); err != nil {
			b.Fatal(err)
		}
		for {
			_, err := dialTCP(p, p.InstanceNS("i-b"), ip+":9", 50*time.Millisecond)
			if errors.Is(err, syscall.ECONNREFUSED) || err == nil || errors.Is(err, io.EOF) {
				break
			}
			if time.Since(start) > 5*time.Second {
				b.Fatalf("launch %d: %s unreachable: %v", i, ip, err)
			}
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(percentile(ds, 0.5), "p50-ms")
	b.ReportMetric(percentile(ds, 0.99), "p99-ms")
}

// TestIncrementalRules: the ruleset parts of ENIs added, changed and removed by incremental
// passes enforce like a full load.
func TestIncrementalRules(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)

	// A new instance in sg-web, added incrementally.
	d.Instances = append(d.Instances, Instance{ID: "i-d", Running: true})
	d.ENIs = append(d.ENIs, ENI{ID: "eni-d", MAC: "02:00:00:00:01:0d", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.13", InstanceID: "i-d", SourceDestCheck: true, Groups: []string{"sg-web"}})
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-d"), 80, "d")
	serveTCP(t, p, p.InstanceNS("i-d"), 22, "dssh")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.13:80", "d")
	mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.13:22")
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.13:22", "dssh")

	// A rule change reaches both members of sg-web.
	d.Groups[0].Ingress[1].CIDRs = []string{"10.0.1.0/24"}
	reconcileStable(t, p, d)
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.13:22", "dssh")
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.13:22")

	// eni-d leaves sg-web for sg-open; eni-web goes away; its chains and mark are reused.
	findENI(&d, "eni-d").Groups = []string{"sg-open"}
	findENI(&d, "eni-web").InstanceID = ""
	reconcileStable(t, p, d)
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.13:22", "dssh")
	d.ENIs = append(d.ENIs, ENI{ID: "eni-e", MAC: "02:00:00:00:01:0e", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.14", InstanceID: "i-web", SourceDestCheck: true, Groups: []string{"sg-web"}})
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "e")
	serveTCP(t, p, p.InstanceNS("i-web"), 22, "essh")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.14:80", "e")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.14:22", "essh")
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.14:22")
	mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:80") // eni-web is gone
}

// /run/netns is a mount point of its own once the plane has made a
// namespace, so that iproute2's `ip netns add` leaves our mounts alone, and the
// namespaces' mounts there are shared too (made in it after it was made shared once,
// ensureNetnsMountOnce), as iproute2 makes them.
func TestNetnsDirIsAMountPoint(t *testing.T) {
	p := newTestPlane(t)
	d := Desired{Instances: []Instance{{ID: "i-m1", Running: true}, {ID: "i-m2", Running: true}}}
	reconcile(t, p, d)
	if _, err := createNS(p.InstanceNS("i-m3")); err != nil { // one more, alone
		t.Fatal(err)
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{netnsDir: true, nsPath(p.InstanceNS("i-m1")): true, nsPath(p.InstanceNS("i-m2")): true, nsPath(p.InstanceNS("i-m3")): true}
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		if len(f) > 6 && want[f[4]] && strings.Contains(line, "shared:") {
			delete(want, f[4])
		}
	}
	if len(want) > 0 {
		t.Fatalf("not shared mount points: %v\n%s", want, info)
	}
}
