package dataplane

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// benchScale is the number of instances the scale benchmarks hold on the host
// (ENI_SCALE, default 200).
func benchScale() int {
	if n, _ := strconv.Atoi(os.Getenv("ENI_SCALE")); n > 0 {
		return n
	}
	return 200
}

// BenchmarkScalePass: with ENI_SCALE instances (one ENI each) on the host, the time of one
// incremental Reconcile that has nothing to do (noop), that moves an ENI between two
// instances (move), and that changes the rules of a group with one member (sg). Each
// sub-benchmark reports the median and p99 of its passes.
func BenchmarkScalePass(b *testing.B) {
	n := benchScale()
	p := newTestPlane(b)
	ctx := context.Background()
	d := scaleDesired(n)
	d.Groups = append(d.Groups, Group{ID: "sg-one", Ingress: []Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"10.0.0.0/8"}}}})
	d.ENIs[0].Groups = []string{"sg-one"}
	d.ENIs = append(d.ENIs, ENI{ID: "eni-sz-mover" /* sorts last */, MAC: "02:01:00:ff:00:02", SubnetID: d.VPCs[0].Subnets[1].ID, VPCID: "vpc-s",
		PrimaryIP: "10.11.9.9", InstanceID: d.ENIs[1].InstanceID, DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}})
	mover := &d.ENIs[len(d.ENIs)-1]
	if _, err := p.Reconcile(ctx, d); err != nil {
		b.Fatal(err)
	}
	pass := func(b *testing.B, change func(i int)) {
		var ds []time.Duration
		steps := map[string][]time.Duration{}
		p.stepTime = func(s string, d time.Duration) { steps[s] = append(steps[s], d) }
		defer func() {
			p.stepTime = nil
			for _, s := range append([]string{"plan"}, stepNames...) {
				if len(steps[s]) > 0 {
					b.Logf("%s: step %s p50 %.3f ms", b.Name(), s, percentile(steps[s], 0.5))
				}
			}
		}()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			change(i)
			start := time.Now()
			if _, err := p.Reconcile(ctx, d); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		b.StopTimer()
		b.ReportMetric(percentile(ds, 0.5), "p50-ms")
		b.ReportMetric(percentile(ds, 0.99), "p99-ms")
	}
	b.Run(fmt.Sprintf("noop/n=%d", n), func(b *testing.B) { pass(b, func(int) {}) })
	b.Run(fmt.Sprintf("move/n=%d", n), func(b *testing.B) {
		pass(b, func(i int) {
			if mover.InstanceID == d.ENIs[1].InstanceID {
				mover.InstanceID = d.ENIs[2].InstanceID
			} else {
				mover.InstanceID = d.ENIs[1].InstanceID
			}
		})
	})
	b.Run(fmt.Sprintf("sg/n=%d", n), func(b *testing.B) {
		pass(b, func(i int) { d.Groups[1].Ingress[0].ToPort = 22 + (i+1)%2 })
	})
	// The last state is stable: a second pass changes nothing.
	st, err := p.Reconcile(ctx, d)
	if err != nil || st.Changes != 0 {
		b.Fatalf("a pass after the benchmarks: %d changes, %v", st.Changes, err)
	}
}

// BenchmarkLaunchRate: ENI_SCALE instances with one ENI each launched by one Reconcile
// (as one RunInstances call asks), in instances/s, beside the kernel's own rate measured
// in the same run: as many bare namespaces, each with a veth pair whose other end is on a
// bridge, and an address (kernel-inst/s). ratio is the first over the second. Each
// launch waits until the kernel has freed the namespaces of the one before
// (kernelQuiet). -v logs the launch's steps that took 10 ms or more.
func BenchmarkLaunchRate(b *testing.B) {
	n := benchScale()
	var plane, kernel []float64
	for i := 0; i < b.N; i++ {
		p := newTestPlane(b)
		d := scaleDesired(n)
		p.stepTime = func(s string, d time.Duration) {
			if d >= 10*time.Millisecond {
				b.Logf("launch of %d: step %s %.0f ms", n, s, float64(d.Microseconds())/1000)
			}
		}
		kernelQuiet(b) // the last iteration's namespaces freed: not timed with this one
		start := time.Now()
		if _, err := p.Reconcile(context.Background(), d); err != nil {
			b.Fatal(err)
		}
		plane = append(plane, float64(n)/time.Since(start).Seconds())
		p.stepTime = nil
		if err := p.Teardown(context.Background()); err != nil {
			b.Fatal(err)
		}
		kernel = append(kernel, kernelLaunchRate(b, n))
	}
	pm, km := median(plane), median(kernel)
	b.ReportMetric(pm, "inst/s")
	b.ReportMetric(km, "kernel-inst/s")
	b.ReportMetric(pm/km, "ratio")
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

// kernelLaunchRate creates n bare namespaces, each with a veth pair (one end in it, up,
// with an address; the other on a bridge in a namespace of its own), and returns the
// rate; everything is deleted before it returns.
func kernelLaunchRate(b *testing.B, n int) float64 {
	b.Helper()
	kernelQuiet(b) // the plane's namespaces freed
	start := time.Now()
	remove := bareInstances(b, n)
	rate := float64(n) / time.Since(start).Seconds()
	remove()
	return rate
}

// bareInstances makes what the kernel needs for n instances, as the plane's fastest
// launch could: n namespaces, each with a veth pair (one queue each way on each end, as
// the plane's) whose other end is on a bridge of a
// hub namespace (250 ports a bridge, as scaleDesired's subnets), up, with an address.
// It returns their removal.
func bareInstances(tb testing.TB, n int) (remove func()) {
	tb.Helper()
	prefix := fmt.Sprintf("ek%04x", uint16(time.Now().UnixNano()))
	hub, err := createNS(prefix + "-hub")
	if err != nil {
		tb.Fatal(err)
	}
	hc, err := openCtx(prefix+"-hub", hub)
	if err != nil {
		tb.Fatal(err)
	}
	remove = func() {
		hc.close()
		names, _ := listNS(prefix)
		for _, nm := range names {
			_ = deleteNS(nm)
		}
	}
	fail := func(err error) {
		remove()
		tb.Fatal(err)
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: prefix + "br"}}
	if err := hc.h.LinkAdd(br); err != nil {
		fail(err)
	}
	bl, _ := hc.linkByName(prefix + "br")
	if err := hc.h.LinkSetUp(bl); err != nil {
		fail(err)
	}
	for i := 0; i < n; i++ {
		if i > 0 && i%250 == 0 { // as many ports a bridge as the plane's in scaleDesired (a subnet of 250)
			br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("%sbr%d", prefix, i/250)}}
			if err := hc.h.LinkAdd(br); err != nil {
				fail(err)
			}
			bl, _ = hc.linkByName(br.Name)
			_ = hc.h.LinkSetUp(bl)
		}
		name := fmt.Sprintf("%s-%d", prefix, i)
		ns, err := createNS(name)
		if err != nil {
			fail(err)
		}
		c, err := openCtx(name, ns)
		if err != nil {
			fail(err)
		}
		// One queue each way on each end, as the plane's pairs (vethQueues): the
		// kernel's default (one per possible CPU) would make the baseline dearer.
		v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("%sh%d", prefix, i), MasterIndex: bl.Attrs().Index,
			NumTxQueues: vethQueues, NumRxQueues: vethQueues},
			PeerName: "eth0", PeerNamespace: netlink.NsFd(int(ns))}
		if err := hc.h.LinkAdd(v); err != nil {
			fail(err)
		}
		h, _ := hc.linkByName(v.Name)
		_ = hc.h.LinkSetUp(h)
		eth, _ := c.linkByName("eth0")
		_ = c.h.LinkSetUp(eth)
		a, _ := netlink.ParseAddr(fmt.Sprintf("10.%d.%d.%d/16", 200, (i/200)%256, 10+i%200))
		if err := c.h.AddrAdd(eth, a); err != nil {
			fail(err)
		}
		lo, _ := c.linkByName("lo")
		_ = c.h.LinkSetUp(lo)
		c.close()
	}
	return remove
}
