package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// An egress-only internet gateway is created attached, takes IPv6 routes
// (CreateRoute, ReplaceRoute), shows in DescribeRouteTables and leaves its
// routes blackholed when deleted; the VPC cannot be deleted while it exists.
func TestEgressOnlyInternetGateway(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(v.Vpc.VpcId)
	create := &ec2.CreateEgressOnlyInternetGatewayInput{VpcId: &vpcID, ClientToken: aws.String("tok-1"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeEgressOnlyInternetGateway, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("out")}}}}}
	g, err := c.CreateEgressOnlyInternetGateway(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	gw := g.EgressOnlyInternetGateway
	id := aws.ToString(gw.EgressOnlyInternetGatewayId)
	if len(gw.Attachments) != 1 || gw.Attachments[0].State != types.AttachmentStatusAttached || aws.ToString(gw.Attachments[0].VpcId) != vpcID ||
		aws.ToString(g.ClientToken) != "tok-1" || len(gw.Tags) != 1 {
		t.Fatalf("created %+v", g)
	}
	again, err := c.CreateEgressOnlyInternetGateway(ctx, create)
	if err != nil || aws.ToString(again.EgressOnlyInternetGateway.EgressOnlyInternetGatewayId) != id {
		t.Fatalf("ClientToken replay: %v %+v", err, again)
	}
	for _, f := range [][]types.Filter{nil, {filter("tag:Name", "out")}, {filter("tag-key", "Name")}} {
		out, err := c.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{Filters: f})
		if err != nil || len(out.EgressOnlyInternetGateways) != 1 || aws.ToString(out.EgressOnlyInternetGateways[0].EgressOnlyInternetGatewayId) != id {
			t.Errorf("describe %v: %v %+v", f, err, out)
		}
	}
	out, err := c.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{EgressOnlyInternetGatewayIds: []string{id}})
	if err != nil || len(out.EgressOnlyInternetGateways) != 1 {
		t.Fatalf("by id: %v %+v", err, out)
	}
	_, err = c.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{Filters: []types.Filter{filter("vpc-id", vpcID)}})
	apitest.WantCode(t, err, "InvalidParameterValue")

	rtbs, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", vpcID)}})
	if err != nil || len(rtbs.RouteTables) != 1 {
		t.Fatal(err)
	}
	rtb := rtbs.RouteTables[0].RouteTableId
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtb, DestinationIpv6CidrBlock: aws.String("::/0"), EgressOnlyInternetGatewayId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), EgressOnlyInternetGatewayId: &id})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtb, DestinationIpv6CidrBlock: aws.String("2001:db8::/32"), EgressOnlyInternetGatewayId: aws.String("eigw-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidGatewayID.NotFound")
	// Another VPC's gateway.
	other, _ := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	og, err := c.CreateEgressOnlyInternetGateway(ctx, &ec2.CreateEgressOnlyInternetGatewayInput{VpcId: other.Vpc.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: rtb, DestinationIpv6CidrBlock: aws.String("::/0"), EgressOnlyInternetGatewayId: og.EgressOnlyInternetGateway.EgressOnlyInternetGatewayId})
	apitest.WantCode(t, err, "InvalidParameterValue")

	route := func() types.Route {
		t.Helper()
		out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("route.egress-only-internet-gateway-id", id)}})
		if err != nil || len(out.RouteTables) != 1 {
			t.Fatalf("by route.egress-only-internet-gateway-id: %v %+v", err, out)
		}
		for _, r := range out.RouteTables[0].Routes {
			if aws.ToString(r.DestinationIpv6CidrBlock) == "::/0" {
				return r
			}
		}
		t.Fatal("no ::/0 route")
		return types.Route{}
	}
	if r := route(); aws.ToString(r.EgressOnlyInternetGatewayId) != id || r.State != types.RouteStateActive || r.GatewayId != nil {
		t.Errorf("route %+v", r)
	}
	// ReplaceRoute to an internet gateway and back.
	igw, _ := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{VpcId: &vpcID, InternetGatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: rtb, DestinationIpv6CidrBlock: aws.String("::/0"), GatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: rtb, DestinationIpv6CidrBlock: aws.String("::/0"), EgressOnlyInternetGatewayId: &id}); err != nil {
		t.Fatal(err)
	}
	if r := route(); aws.ToString(r.EgressOnlyInternetGatewayId) != id || r.GatewayId != nil {
		t.Errorf("after ReplaceRoute: %+v", r)
	}
	if _, err := c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{VpcId: &vpcID, InternetGatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpcID})
	apitest.WantCode(t, err, "DependencyViolation")

	del, err := c.DeleteEgressOnlyInternetGateway(ctx, &ec2.DeleteEgressOnlyInternetGatewayInput{EgressOnlyInternetGatewayId: &id})
	if err != nil || !aws.ToBool(del.ReturnCode) {
		t.Fatalf("delete: %v %+v", err, del)
	}
	if r := route(); r.State != types.RouteStateBlackhole {
		t.Errorf("route after delete: %+v", r)
	}
	_, err = c.DeleteEgressOnlyInternetGateway(ctx, &ec2.DeleteEgressOnlyInternetGatewayInput{EgressOnlyInternetGatewayId: &id})
	apitest.WantCode(t, err, "InvalidGatewayID.NotFound")
	// A deleted gateway reads as nothing (Terraform's provider expects no error).
	gone, err := c.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{EgressOnlyInternetGatewayIds: []string{id}})
	if err != nil || len(gone.EgressOnlyInternetGateways) != 0 {
		t.Errorf("describe a deleted gateway: %v %+v", err, gone)
	}
	_, err = c.DeleteEgressOnlyInternetGateway(ctx, &ec2.DeleteEgressOnlyInternetGatewayInput{EgressOnlyInternetGatewayId: aws.String("igw-12345678")})
	apitest.WantCode(t, err, "InvalidEgressOnlyInternetGatewayId.Malformed")
	_, err = c.CreateEgressOnlyInternetGateway(ctx, &ec2.CreateEgressOnlyInternetGatewayInput{VpcId: aws.String("vpc-12345678")})
	apitest.WantCode(t, err, "InvalidVpcID.NotFound")
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
