package console_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/chromedp/chromedp"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/console"
)

// chromium returns the browser to drive: $ENI_CHROMIUM, else chromium on
// PATH (Debian's package). Without one the test skips with a message, except
// under CI=true, where it fails (.ci/run installs chromium).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ENI_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "console browser test skipped: no chromium on PATH (apt-get install chromium, or set ENI_CHROMIUM)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; under CI=true it must run")
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless chromium with a fresh profile and returns a
// context that drives it.
func browser(t *testing.T) context.Context {
	t.Helper()
	// Chromium makes its singleton's socket directory in TMPDIR and leaves it there
	// when killed: in a directory of the test's, removed after the browser (best
	// effort: its helpers may outlive it). A short path: a socket's must fit in 107
	// bytes, which t.TempDir's (the test's name) could make it exceed.
	tmp, err := os.MkdirTemp("", "cr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR=" + tmp),
		chromedp.WindowSize(1440, 960),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first call starts the browser, which lives as long as that call's
	// context: bctx, not one with a timeout.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// run runs browser actions under a timeout.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs a browser action that returns a value, under a timeout.
func value[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// click clicks an element; a redraw between finding it and clicking it
// (the page redraws on every change) is tried again.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	var err error
	for range 5 {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = chromedp.Do(c, chromedp.Click(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return
		}
	}
	t.Fatalf("click %s: %v", sel, err)
}

// poll waits until a JavaScript expression is true.
func poll(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(timeout))
}

// mgmtNetwork is the seed's management-network case, made through the API.
type mgmtNetwork struct {
	vpc, subnet, igw, rtb, sg, a, b, eni, att, alloc, publicIP, mac string
	secondaries                                                     []string
}

func createMgmtNetwork(t *testing.T, c *ec2.Client) mgmtNetwork {
	t.Helper()
	var n mgmtNetwork
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	name := func(rt types.ResourceType, v string) []types.TagSpecification {
		return []types.TagSpecification{{ResourceType: rt, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(v)}}}}
	}
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), TagSpecifications: name(types.ResourceTypeVpc, "mgmt-vpc")})
	must(err)
	n.vpc = *vpc.Vpc.VpcId
	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(err)
	n.igw = *igw.InternetGateway.InternetGatewayId
	_, err = c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &n.igw, VpcId: &n.vpc})
	must(err)
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &n.vpc, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("us-east-1a"),
		TagSpecifications: name(types.ResourceTypeSubnet, "mgmt")})
	must(err)
	n.subnet = *sub.Subnet.SubnetId
	rtb, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &n.vpc})
	must(err)
	n.rtb = *rtb.RouteTable.RouteTableId
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &n.rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &n.igw})
	must(err)
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &n.rtb, SubnetId: &n.subnet})
	must(err)
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &n.vpc, GroupName: aws.String("mgmt"), Description: aws.String("management")})
	must(err)
	n.sg = *sg.GroupId
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &n.sg, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/16"), Description: aws.String("ssh from the VPC")}},
	}}})
	must(err)
	launch := func(nm string) string {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: types.InstanceTypeT3Small,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &n.subnet, TagSpecifications: name(types.ResourceTypeInstance, nm)})
		must(err)
		return *out.Instances[0].InstanceId
	}
	n.a, n.b = launch("mgmt-a"), launch("mgmt-b")
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &n.subnet, Groups: []string{n.sg},
		SecondaryPrivateIpAddressCount: aws.Int32(2), Description: aws.String("floating mgmt")})
	must(err)
	n.eni, n.mac = *eni.NetworkInterface.NetworkInterfaceId, *eni.NetworkInterface.MacAddress
	for _, p := range eni.NetworkInterface.PrivateIpAddresses {
		if !aws.ToBool(p.Primary) {
			n.secondaries = append(n.secondaries, *p.PrivateIpAddress)
		}
	}
	if len(n.secondaries) != 2 {
		t.Fatalf("ENI has secondaries %v, want 2", n.secondaries)
	}
	att, err := c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: &n.eni, InstanceId: &n.a, DeviceIndex: aws.Int32(1)})
	must(err)
	n.att = *att.AttachmentId
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	must(err)
	n.alloc, n.publicIP = *eip.AllocationId, *eip.PublicIp
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: &n.alloc, NetworkInterfaceId: &n.eni})
	must(err)
	return n
}

// saveScreenshot leaves a PNG for a person to look at in
// $ENI_SCREENSHOT_DIR, else testdata/out (ignored by git).
func saveScreenshot(t *testing.T, png []byte, name string) {
	t.Helper()
	d := os.Getenv("ENI_SCREENSHOT_DIR")
	if d == "" {
		d = filepath.Join("testdata", "out")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}

// TestConsoleDrawsTheManagementNetwork drives the console in headless
// chromium: it shows what the API created, a move through the API moves the
// ENI in the picture within a second, and clicking an ENI and a security
// group shows their attributes and rules.
func TestConsoleDrawsTheManagementNetwork(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t)
	n := createMgmtNetwork(t, e.ec2)

	eniIn := func(inst string) string {
		return fmt.Sprintf(`[data-instance=%q] [data-eni=%q]`, inst, n.eni)
	}
	run(t, bctx, "open the console",
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(eniIn(n.a))),
		chromedp.WaitVisible(chromedp.CSS(`#live.on`)),
	)
	text := value(t, bctx, "read the diagram", chromedp.Text(chromedp.CSS(`#canvas`)))
	for _, want := range append([]string{n.vpc, "mgmt-vpc", n.subnet, "10.0.1.0/24", n.igw, n.rtb, "mgmt-a", "mgmt-b", n.a, n.b,
		n.eni, n.mac, "eth1", "floating mgmt", n.publicIP, "src/dst check on", "us-east-1a", "0.0.0.0/0"}, n.secondaries...) {
		if !strings.Contains(text, want) {
			t.Errorf("the diagram lacks %q", want)
		}
	}
	wires := value(t, bctx, "count the Elastic IP's wire", chromedp.Evaluate[int](`document.querySelectorAll('#wires path.wire.eip').length`))
	if wires != 1 {
		t.Errorf("%d Elastic IP wires drawn, want 1", wires)
	}

	// Move the ENI from A to B through the API; the picture follows.
	if _, err := e.ec2.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: &n.att}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: &n.eni, InstanceId: &n.b, DeviceIndex: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	moved := time.Now()
	run(t, bctx, "see the ENI in B", poll(fmt.Sprintf(`!!document.querySelector(%q) && !document.querySelector(%q)`, eniIn(n.b), eniIn(n.a)), 10*time.Second))
	took := time.Since(moved)
	t.Logf("the ENI was drawn in B %v after the attach returned", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("the picture changed %v after the move, want within a second", took)
	}
	flying := value(t, bctx, "see the highlight", chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).classList.contains('moved')`, eniIn(n.b))))
	saveScreenshot(t, value(t, bctx, "screenshot the move", chromedp.FullScreenshot(100)), "console-mgmt-move.png")
	run(t, bctx, "see the move logged", poll(`document.querySelector('#events').textContent.includes('moved')`, 5*time.Second))
	log := value(t, bctx, "read the log", chromedp.Text(chromedp.CSS(`#events`)))
	if !flying {
		t.Error("the moved ENI is not highlighted")
	}
	if want := n.eni + " moved mgmt-a (" + n.a + ") → mgmt-b (" + n.b + ") as eth1"; !strings.Contains(log, want) {
		t.Errorf("activity log %q lacks %q", log, want)
	}

	// Click the ENI: its attributes.
	click(t, bctx, eniIn(n.b))
	run(t, bctx, "see the ENI's details", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#detail[data-kind="eni"][data-id=%q]`, n.eni))))
	detail := value(t, bctx, "read the ENI's details", chromedp.TextContent(chromedp.CSS(`#detail`)))
	for _, want := range append([]string{n.eni, "floating mgmt", n.mac, n.b, "eth1", n.subnet, n.vpc, "mgmt", n.sg, n.publicIP, n.alloc, "in-use", "Source/dest. check", "All attributes",
		"Attachment.AttachmentId", "PrivateIpAddresses[2].PrivateIpAddress", "Groups[0].GroupName", "MacAddress"}, n.secondaries...) {
		if !strings.Contains(detail, want) {
			t.Errorf("the ENI's details lack %q", want)
		}
	}
	// Leave the move's highlight out of the picture, then take it.
	run(t, bctx, "let the highlight fade", poll(`!document.querySelector('.eni.moved')`, 10*time.Second))
	time.Sleep(500 * time.Millisecond) // and its transition
	saveScreenshot(t, value(t, bctx, "screenshot", chromedp.FullScreenshot(100)), "console-mgmt-network.png")

	// Click the security group: its rules.
	click(t, bctx, fmt.Sprintf(`.sgs [data-sg=%q]`, n.sg))
	run(t, bctx, "see the group's details", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#detail[data-kind="sg"][data-id=%q]`, n.sg))))
	detail = value(t, bctx, "read the group's details", chromedp.TextContent(chromedp.CSS(`#detail`)))
	for _, want := range []string{"mgmt", n.sg, "management", "Inbound rules (1)", "tcp", "22", "10.0.0.0/16", "ssh from the VPC", "sgr-", "Outbound rules (1)", "0.0.0.0/0", n.eni} {
		if !strings.Contains(detail, want) {
			t.Errorf("the group's details lack %q", want)
		}
	}
}

// twoAccounts authenticates requests by their access key, unverified: alice
// is 111111111111, anyone else 222222222222 (enough to have two accounts).
func twoAccounts(r *http.Request, _ []byte) (string, error) {
	if strings.Contains(r.Header.Get("Authorization"), "Credential=alice/") {
		return "111111111111", nil
	}
	return "222222222222", nil
}

// TestConsoleDrawsEveryKind draws what the management network lacks: two
// zones, a private subnet, a stopped instance, an ENI attached to nothing,
// an Elastic IP associated with nothing, an auto-assigned public address,
// IPv6; and another account's network only when that account is chosen.
func TestConsoleDrawsEveryKind(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, console.Options{}, apitest.Options{Authenticate: twoAccounts})
	alice := apitest.NewClient(e.url, "us-east-1", "alice", "x")
	bob := apitest.NewClient(e.url, "us-east-1", "bob", "x")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tags := func(rt types.ResourceType, name string) []types.TagSpecification {
		return []types.TagSpecification{{ResourceType: rt, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}}
	}
	vpc, err := alice.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true), TagSpecifications: tags(types.ResourceTypeVpc, "lab")})
	must(err)
	vpcID := *vpc.Vpc.VpcId
	igw, err := alice.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(err)
	_, err = alice.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: &vpcID})
	must(err)
	subnet := func(cidr, az, name string) string {
		out, err := alice.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az), TagSpecifications: tags(types.ResourceTypeSubnet, name)})
		must(err)
		return *out.Subnet.SubnetId
	}
	public, private := subnet("10.1.0.0/24", "us-east-1a", "public-a"), subnet("10.1.1.0/24", "us-east-1b", "private-b")
	rtb, err := alice.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID})
	must(err)
	_, err = alice.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtb.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
	must(err)
	_, err = alice.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rtb.RouteTable.RouteTableId, SubnetId: &public})
	must(err)
	web, err := alice.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: &public, AssociatePublicIpAddress: aws.Bool(true)}},
		TagSpecifications: tags(types.ResourceTypeInstance, "web")})
	must(err)
	db, err := alice.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: types.InstanceTypeM5Large, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: &private, TagSpecifications: tags(types.ResourceTypeInstance, "db")})
	must(err)
	dbID := *db.Instances[0].InstanceId
	_, err = alice.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{dbID}})
	must(err)
	spare, err := alice.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &private, Description: aws.String("spare"), Ipv6AddressCount: aws.Int32(0)})
	must(err)
	_, err = alice.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: spare.NetworkInterface.NetworkInterfaceId, SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
	must(err)
	idle, err := alice.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	must(err)
	_, err = bob.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.2.0.0/16"), TagSpecifications: tags(types.ResourceTypeVpc, "bob-secret")})
	must(err)

	webENI := *web.Instances[0].NetworkInterfaces[0].NetworkInterfaceId
	run(t, bctx, "open the console",
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.tray [data-eni=%q]`, *spare.NetworkInterface.NetworkInterfaceId))),
		poll(fmt.Sprintf(`!!document.querySelector('.instance.stopped[data-instance=%q]')`, dbID), 10*time.Second),
	)
	text := value(t, bctx, "read the diagram", chromedp.Text(chromedp.CSS(`#canvas`)))
	for _, want := range []string{"111111111111", "lab", "public-a", "private-b", "us-east-1a", "us-east-1b", "web", "db", "stopped", "spare",
		"src/dst check off", "Not on an instance (1)", *idle.PublicIp, "→ nothing", "not associated", "m5.large"} {
		if !strings.Contains(text, want) {
			t.Errorf("the diagram lacks %q", want)
		}
	}
	if strings.Contains(text, "bob-secret") {
		t.Error("alice's picture shows bob's VPC")
	}
	classes := map[string]string{
		fmt.Sprintf(`[data-subnet=%q]`, public):                         "subnet public",
		fmt.Sprintf(`[data-subnet=%q]`, private):                        "subnet private",
		fmt.Sprintf(`[data-eni=%q] .pub`, webENI):                       "pub", // the auto-assigned public IPv4
		fmt.Sprintf(`[data-vpc=%q]`, *vpc.Vpc.VpcId):                    "vpc",
		`.igw[data-igw-vpc]`:                                            "igw",
		fmt.Sprintf(`[data-instance=%q]`, *web.Instances[0].InstanceId): "instance running",
	}
	for sel, want := range classes {
		got := value(t, bctx, "class of "+sel, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).className || ''`, sel)))
		if got != want {
			t.Errorf("%s: class %q, want %q", sel, got, want)
		}
	}
	if n := value(t, bctx, "count public subnet wires", chromedp.Evaluate[int](`document.querySelectorAll('#wires path.wire.igw').length`)); n != 1 {
		t.Errorf("%d gateway wires, want 1 (one public subnet)", n)
	}
	saveScreenshot(t, value(t, bctx, "screenshot", chromedp.FullScreenshot(100)), "console-every-kind.png")

	// One VPC, when it is chosen: the page asks the server for it alone.
	run(t, bctx, "choose the lab VPC", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector('#vpc'); s.value = %q; s.dispatchEvent(new Event('change')); })()`, vpcID)),
		poll(`document.querySelectorAll('.vpc').length === 1 && location.hash.includes('vpc=')`, 10*time.Second))

	// Bob's network, when bob's account is chosen.
	run(t, bctx, "choose bob", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#account'); s.value = '222222222222'; s.dispatchEvent(new Event('change')); })()`),
		poll(`document.querySelector('#canvas').textContent.includes('bob-secret')`, 10*time.Second))
	text = value(t, bctx, "read bob's diagram", chromedp.Text(chromedp.CSS(`#canvas`)))
	if strings.Contains(text, "public-a") || !strings.Contains(text, "222222222222") {
		t.Errorf("bob's picture: %q", text)
	}
}

// TestConsoleWithToken: under a token the page says how to get in, and the
// login URL eni serve prints lets the page and its event stream in.
func TestConsoleWithToken(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, console.Options{Token: "t0ken", LoopbackOnly: true})
	vpc, err := e.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.3.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	run(t, bctx, "open the console without the token", chromedp.Navigate(e.url+"/"),
		poll(`!document.querySelector('#banner').hidden && document.querySelector('#banner').textContent.includes('/console/login?token=')`, 10*time.Second))
	run(t, bctx, "log in", chromedp.Navigate(e.url+"/console/login?token=t0ken"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-vpc=%q]`, *vpc.Vpc.VpcId))),
		chromedp.WaitVisible(chromedp.CSS(`#live.on`)),
		poll(`document.querySelector('#banner').hidden && !location.href.includes('token')`, 10*time.Second))
	// Live, through the cookie.
	sub, err := e.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.3.1.0/24"), AvailabilityZone: aws.String("us-east-1c")})
	if err != nil {
		t.Fatal(err)
	}
	run(t, bctx, "see the new subnet", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-subnet=%q]`, *sub.Subnet.SubnetId))))
}
