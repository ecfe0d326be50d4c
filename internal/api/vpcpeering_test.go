package api_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/sigv4"
)

func pcxVPC(t *testing.T, c *ec2.Client, cidr string) string {
	t.Helper()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(v.Vpc.VpcId)
}

func pcxGet(t *testing.T, c *ec2.Client, id string) types.VpcPeeringConnection {
	t.Helper()
	out, err := c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{id}})
	if err != nil || len(out.VpcPeeringConnections) != 1 {
		t.Fatalf("describe %s: %v %+v", id, err, out)
	}
	return out.VpcPeeringConnections[0]
}

func pcxStatus(t *testing.T, c *ec2.Client, id string) types.VpcPeeringConnectionStateReasonCode {
	t.Helper()
	return pcxGet(t, c, id).Status.Code
}

func mainRtb(t *testing.T, c *ec2.Client, vpc string) string {
	t.Helper()
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", vpc)}})
	if err != nil || len(out.RouteTables) != 1 {
		t.Fatalf("route tables of %s: %v %+v", vpc, err, out)
	}
	return aws.ToString(out.RouteTables[0].RouteTableId)
}

func routeTo(t *testing.T, c *ec2.Client, rtb, dest string) types.Route {
	t.Helper()
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rtb}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.RouteTables[0].Routes {
		if aws.ToString(r.DestinationCidrBlock) == dest {
			return r
		}
	}
	t.Fatalf("no route to %s in %s", dest, rtb)
	return types.Route{}
}

// A peering connection of one account: requested (initiating-request, then
// pending-acceptance with its expiration time), accepted (active, both
// VPCs' blocks shown), routed to (the route names it and is active; only an
// active connection of the table's VPC is a target), filtered, tagged,
// options modified, the VPC not deletable while it is active, deleted (the
// routes go blackhole), and AWS's codes for every mistake.
func TestVpcPeeringLifecycle(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	a, b, o := pcxVPC(t, c, "10.1.0.0/16"), pcxVPC(t, c, "10.2.0.0/16"), pcxVPC(t, c, "10.1.128.0/20")
	cr, err := c.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: &b,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpcPeeringConnection, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("ab")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	pc := cr.VpcPeeringConnection
	id := aws.ToString(pc.VpcPeeringConnectionId)
	if !strings.HasPrefix(id, "pcx-") || pc.Status.Code != types.VpcPeeringConnectionStateReasonCodeInitiatingRequest ||
		aws.ToString(pc.RequesterVpcInfo.VpcId) != a || aws.ToString(pc.AccepterVpcInfo.VpcId) != b ||
		aws.ToString(pc.RequesterVpcInfo.CidrBlock) != "10.1.0.0/16" || aws.ToString(pc.AccepterVpcInfo.OwnerId) != "123456789012" || pc.ExpirationTime == nil {
		t.Fatalf("created %+v", pc)
	}
	got := pcxGet(t, c, id)
	if got.Status.Code != types.VpcPeeringConnectionStateReasonCodePendingAcceptance || aws.ToString(got.Status.Message) != "Pending Acceptance by 123456789012" ||
		got.ExpirationTime == nil || time.Until(*got.ExpirationTime) < 6*24*time.Hour || len(got.Tags) != 1 {
		t.Fatalf("pending: %+v", got)
	}
	// The same request again answers the open one.
	again, err := c.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: &b})
	if err != nil || aws.ToString(again.VpcPeeringConnection.VpcPeeringConnectionId) != id {
		t.Fatalf("repeat: %v %+v", err, again)
	}
	rtbA, rtbB := mainRtb(t, c, a), mainRtb(t, c, b)
	// A route to a pending connection is a blackhole until it is accepted.
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtbA, DestinationCidrBlock: aws.String("10.2.0.0/16"), VpcPeeringConnectionId: &id}); err != nil {
		t.Fatal(err)
	}
	if rt := routeTo(t, c, rtbA, "10.2.0.0/16"); rt.State != types.RouteStateBlackhole {
		t.Fatalf("route to a pending connection: %+v", rt)
	}
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtbA, DestinationCidrBlock: aws.String("10.1.5.0/24"), VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "InvalidParameterValue") // within the VPC's own block
	if _, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &rtbA, DestinationCidrBlock: aws.String("10.2.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ModifyVpcPeeringConnectionOptions(ctx, &ec2.ModifyVpcPeeringConnectionOptionsInput{VpcPeeringConnectionId: &id,
		RequesterPeeringConnectionOptions: &types.PeeringConnectionOptionsRequest{AllowDnsResolutionFromRemoteVpc: aws.Bool(true)}})
	apitest.WantCode(t, err, "OperationNotPermitted")

	acc, err := c.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
	if err != nil || acc.VpcPeeringConnection.Status.Code != types.VpcPeeringConnectionStateReasonCodeActive ||
		aws.ToString(acc.VpcPeeringConnection.AccepterVpcInfo.CidrBlock) != "10.2.0.0/16" {
		t.Fatalf("accept: %v %+v", err, acc)
	}
	_, err = c.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "InvalidStateTransition")
	_, err = c.RejectVpcPeeringConnection(ctx, &ec2.RejectVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "InvalidStateTransition")

	for _, r := range []struct{ rtb, dest string }{{rtbA, "10.2.0.0/16"}, {rtbB, "10.1.0.0/16"}} {
		if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &r.rtb, DestinationCidrBlock: &r.dest, VpcPeeringConnectionId: &id}); err != nil {
			t.Fatal(err)
		}
		if rt := routeTo(t, c, r.rtb, r.dest); aws.ToString(rt.VpcPeeringConnectionId) != id || rt.State != types.RouteStateActive {
			t.Fatalf("route %+v", rt)
		}
	}
	rtbO := mainRtb(t, c, o)
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtbO, DestinationCidrBlock: aws.String("10.2.0.0/16"), VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "InvalidParameterValue") // not a connection of o
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtbO, DestinationCidrBlock: aws.String("10.2.0.0/16"), VpcPeeringConnectionId: aws.String("pcx-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
	rts, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("route.vpc-peering-connection-id", id)}})
	if err != nil || len(rts.RouteTables) != 2 {
		t.Fatalf("route.vpc-peering-connection-id: %v %+v", err, rts)
	}

	for _, f := range [][]types.Filter{{filter("status-code", "active")}, {filter("requester-vpc-info.vpc-id", a)}, {filter("accepter-vpc-info.cidr-block", "10.2.0.0/16")},
		{filter("accepter-vpc-info.owner-id", "123456789012")}, {filter("tag:Name", "ab")}, {filter("vpc-peering-connection-id", id)}, {filter("expiration-time", aws.ToTime(got.ExpirationTime).UTC().Format("2006-01-02T15:04:05.000Z"))}} {
		out, err := c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{Filters: f})
		if err != nil || len(out.VpcPeeringConnections) != 1 {
			t.Errorf("filter %s: %v %+v", aws.ToString(f[0].Name), err, out)
		}
	}
	out, err := c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{Filters: []types.Filter{filter("status-code", "pending-acceptance")}})
	if err != nil || len(out.VpcPeeringConnections) != 0 {
		t.Errorf("status-code pending: %v %+v", err, out)
	}
	mod, err := c.ModifyVpcPeeringConnectionOptions(ctx, &ec2.ModifyVpcPeeringConnectionOptionsInput{VpcPeeringConnectionId: &id,
		AccepterPeeringConnectionOptions: &types.PeeringConnectionOptionsRequest{AllowDnsResolutionFromRemoteVpc: aws.Bool(true)}})
	if err != nil || !aws.ToBool(mod.AccepterPeeringConnectionOptions.AllowDnsResolutionFromRemoteVpc) || mod.RequesterPeeringConnectionOptions != nil {
		t.Fatalf("modify: %v %+v", err, mod)
	}
	if g := pcxGet(t, c, id); !aws.ToBool(g.AccepterVpcInfo.PeeringOptions.AllowDnsResolutionFromRemoteVpc) || aws.ToBool(g.RequesterVpcInfo.PeeringOptions.AllowDnsResolutionFromRemoteVpc) {
		t.Fatalf("options: %+v %+v", g.AccepterVpcInfo.PeeringOptions, g.RequesterVpcInfo.PeeringOptions)
	}
	_, err = c.ModifyVpcPeeringConnectionOptions(ctx, &ec2.ModifyVpcPeeringConnectionOptionsInput{VpcPeeringConnectionId: &id,
		RequesterPeeringConnectionOptions: &types.PeeringConnectionOptionsRequest{AllowEgressFromLocalClassicLinkToRemoteVpc: aws.Bool(true)}})
	apitest.WantCode(t, err, "UnsupportedOperation")
	// Terraform's provider (4.x) sends the ClassicLink options as false along with the DNS one.
	if _, err := c.ModifyVpcPeeringConnectionOptions(ctx, &ec2.ModifyVpcPeeringConnectionOptionsInput{VpcPeeringConnectionId: &id,
		RequesterPeeringConnectionOptions: &types.PeeringConnectionOptionsRequest{AllowDnsResolutionFromRemoteVpc: aws.Bool(false),
			AllowEgressFromLocalClassicLinkToRemoteVpc: aws.Bool(false), AllowEgressFromLocalVpcToRemoteClassicLink: aws.Bool(false)}}); err != nil {
		t.Fatalf("ClassicLink options false: %v", err)
	}

	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &b})
	apitest.WantCode(t, err, "DependencyViolation")
	if _, err := c.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &id}); err != nil {
		t.Fatal(err)
	}
	if g := pcxGet(t, c, id); g.Status.Code != types.VpcPeeringConnectionStateReasonCodeDeleted || aws.ToString(g.Status.Message) != "Deleted by 123456789012" {
		t.Fatalf("deleted: %+v", g.Status)
	}
	if rt := routeTo(t, c, rtbA, "10.2.0.0/16"); rt.State != types.RouteStateBlackhole {
		t.Fatalf("route after delete: %+v", rt)
	}
	_, err = c.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "InvalidStateTransition")
	_, err = c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: &rtbA, DestinationCidrBlock: aws.String("10.2.0.0/16"), VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "InvalidParameterValue") // deleted
	if _, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &rtbB, DestinationCidrBlock: aws.String("10.1.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &b}); err != nil {
		t.Fatalf("DeleteVpc after the peering is deleted: %v", err)
	}

	// Mistakes.
	for _, m := range []struct {
		in   ec2.CreateVpcPeeringConnectionInput
		code string
	}{
		{ec2.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: &a}, "InvalidParameterValue"},
		{ec2.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: aws.String("vpc-0123456789abcdef0")}, "InvalidVpcID.NotFound"},
		{ec2.CreateVpcPeeringConnectionInput{VpcId: aws.String("vpc-0123456789abcdef0"), PeerVpcId: &a}, "InvalidVpcID.NotFound"},
		{ec2.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: aws.String("nope")}, "InvalidVpcID.Malformed"},
		{ec2.CreateVpcPeeringConnectionInput{VpcId: &a}, "MissingParameter"},
		{ec2.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: &o, PeerOwnerId: aws.String("x")}, "InvalidParameterValue"},
	} {
		_, err := c.CreateVpcPeeringConnection(ctx, &m.in)
		apitest.WantCode(t, err, m.code)
	}
	for _, bad := range []string{"pcx-0123456789abcdef0", "nope"} {
		_, err := c.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &bad})
		code := "InvalidVpcPeeringConnectionID.NotFound"
		if bad == "nope" {
			code = "InvalidVpcPeeringConnectionId.Malformed"
		}
		apitest.WantCode(t, err, code)
	}
	// Overlapping blocks: the request fails at once, with AWS's message.
	ov, err := c.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: &o})
	if err != nil {
		t.Fatal(err)
	}
	ovID := aws.ToString(ov.VpcPeeringConnection.VpcPeeringConnectionId)
	if g := pcxGet(t, c, ovID); g.Status.Code != types.VpcPeeringConnectionStateReasonCodeFailed ||
		aws.ToString(g.Status.Message) != "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range" {
		t.Fatalf("overlap: %+v", g.Status)
	}
	_, err = c.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &ovID})
	apitest.WantCode(t, err, "InvalidStateTransition")
	_, err = c.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &ovID})
	apitest.WantCode(t, err, "InvalidStateTransition")
	if !strings.Contains(err.Error(), "attempted to transition from failed to deleting") { // Terraform's provider matches "to deleting"
		t.Fatalf("message: %v", err)
	}
}

// Pagination, rejection, withdrawal, and what time does: a request expires
// after 7 days, and ended connections disappear from Describe as on AWS.
func TestVpcPeeringPagesRejectExpire(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := apitest.New(t, apitest.Options{Now: clock})
	c := e.Client()
	hub := pcxVPC(t, c, "10.0.0.0/16")
	var ids []string
	for i := range 6 {
		v := pcxVPC(t, c, []string{"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16", "10.5.0.0/16", "10.6.0.0/16"}[i])
		cr, err := c.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &hub, PeerVpcId: &v})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(cr.VpcPeeringConnection.VpcPeeringConnectionId))
	}
	seen := map[string]bool{}
	var token *string
	for pages := 0; ; pages++ {
		out, err := c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{MaxResults: aws.Int32(5), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.VpcPeeringConnections {
			seen[aws.ToString(p.VpcPeeringConnectionId)] = true
		}
		if token = out.NextToken; token == nil {
			if pages != 1 {
				t.Fatalf("%d pages", pages+1)
			}
			break
		}
	}
	if len(seen) != 6 {
		t.Fatalf("paged %d of 6", len(seen))
	}
	if _, err := c.RejectVpcPeeringConnection(ctx, &ec2.RejectVpcPeeringConnectionInput{VpcPeeringConnectionId: &ids[0]}); err != nil {
		t.Fatal(err)
	}
	if s := pcxStatus(t, c, ids[0]); s != types.VpcPeeringConnectionStateReasonCodeRejected {
		t.Fatalf("rejected: %s", s)
	}
	if _, err := c.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &ids[1]}); err != nil {
		t.Fatalf("withdraw a pending request: %v", err)
	}
	if _, err := c.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &ids[2]}); err != nil {
		t.Fatal(err)
	}
	advance(7*24*time.Hour + time.Minute)
	if s := pcxStatus(t, c, ids[3]); s != types.VpcPeeringConnectionStateReasonCodeExpired {
		t.Fatalf("after 7 days: %s", s)
	}
	_, err := c.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &ids[3]})
	apitest.WantCode(t, err, "InvalidStateTransition")
	if s := pcxStatus(t, c, ids[2]); s != types.VpcPeeringConnectionStateReasonCodeActive {
		t.Fatalf("active after 7 days: %s", s)
	}
	// Rejected and deleted more than 2 days ago: gone.
	for _, id := range ids[:2] {
		_, err := c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{id}})
		apitest.WantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
	}
	advance(3 * 24 * time.Hour)
	out, err := c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{})
	if err != nil || len(out.VpcPeeringConnections) != 1 || aws.ToString(out.VpcPeeringConnections[0].VpcPeeringConnectionId) != ids[2] {
		t.Fatalf("after expiry and 2 days: %v %+v", err, out)
	}
}

// Two accounts under SigV4: alice requests a connection to bob's VPC; bob
// sees it pending and alone may accept or reject it; alice may not; each
// routes over it; either may delete it. A request naming the wrong owner
// fails as AWS's does.
func TestVpcPeeringCrossAccount(t *testing.T) {
	keys, err := sigv4.Parse(strings.NewReader(authCreds))
	if err != nil {
		t.Fatal(err)
	}
	e := apitest.New(t, apitest.Options{Authenticate: (&sigv4.Verifier{Keys: keys, Now: time.Now}).Verify, Durable: true})
	alice := apitest.NewClient(e.Server.URL, "us-east-1", "AKIAALICE0000000001", "alice-secret/x+y")
	bob := apitest.NewClient(e.Server.URL, "us-east-1", "AKIABOB000000000002", "bob-secret")
	va, vb := pcxVPC(t, alice, "10.10.0.0/16"), pcxVPC(t, bob, "10.20.0.0/16")

	// Without PeerOwnerId the peer VPC is looked for in alice's account.
	_, err = alice.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &va, PeerVpcId: &vb})
	apitest.WantCode(t, err, "InvalidVpcID.NotFound")
	wrong, err := alice.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &va, PeerVpcId: &vb, PeerOwnerId: aws.String("333333333333")})
	if err != nil {
		t.Fatal(err)
	}
	if s := pcxStatus(t, alice, aws.ToString(wrong.VpcPeeringConnection.VpcPeeringConnectionId)); s != types.VpcPeeringConnectionStateReasonCodeFailed {
		t.Fatalf("wrong owner: %s", s)
	}
	cr, err := alice.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &va, PeerVpcId: &vb, PeerOwnerId: aws.String("222222222222")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(cr.VpcPeeringConnection.VpcPeeringConnectionId)
	g := pcxGet(t, bob, id)
	if g.Status.Code != types.VpcPeeringConnectionStateReasonCodePendingAcceptance || aws.ToString(g.RequesterVpcInfo.OwnerId) != "111111111111" ||
		aws.ToString(g.AccepterVpcInfo.OwnerId) != "222222222222" {
		t.Fatalf("bob sees %+v", g)
	}
	_, err = alice.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "OperationNotPermitted")
	_, err = bob.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "OperationNotPermitted")
	if _, err := bob.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &id}); err != nil {
		t.Fatal(err)
	}
	// Each side sets its own options only.
	_, err = alice.ModifyVpcPeeringConnectionOptions(ctx, &ec2.ModifyVpcPeeringConnectionOptionsInput{VpcPeeringConnectionId: &id,
		AccepterPeeringConnectionOptions: &types.PeeringConnectionOptionsRequest{AllowDnsResolutionFromRemoteVpc: aws.Bool(true)}})
	apitest.WantCode(t, err, "OperationNotPermitted")
	for _, s := range []struct {
		c           *ec2.Client
		vpc, remote string
	}{{alice, va, "10.20.0.0/16"}, {bob, vb, "10.10.0.0/16"}} {
		rtb := mainRtb(t, s.c, s.vpc)
		if _, err := s.c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: &s.remote, VpcPeeringConnectionId: &id}); err != nil {
			t.Fatal(err)
		}
	}
	// It survives a restart.
	path := e.Path
	e.Close()
	e2 := apitest.New(t, apitest.Options{Authenticate: (&sigv4.Verifier{Keys: keys, Now: time.Now}).Verify, Path: path})
	bob = apitest.NewClient(e2.Server.URL, "us-east-1", "AKIABOB000000000002", "bob-secret")
	alice = apitest.NewClient(e2.Server.URL, "us-east-1", "AKIAALICE0000000001", "alice-secret/x+y")
	if s := pcxStatus(t, alice, id); s != types.VpcPeeringConnectionStateReasonCodeActive {
		t.Fatalf("after restart: %s", s)
	}
	if rt := routeTo(t, bob, mainRtb(t, bob, vb), "10.10.0.0/16"); rt.State != types.RouteStateActive || aws.ToString(rt.VpcPeeringConnectionId) != id {
		t.Fatalf("bob's route after restart: %+v", rt)
	}
	if _, err := bob.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &id}); err != nil {
		t.Fatal(err)
	}
	if g := pcxGet(t, alice, id); aws.ToString(g.Status.Message) != "Deleted by 222222222222" {
		t.Fatalf("alice sees %+v", g.Status)
	}
	if rt := routeTo(t, alice, mainRtb(t, alice, va), "10.20.0.0/16"); rt.State != types.RouteStateBlackhole {
		t.Fatalf("alice's route: %+v", rt)
	}
}

// A security group may reference a group of a VPC peered by an active
// connection, and no other VPC's.
func TestVpcPeeringSecurityGroupReference(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	a, b := pcxVPC(t, c, "10.1.0.0/16"), pcxVPC(t, c, "10.2.0.0/16")
	group := func(vpc, name string) string {
		g, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &vpc, GroupName: aws.String(name), Description: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(g.GroupId)
	}
	ga, gb := group(a, "a"), group(b, "b")
	ref := func() error {
		_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &gb,
			IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(81), ToPort: aws.Int32(81),
				UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: &ga}}}}})
		return err
	}
	apitest.WantCode(t, ref(), "InvalidGroup.NotFound")
	cr, err := c.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: &b})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.VpcPeeringConnection.VpcPeeringConnectionId
	apitest.WantCode(t, ref(), "InvalidGroup.NotFound") // pending is not enough
	if _, err := c.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: id}); err != nil {
		t.Fatal(err)
	}
	if err := ref(); err != nil {
		t.Fatalf("reference to a peered VPC's group: %v", err)
	}
	pair := func() types.UserIdGroupPair {
		t.Helper()
		out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{gb}})
		if err != nil || len(out.SecurityGroups[0].IpPermissions) != 1 || len(out.SecurityGroups[0].IpPermissions[0].UserIdGroupPairs) != 1 {
			t.Fatalf("described: %v %+v", err, out)
		}
		return out.SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[0]
	}
	if pr := pair(); aws.ToString(pr.GroupId) != ga || aws.ToString(pr.VpcId) != a || aws.ToString(pr.VpcPeeringConnectionId) != aws.ToString(id) || aws.ToString(pr.PeeringStatus) != "active" {
		t.Fatalf("pair %+v", pr)
	}
	refs, err := c.DescribeSecurityGroupReferences(ctx, &ec2.DescribeSecurityGroupReferencesInput{GroupId: []string{ga}})
	if err != nil || len(refs.SecurityGroupReferenceSet) != 1 || aws.ToString(refs.SecurityGroupReferenceSet[0].ReferencingVpcId) != b ||
		aws.ToString(refs.SecurityGroupReferenceSet[0].VpcPeeringConnectionId) != aws.ToString(id) {
		t.Fatalf("references: %v %+v", err, refs)
	}
	stale, err := c.DescribeStaleSecurityGroups(ctx, &ec2.DescribeStaleSecurityGroupsInput{VpcId: &b})
	if err != nil || len(stale.StaleSecurityGroupSet) != 0 {
		t.Fatalf("stale while active: %v %+v", err, stale)
	}
	// A new reference to the group of a VPC no longer peered is refused; an
	// existing one is stale and may still be revoked by its groups.
	refB := func(port int32, revoke bool) error {
		perm := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: &ga}}}}
		if revoke {
			_, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &gb, IpPermissions: perm})
			return err
		}
		_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &gb, IpPermissions: perm})
		return err
	}
	if err := refB(82, false); err != nil {
		t.Fatal(err)
	}
	// The connection deleted: the rules are stale, the reference gone.
	if _, err := c.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: id}); err != nil {
		t.Fatal(err)
	}
	if err := refB(82, true); err != nil {
		t.Fatalf("revoke a stale reference: %v", err)
	}
	apitest.WantCode(t, refB(83, false), "InvalidGroup.NotFound")
	if pr := pair(); aws.ToString(pr.PeeringStatus) != "deleted" {
		t.Fatalf("pair after delete %+v", pr)
	}
	stale, err = c.DescribeStaleSecurityGroups(ctx, &ec2.DescribeStaleSecurityGroupsInput{VpcId: &b})
	if err != nil || len(stale.StaleSecurityGroupSet) != 1 || aws.ToString(stale.StaleSecurityGroupSet[0].GroupId) != gb ||
		len(stale.StaleSecurityGroupSet[0].StaleIpPermissions) != 1 || aws.ToInt32(stale.StaleSecurityGroupSet[0].StaleIpPermissions[0].FromPort) != 81 ||
		aws.ToString(stale.StaleSecurityGroupSet[0].StaleIpPermissions[0].UserIdGroupPairs[0].GroupId) != ga {
		t.Fatalf("stale: %v %+v", err, stale)
	}
	refs, err = c.DescribeSecurityGroupReferences(ctx, &ec2.DescribeSecurityGroupReferencesInput{GroupId: []string{ga}})
	if err != nil || len(refs.SecurityGroupReferenceSet) != 0 {
		t.Fatalf("references after delete: %v %+v", err, refs)
	}
	// The peer's group may be deleted (its reference stays stale); a group
	// of the same VPC referenced may not.
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: &ga}); err != nil {
		t.Fatalf("delete the referenced peer group: %v", err)
	}
	if st, err := c.DescribeStaleSecurityGroups(ctx, &ec2.DescribeStaleSecurityGroupsInput{VpcId: &b}); err != nil || len(st.StaleSecurityGroupSet) != 1 {
		t.Fatalf("stale after the group is gone: %v %+v", err, st)
	}
	// A stale rule to a deleted group is revoked by its rule id.
	rules, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{filter("group-id", gb)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.SecurityGroupRules {
		if r.ReferencedGroupInfo != nil {
			if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &gb, SecurityGroupRuleIds: []string{aws.ToString(r.SecurityGroupRuleId)}}); err != nil {
				t.Fatalf("revoke the stale rule: %v", err)
			}
		}
	}
	if st, err := c.DescribeStaleSecurityGroups(ctx, &ec2.DescribeStaleSecurityGroupsInput{VpcId: &b}); err != nil || len(st.StaleSecurityGroupSet) != 0 {
		t.Fatalf("stale after revoke: %v %+v", err, st)
	}
	_, err = c.DescribeStaleSecurityGroups(ctx, &ec2.DescribeStaleSecurityGroupsInput{VpcId: aws.String("vpc-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidVpcID.NotFound")
	_, err = c.DescribeSecurityGroupReferences(ctx, &ec2.DescribeSecurityGroupReferencesInput{GroupId: []string{"sg-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidGroup.NotFound")
}

// A connection between VPCs of two regions of the server (PeerRegion),
// across accounts: one record, seen in both regions by both owners,
// accepted only in the accepter's region, routed to from both, kept across
// a restart, deleted from either region.
func TestVpcPeeringCrossRegion(t *testing.T) {
	keys, err := sigv4.Parse(strings.NewReader(authCreds))
	if err != nil {
		t.Fatal(err)
	}
	auth := (&sigv4.Verifier{Keys: keys, Now: time.Now}).Verify
	e := apitest.New(t, apitest.Options{Authenticate: auth, Durable: true})
	clients := func(url string) (aliceUS, bobEU, bobUS *ec2.Client) {
		return apitest.NewClient(url, "us-east-1", "AKIAALICE0000000001", "alice-secret/x+y"),
			apitest.NewClient(url, "eu-west-1", "AKIABOB000000000002", "bob-secret"),
			apitest.NewClient(url, "us-east-1", "AKIABOB000000000002", "bob-secret")
	}
	alice, bob, bobUS := clients(e.Server.URL)
	va, vb := pcxVPC(t, alice, "10.10.0.0/16"), pcxVPC(t, bob, "10.20.0.0/16")
	vo := pcxVPC(t, bob, "10.10.64.0/18")
	create := func(vpc string, region string) string {
		t.Helper()
		cr, err := alice.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &va, PeerVpcId: &vpc,
			PeerOwnerId: aws.String("222222222222"), PeerRegion: &region})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(cr.VpcPeeringConnection.VpcPeeringConnectionId)
	}
	if s := pcxStatus(t, alice, create(vo, "eu-west-1")); s != types.VpcPeeringConnectionStateReasonCodeFailed {
		t.Fatalf("overlapping blocks across regions: %s", s)
	}
	if s := pcxStatus(t, alice, create(vb, "us-east-1")); s != types.VpcPeeringConnectionStateReasonCodeFailed {
		t.Fatalf("the peer VPC named in the wrong region: %s", s)
	}
	_, err = alice.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &va, PeerVpcId: &vb, PeerRegion: aws.String("xx-nowhere-1")})
	apitest.WantCode(t, err, "InvalidParameterValue")

	id := create(vb, "eu-west-1")
	for _, c := range []*ec2.Client{alice, bob} {
		g := pcxGet(t, c, id)
		if g.Status.Code != types.VpcPeeringConnectionStateReasonCodePendingAcceptance ||
			aws.ToString(g.RequesterVpcInfo.Region) != "us-east-1" || aws.ToString(g.AccepterVpcInfo.Region) != "eu-west-1" {
			t.Fatalf("seen as %+v", g)
		}
	}
	// Not in a third region.
	_, err = apitest.NewClient(e.Server.URL, "ap-south-1", "AKIABOB000000000002", "bob-secret").
		DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{id}})
	apitest.WantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
	_, err = bobUS.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "OperationNotPermitted") // in the requester's region
	if _, err := bob.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &id}); err != nil {
		t.Fatal(err)
	}
	if s := pcxStatus(t, alice, id); s != types.VpcPeeringConnectionStateReasonCodeActive {
		t.Fatalf("alice sees %s", s)
	}
	for _, s := range []struct {
		c           *ec2.Client
		vpc, remote string
	}{{alice, va, "10.20.0.0/16"}, {bob, vb, "10.10.0.0/16"}} {
		rtb := mainRtb(t, s.c, s.vpc)
		if _, err := s.c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: &s.remote, VpcPeeringConnectionId: &id}); err != nil {
			t.Fatal(err)
		}
	}
	path := e.Path
	e.Close()
	e2 := apitest.New(t, apitest.Options{Authenticate: auth, Path: path})
	alice, bob, _ = clients(e2.Server.URL)
	if s := pcxStatus(t, bob, id); s != types.VpcPeeringConnectionStateReasonCodeActive {
		t.Fatalf("bob after restart: %s", s)
	}
	if _, err := bob.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &id}); err != nil {
		t.Fatal(err)
	}
	if rt := routeTo(t, alice, mainRtb(t, alice, va), "10.20.0.0/16"); rt.State != types.RouteStateBlackhole {
		t.Fatalf("alice's route after bob deleted the connection: %+v", rt)
	}
}

// The calls Terraform's AWS provider makes for aws_vpc_peering_connection
// (read from its internal/service/ec2/vpc_peering_connection.go) with
// auto_accept and accepter/requester blocks, in its order, with what it
// polls for: the request's status among pending-acceptance and active, the
// accept's active, the options read back equal to what it sent (the
// ClassicLink ones as false), and on destroy deleted; a second destroy's
// error is one the provider treats as done.
func TestTerraformPeeringCalls(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	a, b := pcxVPC(t, c, "10.60.0.0/16"), pcxVPC(t, c, "10.61.0.0/16")
	cr, err := c.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: &b,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpcPeeringConnection, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("tf")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(cr.VpcPeeringConnection.VpcPeeringConnectionId)
	if s := pcxStatus(t, c, id); s != types.VpcPeeringConnectionStateReasonCodePendingAcceptance && s != types.VpcPeeringConnectionStateReasonCodeActive {
		t.Fatalf("WaitVPCPeeringConnectionActive would see %s", s)
	}
	if _, err := c.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &id}); err != nil {
		t.Fatal(err)
	}
	if s := pcxStatus(t, c, id); s != types.VpcPeeringConnectionStateReasonCodeActive {
		t.Fatalf("after accept: %s", s)
	}
	opts := &types.PeeringConnectionOptionsRequest{AllowDnsResolutionFromRemoteVpc: aws.Bool(true),
		AllowEgressFromLocalClassicLinkToRemoteVpc: aws.Bool(false), AllowEgressFromLocalVpcToRemoteClassicLink: aws.Bool(false)}
	if _, err := c.ModifyVpcPeeringConnectionOptions(ctx, &ec2.ModifyVpcPeeringConnectionOptionsInput{VpcPeeringConnectionId: &id,
		AccepterPeeringConnectionOptions: opts, RequesterPeeringConnectionOptions: opts}); err != nil {
		t.Fatal(err)
	}
	g := pcxGet(t, c, id)
	for side, o := range map[string]*types.VpcPeeringConnectionOptionsDescription{"accepter": g.AccepterVpcInfo.PeeringOptions, "requester": g.RequesterVpcInfo.PeeringOptions} {
		if o == nil || !aws.ToBool(o.AllowDnsResolutionFromRemoteVpc) || o.AllowEgressFromLocalClassicLinkToRemoteVpc == nil || aws.ToBool(o.AllowEgressFromLocalClassicLinkToRemoteVpc) ||
			o.AllowEgressFromLocalVpcToRemoteClassicLink == nil || aws.ToBool(o.AllowEgressFromLocalVpcToRemoteClassicLink) {
			t.Fatalf("%s options read back: %+v (vpcPeeringConnectionOptionsEqual would retry)", side, o)
		}
	}
	// Read: accept_status, peer_owner_id, peer_region, peer_vpc_id, vpc_id, tags.
	if g.Status.Code != types.VpcPeeringConnectionStateReasonCodeActive || aws.ToString(g.AccepterVpcInfo.OwnerId) != "123456789012" ||
		aws.ToString(g.AccepterVpcInfo.Region) != "us-east-1" || aws.ToString(g.AccepterVpcInfo.VpcId) != b || aws.ToString(g.RequesterVpcInfo.VpcId) != a || len(g.Tags) != 1 {
		t.Fatalf("read: %+v", g)
	}
	if _, err := c.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &id}); err != nil {
		t.Fatal(err)
	}
	if s := pcxStatus(t, c, id); s != types.VpcPeeringConnectionStateReasonCodeDeleted {
		t.Fatalf("WaitVPCPeeringConnectionDeleted would see %s", s)
	}
	_, err = c.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
	apitest.WantCode(t, err, "InvalidStateTransition")
	if !strings.Contains(err.Error(), "to deleting") {
		t.Fatalf("second destroy: %v (the provider ignores InvalidStateTransition ... to deleting)", err)
	}
}
