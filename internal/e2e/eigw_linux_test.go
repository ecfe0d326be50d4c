package e2e

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/eni-net/eni/internal/dataplane"
)

// TestEgressOnlyInternetGateway: through the EC2 API, a subnet whose route table sends ::/0
// to an egress-only internet gateway reaches the simulated internet over IPv6 with its own
// address, and the replies come back; a connection the internet starts does not come in;
// without the route (deleted) nothing goes out.
func TestEgressOnlyInternetGateway(t *testing.T) {
	e := newEnv(t)
	out, err := e.ec2.CreateVpc(ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	e.must(err)
	vpc := *out.Vpc.VpcId
	block := netip.MustParsePrefix(*out.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock)
	sn, err := e.ec2.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.1.0/24"),
		Ipv6CidrBlock: aws.String(netip.PrefixFrom(block.Addr(), 64).String()), AvailabilityZone: aws.String(testAZ)})
	e.must(err)
	subnet := *sn.Subnet.SubnetId
	open := e.sgOpen(vpc, "open", "10.0.0.0/16")
	_, err = e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(open),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}})
	e.must(err) // the group would let the internet in: the gateway is what stops it
	ri, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{open},
		Ipv6AddressCount: aws.Int32(1)})
	e.must(err)
	id := *ri.Instances[0].InstanceId
	e.waitRunning(id)
	ns := e.plane.InstanceNS(id)
	ip6 := netip.MustParseAddr(*e.primaryENI(id).Ipv6Addresses[0].Ipv6Address)
	inet := net.JoinHostPort(dataplane.InternetIPv6.String(), "80")
	e.serve(e.plane.InternetNS(), 80, "internet")
	e.serve(ns, 8080, "instance")
	e.settle()
	e.noReach(ns, inet) // no route to the internet yet

	eg, err := e.ec2.CreateEgressOnlyInternetGateway(ctx(), &ec2.CreateEgressOnlyInternetGatewayInput{VpcId: aws.String(vpc)})
	e.must(err)
	rt, err := e.ec2.CreateRouteTable(ctx(), &ec2.CreateRouteTableInput{VpcId: aws.String(vpc)})
	e.must(err)
	_, err = e.ec2.CreateRoute(ctx(), &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId,
		DestinationIpv6CidrBlock: aws.String("::/0"), EgressOnlyInternetGatewayId: eg.EgressOnlyInternetGateway.EgressOnlyInternetGatewayId})
	e.must(err)
	_, err = e.ec2.AssociateRouteTable(ctx(), &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(subnet)})
	e.must(err)

	// Out and back, with the instance's own address as the source.
	got := e.reach(ns, inet, "internet")
	if !strings.Contains(got, ip6.String()) {
		t.Fatalf("the internet saw %q, want the instance's address %s", got, ip6)
	}
	// Nothing unsolicited in.
	e.settle()
	e.noReach(e.plane.InternetNS(), net.JoinHostPort(ip6.String(), "8080"))
	e.reach(ns, inet, "internet")

	// The route deleted: nothing goes out any more.
	_, err = e.ec2.DeleteRoute(ctx(), &ec2.DeleteRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationIpv6CidrBlock: aws.String("::/0")})
	e.must(err)
	e.settle()
	e.noReach(ns, inet)
}

// TestInternetGatewayIPv6: through the EC2 API, a subnet whose route table sends ::/0 to
// an internet gateway reaches the simulated internet over IPv6 with its instance's own
// address, and the internet reaches the instance as far as its security group allows
// (8080 open to ::/0, 8081 not); without the route nothing goes either way, and with
// ::/0 to an egress-only gateway instead, only what the instance starts.
func TestInternetGatewayIPv6(t *testing.T) {
	e := newEnv(t)
	out, err := e.ec2.CreateVpc(ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	e.must(err)
	vpc := *out.Vpc.VpcId
	block := netip.MustParsePrefix(*out.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock)
	sn, err := e.ec2.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.1.0/24"),
		Ipv6CidrBlock: aws.String(netip.PrefixFrom(block.Addr(), 64).String()), AvailabilityZone: aws.String(testAZ)})
	e.must(err)
	subnet := *sn.Subnet.SubnetId
	web := e.sg(vpc, "web", 0)
	_, err = e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080),
			Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}})
	e.must(err)
	ri, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{web},
		Ipv6AddressCount: aws.Int32(1)})
	e.must(err)
	id := *ri.Instances[0].InstanceId
	e.waitRunning(id)
	ns := e.plane.InstanceNS(id)
	ip6 := *e.primaryENI(id).Ipv6Addresses[0].Ipv6Address
	inet := net.JoinHostPort(dataplane.InternetIPv6.String(), "80")
	open, closed := net.JoinHostPort(ip6, "8080"), net.JoinHostPort(ip6, "8081")
	e.serve(e.plane.InternetNS(), 80, "internet")
	e.serve(ns, 8080, "instance")
	e.serve(ns, 8081, "closed")
	e.settle()
	e.noReach(ns, inet)
	e.noReach(e.plane.InternetNS(), open)

	igw := e.igw(vpc)
	rt, err := e.ec2.CreateRouteTable(ctx(), &ec2.CreateRouteTableInput{VpcId: aws.String(vpc)})
	e.must(err)
	_, err = e.ec2.CreateRoute(ctx(), &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId,
		DestinationIpv6CidrBlock: aws.String("::/0"), GatewayId: aws.String(igw)})
	e.must(err)
	_, err = e.ec2.AssociateRouteTable(ctx(), &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(subnet)})
	e.must(err)
	if got := e.reach(ns, inet, "internet"); !strings.Contains(got, ip6) {
		t.Fatalf("the internet saw %q, want the instance's address %s", got, ip6)
	}
	if got := e.reach(e.plane.InternetNS(), open, "instance"); !strings.Contains(got, "2001:db8:ffff::1") {
		t.Fatalf("the instance saw %q, want the internet's address", got)
	}
	e.noReach(e.plane.InternetNS(), closed) // its group does not admit 8081

	// ::/0 to an egress-only gateway instead: out, and nothing in.
	eg, err := e.ec2.CreateEgressOnlyInternetGateway(ctx(), &ec2.CreateEgressOnlyInternetGatewayInput{VpcId: aws.String(vpc)})
	e.must(err)
	_, err = e.ec2.ReplaceRoute(ctx(), &ec2.ReplaceRouteInput{RouteTableId: rt.RouteTable.RouteTableId,
		DestinationIpv6CidrBlock: aws.String("::/0"), EgressOnlyInternetGatewayId: eg.EgressOnlyInternetGateway.EgressOnlyInternetGatewayId})
	e.must(err)
	e.settle()
	e.noReach(e.plane.InternetNS(), open)
	e.reach(ns, inet, "internet")

	// No route: nothing either way.
	_, err = e.ec2.DeleteRoute(ctx(), &ec2.DeleteRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationIpv6CidrBlock: aws.String("::/0")})
	e.must(err)
	e.settle()
	e.noReach(ns, inet)
	e.noReach(e.plane.InternetNS(), open)
}
