package console_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/chromedp/chromedp"
	"github.com/eni-net/eni/internal/console"
)

// billedSetup allocates an idle Elastic IP and launches an instance with an
// auto-assigned public IPv4 in a default subnet: two addresses costing
// money, one idle, one in use.
func billedSetup(t *testing.T, c *ec2.Client) (eip *ec2.AllocateAddressOutput, inst types.Instance) {
	t.Helper()
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil || len(sn.Subnets) == 0 {
		t.Fatalf("default subnets: %v %v", sn, err)
	}
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: types.InstanceTypeT3Small,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: sn.Subnets[0].SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	if out.Instances[0].PublicIpAddress == nil {
		t.Fatal("no auto-assigned public IPv4 in a default subnet")
	}
	return eip, out.Instances[0]
}

// The state carries the addresses costing money now, as core.BilledNow says.
func TestStateHasBilledAddresses(t *testing.T) {
	e := newEnv(t)
	eip, inst := billedSetup(t, e.ec2)
	_, body, _ := get(t, e.url+"/console/api/state?region=us-east-1")
	var st console.State
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range st.Billed {
		got[b.PublicIP] = b.UsageType + " " + b.InstanceID
	}
	want := map[string]string{
		aws.ToString(eip.PublicIp):         "USE1-PublicIPv4:IdleAddress ",
		aws.ToString(inst.PublicIpAddress): "USE1-PublicIPv4:InUseAddress " + aws.ToString(inst.InstanceId),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || st.BilledAt.IsZero() {
		t.Fatalf("billed %v at %v, want %v", got, st.BilledAt, want)
	}
}

// TestConsoleShowsCostingMoneyNow drives the page: the "Costing money now"
// panel lists the idle Elastic IP and the instance's address, and follows
// an association and a stop made through the API.
func TestConsoleShowsCostingMoneyNow(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t)
	eip, inst := billedSetup(t, e.ec2)
	ip, auto := aws.ToString(eip.PublicIp), aws.ToString(inst.PublicIpAddress)
	row := func(ip, class string) string { return fmt.Sprintf(`#billed tr.%s[data-billed-ip=%q]`, class, ip) }
	has := func(sel string) string { return fmt.Sprintf(`!!document.querySelector(%q)`, sel) }
	run(t, bctx, "open the console",
		chromedp.Navigate(e.url+"/#region=us-east-1"),
		chromedp.WaitVisible(chromedp.CSS(row(ip, "idle"))),
		chromedp.WaitVisible(chromedp.CSS(row(auto, "inuse"))),
	)
	text := value(t, bctx, "read the panel", chromedp.TextContent(chromedp.CSS(`#billing`)))
	for _, want := range []string{"Costing money now", "$0.010/h", ip, auto, "idle", "in use", "USE1-PublicIPv4:IdleAddress", "USE1-PublicIPv4:InUseAddress", aws.ToString(inst.InstanceId), "$0.0000"} {
		if !strings.Contains(text, want) {
			t.Errorf("the panel lacks %q:\n%s", want, text)
		}
	}

	// The Elastic IP on the instance: in use, and the auto-assigned address is gone (AWS releases it).
	if _, err := e.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: inst.InstanceId}); err != nil {
		t.Fatal(err)
	}
	run(t, bctx, "see the EIP in use", poll(has(row(ip, "inuse"))+" && !"+has(`[data-billed-ip="`+auto+`"]`), 10*time.Second))
	// Stopped: the Elastic IP is idle, on a stopped instance.
	if _, err := e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	run(t, bctx, "see the EIP idle", poll(has(row(ip, "idle")), 10*time.Second))
	saveScreenshot(t, value(t, bctx, "screenshot", chromedp.FullScreenshot(100)), "console-costing-money-now.png")
}
