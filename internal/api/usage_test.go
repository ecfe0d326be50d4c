package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// getUsage asks the usage API; path is UsagePath or UsagePath+"/now".
func getUsage(t *testing.T, e *apitest.Env, path string, q url.Values, out any) int {
	t.Helper()
	resp, err := http.Get(e.Server.URL + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	} else if out != nil {
		_ = json.Unmarshal(b, out)
	}
	return resp.StatusCode
}

// usageOf returns "type publicIP resource" -> line of a report.
func usageOf(t *testing.T, e *apitest.Env, from, to time.Time) map[string]core.UsageLine {
	t.Helper()
	var rep api.UsageReply
	q := url.Values{"region": {"us-east-1"}, "from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	if st := getUsage(t, e, api.UsagePath, q, &rep); st != http.StatusOK {
		t.Fatalf("usage: HTTP %d", st)
	}
	out := map[string]core.UsageLine{}
	for _, l := range rep.Lines {
		out[l.UsageType+" "+l.PublicIP+" "+l.ResourceID] = l
	}
	return out
}

// TestPublicIPv4Usage follows two Elastic IPs and three auto-assigned
// addresses through association, stop/start, an ENI move, disassociation,
// release and termination on an injected clock, and checks every address's
// hours and cost per AWS usage type, after a restart too, and the metrics.
func TestPublicIPv4Usage(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0}
	e := apitest.New(t, apitest.Options{Now: clock.Now, Durable: true})
	c := e.Client()
	at := func(h float64) {
		clock.mu.Lock()
		clock.now = t0.Add(time.Duration(h * float64(time.Hour)))
		clock.mu.Unlock()
	}
	check := func() {
		t.Helper()
		if errs := e.Core.Check(); len(errs) > 0 {
			t.Fatal(errs)
		}
	}
	sn := defaultSubnet(t, c, "us-east-1a")

	// 0 h: an Elastic IP A (idle) and an instance I1 with an auto-assigned address P1 (in use).
	allocA, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	i1 := runInstance(t, c, &ec2.RunInstancesInput{SubnetId: sn.SubnetId})
	p1, eni1 := aws.ToString(i1.PublicIpAddress), aws.ToString(i1.NetworkInterfaces[0].NetworkInterfaceId)
	if p1 == "" {
		t.Fatal("no auto-assigned public IPv4 in the default subnet")
	}
	check()
	// 1 h: A on I1 (in use); P1 is released (AWS: an EIP replaces it).
	at(1)
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: allocA.AllocationId, InstanceId: i1.InstanceId}); err != nil {
		t.Fatal(err)
	}
	// 3 h: I1 stopped: A idle. 4 h: started: A in use again (no new auto-assigned address: it has an EIP).
	at(3)
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{aws.ToString(i1.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	check()
	at(4)
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{aws.ToString(i1.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	// 4 h: an unattached ENI E with Elastic IP B (idle); 5 h: E on I1 (B in use).
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sn.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	eniE := eni.NetworkInterface.NetworkInterfaceId
	allocB, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: allocB.AllocationId, NetworkInterfaceId: eniE}); err != nil {
		t.Fatal(err)
	}
	at(5)
	att, err := c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: eniE, InstanceId: i1.InstanceId, DeviceIndex: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	check()
	// 6 h: I2 launched (P2 in use), E detached from I1 (B idle); 6.5 h: E on I2 (B in use).
	at(6)
	i2 := runInstance(t, c, &ec2.RunInstancesInput{SubnetId: sn.SubnetId})
	p2 := aws.ToString(i2.PublicIpAddress)
	if _, err := c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: att.AttachmentId}); err != nil {
		t.Fatal(err)
	}
	at(6.5)
	if _, err := c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: eniE, InstanceId: i2.InstanceId, DeviceIndex: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	check()
	// 7 h: A disassociated (idle); I1, with one ENI again, gets a new auto-assigned address P3 (in use).
	at(7)
	if _, err := c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{PublicIp: allocA.PublicIp}); err != nil {
		t.Fatal(err)
	}
	p3 := aws.ToString(describeInstance(t, c, aws.ToString(i1.InstanceId)).PublicIpAddress)
	if p3 == "" || p3 == p1 {
		t.Fatalf("after the disassociation I1's public IPv4 is %q (was %s)", p3, p1)
	}
	// 8 h: A released. 9 h: I2 terminated: P2 released, E detached (B idle).
	at(8)
	if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: allocA.AllocationId}); err != nil {
		t.Fatal(err)
	}
	at(9)
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(i2.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	check()
	at(10)

	a, b := aws.ToString(allocA.AllocationId), aws.ToString(allocB.AllocationId)
	pa, pb := aws.ToString(allocA.PublicIp), aws.ToString(allocB.PublicIp)
	eni2 := aws.ToString(i2.NetworkInterfaces[0].NetworkInterfaceId)
	const in, idle = "USE1-PublicIPv4:InUseAddress", "USE1-PublicIPv4:IdleAddress"
	type want struct {
		hours float64
		now   bool
	}
	full := map[string]want{
		idle + " " + pa + " " + a:  {1 + 1 + 1, false},  // [0,1) [3,4) [7,8)
		in + " " + pa + " " + a:    {2 + 3, false},      // [1,3) [4,7)
		in + " " + p1 + " " + eni1: {1, false},          // [0,1)
		in + " " + p3 + " " + eni1: {3, true},           // [7,10)
		idle + " " + pb + " " + b:  {1 + 0.5 + 1, true}, // [4,5) [6,6.5) [9,10)
		in + " " + pb + " " + b:    {1 + 2.5, false},    // [5,6) [6.5,9)
		in + " " + p2 + " " + eni2: {3, false},          // [6,9)
	}
	expect := func(got map[string]core.UsageLine, want map[string]want, rate float64) {
		t.Helper()
		for k, w := range want {
			l, ok := got[k]
			if !ok {
				t.Errorf("no line %s; got %+v", k, got)
				continue
			}
			if l.Hours != w.hours || math.Abs(l.Cost-w.hours*rate) > 1e-12 || l.Now != w.now {
				t.Errorf("%s: %v h, $%v, now %v; want %v h, $%v, now %v", k, l.Hours, l.Cost, l.Now, w.hours, w.hours*rate, w.now)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d lines, want %d: %+v", len(got), len(want), got)
		}
	}
	expect(usageOf(t, e, t0, t0.Add(24*time.Hour)), full, 0.005)
	// A window cuts intervals: [3.5 h, 6.25 h).
	expect(usageOf(t, e, t0.Add(210*time.Minute), t0.Add(375*time.Minute)), map[string]want{
		idle + " " + pa + " " + a:  {0.5, false},
		in + " " + pa + " " + a:    {2.25, false},
		idle + " " + pb + " " + b:  {1 + 0.25, false},
		in + " " + pb + " " + b:    {1, false},
		in + " " + p2 + " " + eni2: {0.25, false},
	}, 0.005)

	// Durable: the same after a restart, and the open intervals run on.
	path := e.Path
	e.Close()
	e = apitest.New(t, apitest.Options{Now: clock.Now, Path: path})
	check()
	at(11)
	full[in+" "+p3+" "+eni1] = want{4, true}
	full[idle+" "+pb+" "+b] = want{3.5, true}
	expect(usageOf(t, e, t0, t0.Add(24*time.Hour)), full, 0.005)

	// Billed now: P3 in use and B idle, with what each has cost so far.
	var billed api.BilledReply
	if st := getUsage(t, e, api.UsagePath+"/now", url.Values{"region": {"us-east-1"}}, &billed); st != http.StatusOK || len(billed.Addresses) != 2 {
		t.Fatalf("billed now: HTTP %d %+v", st, billed)
	}
	for _, x := range billed.Addresses {
		switch x.PublicIP {
		case p3:
			if x.UsageType != in || x.HoursSoFar != 4 || !x.Since.Equal(t0.Add(7*time.Hour)) || x.InstanceID != aws.ToString(i1.InstanceId) {
				t.Errorf("P3: %+v", x)
			}
		case pb:
			if x.UsageType != idle || x.HoursSoFar != 7 || math.Abs(x.CostSoFar-0.035) > 1e-12 || x.ENIID != aws.ToString(eniE) || x.InstanceID != "" {
				t.Errorf("B: %+v", x)
			}
		default:
			t.Errorf("billed now: %+v", x)
		}
	}

	// The metrics: addresses billed now, hours and cost since metering began.
	resp, err := http.Get(e.Server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	acct := `account="123456789012",region="us-east-1",usage_type=`
	for _, m := range []string{
		`eni_public_ipv4_addresses{` + acct + `"` + in + `"} 1`,
		`eni_public_ipv4_addresses{` + acct + `"` + idle + `"} 1`,
		fmt.Sprintf(`eni_public_ipv4_hours_total{%s"%s"} %g`, acct, in, 5+1+4+3.5+3.0),
		fmt.Sprintf(`eni_public_ipv4_hours_total{%s"%s"} %g`, acct, idle, 3+3.5),
	} {
		if !strings.Contains(string(body), m+"\n") {
			t.Errorf("metrics lack %q", m)
		}
	}
	if !strings.Contains(string(body), `eni_public_ipv4_cost_usd_total{`+acct+`"`+idle+`"} 0.0325`) {
		t.Errorf("idle cost: %s", grepLines(string(body), "eni_public_ipv4"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPublicIPv4UsageRateAndErrors: a restart with another rate prices what
// follows at it (SettleUsage, as eni serve runs it), what came before at
// the old; the usage API's mistakes get their codes.
func TestPublicIPv4UsageRateAndErrors(t *testing.T) {
	t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0}
	e := apitest.New(t, apitest.Options{Now: clock.Now, Durable: true})
	alloc, err := e.Client().AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	path := e.Path
	e.Close()
	cfg := core.DefaultConfig()
	cfg.IPv4Rate = 0.01
	e = apitest.New(t, apitest.Options{Now: clock.Now, Path: path, Config: &cfg})
	if err := e.Core.SettleUsage(e.API.Commit); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	got := usageOf(t, e, t0, t0.Add(24*time.Hour))
	l := got["USE1-PublicIPv4:IdleAddress "+aws.ToString(alloc.PublicIp)+" "+aws.ToString(alloc.AllocationId)]
	if len(got) != 1 || l.Hours != 3 || math.Abs(l.Cost-(2*0.005+1*0.01)) > 1e-12 || !l.Now {
		t.Fatalf("after a rate change: %+v", got)
	}
	var billed api.BilledReply
	getUsage(t, e, api.UsagePath+"/now", url.Values{"region": {"us-east-1"}}, &billed)
	if len(billed.Addresses) != 1 || !billed.Addresses[0].Since.Equal(t0) || billed.Addresses[0].Rate != 0.01 || math.Abs(billed.Addresses[0].CostSoFar-0.02) > 1e-12 {
		t.Fatalf("billed now after a rate change: %+v", billed)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	var er struct{ Code, Message string }
	for _, c := range []struct {
		q      url.Values
		status int
		code   string
	}{
		{url.Values{"region": {"us-east-1"}, "account": {"999999999999"}}, http.StatusForbidden, "UnauthorizedOperation"},
		{url.Values{"region": {"us-east-1"}, "from": {"yesterday"}}, http.StatusBadRequest, "InvalidParameterValue"},
		{url.Values{"region": {"us-east-1"}, "from": {"2026-04-02T00:00:00Z"}, "to": {"2026-04-01T00:00:00Z"}}, http.StatusBadRequest, "InvalidParameterValue"},
		{url.Values{"region": {"xx-nowhere-1"}}, http.StatusForbidden, "SignatureDoesNotMatch"},
	} {
		er.Code = ""
		if st := getUsage(t, e, api.UsagePath, c.q, &er); st != c.status || er.Code != c.code {
			t.Errorf("%v: HTTP %d %+v, want %d %s", c.q, st, er, c.status, c.code)
		}
	}
}

// TestPublicIPv4UsagePending: with a data plane an instance is pending until
// its namespace is up. Its auto-assigned address is in use from the launch
// (it exists only with its instance); an Elastic IP on it is idle until the
// instance runs.
func TestPublicIPv4UsagePending(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0}
	cfg := core.DefaultConfig()
	cfg.DataPlane = true
	e := apitest.New(t, apitest.Options{Now: clock.Now, Config: &cfg})
	c := e.Client()
	sn := defaultSubnet(t, c, "us-east-1a")
	inst := runInstance(t, c, &ec2.RunInstancesInput{SubnetId: sn.SubnetId})
	id, auto := aws.ToString(inst.InstanceId), aws.ToString(inst.PublicIpAddress)
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sn.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	eniID := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, NetworkInterfaceId: &eniID}); err != nil {
		t.Fatal(err)
	}
	// A second instance launched on that ENI: the Elastic IP is on a pending instance.
	id2 := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: aws.Int32(0), NetworkInterfaceId: &eniID}}}).InstanceId)
	clock.Advance(time.Hour)
	// The data plane reports the instance up (as the agent does, through the server's committer).
	if err := e.Core.Write(core.Caller{Account: cfg.DefaultAccount, Region: "us-east-1"}, false, e.API.Commit, func(tx *core.Tx) error {
		tx.MarkRealised(core.SetOf(map[string]bool{id: true, id2: true}), core.SetOf(map[string]string{eniID: id2}))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	got := usageOf(t, e, t0, t0.Add(24*time.Hour))
	pa, a := aws.ToString(alloc.PublicIp), aws.ToString(alloc.AllocationId)
	for k, h := range map[string]float64{
		"USE1-PublicIPv4:InUseAddress " + auto + " " + aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId): 2,
		"USE1-PublicIPv4:IdleAddress " + pa + " " + a:                                                             1,
		"USE1-PublicIPv4:InUseAddress " + pa + " " + a:                                                            1,
	} {
		if got[k].Hours != h {
			t.Errorf("%s: %v h, want %v; got %+v", k, got[k].Hours, h, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d lines: %+v", len(got), got)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
