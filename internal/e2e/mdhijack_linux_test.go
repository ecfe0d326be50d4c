package e2e

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/eni-net/eni/internal/imds"
)

// TestAttackMetadataConnectionHijack: instance A opens a connection to the metadata
// service through its secondary ENI X and keeps it; X is moved to instance B. Root in B,
// now holding X's address, writes into A's connection: a segment from X's address and
// the connection's port with the exact sequence numbers it is at (read here from A's
// socket). The datapath forgot the connection with X's old mark and takes the segment as
// a new one of X's, but the router pins a metadata connection to the metadata number of
// the ENI that opened it, and X has a new one in B: the segment is dropped, so the
// service does not answer B on A's connection (A's token, A's credentials).
func TestAttackMetadataConnectionHijack(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	a, b := e.launch(subnet), e.launch(subnet)
	e.waitRunning(a, b)
	x := e.createENI(subnet)
	xIP := netip.MustParseAddr(*x.PrivateIpAddress)
	att := e.attach(*x.NetworkInterfaceId, a, 1)
	tokenReq := "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n" + imds.TokenTTLHeader + ": 60\r\n\r\n"
	dialFromX := func(inst string) (*net.TCPConn, error) {
		var c *net.TCPConn
		err := e.plane.DoInstance(inst, func() error {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: xIP.AsSlice()}, Timeout: time.Second}
			conn, err := d.Dial("tcp", "169.254.169.254:80")
			if err == nil {
				c = conn.(*net.TCPConn)
			}
			return err
		})
		return c, err
	}
	var c *net.TCPConn
	e.waitFor("a metadata connection from A through X", func() (bool, string) {
		var err error
		c, err = dialFromX(a)
		return err == nil, fmt.Sprint(err)
	})
	t.Cleanup(func() { _ = c.Close() })
	e.must(c.SetDeadline(time.Now().Add(3 * time.Second)))
	_, err := c.Write([]byte(tokenReq))
	e.must(err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("A's token through X: %v %v", resp, err)
	}
	resp.Body.Close()
	snd, rcv := tcpQueueSeqs(t, c)
	port := uint16(c.LocalAddr().(*net.TCPAddr).Port)

	e.detach(att)
	e.attach(*x.NetworkInterfaceId, b, 1)
	e.waitFor("a metadata connection from B through X", func() (bool, string) {
		c2, err := dialFromX(b)
		if err == nil {
			c2.Close()
		}
		return err == nil, fmt.Sprint(err)
	})
	answers := e.sniff(e.plane.InstanceNS(b), "eth1", func(p pkt) bool { return !p.outgoing && strings.Contains(string(p.raw), "HTTP/1.1 ") })
	seg := tcpSegment(xIP, netip.MustParseAddr("169.254.169.254"), port, 80, snd, rcv, []byte(tokenReq))
	for range 3 {
		e.sendRawIPv4From(b, xIP, netip.MustParseAddr("169.254.169.254"), seg)
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if got := answers.all(); len(got) > 0 {
		t.Fatalf("B was answered on A's metadata connection (%d packets), first: %q", len(got), got[0].raw)
	}
}

// tcpQueueSeqs reads the next sequence number a TCP connection sends and the next it
// expects (the socket in repair mode for a moment; needs CAP_NET_ADMIN).
func tcpQueueSeqs(t *testing.T, c *net.TCPConn) (snd, rcv uint32) {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		s := int(fd)
		if serr = unix.SetsockoptInt(s, unix.SOL_TCP, unix.TCP_REPAIR, 1); serr != nil {
			return
		}
		defer func() { serr = errors.Join(serr, unix.SetsockoptInt(s, unix.SOL_TCP, unix.TCP_REPAIR, 0)) }()
		for _, q := range []struct {
			queue int
			seq   *uint32
		}{{tcpSendQueue, &snd}, {tcpRecvQueue, &rcv}} {
			if serr = unix.SetsockoptInt(s, unix.SOL_TCP, unix.TCP_REPAIR_QUEUE, q.queue); serr != nil {
				return
			}
			v, err := unix.GetsockoptInt(s, unix.SOL_TCP, unix.TCP_QUEUE_SEQ)
			if serr = err; err != nil {
				return
			}
			*q.seq = uint32(v)
		}
	})
	if err != nil || serr != nil {
		t.Fatalf("the connection's sequence numbers: %v %v", err, serr)
	}
	return snd, rcv
}

// tcpSegment is an IPv4 packet holding a TCP segment (ACK and PSH) with payload.
func tcpSegment(src, dst netip.Addr, sport, dport uint16, seq, ack uint32, payload []byte) []byte {
	tcp := make([]byte, 20+len(payload))
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12], tcp[13] = 5<<4, 0x18 // header length, ACK|PSH
	binary.BigEndian.PutUint16(tcp[14:], 502)
	copy(tcp[20:], payload)
	s4, d4 := src.As4(), dst.As4()
	pseudo := append(append(append(append([]byte{}, s4[:]...), d4[:]...), 0, unix.IPPROTO_TCP), byte(len(tcp)>>8), byte(len(tcp)))
	binary.BigEndian.PutUint16(tcp[16:], csum(append(pseudo, tcp...)))
	ip := make([]byte, 20, 20+len(tcp))
	ip[0], ip[8], ip[9] = 0x45, 64, unix.IPPROTO_TCP
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	return append(ip, tcp...)
}

// sendRawIPv4From sends an IPv4 packet, header and all, from inside the instance, routed
// as from src (the raw socket bound to it: the policy routing of src's ENI applies).
func (e *env) sendRawIPv4From(inst string, src, dst netip.Addr, pkt []byte) {
	e.t.Helper()
	err := e.plane.DoInstance(inst, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: src.As4()}); err != nil {
			return err
		}
		return unix.Sendto(fd, pkt, 0, &unix.SockaddrInet4{Addr: dst.As4()})
	})
	if err != nil {
		e.t.Fatalf("raw send in %s: %v", inst, err)
	}
}

// The queues of TCP_REPAIR_QUEUE (linux/tcp.h).
const (
	tcpRecvQueue = 1
	tcpSendQueue = 2
)
