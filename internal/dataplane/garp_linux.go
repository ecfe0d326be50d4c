package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// sendGARP announces the IPv4 addresses of an interface inside ns with gratuitous ARP
// requests (sender = target = the address), to the MAC to (nil: broadcast), from a packet
// socket: no arping binary, and
// no blocking: closing a packet socket waits for an RCU grace period (10-30 ms here), so
// the socket is closed in the background.
func (p *Plane) sendGARP(ns netns.NsHandle, ifindex int, mac, to net.HardwareAddr, ips []netip.Addr) error {
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
	dst := [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if to != nil {
		copy(dst[:], to)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifindex, Halen: 6, Addr: dst}
	for _, ip := range ips {
		f := make([]byte, 42)
		copy(f[0:6], dst[:6])
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
		if err := sendRetrying(fd, f, sa); err != nil {
			return fmt.Errorf("garp %s: %w", ip, err)
		}
	}
	return nil
}

// sendRetrying sends f, again after a pause while the kernel says ENOBUFS: its queue of
// received frames is full (a launch of a thousand instances in one subnet floods each
// one's announcement to a thousand ports), and a frame dropped there would not teach the
// bridges where the ENI is. The pauses double from 0.5 ms, 0.5 s in all at most.
func sendRetrying(fd int, f []byte, to unix.Sockaddr) error {
	pause := 500 * time.Microsecond
	for {
		err := unix.Sendto(fd, f, 0, to)
		if !errors.Is(err, unix.ENOBUFS) || pause > 256*time.Millisecond {
			return err
		}
		time.Sleep(pause)
		pause *= 2
	}
}

// announcer sends the announcements of a pass's instances (their gratuitous ARPs) in the
// background, a few at a time, while the pass routes the next instances: sending one is
// no netlink work (it waits on no lock of the kernel's that routing takes), and it was
// 60 % of the routing step of a launch of 5,000 (CPU profile).
type announcer struct {
	wg   sync.WaitGroup
	sem  chan struct{}
	mu   sync.Mutex
	errs []error
}

func newAnnouncer(n int) *announcer { return &announcer{sem: make(chan struct{}, max(n, 1))} }

// send sends gs, in order, in the background (waiting while n sends are under way).
func (a *announcer) send(gs []func() error) {
	a.sem <- struct{}{}
	a.wg.Add(1)
	go func() {
		defer func() { <-a.sem; a.wg.Done() }()
		for _, g := range gs {
			if err := g(); err != nil {
				a.mu.Lock()
				a.errs = append(a.errs, err)
				a.mu.Unlock()
			}
		}
	}()
}

// wait waits for the sends under way and returns the errors not returned yet.
func (a *announcer) wait() []error {
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	errs := a.errs
	a.errs = nil
	return errs
}
