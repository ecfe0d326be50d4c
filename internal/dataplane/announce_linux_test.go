package dataplane

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestAnnouncements: a new ENI whose address no other ENI held is announced to its router
// alone; one that takes the address of an ENI that went is announced to the whole subnet,
// so that an instance that knew the old MAC for it learns the new one at once.
func TestAnnouncements(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcile(t, p, d)
	garps := watchGARPs(t, p, "i-b")
	fresh := ENI{ID: "eni-fresh", MAC: "02:00:00:00:01:0c", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.0.1.12",
		InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}}
	d.ENIs = append(d.ENIs, fresh)
	reconcile(t, p, d)
	if mac, ok := nextGARP(garps, "10.0.1.12", 500*time.Millisecond); ok {
		t.Errorf("a new ENI with an address nobody held was announced to the subnet (from %s)", mac)
	}

	// i-b talks to it, and so knows its MAC.
	sendUDP(t, p, "i-b", "10.0.1.12:9")
	if mac := neighbourMAC(t, p, "i-b", "10.0.1.12", fresh.MAC, 5*time.Second); mac != fresh.MAC {
		t.Fatalf("i-b's neighbour entry for 10.0.1.12: %q, want %s", mac, fresh.MAC)
	}

	// It goes; another ENI, with another MAC, takes its address.
	reuse := fresh
	reuse.ID, reuse.MAC = "eni-reuse", "02:00:00:00:01:0d"
	d.ENIs[len(d.ENIs)-1] = reuse
	reconcile(t, p, d)
	if mac, ok := nextGARP(garps, "10.0.1.12", 5*time.Second); !ok || mac != reuse.MAC {
		t.Errorf("the ENI that took a released address: announced to the subnet %v (from %s), want from %s", ok, mac, reuse.MAC)
	}
	// The kernel handles the announcement after the packet socket sees it: a moment.
	if mac := neighbourMAC(t, p, "i-b", "10.0.1.12", reuse.MAC, 2*time.Second); mac != reuse.MAC {
		t.Errorf("i-b's neighbour entry for 10.0.1.12 after the announcement: %q, want %s", mac, reuse.MAC)
	}

	// A secondary address i-b knows at eni-web goes to eni-reuse, whose pair stays.
	web := findENI(&d, "eni-web")
	web.SecondaryIPs = []string{"10.0.1.30"}
	reconcile(t, p, d)
	sendUDP(t, p, "i-b", "10.0.1.30:9")
	if mac := neighbourMAC(t, p, "i-b", "10.0.1.30", web.MAC, 5*time.Second); mac != web.MAC {
		t.Fatalf("i-b's neighbour entry for 10.0.1.30: %q, want %s", mac, web.MAC)
	}
	web.SecondaryIPs = nil
	findENI(&d, "eni-reuse").SecondaryIPs = []string{"10.0.1.30"}
	reconcile(t, p, d)
	if mac, ok := nextGARP(garps, "10.0.1.30", 5*time.Second); !ok || mac != reuse.MAC {
		t.Errorf("a secondary address reassigned: announced to the subnet %v (from %s), want from %s", ok, mac, reuse.MAC)
	}
	if mac := neighbourMAC(t, p, "i-b", "10.0.1.30", reuse.MAC, 2*time.Second); mac != reuse.MAC {
		t.Errorf("i-b's neighbour entry for 10.0.1.30 after the reassignment: %q, want %s", mac, reuse.MAC)
	}
}

// TestReleasedAddrs: what an ENI gives up, its delegated prefixes' addresses included.
func TestReleasedAddrs(t *testing.T) {
	a := &ENI{VPCID: "vpc-1", PrimaryIP: "10.0.1.5", SecondaryIPs: []string{"10.0.1.6", "10.0.1.7"}, IPv4Prefixes: []string{"10.0.1.48/28", "10.0.1.64/28"}}
	b := &ENI{VPCID: "vpc-1", PrimaryIP: "10.0.1.5", SecondaryIPs: []string{"10.0.1.7"}, IPv4Prefixes: []string{"10.0.1.64/28"}}
	var got []string
	for _, k := range releasedAddrs(a, b) {
		got = append(got, k.a.String())
	}
	want := []string{"10.0.1.6"}
	for i := 48; i < 64; i++ {
		want = append(want, fmt.Sprintf("10.0.1.%d", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("released: %v, want %v", got, want)
	}
	if n := len(releasedAddrs(a, nil)); n != 3+32 {
		t.Errorf("an ENI that went released %d addresses, want 35", n)
	}
}

// watchGARPs reports the gratuitous ARP requests inst's interfaces receive: sender
// address and MAC.
func watchGARPs(t *testing.T, p *Plane, inst string) <-chan [2]string {
	t.Helper()
	var fd int
	err := p.DoInstance(inst, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100_000}); err != nil {
		t.Fatal(err)
	}
	ch := make(chan [2]string, 64)
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		buf := make([]byte, 128)
		for {
			select {
			case <-done:
				return
			default:
			}
			n, from, err := unix.Recvfrom(fd, buf, 0)
			if err != nil || n < 42 || binary.BigEndian.Uint16(buf[20:22]) != 1 {
				continue
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
				continue
			}
			sender, target := netip.AddrFrom4([4]byte(buf[28:32])), netip.AddrFrom4([4]byte(buf[38:42]))
			if sender == target {
				ch <- [2]string{sender.String(), net.HardwareAddr(buf[22:28]).String()}
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		<-ended
		_ = unix.Close(fd)
	})
	return ch
}

// nextGARP waits for a gratuitous ARP for ip and returns its sender MAC.
func nextGARP(ch <-chan [2]string, ip string, wait time.Duration) (string, bool) {
	deadline := time.After(wait)
	for {
		select {
		case g := <-ch:
			if g[0] == ip {
				return g[1], true
			}
		case <-deadline:
			return "", false
		}
	}
}

// neighbourMAC is inst's neighbour entry's MAC for ip, waiting up to wait for it to be want.
func neighbourMAC(t *testing.T, p *Plane, inst, ip, want string, wait time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var mac string
		withHandle(t, p.InstanceNS(inst), func(h *netlink.Handle) {
			ns, err := h.NeighList(0, netlink.FAMILY_V4)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				if n.IP.String() == ip && len(n.HardwareAddr) == 6 {
					mac = n.HardwareAddr.String()
				}
			}
		})
		if mac == want || time.Now().After(deadline) {
			return mac
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestQuietAnnouncementsNotFlooded: the instances of a new subnet, launched in one pass,
// are announced without a frame flooded to the subnet's other ports. (Their
// announcements went to the router alone, and the router is made after they go: the
// bridge did not know where its MAC was, and flooded each, to be dropped at every
// other port by the destination check, as counted there.)
func TestQuietAnnouncementsNotFlooded(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcile(t, p, d)
	before, rule := notTheirs(t, p)
	d.VPCs[0].Subnets = append(d.VPCs[0].Subnets, Subnet{ID: "subnet-n", CIDR: "10.0.9.0/24"})
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("i-n%d", i)
		d.Instances = append(d.Instances, Instance{ID: id, Running: true})
		d.ENIs = append(d.ENIs, ENI{ID: "eni-" + id, MAC: fmt.Sprintf("02:00:00:00:09:%02x", i), SubnetID: "subnet-n",
			VPCID: "vpc-1", PrimaryIP: fmt.Sprintf("10.0.9.%d", 10+i), InstanceID: id, SourceDestCheck: true, Groups: []string{"sg-open"}})
	}
	reconcile(t, p, d)
	// The bridge learnt where each is: the announcements went (the pass waits for them).
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		fdb, err := h.NeighList(0, unix.AF_BRIDGE)
		if err != nil {
			t.Fatal(err)
		}
		learnt := 0
		for _, n := range fdb {
			if strings.HasPrefix(n.HardwareAddr.String(), "02:00:00:00:09:") && n.MasterIndex != 0 {
				learnt++
			}
		}
		if learnt == 0 { // one might be lost, sent the moment before its port forwards
			t.Error("the bridge knows none of the 4 new ENIs' MACs: no announcement went")
		}
	})
	time.Sleep(100 * time.Millisecond) // a flood's copies are forwarded in softirq work, a moment after
	after, rule2 := notTheirs(t, p)
	if rule2 == rule { // else the pass replaced the table (a new subnet): its counters began at 0
		after -= before
	}
	if after != 0 {
		t.Errorf("%d frames flooded to ports whose ENI they were not for, want none", after)
	}
}

// notTheirs is the datapath's count of frames dropped at a port whose ENI they were not
// for (a unicast frame the bridge flooded): the "to" chain's rule that looks the
// destination MAC up in dpMACSet, inverted; and that rule's handle.
func notTheirs(t *testing.T, p *Plane) (n, handle uint64) {
	t.Helper()
	found := false
	withNFT(t, p.DatapathNS(), func(c *nftables.Conn) {
		rules, err := c.GetRules(&nftables.Table{Name: p.Prefix(), Family: nftables.TableFamilyBridge}, &nftables.Chain{Name: "to"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			mac, counter := false, (*expr.Counter)(nil)
			for _, e := range r.Exprs {
				switch e := e.(type) {
				case *expr.Lookup:
					mac = mac || e.SetName == dpMACSet && e.Invert
				case *expr.Counter:
					counter = e
				}
			}
			if mac && counter != nil {
				n, handle, found = n+counter.Packets, r.Handle, true
			}
		}
	})
	if !found {
		t.Fatal("no counted rule in the bridge table's to chain looks the destination MAC up")
	}
	return n, handle
}
