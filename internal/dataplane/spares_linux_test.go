package dataplane

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSpareNamespaces: after a pass the plane keeps a namespace made ahead, named
// nowhere; the next instance to come up gets it, with its sysctls and lo up as a
// namespace made for it has, and its ENI's routes and rules, made without reading
// the new namespace's back (routingReads), and whole: a full pass then changes nothing
// (reconcileStable); the spare taken is made again; Close lets them go.
func TestSpareNamespaces(t *testing.T) {
	p := newTestPlane(t)
	p.spares.want = 1
	d := baseDesired()
	d.Instances = append(d.Instances, Instance{ID: "i-spare0", Running: true})
	reconcileStable(t, p, d)
	spare := waitSpare(t, p)
	ino := nsIno(t, fmt.Sprintf("/proc/self/fd/%d", int(spare)))
	names, err := listNS(p.prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if nsIno(t, nsPath(n)) == ino {
			t.Fatalf("the spare is named %s", n)
		}
	}
	d.Instances = append(d.Instances, Instance{ID: "i-spare1", Running: true})
	d.ENIs = append(d.ENIs, ENI{ID: "eni-spare1", MAC: "02:00:00:00:01:5a", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.90", IPv6: []string{"2001:db8:1::90"}, InstanceID: "i-spare1", SourceDestCheck: true, Groups: []string{"sg-open"}})
	reads := p.routingReads.Load()
	if _, ok := reconcile(t, p, d).ENIs.Lookup("eni-spare1"); !ok {
		t.Fatal("eni-spare1 not realised")
	}
	if n := p.routingReads.Load() - reads; n != 0 {
		t.Fatalf("the pass read back the routing of %d instances, want none (a namespace it made)", n)
	}
	reconcileStable(t, p, d)
	if got := nsIno(t, nsPath(p.InstanceNS("i-spare1"))); got != ino {
		t.Fatalf("the new instance's namespace is %d, not the spare %d", got, ino)
	}
	err = p.DoInstance("i-spare1", func() error {
		if err := hasInstanceSysctls(); err != nil {
			return err
		}
		b, err := os.ReadFile("/sys/class/net/lo/operstate")
		if err != nil || strings.TrimSpace(string(b)) == "down" {
			return fmt.Errorf("lo: %q %v", b, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next := nsIno(t, fmt.Sprintf("/proc/self/fd/%d", int(waitSpare(t, p)))); next == ino {
		t.Fatal("the spare taken is still the spare")
	}
	p.Close()
	if p.spares.take() != nil {
		t.Fatal("a spare kept after Close")
	}
}

// waitSpare waits for the plane to have a spare and returns its descriptor.
func waitSpare(t *testing.T, p *Plane) uintptr {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		p.spares.mu.Lock()
		var fd uintptr
		ok := len(p.spares.ready) > 0
		if ok {
			fd = uintptr(p.spares.ready[0].ns)
		}
		p.spares.mu.Unlock()
		if ok {
			return fd
		}
	}
	t.Fatal("no spare namespace made within 30 s")
	return 0
}

// nsIno is the inode of the namespace file at path.
func nsIno(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// BenchmarkInstanceUpPass: the pass that brings one instance up with its ENI (what a
// task's start or a single launch waits on), then, untimed, the pass that takes it down
// and a pause in which the plane makes its spares again; without spares (spares=0) and
// with the default. Reported: the up pass's p50 and p90.
func BenchmarkInstanceUpPass(b *testing.B) {
	for _, spares := range []int{-1, defaultSpares} {
		b.Run(fmt.Sprintf("spares=%d", max(spares, 0)), func(b *testing.B) {
			p := newTestPlane(b)
			p.spares.want = spares
			base := baseDesired()
			reconcileStable(b, p, base)
			var ups []time.Duration
			steps := map[string][]time.Duration{}
			for i := 0; b.Loop(); i++ {
				up := base
				up.Instances = append(slices.Clone(base.Instances), Instance{ID: fmt.Sprintf("i-up%d", i), Running: true})
				up.ENIs = append(slices.Clone(base.ENIs), ENI{ID: fmt.Sprintf("eni-up%d", i), MAC: "02:00:00:00:01:99", SubnetID: "subnet-a",
					VPCID: "vpc-1", PrimaryIP: "10.0.1.99", InstanceID: fmt.Sprintf("i-up%d", i), SourceDestCheck: true, Groups: []string{"sg-open"}})
				t0 := time.Now()
				p.stepTime = func(s string, d time.Duration) { steps[s] = append(steps[s], d) }
				reconcile(b, p, up)
				p.stepTime = nil
				ups = append(ups, time.Since(t0))
				reconcile(b, p, base)
				time.Sleep(3 * spareIdle)
			}
			slices.Sort(ups)
			b.ReportMetric(float64(ups[len(ups)/2].Microseconds())/1000, "up-p50-ms")
			b.ReportMetric(float64(ups[len(ups)*9/10].Microseconds())/1000, "up-p90-ms")
			for name, ds := range steps { // where the pass's time goes: its steps of 0.1 ms or more
				if p50 := percentile(ds, 0.5); p50 >= 0.1 {
					b.ReportMetric(p50, name+"-p50-ms")
				}
			}
		})
	}
}
