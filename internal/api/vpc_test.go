package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

var ctx = apitest.Ctx()

func TestBootstrapDefaultVPCPerRegion(t *testing.T) {
	e := apitest.New(t)
	for _, region := range []string{"us-east-1", "eu-west-2"} {
		c := e.Client(region)
		vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].CidrBlock) != "172.31.0.0/16" {
			t.Fatalf("%s: default VPCs = %+v", region, vpcs.Vpcs)
		}
		azs, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(azs.AvailabilityZones) != 3 || aws.ToString(azs.AvailabilityZones[0].ZoneName) != region+"a" {
			t.Fatalf("%s: zones = %+v", region, azs.AvailabilityZones)
		}
	}
	// As in a new AWS account: opt-in regions only with AllRegions.
	status := func(in *ec2.DescribeRegionsInput) map[string]string {
		t.Helper()
		out, err := e.Client().DescribeRegions(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range out.Regions {
			m[aws.ToString(r.RegionName)] = aws.ToString(r.OptInStatus)
			if aws.ToString(r.Endpoint) != "ec2."+aws.ToString(r.RegionName)+".amazonaws.com" {
				t.Errorf("region %+v", r)
			}
		}
		return m
	}
	enabled := status(&ec2.DescribeRegionsInput{})
	if len(enabled) != 17 || enabled["us-east-1"] != "opt-in-not-required" || enabled["af-south-1"] != "" {
		t.Errorf("regions: %v", enabled)
	}
	all := status(&ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if len(all) != 32 || all["af-south-1"] != "not-opted-in" || all["eu-west-1"] != "opt-in-not-required" {
		t.Errorf("all regions: %v", all)
	}
	optIn := status(&ec2.DescribeRegionsInput{AllRegions: aws.Bool(true), Filters: []types.Filter{{Name: aws.String("opt-in-status"), Values: []string{"not-opted-in"}}}})
	if len(optIn) != 15 {
		t.Errorf("opt-in regions: %v", optIn)
	}
	if named := status(&ec2.DescribeRegionsInput{RegionNames: []string{"me-south-1"}}); named["me-south-1"] != "not-opted-in" || len(named) != 1 {
		t.Errorf("named region: %v", named)
	}
	attrs, err := e.Client().DescribeAccountAttributes(ctx, &ec2.DescribeAccountAttributesInput{})
	if err != nil || len(attrs.AccountAttributes) == 0 {
		t.Fatalf("account attributes: %v %v", attrs, err)
	}
}

func TestVPCLifecycle(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	out, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("main")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Vpc.VpcId)
	if len(out.Vpc.Ipv6CidrBlockAssociationSet) != 1 || len(out.Vpc.Tags) != 1 {
		t.Fatalf("vpc = %+v", out.Vpc)
	}
	got, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"ma*"}}}})
	if err != nil || len(got.Vpcs) != 1 || aws.ToString(got.Vpcs[0].VpcId) != id {
		t.Fatalf("describe by tag: %+v %v", got, err)
	}
	_, err = c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/8")})
	apitest.WantCode(t, err, "InvalidVpc.Range")
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidVpcID.NotFound")
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"nope"}})
	apitest.WantCode(t, err, "InvalidVpcID.Malformed")
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id), DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)})
	apitest.WantCode(t, err, "InvalidVpcID.NotFound")
}

// DeleteVpc of a VPC that still holds something answers AWS's message,
// which names no dependency.
func TestDeleteVpcDependencyMessage(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	out, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Vpc.VpcId)
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(id), CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)})
	apitest.WantCode(t, err, "DependencyViolation")
	eniWantMessage(t, err, "The vpc '"+id+"' has dependencies and cannot be deleted.")
	if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: sub.Subnet.SubnetId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
}
