package core

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// How long an ended connection stays visible, and to whom: AWS's windows,
// by status and side; a third account never sees it.
func TestPcxVisibility(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	req, acc, other := "111111111111", "222222222222", "333333333333"
	for _, c := range []struct {
		status, endedBy, who string
		after                time.Duration
		want                 bool
	}{
		{pcxActive, "", req, 400 * 24 * time.Hour, true},
		{pcxActive, "", other, 0, false},
		{pcxDeleted, req, req, 119 * time.Minute, true},
		{pcxDeleted, req, req, 121 * time.Minute, false},
		{pcxDeleted, req, acc, 47 * time.Hour, true},
		{pcxDeleted, req, acc, 49 * time.Hour, false},
		{pcxRejected, acc, acc, 3 * time.Hour, false},
		{pcxRejected, acc, req, 47 * time.Hour, true},
		{pcxFailed, "", req, 3 * time.Hour, false},
		{pcxFailed, "", req, time.Hour, true},
		{pcxPending, "", acc, pcxExpiry + 47*time.Hour, true},  // expired, shown 2 days
		{pcxPending, "", acc, pcxExpiry + 49*time.Hour, false}, // then gone
	} {
		pc := &PeeringConnection{ID: "pcx-1", Status: c.status, EndedBy: c.endedBy, CreatedAt: t0, StatusAt: t0,
			Requester: PeeringSide{Owner: req}, Accepter: PeeringSide{Owner: acc}}
		tx := &Tx{Caller: Caller{Account: c.who}, now: t0.Add(c.after)}
		if got := tx.pcxVisible(pc); got != c.want {
			t.Errorf("%s by %q, seen by %s after %v: visible %v, want %v", c.status, c.endedBy, c.who, c.after, got, c.want)
		}
	}
}

func TestPcxBlocksOverlap(t *testing.T) {
	for _, c := range []struct {
		a, b []string
		want bool
	}{
		{[]string{"10.0.0.0/16"}, []string{"10.1.0.0/16"}, false},
		{[]string{"10.0.0.0/16"}, []string{"10.0.128.0/24"}, true},
		{[]string{"10.0.0.0/16", "192.168.0.0/24"}, []string{"10.1.0.0/16", "192.168.0.128/25"}, true},
	} {
		if got := blocksOverlap(c.a, c.b); got != c.want {
			t.Errorf("%v / %v: %v", c.a, c.b, got)
		}
	}
}

// A VPC's secondary block that overlaps the peer makes the request fail; a
// third account sees neither the connection nor its tags.
func TestPcxSecondaryBlockOverlapAndThirdParty(t *testing.T) {
	c := newTestCore(t)
	var a, b, id string
	if err := mutate(t, c, func(tx *Tx) error {
		va, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p("10.0.0.0/16")})
		if err != nil {
			return err
		}
		vb, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p("10.1.0.0/16")})
		if err != nil {
			return err
		}
		a, b = *va.Vpc.VpcId, *vb.Vpc.VpcId
		if _, err := tx.AssociateVpcCidrBlock(&ec2wire.AssociateVpcCidrBlockInput{VpcId: &b, CidrBlock: p("10.0.64.0/18")}); err != nil {
			return err
		}
		out, err := tx.CreateVpcPeeringConnection(&ec2wire.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: &b})
		if err != nil {
			return err
		}
		id = *out.VpcPeeringConnection.VpcPeeringConnectionId
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := view(t, c, func(tx *Tx) error {
		if code, _ := tx.pcxStatus(tx.pcx().Get(id)); code != pcxFailed {
			t.Errorf("status %s, want failed", code)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_ = c.Read(Caller{Account: "333333333333", Region: "us-east-1"}, nil, func(tx *Tx) error {
		if _, err := tx.getPcx(id); err == nil || err.(*Error).Code != CodeInvalidPcxIDNotFound {
			t.Errorf("third account: %v", err)
		}
		return nil
	})
}

// Writers in two regions change peering connections at once (creates,
// tags, deletes), readers describe them meanwhile: every change is kept
// (none lost to another region's write), run under -race in CI.
func TestPcxTwoRegionsAtOnce(t *testing.T) {
	c := newTestCore(t)
	regions := []string{"us-east-1", "eu-west-1"}
	vpcs := map[string][2]string{}
	for i, r := range regions {
		who := Caller{Account: testCaller.Account, Region: r}
		if err := c.Write(who, false, nil, func(tx *Tx) error {
			var ids [2]string
			for j := range ids {
				v, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p(fmt.Sprintf("10.%d.0.0/16", 10*i+j))})
				if err != nil {
					return err
				}
				ids[j] = *v.Vpc.VpcId
			}
			vpcs[r] = ids
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// One connection from us-east-1 to eu-west-1, tagged from both regions at once.
	var id string
	us, eu := Caller{Account: testCaller.Account, Region: regions[0]}, Caller{Account: testCaller.Account, Region: regions[1]}
	if err := c.Write(us, false, nil, func(tx *Tx) error {
		out, err := tx.CreateVpcPeeringConnectionWith(&ec2wire.CreateVpcPeeringConnectionInput{VpcId: p(vpcs[regions[0]][0]),
			PeerVpcId: p(vpcs[regions[1]][0]), PeerRegion: p(regions[1])}, c.PeerVPC(regions[1], vpcs[regions[1]][0]))
		if err == nil {
			id = *out.VpcPeeringConnection.VpcPeeringConnectionId
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const n = 20
	for _, who := range []Caller{us, eu} {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range n {
				err := c.Write(who, false, nil, func(tx *Tx) error {
					_, err := tx.CreateTags(&ec2wire.CreateTagsInput{Resources: []string{id}, Tags: []ec2wire.Tag{{Key: p(fmt.Sprintf("%s-%d", who.Region, i)), Value: p("x")}}})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range n {
				_ = c.Read(who, nil, func(tx *Tx) error {
					_, err := tx.DescribeVpcPeeringConnections(&ec2wire.DescribeVpcPeeringConnectionsInput{})
					return err
				})
			}
		}()
	}
	wg.Wait()
	_ = c.Read(eu, nil, func(tx *Tx) error {
		if got := len(tx.pcx().Get(id).Tags); got != 2*n {
			t.Errorf("%d tags, want %d", got, 2*n)
		}
		return nil
	})
}

// AllowDnsResolutionFromRemoteVpc: once A's side of an active connection
// allows it, B's instances resolve A's public names to private addresses;
// B's option does not do it, nor a deleted connection.
func TestPcxDNSResolutionFromRemoteVpc(t *testing.T) {
	w := newDNSWorld(t)
	w.attr(t, w.vpcA, ec2wire.ModifyVpcAttributeInput{EnableDnsHostnames: on(true)})
	pub := "ec2-" + dashes(w.a1EIP) + ".compute-1.amazonaws.com"
	a1IP := *w.a1.PrivateIpAddress
	ask := func() DNSAnswer { return w.c.ResolveVPCDNS("us-east-1", w.vpcB, pub) }
	var id string
	set := func(in *ec2wire.ModifyVpcPeeringConnectionOptionsInput) {
		t.Helper()
		in.VpcPeeringConnectionId = &id
		if err := mutate(t, w.c, func(tx *Tx) error { _, err := tx.ModifyVpcPeeringConnectionOptions(in); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := mutate(t, w.c, func(tx *Tx) error {
		out, err := tx.CreateVpcPeeringConnection(&ec2wire.CreateVpcPeeringConnectionInput{VpcId: &w.vpcB, PeerVpcId: &w.vpcA})
		if err != nil {
			return err
		}
		id = *out.VpcPeeringConnection.VpcPeeringConnectionId
		_, err = tx.AcceptVpcPeeringConnection(&ec2wire.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := ask(); !sameAnswer(got, dnsA(w.a1EIP)) {
		t.Fatalf("peered, option off: %+v", got)
	}
	set(&ec2wire.ModifyVpcPeeringConnectionOptionsInput{RequesterPeeringConnectionOptions: &ec2wire.PeeringConnectionOptionsRequest{AllowDnsResolutionFromRemoteVpc: p(true)}})
	if got := ask(); !sameAnswer(got, dnsA(w.a1EIP)) {
		t.Fatalf("B's own side allowing it: %+v", got)
	}
	set(&ec2wire.ModifyVpcPeeringConnectionOptionsInput{AccepterPeeringConnectionOptions: &ec2wire.PeeringConnectionOptionsRequest{AllowDnsResolutionFromRemoteVpc: p(true)}})
	if got := ask(); !sameAnswer(got, dnsA(a1IP)) {
		t.Fatalf("A's side allowing it: %+v, want %s", got, a1IP)
	}
	if err := mutate(t, w.c, func(tx *Tx) error {
		_, err := tx.DeleteVpcPeeringConnection(&ec2wire.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &id})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := ask(); !sameAnswer(got, dnsA(w.a1EIP)) {
		t.Fatalf("deleted: %+v", got)
	}
}

// AWS's default quotas: 25 outstanding requests from a VPC, 50 active
// connections per VPC (checked at accept, for both VPCs).
func TestPcxQuotas(t *testing.T) {
	c := newTestCore(t)
	if err := mutate(t, c, func(tx *Tx) error {
		hub, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p("10.255.0.0/16")})
		if err != nil {
			return err
		}
		create := func(i int) (string, error) {
			v, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p(fmt.Sprintf("10.%d.0.0/16", i))})
			if err != nil {
				return "", err
			}
			out, err := tx.CreateVpcPeeringConnection(&ec2wire.CreateVpcPeeringConnectionInput{VpcId: hub.Vpc.VpcId, PeerVpcId: v.Vpc.VpcId})
			if err != nil {
				return "", err
			}
			return *out.VpcPeeringConnection.VpcPeeringConnectionId, nil
		}
		var ids []string
		for i := range pcxOutstandingQuota {
			id, err := create(i)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if _, err := create(100); err == nil || err.(*Error).Code != CodePcxOutstandingLimit {
			t.Errorf("request 26: %v", err)
		}
		for _, id := range ids { // accepted, they are outstanding no more
			if _, err := tx.AcceptVpcPeeringConnection(&ec2wire.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: p(id)}); err != nil {
				return err
			}
		}
		for i := pcxOutstandingQuota; i < pcxActiveQuota; i++ {
			id, err := create(i)
			if err != nil {
				return err
			}
			if _, err := tx.AcceptVpcPeeringConnection(&ec2wire.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: p(id)}); err != nil {
				return err
			}
		}
		id, err := create(200)
		if err != nil {
			return err
		}
		if _, err := tx.AcceptVpcPeeringConnection(&ec2wire.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: p(id)}); err == nil || err.(*Error).Code != CodePcxActiveLimit {
			t.Errorf("active 51: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
