package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// The filter names of EC2's first VPC API that AWS still accepts: isDefault
// (Ansible's ec2_instance finds the default VPC with it), and those AWS's
// DescribeSubnets reference names.
func TestLegacyFilterNames(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcs := func(f types.Filter) []string {
		out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{f}})
		if err != nil {
			t.Fatalf("DescribeVpcs %s: %v", *f.Name, err)
		}
		var ids []string
		for _, v := range out.Vpcs {
			ids = append(ids, *v.VpcId)
		}
		return ids
	}
	def := vpcs(filter("is-default", "true"))
	if got := vpcs(filter("isDefault", "true")); len(def) != 1 || len(got) != 1 || got[0] != def[0] {
		t.Errorf("isDefault=true: %v, is-default=true: %v", got, def)
	}
	if got := vpcs(filter("isDefault", "false")); len(got) != 1 || got[0] != *vpc.Vpc.VpcId {
		t.Errorf("isDefault=false: %v", got)
	}
	for _, f := range []types.Filter{filter("vpcId", *vpc.Vpc.VpcId), filter("cidrBlock", "10.9.0.0/16"), filter("dhcpOptionsId", *vpc.Vpc.DhcpOptionsId)} {
		if got := vpcs(f); len(got) == 0 || got[0] != *vpc.Vpc.VpcId && got[len(got)-1] != *vpc.Vpc.VpcId {
			t.Errorf("%s: %v", *f.Name, got)
		}
	}
	subs, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("availabilityZoneId", "use1-az1"), filter("vpcId", def[0]), filter("defaultForAz", "true")}})
	if err != nil || len(subs.Subnets) != 1 || aws.ToString(subs.Subnets[0].AvailabilityZoneId) != "use1-az1" {
		t.Errorf("subnets by availabilityZoneId, vpcId, defaultForAz: %v %v", subs, err)
	}
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("IsDefault", "true")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
}
