package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

func boolAttr(b bool) *types.AttributeBooleanValue {
	return &types.AttributeBooleanValue{Value: aws.Bool(b)}
}

// Every VPC attribute is stored and described, one per call.
func TestVpcAttributes(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	id := v.Vpc.VpcId
	get := func(a types.VpcAttributeName) bool {
		t.Helper()
		out, err := c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: id, Attribute: a})
		if err != nil {
			t.Fatal(err)
		}
		switch a {
		case types.VpcAttributeNameEnableDnsSupport:
			return aws.ToBool(out.EnableDnsSupport.Value)
		case types.VpcAttributeNameEnableDnsHostnames:
			return aws.ToBool(out.EnableDnsHostnames.Value)
		}
		return aws.ToBool(out.EnableNetworkAddressUsageMetrics.Value)
	}
	if !get(types.VpcAttributeNameEnableDnsSupport) || get(types.VpcAttributeNameEnableDnsHostnames) || get(types.VpcAttributeNameEnableNetworkAddressUsageMetrics) {
		t.Fatal("a new VPC: DNS support on, hostnames and NAU metrics off")
	}
	for _, step := range []struct {
		in   ec2.ModifyVpcAttributeInput
		attr types.VpcAttributeName
		want bool
	}{
		{ec2.ModifyVpcAttributeInput{EnableNetworkAddressUsageMetrics: boolAttr(true)}, types.VpcAttributeNameEnableNetworkAddressUsageMetrics, true},
		{ec2.ModifyVpcAttributeInput{EnableDnsHostnames: boolAttr(true)}, types.VpcAttributeNameEnableDnsHostnames, true},
		{ec2.ModifyVpcAttributeInput{EnableDnsSupport: boolAttr(false)}, types.VpcAttributeNameEnableDnsSupport, false},
		{ec2.ModifyVpcAttributeInput{EnableNetworkAddressUsageMetrics: boolAttr(false)}, types.VpcAttributeNameEnableNetworkAddressUsageMetrics, false},
	} {
		in := step.in
		in.VpcId = id
		if _, err := c.ModifyVpcAttribute(ctx, &in); err != nil {
			t.Fatal(err)
		}
		if got := get(step.attr); got != step.want {
			t.Errorf("%s = %v, want %v", step.attr, got, step.want)
		}
	}
	if !get(types.VpcAttributeNameEnableDnsHostnames) {
		t.Error("one attribute changed another")
	}
	_, err = c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: id, EnableDnsSupport: boolAttr(true), EnableNetworkAddressUsageMetrics: boolAttr(true)})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: id})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: id, Attribute: "instanceTenancy"})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String("vpc-12345678"), Attribute: types.VpcAttributeNameEnableDnsSupport})
	apitest.WantCode(t, err, "InvalidVpcID.NotFound")
}

// Every subnet attribute ModifySubnetAttribute takes is stored and shown by
// DescribeSubnets (and its filters); one attribute per call.
func TestSubnetAttributes(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	block := aws.ToString(v.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock)
	s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"),
		Ipv6CidrBlock: aws.String(block[:len(block)-3] + "/64")})
	if err != nil {
		t.Fatal(err)
	}
	id := s.Subnet.SubnetId
	modify := func(in ec2.ModifySubnetAttributeInput) error {
		in.SubnetId = id
		_, err := c.ModifySubnetAttribute(ctx, &in)
		return err
	}
	for _, in := range []ec2.ModifySubnetAttributeInput{
		{MapPublicIpOnLaunch: boolAttr(true)},
		{AssignIpv6AddressOnCreation: boolAttr(true)},
		{EnableDns64: boolAttr(true)},
		{PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeResourceName},
		{EnableResourceNameDnsARecordOnLaunch: boolAttr(true)},
		{EnableResourceNameDnsAAAARecordOnLaunch: boolAttr(true)},
		{MapCustomerOwnedIpOnLaunch: boolAttr(false)},
		{DisableLniAtDeviceIndex: boolAttr(true)},
	} {
		if err := modify(in); err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
	}
	out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{*id}})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Subnets[0]
	o := got.PrivateDnsNameOptionsOnLaunch
	if !aws.ToBool(got.MapPublicIpOnLaunch) || !aws.ToBool(got.AssignIpv6AddressOnCreation) || !aws.ToBool(got.EnableDns64) ||
		o.HostnameType != types.HostnameTypeResourceName || !aws.ToBool(o.EnableResourceNameDnsARecord) || !aws.ToBool(o.EnableResourceNameDnsAAAARecord) ||
		aws.ToBool(got.MapCustomerOwnedIpOnLaunch) || got.EnableLniAtDeviceIndex != nil {
		t.Fatalf("described %+v %+v", got, o)
	}
	for name, value := range map[string]string{
		"map-public-ip-on-launch": "true", "assign-ipv6-address-on-creation": "true", "enable-dns64": "true",
		"private-dns-name-options-on-launch.hostname-type":                        "resource-name",
		"private-dns-name-options-on-launch.enable-resource-name-dns-a-record":    "true",
		"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record": "true",
	} {
		out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter(name, value), filter("vpc-id", *v.Vpc.VpcId)}})
		if err != nil || len(out.Subnets) != 1 {
			t.Errorf("filter %s=%s: %v %d", name, value, err, len(out.Subnets))
		}
	}
	for _, bad := range []struct {
		in   ec2.ModifySubnetAttributeInput
		code string
	}{
		{ec2.ModifySubnetAttributeInput{MapPublicIpOnLaunch: boolAttr(false), EnableDns64: boolAttr(false)}, "InvalidParameterCombination"},
		{ec2.ModifySubnetAttributeInput{}, "MissingParameter"},
		{ec2.ModifySubnetAttributeInput{PrivateDnsHostnameTypeOnLaunch: "host-name"}, "InvalidParameterValue"},
		{ec2.ModifySubnetAttributeInput{MapCustomerOwnedIpOnLaunch: boolAttr(true)}, "InvalidParameterCombination"},
		{ec2.ModifySubnetAttributeInput{MapCustomerOwnedIpOnLaunch: boolAttr(true), CustomerOwnedIpv4Pool: aws.String("ipv4pool-coip-0123456789abcdef0")}, "InvalidParameterValue"},
		{ec2.ModifySubnetAttributeInput{EnableLniAtDeviceIndex: aws.Int32(1)}, "InvalidParameterValue"},
	} {
		apitest.WantCode(t, modify(bad.in), bad.code)
	}
}

// An instance takes its hostname options from its subnet at launch (or
// from the launch) and keeps them when the subnet's change.
func TestInstanceHostnameOptions(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	s := mustSubnet(t, c, *v.Vpc.VpcId, "10.0.1.0/24")
	for _, in := range []ec2.ModifySubnetAttributeInput{{PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeResourceName}, {EnableResourceNameDnsARecordOnLaunch: boolAttr(true)}} {
		in.SubnetId = s
		if _, err := c.ModifySubnetAttribute(ctx, &in); err != nil {
			t.Fatal(err)
		}
	}
	launch := func(o *types.PrivateDnsNameOptionsRequest) (types.Instance, error) {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: s, PrivateDnsNameOptions: o})
		if err != nil {
			return types.Instance{}, err
		}
		return out.Instances[0], nil
	}
	a, err := launch(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o := a.PrivateDnsNameOptions; o.HostnameType != types.HostnameTypeResourceName || !aws.ToBool(o.EnableResourceNameDnsARecord) || aws.ToBool(o.EnableResourceNameDnsAAAARecord) {
		t.Errorf("from the subnet: %+v", o)
	}
	b, err := launch(&types.PrivateDnsNameOptionsRequest{HostnameType: types.HostnameTypeIpName, EnableResourceNameDnsARecord: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if o := b.PrivateDnsNameOptions; o.HostnameType != types.HostnameTypeIpName || aws.ToBool(o.EnableResourceNameDnsARecord) {
		t.Errorf("from the launch: %+v", o)
	}
	_, err = launch(&types.PrivateDnsNameOptionsRequest{EnableResourceNameDnsAAAARecord: aws.Bool(true)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	in := ec2.ModifySubnetAttributeInput{SubnetId: s, PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeIpName}
	if _, err := c.ModifySubnetAttribute(ctx, &in); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{*a.InstanceId}})
	if err != nil {
		t.Fatal(err)
	}
	if o := out.Reservations[0].Instances[0].PrivateDnsNameOptions; o.HostnameType != types.HostnameTypeResourceName {
		t.Errorf("after the subnet changed: %+v", o)
	}
}
