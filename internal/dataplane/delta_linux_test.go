package dataplane

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDeltaPassesMatchFull: incremental passes that look only at what changed (launch,
// move, security group change, stop, start, detach, termination, new addresses) leave the
// host exactly as a full pass wants it (Verify changes nothing), a second pass changes
// nothing, and the ENIs answer where they now are.
func TestDeltaPassesMatchFull(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	d.ENIs = append(d.ENIs, ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.20", InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}})
	reconcileStable(t, p, d)
	// A change of groups' rules alone refills their profiles' chains and looks at nothing
	// else (regroup): no pass is planned.
	planned := false
	p.stepTime = func(s string, _ time.Duration) { planned = planned || s == "plan" }
	rulesOnly := map[string]bool{"security group rule": true, "the rule of a group of two profiles": true}
	// The Status a pass answered stays as it was (the plane shares its maps and copies them
	// before changing them), and an incremental pass's equals the full pass's after it.
	var last, lastCopy Status
	step := func(what string, wantDelta bool, change func()) {
		t.Helper()
		change()
		planned = false
		st := reconcile(t, p, d)
		if st.Changes == 0 {
			t.Fatalf("%s: no change made", what)
		}
		if !last.Instances.Equal(lastCopy.Instances) || !last.ENIs.Equal(lastCopy.ENIs) {
			t.Fatalf("%s: the last pass's Status changed: %v %v, was %v %v", what, last.Instances, last.ENIs, lastCopy.Instances, lastCopy.ENIs)
		}

		if planned == rulesOnly[what] {
			t.Fatalf("%s: a pass planned %v, want %v", what, planned, !rulesOnly[what])
		}
		if p.lastDelta != wantDelta {
			t.Fatalf("%s: pass with a delta %v, want %v", what, p.lastDelta, wantDelta)
		}
		if st := reconcile(t, p, d); st.Changes != 0 {
			t.Fatalf("%s: second pass made %d changes", what, st.Changes)
		}
		vs := verify(t, p, d)
		if vs.Changes != 0 {
			t.Fatalf("%s: the full pass after it made %d changes: the incremental one missed them", what, vs.Changes)
		}
		if !st.Instances.Equal(vs.Instances) || !st.ENIs.Equal(vs.ENIs) {
			t.Fatalf("%s: status %v %v, the full pass's %v %v", what, st.Instances, st.ENIs, vs.Instances, vs.ENIs)
		}
		last, lastCopy = vs, Status{Instances: RealisedOf(vs.Instances.Map()), ENIs: RealisedOf(vs.ENIs.Map())} // the next pass patches its own
	}
	step("move", true, func() { findENI(&d, "eni-x").InstanceID = "i-b" })
	mustAnswer(t, p, "i-c", "10.0.1.20")
	step("security group rule", true, func() { d.Groups[0].Ingress[1].CIDRs = []string{"10.0.1.0/24"} })
	// Profiles (sgprofile_linux.go): one that no ENI had comes, then goes.
	profiles := func(want int) {
		t.Helper()
		if n := len(p.cache.profs); n != want {
			t.Fatalf("%d security group profiles, want %d", n, want)
		}
	}
	profiles(2)
	step("an ENI's groups (a profile no ENI had)", true, func() { findENI(&d, "eni-x").Groups = []string{"sg-open", "sg-web"} })
	profiles(3)
	step("the rule of a group of two profiles", true, func() {
		d.Groups[1].Ingress = []Rule{{Protocol: "tcp", FromPort: 0, ToPort: 65535, CIDRs: []string{"0.0.0.0/0", "::/0"}}}
	})
	step("its groups again (that profile gone)", true, func() { findENI(&d, "eni-x").Groups = []string{"sg-open"} })
	profiles(2)
	step("launch", true, func() {
		d.Instances = append(d.Instances, Instance{ID: "i-d", Running: true})
		d.ENIs = append(d.ENIs, ENI{ID: "eni-d", MAC: "02:00:00:00:01:0d", SubnetID: "subnet-b", VPCID: "vpc-1",
			PrimaryIP: "10.0.2.13", InstanceID: "i-d", SourceDestCheck: true, Groups: []string{"sg-open"}})
	})
	step("stop", true, func() { d.Instances[2].Running = false })
	step("start", true, func() { d.Instances[2].Running = true })
	step("detach", true, func() { findENI(&d, "eni-x").InstanceID = "" })
	step("attach again elsewhere", true, func() {
		x := findENI(&d, "eni-x")
		x.InstanceID, x.DeviceIndex = "i-d", 1
	})
	step("new addresses", true, func() { findENI(&d, "eni-b").SecondaryIPs = []string{"10.0.1.30"} })
	step("terminate (removed from the middle of the lists)", true, func() {
		d.Instances = slices.DeleteFunc(d.Instances, func(i Instance) bool { return i.ID == "i-b" })
		d.ENIs = slices.DeleteFunc(d.ENIs, func(e ENI) bool { return e.ID == "eni-b" })
	})
	step("subnet change (no delta)", false, func() { d.VPCs[0].Subnets[1].Public = true })
	mustAnswer(t, p, "i-c", "10.0.1.20")
	mustAnswer(t, p, "i-web", "10.0.2.13")
}

// mustAnswer: the kernel owning ip answers a TCP connection from the instance (a refusal
// is an answer).
func mustAnswer(t *testing.T, p *Plane, from, ip string) {
	t.Helper()
	if err := reachable(p, p.InstanceNS(from), ip, passTimeout); err != nil {
		t.Fatalf("%s → %s: %v", from, ip, err)
	}
}

// TestPatchedPassErrors: a patched pass with an error answers the Status a full pass
// would (an ENI it detached in the same pass is not listed), and an ENI that cannot be
// planned is reported once when another takes a device index and the pass is planned
// whole. (A review's findings.)
func TestPatchedPassErrors(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	// i-c refuses IPv6 on new links: eni-y's address fails in the enis step.
	sysctlsBehind(t, p.InstanceNS("i-c"), false, sysctl{"net/ipv6/conf/default/disable_ipv6", "1"})
	findENI(&d, "eni-b").InstanceID = "" // detached in the same pass
	d.ENIs = append(d.ENIs, ENI{ID: "eni-y", MAC: "02:00:00:00:01:19", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.25", IPv6: []string{"2001:db8:1::25"}, InstanceID: "i-c", DeviceIndex: 1,
		SourceDestCheck: true, Groups: []string{"sg-open"}})
	st, err := p.Reconcile(context.Background(), d)
	if err == nil {
		t.Fatal("the pass reported no error")
	}
	if inst, ok := st.ENIs.Lookup("eni-b"); ok {
		t.Errorf("the Status has the detached eni-b (in %s)", inst)
	}

	q := newTestPlane(t)
	d = baseDesired()
	reconcileStable(t, q, d)
	d.ENIs = append(d.ENIs,
		ENI{ID: "eni-bad", MAC: "02:00:00:00:01:31", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.9.9.9",
			InstanceID: "i-c", DeviceIndex: 2, SourceDestCheck: true, Groups: []string{"sg-open"}},
		ENI{ID: "eni-zz", MAC: "02:00:00:00:01:32", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.0.1.32",
			InstanceID: "i-b", DeviceIndex: 0, SourceDestCheck: true, Groups: []string{"sg-open"}})
	_, err = q.Reconcile(context.Background(), d)
	if err == nil {
		t.Fatal("the pass reported no error")
	}
	if n := strings.Count(err.Error(), "eni eni-bad"); n != 1 {
		t.Errorf("eni-bad's error reported %d times: %v", n, err)
	}
	if !strings.Contains(err.Error(), "eni eni-zz: device index 0 of i-b is taken") {
		t.Errorf("no device index error: %v", err)
	}
}
