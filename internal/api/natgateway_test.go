package api_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// natVPC makes a VPC with an attached internet gateway, a public and a
// private subnet.
func natVPC(t *testing.T, c *ec2.Client) (vpcID, public, private string) {
	t.Helper()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID = aws.ToString(v.Vpc.VpcId)
	g, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: g.InternetGateway.InternetGatewayId, VpcId: &vpcID}); err != nil {
		t.Fatal(err)
	}
	for i, cidr := range []string{"10.8.1.0/24", "10.8.2.0/24"} {
		s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String(cidr)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			public = aws.ToString(s.Subnet.SubnetId)
		} else {
			private = aws.ToString(s.Subnet.SubnetId)
		}
	}
	return vpcID, public, private
}

// A public NAT gateway: created pending with its EIP on a requester-managed
// nat_gateway ENI, described available (the waiter returns), found by every
// documented filter; the ENI cannot be deleted by its owner; a second
// gateway cannot take the same EIP; ClientToken replays.
func TestNatGatewayPublic(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpcID, public, _ := natVPC(t, c)
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	create := &ec2.CreateNatGatewayInput{SubnetId: &public, AllocationId: eip.AllocationId, ClientToken: aws.String("nat-tok"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNatgateway, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("gw")}}}}}
	out, err := c.CreateNatGateway(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	g := out.NatGateway
	id := aws.ToString(g.NatGatewayId)
	if g.State != types.NatGatewayStatePending || aws.ToString(g.VpcId) != vpcID || g.ConnectivityType != types.ConnectivityTypePublic ||
		len(g.NatGatewayAddresses) != 1 || aws.ToString(g.NatGatewayAddresses[0].PublicIp) != aws.ToString(eip.PublicIp) || len(g.Tags) != 1 {
		t.Fatalf("created %+v", g)
	}
	again, err := c.CreateNatGateway(ctx, create)
	if err != nil || aws.ToString(again.NatGateway.NatGatewayId) != id {
		t.Fatalf("ClientToken replay: %v %+v", err, again)
	}
	w := ec2.NewNatGatewayAvailableWaiter(c)
	if err := w.Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}}, 30e9); err != nil {
		t.Fatal(err)
	}
	for _, f := range [][]types.Filter{{filter("nat-gateway-id", id)}, {filter("state", "available")}, {filter("subnet-id", public)},
		{filter("vpc-id", vpcID)}, {filter("tag:Name", "gw")}, {filter("tag-key", "Name")}} {
		d, err := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: f})
		if err != nil || len(d.NatGateways) != 1 || aws.ToString(d.NatGateways[0].NatGatewayId) != id {
			t.Fatalf("filter %v: %v %+v", f, err, d)
		}
	}
	d, _ := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})
	addr := d.NatGateways[0].NatGatewayAddresses[0]
	eniID := aws.ToString(addr.NetworkInterfaceId)
	enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		filter("interface-type", "nat_gateway"), filter("requester-managed", "true"), filter("attachment.nat-gateway-id", id)}})
	if err != nil || len(enis.NetworkInterfaces) != 1 {
		t.Fatalf("ENI by filters: %v %+v", err, enis)
	}
	n := enis.NetworkInterfaces[0]
	if aws.ToString(n.NetworkInterfaceId) != eniID || aws.ToString(n.Description) != "Interface for NAT Gateway "+id ||
		!aws.ToBool(n.RequesterManaged) || aws.ToBool(n.SourceDestCheck) || n.Association == nil ||
		aws.ToString(n.Association.PublicIp) != aws.ToString(eip.PublicIp) || aws.ToString(n.PrivateIpAddress) != aws.ToString(addr.PrivateIp) {
		t.Fatalf("NAT ENI %+v", n)
	}
	a, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(eip.AllocationId)}})
	if err != nil || aws.ToString(a.Addresses[0].NetworkInterfaceId) != eniID || aws.ToString(a.Addresses[0].NetworkInterfaceOwnerId) == "" {
		t.Fatalf("EIP %v %+v", err, a)
	}
	_, err = c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: &eniID})
	apitest.WantCode(t, err, "OperationNotPermitted")
	// An Elastic IP in use makes a failed gateway, as AWS's FailureCode says.
	failed, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &public, AllocationId: eip.AllocationId})
	if err != nil || failed.NatGateway.State != types.NatGatewayStateFailed || aws.ToString(failed.NatGateway.FailureCode) != "Resource.AlreadyAssociated" {
		t.Fatalf("EIP in use: %v %+v", err, failed)
	}
	if err := ec2.NewNatGatewayAvailableWaiter(c).Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{aws.ToString(failed.NatGateway.NatGatewayId)}}, 30e9); err == nil {
		t.Fatal("the available waiter accepted a failed gateway")
	}
	// The gateway holds its Elastic IP: AWS answers AuthFailure to a release,
	// a disassociation or a move of it, and to an EIP for the gateway's ENI.
	_, err = c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId})
	apitest.WantCode(t, err, "AuthFailure")
	_, err = c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: addr.AssociationId})
	apitest.WantCode(t, err, "AuthFailure")
	other, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &public})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: other.NetworkInterface.NetworkInterfaceId})
	apitest.WantCode(t, err, "AuthFailure")
	eip2, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip2.AllocationId, NetworkInterfaceId: &eniID})
	apitest.WantCode(t, err, "AuthFailure")
	_, err = c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: n.Attachment.AttachmentId})
	apitest.WantCode(t, err, "OperationNotPermitted")
	if err == nil || !strings.Contains(err.Error(), "You are not allowed to manage 'ela-attach' attachments.") {
		t.Fatalf("detach: %v", err)
	}
	if aws.ToString(n.RequesterId) != "amazon-aws" || string(n.InterfaceType) != "nat_gateway" {
		t.Fatalf("requester %q type %q", aws.ToString(n.RequesterId), n.InterfaceType)
	}
}

// The client mistakes of CreateNatGateway, DescribeNatGateways and
// DeleteNatGateway get AWS's codes.
func TestNatGatewayErrors(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	_, public, _ := natVPC(t, c)
	_, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String("subnet-0123456789abcdef0"), ConnectivityType: types.ConnectivityTypePrivate})
	apitest.WantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &public, AllocationId: aws.String("eipalloc-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidAllocationID.NotFound")
	_, err = c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &public})
	apitest.WantCode(t, err, "MissingParameter")
	_, err = c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &public, ConnectivityType: "bogus"})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{"nat-0123456789abcdef0"}})
	apitest.WantCode(t, err, "NatGatewayNotFound")
	_, err = c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String("nat-0123456789abcdef0")})
	apitest.WantCode(t, err, "NatGatewayNotFound")
	_, err = c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String("nat-xyz")})
	apitest.WantCode(t, err, "NatGatewayMalformed")
	_, err = c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []types.Filter{filter("bogus", "x")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{MaxResults: aws.Int32(2)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	// A public gateway in a VPC without an internet gateway fails, as AWS's.
	v, _ := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	s, _ := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String("10.9.0.0/24")})
	eip, _ := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	out, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: s.Subnet.SubnetId, AllocationId: eip.AllocationId})
	if err != nil || out.NatGateway.State != types.NatGatewayStateFailed || aws.ToString(out.NatGateway.FailureCode) != "Gateway.NotAttached" {
		t.Fatalf("no IGW: %v %+v", err, out)
	}
}

// A private NAT gateway, routes to it (active, then blackhole), the VPC's
// and subnet's DependencyViolation while it exists, deletion (the waiter
// returns; the ENI goes; the gateway stays describable as deleted), and
// pagination.
func TestNatGatewayPrivateRoutesDelete(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpcID, public, private := natVPC(t, c)
	var ids []string
	for i := 0; i < 6; i++ {
		out, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &private, ConnectivityType: types.ConnectivityTypePrivate})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.NatGateway.NatGatewayAddresses) != 1 || out.NatGateway.NatGatewayAddresses[0].AllocationId != nil {
			t.Fatalf("private gateway %+v", out.NatGateway)
		}
		ids = append(ids, aws.ToString(out.NatGateway.NatGatewayId))
	}
	var seen int
	p := ec2.NewDescribeNatGatewaysPaginator(c, &ec2.DescribeNatGatewaysInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(pg.NatGateways)
	}
	if seen != 6 {
		t.Fatalf("paginated %d gateways, want 6", seen)
	}
	id := ids[0]
	rtb, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID})
	if err != nil {
		t.Fatal(err)
	}
	rtbID := rtb.RouteTable.RouteTableId
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtbID, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: &id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: rtbID, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: &ids[1]}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtbID, DestinationCidrBlock: aws.String("192.168.0.0/16"), NatGatewayId: aws.String("nat-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidNatGatewayID.NotFound")
	routeState := func() (string, string) {
		r, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("route.nat-gateway-id", ids[1])}})
		if err != nil || len(r.RouteTables) != 1 {
			t.Fatalf("route.nat-gateway-id: %v %+v", err, r)
		}
		for _, rt := range r.RouteTables[0].Routes {
			if aws.ToString(rt.DestinationCidrBlock) == "0.0.0.0/0" {
				return aws.ToString(rt.NatGatewayId), string(rt.State)
			}
		}
		t.Fatal("no default route")
		return "", ""
	}
	if nat, st := routeState(); nat != ids[1] || st != "active" {
		t.Fatalf("route %s %s", nat, st)
	}
	_, err = c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &private})
	apitest.WantCode(t, err, "DependencyViolation")
	for _, id := range ids {
		if _, err := c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ec2.NewNatGatewayDeletedWaiter(c).Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: ids}, 30e9); err != nil {
		t.Fatal(err)
	}
	if _, st := routeState(); st != "blackhole" {
		t.Fatalf("route to a deleted gateway is %s", st)
	}
	d, err := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []types.Filter{filter("state", "deleted")}})
	if err != nil || len(d.NatGateways) != 6 || d.NatGateways[0].DeleteTime == nil {
		t.Fatalf("deleted gateways: %v %+v", err, d)
	}
	enis, _ := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("interface-type", "nat_gateway")}})
	if len(enis.NetworkInterfaces) != 0 {
		t.Fatalf("ENIs left: %+v", enis.NetworkInterfaces)
	}
	if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &private}); err != nil {
		t.Fatal(err)
	}
	_ = public
}

// NAT gateways are durable: a gateway, its ENI, its EIP association and
// routes to it survive a restart; the VPC still cannot be deleted.
func TestNatGatewaySurvivesRestart(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	vpcID, public, _ := natVPC(t, c)
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &public, AllocationId: eip.AllocationId})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.NatGateway.NatGatewayId)
	path := e.Path
	e.Close()
	c2 := apitest.New(t, apitest.Options{Path: path}).Client()
	d, err := c2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})
	if err != nil || d.NatGateways[0].State != types.NatGatewayStateAvailable ||
		aws.ToString(d.NatGateways[0].NatGatewayAddresses[0].PublicIp) != aws.ToString(eip.PublicIp) {
		t.Fatalf("after restart: %v %+v", err, d)
	}
	_, err = c2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpcID})
	apitest.WantCode(t, err, "DependencyViolation")
	if _, err := c2.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &id}); err != nil {
		t.Fatal(err)
	}
	a, err := c2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(eip.AllocationId)}})
	if err != nil || a.Addresses[0].NetworkInterfaceId != nil {
		t.Fatalf("EIP after delete (kept, disassociated): %v %+v", err, a)
	}
	if _, err := c2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId}); err != nil {
		t.Fatalf("release after the gateway is deleted: %v", err)
	}
}

// The secondary addresses of NAT gateways: private addresses assigned
// and unassigned (on its ENI), Elastic IPs associated and disassociated
// (public gateways only), the primary untouchable, at most 8 addresses, an
// address with an Elastic IP not unassigned, and the SDK's own calls.
func TestNatGatewaySecondaryAddresses(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	_, public, private := natVPC(t, c)
	eip, _ := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	pub, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &public, AllocationId: eip.AllocationId})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &private, ConnectivityType: types.ConnectivityTypePrivate})
	if err != nil {
		t.Fatal(err)
	}
	pubID, privID := pub.NatGateway.NatGatewayId, priv.NatGateway.NatGatewayId
	eniIPs := func(id *string) []string {
		d, err := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{*id}})
		if err != nil {
			t.Fatal(err)
		}
		n, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{*d.NatGateways[0].NatGatewayAddresses[0].NetworkInterfaceId}})
		if err != nil {
			t.Fatal(err)
		}
		var ips []string
		for _, a := range n.NetworkInterfaces[0].PrivateIpAddresses {
			ips = append(ips, aws.ToString(a.PrivateIpAddress))
		}
		if len(ips) != len(d.NatGateways[0].NatGatewayAddresses) {
			t.Fatalf("ENI has %v, gateway %+v", ips, d.NatGateways[0].NatGatewayAddresses)
		}
		return ips
	}
	as, err := c.AssignPrivateNatGatewayAddress(ctx, &ec2.AssignPrivateNatGatewayAddressInput{NatGatewayId: privID, PrivateIpAddressCount: aws.Int32(2)})
	if err != nil || len(as.NatGatewayAddresses) != 2 || as.NatGatewayAddresses[0].Status != types.NatGatewayAddressStatusAssigning {
		t.Fatalf("assign: %v %+v", err, as)
	}
	if ips := eniIPs(privID); len(ips) != 3 {
		t.Fatalf("after assign: %v", ips)
	}
	_, err = c.AssignPrivateNatGatewayAddress(ctx, &ec2.AssignPrivateNatGatewayAddressInput{NatGatewayId: privID, PrivateIpAddressCount: aws.Int32(6)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.AssignPrivateNatGatewayAddress(ctx, &ec2.AssignPrivateNatGatewayAddressInput{NatGatewayId: privID})
	apitest.WantCode(t, err, "MissingParameter")
	_, err = c.UnassignPrivateNatGatewayAddress(ctx, &ec2.UnassignPrivateNatGatewayAddressInput{NatGatewayId: privID, PrivateIpAddresses: []string{eniIPs(privID)[0]}})
	apitest.WantCode(t, err, "InvalidParameterValue") // the primary
	un, err := c.UnassignPrivateNatGatewayAddress(ctx, &ec2.UnassignPrivateNatGatewayAddressInput{NatGatewayId: privID,
		PrivateIpAddresses: []string{aws.ToString(as.NatGatewayAddresses[0].PrivateIp)}, MaxDrainDurationSeconds: aws.Int32(350)})
	if err != nil || un.NatGatewayAddresses[0].Status != types.NatGatewayAddressStatusUnassigning {
		t.Fatalf("unassign: %v %+v", err, un)
	}
	if ips := eniIPs(privID); len(ips) != 2 {
		t.Fatalf("after unassign: %v", ips)
	}
	eip2, _ := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	_, err = c.AssociateNatGatewayAddress(ctx, &ec2.AssociateNatGatewayAddressInput{NatGatewayId: privID, AllocationIds: []string{*eip2.AllocationId}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	asc, err := c.AssociateNatGatewayAddress(ctx, &ec2.AssociateNatGatewayAddressInput{NatGatewayId: pubID, AllocationIds: []string{*eip2.AllocationId}})
	if err != nil || len(asc.NatGatewayAddresses) != 1 || aws.ToString(asc.NatGatewayAddresses[0].PublicIp) != aws.ToString(eip2.PublicIp) ||
		asc.NatGatewayAddresses[0].Status != types.NatGatewayAddressStatusAssociating {
		t.Fatalf("associate: %v %+v", err, asc)
	}
	_, err = c.AssociateNatGatewayAddress(ctx, &ec2.AssociateNatGatewayAddressInput{NatGatewayId: pubID, AllocationIds: []string{*eip2.AllocationId}})
	apitest.WantCode(t, err, "Resource.AlreadyAssociated")
	secondIP := aws.ToString(asc.NatGatewayAddresses[0].PrivateIp)
	_, err = c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip2.AllocationId})
	apitest.WantCode(t, err, "AuthFailure")
	_, err = c.UnassignPrivateNatGatewayAddress(ctx, &ec2.UnassignPrivateNatGatewayAddressInput{NatGatewayId: pubID, PrivateIpAddresses: []string{secondIP}})
	apitest.WantCode(t, err, "InvalidParameterValue") // disassociate first
	d, _ := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{*pubID}})
	var primaryAssoc, secondAssoc *string
	for _, a := range d.NatGateways[0].NatGatewayAddresses {
		if aws.ToBool(a.IsPrimary) {
			primaryAssoc = a.AssociationId
		} else {
			secondAssoc = a.AssociationId
		}
	}
	_, err = c.DisassociateNatGatewayAddress(ctx, &ec2.DisassociateNatGatewayAddressInput{NatGatewayId: pubID, AssociationIds: []string{*primaryAssoc}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DisassociateNatGatewayAddress(ctx, &ec2.DisassociateNatGatewayAddressInput{NatGatewayId: pubID, AssociationIds: []string{"eipassoc-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidAssociationID.NotFound")
	dis, err := c.DisassociateNatGatewayAddress(ctx, &ec2.DisassociateNatGatewayAddressInput{NatGatewayId: pubID, AssociationIds: []string{*secondAssoc}})
	if err != nil || dis.NatGatewayAddresses[0].Status != types.NatGatewayAddressStatusDisassociating {
		t.Fatalf("disassociate: %v %+v", err, dis)
	}
	if _, err := c.UnassignPrivateNatGatewayAddress(ctx, &ec2.UnassignPrivateNatGatewayAddressInput{NatGatewayId: pubID, PrivateIpAddresses: []string{secondIP}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip2.AllocationId}); err != nil {
		t.Fatalf("release after disassociate: %v", err)
	}
	if ips := eniIPs(pubID); len(ips) != 1 {
		t.Fatalf("public gateway left with %v", ips)
	}
	_, err = c.AssignPrivateNatGatewayAddress(ctx, &ec2.AssignPrivateNatGatewayAddressInput{NatGatewayId: aws.String("nat-0123456789abcdef0"), PrivateIpAddressCount: aws.Int32(1)})
	apitest.WantCode(t, err, "NatGatewayNotFound")
}
