package core

import (
	"slices"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// The host view's memo of ENI rows: a rewritten ENI (a new address, another source/dest
// check) shows as it is now, with its new address among its group's members; a row not
// written since is not converted again; and the memo holds no more than twice the
// ENIs there are, however many came and went.
func TestHostViewMemo(t *testing.T) {
	f := newENIFix(t)
	c, sub := f.c, f.subA
	must := func(err error) { t.Helper(); eniMust(t, err) }
	var eni string
	must(mutate(t, c, func(tx *Tx) error {
		e, err := tx.CreateNetworkInterface(&ec2wire.CreateNetworkInterfaceInput{SubnetId: &sub})
		if err != nil {
			return err
		}
		eni = *e.NetworkInterface.NetworkInterfaceId
		return nil
	}))
	find := func(hv HostView) HostENI {
		t.Helper()
		for _, e := range hv.ENIs {
			if e.ID == eni {
				return e
			}
		}
		t.Fatalf("%s not in the host view", eni)
		return HostENI{}
	}
	before := find(c.HostView("us-east-1"))
	if !before.SourceDestCheck || len(before.PrivateIPs) != 1 {
		t.Fatalf("the new ENI: %+v", before)
	}
	first := c.region("us-east-1").db.hostMemo.enis
	var row *ENI
	for r := range first {
		if r.ID == eni {
			row = r
		}
	}
	was := first[row]
	find(c.HostView("us-east-1"))
	if c.region("us-east-1").db.hostMemo.enis[row] != was {
		t.Error("an ENI not written since was converted again")
	}

	must(mutate(t, c, func(tx *Tx) error {
		if _, err := tx.AssignPrivateIpAddresses(&ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: &eni, SecondaryPrivateIpAddressCount: p(int32(1))}); err != nil {
			return err
		}
		_, err := tx.ModifyNetworkInterfaceAttribute(&ec2wire.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: &eni, SourceDestCheck: &ec2wire.AttributeBooleanValue{Value: p(false)}})
		return err
	}))
	hv := c.HostView("us-east-1")
	after := find(hv)
	if after.SourceDestCheck || len(after.PrivateIPs) != 2 || after.PrivateIPs[0] != before.PrivateIPs[0] {
		t.Fatalf("after the writes: %+v (before %+v)", after, before)
	}
	// Its group's members, as a rule naming the group sees them: both addresses.
	var members []string
	must(mutate(t, c, func(tx *Tx) error {
		_, ms := tx.hostENIs(map[string]bool{}, nil, nil, nil)
		members = ms[after.Groups[0]]
		return nil
	}))
	for _, ip := range after.PrivateIPs {
		if !slices.Contains(members, ip+"/32") {
			t.Errorf("%s not among the members of %s: %v", ip, after.Groups[0], members)
		}
	}

	for range 5 { // churn: 40 ENIs come and go
		var ids []string
		must(mutate(t, c, func(tx *Tx) error {
			for range 40 {
				e, err := tx.CreateNetworkInterface(&ec2wire.CreateNetworkInterfaceInput{SubnetId: &sub})
				if err != nil {
					return err
				}
				ids = append(ids, *e.NetworkInterface.NetworkInterfaceId)
			}
			return nil
		}))
		c.HostView("us-east-1")
		must(mutate(t, c, func(tx *Tx) error {
			for _, id := range ids {
				if _, err := tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: &id}); err != nil {
					return err
				}
			}
			return nil
		}))
		c.HostView("us-east-1")
	}
	if n := len(c.region("us-east-1").db.hostMemo.enis); n > 2*1+64 {
		t.Errorf("the memo holds %d rows for 1 ENI", n)
	}
}
