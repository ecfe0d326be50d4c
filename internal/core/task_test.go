package core

import (
	"testing"

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
