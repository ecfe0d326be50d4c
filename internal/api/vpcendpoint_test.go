package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

func vpceGet(t *testing.T, c *ec2.Client, id string) types.VpcEndpoint {
	t.Helper()
	out, err := c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}})
	if err != nil || len(out.VpcEndpoints) != 1 {
		t.Fatalf("describe %s: %v %+v", id, err, out)
	}
	return out.VpcEndpoints[0]
}

func vpceSubnet(t *testing.T, c *ec2.Client, vpc, cidr, az string) string {
	t.Helper()
	s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpc, CidrBlock: &cidr, AvailabilityZone: &az})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(s.Subnet.SubnetId)
}

func plRoute(t *testing.T, c *ec2.Client, rtb, pl string) *types.Route {
	t.Helper()
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rtb}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.RouteTables[0].Routes {
		if aws.ToString(r.DestinationPrefixListId) == pl {
			return &r
		}
	}
	return nil
}

// DescribeVpcEndpointServices lists the services endpoints reach here with
// AWS's fields; unknown names are InvalidServiceName.
func TestVpcEndpointServices(t *testing.T) {
	c := apitest.New(t).Client()
	out, err := c.DescribeVpcEndpointServices(ctx, &ec2.DescribeVpcEndpointServicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string][]string{}
	for _, d := range out.ServiceDetails {
		if aws.ToString(d.Owner) != "amazon" || aws.ToBool(d.AcceptanceRequired) || !aws.ToBool(d.VpcEndpointPolicySupported) ||
			len(d.AvailabilityZones) == 0 || !strings.HasPrefix(aws.ToString(d.ServiceId), "vpce-svc-") {
			t.Fatalf("service detail: %+v", d)
		}
		kinds[aws.ToString(d.ServiceName)] = append(kinds[aws.ToString(d.ServiceName)], string(d.ServiceType[0].ServiceType))
		if aws.ToString(d.ServiceName) == "com.amazonaws.us-east-1.ec2" && aws.ToString(d.PrivateDnsName) != "ec2.us-east-1.amazonaws.com" {
			t.Fatalf("ec2's private name: %+v", d)
		}
	}
	for name, want := range map[string][]string{"com.amazonaws.us-east-1.s3": {"Gateway", "Interface"}, "com.amazonaws.us-east-1.dynamodb": {"Gateway"},
		"com.amazonaws.us-east-1.ec2": {"Interface"}, "com.amazonaws.us-east-1.sts": {"Interface"}} {
		if !slices.Equal(kinds[name], want) || !slices.Contains(out.ServiceNames, name) {
			t.Fatalf("%s: %v, names %v", name, kinds[name], out.ServiceNames)
		}
	}
	one, err := c.DescribeVpcEndpointServices(ctx, &ec2.DescribeVpcEndpointServicesInput{Filters: []types.Filter{filter("service-type", "Gateway")}})
	if err != nil || len(one.ServiceDetails) != 2 {
		t.Fatalf("gateway services: %v %+v", err, one)
	}
	_, err = c.DescribeVpcEndpointServices(ctx, &ec2.DescribeVpcEndpointServicesInput{ServiceNames: []string{"com.amazonaws.us-east-1.nope"}})
	apitest.WantCode(t, err, "InvalidServiceName")
}

// A gateway endpoint to S3: the prefix list route → vpce-… in the chosen
// tables (active), moved by ModifyVpcEndpoint, gone on delete; the VPC is
// not deletable while it exists; it survives a restart.
func TestVpcEndpointGateway(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	vpc := pcxVPC(t, c, "10.5.0.0/16")
	main := mainRtb(t, c, vpc)
	rt2, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpc})
	if err != nil {
		t.Fatal(err)
	}
	other := aws.ToString(rt2.RouteTable.RouteTableId)
	pls, err := c.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{Filters: []types.Filter{filter("prefix-list-name", "com.amazonaws.us-east-1.s3")}})
	if err != nil || len(pls.PrefixLists) != 1 {
		t.Fatalf("s3 prefix list: %v %+v", err, pls)
	}
	pl := aws.ToString(pls.PrefixLists[0].PrefixListId)
	cr, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: aws.String("com.amazonaws.us-east-1.s3"), RouteTableIds: []string{main},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpcEndpoint, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("s3")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ep := cr.VpcEndpoint
	id := aws.ToString(ep.VpcEndpointId)
	if !strings.HasPrefix(id, "vpce-") || ep.VpcEndpointType != types.VpcEndpointTypeGateway || ep.State != "pending" ||
		!strings.Contains(aws.ToString(ep.PolicyDocument), `"Effect":"Allow"`) || !slices.Equal(ep.RouteTableIds, []string{main}) {
		t.Fatalf("created: %+v %s", ep, aws.ToString(ep.PolicyDocument))
	}
	if got := vpceGet(t, c, id); got.State != "available" || len(got.Tags) != 1 {
		t.Fatalf("described: %+v", got)
	}
	if r := plRoute(t, c, main, pl); r == nil || aws.ToString(r.GatewayId) != id || r.State != types.RouteStateActive {
		t.Fatalf("route: %+v", r)
	}
	// A second S3 endpoint cannot take the same table.
	_, err = c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: aws.String("com.amazonaws.us-east-1.s3"), RouteTableIds: []string{main}})
	apitest.WantCode(t, err, "RouteAlreadyExists")
	if _, err := c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, AddRouteTableIds: []string{other}, RemoveRouteTableIds: []string{main},
		PolicyDocument: aws.String(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if plRoute(t, c, main, pl) != nil || plRoute(t, c, other, pl) == nil {
		t.Fatal("modify did not move the route")
	}
	_, err = c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, PolicyDocument: aws.String("{not json")})
	apitest.WantCode(t, err, "InvalidParameter")
	_, err = c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, AddSubnetIds: []string{"subnet-12345678"}})
	apitest.WantCode(t, err, "InvalidParameter")
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc})
	apitest.WantCode(t, err, "DependencyViolation")
	// Filters.
	for _, f := range []types.Filter{filter("service-name", "com.amazonaws.us-east-1.s3"), filter("vpc-id", vpc), filter("vpc-endpoint-type", "Gateway"),
		filter("vpc-endpoint-state", "available"), filter("tag:Name", "s3"), filter("vpc-endpoint-id", id)} {
		out, err := c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []types.Filter{f}})
		if err != nil || len(out.VpcEndpoints) != 1 {
			t.Fatalf("filter %s: %v %+v", aws.ToString(f.Name), err, out)
		}
	}
	// Restart.
	path := e.Path
	e.Close()
	c = apitest.New(t, apitest.Options{Path: path}).Client()
	if got := vpceGet(t, c, id); !strings.Contains(aws.ToString(got.PolicyDocument), "Deny") || !slices.Equal(got.RouteTableIds, []string{other}) {
		t.Fatalf("after restart: %+v", got)
	}
	del, err := c.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{id, "vpce-0123456789abcdef0"}})
	if err != nil || len(del.Unsuccessful) != 1 || aws.ToString(del.Unsuccessful[0].ResourceId) != "vpce-0123456789abcdef0" ||
		aws.ToString(del.Unsuccessful[0].Error.Code) != "InvalidVpcEndpoint.NotFound" {
		t.Fatalf("delete: %v %+v", err, del)
	}
	if plRoute(t, c, other, pl) != nil {
		t.Fatal("route left after delete")
	}
	// A deleted gateway endpoint is gone at once (an interface endpoint is
	// shown deleted for a while: TestVpcEndpointInterface).
	_, err = c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}})
	apitest.WantCode(t, err, "InvalidVpcEndpointId.NotFound")
	if out, err := c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []types.Filter{filter("vpc-id", vpc)}}); err != nil || len(out.VpcEndpoints) != 0 {
		t.Fatalf("described after delete: %v %+v", err, out)
	}
	del, err = c.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{id}})
	if err != nil || len(del.Unsuccessful) != 1 || aws.ToString(del.Unsuccessful[0].Error.Code) != "InvalidVpcEndpoint.NotFound" {
		t.Fatalf("deleted again: %v %+v", err, del)
	}
	if _, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &other}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc}); err != nil {
		t.Fatal(err)
	}
}

// An interface endpoint to EC2: one requester-managed ENI per subnet with
// the endpoint's groups (the default group when none), DNS entries in AWS's
// form, private DNS only with both VPC DNS attributes; the user cannot
// touch the ENIs; subnets and groups change with ModifyVpcEndpoint; delete
// removes the ENIs.
func TestVpcEndpointInterface(t *testing.T) {
	c := apitest.New(t).Client()
	vpc := pcxVPC(t, c, "10.6.0.0/16")
	sa := vpceSubnet(t, c, vpc, "10.6.1.0/24", "us-east-1a")
	sb := vpceSubnet(t, c, vpc, "10.6.2.0/24", "us-east-1b")
	sa2 := vpceSubnet(t, c, vpc, "10.6.3.0/24", "us-east-1a")
	ec2svc := aws.String("com.amazonaws.us-east-1.ec2")
	iface := types.VpcEndpointTypeInterface
	// Private DNS is on by default and needs the VPC's DNS hostnames.
	_, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: ec2svc, VpcEndpointType: iface, SubnetIds: []string{sa}})
	apitest.WantCode(t, err, "InvalidParameter")
	_, err = c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: ec2svc, VpcEndpointType: types.VpcEndpointTypeGateway})
	apitest.WantCode(t, err, "InvalidParameter")
	_, err = c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: ec2svc, VpcEndpointType: types.VpcEndpointTypeGatewayLoadBalancer})
	apitest.WantCode(t, err, "InvalidParameter")
	_, err = c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: aws.String("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"), VpcEndpointType: types.VpcEndpointTypeGatewayLoadBalancer})
	apitest.WantCode(t, err, "InvalidServiceName")
	_, err = c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: ec2svc, VpcEndpointType: iface, PrivateDnsEnabled: aws.Bool(false), SubnetIds: []string{sa, sa2}})
	apitest.WantCode(t, err, "DuplicateSubnetsInSameZone")
	if _, err := c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &vpc, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: ec2svc, VpcEndpointType: iface, SubnetIds: []string{sa}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(cr.VpcEndpoint.VpcEndpointId)
	ep := vpceGet(t, c, id)
	if !aws.ToBool(ep.PrivateDnsEnabled) || len(ep.NetworkInterfaceIds) != 1 || len(ep.Groups) != 1 || aws.ToString(ep.Groups[0].GroupName) != "default" || len(ep.DnsEntries) != 3 {
		t.Fatalf("endpoint: %+v", ep)
	}
	if n := aws.ToString(ep.DnsEntries[0].DnsName); !strings.HasPrefix(n, id+"-") || !strings.HasSuffix(n, ".ec2.us-east-1.vpce.amazonaws.com") ||
		!strings.Contains(aws.ToString(ep.DnsEntries[1].DnsName), "-us-east-1a.ec2.us-east-1.vpce.amazonaws.com") ||
		aws.ToString(ep.DnsEntries[2].DnsName) != "ec2.us-east-1.amazonaws.com" {
		t.Fatalf("dns entries: %+v", ep.DnsEntries)
	}
	eniID := ep.NetworkInterfaceIds[0]
	enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("interface-type", "vpc_endpoint"), filter("requester-managed", "true")}})
	if err != nil || len(enis.NetworkInterfaces) != 1 {
		t.Fatalf("endpoint ENIs: %v %+v", err, enis)
	}
	n := enis.NetworkInterfaces[0]
	if aws.ToString(n.NetworkInterfaceId) != eniID || aws.ToString(n.Description) != "VPC Endpoint Interface "+id || aws.ToString(n.RequesterId) != "727180483921" ||
		n.InterfaceType != types.NetworkInterfaceTypeVpcEndpoint || aws.ToString(n.SubnetId) != sa || n.Status != types.NetworkInterfaceStatusInUse {
		t.Fatalf("ENI: %+v", n)
	}
	_, err = c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: &eniID})
	apitest.WantCode(t, err, "OperationNotPermitted")
	_, err = c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: n.Attachment.AttachmentId})
	apitest.WantCode(t, err, "OperationNotPermitted")
	// Add a subnet and a group, remove the default group.
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &vpc, GroupName: aws.String("vpce"), Description: aws.String("vpce")})
	if err != nil {
		t.Fatal(err)
	}
	sgID := aws.ToString(sg.GroupId)
	if _, err := c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, AddSubnetIds: []string{sb}, AddSecurityGroupIds: []string{sgID},
		RemoveSecurityGroupIds: []string{aws.ToString(ep.Groups[0].GroupId)}, PrivateDnsEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	ep = vpceGet(t, c, id)
	if len(ep.NetworkInterfaceIds) != 2 || !slices.Equal(ep.SubnetIds, []string{sa, sb}) || len(ep.Groups) != 1 || aws.ToString(ep.Groups[0].GroupId) != sgID ||
		aws.ToBool(ep.PrivateDnsEnabled) || len(ep.DnsEntries) != 3 {
		t.Fatalf("modified: %+v", ep)
	}
	enis, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ep.NetworkInterfaceIds})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range enis.NetworkInterfaces {
		if len(n.Groups) != 1 || aws.ToString(n.Groups[0].GroupId) != sgID {
			t.Fatalf("ENI groups: %+v", n.Groups)
		}
	}
	_, err = c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, AddSubnetIds: []string{sa2}})
	apitest.WantCode(t, err, "DuplicateSubnetsInSameZone")
	if _, err := c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, RemoveSubnetIds: []string{sa}}); err != nil {
		t.Fatal(err)
	}
	if ep = vpceGet(t, c, id); !slices.Equal(ep.SubnetIds, []string{sb}) {
		t.Fatalf("after removing %s: %+v", sa, ep.SubnetIds)
	}
	_, err = c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &sb})
	apitest.WantCode(t, err, "DependencyViolation")
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc})
	apitest.WantCode(t, err, "DependencyViolation")
	if _, err := c.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	enis, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("vpc-id", vpc)}})
	if err != nil || len(enis.NetworkInterfaces) != 0 {
		t.Fatalf("ENIs left: %v %+v", err, enis)
	}
	if got := vpceGet(t, c, id); got.State != "deleted" {
		t.Fatalf("interface endpoint after delete: %+v", got.State)
	}
	_, err = c.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{"vpce-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidVpcEndpointId.NotFound")
	_, err = c.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, PrivateDnsEnabled: aws.Bool(true)})
	apitest.WantCode(t, err, "InvalidVpcEndpointId.NotFound")
}

// DescribeVpcEndpoints pages through many endpoints.
func TestVpcEndpointPagination(t *testing.T) {
	c := apitest.New(t).Client()
	vpc := pcxVPC(t, c, "10.7.0.0/16")
	for range 7 {
		if _, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: aws.String("com.amazonaws.us-east-1.dynamodb")}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	p := ec2.NewDescribeVpcEndpointsPaginator(c, &ec2.DescribeVpcEndpointsInput{MaxResults: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range out.VpcEndpoints {
			seen[aws.ToString(e.VpcEndpointId)] = true
		}
	}
	if len(seen) != 7 || pages != 3 {
		t.Fatalf("%d endpoints in %d pages", len(seen), pages)
	}
}
