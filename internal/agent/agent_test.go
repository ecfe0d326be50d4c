package agent

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/dataplane"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakePlane realises everything it is given, or fails on demand.
type fakePlane struct {
	last dataplane.Desired
	fail error
}

func (f *fakePlane) Reconcile(ctx context.Context, d dataplane.Desired) (dataplane.Status, error) {
	if f.fail != nil {
		return dataplane.Status{}, f.fail
	}
	f.last = d // the agent's lists are its own after the pass (Realiser)
	f.last.ENIs, f.last.Instances = slices.Clone(d.ENIs), slices.Clone(d.Instances)
	insts, enis := map[string]bool{}, map[string]string{}
	for _, i := range d.Instances {
		insts[i.ID] = true
	}
	for _, e := range d.ENIs {
		if e.InstanceID != "" {
			enis[e.ID] = e.InstanceID
		}
	}
	return dataplane.Status{Instances: dataplane.RealisedOf(insts), ENIs: dataplane.RealisedOf(enis)}, nil
}

func TestAgentRealisesAndWritesBack(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.DataPlane = true
	e := apitest.New(t, apitest.Options{Config: &cfg})
	c := e.Client()
	ctx := context.Background()
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	state := func() string {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		return string(out.Reservations[0].Instances[0].State.Name)
	}
	if s := state(); s != "pending" {
		t.Fatalf("before the data plane: %s, want pending", s)
	}
	fp := &fakePlane{fail: errors.New("netlink: boom")}
	reg := prometheus.NewRegistry()
	a := New(Options{Core: e.Core, Plane: fp, Region: "us-east-1", Account: cfg.DefaultAccount, Commit: e.API.Commit, Registry: reg})
	if err := a.Once(ctx); err == nil {
		t.Fatal("a failing plane must fail the pass")
	}
	if s := state(); s != "pending" {
		t.Fatalf("after a failed pass: %s, want pending", s)
	}
	fp.fail = nil
	if err := a.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != "running" {
		t.Fatalf("after the data plane: %s, want running", s)
	}
	if failed, ok := testutil.ToFloat64(a.passes.WithLabelValues("incremental", "error")), testutil.ToFloat64(a.passes.WithLabelValues("incremental", "ok")); failed != 1 || ok != 1 {
		t.Fatalf("metrics: %v failed and %v ok passes, want 1 and 1", failed, ok)
	}
	// The desired state carries the instance, its primary ENI at eth0 and
	// the default VPC's subnets marked public.
	var eni *dataplane.ENI
	for i := range fp.last.ENIs {
		if fp.last.ENIs[i].InstanceID == id {
			eni = &fp.last.ENIs[i]
		}
	}
	if eni == nil || eni.DeviceIndex != 0 || eni.PrimaryIP == "" || eni.MAC == "" || len(eni.Groups) != 1 {
		t.Fatalf("desired ENI = %+v", eni)
	}
	public := 0
	for _, v := range fp.last.VPCs {
		for _, s := range v.Subnets {
			if s.Public {
				public++
			}
		}
	}
	if public != 3 {
		t.Fatalf("%d public subnets, want the 3 default ones", public)
	}
	// A stopped instance leaves the desired state.
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Once(ctx); err != nil {
		t.Fatal(err)
	}
	for _, i := range fp.last.Instances {
		if i.ID == id {
			t.Fatal("stopped instance still desired")
		}
	}
}

func TestDesiredResolvesGroupReferences(t *testing.T) {
	hv := core.HostView{Groups: []core.HostGroup{{ID: "sg-1", Ingress: []core.HostRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"10.0.0.5/32"}}}}}}
	d := Desired(hv)
	if len(d.Groups) != 1 || d.Groups[0].Ingress[0].CIDRs[0] != "10.0.0.5/32" || d.Groups[0].Ingress[0].FromPort != 22 {
		t.Fatalf("desired = %+v", d)
	}
}

// lockedPlane is a fakePlane safe to read while the agent runs.
type lockedPlane struct {
	mu sync.Mutex
	fp fakePlane
}

func (l *lockedPlane) Reconcile(ctx context.Context, d dataplane.Desired) (dataplane.Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fp.Reconcile(ctx, d)
}

func (l *lockedPlane) instances() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.fp.last.Instances)
}

// The server's reset returns once the data plane has followed: Settle waits
// for a pass that began after it was called.
func TestResetWaitsForTheDataPlane(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.DataPlane = true
	lp := &lockedPlane{}
	var a *Agent
	e := apitest.New(t, apitest.Options{Config: &cfg, OnCommit: func() { a.Kick() }, Settle: func(ctx context.Context) error { return a.Settle(ctx) }})
	a = New(Options{Core: e.Core, Plane: lp, Region: "us-east-1", Account: cfg.DefaultAccount, Commit: e.API.Commit, Resync: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	if _, err := e.Client().RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2), InstanceType: types.InstanceTypeT3Micro}); err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
	defer scancel()
	if err := a.Settle(sctx); err != nil {
		t.Fatal(err)
	}
	if n := lp.instances(); n != 2 {
		t.Fatalf("settled with %d instances realised, want 2", n)
	}
	if err := e.API.Reset(sctx); err != nil {
		t.Fatal(err)
	}
	if n := lp.instances(); n != 0 {
		t.Fatalf("reset returned with %d instances realised, want 0", n)
	}
}

// WaitRealised answers once the pass has realised the instance, without waiting
// for the pass's write-back (a task's start waits on it: the commit is not its).
func TestWaitRealisedBeforeWriteBack(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.DataPlane = true
	e := apitest.New(t, apitest.Options{Config: &cfg})
	ctx := context.Background()
	run, err := e.Client().RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	release := make(chan struct{})
	held := func(cs core.ChangeSet) (func() error, error) { <-release; return e.API.Commit(cs) }
	a := New(Options{Core: e.Core, Plane: &fakePlane{}, Region: "us-east-1", Account: cfg.DefaultAccount, Commit: held})
	done := make(chan error, 1)
	go func() { done <- a.Once(ctx) }()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	realised := a.WaitRealised(wctx, id)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !realised {
		t.Fatal("WaitRealised waited for the write-back's commit")
	}
}
