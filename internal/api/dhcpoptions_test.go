package api_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// dhcpMap flattens a set's configurations.
func dhcpMap(d types.DhcpOptions) map[string][]string {
	out := map[string][]string{}
	for _, c := range d.DhcpConfigurations {
		for _, v := range c.Values {
			out[aws.ToString(c.Key)] = append(out[aws.ToString(c.Key)], aws.ToString(v.Value))
		}
	}
	return out
}

// Every VPC starts with the region's default set: ec2.internal in
// us-east-1, <region>.compute.internal elsewhere, AmazonProvidedDNS.
func TestDhcpOptionsDefaultSet(t *testing.T) {
	e := apitest.New(t)
	for region, domain := range map[string]string{"us-east-1": "ec2.internal", "eu-west-2": "eu-west-2.compute.internal"} {
		c := e.Client(region)
		vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("is-default", "true")}})
		if err != nil || len(vpcs.Vpcs) != 1 {
			t.Fatalf("%s: %v %+v", region, err, vpcs)
		}
		id := aws.ToString(vpcs.Vpcs[0].DhcpOptionsId)
		sets, err := c.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{DhcpOptionsIds: []string{id}})
		if err != nil || len(sets.DhcpOptions) != 1 {
			t.Fatalf("%s: DescribeDhcpOptions %s: %v %+v", region, id, err, sets)
		}
		got := dhcpMap(sets.DhcpOptions[0])
		if len(got) != 2 || got["domain-name"][0] != domain || got["domain-name-servers"][0] != "AmazonProvidedDNS" ||
			aws.ToString(sets.DhcpOptions[0].OwnerId) != "123456789012" {
			t.Errorf("%s: default set %v", region, got)
		}
		// How Terraform's aws_default_vpc_dhcp_options finds it.
		tf, err := c.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{Filters: []types.Filter{
			filter("key", "domain-name"), filter("value", domain), filter("key", "domain-name-servers"),
			filter("value", "AmazonProvidedDNS"), filter("owner-id", "123456789012")}})
		if err != nil || len(tf.DhcpOptions) != 1 || aws.ToString(tf.DhcpOptions[0].DhcpOptionsId) != id {
			t.Errorf("%s: Terraform's lookup of the default set: %v %+v", region, err, tf)
		}
		v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
		if err != nil || aws.ToString(v.Vpc.DhcpOptionsId) != id {
			t.Errorf("%s: new VPC's set %v, want %s (%v)", region, aws.ToString(v.Vpc.DhcpOptionsId), id, err)
		}
	}
}

func TestDhcpOptionsLifecycle(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	created, err := c.CreateDhcpOptions(ctx, &ec2.CreateDhcpOptionsInput{
		DhcpConfigurations: []types.NewDhcpConfiguration{
			{Key: aws.String("ntp-servers"), Values: []string{"10.0.0.5", "fd00::5"}},
			{Key: aws.String("domain-name"), Values: []string{"corp.example"}},
			{Key: aws.String("domain-name-servers"), Values: []string{"10.0.0.2", "AmazonProvidedDNS"}},
			{Key: aws.String("netbios-node-type"), Values: []string{"2"}},
		},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeDhcpOptions, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("corp")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := created.DhcpOptions
	id := aws.ToString(d.DhcpOptionsId)
	if len(id) != len("dopt-")+17 || len(d.Tags) != 1 || len(d.DhcpConfigurations) != 4 || dhcpMap(*d)["ntp-servers"][1] != "fd00::5" {
		t.Fatalf("created %+v", d)
	}
	// AWS's order of the options, whatever the request's (amazon.aws's
	// ec2_vpc_dhcp_option compares lists): domain-name, domain-name-servers,
	// ntp-servers, netbios-name-servers, netbios-node-type; values as given.
	var keys []string
	for _, c := range d.DhcpConfigurations {
		keys = append(keys, aws.ToString(c.Key))
	}
	if want := []string{"domain-name", "domain-name-servers", "ntp-servers", "netbios-node-type"}; !slices.Equal(keys, want) {
		t.Errorf("options in the order %v, want %v", keys, want)
	}
	if got := dhcpMap(*d)["domain-name-servers"]; !slices.Equal(got, []string{"10.0.0.2", "AmazonProvidedDNS"}) {
		t.Errorf("domain-name-servers %v, want them as given", got)
	}
	ordered, err := c.CreateDhcpOptions(ctx, &ec2.CreateDhcpOptionsInput{DhcpConfigurations: []types.NewDhcpConfiguration{
		{Key: aws.String("netbios-name-servers"), Values: []string{"10.0.0.1"}},
		{Key: aws.String("ntp-servers"), Values: []string{"10.0.0.2"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if o := ordered.DhcpOptions.DhcpConfigurations; len(o) != 2 || aws.ToString(o[0].Key) != "ntp-servers" {
		t.Errorf("ntp-servers and netbios-name-servers: %+v, want ntp-servers first", o)
	}
	if _, err := c.DeleteDhcpOptions(ctx, &ec2.DeleteDhcpOptionsInput{DhcpOptionsId: ordered.DhcpOptions.DhcpOptionsId}); err != nil {
		t.Fatal(err)
	}
	// Filters: id, key, value, owner, tags.
	for _, f := range [][]types.Filter{
		{filter("dhcp-options-id", id)},
		{filter("key", "netbios-node-type")},
		{filter("value", "corp.example")},
		{filter("value", "10.0.0.*"), filter("owner-id", "123456789012")},
		{filter("tag:Name", "corp")},
		{filter("tag-key", "Name")},
	} {
		out, err := c.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{Filters: f})
		if err != nil || len(out.DhcpOptions) != 1 || aws.ToString(out.DhcpOptions[0].DhcpOptionsId) != id {
			t.Errorf("filter %s: %v %+v", aws.ToString(f[0].Name), err, out)
		}
	}
	all, err := c.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{})
	if err != nil || len(all.DhcpOptions) != 2 {
		t.Fatalf("all sets: %v %+v", err, all)
	}
	_, err = c.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{Filters: []types.Filter{filter("vpc-id", "vpc-1")}})
	apitest.WantCode(t, err, "InvalidParameterValue")

	// Associate, then the set is in use.
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(v.Vpc.VpcId)
	if _, err := c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{VpcId: &vpcID, DhcpOptionsId: &id}); err != nil {
		t.Fatal(err)
	}
	vpcDhcp := func() string {
		t.Helper()
		out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("dhcp-options-id", id)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Vpcs) == 1 {
			return aws.ToString(out.Vpcs[0].DhcpOptionsId)
		}
		out, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Vpcs[0].DhcpOptionsId)
	}
	if got := vpcDhcp(); got != id {
		t.Errorf("VPC's set %s, want %s", got, id)
	}
	_, err = c.DeleteDhcpOptions(ctx, &ec2.DeleteDhcpOptionsInput{DhcpOptionsId: &id})
	apitest.WantCode(t, err, "DependencyViolation")
	// "default" associates no set.
	if _, err := c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{VpcId: &vpcID, DhcpOptionsId: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	if got := vpcDhcp(); got != "default" {
		t.Errorf("after default: VPC's set %s", got)
	}
	if _, err := c.DeleteDhcpOptions(ctx, &ec2.DeleteDhcpOptionsInput{DhcpOptionsId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{DhcpOptionsIds: []string{id}})
	apitest.WantCode(t, err, "InvalidDhcpOptionID.NotFound")
	_, err = c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{VpcId: &vpcID, DhcpOptionsId: &id})
	apitest.WantCode(t, err, "InvalidDhcpOptionID.NotFound")
	_, err = c.DeleteDhcpOptions(ctx, &ec2.DeleteDhcpOptionsInput{DhcpOptionsId: aws.String("dopt-nothex")})
	apitest.WantCode(t, err, "InvalidDhcpOptionsId.Malformed")
	_, err = c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{VpcId: aws.String("vpc-12345678"), DhcpOptionsId: aws.String("default")})
	apitest.WantCode(t, err, "InvalidVpcID.NotFound")
}

// The default set can be tagged and, once no VPC uses it, deleted; new VPCs
// then get no set.
func TestDhcpOptionsDefaultDeleted(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(vpcs.Vpcs[0].DhcpOptionsId)
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{filter("resource-type", "dhcp-options")}})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].ResourceId) != id {
		t.Fatalf("DescribeTags: %v %+v", err, tags)
	}
	if _, err := c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{VpcId: vpcs.Vpcs[0].VpcId, DhcpOptionsId: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteDhcpOptions(ctx, &ec2.DeleteDhcpOptionsInput{DhcpOptionsId: &id}); err != nil {
		t.Fatal(err)
	}
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil || aws.ToString(v.Vpc.DhcpOptionsId) != "default" {
		t.Fatalf("new VPC after the default set is gone: %v %v", err, v)
	}
}

func TestDhcpOptionsValidation(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	cfg := func(key string, values ...string) *ec2.CreateDhcpOptionsInput {
		return &ec2.CreateDhcpOptionsInput{DhcpConfigurations: []types.NewDhcpConfiguration{{Key: aws.String(key), Values: values}}}
	}
	for _, in := range []*ec2.CreateDhcpOptionsInput{
		cfg("routers", "10.0.0.1"),
		cfg("domain-name-servers", "1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"),
		cfg("domain-name-servers", "dns.example"),
		cfg("netbios-node-type", "3"),
		cfg("netbios-name-servers", "fd00::1"),
		cfg("domain-name", "a.example", "b.example"),
		cfg("ipv6-address-preferred-lease-time", "100"),
		cfg("domain-name"),
		{DhcpConfigurations: []types.NewDhcpConfiguration{{Key: aws.String("domain-name"), Values: []string{"a"}}, {Key: aws.String("domain-name"), Values: []string{"b"}}}},
	} {
		_, err := c.CreateDhcpOptions(ctx, in)
		apitest.WantCode(t, err, "InvalidParameterValue")
	}
	if _, err := c.CreateDhcpOptions(ctx, cfg("ipv6-address-preferred-lease-time", "140")); err != nil {
		t.Error(err)
	}
}
