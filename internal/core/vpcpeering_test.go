package core

import (
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
		if code, _ := tx.pcxStatus(tx.pcxs.Get(id)); code != pcxFailed {
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
