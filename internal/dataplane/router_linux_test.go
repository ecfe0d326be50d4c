package dataplane

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
)

// routerSnapshot is what a router namespace holds of its ENIs: its guard's next-hop sets,
// its metadata sets (MAC -> number, number . number) and the permanent neighbours of its legs, sorted.
func routerSnapshot(t *testing.T, p *Plane, vpcID string) []string {
	t.Helper()
	conn := nftIn(t, p.RouterNS(vpcID))
	tab := &nftables.Table{Name: p.prefix + "rt", Family: nftables.TableFamilyINet}
	var out []string
	for _, name := range []string{guardNextHops4, guardNextHops6, "mdids", "mdpins"} {
		set, err := conn.GetSetByName(tab, name)
		if err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
		elems, err := conn.GetSetElements(set)
		if err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
		for _, e := range elems {
			v := ""
			if e.VerdictData != nil {
				v = " -> " + e.VerdictData.Chain
			} else if len(e.Val) > 0 {
				v = fmt.Sprintf(" -> %x", e.Val)
			}
			out = append(out, fmt.Sprintf("%s %x%s", name, e.Key, v))
		}
	}
	chains, err := conn.ListChainsOfTableFamily(tab.Family)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chains {
		if ch.Table.Name == tab.Name {
			out = append(out, "chain "+ch.Name)
		}
	}
	withHandle(t, p.RouterNS(vpcID), func(h *netlink.Handle) {
		links, err := h.LinkList()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
				ns, err := h.NeighList(l.Attrs().Index, fam)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range ns {
					if n.State&netlink.NUD_PERMANENT != 0 {
						out = append(out, fmt.Sprintf("neigh %s %s %s", l.Attrs().Name, n.IP, n.HardwareAddr))
					}
				}
			}
		}
	})
	slices.Sort(out)
	return out
}

// A router whose ENIs change (one added, one moved to another instance, one deleted) is
// brought up to date by those changes alone (routerDelta), and what it then holds is
// exactly what a router built whole from the same state holds; traffic through it follows.
func TestRouterDelta(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 9000, "web")
	serveTCP(t, p, p.InstanceNS("i-b"), 9000, "b")
	whole := func(step string) {
		t.Helper()
		waitIdle(t, p) // the guard's marker is renamed once the passes pause
		before := routerSnapshot(t, p, "vpc-1")
		// Build the router's guard whole: drop it, and a full pass makes it again.
		conn := nftIn(t, p.RouterNS("vpc-1"))
		conn.DelTable(&nftables.Table{Name: p.prefix + "rt", Family: nftables.TableFamilyINet})
		if err := conn.Flush(); err != nil {
			t.Fatal(err)
		}
		verify(t, p, d)
		if after := routerSnapshot(t, p, "vpc-1"); !slices.Equal(before, after) {
			t.Fatalf("%s: the router after its delta differs from one built whole:\ndelta: %q\nwhole: %q", step, before, after)
		}
	}
	for _, step := range []struct {
		name   string
		change func()
	}{
		{"add", func() {
			d.ENIs = append(d.ENIs, ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
				PrimaryIP: "10.0.1.20", SecondaryIPs: []string{"10.0.1.21"}, IPv6: []string{"2001:db8:1::20"}, InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}})
		}},
		{"move", func() { findENI(&d, "eni-x").InstanceID = "i-b" }},
		{"address", func() { findENI(&d, "eni-x").SecondaryIPs = []string{"10.0.1.22"} }},
		{"address moved between ENIs", func() {
			findENI(&d, "eni-x").SecondaryIPs = nil
			findENI(&d, "eni-b").SecondaryIPs = []string{"10.0.1.22"}
		}},
		{"instance stopped", func() {
			d.Instances[slices.IndexFunc(d.Instances, func(i Instance) bool { return i.ID == "i-b" })].Running = false
		}},
		{"instance started", func() {
			d.Instances[slices.IndexFunc(d.Instances, func(i Instance) bool { return i.ID == "i-b" })].Running = true
		}},
		{"delete", func() {
			d.ENIs = slices.DeleteFunc(d.ENIs, func(e ENI) bool { return e.ID == "eni-c" })
			d.PublicIPs = d.PublicIPs[:1]
			d.Instances = slices.DeleteFunc(d.Instances, func(i Instance) bool { return i.ID == "i-c" })
		}},
		// An ENI launched, its guard marker due (writeMarkers), and gone in the next pass,
		// which changes the router otherwise than by its ENIs: by its ENIs' changes alone
		// (routerDelta: another VPC came, so the pass has no delta), and made whole (a
		// public mapping came, which changes its NAT). The guard's marker names what it
		// held before the launch, not what it holds: neither path may take the name for it.
		{"launched, then gone with another VPC", launchThen(t, p, &d, func() {
			d.VPCs = append(d.VPCs, VPC{ID: "vpc-2", Subnets: []Subnet{{ID: "subnet-z", CIDR: "10.2.1.0/24"}}})
		})},
		{"launched, then gone with a public mapping", launchThen(t, p, &d, func() {
			d.PublicIPs = append(d.PublicIPs, PublicMapping{Public: "198.51.100.12", Private: "10.0.1.11", ENIID: "eni-b", VPCID: "vpc-1"})
		})},
	} {
		n0 := p.routerIncrs.Load()
		step.change()
		reconcile(t, p, d)
		if step.name != "delete" && p.routerIncrs.Load() == n0 { // a deleted public mapping changes the router's NAT: whole
			t.Fatalf("%s: the router was not brought up to date by the changed ENI alone", step.name)
		}
		if step.name == "move" {
			mustReach(t, p, p.InstanceNS("i-web"), "10.0.1.20:9000", "b")
		}
		if st := reconcile(t, p, d); st.Changes != 0 {
			t.Fatalf("%s: a second pass made %d changes", step.name, st.Changes)
		}
		whole(step.name)
	}
}

// launchThen is a TestRouterDelta step: an ENI in vpc-1 launched by a pass that leaves its
// router's marker due, then gone, with more's change, in a pass before the marker is
// written.
func launchThen(t *testing.T, p *Plane, d *Desired, more func()) func() {
	return func() {
		t.Helper()
		release := holdIdle(p)
		d.Instances = append(d.Instances, Instance{ID: "i-e", Running: true})
		d.ENIs = append(d.ENIs, ENI{ID: "eni-e", MAC: "02:00:00:00:02:17", SubnetID: "subnet-b", VPCID: "vpc-1", PrimaryIP: "10.0.2.23",
			InstanceID: "i-e", SourceDestCheck: true, Groups: []string{"sg-open"}})
		reconcile(t, p, *d)
		p.mu.Lock()
		due := p.markersDue
		p.mu.Unlock()
		if !due {
			t.Fatal("after the launch, no router marker due")
		}
		d.ENIs = slices.DeleteFunc(d.ENIs, func(e ENI) bool { return e.ID == "eni-e" })
		d.Instances = slices.DeleteFunc(d.Instances, func(i Instance) bool { return i.ID == "i-e" })
		more()
		reconcile(t, p, *d) // the marker still due
		release()
	}
}

// nftIn is an nftables connection in the named namespace, closed when the test ends.
func nftIn(tb testing.TB, name string) *nftables.Conn {
	tb.Helper()
	ns, err := openNS(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer ns.Close() // the connection's socket stays in the namespace
	conn, err := newNFT(int(ns))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.CloseLasting() })
	return conn
}

// TestRouterMarkerOncePassesPause: the pass that brings an ENI up adds its router's guard
// elements and leaves the guard's marker chain to be renamed once the passes pause
// (writeMarkers); then it names what the router holds, the router's other tables are not
// taken for someone else's (a pass with nothing to do, and a full pass, change nothing in
// its namespace), and the ENI is reached through the router.
func TestRouterMarkerOncePassesPause(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	markers := func() []string {
		t.Helper()
		var out []string
		for _, l := range routerSnapshot(t, p, "vpc-1") {
			if name, ok := strings.CutPrefix(l, "chain v"); ok {
				out = append(out, name)
			}
		}
		return out
	}
	due := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.markersDue
	}
	m0 := markers()
	if len(m0) != 1 {
		t.Fatalf("the guard's marker chains: %q, want one", m0)
	}
	d.Instances = append(d.Instances, Instance{ID: "i-x", Running: true})
	d.ENIs = append(d.ENIs, ENI{ID: "eni-x", MAC: "02:00:00:00:02:16", SubnetID: "subnet-b", VPCID: "vpc-1", PrimaryIP: "10.0.2.22",
		InstanceID: "i-x", SourceDestCheck: true, Groups: []string{"sg-open"}})
	release := holdIdle(p)
	reconcile(t, p, d)
	if m := markers(); !due() || !slices.Equal(m, m0) {
		t.Fatalf("right after the pass: marker due %v, markers %q (before %q); want due, unchanged", due(), m, m0)
	}
	release()
	waitIdle(t, p)
	m1 := markers()
	if len(m1) != 1 || slices.Equal(m1, m0) {
		t.Fatalf("once the passes paused: markers %q (before %q), want another one", m1, m0)
	}
	g := nsGen(t, p.RouterNS("vpc-1"))
	if st := reconcile(t, p, d); st.Changes != 0 {
		t.Fatalf("a pass with nothing to do made %d changes", st.Changes)
	}
	if vs := verify(t, p, d); vs.Changes != 0 {
		t.Fatalf("a full pass made %d changes", vs.Changes)
	}
	if g2 := nsGen(t, p.RouterNS("vpc-1")); g2 != g {
		t.Fatalf("the router's nftables generation moved from %d to %d: its tables were taken for someone else's", g, g2)
	}
	serveTCP(t, p, p.InstanceNS("i-x"), 9001, "x")
	mustReach(t, p, p.InstanceNS("i-web"), "10.0.2.22:9001", "x") // subnet-a to subnet-b: through the router
}

// TestNoIdleWriteAfterClose: an idle write whose timer fired while Close held the plane's
// lock does nothing once Close is done: a closed plane leaves every namespace as it is
// (a new plane may have them already). It renamed the routers' markers due.
func TestNoIdleWriteAfterClose(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	holdIdle(p) // restored below, with the lock held: no idle write before the test's
	d.Instances = append(d.Instances, Instance{ID: "i-e", Running: true})
	d.ENIs = append(d.ENIs, ENI{ID: "eni-e", MAC: "02:00:00:00:02:17", SubnetID: "subnet-b", VPCID: "vpc-1", PrimaryIP: "10.0.2.23",
		InstanceID: "i-e", SourceDestCheck: true, Groups: []string{"sg-open"}})
	reconcile(t, p, d)
	p.mu.Lock()
	p.keepIdle, p.keepFor = deferIdle, deferMax
	if !p.markersDue {
		p.mu.Unlock()
		t.Fatal("after the launch, no router marker due")
	}
	for fired := false; !fired; { // the timer fires; its write waits for the lock
		p.idleTimer.Reset(0)
		time.Sleep(20 * time.Millisecond)
		fired = !p.idleTimer.Stop()
	}
	g := nsGen(t, p.RouterNS("vpc-1"))
	p.closeLocked()
	p.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	if now := nsGen(t, p.RouterNS("vpc-1")); now != g {
		t.Fatalf("the router's nftables generation went from %d to %d after Close", g, now)
	}
}
