package core

import (
	"testing"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

func TestTaskLifecycle(t *testing.T) {
	c := newTestCore(t)
	var subnet string
	if err := view(t, c, func(tx *Tx) error {
		for _, s := range tx.subnets.Sorted(nil) {
			if s.DefaultForAz {
				subnet = s.ID
				break
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var info *TaskInfo
	if err := mutate(t, c, func(tx *Tx) error {
		var err error
		info, err = tx.CreateTask(TaskSpec{SubnetID: subnet})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if errs := c.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	hv := c.HostView("us-east-1")
	found := false
	for _, e := range hv.ENIs {
		if e.ID == info.ENIID {
			found = e.InstanceID == info.ID && e.DeviceIndex == 0
		}
	}
	if !found {
		t.Fatalf("task ENI not realised as eth0 of the task: %+v", hv.ENIs)
	}
	if err := view(t, c, func(tx *Tx) error {
		e := tx.enis.Get(info.ENIID)
		out := tx.eniOut(e)
		if !*out.RequesterManaged || *out.Status != "in-use" || out.Attachment.InstanceId != nil || *out.Attachment.InstanceOwnerId != "amazon-aws" || *out.RequesterId != ecsRequesterID {
			t.Errorf("task ENI rendered as %+v / %+v", out, out.Attachment)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The owner cannot delete it; deleting the task does.
	err := mutate(t, c, func(tx *Tx) error {
		_, err := tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: &info.ENIID})
		return err
	})
	if e, ok := err.(*Error); !ok || e.Code != CodeOperationNotPermitted {
		t.Fatalf("owner deleting a task ENI: %v", err)
	}
	if err := mutate(t, c, func(tx *Tx) error { return tx.DeleteTask(info.ID) }); err != nil {
		t.Fatal(err)
	}
	if err := view(t, c, func(tx *Tx) error {
		if tx.enis.Get(info.ENIID) != nil || tx.tasks.Get(info.ID) != nil {
			t.Error("task or its ENI survived DeleteTask")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if errs := c.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// A task holds a lease: renewed, it lives on; once it runs out, ExpiredTasks
// names it and ReapTask deletes it with its ENI (and not before).
func TestTaskLease(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := New(Env{Now: func() time.Time { return now }, Rand: newTestCore(t).env.Rand}, DefaultConfig())
	var subnet string
	_ = c.Read(testCaller, nil, func(tx *Tx) error {
		for _, s := range tx.subnets.Sorted(nil) {
			if s.DefaultForAz {
				subnet = s.ID
			}
		}
		return nil
	})
	var leased, forever *TaskInfo
	if err := mutate(t, c, func(tx *Tx) error {
		var err error
		if leased, err = tx.CreateTask(TaskSpec{SubnetID: subnet, Lease: 30 * time.Second}); err != nil {
			return err
		}
		forever, err = tx.CreateTask(TaskSpec{SubnetID: subnet})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	reap := func() {
		t.Helper()
		for _, x := range c.ExpiredTasks(now) {
			if err := c.Write(Caller{Account: x.Owner, Region: x.Region}, false, nil, func(tx *Tx) error { _, err := tx.ReapTask(x.ID); return err }); err != nil {
				t.Fatal(err)
			}
		}
	}
	alive := func(id string) bool {
		var ok bool
		_ = view(t, c, func(tx *Tx) error { ok = tx.GetTask(id) != nil; return nil })
		return ok
	}
	now = now.Add(20 * time.Second)
	if len(c.ExpiredTasks(now)) != 0 {
		t.Fatal("a task expired within its lease")
	}
	renewed := false
	_ = mutate(t, c, func(tx *Tx) error { renewed = tx.RenewTask(leased.ID, 30*time.Second); return nil })
	if !renewed {
		t.Fatal("renewing a live task failed")
	}
	now = now.Add(25 * time.Second) // 45 s after creation, 25 s after the renewal
	reap()
	if !alive(leased.ID) {
		t.Fatal("a renewed task was reaped")
	}
	now = now.Add(10 * time.Second)
	reap()
	if alive(leased.ID) || !alive(forever.ID) {
		t.Fatalf("after the lease: leased alive %v (want false), unleased alive %v (want true)", alive(leased.ID), alive(forever.ID))
	}
	_ = view(t, c, func(tx *Tx) error {
		if tx.enis.Get(leased.ENIID) != nil {
			t.Error("the reaped task's ENI is still there")
		}
		return nil
	})
	_ = mutate(t, c, func(tx *Tx) error { renewed = tx.RenewTask(leased.ID, 30*time.Second); return nil })
	if renewed {
		t.Error("renewing a reaped task succeeded")
	}
	if errs := c.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
