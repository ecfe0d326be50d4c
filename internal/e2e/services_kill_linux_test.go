package e2e

import (
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/nftables"
	"github.com/vishvananda/netlink"

	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/dataplane"
)

// servicesSetup is VPC A (IPv4 and IPv6) with a public subnet holding a NAT
// gateway and a private subnet whose instance P goes out by the gateway (IPv4),
// by an egress-only internet gateway (IPv6) and to VPC B by a peering
// connection; A's default network ACL denies TCP 81 out to B.
type servicesSetup struct {
	a, b              peerVPC // a.inst is P; b.inst is Q (80 and 81 open to 10/8)
	nat, eip, pcx     string
	eigw, p6          string
	inet4, inet6, q80 string
	q81               string
}

func (e *env) servicesSetup() servicesSetup {
	e.t.Helper()
	var s servicesSetup
	out, err := e.ec2.CreateVpc(ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.65.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	e.must(err)
	s.a.vpc = *out.Vpc.VpcId
	block := netip.MustParsePrefix(*out.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock)
	public := e.subnet(s.a.vpc, "10.65.1.0/24")
	e.publicRoutes(s.a.vpc, public, e.igw(s.a.vpc))
	sn, err := e.ec2.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: aws.String(s.a.vpc), CidrBlock: aws.String("10.65.2.0/24"),
		Ipv6CidrBlock: aws.String(netip.PrefixFrom(block.Addr(), 64).String()), AvailabilityZone: aws.String(testAZ)})
	e.must(err)
	s.a.subnet = *sn.Subnet.SubnetId
	s.a.sg = e.sgOpen(s.a.vpc, "open", "0.0.0.0/0")
	_, err = e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(s.a.sg),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}})
	e.must(err) // open to all: what keeps the internet out is the gateways
	ri, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(s.a.subnet), SecurityGroupIds: []string{s.a.sg},
		Ipv6AddressCount: aws.Int32(1)})
	e.must(err)
	s.a.inst = *ri.Instances[0].InstanceId
	s.b = e.peerVPC("10.66.0.0/16", "10.66.1.0/24")
	_, err = e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(s.b.sg),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(81), ToPort: aws.Int32(81),
			IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}}})
	e.must(err)
	e.waitRunning(s.a.inst, s.b.inst)
	s.a.ns, s.b.ns = e.plane.InstanceNS(s.a.inst), e.plane.InstanceNS(s.b.inst)
	s.p6 = *e.primaryENI(s.a.inst).Ipv6Addresses[0].Ipv6Address
	s.b.ip = *e.primaryENI(s.b.inst).PrivateIpAddress
	s.inet4 = net.JoinHostPort(e.plane.InternetIP().String(), "80")
	s.inet6 = net.JoinHostPort(dataplane.InternetIPv6.String(), "80")
	s.q80, s.q81 = net.JoinHostPort(s.b.ip, "80"), net.JoinHostPort(s.b.ip, "81")
	e.serve(e.plane.InternetNS(), 80, "internet")
	e.serve(s.a.ns, 8080, "p")
	e.serve(s.b.ns, 80, "q")
	e.serve(s.b.ns, 81, "q81")

	e.servicesACL(s.a.vpc)
	e.servicesGateways(&s, public)
	return s
}

// servicesACL adds to the VPC's default network ACL: rule 50, TCP 81 out to
// 10.66.0.0/16 denied.
func (e *env) servicesACL(vpc string) {
	e.t.Helper()
	acls, err := e.ec2.DescribeNetworkAcls(ctx(), &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("default"), Values: []string{"true"}}}})
	e.must(err)
	_, err = e.ec2.CreateNetworkAclEntry(ctx(), &ec2.CreateNetworkAclEntryInput{NetworkAclId: acls.NetworkAcls[0].NetworkAclId,
		RuleNumber: aws.Int32(50), Egress: aws.Bool(true), Protocol: aws.String("6"), RuleAction: types.RuleActionDeny,
		CidrBlock: aws.String("10.66.0.0/16"), PortRange: &types.PortRange{From: aws.Int32(81), To: aws.Int32(81)}})
	e.must(err)
}

// servicesGateways makes the NAT gateway (waited for), the egress-only
// gateway and the accepted peering, and routes the private subnet through
// them (B routes back). The routes are the last changes made, so a plane
// that carries their traffic has the network ACL entry too.
func (e *env) servicesGateways(s *servicesSetup, public string) {
	e.t.Helper()
	eip, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	s.eip = *eip.PublicIp
	ng, err := e.ec2.CreateNatGateway(ctx(), &ec2.CreateNatGatewayInput{SubnetId: aws.String(public), AllocationId: eip.AllocationId})
	e.must(err)
	s.nat = *ng.NatGateway.NatGatewayId
	e.waitNat(s.nat, types.NatGatewayStateAvailable)
	eg, err := e.ec2.CreateEgressOnlyInternetGateway(ctx(), &ec2.CreateEgressOnlyInternetGatewayInput{VpcId: aws.String(s.a.vpc)})
	e.must(err)
	s.eigw = *eg.EgressOnlyInternetGateway.EgressOnlyInternetGatewayId
	s.pcx = e.peer(s.a, s.b)
	e.accept(s.pcx)
	rt, err := e.ec2.CreateRouteTable(ctx(), &ec2.CreateRouteTableInput{VpcId: aws.String(s.a.vpc)})
	e.must(err)
	s.a.rtb = *rt.RouteTable.RouteTableId
	for _, r := range []ec2.CreateRouteInput{
		{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(s.nat)},
		{DestinationIpv6CidrBlock: aws.String("::/0"), EgressOnlyInternetGatewayId: aws.String(s.eigw)},
		{DestinationCidrBlock: aws.String("10.66.0.0/16"), VpcPeeringConnectionId: aws.String(s.pcx)},
	} {
		r.RouteTableId = aws.String(s.a.rtb)
		_, err = e.ec2.CreateRoute(ctx(), &r)
		e.must(err)
	}
	_, err = e.ec2.AssociateRouteTable(ctx(), &ec2.AssociateRouteTableInput{RouteTableId: aws.String(s.a.rtb), SubnetId: aws.String(s.a.subnet)})
	e.must(err)
	e.routePcx(s.b.rtb, "10.65.0.0/16", s.pcx)
}

// waitNat polls DescribeNatGateways until the gateway is in state st.
func (e *env) waitNat(nat string, st types.NatGatewayState) {
	e.t.Helper()
	e.waitFor(nat+" "+string(st), func() (bool, string) {
		d, err := e.ec2.DescribeNatGateways(ctx(), &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{nat}})
		if err != nil || len(d.NatGateways) != 1 {
			return false, "describe: " + errString(err)
		}
		return d.NatGateways[0].State == st, string(d.NatGateways[0].State)
	})
}

// servicesWork checks every service's traffic: out by the NAT gateway from its
// Elastic IP, out by the egress-only gateway from P's own IPv6 address, to Q
// over the peering, not to Q's port 81 (the network ACL), nothing in from the
// internet.
func (e *env) servicesWork(s servicesSetup, when string) {
	e.t.Helper()
	if got := e.reach(s.a.ns, s.inet4, "internet"); !strings.Contains(got, " "+s.eip+":") {
		e.t.Fatalf("%s: the internet saw %q, want the NAT gateway's Elastic IP %s", when, got, s.eip)
	}
	if got := e.reach(s.a.ns, s.inet6, "internet"); !strings.Contains(got, s.p6) {
		e.t.Fatalf("%s: the internet saw %q over IPv6, want P's address %s", when, got, s.p6)
	}
	e.reach(s.a.ns, s.q80, "q")
	e.noReach(s.a.ns, s.q81)
	e.noReach(e.plane.InternetNS(), net.JoinHostPort(s.p6, "8080"))
	e.noReach(e.plane.InternetNS(), net.JoinHostPort(s.eip, "8080"))
}

// servicesDescribed checks that the API describes the services as before.
func (e *env) servicesDescribed(s servicesSetup) {
	e.t.Helper()
	e.waitNat(s.nat, types.NatGatewayStateAvailable)
	d, err := e.ec2.DescribeNatGateways(ctx(), &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{s.nat}})
	e.must(err)
	if a := d.NatGateways[0].NatGatewayAddresses; len(a) != 1 || aws.ToString(a[0].PublicIp) != s.eip {
		e.t.Fatalf("NAT gateway addresses %+v, want %s", a, s.eip)
	}
	pc, err := e.ec2.DescribeVpcPeeringConnections(ctx(), &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{s.pcx}})
	e.must(err)
	if st := pc.VpcPeeringConnections[0].Status.Code; st != types.VpcPeeringConnectionStateReasonCodeActive {
		e.t.Fatalf("peering %s, want active", st)
	}
	eg, err := e.ec2.DescribeEgressOnlyInternetGateways(ctx(), &ec2.DescribeEgressOnlyInternetGatewaysInput{EgressOnlyInternetGatewayIds: []string{s.eigw}})
	e.must(err)
	if len(eg.EgressOnlyInternetGateways) != 1 {
		e.t.Fatalf("egress-only gateway %s gone", s.eigw)
	}
	rt, err := e.ec2.DescribeRouteTables(ctx(), &ec2.DescribeRouteTablesInput{RouteTableIds: []string{s.a.rtb}})
	e.must(err)
	if n := len(rt.RouteTables[0].Routes); n != 5 { // local ×2, NAT, egress-only, peering
		e.t.Fatalf("route table %s has %d routes, want 5: %+v", s.a.rtb, n, rt.RouteTables[0].Routes)
	}
}

// TestVPCServicesAfterKill9: eni serve itself (a data directory, the Linux data
// plane) with a NAT gateway, an egress-only internet gateway, a VPC peering and a
// network ACL entry, all carrying traffic. Killed with SIGKILL, what the kernel
// holds goes on carrying it. While it is down the gateway's NAT table and the
// peering link are deleted by hand; started again on the same directory, the API
// describes everything as before and the server's first pass makes the data plane
// whole: every service works again as it did, the network ACL still denies.
func TestVPCServicesAfterKill9(t *testing.T) {
	requireNetAdmin(t)
	srv := newServeProc(t, "k", filepath.Join(t.TempDir(), "data"))
	srv.start()
	plane, err := dataplane.New(dataplane.Options{Prefix: srv.prefix}) // names and namespaces only: the server's plane does the work
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ec2: apitest.NewClient(srv.url, "us-east-1", "test", "test"), plane: plane, prefix: srv.prefix}
	s := e.servicesSetup()
	e.servicesWork(s, "before")

	srv.kill()
	e.reach(s.a.ns, s.inet4, "internet") // the kernel carries on without its server
	e.reach(s.a.ns, s.q80, "q")
	e.must(plane.Do(plane.InstanceNS(s.nat), func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		c.DelTable(&nftables.Table{Name: srv.prefix + "natgw", Family: nftables.TableFamilyIPv4})
		return c.Flush()
	}))
	e.must(plane.Do(plane.RouterNS(s.a.vpc), func() error {
		l, err := netlink.LinkByName(e.ifName('p', s.pcx+"/"+s.a.vpc))
		if err != nil {
			return err
		}
		return netlink.LinkDel(l)
	}))
	e.noReach(s.a.ns, s.inet4)
	e.noReach(s.a.ns, s.q80)

	srv.start()
	e.servicesDescribed(s)
	e.servicesWork(s, "after kill -9 and a start")
}
