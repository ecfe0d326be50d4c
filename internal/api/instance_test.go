package api_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

const testAMI = "ami-0a3c3a20c09d6f377"

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// runInstance launches one instance and fails the test on error.
func runInstance(t *testing.T, c *ec2.Client, in *ec2.RunInstancesInput) types.Instance {
	t.Helper()
	if in.ImageId == nil {
		in.ImageId = aws.String(testAMI)
	}
	if in.MinCount == nil {
		in.MinCount, in.MaxCount = aws.Int32(1), aws.Int32(1)
	}
	out, err := c.RunInstances(ctx, in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	if len(out.Instances) != 1 {
		t.Fatalf("launched %d instances", len(out.Instances))
	}
	return out.Instances[0]
}

// describeInstance returns the current view of one instance.
func describeInstance(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances %s: %+v", id, out.Reservations)
	}
	return out.Reservations[0].Instances[0]
}

func describeENI(t *testing.T, c *ec2.Client, id string) (types.NetworkInterface, bool) {
	t.Helper()
	out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("network-interface-id", id)}})
	if err != nil {
		t.Fatalf("DescribeNetworkInterfaces: %v", err)
	}
	if len(out.NetworkInterfaces) == 0 {
		return types.NetworkInterface{}, false
	}
	return out.NetworkInterfaces[0], true
}

func defaultSubnet(t *testing.T, c *ec2.Client, az string) types.Subnet {
	t.Helper()
	out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("default-for-az", "true"), filter("availability-zone", az)}})
	if err != nil || len(out.Subnets) != 1 {
		t.Fatalf("default subnet of %s: %+v %v", az, out, err)
	}
	return out.Subnets[0]
}

func TestRunInstancesPublicIPFollowsSubnet(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.8.1.0/24"), AvailabilityZone: aws.String("us-east-1b")})
	if err != nil {
		t.Fatal(err)
	}
	subID := sub.Subnet.SubnetId
	inst := runInstance(t, c, &ec2.RunInstancesInput{SubnetId: subID})
	if inst.PublicIpAddress != nil || aws.ToString(inst.VpcId) != aws.ToString(vpc.Vpc.VpcId) || aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1b" {
		t.Errorf("private subnet launch = %+v", inst)
	}
	// AssociatePublicIpAddress overrides the subnet.
	inst = runInstance(t, c, &ec2.RunInstancesInput{NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: aws.Int32(0), SubnetId: subID, AssociatePublicIpAddress: aws.Bool(true)},
	}})
	if inst.PublicIpAddress == nil {
		t.Errorf("AssociatePublicIpAddress=true gave no public IP")
	}
	if _, err := c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: subID, MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if inst := runInstance(t, c, &ec2.RunInstancesInput{SubnetId: subID}); inst.PublicIpAddress == nil {
		t.Errorf("MapPublicIpOnLaunch subnet gave no public IP")
	}
	if inst := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro, NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: aws.Int32(0), SubnetId: subID}, {DeviceIndex: aws.Int32(1), SubnetId: subID},
	}}); inst.PublicIpAddress != nil {
		t.Errorf("two-interface launch got public IP %s", aws.ToString(inst.PublicIpAddress))
	}
	// A secondary ENI may come from another subnet of the zone; a subnet of another zone is refused.
	def := defaultSubnet(t, c, "us-east-1a")
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro,
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: subID}, {DeviceIndex: aws.Int32(1), SubnetId: def.SubnetId}}})
	apitest.WantCode(t, err, "InvalidParameterValue")
}

func TestDescribeInstanceTypes(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	out, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"m5.large", "p4d.24xlarge"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.InstanceTypes) != 2 {
		t.Fatalf("got %d types", len(out.InstanceTypes))
	}
	m5 := out.InstanceTypes[0]
	ni := m5.NetworkInfo
	if m5.InstanceType != "m5.large" || aws.ToInt32(ni.MaximumNetworkInterfaces) != 3 || aws.ToInt32(ni.Ipv4AddressesPerInterface) != 10 ||
		aws.ToInt32(ni.Ipv6AddressesPerInterface) != 10 || !aws.ToBool(ni.Ipv6Supported) || ni.EnaSupport != types.EnaSupportRequired ||
		aws.ToBool(ni.EfaSupported) || aws.ToInt32(ni.MaximumNetworkCards) != 1 || aws.ToInt32(ni.DefaultNetworkCardIndex) != 0 ||
		len(ni.NetworkCards) != 1 || aws.ToInt32(ni.NetworkCards[0].MaximumNetworkInterfaces) != 3 || aws.ToString(ni.NetworkPerformance) == "" ||
		m5.Hypervisor != types.InstanceTypeHypervisorNitro || aws.ToBool(m5.BareMetal) || !aws.ToBool(m5.CurrentGeneration) ||
		len(m5.SupportedUsageClasses) == 0 || m5.ProcessorInfo.SupportedArchitectures[0] != types.ArchitectureTypeX8664 {
		t.Errorf("m5.large = %+v / %+v", m5, ni)
	}
	p4d := out.InstanceTypes[1].NetworkInfo
	if aws.ToInt32(p4d.MaximumNetworkCards) != 4 || len(p4d.NetworkCards) != 4 || aws.ToInt32(p4d.NetworkCards[2].MaximumNetworkInterfaces) != 15 {
		t.Errorf("p4d = %+v", p4d)
	}

	_, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"t3.micro", "zz9.plural"}})
	apitest.WantCode(t, err, "InvalidInstanceType")

	// Filters: old Xen types without IPv6.
	out, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{
		filter("network-info.ipv6-supported", "false"), filter("hypervisor", "xen"), filter("instance-type", "m1.*"),
	}})
	if err != nil || len(out.InstanceTypes) == 0 {
		t.Fatalf("filter: %+v %v", out, err)
	}
	for _, it := range out.InstanceTypes {
		if !strings.HasPrefix(string(it.InstanceType), "m1.") || aws.ToBool(it.NetworkInfo.Ipv6Supported) {
			t.Errorf("filtered %s", it.InstanceType)
		}
	}
	for _, f := range [][]types.Filter{
		{filter("network-info.maximum-network-interfaces", "60")},
		{filter("network-info.ipv4-addresses-per-interface", "50"), filter("bare-metal", "true")},
		{filter("network-info.ipv6-addresses-per-interface", "2")},
		{filter("network-info.efa-supported", "false"), filter("instance-type", "t3.nano")},
	} {
		out, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: f})
		if err != nil || len(out.InstanceTypes) == 0 {
			t.Errorf("filter %v: %d types, %v", aws.ToString(f[0].Name), len(out.InstanceTypes), err)
		}
	}
	out, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{filter("network-info.efa-supported", "true")}})
	if err != nil || len(out.InstanceTypes) != 0 {
		t.Errorf("efa-supported=true: %d, %v", len(out.InstanceTypes), err)
	}

	// Pagination: the seven t3 types in pages of five.
	var names []string
	pager := ec2.NewDescribeInstanceTypesPaginator(c, &ec2.DescribeInstanceTypesInput{
		Filters: []types.Filter{filter("instance-type", "t3.*")}, MaxResults: aws.Int32(5),
	})
	pages := 0
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range page.InstanceTypes {
			names = append(names, string(it.InstanceType))
		}
	}
	if pages != 2 || len(names) != 7 {
		t.Errorf("pages %d, types %v", pages, names)
	}
	_, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(101)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{filter("no-such-filter", "x")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
}

func TestDescribeImages(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	all, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if err != nil || len(all.Images) < 5 {
		t.Fatalf("images: %v %v", all, err)
	}
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, Filters: []types.Filter{
		filter("name", "al2023-ami-*"), filter("architecture", "arm64"), filter("state", "available"),
	}})
	if err != nil || len(out.Images) != 1 || out.Images[0].Architecture != types.ArchitectureValuesArm64 ||
		aws.ToString(out.Images[0].ImageOwnerAlias) != "amazon" || !strings.HasPrefix(aws.ToString(out.Images[0].ImageId), "ami-") {
		t.Fatalf("al2023 arm64: %+v %v", out, err)
	}
	out, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{filter("owner-alias", "amazon")}})
	if err != nil || len(out.Images) != 2 {
		t.Errorf("owner-alias amazon: %d %v", len(out.Images), err)
	}
	out, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"099720109477"}, Filters: []types.Filter{filter("architecture", "x86_64")}})
	if err != nil || len(out.Images) != 2 {
		t.Errorf("canonical x86_64: %d %v", len(out.Images), err)
	}
	out, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{testAMI}})
	if err != nil || len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId) != testAMI {
		t.Errorf("by id: %+v %v", out, err)
	}
	out, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{filter("image-id", testAMI)}})
	if err != nil || len(out.Images) != 1 {
		t.Errorf("image-id filter: %+v %v", out, err)
	}
	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-00000000000000001"}})
	apitest.WantCode(t, err, "InvalidAMIID.NotFound")
	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-xyz"}})
	apitest.WantCode(t, err, "InvalidAMIID.Malformed")
}

func TestRunInstancesDefaults(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	createKey(t, c, "mykey")
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName: aws.String("mykey"), UserData: aws.String(base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n")))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(out.ReservationId), "r-") || aws.ToString(out.OwnerId) != "123456789012" || len(out.Instances) != 1 {
		t.Fatalf("reservation = %+v", out)
	}
	inst := out.Instances[0]
	id := aws.ToString(inst.InstanceId)
	if !strings.HasPrefix(id, "i-") || len(id) != 19 || inst.State.Name != types.InstanceStateNamePending || aws.ToInt32(inst.State.Code) != 0 ||
		inst.InstanceType != "m1.small" || aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1a" || aws.ToInt32(inst.AmiLaunchIndex) != 0 ||
		inst.LaunchTime == nil || aws.ToString(inst.KeyName) != "mykey" {
		t.Errorf("instance = %+v", inst)
	}
	if aws.ToString(inst.PublicIpAddress) == "" || !strings.HasSuffix(aws.ToString(inst.PublicDnsName), ".compute-1.amazonaws.com") {
		t.Errorf("default subnet launch without public IP: %+v", inst)
	}
	if len(inst.NetworkInterfaces) != 1 || len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupName) != "default" {
		t.Fatalf("interfaces/groups = %+v / %+v", inst.NetworkInterfaces, inst.SecurityGroups)
	}
	ni := inst.NetworkInterfaces[0]
	if aws.ToString(ni.PrivateIpAddress) != aws.ToString(inst.PrivateIpAddress) || !aws.ToBool(ni.Attachment.DeleteOnTermination) ||
		aws.ToInt32(ni.Attachment.DeviceIndex) != 0 || aws.ToString(ni.SubnetId) != aws.ToString(inst.SubnetId) ||
		aws.ToString(inst.PrivateDnsName) != "ip-"+strings.ReplaceAll(aws.ToString(inst.PrivateIpAddress), ".", "-")+".ec2.internal" {
		t.Errorf("primary ENI %+v vs instance %+v", ni, inst)
	}

	got := describeInstance(t, c, id)
	if got.State.Name != types.InstanceStateNameRunning || aws.ToInt32(got.State.Code) != 16 ||
		aws.ToString(got.PublicIpAddress) != aws.ToString(inst.PublicIpAddress) || aws.ToString(got.VpcId) == "" || !aws.ToBool(got.SourceDestCheck) {
		t.Errorf("described = %+v", got)
	}
	eni, ok := describeENI(t, c, aws.ToString(ni.NetworkInterfaceId))
	if !ok || eni.Status != types.NetworkInterfaceStatusInUse || aws.ToString(eni.Attachment.InstanceId) != id ||
		eni.Association == nil || aws.ToString(eni.Association.PublicIp) != aws.ToString(inst.PublicIpAddress) ||
		aws.ToString(eni.Association.IpOwnerId) != "amazon" {
		t.Errorf("ENI = %+v", eni)
	}
	attr, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameUserData})
	if err != nil || aws.ToString(attr.UserData.Value) != base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n")) {
		t.Errorf("userData = %+v %v", attr, err)
	}

	// Placement picks the zone's default subnet; an explicit type is kept.
	inst = runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro, Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1c")}})
	if inst.InstanceType != types.InstanceTypeT3Micro || aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1c" {
		t.Errorf("placed = %+v", inst)
	}
}

func TestRunInstancesErrors(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	base := func(mod func(in *ec2.RunInstancesInput)) *ec2.RunInstancesInput {
		in := &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
		mod(in)
		return in
	}
	nic := func(dev int32) types.InstanceNetworkInterfaceSpecification {
		return types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(dev)}
	}
	sub := defaultSubnet(t, c, "us-east-1a")
	inUse := runInstance(t, c, &ec2.RunInstancesInput{})
	eniB, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   *ec2.RunInstancesInput
		code string
	}{
		{"malformed image", base(func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ami-nothex") }), "InvalidAMIID.Malformed"},
		{"unknown type", base(func(in *ec2.RunInstancesInput) { in.InstanceType = "t9.galactic" }), "InvalidParameterValue"},
		{"max below min", base(func(in *ec2.RunInstancesInput) { in.MinCount = aws.Int32(3) }), "InvalidParameterValue"},
		{"unknown subnet", base(func(in *ec2.RunInstancesInput) { in.SubnetId = aws.String("subnet-00000000000000000") }), "InvalidSubnetID.NotFound"},
		{"malformed subnet", base(func(in *ec2.RunInstancesInput) { in.SubnetId = aws.String("sub-1") }), "InvalidSubnetID.Malformed"},
		{"unknown group", base(func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{"sg-00000000000000000"} }), "InvalidGroup.NotFound"},
		{"unknown group name", base(func(in *ec2.RunInstancesInput) { in.SecurityGroups = []string{"nope"} }), "InvalidGroup.NotFound"},
		{"bad zone", base(func(in *ec2.RunInstancesInput) {
			in.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1q")}
		}), "InvalidParameterValue"},
		{"zone conflicts with subnet", base(func(in *ec2.RunInstancesInput) {
			in.SubnetId, in.Placement = sub.SubnetId, &types.Placement{AvailabilityZone: aws.String("us-east-1b")}
		}), "InvalidParameterValue"},
		{"bad user data", base(func(in *ec2.RunInstancesInput) { in.UserData = aws.String("not base64!") }), "InvalidParameterValue"},
		{"interfaces and subnet", base(func(in *ec2.RunInstancesInput) {
			in.SubnetId, in.NetworkInterfaces = sub.SubnetId, []types.InstanceNetworkInterfaceSpecification{nic(0)}
		}), "InvalidParameterCombination"},
		{"interfaces and groups", base(func(in *ec2.RunInstancesInput) {
			in.SecurityGroupIds, in.NetworkInterfaces = []string{"sg-12345678"}, []types.InstanceNetworkInterfaceSpecification{nic(0)}
		}), "InvalidParameterCombination"},
		{"interfaces and private IP", base(func(in *ec2.RunInstancesInput) {
			in.PrivateIpAddress, in.NetworkInterfaces = aws.String("172.31.0.50"), []types.InstanceNetworkInterfaceSpecification{nic(0)}
		}), "InvalidParameterCombination"},
		{"no device index", base(func(in *ec2.RunInstancesInput) {
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{SubnetId: sub.SubnetId}}
		}), "MissingParameter"},
		{"no device index 0", base(func(in *ec2.RunInstancesInput) {
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{nic(1)}
		}), "InvalidParameterValue"},
		{"duplicate device index", base(func(in *ec2.RunInstancesInput) {
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{nic(0), nic(0)}
		}), "InvalidParameterValue"},
		{"public IP with two interfaces", base(func(in *ec2.RunInstancesInput) {
			n := nic(0)
			n.AssociatePublicIpAddress = aws.Bool(true)
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{n, nic(1)}
		}), "InvalidParameterCombination"},
		{"existing ENI in use", base(func(in *ec2.RunInstancesInput) {
			n := nic(0)
			n.NetworkInterfaceId = inUse.NetworkInterfaces[0].NetworkInterfaceId
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{n}
		}), "InvalidNetworkInterface.InUse"},
		{"existing ENI with delete on termination", base(func(in *ec2.RunInstancesInput) {
			n := nic(0)
			n.NetworkInterfaceId, n.DeleteOnTermination = eniB.NetworkInterface.NetworkInterfaceId, aws.Bool(true)
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{n}
		}), "InvalidParameterCombination"},
		{"existing ENI with a subnet", base(func(in *ec2.RunInstancesInput) {
			n := nic(0)
			n.NetworkInterfaceId, n.SubnetId = eniB.NetworkInterface.NetworkInterfaceId, sub.SubnetId
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{n}
		}), "InvalidParameterCombination"},
		{"unknown existing ENI", base(func(in *ec2.RunInstancesInput) {
			n := nic(0)
			n.NetworkInterfaceId = aws.String("eni-00000000000000000")
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{n}
		}), "InvalidNetworkInterfaceID.NotFound"},
		{"existing ENI and two instances", base(func(in *ec2.RunInstancesInput) {
			n := nic(0)
			n.NetworkInterfaceId = eniB.NetworkInterface.NetworkInterfaceId
			in.NetworkInterfaces, in.MaxCount = []types.InstanceNetworkInterfaceSpecification{n}, aws.Int32(2)
		}), "InvalidParameterCombination"},
		{"fixed private IP and two instances", base(func(in *ec2.RunInstancesInput) {
			in.PrivateIpAddress, in.MinCount, in.MaxCount = aws.String("172.31.0.77"), aws.Int32(2), aws.Int32(2)
		}), "InvalidParameterCombination"},
		{"private IP in use", base(func(in *ec2.RunInstancesInput) { in.PrivateIpAddress = inUse.PrivateIpAddress }), "InvalidIPAddress.InUse"},
		{"private IP outside subnet", base(func(in *ec2.RunInstancesInput) {
			in.SubnetId, in.PrivateIpAddress = sub.SubnetId, aws.String("10.9.9.9")
		}), "InvalidParameterValue"},
		{"too many interfaces for the type", base(func(in *ec2.RunInstancesInput) {
			in.InstanceType = types.InstanceTypeT2Micro
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{nic(0), nic(1), nic(2)}
		}), "AttachmentLimitExceeded"},
		{"too many addresses for the type", base(func(in *ec2.RunInstancesInput) {
			n := nic(0)
			n.SecondaryPrivateIpAddressCount = aws.Int32(2) // t2.micro: 2 per ENI
			in.InstanceType, in.NetworkInterfaces = types.InstanceTypeT2Micro, []types.InstanceNetworkInterfaceSpecification{n}
		}), "InvalidInterface.IpAddressLimitExceeded"},
		{"IPv6 on a type without IPv6", base(func(in *ec2.RunInstancesInput) {
			in.InstanceType, in.Ipv6AddressCount = types.InstanceTypeM1Small, aws.Int32(1)
		}), "InvalidInterface.IpAddressLimitExceeded"},
		{"bad tag resource type", base(func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}
		}), "InvalidParameterValue"},
		{"bad shutdown behavior", base(func(in *ec2.RunInstancesInput) { in.InstanceInitiatedShutdownBehavior = "hibernate" }), "InvalidParameterValue"},
	} {
		_, err := c.RunInstances(ctx, tc.in)
		if apitest.Code(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	// Nothing of the failed launches remains.
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("instance-state-name", "running")}})
	if err != nil || len(out.Reservations) != 1 {
		t.Errorf("instances after failed launches: %+v %v", out, err)
	}
}

func TestRunInstancesMaxCountAndReservation(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(2), MaxCount: aws.Int32(3),
		InstanceType: types.InstanceTypeT3Micro,
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}},
			{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("nic")}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Instances) != 3 {
		t.Fatalf("launched %d, want MaxCount 3", len(out.Instances))
	}
	ips := map[string]bool{}
	for i, inst := range out.Instances {
		if aws.ToInt32(inst.AmiLaunchIndex) != int32(i) || len(inst.Tags) != 1 {
			t.Errorf("instance %d = %+v", i, inst)
		}
		ips[aws.ToString(inst.PrivateIpAddress)] = true
	}
	if len(ips) != 3 {
		t.Errorf("private IPs %v", ips)
	}
	desc, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil || len(desc.Reservations) != 1 || len(desc.Reservations[0].Instances) != 3 ||
		aws.ToString(desc.Reservations[0].ReservationId) != aws.ToString(out.ReservationId) {
		t.Fatalf("reservations = %+v %v", desc, err)
	}
	enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("tag:role", "nic")}})
	if err != nil || len(enis.NetworkInterfaces) != 3 {
		t.Errorf("tagged ENIs: %d %v", len(enis.NetworkInterfaces), err)
	}
}

func TestRunInstancesNetworkInterfaces(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	sub := defaultSubnet(t, c, "us-east-1b")
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: sub.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	inst := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Medium, NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: aws.Int32(0), SubnetId: sub.SubnetId, Groups: []string{aws.ToString(sg.GroupId)}, Description: aws.String("primary"),
			PrivateIpAddresses:             []types.PrivateIpAddressSpecification{{PrivateIpAddress: aws.String("172.31.16.100"), Primary: aws.Bool(true)}, {PrivateIpAddress: aws.String("172.31.16.101")}},
			SecondaryPrivateIpAddressCount: nil},
		{DeviceIndex: aws.Int32(1), SecondaryPrivateIpAddressCount: aws.Int32(2), DeleteOnTermination: aws.Bool(false), Description: aws.String("data")},
	}})
	id := aws.ToString(inst.InstanceId)
	if aws.ToString(inst.PrivateIpAddress) != "172.31.16.100" || inst.PublicIpAddress != nil || len(inst.NetworkInterfaces) != 2 ||
		aws.ToString(inst.SecurityGroups[0].GroupId) != aws.ToString(sg.GroupId) || aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1b" {
		t.Fatalf("instance = %+v", inst)
	}
	var primary, data types.InstanceNetworkInterface
	for _, n := range inst.NetworkInterfaces {
		if aws.ToInt32(n.Attachment.DeviceIndex) == 0 {
			primary = n
		} else {
			data = n
		}
	}
	if len(primary.PrivateIpAddresses) != 2 || !aws.ToBool(primary.Attachment.DeleteOnTermination) || aws.ToString(primary.Description) != "primary" {
		t.Errorf("primary = %+v", primary)
	}
	if len(data.PrivateIpAddresses) != 3 || aws.ToBool(data.Attachment.DeleteOnTermination) || aws.ToString(data.SubnetId) != aws.ToString(sub.SubnetId) {
		t.Errorf("data = %+v", data)
	}

	// Terminate: the primary (delete on termination) goes, the data ENI stays with its addresses.
	term, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(term.TerminatingInstances) != 1 || term.TerminatingInstances[0].CurrentState.Name != types.InstanceStateNameShuttingDown {
		t.Fatalf("terminate: %+v %v", term, err)
	}
	if _, ok := describeENI(t, c, aws.ToString(primary.NetworkInterfaceId)); ok {
		t.Error("primary ENI survived termination")
	}
	left, ok := describeENI(t, c, aws.ToString(data.NetworkInterfaceId))
	if !ok || left.Status != types.NetworkInterfaceStatusAvailable || left.Attachment != nil || len(left.PrivateIpAddresses) != 3 ||
		aws.ToString(left.Description) != "data" {
		t.Errorf("data ENI after terminate = %+v", left)
	}
	gone := describeInstance(t, c, id)
	if gone.State.Name != types.InstanceStateNameTerminated || len(gone.NetworkInterfaces) != 0 || gone.PrivateIpAddress != nil {
		t.Errorf("terminated = %+v", gone)
	}

	// The kept ENI launches a new instance as its primary: the ENI fixes the zone.
	again := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Medium, NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: aws.Int32(0), NetworkInterfaceId: data.NetworkInterfaceId},
	}})
	if aws.ToString(again.Placement.AvailabilityZone) != "us-east-1b" || aws.ToString(again.PrivateIpAddress) != aws.ToString(data.PrivateIpAddress) ||
		again.PublicIpAddress != nil || aws.ToBool(again.NetworkInterfaces[0].Attachment.DeleteOnTermination) {
		t.Errorf("relaunch on existing ENI = %+v", again)
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(again.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	if left, ok := describeENI(t, c, aws.ToString(data.NetworkInterfaceId)); !ok || left.Status != types.NetworkInterfaceStatusAvailable {
		t.Errorf("existing ENI after second terminate = %+v %v", left, ok)
	}

	// An existing ENI in another zone than Placement is refused.
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement:         &types.Placement{AvailabilityZone: aws.String("us-east-1a")},
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), NetworkInterfaceId: data.NetworkInterfaceId}}})
	apitest.WantCode(t, err, "InvalidParameterValue")
}

func TestInstancePublicIPLifecycle(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := runInstance(t, c, &ec2.RunInstancesInput{})
	id := aws.ToString(inst.InstanceId)
	first := aws.ToString(inst.PublicIpAddress)
	if first == "" {
		t.Fatal("no auto-assigned public IP in a default subnet")
	}

	stop, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil || stop.StoppingInstances[0].PreviousState.Name != types.InstanceStateNameRunning ||
		stop.StoppingInstances[0].CurrentState.Name != types.InstanceStateNameStopping || aws.ToInt32(stop.StoppingInstances[0].CurrentState.Code) != 64 {
		t.Fatalf("stop: %+v %v", stop, err)
	}
	got := describeInstance(t, c, id)
	if got.State.Name != types.InstanceStateNameStopped || got.PublicIpAddress != nil || aws.ToString(got.PrivateIpAddress) != aws.ToString(inst.PrivateIpAddress) ||
		len(got.NetworkInterfaces) != 1 || got.NetworkInterfaces[0].Association != nil || got.StateReason == nil {
		t.Errorf("stopped = %+v", got)
	}
	start, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	if err != nil || start.StartingInstances[0].PreviousState.Name != types.InstanceStateNameStopped ||
		start.StartingInstances[0].CurrentState.Name != types.InstanceStateNamePending {
		t.Fatalf("start: %+v %v", start, err)
	}
	got = describeInstance(t, c, id)
	if got.State.Name != types.InstanceStateNameRunning || aws.ToString(got.PublicIpAddress) == "" {
		t.Errorf("started = %+v", got)
	}

	// With an Elastic IP the instance shows it, keeps it over stop/start and
	// gets no new auto-assigned address.
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if got := describeInstance(t, c, id); aws.ToString(got.PublicIpAddress) != aws.ToString(alloc.PublicIp) {
		t.Errorf("with EIP: ipAddress %s, want %s", aws.ToString(got.PublicIpAddress), aws.ToString(alloc.PublicIp))
	}
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	got = describeInstance(t, c, id)
	eni, _ := describeENI(t, c, aws.ToString(got.NetworkInterfaces[0].NetworkInterfaceId))
	if aws.ToString(got.PublicIpAddress) != aws.ToString(alloc.PublicIp) || eni.Association == nil || aws.ToString(eni.Association.AllocationId) != aws.ToString(alloc.AllocationId) {
		t.Errorf("after stop/start with EIP: %+v / %+v", got, eni.Association)
	}

	// Terminate deletes the ENI; the EIP stays allocated, unassociated.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	addrs, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(alloc.AllocationId)}})
	if err != nil || len(addrs.Addresses) != 1 || addrs.Addresses[0].AssociationId != nil || addrs.Addresses[0].NetworkInterfaceId != nil {
		t.Errorf("EIP after terminate: %+v %v", addrs, err)
	}
}

func TestInstanceStateTransitions(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	id := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{}).InstanceId)
	ids := []string{id}

	stop, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids})
	if err != nil || aws.ToInt32(stop.StoppingInstances[0].PreviousState.Code) != 16 {
		t.Fatalf("stop: %+v %v", stop, err)
	}
	stop, err = c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids})
	if err != nil || aws.ToInt32(stop.StoppingInstances[0].PreviousState.Code) != 80 || aws.ToInt32(stop.StoppingInstances[0].CurrentState.Code) != 80 {
		t.Fatalf("stop again: %+v %v", stop, err)
	}
	states, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("instance-state-code", "80")}})
	if err != nil || len(states.Reservations) != 1 {
		t.Errorf("instance-state-code 80: %+v %v", states, err)
	}
	start, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids})
	if err != nil || aws.ToInt32(start.StartingInstances[0].CurrentState.Code) != 0 {
		t.Fatalf("start: %+v %v", start, err)
	}
	start, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids})
	if err != nil || aws.ToInt32(start.StartingInstances[0].PreviousState.Code) != 16 {
		t.Fatalf("start running: %+v %v", start, err)
	}
	term, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err != nil || aws.ToInt32(term.TerminatingInstances[0].PreviousState.Code) != 16 || aws.ToInt32(term.TerminatingInstances[0].CurrentState.Code) != 32 {
		t.Fatalf("terminate: %+v %v", term, err)
	}
	term, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err != nil || aws.ToInt32(term.TerminatingInstances[0].CurrentState.Code) != 48 {
		t.Fatalf("terminate again: %+v %v", term, err)
	}
	if got := describeInstance(t, c, id); got.State.Name != types.InstanceStateNameTerminated || aws.ToInt32(got.State.Code) != 48 {
		t.Errorf("terminated = %+v", got.State)
	}
	_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids})
	apitest.WantCode(t, err, "IncorrectInstanceState")
	_, err = c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids})
	apitest.WantCode(t, err, "IncorrectInstanceState")
	_, err = c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-00000000000000000"}})
	apitest.WantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-zz"}})
	apitest.WantCode(t, err, "InvalidInstanceID.Malformed")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id, "i-00000000000000000"}})
	apitest.WantCode(t, err, "InvalidInstanceID.NotFound")
}

func TestInstanceDisableApiTermination(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	id := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{DisableApiTermination: aws.Bool(true)}).InstanceId)
	_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	apitest.WantCode(t, err, "OperationNotPermitted")
	attr, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameDisableApiTermination})
	if err != nil || !aws.ToBool(attr.DisableApiTermination.Value) {
		t.Fatalf("attribute: %+v %v", attr, err)
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
}

func TestDescribeInstancesFilters(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	createKey(t, c, "k1")
	web := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro, KeyName: aws.String("k1"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}})
	db := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeM5Large, Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1b")},
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0)}, {DeviceIndex: aws.Int32(1)}}})
	webID, dbID := aws.ToString(web.InstanceId), aws.ToString(db.InstanceId)
	dbRes, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{dbID}})
	if err != nil {
		t.Fatal(err)
	}
	second := db.NetworkInterfaces[1]
	if aws.ToInt32(second.Attachment.DeviceIndex) != 1 {
		second = db.NetworkInterfaces[0]
	}
	for _, tc := range []struct {
		f    types.Filter
		want string
	}{
		{filter("instance-id", webID), webID},
		{filter("instance-type", "m5.*"), dbID},
		{filter("tag:Name", "web"), webID},
		{filter("key-name", "k1"), webID},
		{filter("availability-zone", "us-east-1b"), dbID},
		{filter("subnet-id", aws.ToString(web.SubnetId)), webID},
		{filter("private-ip-address", aws.ToString(db.PrivateIpAddress)), dbID},
		{filter("ip-address", aws.ToString(web.PublicIpAddress)), webID},
		{filter("private-dns-name", aws.ToString(web.PrivateDnsName)), webID},
		{filter("reservation-id", aws.ToString(dbRes.Reservations[0].ReservationId)), dbID},
		{filter("image-id", testAMI), ""},
		{filter("vpc-id", aws.ToString(web.VpcId)), ""},
		{filter("instance.group-name", "default"), ""},
		{filter("instance.group-id", aws.ToString(web.SecurityGroups[0].GroupId)), ""},
		{filter("network-interface.network-interface-id", aws.ToString(second.NetworkInterfaceId)), dbID},
		{filter("network-interface.addresses.private-ip-address", aws.ToString(second.PrivateIpAddress)), dbID},
		{filter("network-interface.attachment.device-index", "1"), dbID},
		{filter("network-interface.mac-address", aws.ToString(web.NetworkInterfaces[0].MacAddress)), webID},
		{filter("network-interface.association.public-ip", aws.ToString(web.PublicIpAddress)), webID},
		{filter("network-interface.subnet-id", aws.ToString(second.SubnetId)), dbID},
	} {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{tc.f}})
		if err != nil {
			t.Errorf("%s: %v", aws.ToString(tc.f.Name), err)
			continue
		}
		var got []string
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				got = append(got, aws.ToString(i.InstanceId))
			}
		}
		if (tc.want == "" && len(got) != 2) || (tc.want != "" && (len(got) != 1 || got[0] != tc.want)) {
			t.Errorf("%s=%v: got %v, want %q", aws.ToString(tc.f.Name), tc.f.Values, got, tc.want)
		}
	}
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("no-such", "x")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{webID}, MaxResults: aws.Int32(5)})
	apitest.WantCode(t, err, "InvalidParameterCombination")
}

func TestDescribeInstancesPagination(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(4), MaxCount: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(3), MaxCount: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	pager := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	seen := map[string]bool{}
	pages := 0
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n := 0
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				seen[aws.ToString(i.InstanceId)] = true
				n++
			}
		}
		if n > 5 {
			t.Errorf("page of %d", n)
		}
	}
	if pages != 2 || len(seen) != 7 {
		t.Errorf("pages %d, instances %d", pages, len(seen))
	}
	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{NextToken: aws.String("!!")})
	apitest.WantCode(t, err, "InvalidNextToken")
}

func TestInstanceAttributes(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})
	id := aws.String(aws.ToString(inst.InstanceId))
	desc := func(a types.InstanceAttributeName) *ec2.DescribeInstanceAttributeOutput {
		t.Helper()
		out, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: id, Attribute: a})
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		return out
	}
	if v := desc(types.InstanceAttributeNameInstanceType).InstanceType; aws.ToString(v.Value) != "t3.micro" {
		t.Errorf("instanceType = %+v", v)
	}
	if v := desc(types.InstanceAttributeNameInstanceInitiatedShutdownBehavior).InstanceInitiatedShutdownBehavior; aws.ToString(v.Value) != "stop" {
		t.Errorf("shutdown = %+v", v)
	}
	if v := desc(types.InstanceAttributeNameSourceDestCheck).SourceDestCheck; !aws.ToBool(v.Value) {
		t.Errorf("sourceDestCheck = %+v", v)
	}
	if v := desc(types.InstanceAttributeNameGroupSet).Groups; len(v) != 1 || aws.ToString(v[0].GroupName) != "default" {
		t.Errorf("groupSet = %+v", v)
	}
	if v := desc(types.InstanceAttributeNameDisableApiStop).DisableApiStop; v == nil || aws.ToBool(v.Value) {
		t.Errorf("disableApiStop = %+v", v)
	}
	// Only the requested attribute; an empty list when it is the one asked for.
	if o := desc(types.InstanceAttributeNameInstanceType); o.Groups != nil || o.BlockDeviceMappings != nil || o.ProductCodes != nil {
		t.Errorf("instanceType reply has lists: %+v", o)
	}
	if o := desc(types.InstanceAttributeNameBlockDeviceMapping); len(o.BlockDeviceMappings) != 1 || aws.ToString(o.BlockDeviceMappings[0].DeviceName) != "/dev/xvda" || o.Groups != nil {
		t.Errorf("blockDeviceMapping reply: %+v", o)
	}

	// sourceDestCheck and groupSet act on the primary ENI.
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id, SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	eniID := aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId)
	if eni, _ := describeENI(t, c, eniID); aws.ToBool(eni.SourceDestCheck) {
		t.Error("sourceDestCheck did not reach the ENI")
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("app"), VpcId: inst.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id, Groups: []string{aws.ToString(sg.GroupId)}}); err != nil {
		t.Fatal(err)
	}
	if got := describeInstance(t, c, *id); len(got.SecurityGroups) != 1 || aws.ToString(got.SecurityGroups[0].GroupName) != "app" {
		t.Errorf("groups = %+v", got.SecurityGroups)
	}
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id, Groups: []string{"sg-00000000000000000"}})
	apitest.WantCode(t, err, "InvalidGroup.NotFound")
	// Attribute/Value form.
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id, Attribute: types.InstanceAttributeNameInstanceInitiatedShutdownBehavior, Value: aws.String("terminate")}); err != nil {
		t.Fatal(err)
	}
	if v := desc(types.InstanceAttributeNameInstanceInitiatedShutdownBehavior).InstanceInitiatedShutdownBehavior; aws.ToString(v.Value) != "terminate" {
		t.Errorf("shutdown = %+v", v)
	}

	// Type and user data need a stopped instance.
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id, InstanceType: &types.AttributeValue{Value: aws.String("m5.large")}})
	apitest.WantCode(t, err, "IncorrectInstanceState")
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{*id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id, InstanceType: &types.AttributeValue{Value: aws.String("m5.large")}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id, InstanceType: &types.AttributeValue{Value: aws.String("m5.gigantic")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id, UserData: &types.SecureBlobAttributeValue{Value: []byte("echo new")}}); err != nil {
		t.Fatal(err)
	}
	if v := desc(types.InstanceAttributeNameUserData).UserData; aws.ToString(v.Value) != base64.StdEncoding.EncodeToString([]byte("echo new")) {
		t.Errorf("userData = %+v", v)
	}
	if got := describeInstance(t, c, *id); got.InstanceType != types.InstanceTypeM5Large {
		t.Errorf("type = %s", got.InstanceType)
	}

	// Errors.
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id,
		SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(true)}, DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: id, Attribute: "colour"})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String("i-00000000000000000"), Attribute: types.InstanceAttributeNameInstanceType})
	apitest.WantCode(t, err, "InvalidInstanceID.NotFound")

	// An instance with two ENIs refuses instance-level sourceDestCheck/groupSet.
	two := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro,
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0)}, {DeviceIndex: aws.Int32(1)}}})
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: two.InstanceId, SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
	apitest.WantCode(t, err, "InvalidInstanceID")
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: two.InstanceId, Groups: []string{aws.ToString(sg.GroupId)}})
	apitest.WantCode(t, err, "InvalidInstanceID")
	// t3.micro takes 2 ENIs: a third at launch is over the limit; changing to a 2-ENI type keeps fitting.
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro,
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0)}, {DeviceIndex: aws.Int32(1)}, {DeviceIndex: aws.Int32(2)}}})
	apitest.WantCode(t, err, "AttachmentLimitExceeded")
}

func TestRunInstancesClientToken(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	in := &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String("tok-1")}
	a, err := c.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.RunInstances(ctx, in)
	if err != nil || aws.ToString(b.Instances[0].InstanceId) != aws.ToString(a.Instances[0].InstanceId) {
		t.Fatalf("retry: %v %v", b, err)
	}
	if got := describeInstance(t, c, aws.ToString(a.Instances[0].InstanceId)); aws.ToString(got.ClientToken) != "tok-1" {
		t.Errorf("client token = %q", aws.ToString(got.ClientToken))
	}
	in.InstanceType = types.InstanceTypeT3Micro
	_, err = c.RunInstances(ctx, in)
	apitest.WantCode(t, err, "IdempotentParameterMismatch")
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil || len(out.Reservations) != 1 {
		t.Errorf("reservations = %d %v", len(out.Reservations), err)
	}
}
