package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/dataplane"
)

// BenchmarkAgentMove: a pass that moves one ENI between two of ENI_SCALE instances
// (default 1,000) running on the host, back and forth (ENI_MOVE_AMONG=k: round the
// first k). The agent's own part of it (agent-p50-ms): its view
// of the model, the desired state made from it, and what it writes back. The plane is a
// fake that realises everything at once, or with ENI_PLANE=linux (as root) the Linux data
// plane: p50-ms and p99-ms are then a server's whole pass, the plane's included. -v logs
// the first pass, which brings all n instances up.
func BenchmarkAgentMove(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("ENI_SCALE")); err == nil && v > 0 {
		n = v
	}
	cfg := core.DefaultConfig()
	cfg.DataPlane = true
	e := apitest.New(b, apitest.Options{Config: &cfg})
	c, ctx := e.Client(), context.Background()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		b.Fatal(err)
	}
	var subnets []string
	for k := range 2 {
		s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/19", 32*k))})
		if err != nil {
			b.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	var ids []string
	for len(ids) < n {
		run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(int32(min(500, n-len(ids)))), SubnetId: aws.String(subnets[len(ids)/4000])})
		if err != nil {
			b.Fatal(err)
		}
		for _, i := range run.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnets[0])})
	if err != nil {
		b.Fatal(err)
	}
	eniID := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	plane := &timedPlane{real: benchPlane(b)}
	a := New(Options{Core: e.Core, Plane: plane, Region: "us-east-1", Account: cfg.DefaultAccount, Commit: e.API.Commit,
		Logger: slog.New(slog.DiscardHandler)})
	t0 := time.Now()
	if err := a.Once(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("the first pass (%d pending instances become running): %s", n, time.Since(t0).Round(time.Millisecond))
	// move moves the ENI to the next of the first k instances (its i-th move: k is
	// ENI_MOVE_AMONG, 2 by default, back and forth) and times the pass.
	k := 2
	if v, err := strconv.Atoi(os.Getenv("ENI_MOVE_AMONG")); err == nil && v >= 2 {
		k = min(v, n)
	}
	move := func(i int) time.Duration {
		b.StopTimer()
		if i > 0 {
			if _, err := c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: attachment(b, c, eniID), Force: aws.Bool(true)}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eniID), InstanceId: aws.String(ids[i%k]), DeviceIndex: aws.Int32(1)}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := a.Once(ctx); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	// ENI_WARMUP moves first, not measured: the server's heap grown to what it works in
	// (until then, a pass's fresh memory costs a page fault every 4 KiB).
	warm, _ := strconv.Atoi(os.Getenv("ENI_WARMUP"))
	for i := range warm {
		move(i)
	}
	var ds, own []time.Duration
	var slow []string
	stopProfile := profileMoves(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ds = append(ds, move(warm+i))
		own = append(own, ds[len(ds)-1]-plane.took)
		if plane.took >= 10*time.Millisecond {
			slow = append(slow, fmt.Sprintf("%.1f ms: %v", float64(plane.took.Microseconds())/1000, plane.slow))
		}
	}
	b.StopTimer()
	stopProfile()
	for _, s := range slow {
		b.Logf("a slow plane pass: %s", s)
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[(len(ds)-1)*99/100].Microseconds())/1000, "p99-ms")
	slices.Sort(own)
	b.ReportMetric(float64(own[len(own)/2].Microseconds())/1000, "agent-p50-ms")
	b.ReportMetric(float64(own[(len(own)-1)*99/100].Microseconds())/1000, "agent-p99-ms")
}

// profileMoves writes a CPU profile of the moves alone (not of the launch before them)
// to $ENI_MOVE_CPUPROFILE, when set; it returns the function that stops it.
func profileMoves(b *testing.B) func() {
	path := os.Getenv("ENI_MOVE_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}

// timedPlane is the plane, timed: its own part (the fake's bookkeeping, a Status made
// afresh of every instance and ENI; the real plane's pass) is not the agent's part of a
// pass (agent-p50-ms).
type timedPlane struct {
	fakePlane
	real Realiser // nil: the fake
	took time.Duration
	slow []dataplane.Step // the real plane's steps of a millisecond or more
}

func (p *timedPlane) Reconcile(ctx context.Context, d dataplane.Desired) (dataplane.Status, error) {
	t := time.Now()
	realise := p.fakePlane.Reconcile
	if p.real != nil {
		realise = p.real.Reconcile
	}
	st, err := realise(ctx, d)
	p.took, p.slow = time.Since(t), st.Slow
	return st, err
}

func attachment(b *testing.B, c *ec2.Client, eni string) *string {
	out, err := c.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	if err != nil || out.NetworkInterfaces[0].Attachment == nil {
		b.Fatalf("attachment of %s: %v", eni, err)
	}
	return out.NetworkInterfaces[0].Attachment.AttachmentId
}
