package api_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// tagFixture creates one resource of every taggable type and returns their
// ids by DescribeTags resource type.
func tagFixture(t *testing.T, c *ec2.Client) map[string]string {
	t.Helper()
	ids := map[string]string{}
	inst := addrLaunch(t, c)
	ids["instance"] = aws.ToString(inst.InstanceId)
	ids["network-interface"] = aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId)
	ids["subnet"] = aws.ToString(inst.SubnetId)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.2.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	ids["vpc"] = aws.ToString(vpc.Vpc.VpcId)
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: vpc.Vpc.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	ids["security-group"] = aws.ToString(sg.GroupId)
	rule, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ids["security-group-rule"] = aws.ToString(rule.SecurityGroupRules[0].SecurityGroupRuleId)
	ids["elastic-ip"] = aws.ToString(addrAlloc(t, c).AllocationId)
	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	ids["internet-gateway"] = aws.ToString(igw.InternetGateway.InternetGatewayId)
	// The new VPC's main route table (CreateRouteTable is another package's).
	rtbs, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{tagFilter("vpc-id", ids["vpc"])}})
	if err != nil || len(rtbs.RouteTables) != 1 {
		t.Fatalf("route tables: %+v %v", rtbs, err)
	}
	ids["route-table"] = aws.ToString(rtbs.RouteTables[0].RouteTableId)
	return ids
}

func tagsOf(t *testing.T, c *ec2.Client, filters ...types.Filter) map[string]string {
	t.Helper()
	out, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, d := range out.Tags {
		m[aws.ToString(d.ResourceId)+"/"+aws.ToString(d.Key)] = aws.ToString(d.Value)
	}
	return m
}

func tagFilter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func TestCreateTagsEveryResourceType(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	ids := tagFixture(t, c)
	var all []string
	for _, id := range ids {
		all = append(all, id)
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: all, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	for typ, id := range ids {
		out, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{tagFilter("resource-id", id)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tags) != 1 || string(out.Tags[0].ResourceType) != typ || aws.ToString(out.Tags[0].Key) != "env" || aws.ToString(out.Tags[0].Value) != "prod" {
			t.Errorf("%s %s: %+v", typ, id, out.Tags)
		}
	}
	// The resources' own Describe calls show the tags.
	n := addrDescribeENI(t, c, ids["network-interface"])
	if len(n.TagSet) != 1 || aws.ToString(n.TagSet[0].Key) != "env" {
		t.Errorf("ENI tags = %+v", n.TagSet)
	}
	if a := addrDescribe(t, c, ids["elastic-ip"]); len(a.Tags) != 1 {
		t.Errorf("EIP tags = %+v", a.Tags)
	}
	rules, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{ids["security-group-rule"]}})
	if err != nil || len(rules.SecurityGroupRules) != 1 || len(rules.SecurityGroupRules[0].Tags) != 1 {
		t.Errorf("rule tags = %+v %v", rules, err)
	}
	// Overwrite a value; a missing value is empty.
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{ids["vpc"]}, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("flag")}}}); err != nil {
		t.Fatal(err)
	}
	got := tagsOf(t, c, tagFilter("resource-id", ids["vpc"]))
	if len(got) != 2 || got[ids["vpc"]+"/env"] != "dev" || got[ids["vpc"]+"/flag"] != "" {
		t.Fatalf("vpc tags = %v", got)
	}
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{ids["vpc"]}, Tags: []types.Tag{{Key: aws.String("x")}}, DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
}

func TestCreateTagsNotFoundIsAtomic(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	ids := tagFixture(t, c)
	cases := []struct{ id, code string }{
		{"eni-0123456789abcdef0", "InvalidNetworkInterfaceID.NotFound"},
		{"eni-zz", "InvalidNetworkInterfaceId.Malformed"},
		{"vpc-0123456789abcdef0", "InvalidVpcID.NotFound"},
		{"subnet-0123456789abcdef0", "InvalidSubnetID.NotFound"},
		{"sg-0123456789abcdef0", "InvalidGroup.NotFound"},
		{"sgr-0123456789abcdef0", "InvalidSecurityGroupRuleId.NotFound"},
		{"i-0123456789abcdef0", "InvalidInstanceID.NotFound"},
		{"eipalloc-0123456789abcdef0", "InvalidAllocationID.NotFound"},
		{"igw-0123456789abcdef0", "InvalidInternetGatewayID.NotFound"},
		{"rtb-0123456789abcdef0", "InvalidRouteTableID.NotFound"},
		{"foo-0123456789abcdef0", "InvalidID"},
	}
	for _, tc := range cases {
		_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{ids["vpc"], tc.id, ids["network-interface"]}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		apitest.WantCode(t, err, tc.code)
	}
	if got := tagsOf(t, c); len(got) != 0 {
		t.Fatalf("failed calls tagged: %v", got)
	}
}

func TestCreateTagsLimits(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	eip := aws.ToString(addrAlloc(t, c).AllocationId)
	_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{eip}, Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}})
	apitest.WantCode(t, err, "InvalidTagKey.Malformed")
	var tags []types.Tag
	for i := 0; i < 50; i++ {
		tags = append(tags, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{eip}, Tags: tags}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{eip}, Tags: []types.Tag{{Key: aws.String("k50"), Value: aws.String("v")}}})
	apitest.WantCode(t, err, "TagLimitExceeded")
	// Overwriting an existing key stays within the limit.
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{eip}, Tags: []types.Tag{{Key: aws.String("k0"), Value: aws.String("w")}}}); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteTags(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	ids := tagFixture(t, c)
	eni, rule := ids["network-interface"], ids["security-group-rule"]
	kv := []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("c"), Value: aws.String("3")}}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{eni, rule}, Tags: kv}); err != nil {
		t.Fatal(err)
	}
	// Key only: deleted whatever the value. Key and value: only on a match.
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{eni, rule}, Tags: []types.Tag{
		{Key: aws.String("a")}, {Key: aws.String("b"), Value: aws.String("nope")}, {Key: aws.String("c"), Value: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}
	got := tagsOf(t, c)
	want := map[string]string{eni + "/b": "2", rule + "/b": "2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after delete: %v, want %v", got, want)
	}
	// One unknown id: nothing is deleted.
	_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{eni, "i-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("b")}}})
	apitest.WantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{eni}, Tags: []types.Tag{{Key: aws.String("aws:x")}}})
	apitest.WantCode(t, err, "InvalidTagKey.Malformed")
	if got := tagsOf(t, c); len(got) != 2 {
		t.Fatalf("a failed delete changed tags: %v", got)
	}
	// No tags: every tag of the resource goes.
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{rule}}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, c); len(got) != 1 || got[eni+"/b"] != "2" {
		t.Fatalf("after delete all: %v", got)
	}
}

func TestDescribeTagsFiltersAndPagination(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	ids := tagFixture(t, c)
	var all []string
	for _, id := range ids {
		all = append(all, id)
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: all, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}, {Key: aws.String("n"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{ids["vpc"]}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, c, tagFilter("key", "team")); len(got) != 9 {
		t.Fatalf("key=team: %v", got)
	}
	if got := tagsOf(t, c, tagFilter("value", "w?b")); len(got) != 1 || got[ids["vpc"]+"/team"] != "web" {
		t.Fatalf("value=w?b: %v", got)
	}
	if got := tagsOf(t, c, tagFilter("resource-type", "elastic-ip", "route-table"), tagFilter("key", "n")); len(got) != 2 ||
		got[ids["elastic-ip"]+"/n"] != "1" || got[ids["route-table"]+"/n"] != "1" {
		t.Fatalf("resource-type: %v", got)
	}
	// tag:<key> selects the resources with that tag, and lists all their tags.
	if got := tagsOf(t, c, tagFilter("tag:team", "web")); len(got) != 2 || got[ids["vpc"]+"/n"] != "1" {
		t.Fatalf("tag:team=web: %v", got)
	}
	_, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{tagFilter("nope", "x")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeTags(ctx, &ec2.DescribeTagsInput{NextToken: aws.String("!!!")})
	apitest.WantCode(t, err, "InvalidNextToken")

	// Paginate 18 tags by 5 with the SDK's paginator.
	seen := map[string]bool{}
	pages := 0
	pg := ec2.NewDescribeTagsPaginator(c, &ec2.DescribeTagsInput{MaxResults: aws.Int32(5)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Tags) > 5 {
			t.Fatalf("page of %d", len(out.Tags))
		}
		for _, d := range out.Tags {
			k := aws.ToString(d.ResourceId) + "/" + aws.ToString(d.Key)
			if seen[k] {
				t.Fatalf("%s twice", k)
			}
			seen[k] = true
		}
	}
	if len(seen) != 18 || pages != 4 {
		t.Fatalf("paginated %d tags in %d pages", len(seen), pages)
	}
}
