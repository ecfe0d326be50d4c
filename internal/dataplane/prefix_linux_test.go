package dataplane

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestIPv4Prefix: an instance may use any address of a /28 delegated to its ENI (as the
// EKS VPC CNI gives them to pods), to receive and to send, and no address outside it; when
// the prefix goes, so does the permission.
func TestIPv4Prefix(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	findENI(&d, "eni-b").IPv4Prefixes = []string{"10.0.1.32/28"}
	reconcileStable(t, p, d)
	// The instance configures addresses itself, one in the prefix and one outside it.
	withHandle(t, p.InstanceNS("i-b"), func(h *netlink.Handle) {
		link, err := h.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"10.0.1.33/32", "10.0.1.60/32"} {
			addr, _ := netlink.ParseAddr(a)
			if err := h.AddrAdd(link, addr); err != nil {
				t.Fatalf("add %s: %v", a, err)
			}
		}
	})
	serveTCP(t, p, p.InstanceNS("i-b"), 9001, "b")
	serveTCP(t, p, p.InstanceNS("i-c"), 9001, "c")

	// In: from the same subnet (ARP) and through the router.
	mustReach(t, p, p.InstanceNS("i-web"), "10.0.1.33:9001", "b")
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.33:9001", "b")
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.60:9001")
	mustNotReach(t, p, p.InstanceNS("i-web"), "10.0.1.60:9001")
	// Out: from a prefix address, not from one outside it.
	if got, err := dialFrom(p, p.InstanceNS("i-b"), "10.0.1.33", "10.0.2.10:9001", passTimeout); err != nil || !strings.HasPrefix(got, "c 10.0.1.33:") {
		t.Fatalf("from 10.0.1.33: %q %v, want c to see 10.0.1.33", got, err)
	}
	if got, err := dialFrom(p, p.InstanceNS("i-b"), "10.0.1.60", "10.0.2.10:9001", failTimeout); err == nil {
		t.Fatalf("from 10.0.1.60 (outside the prefix): %q, want no connection", got)
	}

	// A full pass leaves the instance's own prefix address alone (it only removes the one
	// outside the prefix, as it does any address the ENI does not hold).
	st, err := p.Verify(context.Background(), d)
	if err != nil || st.Changes != 1 {
		t.Fatalf("verify: %d changes, %v; want 1 (10.0.1.60 removed)", st.Changes, err)
	}
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.33:9001", "b")

	// Unassigned: the prefix's addresses are refused too.
	findENI(&d, "eni-b").IPv4Prefixes = nil
	reconcile(t, p, d)
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.33:9001")
	if got, err := dialFrom(p, p.InstanceNS("i-b"), "10.0.1.33", "10.0.2.10:9001", failTimeout); err == nil {
		t.Fatalf("from 10.0.1.33 after the prefix went: %q, want no connection", got)
	}
}

// TestIPv6Prefix: likewise for a /80 delegated to an ENI.
func TestIPv6Prefix(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	findENI(&d, "eni-b").IPv6Prefixes = []string{"2001:db8:1:0:1::/80"}
	reconcileStable(t, p, d)
	withHandle(t, p.InstanceNS("i-b"), func(h *netlink.Handle) {
		link, err := h.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"2001:db8:1:0:1::5/128", "2001:db8:1:0:2::5/128"} {
			addr, _ := netlink.ParseAddr(a)
			addr.Flags = unix.IFA_F_NODAD
			if err := h.AddrAdd(link, addr); err != nil {
				t.Fatalf("add %s: %v", a, err)
			}
		}
	})
	serveTCP(t, p, p.InstanceNS("i-b"), 9001, "b")
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "web") // sg-web admits port 80 from anywhere
	mustReach(t, p, p.InstanceNS("i-web"), "[2001:db8:1:0:1::5]:9001", "b")
	mustNotReach(t, p, p.InstanceNS("i-web"), "[2001:db8:1:0:2::5]:9001")
	if got, err := dialFrom(p, p.InstanceNS("i-b"), "2001:db8:1:0:1::5", "[2001:db8:1::10]:80", passTimeout); err != nil || !strings.HasPrefix(got, "web [2001:db8:1:0:1::5]:") {
		t.Fatalf("from the prefix: %q %v", got, err)
	}
	if got, err := dialFrom(p, p.InstanceNS("i-b"), "2001:db8:1:0:2::5", "[2001:db8:1::10]:80", failTimeout); err == nil {
		t.Fatalf("from outside the prefix: %q, want no connection", got)
	}
	findENI(&d, "eni-b").IPv6Prefixes = nil
	reconcile(t, p, d)
	mustNotReach(t, p, p.InstanceNS("i-web"), "[2001:db8:1:0:1::5]:9001")
}

// An ENI with a delegated /80 but no IPv6 address of its own: the instance uses an
// address of the prefix as TestIPv6Prefix does, and should reach its subnet neighbour.
func TestIPv6PrefixOnly(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	findENI(&d, "eni-b").IPv6 = nil
	findENI(&d, "eni-b").IPv6Prefixes = []string{"2001:db8:1:0:1::/80"}
	reconcileStable(t, p, d)
	withHandle(t, p.InstanceNS("i-b"), func(h *netlink.Handle) {
		link, err := h.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		addr, _ := netlink.ParseAddr("2001:db8:1:0:1::5/128")
		addr.Flags = unix.IFA_F_NODAD
		if err := h.AddrAdd(link, addr); err != nil {
			t.Fatal(err)
		}
	})
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "web")
	if got, err := dialFrom(p, p.InstanceNS("i-b"), "2001:db8:1:0:1::5", "[2001:db8:1::10]:80", passTimeout); err != nil || !strings.HasPrefix(got, "web ") {
		t.Fatalf("prefix-only ENI, from its /80 to the subnet: %q %v", got, err)
	}
}

// Unassigning a prefix: the incremental pass should remove the addresses the instance set
// in it (as a full pass does), not only the permission.
func TestPrefixRemovedIncremental(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	findENI(&d, "eni-b").IPv4Prefixes = []string{"10.0.1.32/28"}
	reconcileStable(t, p, d)
	withHandle(t, p.InstanceNS("i-b"), func(h *netlink.Handle) {
		link, _ := h.LinkByName("eth0")
		addr, _ := netlink.ParseAddr("10.0.1.33/32")
		if err := h.AddrAdd(link, addr); err != nil {
			t.Fatal(err)
		}
	})
	findENI(&d, "eni-b").IPv4Prefixes = nil
	reconcile(t, p, d)
	has := func() bool {
		found := false
		withHandle(t, p.InstanceNS("i-b"), func(h *netlink.Handle) {
			link, _ := h.LinkByName("eth0")
			as, _ := h.AddrList(link, netlink.FAMILY_V4)
			for _, a := range as {
				if pa, ok := netip.AddrFromSlice(a.IP); ok && pa.Unmap() == netip.MustParseAddr("10.0.1.33") {
					found = true
				}
			}
		})
		return found
	}
	inc := has()
	st := verify(t, p, d)
	t.Logf("after incremental pass: 10.0.1.33 still set = %v; full pass then made %d changes", inc, st.Changes)
	if inc {
		t.Errorf("incremental pass left 10.0.1.33 (from the unassigned prefix) on eth0; full pass changes=%d", st.Changes)
	}
}
