package api_test

import (
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// statuses returns instance id -> (state, instance status, system status,
// reachability detail).
func statuses(t *testing.T, c *ec2.Client, in *ec2.DescribeInstanceStatusInput) map[string][4]string {
	t.Helper()
	out, err := c.DescribeInstanceStatus(ctx, in)
	if err != nil {
		t.Fatalf("DescribeInstanceStatus: %v", err)
	}
	m := map[string][4]string{}
	for _, s := range out.InstanceStatuses {
		reach := ""
		if len(s.InstanceStatus.Details) == 1 {
			d := s.InstanceStatus.Details[0]
			if d.Name != types.StatusNameReachability {
				t.Errorf("detail %q", d.Name)
			}
			reach = string(d.Status)
		}
		if aws.ToString(s.AvailabilityZone) == "" {
			t.Errorf("%s: no availability zone", aws.ToString(s.InstanceId))
		}
		m[aws.ToString(s.InstanceId)] = [4]string{string(s.InstanceState.Name), string(s.InstanceStatus.Status), string(s.SystemStatus.Status), reach}
	}
	return m
}

func TestDescribeInstanceStatus(t *testing.T) {
	clock := newTestClock()
	e := apitest.New(t, apitest.Options{Now: clock.Now})
	c := e.Client()
	a := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})
	b := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro, Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1b")}})
	ida, idb := aws.ToString(a.InstanceId), aws.ToString(b.InstanceId)

	// Just launched: both checks initializing.
	got := statuses(t, c, &ec2.DescribeInstanceStatusInput{})
	want := [4]string{"running", "initializing", "initializing", "initializing"}
	if len(got) != 2 || got[ida] != want || got[idb] != want {
		t.Fatalf("after launch: %v", got)
	}
	// They settle to ok on their own.
	clock.Advance(core.StatusCheckDelay)
	got = statuses(t, c, &ec2.DescribeInstanceStatusInput{})
	want = [4]string{"running", "ok", "ok", "passed"}
	if got[ida] != want || got[idb] != want {
		t.Fatalf("after %v: %v", core.StatusCheckDelay, got)
	}
	w := ec2.NewInstanceStatusOkWaiter(c, func(o *ec2.InstanceStatusOkWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	})
	if err := w.Wait(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{ida, idb}}, 5*time.Second); err != nil {
		t.Fatalf("InstanceStatusOk waiter: %v", err)
	}

	// A stopped instance has no checks: only IncludeAllInstances shows it.
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{idb}}); err != nil {
		t.Fatal(err)
	}
	got = statuses(t, c, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{idb}})
	if len(got) != 0 {
		t.Errorf("stopped instance without IncludeAllInstances: %v", got)
	}
	got = statuses(t, c, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true)})
	if got[idb] != [4]string{"stopped", "not-applicable", "not-applicable", ""} || got[ida][1] != "ok" {
		t.Errorf("IncludeAllInstances: %v", got)
	}

	// Filters.
	for _, f := range []struct {
		filter types.Filter
		want   []string
	}{
		{filter("instance-state-name", "stopped"), []string{idb}},
		{filter("instance-state-code", "16"), []string{ida}},
		{filter("availability-zone", "us-east-1b"), []string{idb}},
		{filter("instance-status.status", "ok"), []string{ida}},
		{filter("system-status.status", "not-applicable"), []string{idb}},
		{filter("instance-status.reachability", "passed"), []string{ida}},
		{filter("system-status.reachability", "initializing"), nil},
		{filter("event.code", "instance-reboot"), nil},
	} {
		got := statuses(t, c, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true), Filters: []types.Filter{f.filter}})
		if len(got) != len(f.want) {
			t.Errorf("filter %s=%v: got %v, want %v", *f.filter.Name, f.filter.Values, got, f.want)
		}
		for _, id := range f.want {
			if _, ok := got[id]; !ok {
				t.Errorf("filter %s=%v: got %v, want %v", *f.filter.Name, f.filter.Values, got, f.want)
			}
		}
	}

	// Starting again starts the checks over, and LaunchTime is the new start.
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{idb}}); err != nil {
		t.Fatal(err)
	}
	got = statuses(t, c, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{idb}})
	if got[idb] != [4]string{"running", "initializing", "initializing", "initializing"} {
		t.Errorf("after start: %v", got)
	}
	if lt := describeInstance(t, c, idb).LaunchTime; !lt.Equal(clock.Now()) {
		t.Errorf("LaunchTime after start: %v, want %v", lt, clock.Now())
	}

	// Terminated instances stay visible with IncludeAllInstances.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{ida}}); err != nil {
		t.Fatal(err)
	}
	got = statuses(t, c, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{ida}, IncludeAllInstances: aws.Bool(true)})
	if got[ida] != [4]string{"terminated", "not-applicable", "not-applicable", ""} {
		t.Errorf("terminated: %v", got)
	}
}

func TestDescribeInstanceStatusErrorsAndPages(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(7), MaxCount: aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, i := range out.Instances {
		ids[*i.InstanceId] = true
	}
	p := ec2.NewDescribeInstanceStatusPaginator(c, &ec2.DescribeInstanceStatusInput{MaxResults: aws.Int32(5)})
	pages, seen := 0, map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range page.InstanceStatuses {
			seen[*s.InstanceId] = true
		}
	}
	if pages != 2 || len(seen) != 7 {
		t.Errorf("pages %d, instances %d", pages, len(seen))
	}
	for _, tc := range []struct {
		in   *ec2.DescribeInstanceStatusInput
		code string
	}{
		{&ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-0123456789abcdef0"}}, "InvalidInstanceID.NotFound"},
		{&ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-xyz"}}, "InvalidInstanceID.Malformed"},
		{&ec2.DescribeInstanceStatusInput{InstanceIds: []string{*out.Instances[0].InstanceId}, MaxResults: aws.Int32(5)}, "InvalidParameterCombination"},
		{&ec2.DescribeInstanceStatusInput{MaxResults: aws.Int32(4)}, "InvalidParameterValue"},
		{&ec2.DescribeInstanceStatusInput{Filters: []types.Filter{filter("instance-status", "ok")}}, "InvalidParameterValue"},
		{&ec2.DescribeInstanceStatusInput{NextToken: aws.String("bogus")}, "InvalidNextToken"},
	} {
		_, err := c.DescribeInstanceStatus(ctx, tc.in)
		apitest.WantCode(t, err, tc.code)
	}
}
