package api_test

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// The bad-input catalogue sends malformed and hostile requests as raw HTTP
// and checks that each gets the exact EC2 error code and status in the EC2
// error envelope, that the server keeps answering, and that none of them
// changes the model.

const (
	badAccountA = "123456789012" // the default account
	badAccountB = "210987654321" // access key "other"
)

// badAuth maps the access key "other" to a second account and every other
// request to the default account.
func badAuth(r *http.Request, _ []byte) (string, error) {
	a := r.Header.Get("Authorization")
	if i := strings.Index(a, "Credential="); i >= 0 && strings.HasPrefix(a[i+len("Credential="):], "other/") {
		return badAccountB, nil
	}
	return badAccountA, nil
}

// badEnv is the server and the resources the catalogue refers to.
type badEnv struct {
	e                            *apitest.Env
	a, b                         *ec2.Client
	vpcA, subA, sgA, eniA, eniP  string
	instA, primaryA, attachA     string
	allocA, assocA, igwA, rtbA   string
	rtbAssocA, permA, ruleA      string
	vpcB, subB, eniB, instB      string
	defaultSGA, defaultSubnetA1a string
	eniAPrimaryIP, subAZ, eniD   string
	publicA                      string
}

func badSetup(t *testing.T) *badEnv {
	t.Helper()
	e := apitest.New(t, apitest.Options{Authenticate: badAuth})
	x := &badEnv{e: e, a: e.Client(), b: apitest.NewClient(e.Server.URL, "us-east-1", "other", "secret")}
	ctx := apitest.Ctx()
	a, b := x.a, x.b
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	vpc, err := a.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	must(err)
	x.vpcA = *vpc.Vpc.VpcId
	sub, err := a.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("us-east-1b")})
	must(err)
	x.subA, x.subAZ = *sub.Subnet.SubnetId, *sub.Subnet.AvailabilityZone
	sg, err := a.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId, GroupName: aws.String("web"), Description: aws.String("web servers")})
	must(err)
	x.sgA = *sg.GroupId
	rule, err := a.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}},
	}}})
	must(err)
	x.ruleA = *rule.SecurityGroupRules[0].SecurityGroupRuleId
	eni, err := a.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId, Description: aws.String("catalogue")})
	must(err)
	x.eniA, x.eniAPrimaryIP = *eni.NetworkInterface.NetworkInterfaceId, *eni.NetworkInterface.PrivateIpAddress
	eniP, err := a.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId})
	must(err)
	x.eniP = *eniP.NetworkInterface.NetworkInterfaceId
	perm, err := a.CreateNetworkInterfacePermission(ctx, &ec2.CreateNetworkInterfacePermissionInput{
		NetworkInterfaceId: aws.String(x.eniP), AwsAccountId: aws.String("111122223333"), Permission: types.InterfacePermissionTypeInstanceAttach,
	})
	must(err)
	x.permA = *perm.InterfacePermission.NetworkInterfacePermissionId

	subs, err := a.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		{Name: aws.String("default-for-az"), Values: []string{"true"}}, {Name: aws.String("availability-zone"), Values: []string{"us-east-1a"}},
	}})
	must(err)
	if len(subs.Subnets) != 1 {
		t.Fatalf("default subnets in us-east-1a: %d", len(subs.Subnets))
	}
	x.defaultSubnetA1a = *subs.Subnets[0].SubnetId
	groups, err := a.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("group-name"), Values: []string{"default"}}, {Name: aws.String("vpc-id"), Values: []string{*subs.Subnets[0].VpcId}},
	}})
	must(err)
	x.defaultSGA = *groups.SecurityGroups[0].GroupId
	eniD, err := a.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.defaultSubnetA1a)})
	must(err)
	x.eniD = *eniD.NetworkInterface.NetworkInterfaceId
	run, err := a.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(x.defaultSubnetA1a)})
	must(err)
	inst := run.Instances[0]
	x.instA = *inst.InstanceId
	x.primaryA = *inst.NetworkInterfaces[0].NetworkInterfaceId
	x.attachA = *inst.NetworkInterfaces[0].Attachment.AttachmentId
	alloc, err := a.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	must(err)
	x.allocA, x.publicA = *alloc.AllocationId, *alloc.PublicIp
	assoc, err := a.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: inst.InstanceId})
	must(err)
	x.assocA = *assoc.AssociationId
	igw, err := a.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(err)
	x.igwA = *igw.InternetGateway.InternetGatewayId
	rtb, err := a.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpc.Vpc.VpcId})
	must(err)
	x.rtbA = *rtb.RouteTable.RouteTableId
	ra, err := a.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rtb.RouteTable.RouteTableId, SubnetId: sub.Subnet.SubnetId})
	must(err)
	x.rtbAssocA = *ra.AssociationId

	// The second account: its own VPC, subnet, ENI and instance.
	vpcB, err := b.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	must(err)
	x.vpcB = *vpcB.Vpc.VpcId
	subB, err := b.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcB.Vpc.VpcId, CidrBlock: aws.String("10.9.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	must(err)
	x.subB = *subB.Subnet.SubnetId
	eniB, err := b.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: subB.Subnet.SubnetId})
	must(err)
	x.eniB = *eniB.NetworkInterface.NetworkInterfaceId
	runB, err := b.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: subB.Subnet.SubnetId})
	must(err)
	x.instB = *runB.Instances[0].InstanceId
	return x
}

// badCase is one hostile request.
type badCase struct {
	name   string
	method string // "" = POST with form as the body; GET puts form in the query
	form   string // raw, already encoded
	as     string // "" = account A, "other" = account B
	region string // credential scope region, "" = none
	status int
	code   string
}

// badForm encodes name/value pairs, keeping their order.
func badForm(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

// badList returns Name.1=v1&Name.2=v2... for n values made by f.
func badList(name string, n int, f func(i int) string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "&%s.%d=%s", name, i, url.QueryEscape(f(i)))
	}
	return b.String()
}

type badEnvelope struct {
	XMLName xml.Name
	Errors  []struct {
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
	} `xml:"Errors"`
	RequestID string `xml:"RequestID"`
}

// badDo sends one case and returns its status, reply and the request id header.
func badDo(url0 string, c badCase) (int, string, string, error) {
	var req *http.Request
	var err error
	if c.method == http.MethodGet {
		req, err = http.NewRequest(http.MethodGet, url0+"/?"+c.form, nil)
	} else {
		m := c.method
		if m == "" {
			m = http.MethodPost
		}
		req, err = http.NewRequest(m, url0+"/", strings.NewReader(c.form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	if err != nil {
		return 0, "", "", err
	}
	if c.as != "" || c.region != "" {
		key, region := c.as, c.region
		if key == "" {
			key = "test"
		}
		if region == "" {
			region = "us-east-1"
		}
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20260101/"+region+"/ec2/aws4_request, SignedHeaders=host, Signature=00")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header.Get("x-amzn-RequestId"), err
}

func (x *badEnv) cases() []badCase {
	const v = "&Version=2016-11-15"
	long := func(n int) string { return strings.Repeat("x", n) }
	var cs []badCase
	add := func(name, form string, status int, code string) {
		cs = append(cs, badCase{name: name, form: form, status: status, code: code})
	}
	addAs := func(name, as, form string, status int, code string) {
		cs = append(cs, badCase{name: name, as: as, form: form, status: status, code: code})
	}
	addGet := func(name, form string, status int, code string) {
		cs = append(cs, badCase{name: name, method: http.MethodGet, form: form, status: status, code: code})
	}

	// Protocol.
	add("missing Action", "Version=2016-11-15", 400, "MissingParameter")
	add("empty Action", "Action="+v, 400, "MissingParameter")
	add("empty body", "", 400, "MissingParameter")
	add("unknown Action", "Action=LaunchRockets"+v, 400, "InvalidAction")
	add("lower-case Action", "Action=describevpcs"+v, 400, "InvalidAction")
	add("Action with NUL", "Action=DescribeVpcs%00"+v, 400, "InvalidAction")
	add("duplicate Action", "Action=DescribeVpcs&Action=DeleteVpc&VpcId="+x.vpcA+v, 400, "InvalidParameterValue")
	add("future Version", "Action=DescribeVpcs&Version=2099-01-01", 400, "NoSuchVersion")
	add("garbage Version", "Action=DescribeVpcs&Version=latest", 400, "NoSuchVersion")
	add("duplicate Version", "Action=DescribeVpcs&Version=2016-11-15&Version=2016-11-15", 400, "InvalidParameterValue")
	add("unknown parameter", "Action=DescribeVpcs&Bogus=1"+v, 400, "UnknownParameter")
	add("unknown nested parameter", "Action=DescribeVpcs&Filter.1.Bogus=x"+v, 400, "UnknownParameter")
	add("parameter with empty name", "Action=DescribeVpcs&=x"+v, 400, "UnknownParameter")
	add("parameter name invalid UTF-8", "Action=DescribeVpcs&%FF%FE=1"+v, 400, "UnknownParameter")
	add("scalar with a path", "Action=DeleteVpc&VpcId.Foo=vpc-12345678"+v, 400, "UnknownParameter")
	add("duplicate parameter", "Action=DeleteVpc&VpcId=vpc-12345678&VpcId=vpc-87654321"+v, 400, "InvalidParameterValue")
	add("duplicate list member", "Action=DescribeVpcs&VpcId.1=vpc-12345678&VpcId.1=vpc-87654321"+v, 400, "InvalidParameterValue")
	add("bad percent encoding", "Action=DescribeVpcs&VpcId.1=%zz"+v, 400, "InvalidParameterValue")
	add("list index 0", "Action=DescribeVpcs&VpcId.0="+x.vpcA+v, 400, "UnknownParameter")
	add("list index -1", "Action=DescribeVpcs&VpcId.-1="+x.vpcA+v, 400, "UnknownParameter")
	add("list index huge", "Action=DescribeVpcs&VpcId.99999999999999999999="+x.vpcA+v, 400, "UnknownParameter")
	add("list index over limit", "Action=DescribeVpcs&VpcId.1001="+x.vpcA+v, 400, "InvalidParameterValue")
	add("list index non-numeric", "Action=DescribeVpcs&VpcId.one="+x.vpcA+v, 400, "UnknownParameter")
	add("list index with sign", "Action=DescribeVpcs&VpcId.+1="+x.vpcA+v, 400, "UnknownParameter")
	add("list without index", "Action=DescribeVpcs&VpcId="+x.vpcA+v, 400, "InvalidParameterValue")
	add("sparse list leaves empty ids", "Action=DescribeVpcs&VpcId.3="+x.vpcA+v, 400, "InvalidVpcID.Malformed")
	add("5000 SecurityGroupId.N", "Action=CreateNetworkInterface&SubnetId="+x.subA+badList("SecurityGroupId", 5000, func(int) string { return x.sgA })+v, 400, "InvalidParameterValue")
	add("1000 distinct SecurityGroupId.N", "Action=CreateNetworkInterface&SubnetId="+x.subA+badList("SecurityGroupId", 1000, func(i int) string { return fmt.Sprintf("sg-%08x", i) })+v, 400, "SecurityGroupsPerInterfaceLimitExceeded")
	add("sparse nested lists", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+func() string {
		var b strings.Builder
		for i := 1; i <= 50; i++ {
			fmt.Fprintf(&b, "&IpPermissions.%d.IpRanges.1000.CidrIp=10.0.0.0/8", i)
		}
		return b.String()
	}()+v, 400, "InvalidParameterValue")
	add("1000 NetworkInterfaceId.N", "Action=DescribeNetworkInterfaces"+badList("NetworkInterfaceId", 1000, func(i int) string { return fmt.Sprintf("eni-%08x", i) })+v, 400, "InvalidNetworkInterfaceID.NotFound")
	add("PUT method", "Action=DescribeVpcs"+v, 400, "InvalidAction")
	cs[len(cs)-1].method = http.MethodPut
	add("DELETE method", "Action=DeleteVpc&VpcId="+x.vpcA+v, 400, "InvalidAction")
	cs[len(cs)-1].method = http.MethodDelete
	// A region AWS does not have creates nothing (issue 9): AWS's answer to a
	// credential scoped to a region that is not the endpoint's.
	cs = append(cs, badCase{name: "invalid region in credential scope", region: "mars-north-9x", form: "Action=DescribeVpcs" + v, status: 403, code: "SignatureDoesNotMatch"})
	cs = append(cs, badCase{name: "region with path characters", region: "..%2f..", form: "Action=DescribeVpcs" + v, status: 403, code: "SignatureDoesNotMatch"})
	cs = append(cs, badCase{name: "well-formed made-up region", region: "mars-north-9", form: "Action=CreateVpc&CidrBlock=10.0.0.0/16" + v, status: 403, code: "SignatureDoesNotMatch"})
	cs = append(cs, badCase{name: "3000-character region", region: "us-" + long(2994) + "-1", form: "Action=DescribeVpcs" + v, status: 403, code: "SignatureDoesNotMatch"})

	// Wrong types and out-of-range numbers.
	add("non-numeric MaxResults", "Action=DescribeVpcs&MaxResults=ten"+v, 400, "InvalidParameterValue")
	add("fractional MaxResults", "Action=DescribeVpcs&MaxResults=5.5"+v, 400, "InvalidParameterValue")
	add("hex MaxResults", "Action=DescribeVpcs&MaxResults=0x10"+v, 400, "InvalidParameterValue")
	add("empty MaxResults", "Action=DescribeVpcs&MaxResults="+v, 400, "InvalidParameterValue")
	add("huge MaxResults", "Action=DescribeVpcs&MaxResults=99999999999999999999"+v, 400, "InvalidParameterValue")
	add("MaxResults over int32", "Action=DescribeVpcs&MaxResults=2147483648"+v, 400, "InvalidParameterValue")
	add("negative MaxResults", "Action=DescribeVpcs&MaxResults=-5"+v, 400, "InvalidParameterValue")
	add("zero MaxResults", "Action=DescribeNetworkInterfaces&MaxResults=0"+v, 400, "InvalidParameterValue")
	add("MaxResults above range", "Action=DescribeSubnets&MaxResults=1001"+v, 400, "InvalidParameterValue")
	add("DryRun=yes", "Action=DescribeVpcs&DryRun=yes"+v, 400, "InvalidParameterValue")
	add("DryRun=1", "Action=DeleteVpc&VpcId="+x.vpcA+"&DryRun=1"+v, 400, "InvalidParameterValue")
	add("DryRun empty", "Action=DescribeVpcs&DryRun="+v, 400, "InvalidParameterValue")
	add("DryRun of a valid write", "Action=CreateVpc&CidrBlock=10.1.0.0/16&DryRun=true"+v, 412, "DryRunOperation")
	add("DryRun of a valid read", "Action=DescribeNetworkInterfaces&DryRun=TRUE"+v, 412, "DryRunOperation")
	add("DryRun of a failing write", "Action=DeleteVpc&VpcId=vpc-0123456789abcdef0&DryRun=true"+v, 400, "InvalidVpcID.NotFound")
	add("bad NextToken", "Action=DescribeVpcs&NextToken=!!"+v, 400, "InvalidNextToken")
	add("NextToken invalid UTF-8", "Action=DescribeNetworkInterfaces&NextToken=%FF"+v, 400, "InvalidParameterValue")
	add("negative secondary count", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&SecondaryPrivateIpAddressCount=-1"+v, 400, "InvalidParameterValue")
	add("non-numeric secondary count", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&SecondaryPrivateIpAddressCount=three"+v, 400, "InvalidParameterValue")
	add("huge secondary count", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&SecondaryPrivateIpAddressCount=2147483647"+v, 400, "PrivateIpAddressLimitExceeded")
	add("negative IPv6 count", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&Ipv6AddressCount=-2"+v, 400, "InvalidParameterValue")
	add("huge IPv6 count", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&Ipv6AddressCount=2147483647"+v, 400, "PrivateIpAddressLimitExceeded")
	add("assign count 0", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&SecondaryPrivateIpAddressCount=0"+v, 400, "InvalidParameterValue")
	add("prefix garbage", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&Ipv4Prefix.1=ten/28"+v, 400, "InvalidParameterValue")
	add("prefix IPv6 as IPv4", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&Ipv4Prefix.1=2600::/28"+v, 400, "InvalidParameterValue")
	add("prefix count 0", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&Ipv4PrefixCount=0"+v, 400, "InvalidParameterValue")
	add("prefix count huge", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&Ipv4PrefixCount=2147483647"+v, 400, "PrivateIpAddressLimitExceeded")
	add("prefix count not a number", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&Ipv4PrefixCount=many"+v, 400, "InvalidParameterValue")
	add("unassign prefix not held", "Action=UnassignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&Ipv4Prefix.1=10.0.1.16/28"+v, 400, "InvalidParameterValue")
	add("IPv6 prefix without a block", "Action=AssignIpv6Addresses&NetworkInterfaceId="+x.eniA+"&Ipv6PrefixCount=1"+v, 400, "InvalidParameterValue")
	add("IPv6 prefix garbage", "Action=UnassignIpv6Addresses&NetworkInterfaceId="+x.eniA+"&Ipv6Prefix.1=::/-1"+v, 400, "InvalidParameterValue")
	add("conntrack timeout negative", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+"&ConnectionTrackingSpecification.TcpEstablishedTimeout=-1"+v, 400, "InvalidParameterValue")
	add("conntrack timeout not a number", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&ConnectionTrackingSpecification.UdpTimeout=soon"+v, 400, "InvalidParameterValue")
	add("assign count negative", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&SecondaryPrivateIpAddressCount=-3"+v, 400, "InvalidParameterValue")
	add("assign count max int32", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&SecondaryPrivateIpAddressCount=2147483647"+v, 400, "PrivateIpAddressLimitExceeded")
	add("assign neither list nor count", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+v, 400, "MissingParameter")
	add("assign IPv6 count 0", "Action=AssignIpv6Addresses&NetworkInterfaceId="+x.eniA+"&Ipv6AddressCount=0"+v, 400, "InvalidParameterValue")
	add("assign IPv6 without IPv6 subnet", "Action=AssignIpv6Addresses&NetworkInterfaceId="+x.eniA+"&Ipv6AddressCount=1"+v, 400, "InvalidParameterValue")
	add("attach device index -1", "Action=AttachNetworkInterface&NetworkInterfaceId="+x.eniD+"&InstanceId="+x.instA+"&DeviceIndex=-1"+v, 400, "InvalidParameterValue")
	add("attach device index taken", "Action=AttachNetworkInterface&NetworkInterfaceId="+x.eniD+"&InstanceId="+x.instA+"&DeviceIndex=0"+v, 400, "InvalidParameterValue")
	add("attach card index -1", "Action=AttachNetworkInterface&NetworkInterfaceId="+x.eniD+"&InstanceId="+x.instA+"&DeviceIndex=1&NetworkCardIndex=-1"+v, 400, "InvalidParameterValue")
	add("attach card index 7", "Action=AttachNetworkInterface&NetworkInterfaceId="+x.eniD+"&InstanceId="+x.instA+"&DeviceIndex=1&NetworkCardIndex=7"+v, 400, "InvalidParameterValue")
	add("attach device index non-numeric", "Action=AttachNetworkInterface&NetworkInterfaceId="+x.eniA+"&InstanceId="+x.instA+"&DeviceIndex=one"+v, 400, "InvalidParameterValue")
	add("attach device index missing", "Action=AttachNetworkInterface&NetworkInterfaceId="+x.eniA+"&InstanceId="+x.instA+v, 400, "MissingParameter")
	add("attach across AZs", "Action=AttachNetworkInterface&NetworkInterfaceId="+x.eniA+"&InstanceId="+x.instA+"&DeviceIndex=1"+v, 400, "InvalidParameterValue")
	add("attach attached primary", "Action=AttachNetworkInterface&NetworkInterfaceId="+x.primaryA+"&InstanceId="+x.instA+"&DeviceIndex=1"+v, 400, "InvalidNetworkInterface.InUse")
	add("RunInstances MinCount 0", "Action=RunInstances&ImageId="+testAMI+"&MinCount=0&MaxCount=1"+v, 400, "InvalidParameterValue")
	add("RunInstances MinCount -1", "Action=RunInstances&ImageId="+testAMI+"&MinCount=-1&MaxCount=1"+v, 400, "InvalidParameterValue")
	add("RunInstances MaxCount < MinCount", "Action=RunInstances&ImageId="+testAMI+"&MinCount=3&MaxCount=2"+v, 400, "InvalidParameterValue")
	add("RunInstances MinCount huge", "Action=RunInstances&ImageId="+testAMI+"&MinCount=2147483647&MaxCount=2147483647"+v, 400, "InvalidParameterValue")
	add("RunInstances MinCount missing", "Action=RunInstances&ImageId="+testAMI+"&MaxCount=1"+v, 400, "MissingParameter")
	add("RunInstances ImageId missing", "Action=RunInstances&MinCount=1&MaxCount=1"+v, 400, "MissingParameter")
	add("RunInstances unknown type", "Action=RunInstances&ImageId="+testAMI+"&MinCount=1&MaxCount=1&InstanceType=t9.enormous"+v, 400, "InvalidParameterValue")
	add("RunInstances subnet of other account", "Action=RunInstances&ImageId="+testAMI+"&MinCount=1&MaxCount=1&SubnetId="+x.subB+v, 400, "InvalidSubnetID.NotFound")
	add("RunInstances private IP outside subnet", "Action=RunInstances&ImageId="+testAMI+"&MinCount=1&MaxCount=1&SubnetId="+x.subA+"&PrivateIpAddress=10.0.2.10"+v, 400, "InvalidParameterValue")
	add("ModifyInstanceAttribute bad boolean", "Action=ModifyInstanceAttribute&InstanceId="+x.instA+"&DisableApiTermination.Value=maybe"+v, 400, "InvalidParameterValue")

	// Filters.
	for _, action := range []string{"DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeNetworkInterfaces",
		"DescribeInstances", "DescribeAddresses", "DescribeInternetGateways", "DescribeRouteTables", "DescribeTags", "DescribeSecurityGroupRules"} {
		name := "vpc-id"
		switch action {
		case "DescribeAddresses":
			name = "allocation-id"
		case "DescribeTags":
			name = "key"
		case "DescribeInternetGateways":
			name = "internet-gateway-id"
		case "DescribeSecurityGroupRules":
			name = "group-id"
		}
		add(action+" 300-char filter value", "Action="+action+"&Filter.1.Name="+name+"&Filter.1.Value.1="+long(300)+v, 400, "FilterLimitExceeded")
	}
	add("201 filter values", "Action=DescribeNetworkInterfaces&Filter.1.Name=subnet-id"+badList("Filter.1.Value", 201, func(i int) string { return fmt.Sprintf("subnet-%08x", i) })+v, 400, "FilterLimitExceeded")
	add("201 filter values over two filters", "Action=DescribeNetworkInterfaces&Filter.1.Name=subnet-id"+badList("Filter.1.Value", 150, func(i int) string { return fmt.Sprintf("subnet-%08x", i) })+
		"&Filter.2.Name=description"+badList("Filter.2.Value", 51, func(i int) string { return fmt.Sprint("*", i, "*") })+v, 400, "FilterLimitExceeded")
	add("many costly wildcard filters", "Action=DescribeNetworkInterfaces"+func() string {
		var b strings.Builder
		for f := 1; f <= 30; f++ {
			fmt.Fprintf(&b, "&Filter.%d.Name=description", f)
			for i := 1; i <= 100; i++ {
				fmt.Fprintf(&b, "&Filter.%d.Value.%d=*%sb", f, i, strings.Repeat("a", 127))
			}
		}
		return b.String()
	}()+v, 400, "FilterLimitExceeded")
	add("unknown filter", "Action=DescribeNetworkInterfaces&Filter.1.Name=colour&Filter.1.Value.1=red"+v, 400, "InvalidParameterValue")
	add("filter without name", "Action=DescribeNetworkInterfaces&Filter.1.Value.1=x"+v, 400, "InvalidParameterValue")
	add("filter value invalid UTF-8", "Action=DescribeNetworkInterfaces&Filter.1.Name=description&Filter.1.Value.1=%C3%28"+v, 400, "InvalidParameterValue")
	add("filter value NUL", "Action=DescribeNetworkInterfaces&Filter.1.Name=description&Filter.1.Value.1=a%00b"+v, 400, "InvalidParameterValue")
	add("ids with MaxResults", "Action=DescribeNetworkInterfaces&NetworkInterfaceId.1="+x.eniA+"&MaxResults=5"+v, 400, "InvalidParameterCombination")

	// Overlong values, invalid characters.
	add("10 KB ENI description", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&Description="+long(10<<10)+v, 400, "InvalidParameterValue")
	add("10 KB modified description", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+"&Description.Value="+long(10<<10)+v, 400, "InvalidParameterValue")
	add("empty group description", "Action=CreateSecurityGroup&VpcId="+x.vpcA+"&GroupName=nodesc&GroupDescription="+v, 400, "MissingParameter")
	add("no group description", "Action=CreateSecurityGroup&VpcId="+x.vpcA+"&GroupName=nodesc"+v, 400, "MissingParameter")
	add("10 KB group description", "Action=CreateSecurityGroup&VpcId="+x.vpcA+"&GroupName=big&GroupDescription="+long(10<<10)+v, 400, "InvalidParameterValue")
	add("256-char group name", "Action=CreateSecurityGroup&VpcId="+x.vpcA+"&GroupName="+long(256)+"&GroupDescription=d"+v, 400, "InvalidParameterValue")
	add("10 KB rule description", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8&IpPermissions.1.IpRanges.1.Description="+long(10<<10)+v, 400, "InvalidParameterValue")
	add("65-char client token", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&ClientToken="+long(65)+v, 400, "InvalidParameterValue")
	add("description invalid UTF-8", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&Description=%FF%FEbad"+v, 400, "InvalidParameterValue")
	add("description NUL", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&Description=a%00b"+v, 400, "InvalidParameterValue")
	add("description control character", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+"&Description.Value=bell%07"+v, 400, "InvalidParameterValue")
	add("tag value invalid UTF-8", "Action=CreateTags&ResourceId.1="+x.eniA+"&Tag.1.Key=k&Tag.1.Value=%C3%28"+v, 400, "InvalidParameterValue")
	add("tag key NUL", "Action=CreateTags&ResourceId.1="+x.eniA+"&Tag.1.Key=k%00&Tag.1.Value=v"+v, 400, "InvalidParameterValue")
	add("group name NUL", "Action=CreateSecurityGroup&VpcId="+x.vpcA+"&GroupName=a%00b&GroupDescription=d"+v, 400, "InvalidParameterValue")
	add("id with NUL", "Action=DeleteNetworkInterface&NetworkInterfaceId="+x.eniA+"%00"+v, 400, "InvalidParameterValue")
	add("UTF-16 surrogate encoded as UTF-8", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&Description=%ED%A0%80"+v, 400, "InvalidParameterValue")

	// Tags.
	add("129-char tag key", "Action=CreateTags&ResourceId.1="+x.eniA+"&Tag.1.Key="+long(129)+"&Tag.1.Value=v"+v, 400, "InvalidTagKey.Malformed")
	add("aws: tag key", "Action=CreateTags&ResourceId.1="+x.eniA+"&Tag.1.Key=aws:owner&Tag.1.Value=v"+v, 400, "InvalidTagKey.Malformed")
	add("AWS: tag key", "Action=CreateTags&ResourceId.1="+x.eniA+"&Tag.1.Key=AWS:owner&Tag.1.Value=v"+v, 400, "InvalidTagKey.Malformed")
	add("empty tag key", "Action=CreateTags&ResourceId.1="+x.eniA+"&Tag.1.Key=&Tag.1.Value=v"+v, 400, "InvalidTagKey.Malformed")
	add("257-char tag value", "Action=CreateTags&ResourceId.1="+x.eniA+"&Tag.1.Key=k&Tag.1.Value="+long(257)+v, 400, "InvalidParameterValue")
	add("tag list given scalars", "Action=CreateTags&ResourceId.1="+x.eniA+badList("Tag", 3, func(i int) string { return "k" })+v, 400, "UnknownParameter")
	add("51 tag keys", "Action=CreateTags&ResourceId.1="+x.eniA+tagList(51)+v, 400, "TagLimitExceeded")
	add("tags on unknown id type", "Action=CreateTags&ResourceId.1=foo-12345678&Tag.1.Key=k&Tag.1.Value=v"+v, 400, "InvalidID")
	add("tags on missing ENI", "Action=CreateTags&ResourceId.1=eni-0123456789abcdef0&Tag.1.Key=k&Tag.1.Value=v"+v, 400, "InvalidNetworkInterfaceID.NotFound")
	add("tags on good and missing ids", "Action=CreateTags&ResourceId.1="+x.eniA+"&ResourceId.2=vpc-0123456789abcdef0&Tag.1.Key=k&Tag.1.Value=v"+v, 400, "InvalidVpcID.NotFound")
	add("tags without resource", "Action=CreateTags&Tag.1.Key=k&Tag.1.Value=v"+v, 400, "MissingParameter")
	add("tags without tags", "Action=CreateTags&ResourceId.1="+x.eniA+v, 400, "MissingParameter")
	add("aws: key in TagSpecification", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&TagSpecification.1.ResourceType=network-interface&TagSpecification.1.Tag.1.Key=aws:x&TagSpecification.1.Tag.1.Value=v"+v, 400, "InvalidTagKey.Malformed")
	add("TagSpecification for another type", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v"+v, 400, "InvalidParameterValue")
	add("DeleteTags aws: key", "Action=DeleteTags&ResourceId.1="+x.eniA+"&Tag.1.Key=aws:x"+v, 400, "InvalidTagKey.Malformed")

	// Ids of every resource type: malformed and well-formed but absent.
	type idCase struct {
		prefix, form, malformed, notFound string
	}
	for _, ic := range []idCase{
		{"vpc", "Action=DeleteVpc&VpcId=%s", "InvalidVpcID.Malformed", "InvalidVpcID.NotFound"},
		{"subnet", "Action=DeleteSubnet&SubnetId=%s", "InvalidSubnetID.Malformed", "InvalidSubnetID.NotFound"},
		{"sg", "Action=DeleteSecurityGroup&GroupId=%s", "InvalidGroupId.Malformed", "InvalidGroup.NotFound"},
		{"eni", "Action=DeleteNetworkInterface&NetworkInterfaceId=%s", "InvalidNetworkInterfaceId.Malformed", "InvalidNetworkInterfaceID.NotFound"},
		{"eni-attach", "Action=DetachNetworkInterface&AttachmentId=%s", "InvalidNetworkInterfaceAttachmentId.Malformed", "InvalidAttachmentID.NotFound"},
		{"i", "Action=TerminateInstances&InstanceId.1=%s", "InvalidInstanceID.Malformed", "InvalidInstanceID.NotFound"},
		{"eipalloc", "Action=ReleaseAddress&AllocationId=%s", "InvalidAllocationID.Malformed", "InvalidAllocationID.NotFound"},
		{"eipassoc", "Action=DisassociateAddress&AssociationId=%s", "InvalidAssociationID.Malformed", "InvalidAssociationID.NotFound"},
		{"igw", "Action=DeleteInternetGateway&InternetGatewayId=%s", "InvalidInternetGatewayId.Malformed", "InvalidInternetGatewayID.NotFound"},
		{"rtb", "Action=DeleteRouteTable&RouteTableId=%s", "InvalidRouteTableId.Malformed", "InvalidRouteTableID.NotFound"},
		{"rtbassoc", "Action=DisassociateRouteTable&AssociationId=%s", "InvalidAssociationID.Malformed", "InvalidAssociationID.NotFound"},
		{"eni-perm", "Action=DeleteNetworkInterfacePermission&NetworkInterfacePermissionId=%s", "InvalidNetworkInterfacePermissionId.Malformed", "InvalidNetworkInterfacePermissionID.NotFound"},
		{"sgr", "Action=RevokeSecurityGroupIngress&GroupId=" + x.sgA + "&SecurityGroupRuleId.1=%s", "InvalidSecurityGroupRuleId.Malformed", "InvalidSecurityGroupRuleId.NotFound"},
		{"ami", "Action=DescribeImages&ImageId.1=%s", "InvalidAMIID.Malformed", "InvalidAMIID.NotFound"},
	} {
		wrongPrefix := "foo-0123456789abcdef0"
		if ic.prefix == "vpc" {
			wrongPrefix = "subnet-0123456789abcdef0"
		}
		for _, bad := range []struct{ what, id string }{
			{"wrong prefix", wrongPrefix},
			{"wrong length", ic.prefix + "-0123456789"},
			{"upper-case hex", ic.prefix + "-0123456789ABCDEF0"},
			{"empty", ""},
		} {
			code := ic.malformed
			if ic.prefix == "sg" && bad.id == "" {
				code = "MissingParameter" // GroupName or GroupId: an empty id is none
			}
			add(ic.prefix+" id "+bad.what, fmt.Sprintf(ic.form, url.QueryEscape(bad.id))+v, 400, code)
		}
		add(ic.prefix+" id absent (17 hex)", fmt.Sprintf(ic.form, ic.prefix+"-0123456789abcdef0")+v, 400, ic.notFound)
		add(ic.prefix+" id absent (8 hex)", fmt.Sprintf(ic.form, ic.prefix+"-deadbeef")+v, 400, ic.notFound)
	}

	// Another account's ids are not found.
	b := "other"
	addAs("B describes A's VPC", b, "Action=DescribeVpcs&VpcId.1="+x.vpcA+v, 400, "InvalidVpcID.NotFound")
	addAs("B deletes A's VPC", b, "Action=DeleteVpc&VpcId="+x.vpcA+v, 400, "InvalidVpcID.NotFound")
	addAs("B creates a subnet in A's VPC", b, "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=10.0.9.0/24"+v, 400, "InvalidVpcID.NotFound")
	addAs("B deletes A's subnet", b, "Action=DeleteSubnet&SubnetId="+x.subA+v, 400, "InvalidSubnetID.NotFound")
	addAs("B creates an ENI in A's subnet", b, "Action=CreateNetworkInterface&SubnetId="+x.subA+v, 400, "InvalidSubnetID.NotFound")
	addAs("B deletes A's group", b, "Action=DeleteSecurityGroup&GroupId="+x.sgA+v, 400, "InvalidGroup.NotFound")
	addAs("B revokes A's rule", b, "Action=RevokeSecurityGroupIngress&GroupId="+x.sgA+"&SecurityGroupRuleId.1="+x.ruleA+v, 400, "InvalidGroup.NotFound")
	addAs("B uses A's group on its ENI", b, "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniB+"&SecurityGroupId.1="+x.sgA+v, 400, "InvalidGroup.NotFound")
	addAs("B describes A's ENI", b, "Action=DescribeNetworkInterfaces&NetworkInterfaceId.1="+x.eniA+v, 400, "InvalidNetworkInterfaceID.NotFound")
	addAs("B deletes A's ENI", b, "Action=DeleteNetworkInterface&NetworkInterfaceId="+x.eniA+v, 400, "InvalidNetworkInterfaceID.NotFound")
	addAs("B modifies A's ENI", b, "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+"&Description.Value=mine"+v, 400, "InvalidNetworkInterfaceID.NotFound")
	addAs("B assigns IPs to A's ENI", b, "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&SecondaryPrivateIpAddressCount=1"+v, 400, "InvalidNetworkInterfaceID.NotFound")
	addAs("B attaches A's ENI", b, "Action=AttachNetworkInterface&NetworkInterfaceId="+x.eniA+"&InstanceId="+x.instB+"&DeviceIndex=1"+v, 400, "InvalidNetworkInterfaceID.NotFound")
	addAs("B detaches A's attachment", b, "Action=DetachNetworkInterface&AttachmentId="+x.attachA+v, 400, "InvalidAttachmentID.NotFound")
	addAs("B tags A's ENI", b, "Action=CreateTags&ResourceId.1="+x.eniA+"&Tag.1.Key=k&Tag.1.Value=v"+v, 400, "InvalidNetworkInterfaceID.NotFound")
	addAs("B untags A's ENI", b, "Action=DeleteTags&ResourceId.1="+x.eniA+"&Tag.1.Key=k"+v, 400, "InvalidNetworkInterfaceID.NotFound")
	addAs("B terminates A's instance", b, "Action=TerminateInstances&InstanceId.1="+x.instA+v, 400, "InvalidInstanceID.NotFound")
	addAs("B describes A's instance", b, "Action=DescribeInstances&InstanceId.1="+x.instA+v, 400, "InvalidInstanceID.NotFound")
	addAs("B releases A's address", b, "Action=ReleaseAddress&AllocationId="+x.allocA+v, 400, "InvalidAllocationID.NotFound")
	addAs("B associates A's address", b, "Action=AssociateAddress&AllocationId="+x.allocA+"&NetworkInterfaceId="+x.eniB+v, 400, "InvalidAllocationID.NotFound")
	addAs("B disassociates A's address", b, "Action=DisassociateAddress&AssociationId="+x.assocA+v, 400, "InvalidAssociationID.NotFound")
	addAs("B deletes A's gateway", b, "Action=DeleteInternetGateway&InternetGatewayId="+x.igwA+v, 400, "InvalidInternetGatewayID.NotFound")
	addAs("B attaches A's gateway", b, "Action=AttachInternetGateway&InternetGatewayId="+x.igwA+"&VpcId="+x.vpcB+v, 400, "InvalidInternetGatewayID.NotFound")
	addAs("B deletes A's route table", b, "Action=DeleteRouteTable&RouteTableId="+x.rtbA+v, 400, "InvalidRouteTableID.NotFound")
	addAs("B disassociates A's route table", b, "Action=DisassociateRouteTable&AssociationId="+x.rtbAssocA+v, 400, "InvalidAssociationID.NotFound")
	addAs("B deletes A's ENI permission", b, "Action=DeleteNetworkInterfacePermission&NetworkInterfacePermissionId="+x.permA+v, 400, "InvalidNetworkInterfacePermissionID.NotFound")
	addAs("B grants on A's ENI", b, "Action=CreateNetworkInterfacePermission&NetworkInterfaceId="+x.eniA+"&AwsAccountId=111122223333&Permission=INSTANCE-ATTACH"+v, 400, "InvalidNetworkInterfaceID.NotFound")
	add("A deletes B's ENI", "Action=DeleteNetworkInterface&NetworkInterfaceId="+x.eniB+v, 400, "InvalidNetworkInterfaceID.NotFound")
	add("A attaches its ENI to B's instance", "Action=AttachNetworkInterface&NetworkInterfaceId="+x.eniA+"&InstanceId="+x.instB+"&DeviceIndex=1"+v, 400, "InvalidInstanceID.NotFound")
	add("A deletes B's VPC", "Action=DeleteVpc&VpcId="+x.vpcB+v, 400, "InvalidVpcID.NotFound")

	// CIDRs.
	add("VPC /8", "Action=CreateVpc&CidrBlock=10.0.0.0/8"+v, 400, "InvalidVpc.Range")
	add("VPC /29", "Action=CreateVpc&CidrBlock=10.0.0.0/29"+v, 400, "InvalidVpc.Range")
	add("VPC /33", "Action=CreateVpc&CidrBlock=10.0.0.0/33"+v, 400, "InvalidParameterValue")
	add("VPC garbage CIDR", "Action=CreateVpc&CidrBlock=ten.zero/16"+v, 400, "InvalidParameterValue")
	add("VPC IPv6 as CidrBlock", "Action=CreateVpc&CidrBlock=2001:db8::/56"+v, 400, "InvalidParameterValue")
	add("VPC without CIDR", "Action=CreateVpc"+v, 400, "MissingParameter")
	add("VPC bad tenancy", "Action=CreateVpc&CidrBlock=10.2.0.0/16&InstanceTenancy=shared"+v, 400, "InvalidParameterValue")
	add("subnet /29", "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=10.0.2.0/29"+v, 400, "InvalidSubnet.Range")
	add("subnet /8", "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=10.0.0.0/8"+v, 400, "InvalidSubnet.Range")
	add("subnet outside VPC", "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=192.168.0.0/24"+v, 400, "InvalidSubnet.Range")
	add("subnet overlapping", "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=10.0.1.128/25"+v, 400, "InvalidSubnet.Conflict")
	add("subnet garbage CIDR", "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=10.0.300.0/24"+v, 400, "InvalidParameterValue")
	add("subnet IPv6 /63", "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=10.0.2.0/24&Ipv6CidrBlock=2600:1f00:0:100::/63"+v, 400, "InvalidSubnet.Range")
	add("subnet IPv6 garbage", "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=10.0.2.0/24&Ipv6CidrBlock=2600:zz::/64"+v, 400, "InvalidParameterValue")
	add("subnet without VpcId", "Action=CreateSubnet&CidrBlock=10.0.2.0/24"+v, 400, "MissingParameter")
	add("subnet unknown AZ", "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=10.0.2.0/24&AvailabilityZone=us-east-1z"+v, 400, "InvalidParameterValue")
	add("rule garbage CIDR", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/40"+v, 400, "InvalidParameterValue")
	add("rule port 70000", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=70000&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8"+v, 400, "InvalidPermission.Malformed")
	add("rule unknown protocol", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=carrier-pigeon&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8"+v, 400, "InvalidParameterValue")
	add("rule duplicate", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0"+v, 400, "InvalidPermission.Duplicate")

	// Addresses.
	add("ENI IP outside subnet", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress=10.0.2.10"+v, 400, "InvalidParameterValue")
	add("ENI IP network address", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress=10.0.1.0"+v, 400, "InvalidParameterValue")
	add("ENI IP router", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress=10.0.1.1"+v, 400, "InvalidParameterValue")
	add("ENI IP DNS", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress=10.0.1.2"+v, 400, "InvalidParameterValue")
	add("ENI IP reserved", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress=10.0.1.3"+v, 400, "InvalidParameterValue")
	add("ENI IP broadcast", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress=10.0.1.255"+v, 400, "InvalidParameterValue")
	add("ENI IP garbage", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress=10.0.1"+v, 400, "InvalidParameterValue")
	add("ENI IP is IPv6", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress=2001:db8::1"+v, 400, "InvalidParameterValue")
	add("ENI IP with zone", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress=fe80::1%25eth0"+v, 400, "InvalidParameterValue")
	add("ENI IP in use", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddress="+x.eniAPrimaryIP+v, 400, "InvalidIPAddress.InUse")
	add("ENI IPv6 garbage", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&Ipv6Addresses.1.Ipv6Address=nope"+v, 400, "InvalidParameterValue")
	add("ENI bad interface type", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&InterfaceType=quantum"+v, 400, "InvalidParameterValue")
	add("ENI list and count", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddresses.1.PrivateIpAddress=10.0.1.50&PrivateIpAddresses.2.PrivateIpAddress=10.0.1.51&SecondaryPrivateIpAddressCount=1"+v, 400, "InvalidParameterCombination")
	add("ENI two primaries", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddresses.1.PrivateIpAddress=10.0.1.50&PrivateIpAddresses.1.Primary=true&PrivateIpAddresses.2.PrivateIpAddress=10.0.1.51&PrivateIpAddresses.2.Primary=true"+v, 400, "InvalidParameterCombination")
	add("ENI duplicate address", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&PrivateIpAddresses.1.PrivateIpAddress=10.0.1.50&PrivateIpAddresses.2.PrivateIpAddress=10.0.1.50"+v, 400, "InvalidParameterValue")
	add("ENI group of another VPC", "Action=CreateNetworkInterface&SubnetId="+x.subA+"&SecurityGroupId.1="+x.defaultSGA+v, 400, "InvalidParameter")
	add("ENI without subnet", "Action=CreateNetworkInterface"+v, 400, "MissingParameter")
	add("assign IP outside subnet", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&PrivateIpAddress.1=192.168.1.1"+v, 400, "InvalidParameterValue")
	add("assign reserved IP", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&PrivateIpAddress.1=10.0.1.255"+v, 400, "InvalidParameterValue")
	add("assign list and count", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&PrivateIpAddress.1=10.0.1.60&SecondaryPrivateIpAddressCount=1"+v, 400, "InvalidParameterCombination")
	add("assign another ENI's primary", "Action=AssignPrivateIpAddresses&NetworkInterfaceId="+x.eniP+"&PrivateIpAddress.1="+x.eniAPrimaryIP+"&AllowReassignment=true"+v, 400, "InvalidIPAddress.InUse")
	add("unassign an address not held", "Action=UnassignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&PrivateIpAddress.1=10.0.1.99"+v, 400, "InvalidParameterValue")
	add("unassign the primary", "Action=UnassignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&PrivateIpAddress.1="+x.eniAPrimaryIP+v, 400, "InvalidParameterValue")
	add("unassign garbage", "Action=UnassignPrivateIpAddresses&NetworkInterfaceId="+x.eniA+"&PrivateIpAddress.1=::::"+v, 400, "InvalidParameterValue")

	// Other rules.
	add("modify nothing", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+v, 400, "MissingParameter")
	add("modify two attributes", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+"&Description.Value=d&SourceDestCheck.Value=false"+v, 400, "InvalidParameterCombination")
	add("modify SourceDestCheck=yes", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+"&SourceDestCheck.Value=yes"+v, 400, "InvalidParameterValue")
	add("modify six groups", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+badList("SecurityGroupId", 6, func(i int) string { return fmt.Sprintf("sg-%08x", i) })+v, 400, "SecurityGroupsPerInterfaceLimitExceeded")
	add("describe unknown attribute", "Action=DescribeNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+"&Attribute=colour"+v, 400, "InvalidParameterValue")
	add("delete attached ENI", "Action=DeleteNetworkInterface&NetworkInterfaceId="+x.primaryA+v, 400, "InvalidParameterValue")
	add("detach primary ENI", "Action=DetachNetworkInterface&AttachmentId="+x.attachA+v, 400, "OperationNotPermitted")
	add("permission bad kind", "Action=CreateNetworkInterfacePermission&NetworkInterfaceId="+x.eniA+"&AwsAccountId=111122223333&Permission=OWN"+v, 400, "InvalidParameterValue")
	add("permission bad account", "Action=CreateNetworkInterfacePermission&NetworkInterfaceId="+x.eniA+"&AwsAccountId=12345&Permission=INSTANCE-ATTACH"+v, 400, "InvalidParameterValue")
	add("allocate bad domain", "Action=AllocateAddress&Domain=classic"+v, 400, "InvalidParameterValue")
	add("allocate garbage address", "Action=AllocateAddress&Address=300.1.1.1"+v, 400, "InvalidParameterValue")
	add("associate nothing", "Action=AssociateAddress&AllocationId="+x.allocA+v, 400, "MissingParameter")
	add("associate foreign private IP", "Action=AssociateAddress&AllocationId="+x.allocA+"&NetworkInterfaceId="+x.eniA+"&PrivateIpAddress=10.0.1.99"+v, 400, "InvalidParameterValue")
	// (Releasing the associated address is no mistake here: it is in the
	// default VPC, where ReleaseAddress disassociates it; TestReleaseAddress
	// checks InvalidIPAddress.InUse elsewhere.)
	add("release an address outside the pool", "Action=ReleaseAddress&PublicIp=192.0.2.1"+v, 400, "InvalidAddress.NotFound")
	add("release garbage public IP", "Action=ReleaseAddress&PublicIp=not-an-ip"+v, 400, "InvalidAddress.NotFound")
	addAs("B releases A's public IP", "other", "Action=ReleaseAddress&PublicIp="+x.publicA+v, 401, "AuthFailure")
	add("disassociate both ids", "Action=DisassociateAddress&AssociationId="+x.assocA+"&PublicIp=198.51.100.1"+v, 400, "InvalidParameterCombination")
	add("group name default", "Action=CreateSecurityGroup&VpcId="+x.vpcA+"&GroupName=default&GroupDescription=d"+v, 400, "InvalidGroup.Reserved")
	add("group name taken", "Action=CreateSecurityGroup&VpcId="+x.vpcA+"&GroupName=web&GroupDescription=d"+v, 400, "InvalidGroup.Duplicate")
	add("group without description", "Action=CreateSecurityGroup&VpcId="+x.vpcA+"&GroupName=nodesc"+v, 400, "MissingParameter")
	add("delete default group", "Action=DeleteSecurityGroup&GroupId="+x.defaultSGA+v, 400, "CannotDelete")
	add("delete VPC with dependencies", "Action=DeleteVpc&VpcId="+x.vpcA+v, 400, "DependencyViolation")
	add("delete subnet with ENIs", "Action=DeleteSubnet&SubnetId="+x.subA+v, 400, "DependencyViolation")
	add("route to missing gateway", "Action=CreateRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=0.0.0.0/0&GatewayId=igw-0123456789abcdef0"+v, 400, "InvalidGatewayID.NotFound")
	add("route garbage destination", "Action=CreateRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=default&GatewayId="+x.igwA+v, 400, "InvalidParameterValue")
	add("delete missing route", "Action=DeleteRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=192.168.0.0/16"+v, 400, "InvalidRoute.NotFound")

	// More actions' rules.
	run := "Action=RunInstances&ImageId=" + testAMI + "&MinCount=1&MaxCount=1"
	add("run: interface without device index", run+"&NetworkInterface.1.SubnetId="+x.defaultSubnetA1a+v, 400, "MissingParameter")
	add("run: sparse interface list", run+"&NetworkInterface.5.DeviceIndex=0&NetworkInterface.5.SubnetId="+x.defaultSubnetA1a+v, 400, "MissingParameter")
	add("run: other account's ENI", run+"&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.NetworkInterfaceId="+x.eniB+v, 400, "InvalidNetworkInterfaceID.NotFound")
	add("run: attached ENI", run+"&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.NetworkInterfaceId="+x.primaryA+v, 400, "InvalidNetworkInterface.InUse")
	add("run: no device index 0", run+"&NetworkInterface.1.DeviceIndex=1&NetworkInterface.1.SubnetId="+x.defaultSubnetA1a+v, 400, "InvalidParameterValue")
	add("run: interfaces and SubnetId", run+"&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.SubnetId="+x.defaultSubnetA1a+"&SubnetId="+x.defaultSubnetA1a+v, 400, "InvalidParameterCombination")
	add("run: device index twice", run+"&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.SubnetId="+x.defaultSubnetA1a+"&NetworkInterface.2.DeviceIndex=0&NetworkInterface.2.SubnetId="+x.defaultSubnetA1a+v, 400, "InvalidParameterValue")
	add("run: subnet in another AZ than placement", run+"&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.SubnetId="+x.subA+"&Placement.AvailabilityZone=us-east-1a"+v, 400, "InvalidParameterValue")
	add("run: group of another VPC", run+"&SecurityGroupId.1="+x.sgA+v, 400, "InvalidParameter")
	add("run: unknown group name", run+"&SecurityGroup.1=nosuchgroup"+v, 400, "InvalidGroup.NotFound")
	add("run: tag spec without type", run+"&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v"+v, 400, "InvalidParameterValue")
	add("run: aws: tag key", run+"&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=aws:k"+v, 400, "InvalidTagKey.Malformed")
	add("run: reserved private IP", run+"&PrivateIpAddress=172.31.0.1&SubnetId="+x.defaultSubnetA1a+v, 400, "InvalidParameterValue")
	add("run: private IP for two instances", "Action=RunInstances&ImageId="+testAMI+"&MinCount=2&MaxCount=2&PrivateIpAddress=172.31.0.10&SubnetId="+x.defaultSubnetA1a+v, 400, "InvalidParameterCombination")
	add("run: bad shutdown behaviour", run+"&InstanceInitiatedShutdownBehavior=explode"+v, 400, "InvalidParameterValue")
	add("run: unknown AZ", run+"&Placement.AvailabilityZone=us-east-1q"+v, 400, "InvalidParameterValue")
	add("sparse resource ids", "Action=CreateTags&Tag.1.Key=k&Tag.1.Value=v&ResourceId.1000=eni-12345678"+v, 400, "InvalidID")
	add("tcp port -1", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=-1&IpPermissions.1.ToPort=-1&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8"+v, 400, "InvalidPermission.Malformed")
	add("icmp type 300", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=icmp&IpPermissions.1.FromPort=300&IpPermissions.1.ToPort=0&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8"+v, 400, "InvalidParameterValue")
	add("port range reversed", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=100&IpPermissions.1.ToPort=50&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8"+v, 400, "InvalidPermission.Malformed")
	add("IPv4 CIDR as IPv6 range", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=2&IpPermissions.1.Ipv6Ranges.1.CidrIpv6=10.0.0.0/8"+v, 400, "InvalidParameterValue")
	add("malformed prefix list", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=2&IpPermissions.1.PrefixListIds.1.PrefixListId=pl-XYZ"+v, 400, "InvalidPermission.Malformed")
	add("rule peer group absent", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=2&IpPermissions.1.Groups.1.GroupId=sg-12345678"+v, 400, "InvalidGroup.NotFound")
	add("rule without source", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1&IpPermissions.1.ToPort=2"+v, 400, "MissingParameter")
	add("authorize nothing", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+v, 400, "MissingParameter")
	add("legacy rule garbage CIDR", "Action=AuthorizeSecurityGroupIngress&GroupId="+x.sgA+"&IpProtocol=tcp&FromPort=1&ToPort=2&CidrIp=bogus"+v, 400, "InvalidParameterValue")
	add("group name outside the default VPC", "Action=AuthorizeSecurityGroupIngress&GroupName=web&IpProtocol=tcp&FromPort=1&ToPort=2&CidrIp=10.0.0.0/8"+v, 400, "InvalidGroup.NotFound")
	add("egress protocol 999", "Action=AuthorizeSecurityGroupEgress&GroupId="+x.sgA+"&IpPermissions.1.IpProtocol=999&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8"+v, 400, "InvalidParameterValue")
	add("route with two targets", "Action=CreateRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=0.0.0.0/0&GatewayId="+x.igwA+"&NetworkInterfaceId="+x.eniA+v, 400, "InvalidParameterCombination")
	add("route without target", "Action=CreateRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=0.0.0.0/0"+v, 400, "MissingParameter")
	add("route IPv6 in IPv4 field", "Action=CreateRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=::/0&GatewayId="+x.igwA+v, 400, "InvalidParameterValue")
	add("route over the local route", "Action=CreateRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=10.0.0.0/16&NetworkInterfaceId="+x.eniA+v, 400, "RouteAlreadyExists")
	add("route to other account's ENI", "Action=CreateRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=1.2.3.0/24&NetworkInterfaceId="+x.eniB+v, 400, "InvalidNetworkInterfaceID.NotFound")
	add("route to an instance of another VPC", "Action=CreateRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=1.2.3.0/24&InstanceId="+x.instA+v, 400, "InvalidParameterValue")
	add("replace a missing route", "Action=ReplaceRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=9.9.9.0/24&GatewayId="+x.igwA+v, 400, "InvalidRoute.NotFound")
	add("delete the local route", "Action=DeleteRoute&RouteTableId="+x.rtbA+"&DestinationCidrBlock=10.0.0.0/16"+v, 400, "InvalidParameterValue")
	add("associate route table twice", "Action=AssociateRouteTable&RouteTableId="+x.rtbA+"&SubnetId="+x.subA+v, 400, "Resource.AlreadyAssociated")
	add("associate route table across VPCs", "Action=AssociateRouteTable&RouteTableId="+x.rtbA+"&SubnetId="+x.defaultSubnetA1a+v, 400, "InvalidParameterValue")
	add("delete associated route table", "Action=DeleteRouteTable&RouteTableId="+x.rtbA+v, 400, "DependencyViolation")
	add("detach gateway not attached", "Action=DetachInternetGateway&InternetGatewayId="+x.igwA+"&VpcId="+x.vpcA+v, 400, "Gateway.NotAttached")
	add("modify two VPC attributes", "Action=ModifyVpcAttribute&VpcId="+x.vpcA+"&EnableDnsSupport.Value=true&EnableDnsHostnames.Value=true"+v, 400, "InvalidParameterCombination")
	add("modify VPC attribute boolean", "Action=ModifyVpcAttribute&VpcId="+x.vpcA+"&EnableDnsSupport.Value=perhaps"+v, 400, "InvalidParameterValue")
	add("VPC CIDR /8 association", "Action=AssociateVpcCidrBlock&VpcId="+x.vpcA+"&CidrBlock=10.0.0.0/8"+v, 400, "InvalidVpc.Range")
	add("VPC CIDR overlapping association", "Action=AssociateVpcCidrBlock&VpcId="+x.vpcA+"&CidrBlock=10.0.128.0/17"+v, 400, "InvalidVpc.Range")
	add("VPC CIDR association missing", "Action=DisassociateVpcCidrBlock&AssociationId=vpc-cidr-assoc-0123456789abcdef0"+v, 400, "InvalidVpcCidrBlockAssociationID.NotFound")
	add("VPC attribute unknown", "Action=DescribeVpcAttribute&VpcId="+x.vpcA+"&Attribute=colour"+v, 400, "InvalidParameterValue")
	add("instance type unknown", "Action=DescribeInstanceTypes&InstanceType.1=t9.huge"+v, 400, "InvalidInstanceType")
	add("instance types page too big", "Action=DescribeInstanceTypes&MaxResults=101"+v, 400, "InvalidParameterValue")
	add("zone unknown", "Action=DescribeAvailabilityZones&ZoneName.1=us-east-1q"+v, 400, "InvalidParameterValue")
	add("region unknown", "Action=DescribeRegions&RegionName.1=mars-1"+v, 400, "InvalidParameterValue")
	add("subnet attribute none", "Action=ModifySubnetAttribute&SubnetId="+x.subA+v, 400, "MissingParameter")
	add("subnet IPv6 attribute without IPv6", "Action=ModifySubnetAttribute&SubnetId="+x.subA+"&AssignIpv6AddressOnCreation.Value=true"+v, 400, "InvalidParameterValue")
	add("permissions page too small", "Action=DescribeNetworkInterfacePermissions&MaxResults=1"+v, 400, "InvalidParameterValue")
	add("instance attribute unknown", "Action=DescribeInstanceAttribute&InstanceId="+x.instA+"&Attribute=colour"+v, 400, "InvalidParameterValue")
	add("instance type change while running", "Action=ModifyInstanceAttribute&InstanceId="+x.instA+"&InstanceType.Value=t3.large"+v, 400, "IncorrectInstanceState")
	add("instance two attributes", "Action=ModifyInstanceAttribute&InstanceId="+x.instA+"&SourceDestCheck.Value=false&DisableApiTermination.Value=true"+v, 400, "InvalidParameterCombination")
	add("start with one absent instance", "Action=StartInstances&InstanceId.1="+x.instA+"&InstanceId.2=i-0123456789abcdef0"+v, 400, "InvalidInstanceID.NotFound")
	add("stop with one malformed instance", "Action=StopInstances&InstanceId.1="+x.instA+"&InstanceId.2=bogus"+v, 400, "InvalidInstanceID.Malformed")
	add("terminate with another account's instance", "Action=TerminateInstances&InstanceId.1="+x.instA+"&InstanceId.2="+x.instB+v, 400, "InvalidInstanceID.NotFound")
	add("instances page too small", "Action=DescribeInstances&MaxResults=4"+v, 400, "InvalidParameterValue")
	add("addresses not paginated", "Action=DescribeAddresses&MaxResults=5"+v, 400, "UnknownParameter")
	add("address id absent", "Action=DescribeAddresses&AllocationId.1=eipalloc-0123456789abcdef0"+v, 400, "InvalidAllocationID.NotFound")
	add("EIP to instance and ENI", "Action=AssociateAddress&AllocationId="+x.allocA+"&InstanceId="+x.instA+"&NetworkInterfaceId="+x.primaryA+v, 400, "InvalidParameterCombination")
	add("EIP in a VPC without gateway", "Action=AssociateAddress&AllocationId="+x.allocA+"&NetworkInterfaceId="+x.eniA+v, 400, "Gateway.NotAttached")
	add("EIP recover allocated", "Action=AllocateAddress&Address="+x.publicA+v, 400, "InvalidAddress.NotFound")
	add("EIP unknown pool", "Action=AllocateAddress&PublicIpv4Pool=pool-x"+v, 400, "InvalidParameterValue")
	add("EIP unknown border group", "Action=AllocateAddress&NetworkBorderGroup=mars"+v, 400, "InvalidParameterValue")
	add("permission account and service", "Action=CreateNetworkInterfacePermission&NetworkInterfaceId="+x.eniA+"&AwsAccountId=111122223333&AwsService=ec2&Permission=INSTANCE-ATTACH"+v, 400, "InvalidParameterCombination")
	add("gateway delete with VpcId", "Action=DeleteInternetGateway&InternetGatewayId="+x.igwA+"&VpcId="+x.vpcA+v, 400, "UnknownParameter")
	add("group name sg-", "Action=CreateSecurityGroup&GroupName=sg-123&GroupDescription=d&VpcId="+x.vpcA+v, 400, "InvalidParameterValue")
	add("group name non-ASCII", "Action=CreateSecurityGroup&GroupName=x%C3%A9&GroupDescription=d&VpcId="+x.vpcA+v, 400, "InvalidParameterValue")
	add("subnet AZ and AZ id disagree", "Action=CreateSubnet&VpcId="+x.vpcA+"&CidrBlock=10.0.5.0/24&AvailabilityZone=us-east-1a&AvailabilityZoneId=use1-az2"+v, 400, "InvalidParameterCombination")
	add("VPC CIDR with leading zeros", "Action=CreateVpc&CidrBlock=010.000.000.000/16"+v, 400, "InvalidParameterValue")
	add("untag with value only", "Action=DeleteTags&ResourceId.1="+x.eniA+"&Tag.1.Value=v"+v, 400, "InvalidTagKey.Malformed")
	add("attachment of another ENI", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+"&Attachment.AttachmentId="+x.attachA+"&Attachment.DeleteOnTermination=true"+v, 400, "InvalidAttachmentID.NotFound")
	add("attachment change without flag", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.primaryA+"&Attachment.AttachmentId="+x.attachA+v, 400, "MissingParameter")
	add("empty group id", "Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId="+x.eniA+"&SecurityGroupId.1="+v, 400, "InvalidGroupId.Malformed")

	// GET query strings.
	addGet("GET unknown action", "Action=Nope"+v, 400, "InvalidAction")
	addGet("GET malformed id", "Action=DescribeVpcs&VpcId.1=vpc-XYZ"+v, 400, "InvalidVpcID.Malformed")
	addGet("GET non-numeric MaxResults", "Action=DescribeNetworkInterfaces&MaxResults=lots"+v, 400, "InvalidParameterValue")
	addGet("GET long filter value", "Action=DescribeNetworkInterfaces&Filter.1.Name=description&Filter.1.Value.1="+long(300)+v, 400, "FilterLimitExceeded")
	addGet("GET write with missing id", "Action=DeleteNetworkInterface&NetworkInterfaceId=eni-0123456789abcdef0"+v, 400, "InvalidNetworkInterfaceID.NotFound")
	addGet("GET duplicate Action", "Action=DescribeVpcs&Action=DescribeVpcs"+v, 400, "InvalidParameterValue")

	// Size limit.
	add("body over 1 MiB", "Action=DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1="+long(1<<20)+v, 413, "RequestEntityTooLarge")
	return cs
}

// tagList returns Tag.N.Key/Value pairs for n distinct keys.
func tagList(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "&Tag.%d.Key=k%d&Tag.%d.Value=v", i, i, i)
	}
	return b.String()
}

func TestBadInputCatalogue(t *testing.T) {
	x := badSetup(t)
	cases := x.cases()
	if len(cases) < 120 {
		t.Fatalf("catalogue has %d cases, want at least 120", len(cases))
	}
	t.Logf("bad-input catalogue: %d cases", len(cases))
	before := x.e.Core.Dump()
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.name] {
			t.Errorf("duplicate case name %q", c.name)
		}
		names[c.name] = true
		status, body, hdrID, err := badDo(x.e.Server.URL, c)
		if err != nil {
			t.Errorf("%s: request failed (server crashed?): %v", c.name, err)
			continue
		}
		var env badEnvelope
		if err := xml.Unmarshal([]byte(body), &env); err != nil || env.XMLName.Local != "Response" || len(env.Errors) != 1 {
			t.Errorf("%s: reply is not the EC2 error envelope (%v): %.300s", c.name, err, body)
			continue
		}
		if status != c.status || env.Errors[0].Code != c.code {
			t.Errorf("%s: got %d %s (%s), want %d %s", c.name, status, env.Errors[0].Code, env.Errors[0].Message, c.status, c.code)
		}
		if env.Errors[0].Message == "" {
			t.Errorf("%s: empty error message", c.name)
		}
		if env.RequestID == "" || env.RequestID != hdrID {
			t.Errorf("%s: RequestID %q, header %q", c.name, env.RequestID, hdrID)
		}
		// The server still answers.
		st, _, _, err := badDo(x.e.Server.URL, badCase{form: "Action=DescribeRegions&Version=2016-11-15"})
		if err != nil || st != 200 {
			t.Fatalf("after %s: server does not answer: %d %v", c.name, st, err)
		}
	}
	after := x.e.Core.Dump()
	if !reflect.DeepEqual(before, after) {
		badDiff(t, before, after)
	}
	if errs := x.e.Core.Check(); len(errs) > 0 {
		t.Errorf("invariants: %v", errs)
	}
	// The SDK still works for both accounts.
	if _, err := x.a.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{x.eniA}}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.b.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{x.eniB}}); err != nil {
		t.Fatal(err)
	}
}

func badDiff(t *testing.T, before, after map[string]string) {
	t.Helper()
	var keys []string
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if before[k] != after[k] {
			t.Errorf("state changed: %s\n before: %.400s\n after:  %.400s", k, before[k], after[k])
		}
	}
}

// TestBadInputSlowBody opens a connection that sends headers and a few bytes
// of body, then stalls: other clients must still be served meanwhile.
func TestBadInputSlowBody(t *testing.T) {
	e := apitest.New(t)
	conn, err := net.Dial("tcp", e.Server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nAction=Descr", e.Server.Listener.Addr())
	// A second slow client that never finishes its headers.
	conn2, err := net.Dial("tcp", e.Server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	fmt.Fprintf(conn2, "POST / HTTP/1.1\r\nHost: x\r\nContent-Le")

	c := e.Client()
	for range 3 {
		if _, err := c.DescribeVpcs(apitest.Ctx(), &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatalf("a normal request while a slow one is open: %v", err)
		}
		if _, err := c.CreateVpc(apitest.Ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.3.0.0/16")}); err != nil {
			t.Fatalf("a write while a slow one is open: %v", err)
		}
		out, err := c.DescribeVpcs(apitest.Ctx(), &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("cidr"), Values: []string{"10.3.0.0/16"}}}})
		if err != nil || len(out.Vpcs) == 0 {
			t.Fatalf("describe after write: %v", err)
		}
		for _, v := range out.Vpcs {
			if _, err := c.DeleteVpc(apitest.Ctx(), &ec2.DeleteVpcInput{VpcId: v.VpcId}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Finishing the slow body with a short one: the server answers it (with
	// an error, as the body is truncated) or closes the connection; it must
	// not hang the test.
	conn.Close()
	conn2.Close()
	if _, err := c.DescribeVpcs(apitest.Ctx(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
}

// TestBadInputSlowBodyCompletes sends a body in pieces: once complete, the
// slow request is answered normally.
func TestBadInputSlowBodyCompletes(t *testing.T) {
	e := apitest.New(t)
	conn, err := net.Dial("tcp", e.Server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "Action=DescribeVpcs&Version=2016-11-15"
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body[:5])
	if _, err := e.Client().DescribeSubnets(apitest.Ctx(), &ec2.DescribeSubnetsInput{}); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, body[5:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<vpcSet>") {
		t.Fatalf("got %d %s", resp.StatusCode, b)
	}
}

// TestBadInputPanicIsInternalError: a panic while serving a request (here in
// the signature check) is answered with InternalError in the EC2 envelope,
// and the server keeps serving.
func TestBadInputPanicIsInternalError(t *testing.T) {
	e := apitest.New(t, apitest.Options{Authenticate: func(r *http.Request, body []byte) (string, error) {
		if strings.Contains(r.Header.Get("Authorization"), "Credential=boom/") {
			panic("boom")
		}
		return badAuth(r, body)
	}})
	status, body, id, err := badDo(e.Server.URL, badCase{as: "boom", form: "Action=DescribeVpcs&Version=2016-11-15"})
	if err != nil {
		t.Fatal(err)
	}
	var env badEnvelope
	if err := xml.Unmarshal([]byte(body), &env); err != nil || len(env.Errors) != 1 || env.RequestID != id {
		t.Fatalf("not the error envelope: %v %s", err, body)
	}
	if status != 500 || env.Errors[0].Code != "InternalError" || strings.Contains(body, "boom") {
		t.Fatalf("got %d %s", status, body)
	}
	if _, err := e.Client().DescribeVpcs(apitest.Ctx(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
}
