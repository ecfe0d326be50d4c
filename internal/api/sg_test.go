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

func sgCreate(t *testing.T, c *ec2.Client, name, vpc string) string {
	t.Helper()
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("test group " + name)}
	if vpc != "" {
		in.VpcId = aws.String(vpc)
	}
	out, err := c.CreateSecurityGroup(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.GroupId)
}

func sgDescribe(t *testing.T, c *ec2.Client, id string) types.SecurityGroup {
	t.Helper()
	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("describe %s: %d groups", id, len(out.SecurityGroups))
	}
	return out.SecurityGroups[0]
}

func sgDefaultVPC(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil || len(out.Vpcs) != 1 {
		t.Fatalf("default vpc: %v %v", out, err)
	}
	return aws.ToString(out.Vpcs[0].VpcId)
}

func sgNewVPC(t *testing.T, c *ec2.Client, ipv6 bool) string {
	t.Helper()
	out, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(ipv6)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Vpc.VpcId)
}

func sgTCP(port int32, cidrs ...string) types.IpPermission {
	pm := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port)}
	for _, c := range cidrs {
		pm.IpRanges = append(pm.IpRanges, types.IpRange{CidrIp: aws.String(c)})
	}
	return pm
}

func TestSGCreateSecurityGroup(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	defVPC := sgDefaultVPC(t, c)
	out, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String("web"), Description: aws.String("web servers"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.GroupId)
	if !strings.HasPrefix(id, "sg-") || len(out.Tags) != 1 {
		t.Fatalf("create = %+v", out)
	}
	if want := "arn:aws:ec2:us-east-1:123456789012:security-group/" + id; aws.ToString(out.SecurityGroupArn) != want {
		t.Fatalf("arn = %q, want %q", aws.ToString(out.SecurityGroupArn), want)
	}
	g := sgDescribe(t, c, id)
	if aws.ToString(g.GroupName) != "web" || aws.ToString(g.Description) != "web servers" || aws.ToString(g.VpcId) != defVPC ||
		aws.ToString(g.OwnerId) != "123456789012" || aws.ToString(g.SecurityGroupArn) == "" || len(g.Tags) != 1 {
		t.Fatalf("described = %+v", g)
	}
	if len(g.IpPermissions) != 0 || len(g.IpPermissionsEgress) != 1 {
		t.Fatalf("rules = %+v / %+v", g.IpPermissions, g.IpPermissionsEgress)
	}
	eg := g.IpPermissionsEgress[0]
	if aws.ToString(eg.IpProtocol) != "-1" || eg.FromPort != nil || eg.ToPort != nil || len(eg.IpRanges) != 1 ||
		aws.ToString(eg.IpRanges[0].CidrIp) != "0.0.0.0/0" || len(eg.Ipv6Ranges) != 0 {
		t.Fatalf("default egress = %+v", eg)
	}

	// In a VPC with IPv6 the new group may also send to ::/0.
	v6 := sgNewVPC(t, c, true)
	g6 := sgDescribe(t, c, sgCreate(t, c, "web", v6)) // same name, other VPC: fine
	if len(g6.IpPermissionsEgress) != 1 || len(g6.IpPermissionsEgress[0].Ipv6Ranges) != 1 ||
		aws.ToString(g6.IpPermissionsEgress[0].Ipv6Ranges[0].CidrIpv6) != "::/0" {
		t.Fatalf("ipv6 vpc egress = %+v", g6.IpPermissionsEgress)
	}
}

func TestSGCreateSecurityGroupErrors(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	sgCreate(t, c, "web", "")
	for _, cs := range []struct {
		name, desc, vpc, code string
	}{
		{"web", "again", "", "InvalidGroup.Duplicate"},
		{"default", "x", "", "InvalidGroup.Reserved"},
		{"sg-123", "x", "", "InvalidParameterValue"},
		{strings.Repeat("a", 256), "x", "", "InvalidParameterValue"},
		{"ok", strings.Repeat("d", 256), "", "InvalidParameterValue"},
		{"naïve", "x", "", "InvalidParameterValue"},
		{"ok", "x", "vpc-0123456789abcdef0", "InvalidVpcID.NotFound"},
		{"ok", "x", "vpc", "InvalidVpcID.Malformed"},
		{"ok", "", "", "MissingParameter"},
	} {
		in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(cs.name), Description: aws.String(cs.desc)}
		if cs.vpc != "" {
			in.VpcId = aws.String(cs.vpc)
		}
		_, err := c.CreateSecurityGroup(ctx, in)
		apitest.WantCode(t, err, cs.code)
	}
	_, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("nodesc"), Description: aws.String("")})
	eniWantMessage(t, err, "The request must contain the parameter GroupDescription")
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("x"), Description: aws.String("x"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("dry"), Description: aws.String("x"), DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	// Only "web" and the default group exist.
	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	if err != nil || len(out.SecurityGroups) != 2 {
		t.Fatalf("groups after failures: %+v %v", out, err)
	}
}

func TestSGDescribeSecurityGroups(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	defVPC := sgDefaultVPC(t, c)
	web := sgCreate(t, c, "web", "")
	db := sgCreate(t, c, "db", "")
	tagged, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("cache"), Description: aws.String("cache nodes"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("cache")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(tagged.GroupId) == "" {
		t.Fatal("no group id")
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(db), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(web)}}},
		sgTCP(22, "10.1.0.0/16"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	// A rule names a prefix list that exists.
	pl, err := c.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("dns"), AddressFamily: aws.String("IPv6"), MaxEntries: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	plID := aws.ToString(pl.PrefixList.PrefixListId)
	_, err = c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("2001:db8::/32")}},
			PrefixListIds: []types.PrefixListId{{PrefixListId: aws.String(plID)}}},
	}})
	if err != nil {
		t.Fatal(err)
	}

	ids := func(f ...types.Filter) []string {
		t.Helper()
		out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range out.SecurityGroups {
			got = append(got, aws.ToString(g.GroupName))
		}
		return got
	}
	f := func(name string, vals ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: vals}
	}
	for _, cs := range []struct {
		filter types.Filter
		want   string
	}{
		{f("group-id", web), "web"},
		{f("group-name", "d*"), "db,default"},
		{f("description", "cache nodes"), "cache"},
		{f("vpc-id", defVPC), "cache,db,default,web"},
		{f("owner-id", "123456789012"), "cache,db,default,web"},
		{f("owner-id", "999999999999"), ""},
		{f("tag:tier", "cache"), "cache"},
		{f("tag-key", "tier"), "cache"},
		{f("ip-permission.cidr", "10.1.0.0/16"), "db"},
		{f("ip-permission.from-port", "5432"), "db"},
		{f("ip-permission.to-port", "22"), "db"},
		{f("ip-permission.protocol", "tcp"), "db"},
		{f("ip-permission.group-id", web), "db"},
		{f("ip-permission.group-name", "web"), "db"},
		{f("ip-permission.user-id", "123456789012"), "db,default"},
		{f("egress.ip-permission.ipv6-cidr", "2001:db8::/32"), "web"},
		{f("egress.ip-permission.prefix-list-id", plID), "web"},
		{f("egress.ip-permission.protocol", "udp"), "web"},
		{f("egress.ip-permission.cidr", "0.0.0.0/0"), "cache,db,default,web"},
		{f("ip-permission.ipv6-cidr", "2001:db8::/32"), ""},
		{f("ip-permission.prefix-list-id", "pl-*"), ""},
	} {
		got := ids(cs.filter)
		if sgSorted(got) != cs.want {
			t.Errorf("filter %s=%v: got %v, want %s", aws.ToString(cs.filter.Name), cs.filter.Values, got, cs.want)
		}
	}

	// The merged view of db's ingress: one permission per protocol/ports.
	g := sgDescribe(t, c, db)
	if len(g.IpPermissions) != 2 || len(g.IpPermissions[0].UserIdGroupPairs) != 1 ||
		aws.ToString(g.IpPermissions[0].UserIdGroupPairs[0].GroupId) != web || aws.ToString(g.IpPermissions[0].UserIdGroupPairs[0].UserId) != "123456789012" {
		t.Fatalf("db ingress = %+v", g.IpPermissions)
	}

	// By name (default VPC) and by id; missing ones fail the call.
	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"web", "default"}})
	if err != nil || len(out.SecurityGroups) != 2 {
		t.Fatalf("by name: %+v %v", out, err)
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"nope"}})
	apitest.WantCode(t, err, "InvalidGroup.NotFound")
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{web, "sg-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidGroup.NotFound")
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"web"}})
	apitest.WantCode(t, err, "InvalidGroupId.Malformed")
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{f("ip-permission.bogus", "x")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(4)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{NextToken: aws.String("!!")})
	apitest.WantCode(t, err, "InvalidNextToken")
}

func sgSorted(names []string) string {
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return strings.Join(names, ",")
}

func TestSGDescribeSecurityGroupsPagination(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	for i := 0; i < 11; i++ {
		sgCreate(t, c, fmt.Sprintf("g%02d", i), "")
	}
	seen := map[string]bool{}
	pages := 0
	p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.SecurityGroups) > 5 {
			t.Fatalf("page of %d", len(out.SecurityGroups))
		}
		for _, g := range out.SecurityGroups {
			if seen[aws.ToString(g.GroupId)] {
				t.Fatalf("%s twice", aws.ToString(g.GroupId))
			}
			seen[aws.ToString(g.GroupId)] = true
		}
	}
	if len(seen) != 12 || pages != 3 {
		t.Fatalf("%d groups in %d pages, want 12 in 3", len(seen), pages)
	}
}

func TestSGAuthorizeSecurityGroupIngress(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	web := sgCreate(t, c, "web", "")
	lb := sgCreate(t, c, "lb", "")
	out, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(web),
		IpPermissions: []types.IpPermission{
			{IpProtocol: aws.String("TCP"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
				IpRanges:         []types.IpRange{{CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("internal")}, {CidrIp: aws.String("192.168.0.0/16")}},
				UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(lb)}}},
			{IpProtocol: aws.String("6"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}},
			{IpProtocol: aws.String("icmp"), FromPort: aws.Int32(8), ToPort: aws.Int32(-1), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
			{IpProtocol: aws.String("all"), FromPort: aws.Int32(1), ToPort: aws.Int32(2), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(web)}}},
		},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroupRule, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(out.Return) || len(out.SecurityGroupRules) != 6 {
		t.Fatalf("authorize = %+v", out)
	}
	r0 := out.SecurityGroupRules[0]
	if !strings.HasPrefix(aws.ToString(r0.SecurityGroupRuleId), "sgr-") || aws.ToString(r0.GroupId) != web || aws.ToBool(r0.IsEgress) ||
		aws.ToString(r0.IpProtocol) != "tcp" || aws.ToInt32(r0.FromPort) != 443 || aws.ToString(r0.CidrIpv4) != "10.0.0.0/8" ||
		aws.ToString(r0.Description) != "internal" || aws.ToString(r0.GroupOwnerId) != "123456789012" || len(r0.Tags) != 1 {
		t.Fatalf("first rule = %+v", r0)
	}
	if ref := out.SecurityGroupRules[2].ReferencedGroupInfo; ref == nil || aws.ToString(ref.GroupId) != lb || aws.ToString(ref.UserId) != "123456789012" {
		t.Fatalf("group rule = %+v", out.SecurityGroupRules[2])
	}
	if aws.ToString(out.SecurityGroupRules[3].IpProtocol) != "tcp" || aws.ToString(out.SecurityGroupRules[5].IpProtocol) != "-1" {
		t.Fatalf("protocols not normalised: %+v", out.SecurityGroupRules)
	}
	g := sgDescribe(t, c, web)
	if len(g.IpPermissions) != 4 {
		t.Fatalf("ingress = %+v", g.IpPermissions)
	}
	p443 := g.IpPermissions[0]
	if len(p443.IpRanges) != 2 || len(p443.UserIdGroupPairs) != 1 || aws.ToString(p443.IpRanges[0].Description) != "internal" {
		t.Fatalf("443 = %+v", p443)
	}
	if all := g.IpPermissions[3]; aws.ToString(all.IpProtocol) != "-1" || all.FromPort != nil || all.ToPort != nil {
		t.Fatalf("all traffic = %+v", all)
	}

	// The legacy flat form, and by GroupName in the default VPC.
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("web"),
		IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53), CidrIp: aws.String("10.0.0.0/8")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(lb), SourceSecurityGroupName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	if lbg := sgDescribe(t, c, lb); len(lbg.IpPermissions) != 3 {
		t.Fatalf("SourceSecurityGroupName gives icmp, tcp and udp: %+v", lbg.IpPermissions)
	}
	if n := len(sgDescribe(t, c, web).IpPermissions); n != 5 {
		t.Fatalf("flat CidrIp rule missing: %d permissions", n)
	}
}

func TestSGAuthorizeSecurityGroupIngressErrors(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	web := sgCreate(t, c, "web", "")
	otherVPC := sgCreate(t, c, "elsewhere", sgNewVPC(t, c, false))
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(22, "10.0.0.0/8")}}); err != nil {
		t.Fatal(err)
	}
	auth := func(perms ...types.IpPermission) error {
		_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: perms})
		return err
	}
	apitest.WantCode(t, auth(sgTCP(22, "172.16.0.0/12", "10.0.0.0/8")), "InvalidPermission.Duplicate")
	apitest.WantCode(t, auth(sgTCP(22, "10.0.0.0/33")), "InvalidParameterValue")
	apitest.WantCode(t, auth(sgTCP(70000, "10.0.0.0/8")), "InvalidPermission.Malformed")
	apitest.WantCode(t, auth(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(90), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}), "InvalidPermission.Malformed")
	apitest.WantCode(t, auth(types.IpPermission{IpProtocol: aws.String("tcp"), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}), "InvalidParameterValue")
	apitest.WantCode(t, auth(types.IpPermission{IpProtocol: aws.String("bogus"), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}), "InvalidParameterValue")
	apitest.WantCode(t, auth(sgTCP(25)), "MissingParameter")
	apitest.WantCode(t, auth(types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String("sg-0123456789abcdef0")}}}), "InvalidGroup.NotFound")
	apitest.WantCode(t, auth(types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(otherVPC)}}}), "InvalidGroup.NotFound")
	apitest.WantCode(t, auth(sgTCP(8080, "10.9.0.0/16"), sgTCP(8080, "10.9.0.0/16")), "InvalidParameterValue")
	_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-0123456789abcdef0"), IpPermissions: []types.IpPermission{sgTCP(22, "10.0.0.0/8")}})
	apitest.WantCode(t, err, "InvalidGroup.NotFound")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), CidrIp: aws.String("10.0.0.0/8"),
		IpPermissions: []types.IpPermission{sgTCP(22, "10.0.0.0/8")}})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{IpPermissions: []types.IpPermission{sgTCP(22, "10.0.0.0/8")}})
	apitest.WantCode(t, err, "MissingParameter")

	// 60 IPv4 rules is the limit; the failing call adds nothing.
	var ranges []types.IpRange
	for i := 0; i < 60; i++ {
		ranges = append(ranges, types.IpRange{CidrIp: aws.String(fmt.Sprintf("10.%d.0.0/16", i+1))})
	}
	apitest.WantCode(t, auth(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(1), IpRanges: ranges}), "RulesPerSecurityGroupLimitExceeded")
	if err := auth(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(1), IpRanges: ranges[:59]}); err != nil {
		t.Fatal(err)
	}
	g := sgDescribe(t, c, web)
	n := 0
	for _, pm := range g.IpPermissions {
		n += len(pm.IpRanges)
	}
	if n != 60 {
		t.Fatalf("%d IPv4 rules, want 60", n)
	}
}

func TestSGAuthorizeSecurityGroupEgress(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	web := sgCreate(t, c, "web", "")
	out, err := c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(443, "10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroupRules) != 1 || !aws.ToBool(out.SecurityGroupRules[0].IsEgress) {
		t.Fatalf("egress rule = %+v", out.SecurityGroupRules)
	}
	g := sgDescribe(t, c, web)
	if len(g.IpPermissionsEgress) != 2 || len(g.IpPermissions) != 0 {
		t.Fatalf("egress = %+v", g.IpPermissionsEgress)
	}
	_, err = c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	apitest.WantCode(t, err, "InvalidPermission.Duplicate")
	_, err = c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String("sg-nope"), IpPermissions: []types.IpPermission{sgTCP(1, "10.0.0.0/8")}})
	apitest.WantCode(t, err, "InvalidGroupId.Malformed")
}

func TestSGRevokeSecurityGroupIngress(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := sgNewVPC(t, c, false)
	web := sgCreate(t, c, "web", vpc)
	auth, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("ssh")}}},
		sgTCP(80, "10.0.0.0/8", "192.168.0.0/16"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	// No match in a non-default VPC: nothing is revoked, not even the match.
	_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(80, "10.0.0.0/8", "172.16.0.0/12")}})
	apitest.WantCode(t, err, "InvalidPermission.NotFound")
	if n := len(sgDescribe(t, c, web).IpPermissions[1].IpRanges); n != 2 {
		t.Fatalf("partial revoke happened: %d ranges left", n)
	}
	// Exact match, description ignored; "6" is tcp.
	out, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("6"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}}})
	if err != nil || !aws.ToBool(out.Return) || len(out.UnknownIpPermissions) != 0 {
		t.Fatalf("revoke: %+v %v", out, err)
	}
	// By rule id.
	id := aws.ToString(auth.SecurityGroupRules[1].SecurityGroupRuleId)
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), SecurityGroupRuleIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	g := sgDescribe(t, c, web)
	if len(g.IpPermissions) != 1 || len(g.IpPermissions[0].IpRanges) != 1 || aws.ToString(g.IpPermissions[0].IpRanges[0].CidrIp) != "192.168.0.0/16" {
		t.Fatalf("left = %+v", g.IpPermissions)
	}
	_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), SecurityGroupRuleIds: []string{id}})
	apitest.WantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), SecurityGroupRuleIds: []string{"rule-1"}})
	apitest.WantCode(t, err, "InvalidSecurityGroupRuleId.Malformed")
	_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web)})
	apitest.WantCode(t, err, "MissingParameter")

	// In the default VPC an unknown rule is echoed back instead.
	def := sgCreate(t, c, "web", "")
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(def), IpPermissions: []types.IpPermission{sgTCP(22, "10.0.0.0/8")}}); err != nil {
		t.Fatal(err)
	}
	out, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupName: aws.String("web"), IpPermissions: []types.IpPermission{sgTCP(22, "10.0.0.0/8", "172.16.0.0/12")}})
	if err != nil || !aws.ToBool(out.Return) || len(out.UnknownIpPermissions) != 1 || len(out.UnknownIpPermissions[0].IpRanges) != 1 ||
		aws.ToString(out.UnknownIpPermissions[0].IpRanges[0].CidrIp) != "172.16.0.0/12" {
		t.Fatalf("default VPC revoke: %+v %v", out, err)
	}
	if n := len(sgDescribe(t, c, def).IpPermissions); n != 0 {
		t.Fatalf("matched rule not revoked: %d permissions", n)
	}
}

func TestSGRevokeSecurityGroupEgress(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := sgNewVPC(t, c, true)
	web := sgCreate(t, c, "web", vpc)
	// What Terraform does right after CreateSecurityGroup.
	out, err := c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("-1"), FromPort: aws.Int32(0), ToPort: aws.Int32(0), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	if err != nil || !aws.ToBool(out.Return) {
		t.Fatalf("revoke v4: %+v %v", out, err)
	}
	if _, err := c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("-1"), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	if g := sgDescribe(t, c, web); len(g.IpPermissionsEgress) != 0 {
		t.Fatalf("egress left: %+v", g.IpPermissionsEgress)
	}
	_, err = c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	apitest.WantCode(t, err, "InvalidPermission.NotFound")
}

func TestSGDeleteSecurityGroup(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	defVPC := sgDefaultVPC(t, c)
	web := sgCreate(t, c, "web", "")
	db := sgCreate(t, c, "db", "")
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(db), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(web)}}}}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(web)})
	apitest.WantCode(t, err, "DependencyViolation")
	def, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("group-name"), Values: []string{"default"}}, {Name: aws.String("vpc-id"), Values: []string{defVPC}}}})
	if err != nil || len(def.SecurityGroups) != 1 {
		t.Fatalf("default group: %+v %v", def, err)
	}
	dg := def.SecurityGroups[0]
	if len(dg.IpPermissions) != 1 || len(dg.IpPermissions[0].UserIdGroupPairs) != 1 || aws.ToString(dg.IpPermissions[0].UserIdGroupPairs[0].GroupId) != aws.ToString(dg.GroupId) {
		t.Fatalf("default group ingress = %+v", dg.IpPermissions)
	}
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: dg.GroupId})
	apitest.WantCode(t, err, "CannotDelete")
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("default")})
	apitest.WantCode(t, err, "CannotDelete")
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(db), DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("db")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(web)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(web)})
	apitest.WantCode(t, err, "InvalidGroup.NotFound")
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("web")})
	apitest.WantCode(t, err, "InvalidGroup.NotFound")
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{})
	apitest.WantCode(t, err, "MissingParameter")
}

func TestSGDescribeSecurityGroupRules(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	web := sgCreate(t, c, "web", "")
	auth, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web),
		IpPermissions:     []types.IpPermission{sgTCP(22, "10.0.0.0/8", "192.168.0.0/16")},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroupRule, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	byGroup, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{web}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(byGroup.SecurityGroupRules) != 3 { // two ingress + the default egress
		t.Fatalf("rules of %s = %+v", web, byGroup.SecurityGroupRules)
	}
	for _, r := range byGroup.SecurityGroupRules {
		if aws.ToBool(r.IsEgress) && (aws.ToString(r.IpProtocol) != "-1" || aws.ToInt32(r.FromPort) != -1 || aws.ToInt32(r.ToPort) != -1 || aws.ToString(r.CidrIpv4) != "0.0.0.0/0") {
			t.Fatalf("egress rule = %+v", r)
		}
	}
	id := aws.ToString(auth.SecurityGroupRules[0].SecurityGroupRuleId)
	one, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{id}})
	if err != nil || len(one.SecurityGroupRules) != 1 {
		t.Fatalf("by id: %+v %v", one, err)
	}
	r := one.SecurityGroupRules[0]
	if aws.ToString(r.GroupId) != web || aws.ToString(r.GroupOwnerId) != "123456789012" || aws.ToString(r.IpProtocol) != "tcp" ||
		aws.ToInt32(r.FromPort) != 22 || aws.ToInt32(r.ToPort) != 22 || aws.ToString(r.CidrIpv4) != "10.0.0.0/8" || len(r.Tags) != 1 {
		t.Fatalf("rule = %+v", r)
	}
	for _, cs := range []struct {
		f    types.Filter
		want int
	}{
		{types.Filter{Name: aws.String("security-group-rule-id"), Values: []string{id}}, 1},
		{types.Filter{Name: aws.String("tag:team"), Values: []string{"net"}}, 2},
		{types.Filter{Name: aws.String("tag-key"), Values: []string{"team"}}, 2},
		{types.Filter{Name: aws.String("tag:team"), Values: []string{"ops"}}, 0},
	} {
		out, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{cs.f}})
		if err != nil || len(out.SecurityGroupRules) != cs.want {
			t.Errorf("filter %s: %+v %v, want %d", aws.ToString(cs.f.Name), out, err, cs.want)
		}
	}
	// Pagination over all rules (default group: 2, web: 3).
	total := 0
	pg := ec2.NewDescribeSecurityGroupRulesPaginator(c, &ec2.DescribeSecurityGroupRulesInput{MaxResults: aws.Int32(5)})
	pages := 0
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		total += len(out.SecurityGroupRules)
	}
	if total != 5 || pages != 1 {
		t.Fatalf("%d rules in %d pages", total, pages)
	}
	out, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{MaxResults: aws.Int32(5), Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{web}}}})
	if err != nil || len(out.SecurityGroupRules) != 3 || out.NextToken != nil {
		t.Fatalf("page: %+v %v", out, err)
	}
	_, err = c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{"sgr-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	_, err = c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{"bad"}})
	apitest.WantCode(t, err, "InvalidSecurityGroupRuleId.Malformed")
	_, err = c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{{Name: aws.String("cidr"), Values: []string{"x"}}}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{MaxResults: aws.Int32(1001)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	// A group-id filter value that is no group id is malformed (AWS's
	// answer, even for ""), not a filter that matches nothing.
	for _, v := range []string{"", "web", "sg-xyz"} {
		_, err = c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{web, v}}}})
		apitest.WantCode(t, err, "InvalidGroupId.Malformed")
		eniWantMessage(t, err, "The security group ID '"+v+"' is malformed")
	}
	// A well-formed id of no group matches nothing.
	out, err = c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{"sg-0123456789abcdef0"}}}})
	if err != nil || len(out.SecurityGroupRules) != 0 {
		t.Fatalf("unknown group: %+v %v", out, err)
	}
}
