package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// ip4Frag is one IPv4 fragment (off in bytes, a multiple of 8) of a datagram with the given id.
func ip4Frag(src, dst netip.Addr, proto byte, id uint16, off int, more bool, data []byte) []byte {
	b := make([]byte, 20+len(data))
	b[0], b[8], b[9] = 0x45, 64, proto
	be.PutUint16(b[2:], uint16(len(b)))
	be.PutUint16(b[4:], id)
	fo := uint16(off / 8)
	if more {
		fo |= 0x2000
	}
	be.PutUint16(b[6:], fo)
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	be.PutUint16(b[10:], csum(b[:20]))
	copy(b[20:], data)
	return b
}

// TestAttackNetworkACLBypass: root in an instance of subnet B, whose UDP to port 7 of A is
// denied by A's ACL, tries to get a datagram through anyway: split in fragments (the port is
// in the first one only; sent in order and in reverse), and with a forged source that the
// ACL allows (an address of A). None arrives; the same fragments to an allowed port do,
// so the fragments themselves go through the router.
func TestAttackNetworkACLBypass(t *testing.T) {
	l := newACLLab(t)
	l.entry(false, 90, "17", "deny", 7, 7)
	u7, u8 := l.udpEcho(l.web, 7, "w7"), l.udpEcho(l.web, 8, "w8")
	l.settle()
	client := l.primaryENI(l.clientID)
	src, dst := netip.MustParseAddr(*client.PrivateIpAddress), netip.MustParseAddr(l.webIP)
	mac := mustMAC(*client.MacAddress)
	var rtMAC net.HardwareAddr
	l.must(l.plane.Do(l.plane.RouterNS(l.vpc), func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, ifi := range ifs {
			addrs, _ := ifi.Addrs()
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(net.ParseIP("10.0.2.1")) {
					rtMAC = ifi.HardwareAddr
				}
			}
		}
		if rtMAC == nil {
			return fmt.Errorf("no router leg with 10.0.2.1")
		}
		return nil
	}))
	raw := l.openRaw(l.client, "eth0")
	frags := func(from netip.Addr, port uint16, payload string, id uint16, reverse bool) [][]byte {
		seg := udpSeg(from, dst, 40000, port, []byte(payload))
		a := eth4(rtMAC, mac, ip4Frag(from, dst, ipUDP, id, 0, true, seg[:16]))
		b := eth4(rtMAC, mac, ip4Frag(from, dst, ipUDP, id, 16, false, seg[16:]))
		if reverse {
			return [][]byte{b, a}
		}
		return [][]byte{a, b}
	}
	payload := func(s string) string { return s + "-0123456789abcdefghijklmnopqrstuvwxyz" }
	// The fragments reach an allowed port: they go through the router.
	l.must(raw.send(frags(src, 8, payload("frag8"), 0x1001, false)...))
	if _, ok := u8.received("frag8", 5*time.Second); !ok {
		t.Fatal("a fragmented datagram to an allowed port did not arrive: the attack below proves nothing")
	}
	for _, f := range [][][]byte{
		frags(src, 7, payload("frag7"), 0x2001, false),
		frags(src, 7, payload("frag7"), 0x2002, true),
		{eth4(rtMAC, mac, ip4Pkt(src, dst, 64, ipUDP, udpSeg(src, dst, 40000, 7, []byte(payload("whole7")))))},
		{eth4(rtMAC, mac, ip4Pkt(netip.MustParseAddr("10.0.1.77"), dst, 64, ipUDP,
			udpSeg(netip.MustParseAddr("10.0.1.77"), dst, 40000, 7, []byte(payload("spoof7")))))},
		frags(netip.MustParseAddr("10.0.1.77"), 7, payload("spoof7"), 0x2003, false),
	} {
		l.must(raw.send(f...))
	}
	for _, p := range []string{"frag7", "whole7", "spoof7"} {
		if got, ok := u7.received(p, 4*failTimeout); ok {
			t.Errorf("denied port 7 received %q", got)
		}
	}
}
