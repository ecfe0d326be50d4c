package api_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// An IPv6-only subnet has an IPv6 /64 and no IPv4 block; its interfaces and
// instances get IPv6 addresses only; attributes that need IPv4 are refused.
func TestIpv6OnlySubnet(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	block := strings.TrimSuffix(aws.ToString(v.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock), "/56") + "/64"
	_, err = c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, Ipv6Native: aws.Bool(true), CidrBlock: aws.String("10.0.1.0/24"), Ipv6CidrBlock: &block})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, Ipv6Native: aws.Bool(true)})
	apitest.WantCode(t, err, "MissingParameter")
	out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, Ipv6Native: aws.Bool(true), Ipv6CidrBlock: &block})
	if err != nil {
		t.Fatal(err)
	}
	s := out.Subnet
	if s.CidrBlock != nil || !aws.ToBool(s.Ipv6Native) || !aws.ToBool(s.AssignIpv6AddressOnCreation) || aws.ToInt32(s.AvailableIpAddressCount) != 0 ||
		s.PrivateDnsNameOptionsOnLaunch.HostnameType != types.HostnameTypeResourceName || len(s.Ipv6CidrBlockAssociationSet) != 1 {
		t.Fatalf("IPv6-only subnet %+v", s)
	}
	id := s.SubnetId
	f, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("ipv6-native", "true")}})
	if err != nil || len(f.Subnets) != 1 {
		t.Fatalf("ipv6-native filter: %v %+v", err, f)
	}
	// An IPv4 subnet still fits anywhere in the VPC's IPv4 block.
	if _, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.0.0.0/24")}); err != nil {
		t.Fatal(err)
	}

	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: id})
	if err != nil {
		t.Fatal(err)
	}
	n := eni.NetworkInterface
	if n.PrivateIpAddress != nil || len(n.PrivateIpAddresses) != 0 || len(n.Ipv6Addresses) != 1 {
		t.Fatalf("ENI in an IPv6-only subnet %+v", n)
	}
	for _, in := range []*ec2.CreateNetworkInterfaceInput{
		{SubnetId: id, PrivateIpAddress: aws.String("10.0.1.5")},
		{SubnetId: id, SecondaryPrivateIpAddressCount: aws.Int32(1)},
		{SubnetId: id, Ipv4PrefixCount: aws.Int32(1)},
	} {
		_, err := c.CreateNetworkInterface(ctx, in)
		apitest.WantCode(t, err, "InvalidParameterValue")
	}
	_, err = c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: n.NetworkInterfaceId, SecondaryPrivateIpAddressCount: aws.Int32(1)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	if _, err := c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: n.NetworkInterfaceId, Ipv6AddressCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, NetworkInterfaceId: n.NetworkInterfaceId})
	apitest.WantCode(t, err, "InvalidParameterValue")

	// Instances: IPv6 only, no public IPv4.
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: id})
	if err != nil {
		t.Fatal(err)
	}
	inst := run.Instances[0]
	if inst.PrivateIpAddress != nil && aws.ToString(inst.PrivateIpAddress) != "" || inst.PublicIpAddress != nil || len(inst.NetworkInterfaces) != 1 || len(inst.NetworkInterfaces[0].Ipv6Addresses) != 1 {
		t.Fatalf("instance in an IPv6-only subnet %+v", inst)
	}
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: id, AssociatePublicIpAddress: aws.Bool(true)}}})
	apitest.WantCode(t, err, "InvalidParameterValue")

	for _, bad := range []ec2.ModifySubnetAttributeInput{
		{MapPublicIpOnLaunch: boolAttr(true)},
		{AssignIpv6AddressOnCreation: boolAttr(false)},
		{PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeIpName},
		{EnableResourceNameDnsARecordOnLaunch: boolAttr(true)},
	} {
		bad.SubnetId = id
		_, err := c.ModifySubnetAttribute(ctx, &bad)
		apitest.WantCode(t, err, "InvalidParameterValue")
	}
	for _, ok := range []ec2.ModifySubnetAttributeInput{
		{EnableDns64: boolAttr(true)},
		{EnableResourceNameDnsAAAARecordOnLaunch: boolAttr(true)},
	} {
		ok.SubnetId = id
		if _, err := c.ModifySubnetAttribute(ctx, &ok); err != nil {
			t.Error(err)
		}
	}
	_, err = c.DisassociateSubnetCidrBlock(ctx, &ec2.DisassociateSubnetCidrBlockInput{AssociationId: s.Ipv6CidrBlockAssociationSet[0].AssociationId})
	apitest.WantCode(t, err, "OperationNotPermitted")
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
