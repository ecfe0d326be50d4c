package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// A virtual private gateway through the SDK: created available with its tags, found by its filters, attached to one VPC (attaching in the reply,
// attached when described), a second attachment refused either way; a route
// to it, a gateway route table association and route propagation while
// attached; the VPC and the gateway cannot be deleted while attached;
// detached, the attachment is shown detached, the association and
// propagation go and the route is a blackhole; deleted, it is not found.
func TestVpnGateways(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpc := aws.ToString(v.Vpc.VpcId)
	v2, _ := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	_, err = c.CreateVpnGateway(ctx, &ec2.CreateVpnGatewayInput{Type: "ipsec.2"})
	apitest.WantCode(t, err, "InvalidParameterValue")
	g, err := c.CreateVpnGateway(ctx, &ec2.CreateVpnGatewayInput{Type: types.GatewayTypeIpsec1, AmazonSideAsn: aws.Int64(65001),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpnGateway, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("vgw")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(g.VpnGateway.VpnGatewayId)
	if g.VpnGateway.State != types.VpnStateAvailable || aws.ToInt64(g.VpnGateway.AmazonSideAsn) != 65001 || len(g.VpnGateway.Tags) != 1 {
		t.Fatalf("created: %+v", g.VpnGateway)
	}
	found := func(f ...types.Filter) []types.VpnGateway {
		t.Helper()
		out, err := c.DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		return out.VpnGateways
	}
	if n := len(found(filter("tag:Name", "vgw"), filter("type", "ipsec.1"), filter("state", "available"), filter("amazon-side-asn", "65001"))); n != 1 {
		t.Fatalf("by tag, type, state, ASN: %d", n)
	}
	_, err = c.DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{VpnGatewayIds: []string{"vgw-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidVpnGatewayID.NotFound")

	at, err := c.AttachVpnGateway(ctx, &ec2.AttachVpnGatewayInput{VpnGatewayId: &id, VpcId: &vpc})
	if err != nil || at.VpcAttachment.State != types.AttachmentStatusAttaching {
		t.Fatalf("attach: %v %+v", err, at)
	}
	if gs := found(filter("attachment.vpc-id", vpc), filter("attachment.state", "attached")); len(gs) != 1 {
		t.Fatalf("attached: %+v", gs)
	}
	_, err = c.AttachVpnGateway(ctx, &ec2.AttachVpnGatewayInput{VpnGatewayId: &id, VpcId: v2.Vpc.VpcId})
	apitest.WantCode(t, err, "VpnGatewayAttachmentLimitExceeded")
	g2, _ := c.CreateVpnGateway(ctx, &ec2.CreateVpnGatewayInput{Type: types.GatewayTypeIpsec1})
	_, err = c.AttachVpnGateway(ctx, &ec2.AttachVpnGatewayInput{VpnGatewayId: g2.VpnGateway.VpnGatewayId, VpcId: &vpc})
	apitest.WantCode(t, err, "VpnGatewayAttachmentLimitExceeded")

	rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpc})
	if err != nil {
		t.Fatal(err)
	}
	rtb := rt.RouteTable.RouteTableId
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtb, DestinationCidrBlock: aws.String("192.168.0.0/16"), GatewayId: &id}); err != nil {
		t.Fatal(err)
	}
	gt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: gt.RouteTable.RouteTableId, GatewayId: &id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableVgwRoutePropagation(ctx, &ec2.EnableVgwRoutePropagationInput{RouteTableId: rtb, GatewayId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.EnableVgwRoutePropagation(ctx, &ec2.EnableVgwRoutePropagationInput{RouteTableId: rtb, GatewayId: g2.VpnGateway.VpnGatewayId})
	apitest.WantCode(t, err, "Gateway.NotAttached")
	table := func(id *string) types.RouteTable {
		t.Helper()
		out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{aws.ToString(id)}})
		if err != nil {
			t.Fatal(err)
		}
		return out.RouteTables[0]
	}
	r := table(rtb)
	if len(r.PropagatingVgws) != 1 || aws.ToString(r.PropagatingVgws[0].GatewayId) != id || r.Routes[len(r.Routes)-1].State != types.RouteStateActive {
		t.Fatalf("while attached: %+v", r)
	}
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc})
	apitest.WantCode(t, err, "DependencyViolation")
	_, err = c.DeleteVpnGateway(ctx, &ec2.DeleteVpnGatewayInput{VpnGatewayId: &id})
	apitest.WantCode(t, err, "IncorrectState")

	_, err = c.DetachVpnGateway(ctx, &ec2.DetachVpnGatewayInput{VpnGatewayId: &id, VpcId: v2.Vpc.VpcId})
	apitest.WantCode(t, err, "InvalidVpnGatewayAttachment.NotFound")
	if _, err := c.DetachVpnGateway(ctx, &ec2.DetachVpnGatewayInput{VpnGatewayId: &id, VpcId: &vpc}); err != nil {
		t.Fatal(err)
	}
	if gs := found(filter("vpn-gateway-id", id), filter("attachment.state", "detached")); len(gs) != 1 || len(gs[0].VpcAttachments) != 1 {
		t.Fatalf("detached: %+v", gs) // what Ansible's VpnGatewayDetached waiter waits for
	}
	r = table(rtb)
	if len(r.PropagatingVgws) != 0 || r.Routes[len(r.Routes)-1].State != types.RouteStateBlackhole || len(table(gt.RouteTable.RouteTableId).Associations) != 0 {
		t.Fatalf("after detach: %+v", r)
	}
	if _, err := c.DeleteVpnGateway(ctx, &ec2.DeleteVpnGatewayInput{VpnGatewayId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{VpnGatewayIds: []string{id}})
	apitest.WantCode(t, err, "InvalidVpnGatewayID.NotFound")
}
