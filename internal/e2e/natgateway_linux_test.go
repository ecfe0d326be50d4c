package e2e

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/nftables"

	"github.com/eni-net/eni/internal/dataplane"
)

// natSetup is a VPC with an internet gateway, a public subnet (for the NAT
// gateway) and a private one with an instance that listens on 8080, open to
// everyone: its security group would let the internet in, so whatever keeps
// the internet out is the NAT gateway.
type natSetup struct {
	vpc, public, private, inst, ns, ip string
}

func (e *env) natSetup() natSetup {
	e.t.Helper()
	var s natSetup
	s.vpc = e.vpc("10.0.0.0/16")
	s.public = e.subnet(s.vpc, "10.0.1.0/24")
	s.private = e.subnet(s.vpc, "10.0.2.0/24")
	e.publicRoutes(s.vpc, s.public, e.igw(s.vpc))
	open := e.sgOpen(s.vpc, "open", "0.0.0.0/0")
	s.inst = e.launch(s.private, open)
	e.waitRunning(s.inst)
	s.ns = e.plane.InstanceNS(s.inst)
	s.ip = *e.primaryENI(s.inst).PrivateIpAddress
	e.serve(e.plane.InternetNS(), 80, "internet")
	e.serve(s.ns, 8080, "instance")
	return s
}

// natRoute gives the private subnet a route table with 0.0.0.0/0 → nat.
func (e *env) natRoute(s natSetup, nat string) {
	e.t.Helper()
	rt, err := e.ec2.CreateRouteTable(ctx(), &ec2.CreateRouteTableInput{VpcId: aws.String(s.vpc)})
	e.must(err)
	_, err = e.ec2.CreateRoute(ctx(), &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId,
		DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(nat)})
	e.must(err)
	_, err = e.ec2.AssociateRouteTable(ctx(), &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(s.private)})
	e.must(err)
}

// TestNatGateway: through the EC2 API, a public NAT gateway is pending until its namespace
// is up, then available (the SDK's waiter returns), and deleting until it is gone; a private subnet routed 0.0.0.0/0 to
// it reaches the simulated internet, which sees the gateway's Elastic IP as the source,
// and gets the replies; nothing the internet starts reaches the instance (not through the
// Elastic IP, where the instance's port is open to everyone by its security group); the
// gateway forgets idle connections after 350 s; a restarted server (new plane and agent)
// repairs a gateway whose table was deleted by hand; deleted, the gateway's namespace goes
// and nothing passes.
func TestNatGateway(t *testing.T) {
	e := newEnv(t)
	s := e.natSetup()
	inet := net.JoinHostPort(e.plane.InternetIP().String(), "80")
	e.settle()
	e.noReach(s.ns, inet) // a private subnet: no way out yet

	eip, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	out, err := e.ec2.CreateNatGateway(ctx(), &ec2.CreateNatGatewayInput{SubnetId: aws.String(s.public), AllocationId: eip.AllocationId})
	e.must(err)
	nat := *out.NatGateway.NatGatewayId
	if out.NatGateway.State != types.NatGatewayStatePending {
		t.Fatalf("CreateNatGateway: %s, want pending", out.NatGateway.State)
	}
	e.must(ec2.NewNatGatewayAvailableWaiter(e.ec2, func(o *ec2.NatGatewayAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	}).Wait(ctx(), &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{nat}}, 2*eventually))
	if !e.hasNS(e.plane.InstanceNS(nat)) {
		t.Fatalf("available, but no namespace %s", e.plane.InstanceNS(nat))
	}
	e.natRoute(s, nat)

	got := e.reach(s.ns, inet, "internet")
	if !strings.Contains(got, " "+*eip.PublicIp+":") {
		t.Fatalf("the internet saw %q, want the gateway's Elastic IP %s", got, *eip.PublicIp)
	}
	// Nothing unsolicited in: not through the Elastic IP, not to the instance.
	e.settle()
	e.noReach(e.plane.InternetNS(), net.JoinHostPort(*eip.PublicIp, "8080"))
	e.noReach(e.plane.InternetNS(), net.JoinHostPort(s.ip, "8080"))
	e.reach(s.ns, inet, "internet")
	// AWS's idle timeout, in the gateway's connection tracking.
	e.must(e.plane.Do(e.plane.InstanceNS(nat), func() error {
		b, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established")
		if err == nil && strings.TrimSpace(string(b)) != "350" {
			t.Errorf("TCP idle timeout %s s, want 350", strings.TrimSpace(string(b)))
		}
		return err
	}))

	// The gateway's table deleted by hand, then a restart: the new plane's full pass
	// makes it again.
	e.must(e.plane.Do(e.plane.InstanceNS(nat), func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		c.DelTable(&nftables.Table{Name: e.prefix + "natgw", Family: nftables.TableFamilyIPv4})
		return c.Flush()
	}))
	e.noReach(s.ns, inet)
	e.stopAgent()
	plane2, err := dataplane.New(dataplane.Options{Prefix: e.prefix})
	e.must(err)
	e.startAgent(plane2, nil)
	e.settle()
	got = e.reach(s.ns, inet, "internet")
	if !strings.Contains(got, " "+*eip.PublicIp+":") {
		t.Fatalf("after the restart the internet saw %q, want %s", got, *eip.PublicIp)
	}
	e.noReach(e.plane.InternetNS(), net.JoinHostPort(*eip.PublicIp, "8080"))

	// Deleted: the route is a blackhole, the namespace goes, nothing passes.
	_, err = e.ec2.DeleteNatGateway(ctx(), &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String(nat)})
	e.must(err)
	d, err := e.ec2.DescribeNatGateways(ctx(), &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{nat}})
	e.must(err)
	if st := d.NatGateways[0].State; st != types.NatGatewayStateDeleting && st != types.NatGatewayStateDeleted {
		t.Fatalf("after DeleteNatGateway: %s, want deleting or deleted", st)
	}
	e.must(ec2.NewNatGatewayDeletedWaiter(e.ec2, func(o *ec2.NatGatewayDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	}).Wait(ctx(), &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{nat}}, 2*eventually))
	if e.hasNS(e.plane.InstanceNS(nat)) { // deleted only once the plane reported it gone
		t.Fatalf("deleted, but namespace %s is still there", e.plane.InstanceNS(nat))
	}
	e.settle()
	if e.hasNS(e.plane.InstanceNS(nat)) {
		t.Fatalf("namespace %s left after the gateway was deleted", e.plane.InstanceNS(nat))
	}
	e.noReach(s.ns, inet)
}

// TestPrivateNatGateway: through the EC2 API, a private NAT gateway translates to its
// private address toward a peered VPC: subnet A routes 0.0.0.0/0 to the gateway, the
// gateway's subnet routes the peer's block to the peering connection, and the peer's
// instance sees the gateway's address, not A's instance's; replies come back.
func TestPrivateNatGateway(t *testing.T) {
	e := newEnv(t)
	a := e.peerVPC("10.1.0.0/16", "10.1.1.0/24")
	b := e.peerVPC("10.2.0.0/16", "10.2.1.0/24")
	natSubnet := e.subnet(a.vpc, "10.1.2.0/24")
	e.waitRunning(a.inst, b.inst)
	for _, p := range []*peerVPC{&a, &b} {
		p.ns = e.plane.InstanceNS(p.inst)
		p.ip = aws.ToString(e.primaryENI(p.inst).PrivateIpAddress)
		e.serve(p.ns, 80, p.inst)
	}
	pcx := e.peer(a, b)
	e.accept(pcx)
	e.routePcx(a.rtb, "10.2.0.0/16", pcx) // the main table: the gateway's subnet's
	e.routePcx(b.rtb, "10.1.0.0/16", pcx)
	out, err := e.ec2.CreateNatGateway(ctx(), &ec2.CreateNatGatewayInput{SubnetId: aws.String(natSubnet), ConnectivityType: types.ConnectivityTypePrivate})
	e.must(err)
	nat := *out.NatGateway.NatGatewayId
	e.must(ec2.NewNatGatewayAvailableWaiter(e.ec2, func(o *ec2.NatGatewayAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	}).Wait(ctx(), &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{nat}}, 2*eventually))
	d, err := e.ec2.DescribeNatGateways(ctx(), &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{nat}})
	e.must(err)
	natIP := *d.NatGateways[0].NatGatewayAddresses[0].PrivateIp
	to := net.JoinHostPort(b.ip, "80")
	// A gets a table of its own, with 0.0.0.0/0 → the gateway only.
	rt, err := e.ec2.CreateRouteTable(ctx(), &ec2.CreateRouteTableInput{VpcId: aws.String(a.vpc)})
	e.must(err)
	_, err = e.ec2.CreateRoute(ctx(), &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId,
		DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(nat)})
	e.must(err)
	_, err = e.ec2.AssociateRouteTable(ctx(), &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(a.subnet)})
	e.must(err)
	e.settle() // A's peering route (the main table's) is gone
	got := e.reach(a.ns, to, b.inst)
	if !strings.Contains(got, " "+natIP+":") {
		t.Fatalf("B saw %q, want the gateway's address %s (A is %s)", got, natIP, a.ip)
	}
	// B cannot start a connection to A through the gateway's address.
	e.settle()
	e.noReach(b.ns, net.JoinHostPort(natIP, "80"))

	// A second address: new connections are spread over both.
	as, err := e.ec2.AssignPrivateNatGatewayAddress(ctx(), &ec2.AssignPrivateNatGatewayAddressInput{NatGatewayId: aws.String(nat), PrivateIpAddressCount: aws.Int32(1)})
	e.must(err)
	second := *as.NatGatewayAddresses[0].PrivateIp
	e.settle()
	seen := map[string]int{}
	for i := 0; i < 40; i++ {
		got, err := e.dial(a.ns, to, dialTimeout)
		e.must(err)
		for _, ip := range []string{natIP, second} {
			if strings.Contains(got, " "+ip+":") {
				seen[ip]++
			}
		}
	}
	if seen[natIP] == 0 || seen[second] == 0 || seen[natIP]+seen[second] != 40 {
		t.Fatalf("B saw the gateway's addresses %v in 40 connections, want both of %s and %s", seen, natIP, second)
	}
}

// TestNatGatewayStreamStartedBefore: a UDP stream (a datagram a millisecond) that a
// private instance started before its NAT gateway existed reaches the internet from the
// gateway's Elastic IP once the gateway and the route are there. Every datagram sent
// while they were being made, in whatever order the plane made them, was dropped before
// connection tracking kept the flow untranslated (as the router's and the gateway's
// tables once let it be, for good: the stream never stops, so neither does its flow).
func TestNatGatewayStreamStartedBefore(t *testing.T) {
	e := newEnv(t)
	s := e.natSetup()
	eip, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	u := e.udpFirst(e.plane.InternetNS(), 9999)
	for round := 0; round < 3; round++ {
		stop := make(chan struct{})
		e.udpSender(s.ns, net.JoinHostPort(e.plane.InternetIP().String(), "9999"), stop)
		u.arm(netip.MustParseAddr(*eip.PublicIp), time.Now())
		out, err := e.ec2.CreateNatGateway(ctx(), &ec2.CreateNatGatewayInput{SubnetId: aws.String(s.public), AllocationId: eip.AllocationId})
		e.must(err)
		nat := out.NatGateway.NatGatewayId
		rt, err := e.ec2.CreateRouteTable(ctx(), &ec2.CreateRouteTableInput{VpcId: aws.String(s.vpc)})
		e.must(err)
		_, err = e.ec2.CreateRoute(ctx(), &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat})
		e.must(err)
		assoc, err := e.ec2.AssociateRouteTable(ctx(), &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(s.private)})
		e.must(err)
		e.waitFor("the stream through the gateway", func() (bool, string) { return !u.first().IsZero(), "" })
		close(stop)
		_, err = e.ec2.DisassociateRouteTable(ctx(), &ec2.DisassociateRouteTableInput{AssociationId: assoc.AssociationId})
		e.must(err)
		_, err = e.ec2.DeleteNatGateway(ctx(), &ec2.DeleteNatGatewayInput{NatGatewayId: nat})
		e.must(err)
		e.settle()
	}
}

// TestNatGatewayNarrowRoute: a route narrower than 0.0.0.0/0 to a NAT gateway carries
// what it covers and nothing else: with only 198.51.100.0/24 → nat the private subnet
// still has no way to the internet's address; with the internet's address/32 → nat
// too, it goes out from the gateway's Elastic IP; the /32 deleted, nothing again.
func TestNatGatewayNarrowRoute(t *testing.T) {
	e := newEnv(t)
	s := e.natSetup()
	inetIP := e.plane.InternetIP().String()
	inet := net.JoinHostPort(inetIP, "80")
	eip, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	out, err := e.ec2.CreateNatGateway(ctx(), &ec2.CreateNatGatewayInput{SubnetId: aws.String(s.public), AllocationId: eip.AllocationId})
	e.must(err)
	nat := *out.NatGateway.NatGatewayId
	e.waitNat(nat, types.NatGatewayStateAvailable)
	rt, err := e.ec2.CreateRouteTable(ctx(), &ec2.CreateRouteTableInput{VpcId: aws.String(s.vpc)})
	e.must(err)
	route := func(dst string) {
		_, err := e.ec2.CreateRoute(ctx(), &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId,
			DestinationCidrBlock: aws.String(dst), NatGatewayId: aws.String(nat)})
		e.must(err)
	}
	route("198.51.100.0/24")
	_, err = e.ec2.AssociateRouteTable(ctx(), &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(s.private)})
	e.must(err)
	e.settle()
	e.noReach(s.ns, inet) // not covered by the route

	route(inetIP + "/32")
	if got := e.reach(s.ns, inet, "internet"); !strings.Contains(got, " "+*eip.PublicIp+":") {
		t.Fatalf("the internet saw %q, want the gateway's Elastic IP %s", got, *eip.PublicIp)
	}
	e.noReach(e.plane.InternetNS(), net.JoinHostPort(*eip.PublicIp, "8080"))

	_, err = e.ec2.DeleteRoute(ctx(), &ec2.DeleteRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String(inetIP + "/32")})
	e.must(err)
	e.settle()
	e.noReach(s.ns, inet)
}
