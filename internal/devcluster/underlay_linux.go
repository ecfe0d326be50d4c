// Package devcluster builds the simulated machines of `eni dev-cluster` and of
// the cluster tests: N "hosts", each a network namespace with one leg on an
// underlay switch (a bridge in a namespace of its own), so that each host's
// agent sends its VXLAN traffic over a network of its own, which a test can
// cut. Everything is named after a prefix and removed by Close.
package devcluster

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/eni-net/eni/internal/dataplane"
)

// UnderlayNet is the underlay's block: host i (from 1) is 10.254.0.i.
var UnderlayNet = netip.MustParsePrefix("10.254.0.0/24")

// Underlay is the hosts' namespaces and their switch.
type Underlay struct {
	Prefix string
	Hosts  int
	hub    netns.NsHandle
}

// HubNS is the name of the switch's namespace; HostNS(i) of host i's.
func (u *Underlay) HubNS() string       { return u.Prefix + "-u" }
func (u *Underlay) HostNS(i int) string { return fmt.Sprintf("%s-h%d", u.Prefix, i) }

// HostNSPath is host i's namespace as a path (eni agent --underlay-netns).
func (u *Underlay) HostNSPath(i int) string { return "/run/netns/" + u.HostNS(i) }

// HostIP is host i's underlay address.
func (u *Underlay) HostIP(i int) netip.Addr {
	b := UnderlayNet.Addr().As4()
	b[3] = byte(i)
	return netip.AddrFrom4(b)
}

// portName is host i's port on the switch.
func portName(i int) string { return fmt.Sprintf("h%d", i) }

// New builds the underlay of n hosts (1 ≤ n ≤ 200) named after prefix,
// replacing one left by an earlier run.
func New(prefix string, n int) (*Underlay, error) {
	if n < 1 || n > 200 {
		return nil, fmt.Errorf("devcluster: %d hosts: 1 to 200", n)
	}
	u := &Underlay{Prefix: prefix, Hosts: n, hub: netns.None()}
	u.Close() // an earlier run's, killed before it cleaned up
	hub, err := dataplane.CreateNamedNS(u.HubNS())
	if err != nil {
		return nil, err
	}
	u.hub = hub
	if err := u.build(); err != nil {
		u.Close()
		return nil, err
	}
	return u, nil
}

func (u *Underlay) build() error {
	h, err := netlink.NewHandleAt(u.hub)
	if err != nil {
		return err
	}
	defer h.Close()
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "sw"}}
	if err := h.LinkAdd(br); err != nil {
		return fmt.Errorf("devcluster: switch: %w", err)
	}
	if err := h.LinkSetUp(br); err != nil {
		return err
	}
	for i := 1; i <= u.Hosts; i++ {
		if err := u.addHost(h, br, i); err != nil {
			return fmt.Errorf("devcluster: host %d: %w", i, err)
		}
	}
	return nil
}

// addHost makes host i's namespace with its leg "ul" on the switch.
func (u *Underlay) addHost(h *netlink.Handle, br *netlink.Bridge, i int) error {
	hns, err := dataplane.CreateNamedNS(u.HostNS(i))
	if err != nil {
		return err
	}
	defer hns.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: portName(i), MasterIndex: br.Index}, PeerName: "ul", PeerNamespace: netlink.NsFd(int(hns))}
	if err := h.LinkAdd(veth); err != nil {
		return err
	}
	if err := h.LinkSetUp(veth); err != nil {
		return err
	}
	hh, err := netlink.NewHandleAt(hns)
	if err != nil {
		return err
	}
	defer hh.Close()
	for _, name := range []string{"lo", "ul"} {
		l, err := hh.LinkByName(name)
		if err != nil {
			return err
		}
		if name == "ul" {
			a := u.HostIP(i)
			if err := hh.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(UnderlayNet.Bits(), 32)}}); err != nil {
				return err
			}
		}
		if err := hh.LinkSetUp(l); err != nil {
			return err
		}
	}
	return nil
}

// Cut takes host i's leg off the switch (cut: true) or puts it back: the
// host's underlay is cut, as a pulled cable.
func (u *Underlay) Cut(i int, cut bool) error {
	h, err := netlink.NewHandleAt(u.hub)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName(portName(i))
	if err != nil {
		return err
	}
	if cut {
		return h.LinkSetDown(l)
	}
	return h.LinkSetUp(l)
}

// Close removes the namespaces (their links go with them).
func (u *Underlay) Close() error {
	if u.hub.IsOpen() {
		_ = u.hub.Close()
	}
	var errs []error
	for i := 1; i <= u.Hosts; i++ {
		errs = append(errs, dataplane.DeleteNamedNS(u.HostNS(i)))
	}
	errs = append(errs, dataplane.DeleteNamedNS(u.HubNS()))
	return errors.Join(errs...)
}
