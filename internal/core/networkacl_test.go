package core

import (
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// A store written before network ACLs existed has VPCs without a default
// ACL: the first request of the account gives each its default ACL, with
// the IPv6 pair where the VPC has an IPv6 block, once.
func TestUpgradeGivesVPCsTheirDefaultACL(t *testing.T) {
	c := newTestCore(t)
	if err := mutate(t, c, func(tx *Tx) error {
		_, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p("10.9.0.0/16"), AmazonProvidedIpv6CidrBlock: p(true)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	d := c.region(testCaller.Region).db
	for id := range d.acls.rows { // what an older release stored
		d.acls.setRow(id, nil)
	}
	delete(d.meta.rows["meta"].Defaults, testCaller.Account)
	if errs := c.Check(); len(errs) != 2 {
		t.Fatalf("invariants before the upgrade: %v", errs)
	}
	var out *ec2wire.DescribeNetworkAclsOutput
	if err := view(t, c, func(tx *Tx) error {
		var err error
		out, err = tx.DescribeNetworkAcls(&ec2wire.DescribeNetworkAclsInput{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	entries := map[int]int{}
	for _, a := range out.NetworkAcls {
		if !*a.IsDefault {
			t.Errorf("ACL %s is not default", *a.NetworkAclId)
		}
		entries[len(a.Entries)]++
	}
	if len(out.NetworkAcls) != 2 || entries[4] != 1 || entries[8] != 1 {
		t.Errorf("after the upgrade: %d ACLs, entry counts %v", len(out.NetworkAcls), entries)
	}
	if errs := c.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	n := len(d.acls.rows)
	if err := view(t, c, func(tx *Tx) error { return nil }); err != nil || len(d.acls.rows) != n {
		t.Errorf("a second request changed the ACLs: %d -> %d (%v)", n, len(d.acls.rows), err)
	}
}
