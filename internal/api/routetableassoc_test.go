package api_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

func rtbNew(t *testing.T, c *ec2.Client, vpc string) string {
	t.Helper()
	out, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.RouteTable.RouteTableId)
}

// rtbMain returns the id of a VPC's main table and of its main association.
func rtbMain(t *testing.T, c *ec2.Client, vpc string) (string, string) {
	t.Helper()
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", vpc), filter("association.main", "true")}})
	if err != nil || len(out.RouteTables) != 1 {
		t.Fatalf("main table of %s: %+v %v", vpc, out, err)
	}
	for _, a := range out.RouteTables[0].Associations {
		if aws.ToBool(a.Main) {
			return aws.ToString(out.RouteTables[0].RouteTableId), aws.ToString(a.RouteTableAssociationId)
		}
	}
	t.Fatal("no main association")
	return "", ""
}

// rtbRoute returns the route of a table to dest.
func rtbRoute(t *testing.T, c *ec2.Client, rtb, dest string) types.Route {
	t.Helper()
	for _, r := range subnetRTB(t, c, rtb).Routes {
		if aws.ToString(r.DestinationCidrBlock) == dest || aws.ToString(r.DestinationIpv6CidrBlock) == dest || aws.ToString(r.DestinationPrefixListId) == dest {
			return r
		}
	}
	t.Fatalf("no route to %s in %s", dest, rtb)
	return types.Route{}
}

// An internet gateway's edge association: a gateway route table routes only
// to network interfaces inside the VPC; a gateway has one; it moves with
// ReplaceRouteTableAssociation and goes with the gateway's detachment.
func TestRouteTableGatewayAssociation(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := *subnetVPC(t, c, "10.4.0.0/16", false).VpcId
	sub := subnetNew(t, c, vpc, "10.4.1.0/24")
	igw := subnetIGW(t, c, vpc)
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(sub)})
	if err != nil {
		t.Fatal(err)
	}
	eniID := eni.NetworkInterface.NetworkInterfaceId
	edge := rtbNew(t, c, vpc)
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(edge), DestinationCidrBlock: aws.String("10.4.1.0/24"), NetworkInterfaceId: eniID}); err != nil {
		t.Fatal(err)
	}
	out, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(edge), GatewayId: aws.String(igw)})
	if err != nil {
		t.Fatal(err)
	}
	if out.AssociationState == nil || out.AssociationState.State != types.RouteTableAssociationStateCodeAssociated {
		t.Errorf("association state %+v", out.AssociationState)
	}
	got := subnetRTB(t, c, edge)
	if len(got.Associations) != 1 || aws.ToString(got.Associations[0].GatewayId) != igw || aws.ToBool(got.Associations[0].Main) || got.Associations[0].SubnetId != nil {
		t.Errorf("edge association %+v", got.Associations)
	}
	if f, _ := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("association.gateway-id", igw)}}); len(f.RouteTables) != 1 {
		t.Errorf("association.gateway-id filter: %+v", f.RouteTables)
	}

	// One table per gateway; only gateways of the VPC; no virtual private gateways here.
	other := rtbNew(t, c, vpc)
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(other), GatewayId: aws.String(igw)})
	aclWant(t, err, "Resource.AlreadyAssociated", fmt.Sprintf("the specified association for route table %s conflicts with an existing association", other))
	loose := subnetIGW(t, c, "")
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(other), GatewayId: aws.String(loose)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(other), GatewayId: aws.String("vgw-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidGatewayID.NotFound")
	_, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(other), GatewayId: aws.String(igw), SubnetId: aws.String(sub)})
	apitest.WantCode(t, err, "InvalidParameterCombination")

	// A gateway route table takes only routes to interfaces, inside the VPC.
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(edge), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igw)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(edge), DestinationCidrBlock: aws.String("192.168.0.0/24"), NetworkInterfaceId: eniID})
	apitest.WantCode(t, err, "InvalidParameterValue")
	// ...and a table with a route to the internet cannot become one.
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(other), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igw)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: out.AssociationId, RouteTableId: aws.String(other)})
	apitest.WantCode(t, err, "InvalidParameterValue")

	// The edge association moves to a clean table under a new id.
	clean := rtbNew(t, c, vpc)
	moved, err := c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: out.AssociationId, RouteTableId: aws.String(clean)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(moved.NewAssociationId) == aws.ToString(out.AssociationId) || moved.AssociationState.State != types.RouteTableAssociationStateCodeAssociated {
		t.Errorf("moved: %+v", moved)
	}
	if a := subnetRTB(t, c, clean).Associations; len(a) != 1 || aws.ToString(a[0].GatewayId) != igw || len(subnetRTB(t, c, edge).Associations) != 0 {
		t.Errorf("after the move: %+v", a)
	}
	// Detaching the gateway ends its edge association.
	if _, err := c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(igw), VpcId: aws.String(vpc)}); err != nil {
		t.Fatal(err)
	}
	if a := subnetRTB(t, c, clean).Associations; len(a) != 0 {
		t.Errorf("edge association outlived the attachment: %+v", a)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// The main association moves: the new table becomes main, subnets without
// an association of their own follow it; a subnet's association moves too.
func TestReplaceRouteTableAssociation(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := *subnetVPC(t, c, "10.5.0.0/16", false).VpcId
	sub := subnetNew(t, c, vpc, "10.5.1.0/24")
	oldMain, mainAssoc := rtbMain(t, c, vpc)
	next := rtbNew(t, c, vpc)
	out, err := c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: aws.String(mainAssoc), RouteTableId: aws.String(next)})
	if err != nil {
		t.Fatal(err)
	}
	newMain, newAssoc := rtbMain(t, c, vpc)
	if newMain != next || newAssoc != aws.ToString(out.NewAssociationId) || newAssoc == mainAssoc {
		t.Errorf("main is %s (%s), want %s (%s)", newMain, newAssoc, next, aws.ToString(out.NewAssociationId))
	}
	// The former main table is an ordinary one now: it can be deleted,
	// and the new main one cannot.
	if _, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(oldMain)}); err != nil {
		t.Errorf("delete the former main table: %v", err)
	}
	_, err = c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(next)})
	apitest.WantCode(t, err, "DependencyViolation")

	// A subnet's association moves between tables.
	a, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(next), SubnetId: aws.String(sub)})
	if err != nil {
		t.Fatal(err)
	}
	third := rtbNew(t, c, vpc)
	moved, err := c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: a.AssociationId, RouteTableId: aws.String(third)})
	if err != nil {
		t.Fatal(err)
	}
	if as := subnetRTB(t, c, third).Associations; len(as) != 1 || aws.ToString(as[0].SubnetId) != sub || aws.ToString(as[0].RouteTableAssociationId) != aws.ToString(moved.NewAssociationId) {
		t.Errorf("subnet association after the move: %+v", as)
	}
	_, err = c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: a.AssociationId, RouteTableId: aws.String(third)})
	aclWant(t, err, "InvalidAssociationID.NotFound", fmt.Sprintf("The association ID '%s' does not exist", aws.ToString(a.AssociationId)))
	_, err = c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: aws.String("rtbassoc-xyz"), RouteTableId: aws.String(third)})
	apitest.WantCode(t, err, "InvalidAssociationID.Malformed")
	// Tables of another VPC cannot take them.
	otherVPC := *subnetVPC(t, c, "10.6.0.0/16", false).VpcId
	foreign := rtbNew(t, c, otherVPC)
	_, err = c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: moved.NewAssociationId, RouteTableId: aws.String(foreign)})
	aclWant(t, err, "InvalidParameterValue", fmt.Sprintf("Route table %s and subnet %s belong to different networks", foreign, sub))
	_, err = c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: aws.String(newAssoc), RouteTableId: aws.String(foreign)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: aws.String(newAssoc), RouteTableId: aws.String("rtb-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidRouteTableID.NotFound")
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// ReplaceRoute of a local route: only to a network interface of the VPC;
// LocalTarget restores it; it cannot be deleted either way.
func TestReplaceLocalRoute(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := *subnetVPC(t, c, "10.7.0.0/16", false).VpcId
	sub := subnetNew(t, c, vpc, "10.7.1.0/24")
	igw := subnetIGW(t, c, vpc)
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(sub)})
	if err != nil {
		t.Fatal(err)
	}
	eniID := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	rtb := rtbNew(t, c, vpc)
	local := &ec2.ReplaceRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("10.7.0.0/16")}

	bad := *local
	bad.GatewayId = aws.String(igw)
	_, err = c.ReplaceRoute(ctx, &bad)
	apitest.WantCode(t, err, "InvalidParameterValue")
	otherENI, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: defaultSubnet(t, c, "us-east-1a").SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	bad = *local
	bad.NetworkInterfaceId = otherENI.NetworkInterface.NetworkInterfaceId
	_, err = c.ReplaceRoute(ctx, &bad)
	apitest.WantCode(t, err, "InvalidParameterValue")

	mb := *local
	mb.NetworkInterfaceId = aws.String(eniID)
	if _, err := c.ReplaceRoute(ctx, &mb); err != nil {
		t.Fatal(err)
	}
	r := rtbRoute(t, c, rtb, "10.7.0.0/16")
	if aws.ToString(r.NetworkInterfaceId) != eniID || r.GatewayId != nil || r.Origin != types.RouteOriginCreateRouteTable || r.State != types.RouteStateActive {
		t.Errorf("replaced local route %+v", r)
	}
	if got := subnetRTB(t, c, rtb).Routes; len(got) != 1 {
		t.Errorf("routes after replacing the local one: %+v", got)
	}
	_, err = c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("10.7.0.0/16")})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("10.7.0.0/16"), NetworkInterfaceId: aws.String(eniID)})
	apitest.WantCode(t, err, "RouteAlreadyExists")

	back := *local
	back.LocalTarget = aws.Bool(true)
	if _, err := c.ReplaceRoute(ctx, &back); err != nil {
		t.Fatal(err)
	}
	if r := rtbRoute(t, c, rtb, "10.7.0.0/16"); aws.ToString(r.GatewayId) != "local" || r.NetworkInterfaceId != nil {
		t.Errorf("restored local route %+v", r)
	}
	both := back
	both.NetworkInterfaceId = aws.String(eniID)
	_, err = c.ReplaceRoute(ctx, &both)
	apitest.WantCode(t, err, "InvalidParameterCombination")
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
