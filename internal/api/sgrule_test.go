package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

func sgRule(t *testing.T, c *ec2.Client, id string) types.SecurityGroupRule {
	t.Helper()
	out, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{id}})
	if err != nil || len(out.SecurityGroupRules) != 1 {
		t.Fatalf("rule %s: %+v %v", id, out, err)
	}
	return out.SecurityGroupRules[0]
}

// ModifySecurityGroupRules: a rule, by id, becomes another, keeping its id,
// direction and tags; AWS's checks apply to the new one.
func TestModifySecurityGroupRules(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := sgNewVPC(t, c, false)
	sg := sgCreate(t, c, "mod", vpc)
	peer := sgCreate(t, c, "peer", vpc)
	out, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg), IpPermissions: []types.IpPermission{sgTCP(22, "10.0.0.0/8"), sgTCP(80, "10.0.0.0/8")},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroupRule, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId)
	if _, err := c.ModifySecurityGroupRules(ctx, &ec2.ModifySecurityGroupRulesInput{GroupId: aws.String(sg), SecurityGroupRules: []types.SecurityGroupRuleUpdate{{
		SecurityGroupRuleId: aws.String(id),
		SecurityGroupRule:   &types.SecurityGroupRuleRequest{IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53), ReferencedGroupId: aws.String(peer), Description: aws.String("dns")},
	}}}); err != nil {
		t.Fatal(err)
	}
	r := sgRule(t, c, id)
	if aws.ToString(r.IpProtocol) != "udp" || aws.ToInt32(r.FromPort) != 53 || r.CidrIpv4 != nil || r.ReferencedGroupInfo == nil || aws.ToString(r.ReferencedGroupInfo.GroupId) != peer ||
		aws.ToString(r.Description) != "dns" || aws.ToBool(r.IsEgress) || len(r.Tags) != 1 {
		t.Errorf("modified rule %+v", r)
	}
	mod := func(rid string, req *types.SecurityGroupRuleRequest) error {
		_, err := c.ModifySecurityGroupRules(ctx, &ec2.ModifySecurityGroupRulesInput{GroupId: aws.String(sg), SecurityGroupRules: []types.SecurityGroupRuleUpdate{{SecurityGroupRuleId: aws.String(rid), SecurityGroupRule: req}}})
		return err
	}
	other := aws.ToString(out.SecurityGroupRules[1].SecurityGroupRuleId)
	// The same as another rule of the group.
	apitest.WantCode(t, mod(other, &types.SecurityGroupRuleRequest{IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53), ReferencedGroupId: aws.String(peer)}), "InvalidPermission.Duplicate")
	apitest.WantCode(t, mod(other, &types.SecurityGroupRuleRequest{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(90), ToPort: aws.Int32(80), CidrIpv4: aws.String("10.0.0.0/8")}), "InvalidPermission.Malformed")
	apitest.WantCode(t, mod(other, &types.SecurityGroupRuleRequest{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2), CidrIpv4: aws.String("10.0.0.0/8"), CidrIpv6: aws.String("::/0")}), "InvalidParameterCombination")
	apitest.WantCode(t, mod(other, &types.SecurityGroupRuleRequest{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2), PrefixListId: aws.String("pl-0123456789abcdef0")}), "InvalidPrefixListID.NotFound")
	apitest.WantCode(t, mod("sgr-0123456789abcdef0", &types.SecurityGroupRuleRequest{IpProtocol: aws.String("-1"), CidrIpv4: aws.String("10.0.0.0/8")}), "InvalidSecurityGroupRuleId.NotFound")
	apitest.WantCode(t, mod("sgr-x", &types.SecurityGroupRuleRequest{IpProtocol: aws.String("-1"), CidrIpv4: aws.String("10.0.0.0/8")}), "InvalidSecurityGroupRuleId.Malformed")
	// All or nothing: a bad second update leaves the first undone.
	_, err = c.ModifySecurityGroupRules(ctx, &ec2.ModifySecurityGroupRulesInput{GroupId: aws.String(sg), SecurityGroupRules: []types.SecurityGroupRuleUpdate{
		{SecurityGroupRuleId: aws.String(other), SecurityGroupRule: &types.SecurityGroupRuleRequest{IpProtocol: aws.String("-1"), CidrIpv4: aws.String("192.168.0.0/16")}},
		{SecurityGroupRuleId: aws.String("sgr-0123456789abcdef0"), SecurityGroupRule: &types.SecurityGroupRuleRequest{IpProtocol: aws.String("-1"), CidrIpv4: aws.String("10.0.0.0/8")}},
	}})
	apitest.WantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	if r := sgRule(t, c, other); aws.ToString(r.CidrIpv4) != "10.0.0.0/8" || aws.ToInt32(r.FromPort) != 80 {
		t.Errorf("half-applied: %+v", r)
	}
	// An egress rule stays egress.
	eg := sgDescribe(t, c, sg).IpPermissionsEgress
	if len(eg) != 1 {
		t.Fatalf("egress %+v", eg)
	}
	rules, _ := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{filter("group-id", sg)}})
	for _, r := range rules.SecurityGroupRules {
		if aws.ToBool(r.IsEgress) {
			if err := mod(aws.ToString(r.SecurityGroupRuleId), &types.SecurityGroupRuleRequest{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), CidrIpv4: aws.String("0.0.0.0/0")}); err != nil {
				t.Fatal(err)
			}
			if got := sgRule(t, c, aws.ToString(r.SecurityGroupRuleId)); !aws.ToBool(got.IsEgress) || aws.ToInt32(got.ToPort) != 443 {
				t.Errorf("egress rule after modify %+v", got)
			}
		}
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// UpdateSecurityGroupRuleDescriptions*: by permission or by rule id, one
// direction at a time; only the description changes.
func TestUpdateSecurityGroupRuleDescriptions(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := sgNewVPC(t, c, false)
	sg := sgCreate(t, c, "desc", vpc)
	out, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg), IpPermissions: []types.IpPermission{sgTCP(22, "10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId)
	withDesc := sgTCP(22)
	withDesc.IpRanges = []types.IpRange{{CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("ssh from the office")}}
	if _, err := c.UpdateSecurityGroupRuleDescriptionsIngress(ctx, &ec2.UpdateSecurityGroupRuleDescriptionsIngressInput{GroupId: aws.String(sg), IpPermissions: []types.IpPermission{withDesc}}); err != nil {
		t.Fatal(err)
	}
	if r := sgRule(t, c, id); aws.ToString(r.Description) != "ssh from the office" || aws.ToString(r.SecurityGroupRuleId) != id {
		t.Errorf("by permission: %+v", r)
	}
	if _, err := c.UpdateSecurityGroupRuleDescriptionsIngress(ctx, &ec2.UpdateSecurityGroupRuleDescriptionsIngressInput{GroupId: aws.String(sg),
		SecurityGroupRuleDescriptions: []types.SecurityGroupRuleDescription{{SecurityGroupRuleId: aws.String(id), Description: aws.String("bastion")}}}); err != nil {
		t.Fatal(err)
	}
	if r := sgRule(t, c, id); aws.ToString(r.Description) != "bastion" {
		t.Errorf("by id: %+v", r)
	}
	missing := sgTCP(23, "10.0.0.0/8")
	_, err = c.UpdateSecurityGroupRuleDescriptionsIngress(ctx, &ec2.UpdateSecurityGroupRuleDescriptionsIngressInput{GroupId: aws.String(sg), IpPermissions: []types.IpPermission{missing}})
	aclWant(t, err, "InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
	// The ingress rule is not an egress rule.
	_, err = c.UpdateSecurityGroupRuleDescriptionsEgress(ctx, &ec2.UpdateSecurityGroupRuleDescriptionsEgressInput{GroupId: aws.String(sg),
		SecurityGroupRuleDescriptions: []types.SecurityGroupRuleDescription{{SecurityGroupRuleId: aws.String(id), Description: aws.String("x")}}})
	apitest.WantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	all := types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0"), Description: aws.String("anywhere")}}}
	if _, err := c.UpdateSecurityGroupRuleDescriptionsEgress(ctx, &ec2.UpdateSecurityGroupRuleDescriptionsEgressInput{GroupId: aws.String(sg), IpPermissions: []types.IpPermission{all}}); err != nil {
		t.Fatal(err)
	}
	if eg := sgDescribe(t, c, sg).IpPermissionsEgress; len(eg) != 1 || aws.ToString(eg[0].IpRanges[0].Description) != "anywhere" {
		t.Errorf("egress description %+v", eg)
	}
	// GroupName works in the default VPC.
	def := sgCreate(t, c, "named", "")
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(def), IpPermissions: []types.IpPermission{sgTCP(443, "0.0.0.0/0")}}); err != nil {
		t.Fatal(err)
	}
	named := sgTCP(443)
	named.IpRanges = []types.IpRange{{CidrIp: aws.String("0.0.0.0/0"), Description: aws.String("https")}}
	if _, err := c.UpdateSecurityGroupRuleDescriptionsIngress(ctx, &ec2.UpdateSecurityGroupRuleDescriptionsIngressInput{GroupName: aws.String("named"), IpPermissions: []types.IpPermission{named}}); err != nil {
		t.Fatal(err)
	}
	if in := sgDescribe(t, c, def).IpPermissions; len(in) != 1 || aws.ToString(in[0].IpRanges[0].Description) != "https" {
		t.Errorf("by group name %+v", in)
	}
	_, err = c.UpdateSecurityGroupRuleDescriptionsIngress(ctx, &ec2.UpdateSecurityGroupRuleDescriptionsIngressInput{GroupId: aws.String(sg)})
	apitest.WantCode(t, err, "MissingParameter")
}
