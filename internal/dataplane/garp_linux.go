package dataplane

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// sendGARP announces the IPv4 addresses of an interface inside ns with gratuitous ARP
// requests (sender = target = the address), from a packet socket: no arping binary, and
// no blocking: closing a packet socket waits for an RCU grace period (10-30 ms here), so
// the socket is closed in the background.
func (p *Plane) sendGARP(ns netns.NsHandle, ifindex int, mac net.HardwareAddr, ips []netip.Addr) error {
	if len(ips) == 0 {
		return nil
	}
	var fd int
	err := doInNS(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
		return err
	})
	if err != nil {
		return fmt.Errorf("garp socket: %w", err)
	}
	p.bg.Add(1)
	defer func() {
		go func() {
			defer p.bg.Done()
			_ = unix.Close(fd) // nothing to flush on a packet socket
		}()
	}()
	bcast := [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifindex, Halen: 6, Addr: bcast}
	for _, ip := range ips {
		f := make([]byte, 42)
		copy(f[0:6], bcast[:6])
		copy(f[6:12], mac)
		binary.BigEndian.PutUint16(f[12:14], unix.ETH_P_ARP)
		binary.BigEndian.PutUint16(f[14:16], 1)      // Ethernet
		binary.BigEndian.PutUint16(f[16:18], 0x0800) // IPv4
		f[18], f[19] = 6, 4
		binary.BigEndian.PutUint16(f[20:22], 1) // request
		copy(f[22:28], mac)
		a := ip.As4()
		copy(f[28:32], a[:])
		// target hardware address stays zero
		copy(f[38:42], a[:])
		if err := unix.Sendto(fd, f, 0, to); err != nil {
			return fmt.Errorf("garp %s: %w", ip, err)
		}
	}
	return nil
}
