package e2e

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// BenchmarkClusterMove moves an ENI between an instance on host 1 and one on
// host 2, back and forth, and measures each move from the attach reply to the
// first answer from the new host: a prober on a third instance sends a UDP
// datagram to the ENI's address every millisecond, and each instance answers
// with its name.
func BenchmarkClusterMove(b *testing.B) {
	c := newCluster(b, 2, 1)
	vpc := c.vpc("10.74.0.0/16")
	s := c.subnet(vpc, "10.74.1.0/24")
	open := c.sgOpen(vpc, "open", "10.74.0.0/16")
	x, y, prober := c.launchIn(s, open), c.launchIn(s, open), c.launchIn(s, open)
	if c.hostOf(x) == c.hostOf(y) {
		b.Fatalf("%s and %s on one host", x, y)
	}
	for _, id := range []string{x, y} {
		udpEcho(b, c.env, c.ns(id), 7700, id)
	}
	e := c.createENI(s, open)
	target := net.JoinHostPort(*e.PrivateIpAddress, "7700")
	// Unconnected: an instance answers from its eth0's address (its routing picks the
	// source of a reply from a socket on 0.0.0.0), not the ENI's.
	var conn *net.UDPConn
	raddr, err := net.ResolveUDPAddr("udp4", target)
	c.must(err)
	c.must(c.plane.Do(c.ns(prober), func() error {
		var err error
		conn, err = net.ListenUDP("udp4", nil)
		return err
	}))
	defer conn.Close()
	owners := []string{x, y}
	att := c.attach(*e.NetworkInterfaceId, x, 1)
	waitUDPAnswer(b, conn, raddr, x, 15*time.Second)
	var moves []time.Duration
	for i := 0; b.Loop(); i++ {
		to := owners[(i+1)%2]
		c.detach(att)
		c.waitFor("detached", func() (bool, string) {
			n, _ := c.eni(*e.NetworkInterfaceId)
			return n.Status == types.NetworkInterfaceStatusAvailable, string(n.Status)
		})
		att = c.attach(*e.NetworkInterfaceId, to, 1)
		t0 := time.Now()
		waitUDPAnswer(b, conn, raddr, to, 15*time.Second)
		moves = append(moves, time.Since(t0))
	}
	b.ReportMetric(pctMS(moves, 0.5), "move-p50-ms")
	b.ReportMetric(pctMS(moves, 0.99), "move-p99-ms")
}

// udpEcho answers every datagram to port in the namespace with name.
func udpEcho(tb testing.TB, e *env, nsname string, port int, name string) {
	tb.Helper()
	var pc net.PacketConn
	e.must(e.plane.Do(nsname, func() error {
		var err error
		pc, err = net.ListenPacket("udp4", net.JoinHostPort("", strconv.Itoa(port)))
		return err
	}))
	tb.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo([]byte(name), from)
		}
	}()
}

// waitUDPAnswer sends a datagram every millisecond until one is answered by want.
func waitUDPAnswer(tb testing.TB, conn *net.UDPConn, to *net.UDPAddr, want string, limit time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	buf := make([]byte, 64)
	for time.Now().Before(deadline) {
		_, _ = conn.WriteToUDP([]byte("?"), to)
		_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			if strings.TrimSpace(string(buf[:n])) == want {
				return
			}
		}
	}
	tb.Fatalf("no answer from %s within %v", want, limit)
}
