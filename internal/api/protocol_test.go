package api_test

import (
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/ec2wire"
)

// post sends a raw form request and returns status and body.
func post(t *testing.T, e *apitest.Env, form string) (int, string) {
	t.Helper()
	resp, err := http.Post(e.Server.URL, "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProtocolErrors(t *testing.T) {
	e := apitest.New(t)
	cases := []struct {
		form   string
		status int
		code   string
	}{
		{"Version=2016-11-15", 400, "MissingParameter"},
		{"Action=FlyToTheMoon&Version=2016-11-15", 400, "InvalidAction"},
		{"Action=DescribeVpcs&Bogus=1", 400, "UnknownParameter"},
		{"Action=DescribeVpcs&MaxResults=abc", 400, "InvalidParameterValue"},
		{"Action=DescribeVpcs&MaxResults=2", 400, "InvalidParameterValue"},
		{"Action=DescribeVpcs&NextToken=%%%", 400, "InvalidParameterValue"},
		{"Action=DescribeVpcs&NextToken=!!", 400, "InvalidNextToken"},
		{"Action=DeleteVpc", 400, "MissingParameter"},
		{"Action=DeleteVpc&VpcId=vpc-12345678&DryRun=true", 400, "InvalidVpcID.NotFound"},
		{"Action=CreateVpc&CidrBlock=10.0.0.0/33", 400, "InvalidParameterValue"},
		{"Action=CreateVpc&CidrBlock=10.0.0.0/16&DryRun=true", 412, "DryRunOperation"},
		{"Action=DescribeVpcs&DryRun=true", 412, "DryRunOperation"},
	}
	for _, c := range cases {
		status, body := post(t, e, c.form)
		if status != c.status || !strings.Contains(body, "<Code>"+c.code+"</Code>") {
			t.Errorf("%s: got %d %s, want %d %s", c.form, status, body, c.status, c.code)
		}
		if !strings.Contains(body, "<RequestID>") {
			t.Errorf("%s: no RequestID in %s", c.form, body)
		}
	}
	// A dry run changes nothing.
	vpcs, err := e.Client().DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(vpcs.Vpcs) != 1 {
		t.Fatalf("after dry run: %v %v", vpcs, err)
	}
}

func TestOversizedBody(t *testing.T) {
	e := apitest.New(t)
	status, body := post(t, e, "Action=DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1="+strings.Repeat("a", 2<<20))
	if status != 413 || !strings.Contains(body, "RequestEntityTooLarge") {
		t.Fatalf("got %d %s", status, body)
	}
	// The server is still up.
	if _, err := e.Client().DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
}

func TestGETQueryAndRegionFromCredentialScope(t *testing.T) {
	e := apitest.New(t)
	q := url.Values{"Action": {"DescribeAvailabilityZones"}, "Version": {"2016-11-15"},
		"X-Amz-Credential": {"AKID/20260101/ap-southeast-2/ec2/aws4_request"}}
	resp, err := http.Get(e.Server.URL + "/?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<zoneName>ap-southeast-2a</zoneName>") || !strings.Contains(string(b), "<zoneId>apse2-az1</zoneId>") {
		t.Fatalf("got %d %s", resp.StatusCode, b)
	}
	// The SDK signs with its region: each region is its own world.
	a, err := e.Client("eu-central-1").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	bb, err := e.Client("us-west-2").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.Vpcs[0].VpcId) == aws.ToString(bb.Vpcs[0].VpcId) {
		t.Fatal("two regions share a default VPC")
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := apitest.New(t)
	if _, err := e.Client().DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/metrics": `eni_api_requests_total{action="DescribeRegions",code="OK"} 1`} {
		resp, err := http.Get(e.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, lacks %q", path, resp.StatusCode, want)
		}
	}
}

// Every error code the core can return is one a client knows: it has an
// HTTP status (400 unless listed) and the code looks like AWS's.
func TestErrorCodesWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range core.Codes {
		if c == "" || strings.ContainsAny(c, " \t") {
			t.Errorf("bad code %q", c)
		}
		seen[c] = true
	}
	// The constants and the list agree: every exported Code* constant is listed.
	v := reflect.ValueOf(core.Codes)
	if v.Len() < 60 {
		t.Errorf("only %d codes", v.Len())
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := vpc.Vpc.VpcId
	sn, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.1.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpcID, GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID}); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2), InstanceType: "t3.small", SubnetId: sn.Subnet.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sn.Subnet.SubnetId, Groups: []string{aws.ToString(sg.GroupId)}, SecondaryPrivateIpAddressCount: aws.Int32(2), ClientToken: aws.String("restart-1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId, InstanceId: run.Instances[0].InstanceId, DeviceIndex: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{aws.ToString(eni.NetworkInterface.NetworkInterfaceId)}, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("mgmt")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{aws.ToString(run.Instances[1].InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client("eu-west-1").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	before := e.Core.Dump()
	path := e.Path
	e.Close()
	e2 := apitest.New(t, apitest.Options{Path: path})
	after := e2.Core.Dump()
	if len(before) < 25 {
		t.Fatalf("only %d records", len(before))
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("record %s changed across restart:\n%s\n%s", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("record %s appeared across restart", k)
		}
	}
	if errs := e2.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	// The idempotency token, counters and indexes survived: a retry returns
	// the same ENI; new ones get new addresses and MACs.
	c2 := e2.Client()
	again, err := c2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sn.Subnet.SubnetId, Groups: []string{aws.ToString(sg.GroupId)}, SecondaryPrivateIpAddressCount: aws.Int32(2), ClientToken: aws.String("restart-1")})
	if err != nil || aws.ToString(again.NetworkInterface.NetworkInterfaceId) != aws.ToString(eni.NetworkInterface.NetworkInterfaceId) {
		t.Fatalf("retry after restart: %v %v", again, err)
	}
	fresh, err := c2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sn.Subnet.SubnetId, SecondaryPrivateIpAddressCount: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(fresh.NetworkInterface.MacAddress) == aws.ToString(eni.NetworkInterface.MacAddress) {
		t.Fatal("MAC handed out twice across a restart")
	}
	if errs := e2.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func TestRateLimitSheds(t *testing.T) {
	e := apitest.New(t, apitest.Options{RateLimit: 1, RateBurst: 3})
	codes := map[string]int{}
	for i := 0; i < 10; i++ {
		status, body := post(t, e, "Action=DescribeRegions")
		switch {
		case status == 200:
			codes["ok"]++
		case status == 503 && strings.Contains(body, "<Code>RequestLimitExceeded</Code>"):
			codes["shed"]++
		default:
			t.Fatalf("got %d %s", status, body)
		}
	}
	if codes["ok"] < 3 || codes["shed"] == 0 {
		t.Fatalf("results %v: want the burst through and the rest shed", codes)
	}
}

// Every operation whose types are generated is served, and the coverage of
// the whole EC2 model is visible in the test log.
func TestOperationsImplemented(t *testing.T) {
	e := apitest.New(t)
	have := map[string]bool{}
	for _, a := range e.API.Actions() {
		have[a] = true
	}
	for _, op := range ec2wire.Operations {
		if !have[op] {
			t.Errorf("operation %s has generated types but no handler", op)
		}
	}
	inModel := 0
	for _, op := range ec2wire.ModelOperations {
		if have[op] {
			inModel++
		}
	}
	t.Logf("%d of the model's %d EC2 operations implemented, and %d newer than the model", inModel, len(ec2wire.ModelOperations), len(have)-inModel)
}
