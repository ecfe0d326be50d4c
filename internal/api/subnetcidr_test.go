package api_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// AssociateSubnetCidrBlock gives a subnet a /64 of its VPC's IPv6 block
// (associating, then associated); DisassociateSubnetCidrBlock removes it
// once no interface holds one of its addresses (disassociating, then shown
// disassociated).
func TestSubnetCidrBlockAssociation(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	vpc6 := aws.ToString(v.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock)
	pfx := netip.MustParsePrefix(vpc6)
	block := netip.PrefixFrom(pfx.Addr(), 64).String()
	b2 := pfx.Addr().As16()
	b2[7]++ // the VPC's second /64 (a /56 holds 256)
	block2 := netip.PrefixFrom(netip.AddrFrom16(b2), 64).String()
	s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	subnetID := aws.ToString(s.Subnet.SubnetId)
	for _, bad := range []struct{ block, code string }{
		{"2001:db8::/64", "InvalidSubnet.Range"},
		{strings.TrimSuffix(vpc6, "/56") + "/60", "InvalidSubnet.Range"},
		{"10.0.0.0/24", "InvalidParameterValue"},
	} {
		_, err := c.AssociateSubnetCidrBlock(ctx, &ec2.AssociateSubnetCidrBlockInput{SubnetId: &subnetID, Ipv6CidrBlock: aws.String(bad.block)})
		apitest.WantCode(t, err, bad.code)
	}
	a, err := c.AssociateSubnetCidrBlock(ctx, &ec2.AssociateSubnetCidrBlockInput{SubnetId: &subnetID, Ipv6CidrBlock: &block})
	if err != nil {
		t.Fatal(err)
	}
	assoc := a.Ipv6CidrBlockAssociation
	if aws.ToString(a.SubnetId) != subnetID || aws.ToString(assoc.Ipv6CidrBlock) != block || assoc.Ipv6CidrBlockState.State != types.SubnetCidrBlockStateCodeAssociating ||
		!strings.HasPrefix(aws.ToString(assoc.AssociationId), "subnet-cidr-assoc-") {
		t.Fatalf("associate: %+v %+v", a, assoc)
	}
	_, err = c.AssociateSubnetCidrBlock(ctx, &ec2.AssociateSubnetCidrBlockInput{SubnetId: &subnetID, Ipv6CidrBlock: &block2})
	apitest.WantCode(t, err, "InvalidParameterValue")
	// Another subnet cannot take the same block.
	s2, _ := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.0.2.0/24")})
	_, err = c.AssociateSubnetCidrBlock(ctx, &ec2.AssociateSubnetCidrBlockInput{SubnetId: s2.Subnet.SubnetId, Ipv6CidrBlock: &block})
	apitest.WantCode(t, err, "InvalidSubnet.Conflict")

	describe := func() types.Subnet {
		t.Helper()
		out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnetID}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Subnets[0]
	}
	if got := describe().Ipv6CidrBlockAssociationSet; len(got) != 1 || got[0].Ipv6CidrBlockState.State != types.SubnetCidrBlockStateCodeAssociated {
		t.Fatalf("after associate: %+v", got)
	}
	// The subnet now hands out IPv6 addresses; one in use blocks the disassociation.
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &subnetID, Ipv6AddressCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(eni.NetworkInterface.Ipv6Addresses) != 1 {
		t.Fatalf("ENI %+v", eni.NetworkInterface)
	}
	_, err = c.DisassociateSubnetCidrBlock(ctx, &ec2.DisassociateSubnetCidrBlockInput{AssociationId: assoc.AssociationId})
	apitest.WantCode(t, err, "DependencyViolation")
	if _, err := c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: &subnetID, AssignIpv6AddressOnCreation: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DisassociateSubnetCidrBlock(ctx, &ec2.DisassociateSubnetCidrBlockInput{AssociationId: assoc.AssociationId})
	if err != nil || d.Ipv6CidrBlockAssociation.Ipv6CidrBlockState.State != types.SubnetCidrBlockStateCodeDisassociating || aws.ToString(d.SubnetId) != subnetID {
		t.Fatalf("disassociate: %v %+v", err, d)
	}
	got := describe()
	if set := got.Ipv6CidrBlockAssociationSet; len(set) != 1 || set[0].Ipv6CidrBlockState.State != types.SubnetCidrBlockStateCodeDisassociated || aws.ToBool(got.AssignIpv6AddressOnCreation) {
		t.Fatalf("after disassociate: %+v assign=%v", set, aws.ToBool(got.AssignIpv6AddressOnCreation))
	}
	out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("ipv6-cidr-block-association.state", "disassociated")}})
	if err != nil || len(out.Subnets) != 1 {
		t.Fatalf("filter disassociated: %v %+v", err, out)
	}
	_, err = c.DisassociateSubnetCidrBlock(ctx, &ec2.DisassociateSubnetCidrBlockInput{AssociationId: assoc.AssociationId})
	apitest.WantCode(t, err, "InvalidSubnetCidrBlockAssociationID.NotFound")
	_, err = c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &subnetID, Ipv6AddressCount: aws.Int32(1)})
	if err == nil {
		t.Fatal("IPv6 address from a subnet without an IPv6 block")
	}
	// Re-associate another block.
	if _, err := c.AssociateSubnetCidrBlock(ctx, &ec2.AssociateSubnetCidrBlockInput{SubnetId: &subnetID, Ipv6CidrBlock: &block2}); err != nil {
		t.Fatal(err)
	}
	if set := describe().Ipv6CidrBlockAssociationSet; len(set) != 2 {
		t.Fatalf("after re-associate: %+v", set)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// A secondary IPv4 block: /16 to /28, no overlap, at most five, not equal to
// or larger than a route's destination; associating, then associated.
func TestVpcSecondaryCidrBlock(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := v.Vpc.VpcId
	a, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpcID, CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil || a.CidrBlockAssociation.CidrBlockState.State != types.VpcCidrBlockStateCodeAssociating {
		t.Fatalf("associate: %v %+v", err, a)
	}
	for _, bad := range []struct{ cidr, code string }{
		{"10.1.128.0/17", "InvalidVpc.Range"}, // overlaps
		{"10.0.0.0/15", "InvalidVpc.Range"},   // overlaps
		{"10.4.0.0/29", "InvalidVpc.Range"},   // too small
		{"10.4.0.0/12", "InvalidVpc.Range"},   // too large
		{"10.4.0.0", "InvalidParameterValue"},
	} {
		_, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpcID, CidrBlock: aws.String(bad.cidr)})
		apitest.WantCode(t, err, bad.code)
	}
	// A route to 10.8.0.0/16 forbids associating it or a block containing it.
	rtbs, _ := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", *vpcID)}})
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: mustSubnet(t, c, *vpcID, "10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtbs.RouteTables[0].RouteTableId, DestinationCidrBlock: aws.String("10.8.0.0/16"), NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId}); err != nil {
		t.Fatal(err)
	}
	for _, cidr := range []string{"10.8.0.0/16", "10.8.0.0/15"} {
		_, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpcID, CidrBlock: aws.String(cidr)})
		apitest.WantCode(t, err, "InvalidVpc.Range")
	}
	if _, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpcID, CidrBlock: aws.String("10.8.0.0/24")}); err != nil {
		t.Errorf("a block more specific than a route: %v", err)
	}
	for _, cidr := range []string{"10.20.0.0/16", "10.21.0.0/16"} {
		if _, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpcID, CidrBlock: aws.String(cidr)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpcID, CidrBlock: aws.String("10.22.0.0/16")})
	apitest.WantCode(t, err, "CidrLimitExceeded")
	out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{*vpcID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range out.Vpcs[0].CidrBlockAssociationSet {
		if a.CidrBlockState.State != types.VpcCidrBlockStateCodeAssociated {
			t.Errorf("%s: %s", aws.ToString(a.CidrBlock), a.CidrBlockState.State)
		}
	}
	if len(out.Vpcs[0].CidrBlockAssociationSet) != 5 {
		t.Errorf("blocks %+v", out.Vpcs[0].CidrBlockAssociationSet)
	}
}

func mustSubnet(t *testing.T, c *ec2.Client, vpcID, cidr string) *string {
	t.Helper()
	s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: &cidr})
	if err != nil {
		t.Fatal(err)
	}
	return s.Subnet.SubnetId
}
