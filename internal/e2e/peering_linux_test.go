package e2e

import (
	"fmt"
	"hash/fnv"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/dataplane"
	"github.com/vishvananda/netlink"
)

// peerVPC is a VPC with one subnet, its main route table, an instance
// serving TCP 80 and its address.
type peerVPC struct {
	vpc, subnet, rtb, sg, inst, ns, ip string
}

func (e *env) peerVPC(cidr, subnet string) peerVPC {
	e.t.Helper()
	var p peerVPC
	p.vpc = e.vpc(cidr)
	p.subnet = e.subnet(p.vpc, subnet)
	out, err := e.ec2.DescribeRouteTables(ctx(), &ec2.DescribeRouteTablesInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{p.vpc}}}})
	e.must(err)
	p.rtb = aws.ToString(out.RouteTables[0].RouteTableId)
	p.sg = e.sg(p.vpc, "web", 80, "10.0.0.0/8")
	p.inst = e.launch(p.subnet, p.sg)
	return p
}

func (e *env) peer(a, b peerVPC) string {
	e.t.Helper()
	out, err := e.ec2.CreateVpcPeeringConnection(ctx(), &ec2.CreateVpcPeeringConnectionInput{VpcId: &a.vpc, PeerVpcId: &b.vpc})
	e.must(err)
	return aws.ToString(out.VpcPeeringConnection.VpcPeeringConnectionId)
}

func (e *env) accept(pcx string) {
	e.t.Helper()
	_, err := e.ec2.AcceptVpcPeeringConnection(ctx(), &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx})
	e.must(err)
}

func (e *env) routePcx(rtb, dest, pcx string) {
	e.t.Helper()
	_, err := e.ec2.CreateRoute(ctx(), &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: &dest, VpcPeeringConnectionId: &pcx})
	e.must(err)
}

// TestVpcPeering, through the EC2 API only: two VPCs' instances talk over a
// peering connection once it is accepted (a route to it before that is a
// blackhole) and both route tables send the other's block to it (one route alone is not enough: replies need the way
// back); a group of the peer VPC may be referenced and is enforced; with
// A–B and B–C peered, A and C cannot talk even with routes through B (no
// transit); a peering link deleted by hand is made again by a full pass;
// after a restart (a new plane and agent) it all holds; a deleted connection
// carries nothing.
func TestVpcPeering(t *testing.T) {
	e := newEnv(t)
	a := e.peerVPC("10.1.0.0/16", "10.1.1.0/24")
	b := e.peerVPC("10.2.0.0/16", "10.2.1.0/24")
	c := e.peerVPC("10.3.0.0/16", "10.3.1.0/24")
	e.waitRunning(a.inst, b.inst, c.inst)
	for _, p := range []*peerVPC{&a, &b, &c} {
		p.ns = e.plane.InstanceNS(p.inst)
		p.ip = aws.ToString(e.primaryENI(p.inst).PrivateIpAddress)
		e.serve(p.ns, 80, p.inst)
	}
	to := func(p peerVPC, port string) string { return net.JoinHostPort(p.ip, port) }

	// Requested, not accepted, A routing to it already (a blackhole):
	// nothing passes.
	ab := e.peer(a, b)
	e.routePcx(a.rtb, "10.2.0.0/16", ab)
	e.settle()
	e.noReach(a.ns, to(b, "80"))
	e.noReach(b.ns, to(a, "80"))

	// Accepted, but B has no route back: still nothing.
	e.accept(ab)
	e.settle()
	e.noReach(a.ns, to(b, "80"))

	// Both routes: both ways.
	e.routePcx(b.rtb, "10.1.0.0/16", ab)
	e.reach(a.ns, to(b, "80"), b.inst)
	e.reach(b.ns, to(a, "80"), a.inst)

	// B's port 81 admits A's group (a peer VPC's group) and nothing else.
	_, err := e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &b.sg,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(81), ToPort: aws.Int32(81),
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: &a.sg}}}}})
	e.must(err)
	e.serve(b.ns, 81, b.inst+"-81")
	e.reach(a.ns, to(b, "81"), b.inst+"-81")

	// B–C peered and routed both ways; A routes C's block over A–B and C
	// routes A's block over B–C: no transit through B.
	bc := e.peer(b, c)
	e.accept(bc)
	e.routePcx(b.rtb, "10.3.0.0/16", bc)
	e.routePcx(c.rtb, "10.2.0.0/16", bc)
	e.routePcx(c.rtb, "10.1.0.0/16", bc)
	e.routePcx(a.rtb, "10.3.0.0/16", ab)
	e.reach(c.ns, to(b, "80"), b.inst)
	e.reach(b.ns, to(c, "80"), c.inst)
	e.settle()
	e.noReach(a.ns, to(c, "80"))
	e.noReach(c.ns, to(a, "80"))
	e.noReach(c.ns, to(b, "81")) // C is not in A's group

	// A–B's link deleted by hand in A's router: a full pass makes it again.
	e.must(e.plane.Do(e.plane.RouterNS(a.vpc), func() error {
		l, err := netlink.LinkByName(e.ifName('p', ab+"/"+a.vpc))
		if err != nil {
			return err
		}
		return netlink.LinkDel(l)
	}))
	e.noReach(a.ns, to(b, "80"))
	e.fullPass()
	e.reach(a.ns, to(b, "80"), b.inst)

	// A restart: a new plane and agent realise the same.
	e.stopAgent()
	plane2, err := dataplane.New(dataplane.Options{Prefix: e.prefix})
	e.must(err)
	e.startAgent(plane2, nil)
	e.settle()
	e.reach(a.ns, to(b, "80"), b.inst)
	e.reach(c.ns, to(b, "80"), b.inst)
	e.noReach(a.ns, to(c, "80"))

	// Deleted: the routes go blackhole and nothing passes.
	_, err = e.ec2.DeleteVpcPeeringConnection(ctx(), &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &ab})
	e.must(err)
	e.settle()
	e.noReach(a.ns, to(b, "80"))
	e.noReach(b.ns, to(a, "80"))
	e.reach(b.ns, to(c, "80"), c.inst) // B–C unaffected
}

// ifName is the name the plane gives an interface of a kind for an id:
// prefix, kind, FNV-1a of the id.
func (e *env) ifName(kind byte, id string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return fmt.Sprintf("%s%c%08x", e.prefix, kind, h.Sum32())
}

// inetLeg is the name of the internet namespace's leg to a VPC's router.
func (e *env) inetLeg(vpc string) string { return e.ifName('g', vpc) }

// TestAttackPeeringTransitFromInternet: the internet sends B's instance a
// datagram through A's router with a source forged into A's subnet (A's
// subnet routes B's block over the peering, and routing goes by source).
// A router forwards onto a peering link only what came in by a subnet leg:
// nothing arrives, while A's instance reaches the same listener.
func TestAttackPeeringTransitFromInternet(t *testing.T) {
	e := newEnv(t)
	a := e.peerVPC("10.1.0.0/16", "10.1.1.0/24")
	b := e.peerVPC("10.2.0.0/16", "10.2.1.0/24")
	e.waitRunning(a.inst, b.inst)
	a.ns, b.ns = e.plane.InstanceNS(a.inst), e.plane.InstanceNS(b.inst)
	b.ip = aws.ToString(e.primaryENI(b.inst).PrivateIpAddress)
	_, err := e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &b.sg,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("udp"), FromPort: aws.Int32(9999), ToPort: aws.Int32(9999),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	e.must(err)
	ab := e.peer(a, b)
	e.accept(ab)
	e.routePcx(a.rtb, "10.2.0.0/16", ab)
	e.routePcx(b.rtb, "10.1.0.0/16", ab)
	log := e.udpEcho(b.ns, 9999, "b")
	dst := &net.UDPAddr{IP: net.ParseIP(b.ip), Port: 9999}
	e.waitFor("A's instance reaches B over the peering", func() (bool, string) {
		return e.udpAsk(a.ns, &net.UDPAddr{}, dst, "legit", dialTimeout) == "b:legit", ""
	})

	// The internet, as root: a forged source of A's subnet, a route to B's
	// block via A's uplink.
	forged := net.ParseIP("10.1.1.50").To4()
	e.must(e.plane.Do(e.plane.InternetNS(), func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		if err := netlink.AddrAdd(lo, &netlink.Addr{IPNet: &net.IPNet{IP: forged, Mask: net.CIDRMask(32, 32)}}); err != nil {
			return err
		}
		leg, err := netlink.LinkByName(e.inetLeg(a.vpc))
		if err != nil {
			return err
		}
		return netlink.RouteAdd(&netlink.Route{LinkIndex: leg.Attrs().Index, Dst: &net.IPNet{IP: net.IP{10, 2, 0, 0}, Mask: net.CIDRMask(16, 32)},
			Gw: net.IP{100, 64, 0, 2}, Flags: int(netlink.FLAG_ONLINK)})
	}))
	e.settle()
	for i := range 3 {
		e.udpAsk(e.plane.InternetNS(), &net.UDPAddr{IP: forged}, dst, fmt.Sprint("forged", i), failTimeout)
	}
	if got, ok := log.received("forged", failTimeout); ok {
		t.Fatalf("B's instance received %q from the internet through A's router and the peering", got)
	}
}
