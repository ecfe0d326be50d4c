package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// The calls of Terraform's AWS provider (internal/service/ec2) for the resources
// TestTerraformProviderCalls leaves out: aws_ec2_managed_prefix_list,
// aws_vpc_security_group_ingress_rule (create, read, update by ModifySecurityGroupRules,
// delete by rule id; by CIDR and by prefix list), aws_route to a prefix list and to a NAT
// gateway, and aws_instance from a launch template (the provider reads the template back
// through the instance's aws:ec2launchtemplate:* tags).
func TestTerraformRuleRouteTemplateCalls(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eq := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	vpcOut, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.60.0.0/16")})
	must("CreateVpc", err)
	vpc := aws.ToString(vpcOut.Vpc.VpcId)
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.60.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	must("CreateSubnet", err)
	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must("CreateInternetGateway", err)
	_, err = c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(vpc)})
	must("AttachInternetGateway", err)

	// aws_ec2_managed_prefix_list: create, wait for create-complete, read its entries.
	pl, err := c.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("tf"), AddressFamily: aws.String("IPv4"),
		MaxEntries: aws.Int32(5), Entries: []types.AddPrefixListEntry{{Cidr: aws.String("192.0.2.0/24"), Description: aws.String("office")}}})
	must("CreateManagedPrefixList", err)
	plID := aws.ToString(pl.PrefixList.PrefixListId)
	pls, err := c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{plID}})
	must("DescribeManagedPrefixLists", err)
	eq("prefix list state", pls.PrefixLists[0].State, types.PrefixListStateCreateComplete)
	ents, err := c.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(plID)})
	must("GetManagedPrefixListEntries", err)
	eq("prefix list entries", len(ents.Entries), 1)

	// aws_vpc_security_group_ingress_rule: AuthorizeSecurityGroupIngress of one
	// permission, tags by CreateTags on the rule id, read by DescribeSecurityGroupRules.
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("tf-rules"), Description: aws.String("Managed by Terraform"), VpcId: aws.String(vpc)})
	must("CreateSecurityGroup", err)
	group := aws.ToString(sg.GroupId)
	authorize := func(perm types.IpPermission) string {
		t.Helper()
		out, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group), IpPermissions: []types.IpPermission{perm}})
		must("AuthorizeSecurityGroupIngress", err)
		return aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId)
	}
	read := func(id string) types.SecurityGroupRule {
		t.Helper()
		out, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{id}})
		must("DescribeSecurityGroupRules", err)
		if len(out.SecurityGroupRules) != 1 {
			t.Fatalf("rule %s: %+v", id, out.SecurityGroupRules)
		}
		return out.SecurityGroupRules[0]
	}
	cidrRule := authorize(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
		IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("web")}}})
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{cidrRule}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("tf")}}})
	must("CreateTags rule", err)
	r := read(cidrRule)
	eq("rule cidr_ipv4", aws.ToString(r.CidrIpv4), "10.0.0.0/8")
	eq("rule tags", len(r.Tags), 1)
	eq("rule group", aws.ToString(r.GroupId), group)
	_, err = c.ModifySecurityGroupRules(ctx, &ec2.ModifySecurityGroupRulesInput{GroupId: aws.String(group), SecurityGroupRules: []types.SecurityGroupRuleUpdate{{
		SecurityGroupRuleId: aws.String(cidrRule),
		SecurityGroupRule: &types.SecurityGroupRuleRequest{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			CidrIpv4: aws.String("10.0.0.0/8"), Description: aws.String("tls")},
	}}})
	must("ModifySecurityGroupRules", err)
	r = read(cidrRule)
	eq("modified from_port", aws.ToInt32(r.FromPort), int32(443))
	eq("modified description", aws.ToString(r.Description), "tls")
	eq("tags kept by the modify", len(r.Tags), 1)
	plRule := authorize(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		PrefixListIds: []types.PrefixListId{{PrefixListId: aws.String(plID)}}})
	eq("rule prefix_list_id", aws.ToString(read(plRule).PrefixListId), plID)
	_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(group), SecurityGroupRuleIds: []string{plRule}})
	must("RevokeSecurityGroupIngress by rule id", err)
	_, err = c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{plRule}})
	ebsWantErr(t, "the revoked rule", err, "InvalidSecurityGroupRuleId.NotFound", "")

	// aws_route to a prefix list and to a NAT gateway: CreateRoute, then the route
	// found in DescribeRouteTables, active.
	rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc)})
	must("CreateRouteTable", err)
	rtID := aws.ToString(rt.RouteTable.RouteTableId)
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtID), DestinationPrefixListId: aws.String(plID), GatewayId: igw.InternetGateway.InternetGatewayId})
	must("CreateRoute to a prefix list", err)
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	must("AllocateAddress", err)
	nat, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: sub.Subnet.SubnetId, AllocationId: alloc.AllocationId})
	must("CreateNatGateway", err)
	nats, err := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{aws.ToString(nat.NatGateway.NatGatewayId)}})
	must("DescribeNatGateways", err)
	eq("NAT gateway state", nats.NatGateways[0].State, types.NatGatewayStateAvailable)
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtID), DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat.NatGateway.NatGatewayId})
	must("CreateRoute to a NAT gateway", err)
	rts, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rtID}})
	must("DescribeRouteTables", err)
	var toList, toNAT *types.Route
	for i, route := range rts.RouteTables[0].Routes {
		switch {
		case aws.ToString(route.DestinationPrefixListId) == plID:
			toList = &rts.RouteTables[0].Routes[i]
		case aws.ToString(route.NatGatewayId) == aws.ToString(nat.NatGateway.NatGatewayId):
			toNAT = &rts.RouteTables[0].Routes[i]
		}
	}
	if toList == nil || toList.State != types.RouteStateActive || toNAT == nil || toNAT.State != types.RouteStateActive {
		t.Errorf("routes to the prefix list %+v and the NAT gateway %+v, want both active", toList, toNAT)
	}

	// aws_instance with launch_template: RunInstances from the template, then the
	// read: the instance's aws:ec2launchtemplate:* tags, the template by id, its
	// $Default and $Latest versions.
	lt, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("tf-web"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(testAMI), InstanceType: types.InstanceTypeT3Micro}})
	must("CreateLaunchTemplate", err)
	ltID := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: sub.Subnet.SubnetId,
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("$Default")}})
	must("RunInstances from a launch template", err)
	inst := describeInstance(t, c, aws.ToString(run.Instances[0].InstanceId))
	eq("instance type from the template", inst.InstanceType, types.InstanceTypeT3Micro)
	tags := map[string]string{}
	for _, tg := range inst.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	eq("aws:ec2launchtemplate:id", tags["aws:ec2launchtemplate:id"], ltID)
	eq("aws:ec2launchtemplate:version", tags["aws:ec2launchtemplate:version"], "1")
	lts, err := c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{ltID}})
	must("DescribeLaunchTemplates", err)
	eq("launch template name", aws.ToString(lts.LaunchTemplates[0].LaunchTemplateName), "tf-web")
	for _, v := range []string{"$Default", "$Latest"} {
		vs, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(ltID), Versions: []string{v}})
		must("DescribeLaunchTemplateVersions "+v, err)
		eq(v+" version", aws.ToInt64(vs.LaunchTemplateVersions[0].VersionNumber), int64(1))
	}
}
