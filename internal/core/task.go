package core

import (
	"fmt"
	"time"
)

// Tasks are what `eni run-task` runs: a command in a namespace of its own
// with a requester-managed ENI, as ECS does for tasks in awsvpc mode. The ENI
// is visible to its owner through DescribeNetworkInterfaces (interface type
// "interface", requester-managed, the ECS attachment ARN as description) and
// cannot be modified, detached or deleted by them; it goes away with the task.

// ecsRequesterID is the requester id AWS shows on ENIs ECS creates.
const ecsRequesterID = "578734482556"

// Task is a running `eni run-task`.
type Task struct {
	ID        string    `json:"id"` // task-<17 hex>
	Owner     string    `json:"owner"`
	ENIID     string    `json:"eniId"`
	CreatedAt time.Time `json:"createdAt"`
	// LeaseUntil is when the task ends unless its run-task renews it first
	// (zero: never; tasks stored before leases).
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
}

func (t *Task) key() string  { return t.ID }
func (t *Task) clone() *Task { c := *t; return &c }

// TaskSpec is what a task asks for.
type TaskSpec struct {
	SubnetID string
	Groups   []string
	Lease    time.Duration // 0: the task lives until it is deleted
}

// TaskInfo describes a created task.
type TaskInfo struct {
	ID, ENIID, PrivateIP, MAC, SubnetID string
	// VPCCIDR is the primary block of the task's VPC, and DHCP its DHCP options
	// (nil: none, "default"): what the task's resolv.conf is made of, given with
	// the task so that run-task need not ask for them.
	VPCCIDR string
	DHCP    []DhcpConfig
}

// CreateTask creates a task with its requester-managed ENI, attached (as
// ECS shows it) to a host the account does not own.
func (tx *Tx) CreateTask(spec TaskSpec) (*TaskInfo, error) {
	if err := tx.checkDataPlaneRegion(); err != nil {
		return nil, err
	}
	s, err := tx.getSubnet(spec.SubnetID)
	if err != nil {
		return nil, err
	}
	id := tx.newID("task")
	e, err := tx.createENI(eniSpec{
		Subnet: s, Groups: spec.Groups, IPv6Count: -1,
		Description:      fmt.Sprintf("arn:aws:ecs:%s:%s:attachment/%s", tx.Region, tx.Account, id[len("task-"):]),
		RequesterManaged: true, RequesterID: ecsRequesterID,
	})
	if err != nil {
		return nil, err
	}
	m := tx.enis.Mut(e.ID)
	m.Attachment = &Attachment{ID: tx.newID("ela-attach"), InstanceOwner: "amazon-aws", DeviceIndex: 1, Status: "attached", AttachTime: tx.now}
	t := &Task{ID: id, Owner: tx.Account, ENIID: e.ID, CreatedAt: tx.now}
	if spec.Lease > 0 {
		t.LeaseUntil = tx.now.Add(spec.Lease)
	}
	tx.tasks.Put(t)
	info := &TaskInfo{ID: id, ENIID: e.ID, PrivateIP: e.PrimaryIP(), MAC: e.MAC, SubnetID: s.ID}
	info.VPCCIDR, info.DHCP = tx.vpcNetOf(s.VpcID)
	return info, nil
}

// vpcNetOf is a VPC's primary block and DHCP options (nil when it has none).
func (tx *Tx) vpcNetOf(vpcID string) (string, []DhcpConfig) {
	v := tx.vpcs.Get(vpcID)
	if v == nil {
		return "", nil
	}
	if v.DhcpOptionsID == NoDhcpOptions {
		return v.CidrBlock, nil
	}
	d := tx.dhcp.Get(v.DhcpOptionsID)
	if d == nil {
		return v.CidrBlock, nil
	}
	return v.CidrBlock, d.clone().Configs
}

// DeleteTask removes a task and its ENI. Deleting a task that is gone succeeds.
func (tx *Tx) DeleteTask(id string) error {
	t := tx.tasks.Get(id)
	if t == nil || t.Owner != tx.Account {
		return nil
	}
	if tx.enis.Get(t.ENIID) != nil {
		tx.deleteENI(t.ENIID)
	}
	tx.tasks.Delete(id)
	return nil
}

// GetTask returns a task of the caller, or nil.
func (tx *Tx) GetTask(id string) *Task {
	t := tx.tasks.Get(id)
	if t == nil || t.Owner != tx.Account {
		return nil
	}
	return t
}

// RenewTask extends a task's lease to now+lease; it reports false when the
// task is gone (deleted, or reaped when its lease ran out).
func (tx *Tx) RenewTask(id string, lease time.Duration) bool {
	t := tx.tasks.Get(id)
	if t == nil || t.Owner != tx.Account {
		return false
	}
	if lease > 0 {
		tx.tasks.Mut(id).LeaseUntil = tx.now.Add(lease)
	}
	return true
}

// ExpiredTask names a task whose lease ran out.
type ExpiredTask struct {
	Region, Owner, ID string
}

// ExpiredTasks lists the tasks of every region whose lease ended before
// now: their run-task is gone (killed, or its host rebooted), and nothing
// else would ever delete them.
func (c *Core) ExpiredTasks(now time.Time) []ExpiredTask {
	c.mu.Lock()
	regions := make([]*region, 0, len(c.regions))
	for _, r := range c.regions {
		regions = append(regions, r)
	}
	c.mu.Unlock()
	var out []ExpiredTask
	for _, r := range regions {
		r.mu.RLock()
		for _, t := range r.db.tasks.rows {
			if !t.LeaseUntil.IsZero() && t.LeaseUntil.Before(now) {
				out = append(out, ExpiredTask{Region: r.name, Owner: t.Owner, ID: t.ID})
			}
		}
		r.mu.RUnlock()
	}
	return out
}

// ReapTask deletes a task whose lease has run out (checked again inside the
// transaction: a renewal may have come in since ExpiredTasks) and reports
// whether it did.
func (tx *Tx) ReapTask(id string) (bool, error) {
	t := tx.tasks.Get(id)
	if t == nil || t.Owner != tx.Account || t.LeaseUntil.IsZero() || !t.LeaseUntil.Before(tx.now) {
		return false, nil
	}
	return true, tx.DeleteTask(id)
}
