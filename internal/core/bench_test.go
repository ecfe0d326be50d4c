package core

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Benchmarks of the core alone (no HTTP, no store): the regression guard of
// the control plane's performance targets. Populations are built through the
// core (Write with a nil committer) once per size and shared by the read
// benchmarks, which never modify them.

// benchPop is a population of ENIs: bulk ENIs in /16 subnets, 100 ENIs in a
// small target subnet, every ENI tagged group=g<k> (100 per group) and the
// first benchInstances ENIs attached to one instance each.
type benchPop struct {
	c        *Core
	n        int
	target   string   // subnet with exactly 100 ENIs
	ids      []string // every ENI id, in creation order
	inst     []string // instances, each with one attached ENI
	vpc      string
	subnetAZ string
}

const benchInstances = 100

var (
	benchPopMu sync.Mutex
	benchPops  = map[int]*benchPop{}
)

// benchPopulation returns the shared population of n ENIs (n >= 200).
func benchPopulation(b testing.TB, n int) *benchPop {
	benchPopMu.Lock()
	defer benchPopMu.Unlock()
	if p := benchPops[n]; p != nil {
		return p
	}
	p := buildBenchPop(b, n)
	benchPops[n] = p
	return p
}

func buildBenchPop(b testing.TB, n int) *benchPop {
	b.Helper()
	c := newTestCore(b)
	pop := &benchPop{c: c, n: n, subnetAZ: "us-east-1a"}
	var bulk []string
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	const perSubnet = 60000
	must(mutate(b, c, func(tx *Tx) error {
		v, _ := tx.createVPC("10.0.0.0/16", false, nil)
		pop.vpc = v.ID
		pop.target = tx.newID("subnet")
		tx.PutSubnetForTest(pop.target, v.ID, pop.subnetAZ, "10.0.0.0/24", "")
		for k := 0; k*perSubnet < n; k++ {
			v, _ := tx.createVPC(fmt.Sprintf("10.%d.0.0/16", k+1), false, nil)
			id := tx.newID("subnet")
			tx.PutSubnetForTest(id, v.ID, pop.subnetAZ, fmt.Sprintf("10.%d.0.0/16", k+1), "")
			bulk = append(bulk, id)
		}
		for range benchInstances {
			id := tx.newID("i")
			tx.PutInstanceForTest(id, "m5.large", pop.subnetAZ, pop.target, v.ID, "running")
			pop.inst = append(pop.inst, id)
		}
		return nil
	}))
	for i := range n {
		subnet := bulk[(i-100)/perSubnet%len(bulk)]
		if i < 100 {
			subnet = pop.target
		}
		in := &ec2wire.CreateNetworkInterfaceInput{
			SubnetId:    p(subnet),
			Description: p("bench"),
			TagSpecifications: []ec2wire.TagSpecification{{
				ResourceType: p("network-interface"),
				Tags:         []ec2wire.Tag{{Key: p("group"), Value: p(fmt.Sprintf("g%d", i/100))}},
			}},
		}
		var id string
		must(mutate(b, c, func(tx *Tx) error {
			out, err := tx.CreateNetworkInterface(in)
			if err != nil {
				return err
			}
			id = *out.NetworkInterface.NetworkInterfaceId
			return nil
		}))
		pop.ids = append(pop.ids, id)
	}
	for k, inst := range pop.inst {
		must(mutate(b, c, func(tx *Tx) error {
			_, err := tx.AttachNetworkInterface(&ec2wire.AttachNetworkInterfaceInput{
				NetworkInterfaceId: p(pop.ids[k]), InstanceId: p(inst), DeviceIndex: p(int32(1)),
			})
			return err
		}))
	}
	return pop
}

func BenchmarkCreateENI(b *testing.B) {
	f := newENIFix(b)
	// A /16 subnet so that the benchmark never runs out of addresses.
	var sub string
	eniMust(b, mutate(b, f.c, func(tx *Tx) error {
		v, _ := tx.createVPC("10.9.0.0/16", false, nil)
		sub = tx.newID("subnet")
		tx.PutSubnetForTest(sub, v.ID, "us-east-1a", "10.9.0.0/16", "")
		return nil
	}))
	in := &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(sub), Description: p("bench")}
	var ids []string
	b.ReportAllocs()
	for b.Loop() {
		var id string
		err := f.c.Write(testCaller, false, nil, func(tx *Tx) error {
			out, err := tx.CreateNetworkInterface(in)
			if err == nil {
				id = *out.NetworkInterface.NetworkInterfaceId
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
		if len(ids) == 60000 { // keep the subnet from filling up
			b.StopTimer()
			for _, id := range ids {
				eniMust(b, mutate(b, f.c, func(tx *Tx) error { tx.deleteENI(id); return nil }))
			}
			ids = ids[:0]
			b.StartTimer()
		}
	}
}

func BenchmarkAttachDetach(b *testing.B) {
	f := newENIFix(b)
	eni := f.mustCreate(b, f.subA)
	inst := f.instance(b, "m5.large", "us-east-1a", "running")
	b.ReportAllocs()
	for b.Loop() {
		att, err := f.attach(b, *eni.NetworkInterfaceId, inst, 1)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.detach(b, att, false); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDescribe(b *testing.B, c *Core, in *ec2wire.DescribeNetworkInterfacesInput, want int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		var got int
		err := c.Read(testCaller, nil, func(tx *Tx) error {
			out, err := tx.DescribeNetworkInterfaces(in)
			if err == nil {
				got = len(out.NetworkInterfaces)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if got != want {
			b.Fatalf("got %d ENIs, want %d", got, want)
		}
	}
}

func BenchmarkDescribeByID(b *testing.B) {
	pop := benchPopulation(b, 10000)
	in := &ec2wire.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{pop.ids[5000]}}
	benchDescribe(b, pop.c, in, 1)
}

func benchSizes(b *testing.B, fn func(b *testing.B, pop *benchPop)) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("n=%dk", n/1000), func(b *testing.B) { fn(b, benchPopulation(b, n)) })
	}
}

func filterIn(name string, vals ...string) *ec2wire.DescribeNetworkInterfacesInput {
	return &ec2wire.DescribeNetworkInterfacesInput{Filters: []ec2wire.Filter{{Name: p(name), Values: vals}}}
}

func BenchmarkDescribeFilterSubnet(b *testing.B) {
	benchSizes(b, func(b *testing.B, pop *benchPop) {
		benchDescribe(b, pop.c, filterIn("subnet-id", pop.target), 100)
	})
}

func BenchmarkDescribeFilterInstanceID(b *testing.B) {
	benchSizes(b, func(b *testing.B, pop *benchPop) {
		// An instance's ENIs: the attached one (no primary ENI here).
		benchDescribe(b, pop.c, filterIn("attachment.instance-id", pop.inst[7]), 1)
	})
}

func BenchmarkDescribeFilterTag(b *testing.B) {
	benchSizes(b, func(b *testing.B, pop *benchPop) {
		benchDescribe(b, pop.c, filterIn("tag:group", "g42"), 100)
	})
}

func BenchmarkWildcard(b *testing.B) {
	cases := []struct{ p, s string }{
		{"eni-*", "eni-0123456789abcdef0"},
		{"*-bench-*-g?", "eni-bench-run1-g7"},
		{"10.0.*.1??", "10.0.12.155"},
		{"a*b*c*d*e", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"},
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cases {
			Wildcard(c.p, c.s)
		}
	}
}

// BenchmarkHeapPerENI builds a population and reports the live heap it
// takes per ENI (records and indexes) as bytes/ENI.
func BenchmarkHeapPerENI(b *testing.B) {
	for _, n := range []int{100000, 1000000} {
		b.Run(fmt.Sprintf("n=%dk", n/1000), func(b *testing.B) {
			if n > 100000 && testing.Short() {
				b.Skip("1M ENIs in -short mode")
			}
			for b.Loop() {
				before := benchLiveHeap()
				pop := buildBenchPop(b, n)
				pop.ids, pop.inst = nil, nil
				after := benchLiveHeap()
				b.ReportMetric(float64(after-before)/float64(n), "bytes/ENI")
				runtime.KeepAlive(pop.c)
			}
		})
	}
}

func benchLiveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
