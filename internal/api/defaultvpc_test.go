package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// deleteDefaultVPC deletes the default VPC as a user would: its subnets,
// its internet gateway, then the VPC.
func deleteDefaultVPC(t *testing.T, c *ec2.Client) string {
	t.Helper()
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("is-default", "true")}})
	if err != nil || len(vpcs.Vpcs) != 1 {
		t.Fatalf("default VPC: %v %+v", err, vpcs)
	}
	id := vpcs.Vpcs[0].VpcId
	subnets, _ := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", *id)}})
	for _, s := range subnets.Subnets {
		if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: s.SubnetId}); err != nil {
			t.Fatal(err)
		}
	}
	igws, _ := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{filter("attachment.vpc-id", *id)}})
	for _, g := range igws.InternetGateways {
		if _, err := c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{VpcId: id, InternetGatewayId: g.InternetGatewayId}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: g.InternetGatewayId}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: id}); err != nil {
		t.Fatal(err)
	}
	return *id
}

// CreateDefaultVpc makes what a new account has: 172.31.0.0/16, a /20
// default subnet per zone mapping public IPs, an attached internet gateway
// with the main route to it, the default security group and DHCP options,
// DNS hostnames on. One default VPC per region.
func TestCreateDefaultVpc(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	_, err := c.CreateDefaultVpc(ctx, &ec2.CreateDefaultVpcInput{})
	apitest.WantCode(t, err, "DefaultVpcAlreadyExists")
	old := deleteDefaultVPC(t, c)
	_, err = c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: aws.String("us-east-1a")})
	apitest.WantCode(t, err, "DefaultVpcDoesNotExist")
	attrs, _ := c.DescribeAccountAttributes(ctx, &ec2.DescribeAccountAttributesInput{AttributeNames: []types.AccountAttributeName{"default-vpc"}})
	if got := aws.ToString(attrs.AccountAttributes[0].AttributeValues[0].AttributeValue); got != "" {
		t.Errorf("default-vpc after delete: %q", got)
	}

	out, err := c.CreateDefaultVpc(ctx, &ec2.CreateDefaultVpcInput{})
	if err != nil {
		t.Fatal(err)
	}
	v := out.Vpc
	id := aws.ToString(v.VpcId)
	if id == old || aws.ToString(v.CidrBlock) != "172.31.0.0/16" || !aws.ToBool(v.IsDefault) || aws.ToString(v.DhcpOptionsId) == "" || aws.ToString(v.DhcpOptionsId) == "default" {
		t.Fatalf("CreateDefaultVpc: %+v", v)
	}
	subnets, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", id)}})
	if err != nil || len(subnets.Subnets) != 3 {
		t.Fatalf("subnets: %v %+v", err, subnets)
	}
	zones := map[string]bool{}
	for _, s := range subnets.Subnets {
		zones[aws.ToString(s.AvailabilityZone)] = true
		if !aws.ToBool(s.DefaultForAz) || !aws.ToBool(s.MapPublicIpOnLaunch) || aws.ToInt32(s.AvailableIpAddressCount) != 4091 {
			t.Errorf("default subnet %+v", s)
		}
	}
	if len(zones) != 3 {
		t.Errorf("zones %v", zones)
	}
	igws, _ := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{filter("attachment.vpc-id", id)}})
	if len(igws.InternetGateways) != 1 {
		t.Fatalf("gateways %+v", igws)
	}
	rtbs, _ := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", id), filter("association.main", "true")}})
	if len(rtbs.RouteTables) != 1 {
		t.Fatalf("main route tables %+v", rtbs)
	}
	var toIGW bool
	for _, r := range rtbs.RouteTables[0].Routes {
		toIGW = toIGW || aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" && aws.ToString(r.GatewayId) == aws.ToString(igws.InternetGateways[0].InternetGatewayId) && r.State == types.RouteStateActive
	}
	if !toIGW {
		t.Errorf("main routes %+v", rtbs.RouteTables[0].Routes)
	}
	groups, _ := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("vpc-id", id), filter("group-name", "default")}})
	if len(groups.SecurityGroups) != 1 {
		t.Errorf("default group %+v", groups)
	}
	acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{filter("vpc-id", id), filter("default", "true")}})
	if err != nil || len(acls.NetworkAcls) != 1 || len(acls.NetworkAcls[0].Associations) != 3 {
		t.Errorf("default network ACL: %v %+v", err, acls)
	}
	dns, _ := c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: &id, Attribute: types.VpcAttributeNameEnableDnsHostnames})
	if !aws.ToBool(dns.EnableDnsHostnames.Value) {
		t.Error("DNS hostnames off in the default VPC")
	}
	attrs, _ = c.DescribeAccountAttributes(ctx, &ec2.DescribeAccountAttributesInput{AttributeNames: []types.AccountAttributeName{"default-vpc"}})
	if got := aws.ToString(attrs.AccountAttributes[0].AttributeValues[0].AttributeValue); got != id {
		t.Errorf("default-vpc %q, want %s", got, id)
	}
	_, err = c.CreateDefaultVpc(ctx, &ec2.CreateDefaultVpcInput{})
	apitest.WantCode(t, err, "DefaultVpcAlreadyExists")
	// Instances launch into it without a subnet.
	if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
		t.Errorf("launch into the new default VPC: %v", err)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// CreateDefaultSubnet: one default subnet per zone, a free /20 of the
// default VPC.
func TestCreateDefaultSubnet(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	_, err := c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: aws.String("us-east-1b")})
	apitest.WantCode(t, err, "DefaultSubnetAlreadyExistsInAvailabilityZone")
	subnets, _ := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("availability-zone", "us-east-1b"), filter("default-for-az", "true")}})
	if len(subnets.Subnets) != 1 {
		t.Fatalf("%+v", subnets)
	}
	gone := subnets.Subnets[0]
	if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: gone.SubnetId}); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: aws.String("us-east-1b")})
	if err != nil {
		t.Fatal(err)
	}
	s := out.Subnet
	if aws.ToString(s.CidrBlock) != aws.ToString(gone.CidrBlock) || !aws.ToBool(s.DefaultForAz) || !aws.ToBool(s.MapPublicIpOnLaunch) ||
		aws.ToString(s.AvailabilityZone) != "us-east-1b" || aws.ToString(s.VpcId) != aws.ToString(gone.VpcId) {
		t.Fatalf("CreateDefaultSubnet %+v", s)
	}
	_, err = c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: aws.String("us-east-1b")})
	apitest.WantCode(t, err, "DefaultSubnetAlreadyExistsInAvailabilityZone")
	_, err = c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: aws.String("us-east-1z")})
	apitest.WantCode(t, err, "InvalidParameterValue")
	// A zone whose /20 is taken by a user's subnet gets the next free one.
	a, _ := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("availability-zone", "us-east-1a"), filter("default-for-az", "true")}})
	if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: a.Subnets[0].SubnetId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: gone.VpcId, CidrBlock: aws.String("172.31.0.0/24")}); err != nil {
		t.Fatal(err)
	}
	out, err = c.CreateDefaultSubnet(ctx, &ec2.CreateDefaultSubnetInput{AvailabilityZone: aws.String("us-east-1a")})
	if err != nil || aws.ToString(out.Subnet.CidrBlock) != "172.31.48.0/20" {
		t.Fatalf("next free /20: %v %+v", err, out)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
