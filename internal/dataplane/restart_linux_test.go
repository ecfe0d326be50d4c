package dataplane

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

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
