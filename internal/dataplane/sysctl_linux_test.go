package dataplane

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestInstanceSysctls: every instance of a launch gets its sysctls, written through the
// plane's own procfs instances (more instances than one of them serves), and none of those
// is mounted where anyone on the host would see it. The launch's namespaces are made by
// several workers (openInstances); two of them exist already, made behind the plane's back
// with a sysctl wrong, and are adopted and corrected in the same pass; a second pass
// changes nothing.
func TestInstanceSysctls(t *testing.T) {
	p := newTestPlane(t)
	mounts := procMounts(t)
	d := baseDesired()
	for i := range procSysUses + 6 {
		d.Instances = append(d.Instances, Instance{ID: fmt.Sprintf("i-sys%03d", i), Running: true})
	}
	for _, id := range []string{"i-sys000", "i-sys040"} {
		sysctlsBehind(t, p.InstanceNS(id), true, sysctl{"net/ipv4/conf/all/rp_filter", "1"})
	}
	reconcileStable(t, p, d)
	for _, in := range d.Instances {
		if err := p.DoInstance(in.ID, hasInstanceSysctls); err != nil {
			t.Errorf("%s: %v", in.ID, err)
		}
	}
	if got := procMounts(t); got != mounts {
		t.Errorf("procfs mounts in the test's mount namespace: %d, before the launch %d", got, mounts)
	}
}

// hasInstanceSysctls says which of instanceSysctls the caller's namespace does not have.
func hasInstanceSysctls() error {
	for _, kv := range instanceSysctls {
		b, err := os.ReadFile("/proc/sys/" + kv.key)
		if err != nil {
			return err
		}
		if got := strings.TrimSpace(string(b)); got != kv.val {
			return fmt.Errorf("%s = %s, want %s", kv.key, got, kv.val)
		}
	}
	return nil
}

// procMounts counts the procfs mounts of the caller's mount namespace.
func procMounts(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if _, rest, ok := strings.Cut(l, " - "); ok && strings.HasPrefix(rest, "proc ") {
			n++
		}
	}
	return n
}

// sysctlsBehind writes kvs in the namespace name behind the plane's back, making the
// namespace first when create.
func sysctlsBehind(tb testing.TB, name string, create bool, kvs ...sysctl) {
	tb.Helper()
	open := openNS
	if create {
		open = createNS
	}
	ns, err := open(name)
	if err != nil {
		tb.Fatal(err)
	}
	err = writeSysctls(ns, kvs)
	_ = ns.Close() // read-only fd
	if err != nil {
		tb.Fatal(err)
	}
}
