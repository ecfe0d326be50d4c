package e2e

// Hand-built frames for the attack tests (attack_linux_test.go): Ethernet with
// optional 802.1Q/802.1ad tags, IPv4, IPv6 with extension headers, UDP, TCP
// and ICMPv6 with correct checksums, sent and sniffed on an interface inside a
// namespace through an AF_PACKET socket, as root in an instance would.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	ether1Q   = 0x8100 // 802.1Q tag
	ether1AD  = 0x88a8 // 802.1ad (QinQ) outer tag

	ipHopOpts  = 0
	ipTCP      = 6
	ipUDP      = 17
	ipRouting  = 43
	ipFragment = 44
	ipICMPv6   = 58
	ipDestOpts = 60

	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10

	icmp6EchoRequest = 128
	icmp6EchoReply   = 129
	icmp6MLDv2Report = 143
	icmp6RS          = 133
	icmp6NS          = 135
	icmp6NA          = 136

	naRouter    = 0x80
	naSolicited = 0x40
	naOverride  = 0x20
)

var be = binary.BigEndian

// csum is the Internet checksum of b (RFC 1071).
func csum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// pseudoHdr is the checksum pseudo-header of an upper-layer packet of n bytes.
func pseudoHdr(src, dst netip.Addr, proto byte, n int) []byte {
	if src.Is4() {
		b := make([]byte, 12)
		s, d := src.As4(), dst.As4()
		copy(b, s[:])
		copy(b[4:], d[:])
		b[9] = proto
		be.PutUint16(b[10:], uint16(n))
		return b
	}
	b := make([]byte, 40)
	s, d := src.As16(), dst.As16()
	copy(b, s[:])
	copy(b[16:], d[:])
	be.PutUint32(b[32:], uint32(n))
	b[39] = proto
	return b
}

// withSum writes the transport checksum of seg (from src to the final
// destination dst) at offset off.
func withSum(src, dst netip.Addr, proto byte, seg []byte, off int) []byte {
	be.PutUint16(seg[off:], 0)
	c := csum(append(pseudoHdr(src, dst, proto, len(seg)), seg...))
	if c == 0 && proto == ipUDP {
		c = 0xffff
	}
	be.PutUint16(seg[off:], c)
	return seg
}

// udpSeg is a UDP datagram.
func udpSeg(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8+len(payload))
	be.PutUint16(b, sport)
	be.PutUint16(b[2:], dport)
	be.PutUint16(b[4:], uint16(len(b)))
	copy(b[8:], payload)
	return withSum(src, dst, ipUDP, b, 6)
}

// tcpSeg is a TCP segment with a 20-byte header (no options) and window 65535.
func tcpSeg(src, dst netip.Addr, sport, dport uint16, seq, ack uint32, flags byte, payload []byte) []byte {
	b := make([]byte, 20+len(payload))
	be.PutUint16(b, sport)
	be.PutUint16(b[2:], dport)
	be.PutUint32(b[4:], seq)
	be.PutUint32(b[8:], ack)
	b[12] = 5 << 4
	b[13] = flags
	be.PutUint16(b[14:], 65535)
	copy(b[20:], payload)
	return withSum(src, dst, ipTCP, b, 16)
}

// icmp6Msg is an ICMPv6 message (body follows the 4-byte type/code/checksum).
func icmp6Msg(src, dst netip.Addr, typ, code byte, body []byte) []byte {
	b := append([]byte{typ, code, 0, 0}, body...)
	return withSum(src, dst, ipICMPv6, b, 2)
}

// ndNA is a neighbour advertisement for target with flags (naRouter,
// naSolicited, naOverride) and, if tlla is set, a target link-layer address option.
func ndNA(src, dst, target netip.Addr, flags byte, tlla net.HardwareAddr) []byte {
	t := target.As16()
	body := append([]byte{flags, 0, 0, 0}, t[:]...)
	if tlla != nil {
		body = append(append(body, 2, 1), tlla...)
	}
	return icmp6Msg(src, dst, icmp6NA, 0, body)
}

// ndNS is a neighbour solicitation for target with, if slla is set, a source
// link-layer address option.
func ndNS(src, dst, target netip.Addr, slla net.HardwareAddr) []byte {
	t := target.As16()
	body := append([]byte{0, 0, 0, 0}, t[:]...)
	if slla != nil {
		body = append(append(body, 1, 1), slla...)
	}
	return icmp6Msg(src, dst, icmp6NS, 0, body)
}

// echo6 is an ICMPv6 echo request.
func echo6(src, dst netip.Addr, id, seq uint16, payload []byte) []byte {
	body := make([]byte, 4, 4+len(payload))
	be.PutUint16(body, id)
	be.PutUint16(body[2:], seq)
	return icmp6Msg(src, dst, icmp6EchoRequest, 0, append(body, payload...))
}

// ip4Pkt is an IPv4 packet (no options, don't-fragment clear).
func ip4Pkt(src, dst netip.Addr, ttl, proto byte, payload []byte) []byte {
	b := make([]byte, 20+len(payload))
	b[0], b[8], b[9] = 0x45, ttl, proto
	be.PutUint16(b[2:], uint16(len(b)))
	be.PutUint16(b[4:], uint16(time.Now().UnixNano())) // identification
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	be.PutUint16(b[10:], csum(b[:20]))
	copy(b[20:], payload)
	return b
}

// ip6Pkt is an IPv6 packet; next is the type of the first header of payload
// (an extension header or the upper layer).
func ip6Pkt(src, dst netip.Addr, hlim, next byte, payload []byte) []byte {
	b := make([]byte, 40+len(payload))
	b[0] = 0x60
	be.PutUint16(b[4:], uint16(len(payload)))
	b[6], b[7] = next, hlim
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	copy(b[40:], payload)
	return b
}

// optsHdr is a hop-by-hop or destination options header with opts (TLVs),
// padded with PadN to a multiple of 8 bytes; rest follows it.
func optsHdr(next byte, opts []byte, rest []byte) []byte {
	b := append([]byte{next, 0}, opts...)
	if pad := (8 - len(b)%8) % 8; pad == 1 {
		b = append(b, 0) // Pad1
	} else if pad > 1 {
		b = append(append(b, 1, byte(pad-2)), make([]byte, pad-2)...)
	}
	b[1] = byte(len(b)/8 - 1)
	return append(b, rest...)
}

// routerAlert is the hop-by-hop Router Alert option for MLD (RFC 2711).
var routerAlert = []byte{5, 2, 0, 0}

// rh0 is a type 0 routing header through segs (segments left = len(segs)); rest follows it.
func rh0(next byte, segs []netip.Addr, rest []byte) []byte {
	b := []byte{next, byte(2 * len(segs)), 0, byte(len(segs)), 0, 0, 0, 0}
	for _, a := range segs {
		s := a.As16()
		b = append(b, s[:]...)
	}
	return append(b, rest...)
}

// fragment is a fragment header (off in bytes, a multiple of 8) and the fragment's data.
func fragment(next byte, off int, more bool, id uint32, data []byte) []byte {
	b := make([]byte, 8, 8+len(data))
	b[0] = next
	fo := uint16(off/8) << 3
	if more {
		fo |= 1
	}
	be.PutUint16(b[2:], fo)
	be.PutUint32(b[4:], id)
	return append(b, data...)
}

// vlanTag is an 802.1Q or 802.1ad tag.
type vlanTag struct{ tpid, vid uint16 }

// ethFrame is an Ethernet frame carrying payload of type typ behind the tags (outer first).
func ethFrame(dst, src net.HardwareAddr, typ uint16, payload []byte, tags ...vlanTag) []byte {
	b := append(append([]byte{}, dst...), src...)
	for _, t := range tags {
		b = be.AppendUint16(b, t.tpid)
		b = be.AppendUint16(b, t.vid&0xfff)
	}
	b = be.AppendUint16(b, typ)
	return append(b, payload...)
}

// eth6 is an Ethernet frame carrying an IPv6 packet.
func eth6(dst, src net.HardwareAddr, ip6 []byte) []byte { return ethFrame(dst, src, etherIPv6, ip6) }

// eth4 is an Ethernet frame carrying an IPv4 packet.
func eth4(dst, src net.HardwareAddr, ip4 []byte) []byte { return ethFrame(dst, src, etherIPv4, ip4) }

// eui64LL is the link-local address the kernel derives from mac (EUI-64).
func eui64LL(mac net.HardwareAddr) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10], a[11], a[12] = mac[0]^2, mac[1], mac[2], 0xff, 0xfe
	a[13], a[14], a[15] = mac[3], mac[4], mac[5]
	return netip.AddrFrom16(a)
}

// solicitedNode is the solicited-node multicast group of a.
func solicitedNode(a netip.Addr) netip.Addr {
	s := a.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 11: 1, 12: 0xff, 13: s[13], 14: s[14], 15: s[15]})
}

// mcastMAC is the Ethernet address of IPv6 multicast group g.
func mcastMAC(g netip.Addr) net.HardwareAddr {
	s := g.As16()
	return net.HardwareAddr{0x33, 0x33, s[12], s[13], s[14], s[15]}
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// --- parsing ---

// pkt is a parsed frame. Fields beyond what the frame holds are zero.
type pkt struct {
	raw      []byte
	outgoing bool // sent by the sniffing host, not received
	src, dst net.HardwareAddr
	tags     int    // VLAN tags in the frame
	etype    uint16 // after the tags
	ipSrc    netip.Addr
	ipDst    netip.Addr
	proto    byte // upper-layer protocol, after IPv6 extension headers
	frag     bool // a fragment (IPv4 or IPv6)
	l4       []byte
}

func parsePkt(b []byte) pkt {
	p := pkt{raw: b}
	if len(b) < 14 {
		return p
	}
	p.dst, p.src = net.HardwareAddr(b[0:6]), net.HardwareAddr(b[6:12])
	off := 12
	for len(b) >= off+2 {
		p.etype = be.Uint16(b[off:])
		if p.etype != ether1Q && p.etype != ether1AD {
			break
		}
		p.tags++
		off += 4
	}
	off += 2
	if off > len(b) {
		return p
	}
	ip := b[off:]
	switch {
	case p.etype == etherIPv4 && len(ip) >= 20:
		ihl := int(ip[0]&0xf) * 4
		p.ipSrc, _ = netip.AddrFromSlice(ip[12:16])
		p.ipDst, _ = netip.AddrFromSlice(ip[16:20])
		p.proto = ip[9]
		p.frag = be.Uint16(ip[6:])&0x3fff != 0
		if ihl >= 20 && ihl <= len(ip) {
			p.l4 = ip[ihl:]
		}
	case p.etype == etherIPv6 && len(ip) >= 40:
		p.ipSrc, _ = netip.AddrFromSlice(ip[8:24])
		p.ipDst, _ = netip.AddrFromSlice(ip[24:40])
		next, rest := ip[6], ip[40:]
		for {
			switch next {
			case ipHopOpts, ipRouting, ipDestOpts:
				if len(rest) < 8 || len(rest) < (int(rest[1])+1)*8 {
					return p
				}
				next, rest = rest[0], rest[(int(rest[1])+1)*8:]
				continue
			case ipFragment:
				if len(rest) < 8 {
					return p
				}
				p.frag = true
				next, rest = rest[0], rest[8:]
				continue
			}
			break
		}
		p.proto, p.l4 = next, rest
	}
	return p
}

func (p pkt) ports() (sport, dport uint16) {
	if (p.proto != ipTCP && p.proto != ipUDP) || len(p.l4) < 4 {
		return 0, 0
	}
	return be.Uint16(p.l4), be.Uint16(p.l4[2:])
}

func (p pkt) tcpFlags() byte {
	if p.proto != ipTCP || len(p.l4) < 14 {
		return 0
	}
	return p.l4[13]
}

// icmpType is the ICMPv6 type, or -1.
func (p pkt) icmpType() int {
	if p.proto != ipICMPv6 || len(p.l4) < 1 {
		return -1
	}
	return int(p.l4[0])
}

func (p pkt) String() string {
	s, d := p.ports()
	return fmt.Sprintf("%s→%s tags=%d type=%#04x %s→%s proto=%d ports=%d→%d flags=%#x icmp=%d out=%v",
		p.src, p.dst, p.tags, p.etype, p.ipSrc, p.ipDst, p.proto, s, d, p.tcpFlags(), p.icmpType(), p.outgoing)
}

// --- AF_PACKET sockets ---

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// rawSock is an AF_PACKET socket bound to one interface of one namespace
// (it stays bound to it whichever thread uses it later).
type rawSock struct{ fd int }

// openRaw opens a raw packet socket on ifname inside the namespace; the test's
// cleanup closes it.
func (e *env) openRaw(nsname, ifname string) *rawSock {
	e.t.Helper()
	fd := -1
	err := e.plane.Do(nsname, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			return err
		}
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) // best effort
		return nil
	})
	if err != nil {
		e.t.Fatalf("raw socket on %s in %s: %v", ifname, nsname, err)
	}
	r := &rawSock{fd: fd}
	e.t.Cleanup(func() { _ = unix.Close(r.fd) })
	return r
}

// send sends each frame as is. A full transmit queue is waited out.
func (r *rawSock) send(frames ...[]byte) error {
	for _, f := range frames {
		for tries := 0; ; tries++ {
			_, err := unix.Write(r.fd, f)
			if err == unix.ENOBUFS && tries < 100 {
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// recv returns the next frame seen on the interface (received or sent), or
// ok=false at the deadline.
func (r *rawSock) recv(deadline time.Time) (pkt, bool) {
	buf := make([]byte, 65536)
	for {
		ms := time.Until(deadline).Milliseconds()
		if ms <= 0 {
			return pkt{}, false
		}
		fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(min(ms, 50)))
		if err == unix.EINTR || n == 0 {
			continue
		}
		if err != nil {
			return pkt{}, false
		}
		n, from, err := unix.Recvfrom(r.fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			continue
		}
		p := parsePkt(bytes.Clone(buf[:n]))
		if ll, ok := from.(*unix.SockaddrLinklayer); ok {
			p.outgoing = ll.Pkttype == unix.PACKET_OUTGOING
		}
		return p, true
	}
}

// sniffer records the frames on an interface that match a filter.
type sniffer struct {
	match func(pkt) bool
	mu    sync.Mutex
	hits  []pkt
	stop  atomic.Bool
	done  chan struct{}
}

// sniff starts recording the frames on ifname in the namespace that match,
// until the test ends.
func (e *env) sniff(nsname, ifname string, match func(pkt) bool) *sniffer {
	e.t.Helper()
	r := e.openRaw(nsname, ifname)
	s := &sniffer{match: match, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for !s.stop.Load() {
			p, ok := r.recv(time.Now().Add(50 * time.Millisecond))
			if ok && s.match(p) {
				s.mu.Lock()
				s.hits = append(s.hits, p)
				s.mu.Unlock()
			}
		}
	}()
	e.t.Cleanup(func() { s.stop.Store(true); <-s.done }) // runs before the socket's close
	return s
}

// seen waits up to d for a matching frame and returns the first one.
func (s *sniffer) seen(d time.Duration) (pkt, bool) {
	deadline := time.Now().Add(d)
	for {
		s.mu.Lock()
		if len(s.hits) > 0 {
			p := s.hits[0]
			s.mu.Unlock()
			return p, true
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			return pkt{}, false
		}
		time.Sleep(pollInterval)
	}
}

// all returns the frames recorded so far.
func (s *sniffer) all() []pkt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pkt(nil), s.hits...)
}
