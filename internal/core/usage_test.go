package core

import (
	"testing"
	"time"
)

func TestENIUsage(t *testing.T) {
	att := func(inst, status string) *ENI {
		return &ENI{ID: "eni-1", Attachment: &Attachment{InstanceID: inst, Status: status}}
	}
	running, stopped := &Instance{State: "running"}, &Instance{State: "stopped"}
	for _, c := range []struct {
		name string
		e    *ENI
		inst *Instance
		auto bool
		want string
	}{
		{"allocated, not associated", nil, nil, false, UsageIdle},
		{"unattached ENI", &ENI{ID: "eni-1"}, nil, false, UsageIdle},
		{"running instance", att("i-1", "attached"), running, false, UsageInUse},
		{"attaching to a running instance", att("i-1", "attaching"), running, false, UsageInUse},
		{"detaching", att("i-1", "detaching"), running, false, UsageIdle},
		{"stopped instance", att("i-1", "attached"), stopped, false, UsageIdle},
		{"pending instance", att("i-1", "attached"), &Instance{State: "pending"}, false, UsageIdle},
		{"auto-assigned, pending instance", att("i-1", "attached"), &Instance{State: "pending"}, true, UsageInUse},
		{"auto-assigned, running instance", att("i-1", "attached"), running, true, UsageInUse},
		{"auto-assigned, unattached ENI", &ENI{ID: "eni-1"}, nil, true, UsageIdle},
		{"a task's ENI", att("", "attached"), nil, false, UsageInUse},
		{"a NAT gateway's ENI", &ENI{ID: "eni-1", InterfaceType: "nat_gateway"}, nil, false, UsageInUse},
		{"an unattached EFA", &ENI{ID: "eni-1", InterfaceType: "efa"}, nil, false, UsageIdle},
	} {
		if got := eniUsage(c.e, c.inst, c.auto); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestUsageType(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "USE1-PublicIPv4:InUseAddress", "eu-west-1": "EU-PublicIPv4:InUseAddress",
		"ap-south-1": "APS3-PublicIPv4:InUseAddress", "my-lab-1": "my-lab-1-PublicIPv4:InUseAddress",
	} {
		if got := UsageType(region, UsageInUse); got != want {
			t.Errorf("%s: %s, want %s", region, got, want)
		}
	}
	for _, r := range AWSRegions() {
		if billingCodes[r] == "" {
			t.Errorf("AWS region %s has no billing code", r)
		}
	}
}

func TestUsageSpan(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	closed := &UsageInterval{Start: h(1), End: h(3)}
	open := &UsageInterval{Start: h(2)}
	for _, c := range []struct {
		u            *UsageInterval
		from, to, at time.Time
		want         time.Duration
	}{
		{closed, h(0), h(10), h(10), 2 * time.Hour},
		{closed, h(2), h(10), h(10), time.Hour},
		{closed, h(0), h(1.5), h(10), 30 * time.Minute},
		{closed, h(3), h(4), h(10), 0},
		{open, h(0), h(10), h(5), 3 * time.Hour},
		{open, h(0), h(4), h(5), 2 * time.Hour},
		{open, h(0), h(1), h(5), 0},
	} {
		if got := c.u.Span(c.from, c.to, c.at); got != c.want {
			t.Errorf("%+v in [%v, %v) at %v: %v, want %v", c.u, c.from, c.to, c.at, got, c.want)
		}
	}
}
