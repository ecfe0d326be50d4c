package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/ec2wire"
)

// End-to-end benchmarks: the real aws-sdk-go-v2 client over a loopback
// listener, as `eni bench` drives a server. The performance targets compare
// each call's throughput with BenchmarkAPINoop's (DescribeRegions, the
// floor of HTTP + SigV4 + SDK cost): run them together and compare req/s.

const benchConcurrency = 32

// benchParallel runs call from benchConcurrency goroutines (conc 1: from
// one) and reports req/s and the p50/p99 latency in ms.
func benchParallel(b *testing.B, conc int, call func() error) {
	b.Helper()
	var mu sync.Mutex
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu0 := benchCPU()
	run := func(next func() bool) {
		local := make([]time.Duration, 0, 1024)
		for next() {
			t0 := time.Now()
			if err := call(); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	}
	if conc <= 1 {
		n := 0
		run(func() bool { n++; return n <= b.N })
	} else {
		b.SetParallelism((conc + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) { run(pb.Next) })
	}
	elapsed := time.Since(start)
	cpu := benchCPU() - cpu0
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	// CPU time per call (server and client, both in this process): less
	// sensitive than req/s to other load on a shared machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-us/op")
}

// benchCPU returns the process's user+system CPU time.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkAPINoop(b *testing.B) {
	e := apitest.New(b)
	c := e.Client()
	benchParallel(b, benchConcurrency, func() error {
		_, err := c.DescribeRegions(apitest.Ctx(), &ec2.DescribeRegionsInput{})
		return err
	})
}

// benchSubnet adds a /16 subnet (in a new VPC 10.<k>.0.0/16) in us-east-1a.
func benchSubnet(b *testing.B, c *core.Core, k int) string {
	b.Helper()
	var id string
	err := c.Write(core.Caller{Account: c.Config().DefaultAccount, Region: "us-east-1"}, false, nil, func(tx *core.Tx) error {
		cidr := fmt.Sprintf("10.%d.0.0/16", k)
		out, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: &cidr})
		if err != nil {
			return err
		}
		s, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: out.Vpc.VpcId, CidrBlock: &cidr, AvailabilityZone: aws.String("us-east-1a")})
		if err != nil {
			return err
		}
		id = *s.Subnet.SubnetId
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return id
}

func BenchmarkAPICreateENI(b *testing.B) {
	benchCreateENIOn(b, apitest.New(b, apitest.Options{Durable: true}))
}

// benchENIs creates n ENIs through the core (no store), tagged group=g<i/100>;
// the first 100 are in a subnet of their own. It returns the ENI ids and
// that subnet.
func benchENIs(b *testing.B, c *core.Core, n int) ([]string, string) {
	b.Helper()
	who := core.Caller{Account: c.Config().DefaultAccount, Region: "us-east-1"}
	target := ""
	var bulk []string
	ids := make([]string, 0, n)
	for i := range n {
		var subnet string
		switch {
		case i == 0:
			target = benchSubnet(b, c, 200)
			subnet = target
		case i < 100:
			subnet = target
		default:
			if (i-100)%60000 == 0 {
				bulk = append(bulk, benchSubnet(b, c, len(bulk)+1))
			}
			subnet = bulk[len(bulk)-1]
		}
		in := &ec2wire.CreateNetworkInterfaceInput{
			SubnetId: &subnet, Description: aws.String("bench"),
			TagSpecifications: []ec2wire.TagSpecification{{
				ResourceType: aws.String("network-interface"),
				Tags:         []ec2wire.Tag{{Key: aws.String("group"), Value: aws.String(fmt.Sprintf("g%d", i/100))}},
			}},
		}
		err := c.Write(who, false, nil, func(tx *core.Tx) error {
			out, err := tx.CreateNetworkInterface(in)
			if err == nil {
				ids = append(ids, *out.NetworkInterface.NetworkInterfaceId)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return ids, target
}

func BenchmarkAPIDescribeByID(b *testing.B) {
	e := apitest.New(b)
	c := e.Client()
	ids, _ := benchENIs(b, e.Core, 1000)
	var mu sync.Mutex
	i := 0
	benchParallel(b, benchConcurrency, func() error {
		mu.Lock()
		id := ids[i%len(ids)]
		i++
		mu.Unlock()
		out, err := c.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
		if err == nil && len(out.NetworkInterfaces) != 1 {
			err = fmt.Errorf("got %d ENIs", len(out.NetworkInterfaces))
		}
		return err
	})
}

// BenchmarkAPIDescribeFilter100of100k lists the 100 ENIs of one tag value
// (and of one subnet) among 100k; the target is p99 < 5 ms at concurrency 1.
func BenchmarkAPIDescribeFilter100of100k(b *testing.B) {
	e := apitest.New(b)
	c := e.Client()
	_, target := benchENIs(b, e.Core, 100000)
	runtime.GC()
	filters := map[string][]types.Filter{
		"tag":    {{Name: aws.String("tag:group"), Values: []string{"g42"}}},
		"subnet": {{Name: aws.String("subnet-id"), Values: []string{target}}},
	}
	for _, name := range []string{"tag", "subnet"} {
		for _, conc := range []int{1, benchConcurrency} {
			b.Run(fmt.Sprintf("%s/c=%d", name, conc), func(b *testing.B) {
				benchParallel(b, conc, func() error {
					out, err := c.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{Filters: filters[name]})
					if err == nil && len(out.NetworkInterfaces) != 100 {
						err = fmt.Errorf("got %d ENIs", len(out.NetworkInterfaces))
					}
					return err
				})
			})
		}
	}
}

// BenchmarkServeDescribeFilter100of100k is the server's share of
// BenchmarkAPIDescribeFilter100of100k: ServeHTTP alone (decode, index
// lookup, render, XML), without the network and the SDK's XML parsing.
func BenchmarkServeDescribeFilter100of100k(b *testing.B) {
	e := apitest.New(b)
	_, target := benchENIs(b, e.Core, 100000)
	runtime.GC()
	for _, q := range []struct{ name, filter, value string }{{"tag", "tag:group", "g42"}, {"subnet", "subnet-id", target}} {
		body := url.Values{"Action": {"DescribeNetworkInterfaces"}, "Version": {"2016-11-15"},
			"Filter.1.Name": {q.filter}, "Filter.1.Value.1": {q.value}}.Encode()
		b.Run(q.name, func(b *testing.B) {
			benchParallel(b, 1, func() error {
				r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := httptest.NewRecorder()
				e.API.ServeHTTP(w, r)
				if w.Code != http.StatusOK || strings.Count(w.Body.String(), "<networkInterfaceId>") != 100 {
					return fmt.Errorf("status %d: %.300s", w.Code, w.Body.String())
				}
				return nil
			})
		})
	}
}

// BenchmarkSDKDecodeDescribeFilter100 is the client's share of
// BenchmarkAPIDescribeFilter100of100k: aws-sdk-go-v2 making the same
// DescribeNetworkInterfaces call and parsing this server's reply for 100
// ENIs (≈ 120 KB), with the reply handed over in memory — no server and no
// network. What it measures bounds the end-to-end latency from below.
func BenchmarkSDKDecodeDescribeFilter100(b *testing.B) {
	e := apitest.New(b)
	_, target := benchENIs(b, e.Core, 100)
	body := url.Values{"Action": {"DescribeNetworkInterfaces"}, "Version": {"2016-11-15"},
		"Filter.1.Name": {"subnet-id"}, "Filter.1.Value.1": {target}}.Encode()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.API.ServeHTTP(w, r)
	reply := w.Body.Bytes()
	if w.Code != http.StatusOK || strings.Count(string(reply), "<networkInterfaceId>") != 100 {
		b.Fatalf("status %d: %.300s", w.Code, reply)
	}
	b.SetBytes(int64(len(reply)))
	c := ec2.New(ec2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials:  aws.AnonymousCredentials{},
		HTTPClient:   cannedReply(reply),
	})
	in := &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("subnet-id"), Values: []string{target}}}}
	runtime.GC()
	benchParallel(b, 1, func() error {
		out, err := c.DescribeNetworkInterfaces(apitest.Ctx(), in)
		if err == nil && len(out.NetworkInterfaces) != 100 {
			err = fmt.Errorf("%d ENIs", len(out.NetworkInterfaces))
		}
		return err
	})
}

// cannedReply answers every request with the same 200 text/xml body.
type cannedReply []byte

func (c cannedReply) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/xml;charset=UTF-8"}},
		Body:          io.NopCloser(bytes.NewReader(c)),
		ContentLength: int64(len(c)),
		Request:       r,
	}, nil
}
