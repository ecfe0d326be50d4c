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
}

func (t *Task) key() string  { return t.ID }
func (t *Task) clone() *Task { c := *t; return &c }

// TaskSpec is what a task asks for.
type TaskSpec struct {
	SubnetID string
	Groups   []string
}

// TaskInfo describes a created task.
type TaskInfo struct {
	ID, ENIID, PrivateIP, MAC, SubnetID string
}

// CreateTask creates a task with its requester-managed ENI, attached (as
// ECS shows it) to a host the account does not own.
func (tx *Tx) CreateTask(spec TaskSpec) (*TaskInfo, error) {
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
	tx.tasks.Put(&Task{ID: id, Owner: tx.Account, ENIID: e.ID, CreatedAt: tx.now})
	return &TaskInfo{ID: id, ENIID: e.ID, PrivateIP: e.PrimaryIP(), MAC: e.MAC, SubnetID: s.ID}, nil
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
