package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// Tests of subnets, internet gateways and route tables through the SDK.

func subnetFilter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// subnetVPC creates a VPC, with an Amazon IPv6 /56 when ipv6.
func subnetVPC(t *testing.T, c *ec2.Client, cidr string, ipv6 bool) types.Vpc {
	t.Helper()
	out, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr), AmazonProvidedIpv6CidrBlock: aws.Bool(ipv6)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.Vpc
}

func subnetNew(t *testing.T, c *ec2.Client, vpc, cidr string) string {
	t.Helper()
	out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Subnet.SubnetId)
}

func subnetGet(t *testing.T, c *ec2.Client, id string) types.Subnet {
	t.Helper()
	out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
	if err != nil || len(out.Subnets) != 1 {
		t.Fatalf("DescribeSubnets %s: %+v %v", id, out, err)
	}
	return out.Subnets[0]
}

// subnetIDs runs DescribeSubnets with filters and returns the ids, sorted.
func subnetIDs(t *testing.T, c *ec2.Client, filters ...types.Filter) []string {
	t.Helper()
	out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range out.Subnets {
		ids = append(ids, aws.ToString(s.SubnetId))
	}
	return ids
}

func subnetIGW(t *testing.T, c *ec2.Client, vpc string) string {
	t.Helper()
	g, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(g.InternetGateway.InternetGatewayId)
	if vpc != "" {
		if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(id), VpcId: aws.String(vpc)}); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func subnetRTB(t *testing.T, c *ec2.Client, id string) types.RouteTable {
	t.Helper()
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
	if err != nil || len(out.RouteTables) != 1 {
		t.Fatalf("DescribeRouteTables %s: %+v %v", id, out, err)
	}
	return out.RouteTables[0]
}

func subnetMainRTB(t *testing.T, c *ec2.Client, vpc string) types.RouteTable {
	t.Helper()
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{
		subnetFilter("vpc-id", vpc), subnetFilter("association.main", "true"),
	}})
	if err != nil || len(out.RouteTables) != 1 {
		t.Fatalf("main table of %s: %+v %v", vpc, out, err)
	}
	return out.RouteTables[0]
}

func subnetNewRTB(t *testing.T, c *ec2.Client, vpc string) string {
	t.Helper()
	out, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.RouteTable.RouteTableId)
}

func subnetENI(t *testing.T, c *ec2.Client, subnet string) string {
	t.Helper()
	out, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.NetworkInterface.NetworkInterfaceId)
}

// subnetRoute returns the route of a table to dest.
func subnetRoute(t *testing.T, c *ec2.Client, rtb, dest string) (types.Route, bool) {
	t.Helper()
	for _, r := range subnetRTB(t, c, rtb).Routes {
		if aws.ToString(r.DestinationCidrBlock) == dest || aws.ToString(r.DestinationIpv6CidrBlock) == dest {
			return r, true
		}
	}
	return types.Route{}, false
}

func TestCreateSubnet(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v := subnetVPC(t, c, "10.0.0.0/16", true)
	vpc := aws.ToString(v.VpcId)
	block := aws.ToString(v.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock) // x:y:z:ww00::/56
	ipv6 := strings.Replace(block, "/56", "/64", 1)
	out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{
		VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("us-east-1b"),
		Ipv6CidrBlock: aws.String(ipv6),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSubnet,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := *out.Subnet
	id := aws.ToString(s.SubnetId)
	want := map[string]string{
		"VpcId":              vpc,
		"CidrBlock":          "10.0.1.0/24",
		"State":              "available",
		"AvailabilityZone":   "us-east-1b",
		"AvailabilityZoneId": "use1-az2",
		"SubnetArn":          "arn:aws:ec2:us-east-1:123456789012:subnet/" + id,
		"OwnerId":            "123456789012",
	}
	got := map[string]string{
		"VpcId": aws.ToString(s.VpcId), "CidrBlock": aws.ToString(s.CidrBlock), "State": string(s.State),
		"AvailabilityZone": aws.ToString(s.AvailabilityZone), "AvailabilityZoneId": aws.ToString(s.AvailabilityZoneId),
		"SubnetArn": aws.ToString(s.SubnetArn), "OwnerId": aws.ToString(s.OwnerId),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if aws.ToInt32(s.AvailableIpAddressCount) != 251 || aws.ToBool(s.DefaultForAz) || aws.ToBool(s.MapPublicIpOnLaunch) ||
		aws.ToBool(s.AssignIpv6AddressOnCreation) || len(s.Tags) != 1 {
		t.Errorf("subnet = %+v", s)
	}
	if len(s.Ipv6CidrBlockAssociationSet) != 1 || aws.ToString(s.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock) != ipv6 ||
		s.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlockState.State != types.SubnetCidrBlockStateCodeAssociated {
		t.Errorf("ipv6 associations = %+v", s.Ipv6CidrBlockAssociationSet)
	}
	if s.PrivateDnsNameOptionsOnLaunch == nil || s.PrivateDnsNameOptionsOnLaunch.HostnameType != types.HostnameTypeIpName {
		t.Errorf("dns options = %+v", s.PrivateDnsNameOptionsOnLaunch)
	}
	// Default zone: the first one; AvailabilityZoneId selects by id.
	out, err = c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.2.0/24")})
	if err != nil || aws.ToString(out.Subnet.AvailabilityZone) != "us-east-1a" {
		t.Fatalf("default zone: %+v %v", out, err)
	}
	out, err = c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.3.0/24"), AvailabilityZoneId: aws.String("use1-az3")})
	if err != nil || aws.ToString(out.Subnet.AvailabilityZone) != "us-east-1c" {
		t.Fatalf("zone by id: %+v %v", out, err)
	}

	errs := []struct {
		in   ec2.CreateSubnetInput
		code string
	}{
		{ec2.CreateSubnetInput{VpcId: aws.String("vpc-0123456789abcdef0"), CidrBlock: aws.String("10.0.9.0/24")}, "InvalidVpcID.NotFound"},
		{ec2.CreateSubnetInput{VpcId: aws.String("vpc-nope"), CidrBlock: aws.String("10.0.9.0/24")}, "InvalidVpcID.Malformed"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.1.0.0/24")}, "InvalidSubnet.Range"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/29")}, "InvalidSubnet.Range"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.1.128/25")}, "InvalidSubnet.Conflict"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/24"), Ipv6CidrBlock: aws.String(ipv6)}, "InvalidSubnet.Conflict"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/24"), Ipv6CidrBlock: aws.String("2001:db8::/64")}, "InvalidSubnet.Range"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/33")}, "InvalidParameterValue"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/24"), AvailabilityZone: aws.String("us-east-1q")}, "InvalidParameterValue"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/24"), AvailabilityZoneId: aws.String("use1-az7")}, "InvalidParameterValue"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/24"), AvailabilityZone: aws.String("us-east-1a"), AvailabilityZoneId: aws.String("use1-az2")}, "InvalidParameterCombination"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc)}, "MissingParameter"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/24"), TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc}}}, "InvalidParameterValue"},
		{ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/24"), DryRun: aws.Bool(true)}, "DryRunOperation"},
	}
	for i, tc := range errs {
		_, err := c.CreateSubnet(ctx, &tc.in)
		if apitest.Code(err) != tc.code {
			t.Errorf("case %d: err = %v, want %s", i, err, tc.code)
		}
	}
	if n := len(subnetIDs(t, c, subnetFilter("vpc-id", vpc))); n != 3 {
		t.Fatalf("%d subnets after failed creates, want 3", n)
	}
}

func TestDescribeSubnets(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v := subnetVPC(t, c, "10.0.0.0/16", true)
	vpc := aws.ToString(v.VpcId)
	ipv6 := strings.Replace(aws.ToString(v.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock), "/56", "/64", 1)
	out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.0.0/28"),
		Ipv6CidrBlock: aws.String(ipv6), AvailabilityZone: aws.String("us-east-1c"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSubnet, Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("db")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	a := aws.ToString(out.Subnet.SubnetId)
	assoc := aws.ToString(out.Subnet.Ipv6CidrBlockAssociationSet[0].AssociationId)
	b := subnetNew(t, c, vpc, "10.0.1.0/24")
	subnetENI(t, c, a) // 11 - 1 = 10 free in a

	cases := []struct {
		f    types.Filter
		want []string
	}{
		{subnetFilter("subnet-id", a), []string{a}},
		{subnetFilter("cidr-block", "10.0.1.0/24"), []string{b}},
		{subnetFilter("cidr-block", "10.0.*"), []string{a, b}},
		{subnetFilter("availability-zone", "us-east-1c"), []string{a}},
		{subnetFilter("availability-zone-id", "use1-az1"), []string{b}},
		{subnetFilter("available-ip-address-count", "10"), []string{a}},
		{subnetFilter("available-ip-address-count", "251"), []string{b}},
		{subnetFilter("default-for-az", "false"), []string{a, b}},
		{subnetFilter("map-public-ip-on-launch", "false"), []string{a, b}},
		{subnetFilter("state", "available"), []string{a, b}},
		{subnetFilter("owner-id", "123456789012"), []string{a, b}},
		{subnetFilter("subnet-arn", "arn:aws:ec2:us-east-1:123456789012:subnet/"+b), []string{b}},
		{subnetFilter("ipv6-cidr-block-association.ipv6-cidr-block", ipv6), []string{a}},
		{subnetFilter("ipv6-cidr-block-association.association-id", assoc), []string{a}},
		{subnetFilter("ipv6-cidr-block-association.state", "associated"), []string{a}},
		{subnetFilter("tag:tier", "db"), []string{a}},
		{subnetFilter("tag-key", "tier"), []string{a}},
	}
	for _, tc := range cases {
		ids := subnetIDs(t, c, subnetFilter("vpc-id", vpc), tc.f)
		if fmt.Sprint(ids) != fmt.Sprint(sortedIDs(tc.want)) {
			t.Errorf("filter %s=%v: got %v, want %v", aws.ToString(tc.f.Name), tc.f.Values, ids, tc.want)
		}
	}
	// The default VPC's subnets are default-for-az and map public IPs.
	if n := len(subnetIDs(t, c, subnetFilter("default-for-az", "true"), subnetFilter("map-public-ip-on-launch", "true"))); n != 3 {
		t.Errorf("%d default subnets, want 3", n)
	}
	if s := subnetGet(t, c, a); aws.ToInt32(s.AvailableIpAddressCount) != 10 {
		t.Errorf("available = %d, want 10", aws.ToInt32(s.AvailableIpAddressCount))
	}

	// Pagination: 5 subnets of the account in pages of 5 (default VPC has 3).
	var seen []string
	p := ec2.NewDescribeSubnetsPaginator(c, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(5)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range page.Subnets {
			seen = append(seen, aws.ToString(s.SubnetId))
		}
	}
	if len(seen) != 5 || pages != 1 {
		t.Errorf("paginated %d subnets in %d pages", len(seen), pages)
	}
	subnetNew(t, c, vpc, "10.0.2.0/24")
	seen, pages = nil, 0
	p = ec2.NewDescribeSubnetsPaginator(c, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range page.Subnets {
			seen = append(seen, aws.ToString(s.SubnetId))
		}
	}
	if len(seen) != 6 || pages != 2 {
		t.Errorf("paginated %d subnets in %d pages, want 6 in 2", len(seen), pages)
	}

	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{a, "subnet-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"sub-1"}})
	apitest.WantCode(t, err, "InvalidSubnetID.Malformed")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{subnetFilter("bogus", "x")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(4)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{NextToken: aws.String("!!")})
	apitest.WantCode(t, err, "InvalidNextToken")
}

func sortedIDs(ids []string) []string {
	out := append([]string(nil), ids...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestDeleteSubnet(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := aws.ToString(subnetVPC(t, c, "10.0.0.0/16", false).VpcId)
	s := subnetNew(t, c, vpc, "10.0.1.0/24")
	eni := subnetENI(t, c, s)
	rtb := subnetNewRTB(t, c, vpc)
	if _, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtb), SubnetId: aws.String(s)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s)})
	apitest.WantCode(t, err, "DependencyViolation")
	if _, err := c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(eni)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s), DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s)}); err != nil {
		t.Fatal(err)
	}
	// Its association went with it, so the table can be deleted.
	if got := subnetRTB(t, c, rtb); len(got.Associations) != 0 {
		t.Fatalf("associations left: %+v", got.Associations)
	}
	if _, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtb)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(s)})
	apitest.WantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String("subnet-xyz")})
	apitest.WantCode(t, err, "InvalidSubnetID.Malformed")
	// The VPC is empty again.
	if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpc)}); err != nil {
		t.Fatal(err)
	}
}

func TestModifySubnetAttribute(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v := subnetVPC(t, c, "10.0.0.0/16", true)
	vpc := aws.ToString(v.VpcId)
	v4 := subnetNew(t, c, vpc, "10.0.1.0/24")
	ipv6 := strings.Replace(aws.ToString(v.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock), "/56", "/64", 1)
	out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.2.0/24"), Ipv6CidrBlock: aws.String(ipv6)})
	if err != nil {
		t.Fatal(err)
	}
	v6 := aws.ToString(out.Subnet.SubnetId)
	on := &types.AttributeBooleanValue{Value: aws.Bool(true)}
	if _, err := c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(v4), MapPublicIpOnLaunch: on}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(v6), AssignIpv6AddressOnCreation: on}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(v6), PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeResourceName}); err != nil {
		t.Fatal(err)
	}
	if s := subnetGet(t, c, v4); !aws.ToBool(s.MapPublicIpOnLaunch) || aws.ToBool(s.AssignIpv6AddressOnCreation) {
		t.Errorf("v4 subnet = %+v", s)
	}
	if s := subnetGet(t, c, v6); aws.ToBool(s.MapPublicIpOnLaunch) || !aws.ToBool(s.AssignIpv6AddressOnCreation) ||
		s.PrivateDnsNameOptionsOnLaunch.HostnameType != types.HostnameTypeResourceName {
		t.Errorf("v6 subnet = %+v", s)
	}
	if ids := subnetIDs(t, c, subnetFilter("vpc-id", vpc), subnetFilter("map-public-ip-on-launch", "true")); len(ids) != 1 || ids[0] != v4 {
		t.Errorf("map-public-ip-on-launch=true: %v", ids)
	}
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(v4), AssignIpv6AddressOnCreation: on})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(v4), MapPublicIpOnLaunch: on, EnableDns64: on})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(v4)})
	apitest.WantCode(t, err, "MissingParameter")
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-0123456789abcdef0"), MapPublicIpOnLaunch: on})
	apitest.WantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(v4), PrivateDnsHostnameTypeOnLaunch: "bogus"})
	apitest.WantCode(t, err, "InvalidParameterValue")
	// A failed call changes nothing.
	if s := subnetGet(t, c, v4); !aws.ToBool(s.MapPublicIpOnLaunch) || s.PrivateDnsNameOptionsOnLaunch.HostnameType != types.HostnameTypeIpName {
		t.Errorf("failed calls changed the subnet: %+v", s)
	}
}

func TestInternetGatewayLifecycle(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := aws.ToString(subnetVPC(t, c, "10.0.0.0/16", false).VpcId)
	vpc2 := aws.ToString(subnetVPC(t, c, "10.1.0.0/16", false).VpcId)
	out, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{TagSpecifications: []types.TagSpecification{{
		ResourceType: types.ResourceTypeInternetGateway, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("gw")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	g := aws.ToString(out.InternetGateway.InternetGatewayId)
	if !strings.HasPrefix(g, "igw-") || len(out.InternetGateway.Attachments) != 0 || aws.ToString(out.InternetGateway.OwnerId) != "123456789012" || len(out.InternetGateway.Tags) != 1 {
		t.Fatalf("gateway = %+v", out.InternetGateway)
	}
	attach := func(gw, v string) error {
		_, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(gw), VpcId: aws.String(v)})
		return err
	}
	detach := func(gw, v string) error {
		_, err := c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(gw), VpcId: aws.String(v)})
		return err
	}
	if err := attach(g, vpc); err != nil {
		t.Fatal(err)
	}
	apitest.WantCode(t, attach(g, vpc2), "Resource.AlreadyAssociated") // gateway already attached
	g2 := subnetIGW(t, c, "")
	apitest.WantCode(t, attach(g2, vpc), "Resource.AlreadyAssociated") // VPC already has one
	apitest.WantCode(t, attach("igw-0123456789abcdef0", vpc), "InvalidInternetGatewayID.NotFound")
	apitest.WantCode(t, attach("igw-x", vpc), "InvalidInternetGatewayId.Malformed")
	apitest.WantCode(t, attach(g2, "vpc-0123456789abcdef0"), "InvalidVpcID.NotFound")

	desc := func(filters ...types.Filter) []string {
		t.Helper()
		out, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: filters})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, g := range out.InternetGateways {
			ids = append(ids, aws.ToString(g.InternetGatewayId))
		}
		return ids
	}
	if ids := desc(subnetFilter("attachment.vpc-id", vpc)); fmt.Sprint(ids) != fmt.Sprint([]string{g}) {
		t.Errorf("attachment.vpc-id: %v", ids)
	}
	if ids := desc(subnetFilter("attachment.state", "available")); len(ids) != 2 { // ours + the default VPC's
		t.Errorf("attachment.state=available: %v", ids)
	}
	if ids := desc(subnetFilter("internet-gateway-id", g2)); fmt.Sprint(ids) != fmt.Sprint([]string{g2}) {
		t.Errorf("internet-gateway-id: %v", ids)
	}
	if ids := desc(subnetFilter("tag:Name", "gw")); fmt.Sprint(ids) != fmt.Sprint([]string{g}) {
		t.Errorf("tag:Name: %v", ids)
	}
	if ids := desc(subnetFilter("owner-id", "123456789012")); len(ids) != 3 {
		t.Errorf("owner-id: %v", ids)
	}
	byID, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{g}})
	if err != nil || len(byID.InternetGateways) != 1 || len(byID.InternetGateways[0].Attachments) != 1 ||
		aws.ToString(byID.InternetGateways[0].Attachments[0].VpcId) != vpc || byID.InternetGateways[0].Attachments[0].State != types.AttachmentStatus("available") {
		t.Fatalf("by id: %+v %v", byID, err)
	}
	_, err = c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{"igw-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidInternetGatewayID.NotFound")
	_, err = c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{subnetFilter("attachment.nope", "x")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	page, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{MaxResults: aws.Int32(5)})
	if err != nil || len(page.InternetGateways) != 3 || page.NextToken != nil {
		t.Fatalf("page: %+v %v", page, err)
	}

	_, err = c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(g)})
	apitest.WantCode(t, err, "DependencyViolation")
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpc)})
	apitest.WantCode(t, err, "DependencyViolation")
	apitest.WantCode(t, detach(g, vpc2), "Gateway.NotAttached")
	apitest.WantCode(t, detach(g2, vpc), "Gateway.NotAttached")
	if err := detach(g, vpc); err != nil {
		t.Fatal(err)
	}
	if err := attach(g2, vpc); err != nil { // the VPC is free again
		t.Fatal(err)
	}
	if _, err := c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(g)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(g)})
	apitest.WantCode(t, err, "InvalidInternetGatewayID.NotFound")
}

func TestDetachInternetGatewayWithMappedAddress(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := aws.ToString(subnetVPC(t, c, "10.0.0.0/16", false).VpcId)
	s := subnetNew(t, c, vpc, "10.0.1.0/24")
	g := subnetIGW(t, c, vpc)
	eni := subnetENI(t, c, s)
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	assoc, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, NetworkInterfaceId: aws.String(eni)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(g), VpcId: aws.String(vpc)})
	apitest.WantCode(t, err, "DependencyViolation")
	if !strings.Contains(err.Error(), "mapped public address") {
		t.Errorf("message = %v", err)
	}
	if _, err := c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc.AssociationId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(g), VpcId: aws.String(vpc)}); err != nil {
		t.Fatal(err)
	}
}

func TestRouteTableLifecycle(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v := subnetVPC(t, c, "10.0.0.0/16", true)
	vpc := aws.ToString(v.VpcId)
	vpc2 := aws.ToString(subnetVPC(t, c, "10.1.0.0/16", false).VpcId)
	out, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc), TagSpecifications: []types.TagSpecification{{
		ResourceType: types.ResourceTypeRouteTable, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("public")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	rt := *out.RouteTable
	rtb := aws.ToString(rt.RouteTableId)
	if len(rt.Routes) != 2 || aws.ToString(rt.Routes[0].DestinationCidrBlock) != "10.0.0.0/16" || aws.ToString(rt.Routes[0].GatewayId) != "local" ||
		aws.ToString(rt.Routes[1].DestinationIpv6CidrBlock) != aws.ToString(v.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock) ||
		rt.Routes[0].State != types.RouteStateActive || rt.Routes[0].Origin != types.RouteOriginCreateRouteTable ||
		len(rt.Associations) != 0 || len(rt.Tags) != 1 || aws.ToString(rt.VpcId) != vpc {
		t.Fatalf("route table = %+v", rt)
	}
	_, err = c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String("vpc-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidVpcID.NotFound")
	// Current SDKs send a ClientToken: a retry returns the same table.
	tok := aws.String("rtb-token-1")
	first, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc), ClientToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc), ClientToken: tok})
	if err != nil || aws.ToString(again.RouteTable.RouteTableId) != aws.ToString(first.RouteTable.RouteTableId) || aws.ToString(again.ClientToken) != *tok {
		t.Fatalf("retry with the same token: %+v %v", again, err)
	}
	_, err = c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc2), ClientToken: tok})
	apitest.WantCode(t, err, "IdempotentParameterMismatch")
	if _, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: first.RouteTable.RouteTableId}); err != nil {
		t.Fatal(err)
	}

	s := subnetNew(t, c, vpc, "10.0.1.0/24")
	s2 := subnetNew(t, c, vpc2, "10.1.1.0/24")
	assocOut, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtb), SubnetId: aws.String(s)})
	if err != nil {
		t.Fatal(err)
	}
	assoc := aws.ToString(assocOut.AssociationId)
	if !strings.HasPrefix(assoc, "rtbassoc-") || assocOut.AssociationState.State != types.RouteTableAssociationStateCodeAssociated {
		t.Fatalf("associate: %+v", assocOut)
	}
	rtb2 := subnetNewRTB(t, c, vpc)
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtb2), SubnetId: aws.String(s)})
	apitest.WantCode(t, err, "Resource.AlreadyAssociated")
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtb), SubnetId: aws.String(s2)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtb), SubnetId: aws.String("subnet-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtb)})
	apitest.WantCode(t, err, "MissingParameter")
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String("rtb-0123456789abcdef0"), SubnetId: aws.String(s)})
	apitest.WantCode(t, err, "InvalidRouteTableID.NotFound")

	main := subnetMainRTB(t, c, vpc)
	mainID := aws.ToString(main.RouteTableId)
	if len(main.Associations) != 1 || !aws.ToBool(main.Associations[0].Main) || main.Associations[0].SubnetId != nil {
		t.Fatalf("main table = %+v", main)
	}
	// DescribeRouteTables filters.
	desc := func(filters ...types.Filter) []string {
		t.Helper()
		out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: append([]types.Filter{subnetFilter("vpc-id", vpc)}, filters...)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range out.RouteTables {
			ids = append(ids, aws.ToString(r.RouteTableId))
		}
		return ids
	}
	cases := []struct {
		f    types.Filter
		want []string
	}{
		{subnetFilter("route-table-id", rtb), []string{rtb}},
		{subnetFilter("association.subnet-id", s), []string{rtb}},
		{subnetFilter("association.main", "true"), []string{mainID}},
		{subnetFilter("association.main", "false"), []string{rtb}},
		{subnetFilter("association.route-table-association-id", assoc), []string{rtb}},
		{subnetFilter("route.destination-cidr-block", "10.0.0.0/16"), []string{mainID, rtb, rtb2}},
		{subnetFilter("route.gateway-id", "local"), []string{mainID, rtb, rtb2}},
		{subnetFilter("route.origin", "CreateRouteTable"), []string{mainID, rtb, rtb2}},
		{subnetFilter("route.state", "blackhole"), nil}, // none yet
		{subnetFilter("tag:Name", "public"), []string{rtb}},
	}
	for _, tc := range cases {
		if ids := desc(tc.f); fmt.Sprint(ids) != fmt.Sprint(sortedIDs(tc.want)) {
			t.Errorf("filter %s=%v: got %v, want %v", aws.ToString(tc.f.Name), tc.f.Values, ids, sortedIDs(tc.want))
		}
	}
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidRouteTableID.NotFound")
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb"}})
	apitest.WantCode(t, err, "InvalidRouteTableId.Malformed")
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(101)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{subnetFilter("route.bogus", "x")}})
	apitest.WantCode(t, err, "InvalidParameterValue")

	// Delete: associated and main tables cannot go.
	_, err = c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtb)})
	apitest.WantCode(t, err, "DependencyViolation")
	_, err = c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(mainID)})
	apitest.WantCode(t, err, "DependencyViolation")
	_, err = c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: main.Associations[0].RouteTableAssociationId})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: aws.String("rtbassoc-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidAssociationID.NotFound")
	_, err = c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: aws.String("assoc-1")})
	apitest.WantCode(t, err, "InvalidAssociationID.Malformed")
	if _, err := c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: aws.String(assoc)}); err != nil {
		t.Fatal(err)
	}
	if ids := desc(subnetFilter("association.subnet-id", s)); len(ids) != 0 {
		t.Errorf("still associated: %v", ids)
	}
	_, err = c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: aws.String(assoc)})
	apitest.WantCode(t, err, "InvalidAssociationID.NotFound")
	// Now the subnet may take another table.
	if _, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtb2), SubnetId: aws.String(s)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtb), DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	if _, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtb)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtb)})
	apitest.WantCode(t, err, "InvalidRouteTableID.NotFound")
}

func TestRoutes(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v := subnetVPC(t, c, "10.0.0.0/16", true)
	vpc := aws.ToString(v.VpcId)
	vpc2 := aws.ToString(subnetVPC(t, c, "10.1.0.0/16", false).VpcId)
	s := subnetNew(t, c, vpc, "10.0.1.0/24")
	other := subnetNew(t, c, vpc2, "10.1.1.0/24")
	rtb := subnetNewRTB(t, c, vpc)
	g := subnetIGW(t, c, vpc)
	g2 := subnetIGW(t, c, "") // detached
	eni := subnetENI(t, c, s)
	eniOther := subnetENI(t, c, other)

	create := func(in ec2.CreateRouteInput) error {
		in.RouteTableId = aws.String(rtb)
		_, err := c.CreateRoute(ctx, &in)
		return err
	}
	if err := create(ec2.CreateRouteInput{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(g)}); err != nil {
		t.Fatal(err)
	}
	if err := create(ec2.CreateRouteInput{DestinationIpv6CidrBlock: aws.String("::/0"), GatewayId: aws.String(g)}); err != nil {
		t.Fatal(err)
	}
	if err := create(ec2.CreateRouteInput{DestinationCidrBlock: aws.String("192.168.7.9/24"), NetworkInterfaceId: aws.String(eni)}); err != nil {
		t.Fatal(err)
	}
	r, ok := subnetRoute(t, c, rtb, "0.0.0.0/0")
	if !ok || aws.ToString(r.GatewayId) != g || r.State != types.RouteStateActive || r.Origin != types.RouteOriginCreateRoute {
		t.Fatalf("default route = %+v", r)
	}
	if r, ok := subnetRoute(t, c, rtb, "::/0"); !ok || aws.ToString(r.GatewayId) != g {
		t.Fatalf("IPv6 default route = %+v", r)
	}
	r, ok = subnetRoute(t, c, rtb, "192.168.7.0/24") // canonical form
	if !ok || aws.ToString(r.NetworkInterfaceId) != eni || r.State != types.RouteStateActive {
		t.Fatalf("ENI route = %+v", r)
	}

	errs := []struct {
		in   ec2.CreateRouteInput
		code string
	}{
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(g)}, "RouteAlreadyExists"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("10.0.0.0/16"), NetworkInterfaceId: aws.String(eni)}, "RouteAlreadyExists"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), GatewayId: aws.String(g2)}, "InvalidParameterValue"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), GatewayId: aws.String("igw-0123456789abcdef0")}, "InvalidGatewayID.NotFound"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), NatGatewayId: aws.String("nat-0123456789abcdef0")}, "InvalidNatGatewayID.NotFound"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), NetworkInterfaceId: aws.String(eniOther)}, "InvalidParameterValue"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), NetworkInterfaceId: aws.String("eni-0123456789abcdef0")}, "InvalidNetworkInterfaceID.NotFound"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), InstanceId: aws.String("i-0123456789abcdef0")}, "InvalidInstanceID.NotFound"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24")}, "MissingParameter"},
		{ec2.CreateRouteInput{GatewayId: aws.String(g)}, "MissingParameter"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), GatewayId: aws.String(g), NetworkInterfaceId: aws.String(eni)}, "InvalidParameterCombination"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), DestinationIpv6CidrBlock: aws.String("2001:db8::/32"), GatewayId: aws.String(g)}, "InvalidParameterCombination"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("not-a-cidr"), GatewayId: aws.String(g)}, "InvalidParameterValue"},
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("10.0.5.0/24"), GatewayId: aws.String(g)}, "InvalidParameterValue"}, // more specific than the VPC, to a gateway
		{ec2.CreateRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), GatewayId: aws.String(g), DryRun: aws.Bool(true)}, "DryRunOperation"},
	}
	for i, tc := range errs {
		if err := create(tc.in); apitest.Code(err) != tc.code {
			t.Errorf("case %d: err = %v, want %s", i, err, tc.code)
		}
	}
	_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String("rtb-0123456789abcdef0"), DestinationCidrBlock: aws.String("8.8.8.0/24"), GatewayId: aws.String(g)})
	apitest.WantCode(t, err, "InvalidRouteTableID.NotFound")
	if _, ok := subnetRoute(t, c, rtb, "8.8.8.0/24"); ok {
		t.Fatal("a failed CreateRoute left a route")
	}

	// ReplaceRoute.
	replace := func(in ec2.ReplaceRouteInput) error {
		in.RouteTableId = aws.String(rtb)
		_, err := c.ReplaceRoute(ctx, &in)
		return err
	}
	if err := replace(ec2.ReplaceRouteInput{DestinationCidrBlock: aws.String("0.0.0.0/0"), NetworkInterfaceId: aws.String(eni)}); err != nil {
		t.Fatal(err)
	}
	if r, _ := subnetRoute(t, c, rtb, "0.0.0.0/0"); aws.ToString(r.NetworkInterfaceId) != eni || r.GatewayId != nil {
		t.Fatalf("replaced route = %+v", r)
	}
	apitest.WantCode(t, replace(ec2.ReplaceRouteInput{DestinationCidrBlock: aws.String("8.8.8.0/24"), GatewayId: aws.String(g)}), "InvalidRoute.NotFound")
	// The local route's target may become an interface of the VPC (see
	// TestReplaceLocalRoute), not a gateway.
	apitest.WantCode(t, replace(ec2.ReplaceRouteInput{DestinationCidrBlock: aws.String("10.0.0.0/16"), GatewayId: aws.String(g)}), "InvalidParameterValue")
	apitest.WantCode(t, replace(ec2.ReplaceRouteInput{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(g2)}), "InvalidParameterValue")
	if err := replace(ec2.ReplaceRouteInput{DestinationCidrBlock: aws.String("10.0.0.0/16"), LocalTarget: aws.Bool(true)}); err != nil {
		t.Fatalf("LocalTarget on the local route: %v", err)
	}

	// A route to a deleted ENI is a blackhole.
	if _, err := c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(eni)}); err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{"0.0.0.0/0", "192.168.7.0/24"} {
		if r, _ := subnetRoute(t, c, rtb, dest); r.State != types.RouteStateBlackhole {
			t.Errorf("route %s after ENI delete: state %s, want blackhole", dest, r.State)
		}
	}
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{subnetFilter("route.state", "blackhole")}})
	if err != nil || len(out.RouteTables) != 1 || aws.ToString(out.RouteTables[0].RouteTableId) != rtb {
		t.Errorf("route.state=blackhole: %+v %v", out, err)
	}

	// DeleteRoute.
	del := func(in ec2.DeleteRouteInput) error {
		in.RouteTableId = aws.String(rtb)
		_, err := c.DeleteRoute(ctx, &in)
		return err
	}
	if err := del(ec2.DeleteRouteInput{DestinationCidrBlock: aws.String("192.168.7.0/24")}); err != nil {
		t.Fatal(err)
	}
	if err := del(ec2.DeleteRouteInput{DestinationIpv6CidrBlock: aws.String("::/0")}); err != nil {
		t.Fatal(err)
	}
	apitest.WantCode(t, del(ec2.DeleteRouteInput{DestinationCidrBlock: aws.String("192.168.7.0/24")}), "InvalidRoute.NotFound")
	apitest.WantCode(t, del(ec2.DeleteRouteInput{DestinationCidrBlock: aws.String("10.0.0.0/16")}), "InvalidParameterValue")
	apitest.WantCode(t, del(ec2.DeleteRouteInput{DestinationIpv6CidrBlock: v.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock}), "InvalidParameterValue")
	if rt := subnetRTB(t, c, rtb); len(rt.Routes) != 3 { // two local routes + 0.0.0.0/0
		t.Fatalf("routes left = %+v", rt.Routes)
	}
}

func TestRouteToInstance(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := aws.ToString(subnetVPC(t, c, "10.0.0.0/16", false).VpcId)
	s := subnetNew(t, c, vpc, "10.0.1.0/24")
	rtb := subnetNewRTB(t, c, vpc)
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a3c3a20c09d6f377"), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(s)})
	if err != nil {
		t.Fatal(err)
	}
	inst := aws.ToString(run.Instances[0].InstanceId)
	primary := aws.ToString(run.Instances[0].NetworkInterfaces[0].NetworkInterfaceId)
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("0.0.0.0/0"), InstanceId: aws.String(inst)}); err != nil {
		t.Fatal(err)
	}
	r, _ := subnetRoute(t, c, rtb, "0.0.0.0/0")
	if aws.ToString(r.InstanceId) != inst || aws.ToString(r.NetworkInterfaceId) != primary || aws.ToString(r.InstanceOwnerId) != "123456789012" || r.State != types.RouteStateActive {
		t.Fatalf("instance route = %+v", r)
	}
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{subnetFilter("route.instance-id", inst)}})
	if err != nil || len(out.RouteTables) != 1 {
		t.Fatalf("route.instance-id: %+v %v", out, err)
	}
	out, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{subnetFilter("route.network-interface-id", primary)}})
	if err != nil || len(out.RouteTables) != 1 {
		t.Fatalf("route.network-interface-id: %+v %v", out, err)
	}
	// With a second interface attached, an instance target is ambiguous.
	eni := subnetENI(t, c, s)
	if _, err := c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eni), InstanceId: aws.String(inst), DeviceIndex: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("172.16.0.0/12"), InstanceId: aws.String(inst)})
	apitest.WantCode(t, err, "InvalidInstanceID")
	_, err = c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("0.0.0.0/0"), InstanceId: aws.String(inst)})
	apitest.WantCode(t, err, "InvalidInstanceID")
	if _, err := c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("0.0.0.0/0"), NetworkInterfaceId: aws.String(eni)}); err != nil {
		t.Fatal(err)
	}
	if r, _ := subnetRoute(t, c, rtb, "0.0.0.0/0"); aws.ToString(r.NetworkInterfaceId) != eni || aws.ToString(r.InstanceId) != inst {
		t.Fatalf("route via the second interface = %+v", r)
	}
}

func TestDefaultVPCRouting(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{subnetFilter("is-default", "true")}})
	if err != nil || len(vpcs.Vpcs) != 1 {
		t.Fatalf("default VPC: %+v %v", vpcs, err)
	}
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	main := subnetMainRTB(t, c, vpc)
	var igw string
	for _, r := range main.Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" {
			igw = aws.ToString(r.GatewayId)
		}
	}
	gws, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{subnetFilter("attachment.vpc-id", vpc)}})
	if err != nil || len(gws.InternetGateways) != 1 || aws.ToString(gws.InternetGateways[0].InternetGatewayId) != igw {
		t.Fatalf("default VPC gateway %q: %+v %v", igw, gws, err)
	}
	subs, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{subnetFilter("vpc-id", vpc)}})
	if err != nil || len(subs.Subnets) != 3 {
		t.Fatalf("default subnets: %+v %v", subs, err)
	}
	for _, s := range subs.Subnets {
		if !aws.ToBool(s.DefaultForAz) || !aws.ToBool(s.MapPublicIpOnLaunch) || aws.ToInt32(s.AvailableIpAddressCount) != 4091 {
			t.Errorf("default subnet = %+v", s)
		}
	}
}
