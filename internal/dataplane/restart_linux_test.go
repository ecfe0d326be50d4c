package dataplane

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
)

// A restarted agent (a new Plane on the same prefix, with an ENI more and its ENIs listed
// in another order)
// adopts what the old one realised: no instance's link is made again, and a TCP
// connection established before the restart goes on after it.
func TestRestartKeepsFlows(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	tcpEcho(t, p, p.InstanceNS("i-web"), 80)
	echo := echoFlow(t, p, p.InstanceNS("i-b"), "10.0.1.10:80")
	ifindex := func() map[string]int {
		m := map[string]int{}
		for _, inst := range []string{"i-web", "i-b", "i-c"} {
			withHandle(t, p.InstanceNS(inst), func(h *netlink.Handle) {
				l, err := h.LinkByName("eth0")
				if err != nil {
					t.Fatal(err)
				}
				m[inst] = l.Attrs().Index
			})
		}
		return m
	}
	before := ifindex()

	p2, err := New(Options{Prefix: p.prefix})
	if err != nil {
		t.Fatal(err)
	}
	// While the agent was down, an instance was launched whose ENI sorts first: a new agent
	// numbering its ENIs afresh would give the others other marks.
	d2 := baseDesired()
	d2.Instances = append(d2.Instances, Instance{ID: "i-a", Running: true})
	d2.ENIs = append(d2.ENIs, ENI{ID: "eni-a", MAC: "02:00:00:00:02:14", SubnetID: "subnet-b", VPCID: "vpc-1", PrimaryIP: "10.0.2.20",
		InstanceID: "i-a", SourceDestCheck: true, Groups: []string{"sg-open"}})
	slices.Reverse(d2.ENIs)
	start := time.Now()
	st, err := p2.Reconcile(context.Background(), d2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the restarted plane's first pass: %v, %d changes", time.Since(start).Round(time.Microsecond), st.Changes)
	if after := ifindex(); !maps.Equal(before, after) {
		t.Fatalf("instances' links made again: %v, then %v", before, after)
	}
	if err := echo("after"); err != nil {
		t.Fatalf("the connection established before the restart: %v", err)
	}
}

// restartPlane is a new plane on prefix (a restart) after its first pass over d, whose
// second changes nothing.
func restartPlane(t *testing.T, prefix string, d Desired) *Plane {
	t.Helper()
	p2, err := New(Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Reconcile(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if st, err := p2.Reconcile(context.Background(), d); err != nil || st.Changes != 0 {
		t.Fatalf("the restarted plane's second pass: %d changes, %v", st.Changes, err)
	}
	return p2
}

// datapathGen is the nftables generation of the plane's datapath namespace.
func datapathGen(t *testing.T, p *Plane) uint32 {
	t.Helper()
	return nsGen(t, p.DatapathNS())
}

// nsGen is the nftables generation of the namespace named name.
func nsGen(t *testing.T, name string) uint32 {
	t.Helper()
	ns, err := openNS(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	q, err := dialNetfilter(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	g, err := nftGenOn(q)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestRestartTrustsItsStamp: a restarted plane whose datapath ruleset is, by its stamp,
// the former plane's last change, untouched since, keeps it as it is (no batch: the
// namespace's nftables generation does not move). One changed by hand while no plane ran
// (a group's chain opened) is loaded again, and so is one whose base chains the new
// plane wants otherwise (a subnet added while it was down).
func TestRestartTrustsItsStamp(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 22, "ssh")
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "web")
	restart := func() {
		t.Helper()
		restartPlane(t, p.prefix, d)
	}

	g0 := datapathGen(t, p)
	restart()
	if g := datapathGen(t, p); g != g0 {
		t.Fatalf("untouched, the datapath ruleset was loaded again: generation %d, then %d", g0, g)
	}
	mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22") // eni-b is not in web's 22 rule
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:80", "web")

	// By hand, while no plane runs: web's ingress chain accepts everything.
	prof := p.cache.nftENI["eni-web"].prof.num // its profile's chains
	_, in := profileChainNames(prof)
	c := nftIn(t, p.DatapathNS())
	ch := &nftables.Chain{Name: in, Table: &nftables.Table{Name: sgShardName(p.Prefix(), prof), Family: nftables.TableFamilyINet}}
	c.FlushChain(ch)
	c.AddRule(&nftables.Rule{Table: ch.Table, Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22", "ssh") // the damage is real
	restart()
	mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22")

	// A subnet added while no plane ran: the base chains (its conntrack zone) change.
	d.VPCs[0].Subnets = append(d.VPCs[0].Subnets, Subnet{ID: "subnet-z", CIDR: "10.0.9.0/24"})
	g1 := datapathGen(t, p)
	restart()
	if g := datapathGen(t, p); g == g1 {
		t.Fatal("with other base chains wanted, the datapath ruleset was not loaded again")
	}
}

// TestStampWrittenOncePassesPause: an incremental change's batch carries no stamp; the
// stamp is written once the passes pause (keepIdle), and then a restarted plane trusts
// the ruleset (its generation does not move). A plane killed before that (its due stamp
// dropped) leaves an older stamp: its successor loads the ruleset whole, and it is right.
func TestStampWrittenOncePassesPause(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	cur := p // the running plane
	launch := func(id, eni, mac, ip string) {
		t.Helper()
		d.Instances = append(d.Instances, Instance{ID: id, Running: true})
		d.ENIs = append(d.ENIs, ENI{ID: eni, MAC: mac, SubnetID: "subnet-b", VPCID: "vpc-1", PrimaryIP: ip,
			InstanceID: id, SourceDestCheck: true, Groups: []string{"sg-open"}})
		reconcile(t, cur, d)
	}
	due := func() bool {
		cur.mu.Lock()
		defer cur.mu.Unlock()
		return cur.stampDue
	}
	restart := func() (moved bool) { // the running plane's process gone, a new one
		t.Helper()
		g := datapathGen(t, p)
		cur = restartPlane(t, p.prefix, d)
		return datapathGen(t, p) != g
	}

	g := datapathGen(t, p)
	release := holdIdle(cur)
	launch("i-a", "eni-a", "02:00:00:00:02:14", "10.0.2.20")
	if !due() || datapathGen(t, p) != g+1 {
		t.Fatalf("after an incremental change: stamp due %v, generation %d after %d; want due, one batch", due(), datapathGen(t, p), g)
	}
	release()
	for deadline := time.Now().Add(5 * time.Second); due(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stamp was not written within 5 s of the last pass")
		}
	}
	if moved := restart(); moved {
		t.Fatal("stamped once the passes paused, the ruleset was loaded again by a restarted plane")
	}
	serveTCP(t, p, p.InstanceNS("i-a"), 22, "ssh")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.2.20:22", "ssh") // the trusted ruleset enforces eni-a (sg-open)

	// Killed before the stamp: the next plane loads the ruleset whole.
	holdIdle(cur) // not released: the plane is killed
	launch("i-d", "eni-d", "02:00:00:00:02:15", "10.0.2.21")
	if !due() {
		t.Fatal("after the restarted plane's incremental change, no stamp due")
	}
	cur.mu.Lock()
	cur.dropIdle()
	cur.mu.Unlock()
	if moved := restart(); !moved {
		t.Fatal("with an older stamp, a restarted plane trusted the ruleset")
	}
	serveTCP(t, p, p.InstanceNS("i-d"), 22, "ssh-d")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.2.21:22", "ssh-d")
}

// TestStampDueAtMostKeepFor: passes that keep changing the datapath ruleset, closer
// together than keepIdle, have its stamp written keepFor after it became due. (Each
// incremental change used to make it due anew: the wait started again with every pass,
// and the stamp was never written while they went on.)
func TestStampDueAtMostKeepFor(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	p.mu.Lock()
	p.keepIdle, p.keepFor = time.Hour, 200*time.Millisecond // keepFor alone has it written
	p.mu.Unlock()
	written, passes := p.stampWrites.Load(), 0
	for start := time.Now(); time.Since(start) < 1500*time.Millisecond; passes++ {
		groups := []string{"sg-web"}
		if passes%2 == 1 {
			groups = []string{"sg-open"}
		}
		findENI(&d, "eni-c").Groups = groups // a change of the datapath ruleset alone
		reconcile(t, p, d)
		time.Sleep(20 * time.Millisecond)
	}
	n := p.stampWrites.Load() - written
	t.Logf("%d stamps written in %d passes", n, passes)
	if n == 0 {
		t.Fatalf("%d passes in 1.5 s, 20 ms apart, each changed the ruleset; its stamp was never written (keepFor 200 ms)", passes)
	}
}
