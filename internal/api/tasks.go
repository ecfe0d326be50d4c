package api

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/eni-net/eni/internal/core"
)

// The task endpoints serve `eni run-task` (not part of EC2): a command in a
// namespace of its own with a requester-managed ENI. They answer only
// loopback clients, as the default account, since the command runs on this
// host anyway.
//
//	POST   /eni/v1/tasks        {"region","subnetId","securityGroupIds"} -> TaskReply
//	GET    /eni/v1/tasks/ID?region=R                                    -> TaskReply (ready: realised)
//	PUT    /eni/v1/tasks/ID?region=R                                    -> TaskReply (lease renewed)
//	DELETE /eni/v1/tasks/ID?region=R
//
// A task holds a lease (Options.TaskLease): run-task renews it while its
// command runs, and ReapTasks deletes a task whose run-task stopped renewing
// (killed with SIGKILL, say), with its ENI.

// TaskRequest creates a task.
type TaskRequest struct {
	Region           string   `json:"region"`
	SubnetID         string   `json:"subnetId"`
	SecurityGroupIDs []string `json:"securityGroupIds"`
}

// TaskReply describes a task.
type TaskReply struct {
	TaskID             string `json:"taskId"`
	NetworkInterfaceID string `json:"networkInterfaceId"`
	PrivateIPAddress   string `json:"privateIpAddress,omitempty"`
	MACAddress         string `json:"macAddress,omitempty"`
	Ready              bool   `json:"ready"`
	// LeaseSeconds is how long the task lives unless renewed (PUT).
	LeaseSeconds float64 `json:"leaseSeconds,omitempty"`
}

// DefaultTaskLease is a task's lease when Options.TaskLease is 0: run-task
// renews it every third of it.
const DefaultTaskLease = 30 * time.Second

func (s *Server) taskLease() time.Duration {
	if s.opt.TaskLease > 0 {
		return s.opt.TaskLease
	}
	return DefaultTaskLease
}

// ReapTasks deletes, every interval until ctx ends, the tasks whose lease
// ran out, with their ENIs.
func (s *Server) ReapTasks(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, x := range s.core.ExpiredTasks(time.Now()) {
			who := core.Caller{Account: x.Owner, Region: x.Region}
			reaped := false
			if err := s.core.Write(who, false, s.commit, func(tx *core.Tx) error {
				var err error
				reaped, err = tx.ReapTask(x.ID)
				return err
			}); err != nil {
				s.log.Error("reaping a task", "task", x.ID, "region", x.Region, "err", err)
				continue
			}
			if reaped {
				s.log.Warn("task lease ran out: task and its ENI deleted", "task", x.ID, "region", x.Region)
			}
		}
	}
}

type taskError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (s *Server) serveTasks(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
	}
	fail := func(err error) {
		var ce *core.Error
		if errors.As(err, &ce) {
			reply(httpStatus(ce.Code), taskError{ce.Code, ce.Message})
			return
		}
		s.log.Error("task", "err", err)
		reply(500, taskError{core.CodeInternalError, "An internal error has occurred"})
	}
	if s.opt.Tasks == nil {
		reply(404, taskError{"InvalidAction", "tasks need the Linux data plane (eni serve as root)"})
		return
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !net.ParseIP(host).IsLoopback() {
		reply(403, taskError{core.CodeUnauthorizedOperation, "tasks are served to loopback clients only"})
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/eni/v1/tasks")
	id = strings.TrimPrefix(id, "/")
	region := r.URL.Query().Get("region")
	switch {
	case r.Method == http.MethodPost && id == "":
		var req TaskRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
			reply(400, taskError{core.CodeInvalidParameterValue, "the body is not a task request: " + err.Error()})
			return
		}
		if req.Region == "" {
			req.Region = DefaultRegion
		}
		who := core.Caller{Account: s.core.Config().DefaultAccount, Region: req.Region}
		var info *core.TaskInfo
		err := s.core.Write(who, false, s.commit, func(tx *core.Tx) error {
			var err error
			info, err = tx.CreateTask(core.TaskSpec{SubnetID: req.SubnetID, Groups: req.SecurityGroupIDs, Lease: s.taskLease()})
			return err
		})
		if err != nil {
			fail(err)
			return
		}
		reply(200, TaskReply{TaskID: info.ID, NetworkInterfaceID: info.ENIID, PrivateIPAddress: info.PrivateIP, MACAddress: info.MAC,
			LeaseSeconds: s.taskLease().Seconds()})
	case r.Method == http.MethodGet && id != "":
		if region == "" {
			region = DefaultRegion
		}
		who := core.Caller{Account: s.core.Config().DefaultAccount, Region: region}
		var t *core.Task
		if err := s.core.Read(who, s.commit, func(tx *core.Tx) error { t = tx.GetTask(id); return nil }); err != nil {
			fail(err)
			return
		}
		if t == nil {
			reply(404, taskError{"InvalidTaskID.NotFound", "The task '" + id + "' does not exist"})
			return
		}
		reply(200, TaskReply{TaskID: t.ID, NetworkInterfaceID: t.ENIID, Ready: s.opt.Tasks(t.ID)})
	case r.Method == http.MethodPut && id != "":
		if region == "" {
			region = DefaultRegion
		}
		who := core.Caller{Account: s.core.Config().DefaultAccount, Region: region}
		found := false
		if err := s.core.Write(who, false, s.commit, func(tx *core.Tx) error { found = tx.RenewTask(id, s.taskLease()); return nil }); err != nil {
			fail(err)
			return
		}
		if !found {
			reply(404, taskError{"InvalidTaskID.NotFound", "The task '" + id + "' does not exist"})
			return
		}
		reply(200, TaskReply{TaskID: id, LeaseSeconds: s.taskLease().Seconds()})
	case r.Method == http.MethodDelete && id != "":
		if region == "" {
			region = DefaultRegion
		}
		who := core.Caller{Account: s.core.Config().DefaultAccount, Region: region}
		if err := s.core.Write(who, false, s.commit, func(tx *core.Tx) error { return tx.DeleteTask(id) }); err != nil {
			fail(err)
			return
		}
		reply(200, TaskReply{TaskID: id})
	default:
		reply(405, taskError{core.CodeInvalidAction, "unsupported task request"})
	}
}
