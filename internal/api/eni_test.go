package api_test

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// eniEnv is a server with a VPC 10.0.0.0/16 (IPv6 too) holding subnets in
// two AZs, an IPv6 subnet, a /28 and two groups, plus a second VPC with a
// subnet in AZ a.
type eniEnv struct {
	e                      *apitest.Env
	c                      *ec2.Client
	vpc, vpc2              string
	subA, subB, sub6, sub2 string
	tiny                   string
	sg1, sg2, sgV2         string
}

var eniInstanceSeq atomic.Uint64

func newENIEnv(t *testing.T) *eniEnv {
	t.Helper()
	e := apitest.New(t)
	x := &eniEnv{e: e, c: e.Client()}
	v, err := x.c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	x.vpc = aws.ToString(v.Vpc.VpcId)
	v6 := netip.MustParsePrefix(aws.ToString(v.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock))
	v2, err := x.c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	x.vpc2 = aws.ToString(v2.Vpc.VpcId)
	sub := func(vpc, az, cidr, ipv6 string) string {
		in := &ec2.CreateSubnetInput{VpcId: aws.String(vpc), AvailabilityZone: aws.String(az), CidrBlock: aws.String(cidr)}
		if ipv6 != "" {
			in.Ipv6CidrBlock = aws.String(ipv6)
		}
		out, err := x.c.CreateSubnet(ctx, in)
		if err != nil {
			t.Fatalf("create subnet %s: %v", cidr, err)
		}
		return aws.ToString(out.Subnet.SubnetId)
	}
	x.subA = sub(x.vpc, "us-east-1a", "10.0.1.0/24", "")
	x.subB = sub(x.vpc, "us-east-1b", "10.0.2.0/24", "")
	x.sub6 = sub(x.vpc, "us-east-1a", "10.0.3.0/24", netip.PrefixFrom(v6.Addr(), 64).String())
	x.tiny = sub(x.vpc, "us-east-1a", "10.0.9.0/28", "")
	x.sub2 = sub(x.vpc2, "us-east-1a", "10.1.1.0/24", "")
	sg := func(vpc, name string) string {
		out, err := x.c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpc), GroupName: aws.String(name), Description: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.GroupId)
	}
	x.sg1, x.sg2, x.sgV2 = sg(x.vpc, "web"), sg(x.vpc, "db"), sg(x.vpc2, "other")
	return x
}

// instance puts an instance record directly (RunInstances is another work
// package; these tests only need the record).
func (x *eniEnv) instance(t *testing.T, typ, az, state string) string {
	t.Helper()
	id := fmt.Sprintf("i-%017x", eniInstanceSeq.Add(1))
	err := x.e.Core.Write(core.Caller{Account: "123456789012", Region: "us-east-1"}, false, nil, func(tx *core.Tx) error {
		tx.PutInstanceForTest(id, typ, az, x.subA, x.vpc, state)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (x *eniEnv) create(t *testing.T, in *ec2.CreateNetworkInterfaceInput) *types.NetworkInterface {
	t.Helper()
	out, err := x.c.CreateNetworkInterface(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out.NetworkInterface
}

func (x *eniEnv) get(t *testing.T, id string) types.NetworkInterface {
	t.Helper()
	out, err := x.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.NetworkInterfaces) != 1 {
		t.Fatalf("describe %s: %d results", id, len(out.NetworkInterfaces))
	}
	return out.NetworkInterfaces[0]
}

func (x *eniEnv) attach(t *testing.T, eni, inst string, dev int32) string {
	t.Helper()
	out, err := x.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eni), InstanceId: aws.String(inst), DeviceIndex: aws.Int32(dev)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.AttachmentId)
}

func (x *eniEnv) ids(t *testing.T, filters ...types.Filter) []string {
	t.Helper()
	out, err := x.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range out.NetworkInterfaces {
		ids = append(ids, aws.ToString(n.NetworkInterfaceId))
	}
	slices.Sort(ids)
	return ids
}

func eniFilter(name string, vals ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: vals}
}

func eniWantMessage(t *testing.T, err error, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorMessage() != msg {
		t.Fatalf("error %v, want message %q", err, msg)
	}
}

func eniPrivateIPs(n types.NetworkInterface) []string {
	var out []string
	for _, ip := range n.PrivateIpAddresses {
		out = append(out, aws.ToString(ip.PrivateIpAddress))
	}
	return out
}

func TestENICreateDescribeDelete(t *testing.T) {
	x := newENIEnv(t)
	out, err := x.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
		SubnetId: aws.String(x.subA), Description: aws.String("AWS Lambda VPC ENI-abc"), Groups: []string{x.sg1, x.sg2},
		PrivateIpAddress: aws.String("10.0.1.10"), SecondaryPrivateIpAddressCount: aws.Int32(2),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("Team"), Value: aws.String("net")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := out.NetworkInterface
	id := aws.ToString(n.NetworkInterfaceId)
	if !strings.HasPrefix(id, "eni-") || len(id) != 21 || n.Status != types.NetworkInterfaceStatusAvailable ||
		n.InterfaceType != types.NetworkInterfaceTypeInterface || aws.ToString(n.PrivateIpAddress) != "10.0.1.10" ||
		len(n.PrivateIpAddresses) != 3 || !aws.ToBool(n.PrivateIpAddresses[0].Primary) ||
		aws.ToString(n.PrivateDnsName) != "ip-10-0-1-10.ec2.internal" || aws.ToString(n.OwnerId) != "123456789012" ||
		aws.ToString(n.RequesterId) != "123456789012" || aws.ToBool(n.RequesterManaged) || !aws.ToBool(n.SourceDestCheck) ||
		aws.ToString(n.AvailabilityZone) != "us-east-1a" || aws.ToString(n.VpcId) != x.vpc || aws.ToString(n.SubnetId) != x.subA ||
		len(n.Groups) != 2 || aws.ToString(n.Groups[0].GroupName) != "web" || len(n.TagSet) != 1 || n.Association != nil || n.Attachment != nil {
		t.Fatalf("created = %+v", n)
	}
	if mac := aws.ToString(n.MacAddress); len(mac) != 17 || mac != strings.ToLower(mac) {
		t.Fatalf("mac %q", mac)
	}
	got := x.get(t, id)
	if aws.ToString(got.MacAddress) != aws.ToString(n.MacAddress) || aws.ToString(got.Description) != "AWS Lambda VPC ENI-abc" {
		t.Fatalf("described = %+v", got)
	}
	if ids := x.ids(t, eniFilter("description", "AWS Lambda VPC ENI*"), eniFilter("tag:Team", "net")); !slices.Equal(ids, []string{id}) {
		t.Fatalf("filtered = %v", ids)
	}
	// Default group when none is given.
	d := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)})
	if len(d.Groups) != 1 || aws.ToString(d.Groups[0].GroupName) != "default" {
		t.Fatalf("default groups = %+v", d.Groups)
	}
	_, err = x.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id), DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	if _, err := x.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = x.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)})
	apitest.WantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	_, err = x.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String("to-set")})
	apitest.WantCode(t, err, "InvalidNetworkInterfaceId.Malformed")
	eniWantMessage(t, err, `Invalid id: "to-set" (expecting "eni-...")`)
	// The freed address can be taken again.
	x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String("10.0.1.10")})
}

func TestENICreateErrors(t *testing.T) {
	x := newENIEnv(t)
	x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String("10.0.1.10")})
	x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String("10.0.1.20")})
	six := []string{x.sg1, x.sg2}
	for i := range 4 {
		out, err := x.c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(x.vpc), GroupName: aws.String(fmt.Sprint("g", i)), Description: aws.String("g")})
		if err != nil {
			t.Fatal(err)
		}
		six = append(six, aws.ToString(out.GroupId))
	}
	for _, tc := range []struct {
		name string
		in   ec2.CreateNetworkInterfaceInput
		code string
	}{
		{"subnet not found", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-0123456789abcdef0")}, "InvalidSubnetID.NotFound"},
		{"subnet malformed", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String("sub")}, "InvalidSubnetID.Malformed"},
		{"outside subnet", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String("10.0.2.9")}, "InvalidParameterValue"},
		{"reserved", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String("10.0.1.1")}, "InvalidParameterValue"},
		{"in use", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String("10.0.1.10")}, "InvalidIPAddress.InUse"},
		{"addresses and count", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), SecondaryPrivateIpAddressCount: aws.Int32(1),
			PrivateIpAddresses: []types.PrivateIpAddressSpecification{{PrivateIpAddress: aws.String("10.0.1.20")}, {PrivateIpAddress: aws.String("10.0.1.21")}}}, "InvalidParameterCombination"},
		{"two primaries", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String("10.0.1.22"),
			PrivateIpAddresses: []types.PrivateIpAddressSpecification{{PrivateIpAddress: aws.String("10.0.1.23"), Primary: aws.Bool(true)}}}, "InvalidParameterCombination"},
		{"ipv6 and count", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.sub6), Ipv6AddressCount: aws.Int32(1),
			Ipv6Addresses: []types.InstanceIpv6Address{{Ipv6Address: aws.String("2600::1")}}}, "InvalidParameterCombination"},
		{"ipv6 without block", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv6AddressCount: aws.Int32(1)}, "InvalidParameterValue"},
		{"group of other vpc", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Groups: []string{x.sgV2}}, "InvalidParameter"},
		{"group not found", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Groups: []string{"sg-0123456789abcdef0"}}, "InvalidGroup.NotFound"},
		{"group malformed", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Groups: []string{"web"}}, "InvalidGroupId.Malformed"},
		{"six groups", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Groups: six}, "SecurityGroupsPerInterfaceLimitExceeded"},
		{"too many addresses", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), SecondaryPrivateIpAddressCount: aws.Int32(50)}, "PrivateIpAddressLimitExceeded"},
		{"bad interface type", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), InterfaceType: "lambda"}, "InvalidParameterValue"},
		{"prefixes and count", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv4PrefixCount: aws.Int32(1),
			Ipv4Prefixes: []types.Ipv4PrefixSpecificationRequest{{Ipv4Prefix: aws.String("10.0.1.16/28")}}}, "InvalidParameterCombination"},
		{"prefix unaligned", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv4Prefixes: []types.Ipv4PrefixSpecificationRequest{{Ipv4Prefix: aws.String("10.0.1.24/28")}}}, "InvalidParameterValue"},
		{"prefix not /28", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv4Prefixes: []types.Ipv4PrefixSpecificationRequest{{Ipv4Prefix: aws.String("10.0.1.32/27")}}}, "InvalidParameterValue"},
		{"prefix reserved", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv4Prefixes: []types.Ipv4PrefixSpecificationRequest{{Ipv4Prefix: aws.String("10.0.1.0/28")}}}, "InvalidParameterValue"},
		{"prefix outside", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv4Prefixes: []types.Ipv4PrefixSpecificationRequest{{Ipv4Prefix: aws.String("10.0.2.16/28")}}}, "InvalidParameterValue"},
		{"prefix holding an address", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv4Prefixes: []types.Ipv4PrefixSpecificationRequest{{Ipv4Prefix: aws.String("10.0.1.16/28")}}}, "InvalidIPAddress.InUse"},
		{"ipv6 prefixes without a block", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv6PrefixCount: aws.Int32(1)}, "InvalidParameterValue"},
		{"ipv6 prefix not /80", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.sub6), Ipv6Prefixes: []types.Ipv6PrefixSpecificationRequest{{Ipv6Prefix: aws.String("2600::/64")}}}, "InvalidParameterValue"},
		{"prefix in a /28 subnet", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.tiny), Ipv4PrefixCount: aws.Int32(1)}, "InsufficientCidrBlocks"},
		{"tag type", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := x.c.CreateNetworkInterface(ctx, &tc.in)
			apitest.WantCode(t, err, tc.code)
		})
	}
	// The subnet runs out: a /28 has 11 usable addresses.
	x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.tiny), SecondaryPrivateIpAddressCount: aws.Int32(10)})
	_, err := x.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.tiny)})
	apitest.WantCode(t, err, "InsufficientFreeAddressesInSubnet")
	// Every interface type a client may create.
	for _, typ := range []types.NetworkInterfaceCreationType{"efa", "efa-only", "trunk", "interface"} {
		n := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), InterfaceType: typ})
		if string(n.InterfaceType) != string(typ) {
			t.Fatalf("type %s, want %s", n.InterfaceType, typ)
		}
	}
}

func TestENICreateClientToken(t *testing.T) {
	x := newENIEnv(t)
	in := &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), ClientToken: aws.String("tok-1")}
	a := x.create(t, in)
	b := x.create(t, in)
	if aws.ToString(a.NetworkInterfaceId) != aws.ToString(b.NetworkInterfaceId) {
		t.Fatalf("same token gave %s and %s", aws.ToString(a.NetworkInterfaceId), aws.ToString(b.NetworkInterfaceId))
	}
	_, err := x.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subB), ClientToken: aws.String("tok-1")})
	apitest.WantCode(t, err, "IdempotentParameterMismatch")
	if ids := x.ids(t, eniFilter("subnet-id", x.subA)); len(ids) != 1 {
		t.Fatalf("ENIs = %v", ids)
	}
}

func TestENIAttachDetach(t *testing.T) {
	x := newENIEnv(t)
	inst := x.instance(t, "t3.small", "us-east-1a", "running")
	n := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)})
	id := aws.ToString(n.NetworkInterfaceId)
	_, err := x.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(id), InstanceId: aws.String(inst), DeviceIndex: aws.Int32(1), DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	out, err := x.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(id), InstanceId: aws.String(inst), DeviceIndex: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	att := aws.ToString(out.AttachmentId)
	if !strings.HasPrefix(att, "eni-attach-") || aws.ToInt32(out.NetworkCardIndex) != 0 {
		t.Fatalf("attach = %+v", out)
	}
	got := x.get(t, id)
	a := got.Attachment
	if got.Status != types.NetworkInterfaceStatusInUse || a == nil || aws.ToString(a.AttachmentId) != att || aws.ToString(a.InstanceId) != inst ||
		aws.ToInt32(a.DeviceIndex) != 1 || a.Status != types.AttachmentStatusAttached || aws.ToBool(a.DeleteOnTermination) ||
		a.AttachTime == nil || aws.ToString(a.InstanceOwnerId) != "123456789012" {
		t.Fatalf("attached = %+v %+v", got, a)
	}
	// Terraform waits on these filters.
	for _, f := range []types.Filter{eniFilter("attachment.attachment-id", att), eniFilter("attachment.instance-id", inst), eniFilter("attachment.status", "attached"), eniFilter("status", "in-use")} {
		if ids := x.ids(t, f); !slices.Equal(ids, []string{id}) {
			t.Fatalf("%s: %v", aws.ToString(f.Name), ids)
		}
	}
	inst2 := x.instance(t, "t3.small", "us-east-1a", "running")
	_, err = x.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(id), InstanceId: aws.String(inst2), DeviceIndex: aws.Int32(1)})
	apitest.WantCode(t, err, "InvalidNetworkInterface.InUse")
	_, err = x.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	eniWantMessage(t, err, "Network interface '"+id+"' is currently in use.")
	_, err = x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(att), DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	if _, err := x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(att)}); err != nil {
		t.Fatal(err)
	}
	if got := x.get(t, id); got.Status != types.NetworkInterfaceStatusAvailable || got.Attachment != nil {
		t.Fatalf("detached = %+v", got)
	}
	_, err = x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(att)})
	apitest.WantCode(t, err, "InvalidAttachmentID.NotFound")
	eniWantMessage(t, err, "The interface attachment '"+att+"' does not exist.")
	_, err = x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(id)})
	apitest.WantCode(t, err, "InvalidNetworkInterfaceAttachmentId.Malformed")
	if _, err := x.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
}

func TestENIAttachRules(t *testing.T) {
	x := newENIEnv(t)
	inst := x.instance(t, "t3.micro", "us-east-1a", "running") // 2 ENIs, 2 IPv4 per ENI
	newENI := func(subnet string, extra int32) string {
		return aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), SecondaryPrivateIpAddressCount: aws.Int32(extra)}).NetworkInterfaceId)
	}
	try := func(eni, inst string, dev int32) error {
		_, err := x.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eni), InstanceId: aws.String(inst), DeviceIndex: aws.Int32(dev)})
		return err
	}
	apitest.WantCode(t, try(newENI(x.subB, 0), inst, 1), "InvalidParameterValue") // other AZ
	primary := newENI(x.subA, 0)
	att0 := x.attach(t, primary, inst, 0)
	err := try(newENI(x.subA, 0), inst, 0)
	apitest.WantCode(t, err, "InvalidParameterValue")
	eniWantMessage(t, err, "Instance '"+inst+"' already has an interface attached at device index '0'.")
	apitest.WantCode(t, try(newENI(x.subA, 2), inst, 1), "InvalidInterface.IpAddressLimitExceeded")
	x.attach(t, newENI(x.sub2, 0), inst, 1) // multi-VPC: another VPC of the account, same AZ
	err = try(newENI(x.subA, 0), inst, 2)
	apitest.WantCode(t, err, "AttachmentLimitExceeded")
	eniWantMessage(t, err, "Interface count 3 exceeds the limit for t3.micro")
	_, err = x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(att0), Force: aws.Bool(true)})
	apitest.WantCode(t, err, "OperationNotPermitted")
	eniWantMessage(t, err, "The network interface at device index 0 and networkCard index 0 cannot be detached.")
	pending := x.instance(t, "t3.micro", "us-east-1a", "pending")
	apitest.WantCode(t, try(newENI(x.subA, 0), pending, 1), "IncorrectInstanceState")
	stopped := x.instance(t, "t3.micro", "us-east-1a", "stopped")
	x.attach(t, newENI(x.subA, 0), stopped, 1) // warm attach
	apitest.WantCode(t, try(newENI(x.subA, 0), "i-0123456789abcdef0", 1), "InvalidInstanceID.NotFound")
	apitest.WantCode(t, try(newENI(x.subA, 0), "inst", 1), "InvalidInstanceID.Malformed")
	apitest.WantCode(t, try("eni-0123456789abcdef0", stopped, 2), "InvalidNetworkInterfaceID.NotFound")
	_, err = x.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(newENI(x.subA, 0)), InstanceId: aws.String(stopped), DeviceIndex: aws.Int32(1), NetworkCardIndex: aws.Int32(3)})
	apitest.WantCode(t, err, "InvalidParameterValue")
}

func TestENIDetachForce(t *testing.T) {
	x := newENIEnv(t)
	inst := x.instance(t, "t3.small", "us-east-1a", "running")
	id := aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)}).NetworkInterfaceId)
	att := x.attach(t, id, inst, 1)
	err := x.e.Core.Write(core.Caller{Account: "123456789012", Region: "us-east-1"}, false, nil, func(tx *core.Tx) error {
		tx.PutInstanceForTest(inst, "t3.small", "us-east-1a", x.subA, x.vpc, "stopping")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(att)})
	apitest.WantCode(t, err, "IncorrectInstanceState")
	if _, err := x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(att), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
}

func TestENIRequesterManagedNotModifiable(t *testing.T) {
	x := newENIEnv(t)
	inst := x.instance(t, "t3.small", "us-east-1a", "running")
	id := aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)}).NetworkInterfaceId)
	att := x.attach(t, id, inst, 1)
	err := x.e.Core.Write(core.Caller{Account: "123456789012", Region: "us-east-1"}, false, nil, func(tx *core.Tx) error {
		tx.SetRequesterManagedForTest(id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(att)})
	apitest.WantCode(t, err, "OperationNotPermitted")
	_, err = x.c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), Description: &types.AttributeValue{Value: aws.String("x")}})
	apitest.WantCode(t, err, "OperationNotPermitted")
	_, err = x.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)})
	if code := apitest.Code(err); code != "OperationNotPermitted" && code != "InvalidParameterValue" {
		t.Fatalf("delete: %v", err)
	}
	// Reading and tagging still work.
	if got := x.get(t, id); !aws.ToBool(got.RequesterManaged) {
		t.Fatalf("requester managed = %+v", got)
	}
	if ids := x.ids(t, eniFilter("requester-managed", "true")); !slices.Equal(ids, []string{id}) {
		t.Fatalf("filter: %v", ids)
	}
}

func TestENIModifyResetDescribeAttribute(t *testing.T) {
	x := newENIEnv(t)
	id := aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)}).NetworkInterfaceId)
	mod := func(in ec2.ModifyNetworkInterfaceAttributeInput) error {
		in.NetworkInterfaceId = aws.String(id)
		_, err := x.c.ModifyNetworkInterfaceAttribute(ctx, &in)
		return err
	}
	for _, in := range []ec2.ModifyNetworkInterfaceAttributeInput{
		{Description: &types.AttributeValue{Value: aws.String("router")}},
		{SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}},
		{Groups: []string{x.sg1, x.sg2}},
	} {
		if err := mod(in); err != nil {
			t.Fatal(err)
		}
	}
	got := x.get(t, id)
	if aws.ToString(got.Description) != "router" || aws.ToBool(got.SourceDestCheck) || len(got.Groups) != 2 {
		t.Fatalf("modified = %+v", got)
	}
	if err := mod(ec2.ModifyNetworkInterfaceAttributeInput{Groups: []string{x.sg2}}); err != nil {
		t.Fatal(err)
	}
	if got := x.get(t, id); len(got.Groups) != 1 || aws.ToString(got.Groups[0].GroupId) != x.sg2 {
		t.Fatalf("groups = %+v", got.Groups)
	}
	apitest.WantCode(t, mod(ec2.ModifyNetworkInterfaceAttributeInput{}), "MissingParameter")
	apitest.WantCode(t, mod(ec2.ModifyNetworkInterfaceAttributeInput{Description: &types.AttributeValue{Value: aws.String("a")}, Groups: []string{x.sg1}}), "InvalidParameterCombination")
	apitest.WantCode(t, mod(ec2.ModifyNetworkInterfaceAttributeInput{Groups: []string{x.sgV2}}), "InvalidGroup.NotFound")
	apitest.WantCode(t, mod(ec2.ModifyNetworkInterfaceAttributeInput{Groups: []string{x.sg1, x.sg2, x.sg1, x.sg2, x.sg1, x.sg2, "sg-0123456789abcdef0", "sg-0123456789abcdef1", "sg-0123456789abcdef2", "sg-0123456789abcdef3"}}), "SecurityGroupsPerInterfaceLimitExceeded")
	apitest.WantCode(t, mod(ec2.ModifyNetworkInterfaceAttributeInput{Attachment: &types.NetworkInterfaceAttachmentChanges{AttachmentId: aws.String("eni-attach-0123456789abcdef0"), DeleteOnTermination: aws.Bool(true)}}), "InvalidAttachmentID.NotFound")
	_, err := x.c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-0123456789abcdef0"), Description: &types.AttributeValue{Value: aws.String("a")}})
	apitest.WantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	inst := x.instance(t, "t3.small", "us-east-1a", "running")
	att := x.attach(t, id, inst, 1)
	if err := mod(ec2.ModifyNetworkInterfaceAttributeInput{Attachment: &types.NetworkInterfaceAttachmentChanges{AttachmentId: aws.String(att), DeleteOnTermination: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(x.get(t, id).Attachment.DeleteOnTermination) {
		t.Fatal("DeleteOnTermination not changed")
	}
	if _, err := x.c.ResetNetworkInterfaceAttribute(ctx, &ec2.ResetNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), SourceDestCheck: aws.String("true")}); err != nil {
		t.Fatal(err)
	}
	attr := func(a types.NetworkInterfaceAttribute) *ec2.DescribeNetworkInterfaceAttributeOutput {
		out, err := x.c.DescribeNetworkInterfaceAttribute(ctx, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), Attribute: a})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if o := attr(types.NetworkInterfaceAttributeSourceDestCheck); !aws.ToBool(o.SourceDestCheck.Value) || aws.ToString(o.NetworkInterfaceId) != id {
		t.Fatalf("sourceDestCheck = %+v", o)
	}
	// Only the requested attribute: no empty groupSet beside it.
	if o := attr(types.NetworkInterfaceAttributeDescription); aws.ToString(o.Description.Value) != "router" || o.SourceDestCheck != nil || o.Groups != nil {
		t.Fatalf("description = %+v", o)
	}
	if o := attr(types.NetworkInterfaceAttributeGroupSet); len(o.Groups) != 1 || aws.ToString(o.Groups[0].GroupName) != "db" {
		t.Fatalf("groupSet = %+v", o.Groups)
	}
	if o := attr(types.NetworkInterfaceAttributeAttachment); aws.ToString(o.Attachment.AttachmentId) != att || !aws.ToBool(o.Attachment.DeleteOnTermination) {
		t.Fatalf("attachment = %+v", o.Attachment)
	}
	_, err = x.c.DescribeNetworkInterfaceAttribute(ctx, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), Attribute: "bogus"})
	apitest.WantCode(t, err, "InvalidParameterValue")
}

// eip allocates an Elastic IP and associates it with the ENI's address.
func (x *eniEnv) eip(t *testing.T, eni, ip string) (alloc, public string) {
	t.Helper()
	a, err := x.c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, NetworkInterfaceId: aws.String(eni), PrivateIpAddress: aws.String(ip)}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(a.AllocationId), aws.ToString(a.PublicIp)
}

// igw gives the test VPC an internet gateway (Elastic IPs need one).
func (x *eniEnv) igw(t *testing.T) {
	t.Helper()
	g, err := x.c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: g.InternetGateway.InternetGatewayId, VpcId: aws.String(x.vpc)}); err != nil {
		t.Fatal(err)
	}
}

func (x *eniEnv) address(t *testing.T, alloc string) types.Address {
	t.Helper()
	out, err := x.c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{alloc}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Addresses[0]
}

func TestENIAssignUnassignPrivateIPs(t *testing.T) {
	x := newENIEnv(t)
	x.igw(t)
	inst := x.instance(t, "t3.small", "us-east-1a", "running") // 4 IPv4 per ENI
	n := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String("10.0.1.10")})
	id := aws.ToString(n.NetworkInterfaceId)
	x.attach(t, id, inst, 1)
	out, err := x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), PrivateIpAddresses: []string{"10.0.1.11"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AssignedPrivateIpAddresses) != 1 || aws.ToString(out.AssignedPrivateIpAddresses[0].PrivateIpAddress) != "10.0.1.11" || aws.ToString(out.NetworkInterfaceId) != id {
		t.Fatalf("assigned = %+v", out)
	}
	if out, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), SecondaryPrivateIpAddressCount: aws.Int32(2)}); err != nil || len(out.AssignedPrivateIpAddresses) != 2 {
		t.Fatalf("count: %+v %v", out, err)
	}
	_, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), SecondaryPrivateIpAddressCount: aws.Int32(1)})
	apitest.WantCode(t, err, "PrivateIpAddressLimitExceeded")
	eniWantMessage(t, err, "Number of private addresses will exceed limit.")
	other := aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)}).NetworkInterfaceId)
	for _, tc := range []struct {
		in   ec2.AssignPrivateIpAddressesInput
		code string
	}{
		{ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other)}, "MissingParameter"},
		{ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other), PrivateIpAddresses: []string{"10.0.1.50"}, SecondaryPrivateIpAddressCount: aws.Int32(1)}, "InvalidParameterCombination"},
		{ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other), PrivateIpAddresses: []string{"10.0.2.50"}}, "InvalidParameterValue"},
		{ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other), PrivateIpAddresses: []string{"10.0.1.10"}, AllowReassignment: aws.Bool(true)}, "InvalidIPAddress.InUse"},
		{ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String("eni-0123456789abcdef0"), SecondaryPrivateIpAddressCount: aws.Int32(1)}, "InvalidNetworkInterfaceID.NotFound"},
	} {
		_, err := x.c.AssignPrivateIpAddresses(ctx, &tc.in)
		apitest.WantCode(t, err, tc.code)
	}
	// An address of another interface moves only with AllowReassignment
	// (the amazon.aws ec2_eni integration test matches "move is not allowed").
	_, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other), PrivateIpAddresses: []string{"10.0.1.11"}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	eniWantMessage(t, err, "Address 10.0.1.11 is already assigned and move is not allowed.")
	// AllowReassignment moves a secondary and its Elastic IP.
	alloc, public := x.eip(t, id, "10.0.1.11")
	if _, err := x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other), PrivateIpAddresses: []string{"10.0.1.11"}, AllowReassignment: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(eniPrivateIPs(x.get(t, id)), "10.0.1.11") {
		t.Fatal("address still on the old ENI")
	}
	got := x.get(t, other)
	if ips := eniPrivateIPs(got); len(ips) != 2 || ips[1] != "10.0.1.11" || got.PrivateIpAddresses[1].Association == nil ||
		aws.ToString(got.PrivateIpAddresses[1].Association.PublicIp) != public {
		t.Fatalf("moved = %+v", got.PrivateIpAddresses)
	}
	if a := x.address(t, alloc); aws.ToString(a.NetworkInterfaceId) != other || aws.ToString(a.PrivateIpAddress) != "10.0.1.11" {
		t.Fatalf("address = %+v", a)
	}
	// Unassign: not the primary, only its own addresses; EIPs are disassociated.
	_, err = x.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other), PrivateIpAddresses: []string{aws.ToString(got.PrivateIpAddress)}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = x.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other), PrivateIpAddresses: []string{"10.0.1.10"}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	eniWantMessage(t, err, "Some of the specified addresses are not assigned to interface "+other)
	_, err = x.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other)})
	apitest.WantCode(t, err, "MissingParameter")
	if _, err := x.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(other), PrivateIpAddresses: []string{"10.0.1.11"}}); err != nil {
		t.Fatal(err)
	}
	if a := x.address(t, alloc); a.AssociationId != nil || a.NetworkInterfaceId != nil || a.PrivateIpAddress != nil {
		t.Fatalf("address still associated: %+v", a)
	}
	if ips := eniPrivateIPs(x.get(t, other)); len(ips) != 1 {
		t.Fatalf("ips = %v", ips)
	}
}

func TestENIAssignUnassignIPv6(t *testing.T) {
	x := newENIEnv(t)
	id := aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.sub6), Ipv6AddressCount: aws.Int32(1)}).NetworkInterfaceId)
	out, err := x.c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: aws.String(id), Ipv6AddressCount: aws.Int32(2)})
	if err != nil || len(out.AssignedIpv6Addresses) != 2 || aws.ToString(out.NetworkInterfaceId) != id {
		t.Fatalf("assign: %+v %v", out, err)
	}
	got := x.get(t, id)
	if len(got.Ipv6Addresses) != 3 {
		t.Fatalf("ipv6 = %+v", got.Ipv6Addresses)
	}
	taken := aws.ToString(got.Ipv6Addresses[0].Ipv6Address)
	if ids := x.ids(t, eniFilter("ipv6-addresses.ipv6-address", taken)); !slices.Equal(ids, []string{id}) {
		t.Fatalf("filter: %v", ids)
	}
	other := aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.sub6)}).NetworkInterfaceId)
	_, err = x.c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: aws.String(other), Ipv6Addresses: []string{taken}})
	apitest.WantCode(t, err, "InvalidIPAddress.InUse")
	_, err = x.c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: aws.String(other), Ipv6Addresses: []string{taken}, Ipv6AddressCount: aws.Int32(1)})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = x.c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: aws.String(other), Ipv6Addresses: []string{"2001:db8::1"}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	v4 := aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)}).NetworkInterfaceId)
	_, err = x.c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: aws.String(v4), Ipv6AddressCount: aws.Int32(1)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	u, err := x.c.UnassignIpv6Addresses(ctx, &ec2.UnassignIpv6AddressesInput{NetworkInterfaceId: aws.String(id), Ipv6Addresses: []string{taken}})
	if err != nil || !slices.Equal(u.UnassignedIpv6Addresses, []string{taken}) {
		t.Fatalf("unassign: %+v %v", u, err)
	}
	_, err = x.c.UnassignIpv6Addresses(ctx, &ec2.UnassignIpv6AddressesInput{NetworkInterfaceId: aws.String(id), Ipv6Addresses: []string{taken}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	if _, err := x.c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: aws.String(other), Ipv6Addresses: []string{taken}}); err != nil {
		t.Fatal(err)
	}
}

func TestENIPermissionsSDK(t *testing.T) {
	x := newENIEnv(t)
	id := aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)}).NetworkInterfaceId)
	out, err := x.c.CreateNetworkInterfacePermission(ctx, &ec2.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: aws.String(id), Permission: types.InterfacePermissionTypeInstanceAttach, AwsAccountId: aws.String("210987654321")})
	if err != nil {
		t.Fatal(err)
	}
	pm := out.InterfacePermission
	pid := aws.ToString(pm.NetworkInterfacePermissionId)
	if !strings.HasPrefix(pid, "eni-perm-") || pm.PermissionState.State != types.NetworkInterfacePermissionStateCodeGranted ||
		aws.ToString(pm.AwsAccountId) != "210987654321" || pm.Permission != types.InterfacePermissionTypeInstanceAttach || aws.ToString(pm.NetworkInterfaceId) != id {
		t.Fatalf("permission = %+v", pm)
	}
	if _, err := x.c.CreateNetworkInterfacePermission(ctx, &ec2.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: aws.String(id), Permission: types.InterfacePermissionTypeEipAssociate, AwsAccountId: aws.String("210987654321")}); err != nil {
		t.Fatal(err)
	}
	_, err = x.c.CreateNetworkInterfacePermission(ctx, &ec2.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: aws.String(id), Permission: "READ", AwsAccountId: aws.String("210987654321")})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = x.c.CreateNetworkInterfacePermission(ctx, &ec2.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: aws.String("eni-0123456789abcdef0"), Permission: types.InterfacePermissionTypeEipAssociate, AwsAccountId: aws.String("210987654321")})
	apitest.WantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	d, err := x.c.DescribeNetworkInterfacePermissions(ctx, &ec2.DescribeNetworkInterfacePermissionsInput{Filters: []types.Filter{eniFilter("network-interface-permission.permission", "INSTANCE-ATTACH")}})
	if err != nil || len(d.NetworkInterfacePermissions) != 1 || aws.ToString(d.NetworkInterfacePermissions[0].NetworkInterfacePermissionId) != pid {
		t.Fatalf("describe: %+v %v", d, err)
	}
	d, err = x.c.DescribeNetworkInterfacePermissions(ctx, &ec2.DescribeNetworkInterfacePermissionsInput{NetworkInterfacePermissionIds: []string{pid}})
	if err != nil || len(d.NetworkInterfacePermissions) != 1 {
		t.Fatalf("describe by id: %+v %v", d, err)
	}
	_, err = x.c.DescribeNetworkInterfacePermissions(ctx, &ec2.DescribeNetworkInterfacePermissionsInput{MaxResults: aws.Int32(256)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = x.c.DescribeNetworkInterfacePermissions(ctx, &ec2.DescribeNetworkInterfacePermissionsInput{NetworkInterfacePermissionIds: []string{"eni-perm-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidNetworkInterfacePermissionID.NotFound")
	pages := 0
	p := ec2.NewDescribeNetworkInterfacePermissionsPaginator(x.c, &ec2.DescribeNetworkInterfacePermissionsInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		if _, err := p.NextPage(ctx); err != nil {
			t.Fatal(err)
		}
		pages++
	}
	if pages != 1 {
		t.Fatalf("pages = %d", pages)
	}
	if _, err := x.c.DeleteNetworkInterfacePermission(ctx, &ec2.DeleteNetworkInterfacePermissionInput{NetworkInterfacePermissionId: aws.String(pid)}); err != nil {
		t.Fatal(err)
	}
	_, err = x.c.DeleteNetworkInterfacePermission(ctx, &ec2.DeleteNetworkInterfacePermissionInput{NetworkInterfacePermissionId: aws.String(pid)})
	apitest.WantCode(t, err, "InvalidNetworkInterfacePermissionID.NotFound")
	_, err = x.c.DeleteNetworkInterfacePermission(ctx, &ec2.DeleteNetworkInterfacePermissionInput{NetworkInterfacePermissionId: aws.String("perm")})
	apitest.WantCode(t, err, "InvalidNetworkInterfacePermissionId.Malformed")
}

func TestENIDescribeIDsAndPages(t *testing.T) {
	x := newENIEnv(t)
	var ids []string
	for range 12 {
		ids = append(ids, aws.ToString(x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)}).NetworkInterfaceId))
	}
	_, err := x.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{ids[0], "eni-00000099"}})
	apitest.WantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	eniWantMessage(t, err, "The networkInterface ID 'eni-00000099' does not exist")
	_, err = x.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ids[:2], MaxResults: aws.Int32(5)})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = x.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(4)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = x.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{eniFilter("nope", "x")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	eniWantMessage(t, err, "The filter 'nope' is invalid")
	// The network-interface-id filter just returns fewer results.
	if got := x.ids(t, eniFilter("network-interface-id", ids[0], "eni-00000099")); !slices.Equal(got, ids[:1]) {
		t.Fatalf("filter: %v", got)
	}
	var seen []string
	pages := 0
	p := ec2.NewDescribeNetworkInterfacesPaginator(x.c, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), Filters: []types.Filter{eniFilter("vpc-id", x.vpc)}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, n := range out.NetworkInterfaces {
			seen = append(seen, aws.ToString(n.NetworkInterfaceId))
		}
	}
	slices.Sort(ids)
	slices.Sort(seen)
	if pages != 3 || !slices.Equal(seen, ids) {
		t.Fatalf("pages %d seen %v", pages, seen)
	}
}

// Moving an ENI keeps its addresses, MAC, groups, description, tags and
// Elastic IP; deleting it then leaves the EIP allocated but unassociated.
func TestENIMoveKeepsAttributesThenDelete(t *testing.T) {
	x := newENIEnv(t)
	x.igw(t)
	n := x.create(t, &ec2.CreateNetworkInterfaceInput{
		SubnetId: aws.String(x.sub6), Description: aws.String("floating"), Groups: []string{x.sg1, x.sg2},
		SecondaryPrivateIpAddressCount: aws.Int32(2), Ipv6AddressCount: aws.Int32(1),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("vip")}}}},
	})
	id := aws.ToString(n.NetworkInterfaceId)
	if _, err := x.c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	alloc, public := x.eip(t, id, aws.ToString(n.PrivateIpAddress))
	before := x.get(t, id)
	if before.Association == nil || aws.ToString(before.Association.PublicIp) != public || aws.ToString(before.Association.AllocationId) != alloc ||
		aws.ToString(before.Association.IpOwnerId) != "123456789012" || !strings.HasSuffix(aws.ToString(before.Association.PublicDnsName), ".compute-1.amazonaws.com") {
		t.Fatalf("association = %+v", before.Association)
	}
	if ids := x.ids(t, eniFilter("association.public-ip", public)); !slices.Equal(ids, []string{id}) {
		t.Fatalf("association filter: %v", ids)
	}
	i1 := x.instance(t, "m5.large", "us-east-1a", "running")
	i2 := x.instance(t, "m5.large", "us-east-1a", "running")
	att := x.attach(t, id, i1, 1)
	if _, err := x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(att)}); err != nil {
		t.Fatal(err)
	}
	x.attach(t, id, i2, 1)
	after := x.get(t, id)
	if aws.ToString(after.Attachment.InstanceId) != i2 {
		t.Fatalf("attachment = %+v", after.Attachment)
	}
	same := aws.ToString(before.MacAddress) == aws.ToString(after.MacAddress) &&
		slices.Equal(eniPrivateIPs(before), eniPrivateIPs(after)) &&
		aws.ToString(before.Description) == aws.ToString(after.Description) &&
		aws.ToBool(before.SourceDestCheck) == aws.ToBool(after.SourceDestCheck) &&
		len(after.Groups) == 2 && aws.ToString(after.Groups[0].GroupId) == x.sg1 &&
		len(after.Ipv6Addresses) == 1 && aws.ToString(after.Ipv6Addresses[0].Ipv6Address) == aws.ToString(before.Ipv6Addresses[0].Ipv6Address) &&
		len(after.TagSet) == 1 && aws.ToString(after.TagSet[0].Value) == "vip" &&
		after.Association != nil && aws.ToString(after.Association.PublicIp) == public
	if !same {
		t.Fatalf("attributes changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if _, err := x.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: after.Attachment.AttachmentId}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if a := x.address(t, alloc); a.AssociationId != nil || a.NetworkInterfaceId != nil || aws.ToString(a.PublicIp) != public {
		t.Fatalf("address after delete = %+v", a)
	}
}
