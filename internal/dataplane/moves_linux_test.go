package dataplane

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// seenWithin reports whether the prober sees name within d.
func seenWithin(pr *prober, name string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, ok := pr.firstSeen(name); ok {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// datapathState describes the bridge's forwarding entries for mac and the tracked
// connections to ip in the datapath (their ct mark: source ENI number in bits 0-15,
// destination in 16-31, 0 being the VPC router).
func datapathState(t *testing.T, p *Plane, mac, ip string) string {
	var b strings.Builder
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		names := map[int]string{}
		links, _ := h.LinkList()
		for _, l := range links {
			names[l.Attrs().Index] = l.Attrs().Name
		}
		fdb, _ := h.NeighList(0, unix.AF_BRIDGE)
		for _, n := range fdb {
			if n.HardwareAddr.String() == mac {
				fmt.Fprintf(&b, "\n  fdb %s on %s", mac, names[n.LinkIndex])
			}
		}
		flows, _ := h.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
		for _, f := range flows {
			if f.Forward.DstIP.String() == ip || f.Forward.SrcIP.String() == ip {
				fmt.Fprintf(&b, "\n  conntrack %s:%d → %s:%d mark %#x", f.Forward.SrcIP, f.Forward.SrcPort, f.Forward.DstIP, f.Forward.DstPort, f.Mark)
			}
		}
	})
	fmt.Fprintf(&b, "\n  marks %v", p.cache.marks)
	return b.String()
}

// answered waits until the prober has seen name, or fails after passTimeout.
func answered(t *testing.T, pr *prober, name, what string) {
	t.Helper()
	deadline := time.Now().Add(passTimeout)
	for time.Now().Before(deadline) {
		if _, ok := pr.firstSeen(name); ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s: no answer from %s within %s", what, name, passTimeout)
}

// probesPass waits until the prober has sent n more probes (each is a packet of its flow
// through the datapath).
func probesPass(t *testing.T, pr *prober, n int64) {
	t.Helper()
	want := pr.sent.Load() + n
	deadline := time.Now().Add(passTimeout)
	for pr.sent.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the prober sent %d probes in %s, want %d", pr.sent.Load()-want+n, passTimeout, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestENIPortEnforcedWhileItExists: an ENI's port carries traffic only under the ENI's
// chains, from its first frame to its last. Checked from inside the pass that attaches
// it, as soon as its link is made: a UDP flow its group admits is answered at once (its
// rules are already in), a port its group does not open gets nothing, and the flow still
// passes after the pass (it was tracked as one to this ENI, not to the VPC router: a
// flow opened through a port without rules is dropped for as long as it lives). Then
// from inside the pass that detaches it, once its chains are gone and before its link
// is: its port carries nothing.
func TestENIPortEnforcedWhileItExists(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	d.Groups = append(d.Groups, Group{ID: "sg-x",
		Ingress: []Rule{{Protocol: "udp", FromPort: 7, ToPort: 7, CIDRs: []string{"0.0.0.0/0"}}},
		Egress:  []Rule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}}})
	reconcile(t, p, d)
	// i-c is in subnet B: the ENI (in A) is its only interface there, so its answers
	// leave by it even before the pass gives it its routes.
	echoUDP(t, p, p.InstanceNS("i-c"), "10.0.1.20:7", "x7")
	echoUDP(t, p, p.InstanceNS("i-c"), "10.0.1.20:8", "x8")
	open := startProber(t, p, p.InstanceNS("i-web"), "10.0.1.20:7")
	closed := startProber(t, p, p.InstanceNS("i-web"), "10.0.1.20:8")

	d.ENIs = append(d.ENIs, ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.20", InstanceID: "i-c", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-x"}})
	hooked := false
	p.linksMade = func() {
		if hooked {
			return
		}
		hooked = true
		answered(t, open, "x7", "during the pass, the port its group opens")
		probesPass(t, closed, 50)
		if _, ok := closed.firstSeen("x8"); ok {
			t.Error("during the pass, a port the ENI's group does not open was reached")
		}
	}
	st := reconcile(t, p, d)
	p.linksMade = nil
	if !hooked {
		t.Fatal("the pass made no link")
	}
	if st.ENIs.Get("eni-x") != "i-c" {
		t.Fatalf("eni-x realised in %q, want i-c", st.ENIs.Get("eni-x"))
	}
	open.reset()
	answered(t, open, "x7", "after the pass, the flow opened during it")
	probesPass(t, closed, 50)
	if _, ok := closed.firstSeen("x8"); ok {
		t.Error("after the pass, a port the ENI's group does not open was reached")
	}

	findENI(&d, "eni-x").InstanceID = ""
	hooked = false
	p.linksMade = func() {
		hooked = true
		open.reset()
		probesPass(t, open, 50)
		probesPass(t, closed, 50)
		for _, x := range []string{"x7", "x8"} {
			if _, ok := open.firstSeen(x); ok {
				t.Errorf("during the detaching pass, its port carried the flow to %s", x)
			}
			if _, ok := closed.firstSeen(x); ok {
				t.Errorf("during the detaching pass, its port carried a flow to %s", x)
			}
		}
	}
	reconcile(t, p, d)
	p.linksMade = nil
	if !hooked {
		t.Fatal("the detaching pass did not call the hook")
	}
}

// TestReattachedENIAnswersItsFlow: a client keeps one UDP flow to an ENI while the ENI
// is detached, another ENI is detached, and the first is attached to another instance
// (where it gets the other's number in the datapath). The flow is answered by the new
// owner: the connections of a released number are forgotten (in the datapath's
// connection tracking), and while the ENI is nowhere the probes the bridge floods open no
// connection (to the VPC router's leg, or to the port of an ENI without the source/dest
// check) that would outlive its return.
func TestReattachedENIAnswersItsFlow(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	d.Instances = append(d.Instances, Instance{ID: "i-p", Running: true})
	d.ENIs = append(d.ENIs,
		ENI{ID: "eni-p", MAC: "02:00:00:00:01:1e", SubnetID: "subnet-a", VPCID: "vpc-1",
			PrimaryIP: "10.0.1.30", InstanceID: "i-p", SourceDestCheck: true, Groups: []string{"sg-open"}},
		ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
			PrimaryIP: "10.0.1.20", InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}},
		ENI{ID: "eni-y", MAC: "02:00:00:00:01:15", SubnetID: "subnet-a", VPCID: "vpc-1",
			PrimaryIP: "10.0.1.21", InstanceID: "i-b", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}},
		// Without the source/dest check, no destination check keeps flooded frames from
		// its port.
		ENI{ID: "eni-z", MAC: "02:00:00:00:01:16", SubnetID: "subnet-a", VPCID: "vpc-1",
			PrimaryIP: "10.0.1.22", InstanceID: "i-c", DeviceIndex: 1, Groups: []string{"sg-open"}})
	reconcileStable(t, p, d)
	echoUDP(t, p, p.InstanceNS("i-web"), "10.0.1.20:7", "i-web")
	echoUDP(t, p, p.InstanceNS("i-b"), "10.0.1.20:7", "i-b")
	pr := startProber(t, p, p.InstanceNS("i-p"), "10.0.1.20:7")
	answered(t, pr, "i-web", "first owner")
	was := p.cache.marks["eni-x"]

	findENI(&d, "eni-x").InstanceID = ""
	reconcile(t, p, d)
	p.bg.Wait() // its old pair is gone: the bridge floods what is sent to its MAC
	probesPass(t, pr, 50)
	findENI(&d, "eni-y").InstanceID = ""
	reconcile(t, p, d)
	probesPass(t, pr, 50)

	findENI(&d, "eni-x").InstanceID = "i-b"
	pr.reset()
	start := time.Now()
	if st := reconcile(t, p, d); st.ENIs.Get("eni-x") != "i-b" {
		t.Fatalf("eni-x realised in %q, want i-b", st.ENIs.Get("eni-x"))
	}
	if !seenWithin(pr, "i-b", passTimeout) {
		t.Fatalf("after the ENI came back: no answer from i-b within %s; the datapath:%s", passTimeout, datapathState(t, p, "02:00:00:00:01:14", "10.0.1.20"))
	}
	t.Logf("answered %.1f ms after the pass began", float64(time.Since(start).Microseconds())/1000)
	if now := p.cache.marks["eni-x"]; now == was {
		t.Fatalf("eni-x came back with its number %d: the test wants it to get eni-y's", now)
	}
}

// TestMoveBehindAWalk: an ENI moved while the walk that forgets an earlier release's
// connections is under way is answered by its new owner without another pass: the walk
// of its own old mark follows that one. (CI, TestENIMovesLand: the old mark waited for a
// pass that never came, and a client's flow, kept alive on a connection that named it,
// went unanswered for 15 s.)
func TestMoveBehindAWalk(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	d.Instances = append(d.Instances, Instance{ID: "i-p", Running: true})
	d.ENIs = append(d.ENIs,
		ENI{ID: "eni-p", MAC: "02:00:00:00:01:1e", SubnetID: "subnet-a", VPCID: "vpc-1",
			PrimaryIP: "10.0.1.30", InstanceID: "i-p", SourceDestCheck: true, Groups: []string{"sg-open"}},
		ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
			PrimaryIP: "10.0.1.20", InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}},
		ENI{ID: "eni-y", MAC: "02:00:00:00:01:15", SubnetID: "subnet-a", VPCID: "vpc-1",
			PrimaryIP: "10.0.1.21", InstanceID: "i-b", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}})
	reconcileStable(t, p, d)
	echoUDP(t, p, p.InstanceNS("i-web"), "10.0.1.20:7", "i-web")
	echoUDP(t, p, p.InstanceNS("i-b"), "10.0.1.20:7", "i-b")
	pr := startProber(t, p, p.InstanceNS("i-p"), "10.0.1.20:7")
	answered(t, pr, "i-web", "first owner")

	// Every walk is held at its start until the ENI has moved.
	started, release := holdWalks(t, p)
	findENI(&d, "eni-y").InstanceID = ""
	reconcile(t, p, d)
	select {
	case <-started:
	case <-time.After(passTimeout):
		t.Fatal("releasing eni-y's mark started no walk")
	}
	was := p.cache.marks["eni-x"]
	findENI(&d, "eni-x").InstanceID = ""
	reconcile(t, p, d)
	findENI(&d, "eni-x").InstanceID = "i-b"
	if st := reconcile(t, p, d); st.ENIs.Get("eni-x") != "i-b" {
		t.Fatalf("eni-x realised in %q, want i-b", st.ENIs.Get("eni-x"))
	}
	if now := p.cache.marks["eni-x"]; now == was {
		t.Fatalf("eni-x came back with its mark %d: the test wants another", now)
	}
	pr.reset()
	release()
	if !seenWithin(pr, "i-b", passTimeout) {
		t.Fatalf("no answer from the new owner within %s of the held walk's end, with no pass since; the datapath:%s",
			passTimeout, datapathState(t, p, "02:00:00:00:01:14", "10.0.1.20"))
	}
}

// holdWalks holds every walk of p's released marks at its start (it sends its marks on
// started) until release is called (or the test ends).
func holdWalks(t *testing.T, p *Plane) (started <-chan []uint32, release func()) {
	hold := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	ch := make(chan []uint32, 8)
	p.walkStarts = func(marks []uint32) {
		ch <- marks
		<-hold
	}
	return ch, release
}

// TestENIHostNameTaken: an ENI the plane holds nothing of, in a namespace its pass makes,
// gets its pair without its host names looked up first (holdsNothingOf). A link that holds
// the first of them behind the plane's back makes the kernel refuse that pair (EEXIST):
// the names are looked up then (pairRetries), and the ENI comes up on another of them,
// answering; the link is retired, as when they are looked up first.
func TestENIHostNameTaken(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	squat := ifName(p.prefix, kindENIHost, "eni-new")
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: squat}}); err != nil {
			t.Fatal(err)
		}
	})
	d.Instances = append(d.Instances, Instance{ID: "i-new", Running: true})
	d.ENIs = append(d.ENIs, ENI{ID: "eni-new", MAC: "02:00:00:00:01:31", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.31", InstanceID: "i-new", SourceDestCheck: true, Groups: []string{"sg-open"}})
	retries := p.pairRetries.Load()
	if st := reconcile(t, p, d); st.ENIs.Get("eni-new") != "i-new" {
		t.Fatalf("eni-new realised in %q, want i-new", st.ENIs.Get("eni-new"))
	}
	if n := p.pairRetries.Load() - retries; n != 1 {
		t.Fatalf("%d pairs made again after the kernel refused one, want 1: the pair was not made without its names looked up", n)
	}
	reconcileStable(t, p, d)
	withHandle(t, p.DatapathNS(), func(h *netlink.Handle) {
		if l, err := h.LinkByName(ifName(p.prefix, kindENIHost2, "eni-new")); err != nil || l.Type() != "veth" {
			t.Errorf("eni-new's second host name: %v, %v; want its port", l, err)
		}
		// Retired as a pair the ENI left: kept until the passes pause, then deleted.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := h.LinkByName(squat); err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still there 10 s after the passes paused, want it retired", squat)
			}
		}
	})
	echoUDP(t, p, p.InstanceNS("i-new"), "10.0.1.31:7", "i-new")
	pr := startProber(t, p, p.InstanceNS("i-web"), "10.0.1.31:7")
	answered(t, pr, "i-new", "the ENI whose host name was taken")
}
