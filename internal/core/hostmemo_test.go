package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
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
	members := c.region("us-east-1").db.hostMemo.view.members[after.Groups[0]]
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

// The host view patched from the last one (the rows written since made again) is the
// view made afresh, after every one of a random sequence of writes: ENIs created,
// deleted, attached, detached, given addresses and groups; instances launched, started,
// stopped and gone; tasks created and deleted; NAT gateways; a subnet made IPv6-only;
// IPv6 addresses and delegated prefixes; one to three commits between views, and now and
// then more writes than the log keeps. Every view is also checked against the one before
// it, which later views (and a caller appending to its own) must not have changed. Every view is also checked against the
// one before it, which later patches must not have changed.
func TestHostViewPatchedIsMadeAfresh(t *testing.T) {
	f := newENIFix(t)
	c := f.c
	rnd := rand.New(rand.NewPCG(1, 2))
	var enis, insts, tasks []string
	pick := func(ids []string) string { return ids[rnd.IntN(len(ids))] }
	ops := []func(tx *Tx) error{
		func(tx *Tx) error { // an ENI
			sub := []string{f.subA, f.subA, f.subB, f.sub6}[rnd.IntN(4)]
			in := &ec2wire.CreateNetworkInterfaceInput{SubnetId: &sub}
			if rnd.IntN(2) == 0 {
				in.Groups = []string{f.sg1}
			}
			e, err := tx.CreateNetworkInterface(in)
			if err == nil {
				enis = append(enis, *e.NetworkInterface.NetworkInterfaceId)
			}
			return err
		},
		func(tx *Tx) error { // an instance, pending or running
			id := tx.newID("i")
			tx.PutInstanceForTest(id, "t3.micro", "us-east-1a", f.subA, f.vpc, []string{"pending", "running", "stopped"}[rnd.IntN(3)])
			insts = append(insts, id)
			return nil
		},
		func(tx *Tx) error { // an instance's state
			if len(insts) == 0 {
				return nil
			}
			id := pick(insts)
			if rnd.IntN(5) == 0 {
				tx.instances.Delete(id)
				return nil
			}
			if i := tx.instances.Mut(id); i != nil {
				i.State = []string{"pending", "running", "stopping", "stopped", "terminated"}[rnd.IntN(5)]
			}
			return nil
		},
		func(tx *Tx) error { // attach
			if len(enis) == 0 || len(insts) == 0 {
				return nil
			}
			_, err := tx.AttachNetworkInterface(&ec2wire.AttachNetworkInterfaceInput{NetworkInterfaceId: p(pick(enis)), InstanceId: p(pick(insts)), DeviceIndex: p(int32(1 + rnd.IntN(3)))})
			return err
		},
		func(tx *Tx) error { // detach
			if len(enis) == 0 {
				return nil
			}
			if e := tx.enis.Get(pick(enis)); e != nil && e.Attachment != nil && e.Attachment.ID != "" {
				_, err := tx.DetachNetworkInterface(&ec2wire.DetachNetworkInterfaceInput{AttachmentId: p(e.Attachment.ID), Force: p(true)})
				return err
			}
			return nil
		},
		func(tx *Tx) error { // an address more
			if len(enis) == 0 {
				return nil
			}
			_, err := tx.AssignPrivateIpAddresses(&ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(pick(enis)), SecondaryPrivateIpAddressCount: p(int32(1))})
			return err
		},
		func(tx *Tx) error { // an IPv6 address more (where the subnet has a block)
			if len(enis) == 0 {
				return nil
			}
			_, err := tx.AssignIpv6Addresses(&ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: p(pick(enis)), Ipv6AddressCount: p(int32(1))})
			return err
		},
		func(tx *Tx) error { // a delegated /28
			if len(enis) == 0 {
				return nil
			}
			_, err := tx.AssignPrivateIpAddresses(&ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(pick(enis)), Ipv4PrefixCount: p(int32(1))})
			return err
		},
		func(tx *Tx) error { // other groups
			if len(enis) == 0 {
				return nil
			}
			_, err := tx.ModifyNetworkInterfaceAttribute(&ec2wire.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: p(pick(enis)), Groups: []string{[]string{f.sg1, f.sg2, f.defSG}[rnd.IntN(3)]}})
			return err
		},
		func(tx *Tx) error { // delete an ENI
			if len(enis) == 0 {
				return nil
			}
			id := pick(enis)
			_, err := tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: &id})
			return err
		},
		func(tx *Tx) error { // a task
			ti, err := tx.CreateTask(TaskSpec{SubnetID: f.subB})
			if err == nil {
				tasks = append(tasks, ti.ID)
			}
			return err
		},
		func(tx *Tx) error { // a task ends
			if len(tasks) == 0 {
				return nil
			}
			return tx.DeleteTask(pick(tasks))
		},
		func(tx *Tx) error { // a task's row goes, its ENI stays
			if len(tasks) == 0 {
				return nil
			}
			tx.tasks.Delete(pick(tasks))
			return nil
		},
		func(tx *Tx) error { // a NAT gateway's row names an ENI, or goes
			if len(enis) == 0 {
				return nil
			}
			id := []string{"nat-1", "nat-2"}[rnd.IntN(2)]
			if rnd.IntN(3) == 0 {
				tx.nats.Delete(id)
				return nil
			}
			tx.nats.Put(&NatGateway{ID: id, Owner: tx.Account, VpcID: f.vpc, SubnetID: f.subA, ENIID: pick(enis), State: []string{"pending", "available", "failed"}[rnd.IntN(3)]})
			return nil
		},
		func(tx *Tx) error { // a subnet becomes IPv6-only, or no longer is
			s := tx.subnets.Mut(f.subB)
			s.Ipv6Native = !s.Ipv6Native
			return nil
		},
		func(tx *Tx) error { // an ENI's own public address comes or goes
			if len(enis) == 0 {
				return nil
			}
			if e := tx.enis.Mut(pick(enis)); e != nil {
				e.PublicIP = []string{"", "54.0.0.1", "54.0.0.2"}[rnd.IntN(3)]
			}
			return nil
		},
	}
	// Views kept (and their copies at the time) must never change; views given back may
	// lend their memory to later ones.
	type kept struct{ v, copy HostView }
	var held []kept
	given, reused := map[*HostENI]bool{}, 0
	giveBack := func(v HostView) {
		if len(v.ENIs) > 0 {
			given[&v.ENIs[0]] = true
		}
		c.ReturnHostView("us-east-1", v)
	}
	r := c.region("us-east-1")
	for step := range 1500 {
		if step%300 == 299 && len(insts) > 0 { // more writes than the log keeps, no view between
			r.mu.Lock()
			for n := range 2*recentWrites + 10 {
				if i := r.db.instances.rows[insts[n%len(insts)]]; i != nil {
					j := i.clone()
					r.db.instances.setRow(j.ID, j)
					r.db.idx.instance(i, j)
				}
			}
			r.mu.Unlock()
		}
		k := rnd.IntN(len(ops))
		for range 1 + rnd.IntN(3) { // one to three commits between views
			k = rnd.IntN(len(ops))
			var apiErr *Error
			if err := mutate(t, c, ops[k]); err != nil && !errors.As(err, &apiErr) {
				t.Fatalf("step %d, op %d: %v", step, k, err)
			}
		}
		got := c.HostView("us-east-1")
		var want HostView
		eniMust(t, mutate(t, c, func(tx *Tx) error { want = tx.hostView(); return nil })) // a write's: made afresh
		if d := viewDiff(got, want); d != "" {
			t.Fatalf("step %d (op %d): the patched view differs from the view made afresh: %s", step, k, d)
		}
		for i, h := range held {
			if !reflect.DeepEqual(h.v, h.copy) {
				t.Fatalf("step %d: a view kept (%d of %d) was changed by a later one", step, i, len(held))
			}
		}
		if len(got.ENIs) > 0 && given[&got.ENIs[0]] {
			reused++
			delete(given, &got.ENIs[0])
		}
		other := c.HostView("us-east-1")
		appendsAlone(t, got, other)
		giveBack(other)
		if rnd.IntN(2) == 0 {
			giveBack(got)
		} else {
			held = append(held, kept{got, deepCopyView(got)})
		}
		if len(held) > []int{3, 2 * maxLent}[step/100%2] { // now and then more than the memo counts
			i := rnd.IntN(len(held))
			giveBack(held[i].v)
			held = slices.Delete(held, i, i+1)
		}
	}
	if reused < 100 {
		t.Fatalf("%d of 1,500 views reused the memory of one given back", reused)
	}
	t.Logf("%d of 1,500 views reused the memory of one given back", reused)
	if v := c.region("us-east-1").db.hostMemo.view; v == nil || len(v.out) == 0 {
		t.Fatal("no ENIs in the memoised view at the end")
	}
}

// appendsAlone checks that what callers append to their views (a and b, of the same
// state) is their own: an append to a slice that views share copies it.
func appendsAlone(t *testing.T, a, b HostView) {
	t.Helper()
	if !ownAppend(a.ENIs, b.ENIs, HostENI{ID: "a"}, HostENI{ID: "b"}) ||
		!ownAppend(a.PublicIPs, b.PublicIPs, PublicMapping{ENIID: "a"}, PublicMapping{ENIID: "b"}) ||
		!ownAppend(a.Instances, b.Instances, HostInstance{ID: "a"}, HostInstance{ID: "b"}) {
		t.Fatal("two views' appends share an array")
	}
	for i := range min(len(a.Groups), len(b.Groups)) {
		for k := range min(len(a.Groups[i].Ingress), len(b.Groups[i].Ingress)) {
			if !ownAppend(a.Groups[i].Ingress[k].CIDRs, b.Groups[i].Ingress[k].CIDRs, "a", "b") {
				t.Fatalf("two views' appends to %s's rule share an array", a.Groups[i].ID)
			}
		}
	}
}

// ownAppend appends x to a, then y to b, and reports whether a's append still ends in x.
func ownAppend[E any](a, b []E, x, y E) bool {
	a = append(a, x)
	_ = append(b, y)
	return reflect.DeepEqual(a[len(a)-1], x)
}

// viewDiff names the first part of a that differs from b's, with both ("": none).
func viewDiff(a, b HostView) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		fa, fb := va.Field(i), vb.Field(i)
		if reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			continue
		}
		if fa.Kind() == reflect.Slice {
			for j := range min(fa.Len(), fb.Len()) {
				if !reflect.DeepEqual(fa.Index(j).Interface(), fb.Index(j).Interface()) {
					return fmt.Sprintf("%s[%d]:\n%+v\n%+v", va.Type().Field(i).Name, j, fa.Index(j).Interface(), fb.Index(j).Interface())
				}
			}
		}
		return fmt.Sprintf("%s:\n%+v\n%+v", va.Type().Field(i).Name, fa.Interface(), fb.Interface())
	}
	return ""
}

// deepCopyView copies what a view is made of (for TestHostViewPatchedIsMadeAfresh).
func deepCopyView(hv HostView) HostView {
	b, err := json.Marshal(hv)
	if err != nil {
		panic(err)
	}
	var out HostView
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
