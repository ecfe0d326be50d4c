package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/vishvananda/netlink"
)

// udpFirst listens for UDP on port in the namespace and records when the first datagram
// from a given source address arrives after arm.
type udpFirst struct {
	mu    sync.Mutex
	from  netip.Addr
	since time.Time
	got   time.Time
}

func (u *udpFirst) arm(from netip.Addr, since time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.from, u.since, u.got = from, since, time.Time{}
}

func (u *udpFirst) first() time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.got
}

func (e *env) udpFirst(nsname string, port int) *udpFirst {
	e.t.Helper()
	u := &udpFirst{}
	var pc net.PacketConn
	e.must(e.plane.Do(nsname, func() error {
		var err error
		pc, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", port))
		return err
	}))
	e.t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			_, a, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			now := time.Now()
			src, _ := netip.ParseAddrPort(a.String())
			u.mu.Lock()
			if u.got.IsZero() && src.Addr() == u.from && now.After(u.since) {
				u.got = now
			}
			u.mu.Unlock()
		}
	}()
	return u
}

// udpSender sends a datagram a millisecond from the namespace to addr until stop is closed.
func (e *env) udpSender(nsname, addr string, stop chan struct{}) {
	e.t.Helper()
	var c net.Conn
	e.must(e.plane.Do(nsname, func() error {
		var err error
		c, err = net.Dial("udp4", addr)
		return err
	}))
	go func() {
		defer c.Close()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_, _ = c.Write([]byte("x"))
			}
		}
	}()
}

// BenchmarkNatGatewayFirstPacket: from the CreateNatGateway call (the route 0.0.0.0/0 →
// the gateway made right after it, as a client does) to the first datagram of a private
// instance's stream (one a millisecond) that reaches the simulated internet from the
// gateway's Elastic IP, through the API, the agent and the plane ("first-packet-ms",
// median). Each round deletes the gateway and its route.
func BenchmarkNatGatewayFirstPacket(b *testing.B) {
	e := newEnv(b)
	s := e.natSetup()
	eip, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	rt, err := e.ec2.CreateRouteTable(ctx(), &ec2.CreateRouteTableInput{VpcId: aws.String(s.vpc)})
	e.must(err)
	rtb := rt.RouteTable.RouteTableId
	_, err = e.ec2.AssociateRouteTable(ctx(), &ec2.AssociateRouteTableInput{RouteTableId: rtb, SubnetId: aws.String(s.private)})
	e.must(err)
	u := e.udpFirst(e.plane.InternetNS(), 9999)
	e.settle()
	var ms []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stop := make(chan struct{})
		e.udpSender(s.ns, net.JoinHostPort(e.plane.InternetIP().String(), "9999"), stop)
		t0 := time.Now()
		u.arm(netip.MustParseAddr(*eip.PublicIp), t0)
		out, err := e.ec2.CreateNatGateway(ctx(), &ec2.CreateNatGatewayInput{SubnetId: aws.String(s.public), AllocationId: eip.AllocationId})
		e.must(err)
		nat := out.NatGateway.NatGatewayId
		_, err = e.ec2.CreateRoute(ctx(), &ec2.CreateRouteInput{RouteTableId: rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat})
		e.must(err)
		var got time.Time
		e.waitFor("the first datagram through the gateway", func() (bool, string) { got = u.first(); return !got.IsZero(), "" })
		ms = append(ms, float64(got.Sub(t0))/1e6)
		close(stop)
		b.StopTimer()
		_, err = e.ec2.DeleteRoute(ctx(), &ec2.DeleteRouteInput{RouteTableId: rtb, DestinationCidrBlock: aws.String("0.0.0.0/0")})
		e.must(err)
		_, err = e.ec2.DeleteNatGateway(ctx(), &ec2.DeleteNatGatewayInput{NatGatewayId: nat})
		e.must(err)
		e.settle()
		b.StartTimer()
	}
	b.ReportMetric(median(ms), "first-packet-ms")
}

// natBenchPath is a client namespace and a server address: through a NAT gateway (a
// private instance to the simulated internet), or over one veth pair between two
// namespaces of the test's own (the host's baseline, measured in the same run).
type natBenchPath struct {
	client, server, addr string
}

// natBenchPaths makes both paths; the servers answer on port 80 ("name remote") and
// discard what is sent to port 81.
func (e *env) natBenchPaths() (veth, nat natBenchPath) {
	e.t.Helper()
	s := e.natSetup()
	eip, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	out, err := e.ec2.CreateNatGateway(ctx(), &ec2.CreateNatGatewayInput{SubnetId: aws.String(s.public), AllocationId: eip.AllocationId})
	e.must(err)
	e.natRoute(s, *out.NatGateway.NatGatewayId)
	e.settle()
	inet := e.plane.InternetIP().String()
	e.reach(s.ns, net.JoinHostPort(inet, "80"), "internet")
	e.discard(e.plane.InternetNS(), 81)
	nat = natBenchPath{client: s.ns, server: e.plane.InternetNS(), addr: inet}

	a, b := e.prefix+"-bench-a", e.prefix+"-bench-b"
	e.createNS(a)
	e.createNS(b)
	e.t.Cleanup(func() { e.removeNS(a); e.removeNS(b) })
	la, lb := e.prefix+"bencha", e.prefix+"benchb"
	e.must(e.plane.Do(a, func() error {
		return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: la}, PeerName: lb})
	}))
	e.must(e.plane.Do(a, func() error {
		l, err := netlink.LinkByName(lb)
		if err != nil {
			return err
		}
		f, err := os.Open(filepath.Join(netnsDir, b))
		if err != nil {
			return err
		}
		defer f.Close()
		return netlink.LinkSetNsFd(l, int(f.Fd()))
	}))
	for _, side := range []struct{ ns, link, ip string }{{a, la, "192.0.2.1/30"}, {b, lb, "192.0.2.2/30"}} {
		e.must(e.plane.Do(side.ns, func() error {
			l, err := netlink.LinkByName(side.link)
			if err != nil {
				return err
			}
			addr, _ := netlink.ParseAddr(side.ip)
			if err := netlink.AddrAdd(l, addr); err != nil {
				return err
			}
			lo, _ := netlink.LinkByName("lo")
			_ = netlink.LinkSetUp(lo)
			return netlink.LinkSetUp(l)
		}))
	}
	e.serve(b, 80, "veth")
	e.discard(b, 81)
	veth = natBenchPath{client: a, server: b, addr: "192.0.2.2"}
	e.reach(a, net.JoinHostPort(veth.addr, "80"), "veth")
	return veth, nat
}

// discard listens on port in the namespace and reads everything sent to it.
func (e *env) discard(nsname string, port int) {
	e.t.Helper()
	var ln net.Listener
	e.must(e.plane.Do(nsname, func() error {
		var err error
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	}))
	e.t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); _ = c.Close() }()
		}
	}()
}

// BenchmarkNatGatewayThroughput: one TCP connection's throughput (MB/s, 1 MiB an
// operation) from a private instance to the simulated internet through a NAT gateway
// ("nat"), and over one veth pair between two namespaces ("veth", the baseline).
func BenchmarkNatGatewayThroughput(b *testing.B) {
	e := newEnv(b)
	veth, nat := e.natBenchPaths()
	chunk := make([]byte, 1<<20)
	for _, p := range []struct {
		name string
		path natBenchPath
	}{{"veth", veth}, {"nat", nat}} {
		b.Run(p.name, func(b *testing.B) {
			var c net.Conn
			e.must(e.plane.Do(p.path.client, func() error {
				var err error
				c, err = net.Dial("tcp", net.JoinHostPort(p.path.addr, "81"))
				return err
			}))
			defer c.Close()
			b.SetBytes(int64(len(chunk)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Write(chunk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNatGatewayConnections: new TCP connections a second (each dialled, answered
// with one line, closed) from a private instance to the simulated internet through a NAT
// gateway ("nat"), and over one veth pair ("veth", the baseline). Four clients at a time.
func BenchmarkNatGatewayConnections(b *testing.B) {
	e := newEnv(b)
	veth, nat := e.natBenchPaths()
	for _, p := range []struct {
		name string
		path natBenchPath
	}{{"veth", veth}, {"nat", nat}} {
		b.Run(p.name, func(b *testing.B) {
			var n, failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = e.plane.Do(p.path.client, func() error {
						for n.Add(1) <= int64(b.N) {
							c, err := net.DialTimeout("tcp", net.JoinHostPort(p.path.addr, "80"), 5*time.Second)
							if err != nil {
								failed.Add(1)
								continue
							}
							_ = c.SetDeadline(time.Now().Add(5 * time.Second))
							if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
								failed.Add(1)
							}
							_ = c.Close()
						}
						return nil
					})
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "conns/s")
			if f := failed.Load(); f > 0 {
				b.Fatalf("%d of %d connections failed", f, b.N)
			}
		})
	}
}
