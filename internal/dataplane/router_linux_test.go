package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestRouterKnowsItsNeighbours: an instance that sends to every unused address of another
// subnet makes the VPC router resolve none of them (its neighbours are the ENIs' addresses,
// permanent, and it forwards nothing else), and no port of the router's own stack answers.
func TestRouterKnowsItsNeighbours(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "web")
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80", "web")

	// i-c (10.0.2.10) sends to 10.0.1.20-250, none of them an ENI's.
	err := p.Do(p.InstanceNS("i-c"), func() error {
		c, err := net.ListenUDP("udp4", nil)
		if err != nil {
			return err
		}
		defer c.Close()
		for i := 20; i <= 250; i++ {
			if _, err := c.WriteToUDP([]byte("x"), &net.UDPAddr{IP: net.IPv4(10, 0, 1, byte(i)), Port: 9}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	withHandle(t, p.RouterNS("vpc-1"), func(h *netlink.Handle) {
		ns, err := h.NeighList(0, netlink.FAMILY_V4)
		if err != nil {
			t.Fatal(err)
		}
		known := map[string]string{"10.0.1.10": "02:00:00:00:01:0a", "10.0.1.11": "02:00:00:00:01:0b", "10.0.2.10": "02:00:00:00:02:0a"}
		for _, n := range ns {
			a, _ := netip.AddrFromSlice(n.IP)
			if !netip.MustParsePrefix("10.0.0.0/16").Contains(a.Unmap()) {
				continue
			}
			if n.State&netlink.NUD_PERMANENT == 0 {
				t.Errorf("router neighbour %s %s state %#x: the router resolved an address", n.IP, n.HardwareAddr, n.State)
			} else if known[n.IP.String()] != n.HardwareAddr.String() {
				t.Errorf("router neighbour %s %s: not an ENI's", n.IP, n.HardwareAddr)
			}
			delete(known, n.IP.String())
		}
		if len(known) > 0 {
			t.Errorf("no permanent router neighbours for %v", known)
		}
	})
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80", "web")

	// The router's own addresses answer no TCP (no RST: nothing listens, nothing refuses).
	for _, addr := range []string{"10.0.2.1:22", "10.0.2.1:53", fmt.Sprintf("%s:22", "10.0.1.1")} {
		_, err := dialTCP(p, p.InstanceNS("i-c"), addr, failTimeout)
		if err == nil || errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s from i-c: %v, want a timeout", addr, err)
		}
	}
}
