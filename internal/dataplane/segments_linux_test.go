package dataplane

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// testBridgePorts, when set, is how many ENI ports the planes of newTestPlane put on a
// bridge.
var testBridgePorts int

// TestSegments: with one ENI port per bridge, every ENI after a subnet's first has a
// segment of its own (segments_linux.go), so that every frame between two ENIs of a
// subnet crosses two or three bridges; the datapath's tests hold so: reachability,
// security groups, statefulness, the source/dest check, MAC spoofing, moves, a restart
// keeping a connection; and the layout, the pairs' reach and the removal of segments
// (testSegmentLayout).
func TestSegments(t *testing.T) {
	testBridgePorts = 1
	defer func() { testBridgePorts = 0 }()
	t.Run("Dataplane", TestDataplane)
	t.Run("ENIMove", TestENIMove)
	t.Run("RestartKeepsFlows", TestRestartKeepsFlows)
	t.Run("Layout", testSegmentLayout)
}

// testSegmentLayout: seven ENIs of one subnet with two ports a bridge: the subnet's bridge
// and three segments, filled in order; every ENI reaches every other and
// the router; a move keeps the ENI's port on its bridge; a full pass changes nothing;
// the segments go with their subnet.
func testSegmentLayout(t *testing.T) {
	p := newTestPlane(t)
	p.bridgePorts = 2
	d := baseDesired()
	var ips []string
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("i-s%d", i)
		ip := fmt.Sprintf("10.0.1.%d", 100+i)
		ips = append(ips, ip)
		d.Instances = append(d.Instances, Instance{ID: id, Running: true})
		d.ENIs = append(d.ENIs, ENI{ID: fmt.Sprintf("eni-s%d", i), MAC: fmt.Sprintf("02:00:00:00:05:%02x", i),
			SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: ip, InstanceID: id, SourceDestCheck: true, Groups: []string{"sg-open"}})
	}
	reconcileStable(t, p, d)
	layout := func() map[string]int { // bridge name → ENI ports on it
		ports := map[string]int{}
		withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
			links, err := h.LinkList()
			if err != nil {
				t.Fatal(err)
			}
			names := map[int]string{}
			for _, l := range links {
				names[l.Attrs().Index] = l.Attrs().Name
			}
			for _, l := range links {
				n := l.Attrs().Name
				if isENIHostName(p.prefix, n) {
					ports[names[l.Attrs().MasterIndex]]++
				}
			}
		})
		return ports
	}
	ports := layout()
	subnetA := ifName(p.prefix, kindBridge, "subnet-a")
	want := map[string]int{subnetA: 2, segBridgeName(p.prefix, "subnet-a", 1): 2, segBridgeName(p.prefix, "subnet-a", 2): 2,
		segBridgeName(p.prefix, "subnet-a", 3): 1, ifName(p.prefix, kindBridge, "subnet-b"): 1}
	if fmt.Sprint(ports) != fmt.Sprint(want) {
		t.Fatalf("ENI ports by bridge: %v, want %v", ports, want)
	}
	// The router's MAC is a static forwarding entry of its leg, and of each segment's
	// patch: no frame to the router is flooded (ensureStaticFDB).
	var static []string
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		fdb, err := h.NeighList(0, unix.AF_BRIDGE)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range fdb {
			if bytes.Equal(n.HardwareAddr, deterministicMAC("subnet-a")) && n.MasterIndex != 0 && n.State&netlink.NUD_NOARP != 0 {
				if l, err := h.LinkByIndex(n.LinkIndex); err == nil {
					static = append(static, l.Attrs().Name)
				}
			}
		}
	})
	wantStatic := []string{ifName(p.prefix, kindRouterDP, "subnet-a")}
	for k := 1; k <= 3; k++ {
		_, seg := segPatchNames(p.prefix, "subnet-a", k)
		wantStatic = append(wantStatic, seg)
	}
	slices.Sort(static)
	slices.Sort(wantStatic)
	if !slices.Equal(static, wantStatic) {
		t.Fatalf("static forwarding entries of subnet-a's router MAC on %v, want %v", static, wantStatic)
	}
	for _, ns := range []string{"i-s1", "i-s3", "i-s5"} {
		serveTCP(t, p, p.InstanceNS(ns), 7000, ns)
	}
	serveTCP(t, p, p.InstanceNS("i-c"), 7000, "c")
	for _, from := range []string{"i-web", "i-s2", "i-s4", "i-s5"} {
		for _, to := range []struct{ ip, name string }{{ips[0], "i-s1"}, {ips[2], "i-s3"}, {ips[4], "i-s5"}, {"10.0.2.10", "c"}} {
			if to.name == from {
				continue
			}
			mustReach(t, p, p.InstanceNS(from), to.ip+":7000", to.name)
		}
	}
	// A move between instances whose ports are on different bridges: the ENI's new pair
	// goes where its old one was.
	findENI(&d, "eni-s5").InstanceID = "i-s1"
	findENI(&d, "eni-s5").DeviceIndex = 1
	reconcile(t, p, d)
	waitRetired(t, p)
	reconcileStable(t, p, d)
	if got := layout(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a move, ENI ports by bridge: %v, want %v", got, want)
	}
	mustReach(t, p, p.InstanceNS("i-s2"), ips[4]+":7000", "i-s1") // i-s1's server listens on every address
	if st := verify(t, p, d); st.Changes != 0 {
		t.Fatalf("a full pass changed %d things", st.Changes)
	}
	// The subnet goes: its segments and patches with it.
	d = baseDesired()
	d.VPCs[0].Subnets = d.VPCs[0].Subnets[1:]
	d.ENIs = d.ENIs[2:]
	d.Instances = d.Instances[2:]
	d.PublicIPs = d.PublicIPs[1:]
	reconcileStable(t, p, d)
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		links, _ := h.LinkList()
		for _, l := range links {
			n := l.Attrs().Name
			for _, k := range []byte{kindSegment, kindPatchHub, kindPatchSeg} {
				if strings.HasPrefix(n, p.prefix+string(k)) {
					t.Errorf("%s left after its subnet went", n)
				}
			}
		}
	})
}

// TestSubnetBeyondBridgeLimit: more ENIs in one subnet on one host than a Linux bridge
// holds ports (1,023), with the plane's real budget: the subnet's bridge holds
// bridgePorts of them, segments the rest; the last ENI (on the last segment) and the first
// (on the subnet's bridge) reach each other, the router and the internet; a second pass
// changes nothing. Before segments, the 1,024th ENI's port failed (EXFULL).
// ENI_BRIDGE_LIMIT_ENIS sets how many (default 1,030); -short skips it.
func TestSubnetBeyondBridgeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping 1,030 instances")
	}
	n := 1030
	if v, _ := strconv.Atoi(os.Getenv("ENI_BRIDGE_LIMIT_ENIS")); v > 0 {
		n = v
	}
	p := newTestPlane(t)
	d := Desired{Groups: []Group{{ID: "sg-open",
		Ingress: []Rule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}},
		Egress:  []Rule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}}}},
		VPCs: []VPC{{ID: "vpc-l", Subnets: []Subnet{{ID: "subnet-l", CIDR: "10.20.0.0/16", Public: true}}}}}
	for i := range n {
		id := fmt.Sprintf("i-l%d", i)
		d.Instances = append(d.Instances, Instance{ID: id, Running: true})
		d.ENIs = append(d.ENIs, ENI{ID: fmt.Sprintf("eni-l%d", i), MAC: fmt.Sprintf("02:02:00:00:%02x:%02x", i>>8, i&0xff),
			SubnetID: "subnet-l", VPCID: "vpc-l", PrimaryIP: fmt.Sprintf("10.20.%d.%d", i/200, 10+i%200), InstanceID: id,
			SourceDestCheck: true, Groups: []string{"sg-open"}})
	}
	first, last := d.ENIs[0], d.ENIs[n-1]
	d.PublicIPs = []PublicMapping{{Public: "198.51.100.20", Private: last.PrimaryIP, ENIID: last.ID, VPCID: "vpc-l"}}
	start := time.Now()
	st, err := p.Reconcile(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d instances in one subnet: %v", n, time.Since(start).Round(time.Millisecond))
	if st.ENIs.Len() != n {
		t.Fatalf("%d of %d ENIs realised", st.ENIs.Len(), n)
	}
	if st, err := p.Reconcile(context.Background(), d); err != nil || st.Changes != 0 {
		t.Fatalf("a second pass: %d changes, %v", st.Changes, err)
	}
	// The subnet's bridge holds bridgePorts ENI ports, each segment in turn as many, the
	// last the rest.
	var got, want []int
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		bridges := []string{ifName(p.prefix, kindBridge, "subnet-l")}
		for k := 1; k <= (n-1)/bridgePorts; k++ {
			bridges = append(bridges, segBridgeName(p.prefix, "subnet-l", k))
		}
		ports := map[int]int{} // bridge ifindex → ENI ports
		links, err := h.LinkList()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			name := l.Attrs().Name
			if isENIHostName(p.prefix, name) {
				ports[l.Attrs().MasterIndex]++
			}
		}
		for i, name := range bridges {
			br, err := h.LinkByName(name)
			if err != nil {
				t.Fatalf("bridge %d of the subnet: %v", i, err)
			}
			got = append(got, ports[br.Attrs().Index])
			want = append(want, min(bridgePorts, n-i*bridgePorts))
		}
	})
	if !slices.Equal(got, want) {
		t.Fatalf("ENI ports on the subnet's bridge and its segments: %v, want %v", got, want)
	}
	serveTCP(t, p, p.InstanceNS(first.InstanceID), 7000, "first")
	serveTCP(t, p, p.InstanceNS(last.InstanceID), 7000, "last")
	serveTCP(t, p, p.InternetNS(), 8000, "internet")
	mustReach(t, p, p.InstanceNS(last.InstanceID), first.PrimaryIP+":7000", "first")
	mustReach(t, p, p.InstanceNS(first.InstanceID), last.PrimaryIP+":7000", "last")
	mustReach(t, p, p.InstanceNS(last.InstanceID), p.InternetIP().String()+":8000", "internet")
	mustReach(t, p, p.InternetNS(), "198.51.100.20:7000", "last")
}

// isENIHostName reports whether the datapath link name is one of an ENI's host ends.
func isENIHostName(prefix, name string) bool {
	return slices.ContainsFunc(eniHostKinds, func(k byte) bool { return strings.HasPrefix(name, prefix+string(k)) })
}
