package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/taskapi"
)

// The task endpoints serve `eni run-task` (not part of EC2): a command in a
// namespace of its own with a requester-managed ENI. They answer loopback
// clients only (the command runs on this host), and go through what every
// EC2 call goes through (identify: request id, panic recovery, metrics, the
// rate limit and, with --auth sigv4, a SigV4 signature, scoped to the
// service TaskService, whose key's account owns the task). A task belongs to
// its account and region: another account's task id is not found.
//
//	POST   /eni/v1/tasks[?region=R][&wait=S]  {"region","subnetId","securityGroupIds"} -> TaskReply
//	       (with the VPC's block and DHCP options; wait: as GET's, ready once the task is up)
//	GET    /eni/v1/tasks/ID?region=R[&wait=S]                           -> TaskReply (ready: realised; wait:
//	       up to S seconds, at most maxTaskWait, for it to be, answered as soon as it is)
//	PUT    /eni/v1/tasks/ID?region=R                                    -> TaskReply (lease renewed)
//	DELETE /eni/v1/tasks/ID?region=R
//
// The region is R (or the body's), else the credential scope's, else
// us-east-1; it must be served, and with --auth sigv4 it must be the scope's.
// Errors are {"code","message"} with the HTTP status.
//
// A task holds a lease (Options.TaskLease): run-task renews it while its
// command runs, and ReapTasks deletes a task whose run-task stopped renewing
// (killed with SIGKILL, say), with its ENI.

// TaskService is the service name task API requests are signed for.
const TaskService = taskapi.Service

// TasksPath is where the task API is served.
const TasksPath = taskapi.Path

// TaskRequest creates a task.
type TaskRequest = taskapi.Request

// TaskReply describes a task.
type TaskReply = taskapi.Reply

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

// taskErr is a task API error with its own HTTP status (writeError finds
// the code and message in the *core.Error it wraps).
type taskErr struct {
	status int
	err    *core.Error
}

func newTaskErr(status int, code, message string) *taskErr {
	return &taskErr{status, &core.Error{Code: code, Message: message}}
}

func (e *taskErr) Error() string { return e.err.Error() }
func (e *taskErr) Unwrap() error { return e.err }

func errTaskNotFound(id string) error {
	return newTaskErr(http.StatusNotFound, "InvalidTaskID.NotFound", "The task '"+truncateID(id)+"' does not exist")
}

func truncateID(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// taskStatus is the HTTP status of a task API error.
func taskStatus(err error, code string) int {
	var te *taskErr
	if errors.As(err, &te) {
		return te.status
	}
	return httpStatus(code)
}

// writeTaskError writes a task API error: {"code","message"}.
func writeTaskError(buf *bytes.Buffer, code, message string) {
	_ = json.NewEncoder(buf).Encode(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, message}) // plain strings: Encode does not fail
}

func isTaskPath(p string) bool { return p == TasksPath || strings.HasPrefix(p, TasksPath+"/") }

// taskOp names a task API call for the metrics and the log, "" if there is none.
func taskOp(method, id string) string {
	switch {
	case method == http.MethodPost && id == "":
		return "CreateTask"
	case method == http.MethodGet && id != "":
		return "DescribeTask"
	case method == http.MethodPut && id != "":
		return "RenewTask"
	case method == http.MethodDelete && id != "":
		return "DeleteTask"
	}
	return ""
}

// serveTask serves one task API call (see the top of the file) into buf.
func (s *Server) serveTask(r *http.Request, req *request, buf *bytes.Buffer) error {
	req.action = "eni:unknown"
	if s.opt.Tasks == nil {
		return newTaskErr(http.StatusNotFound, core.CodeInvalidAction, "tasks need the Linux data plane of one host (eni serve --dataplane linux, as root); a cluster (eni serve --cluster) does not run them")
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !net.ParseIP(host).IsLoopback() {
		return newTaskErr(http.StatusForbidden, core.CodeUnauthorizedOperation, "tasks are served to loopback clients only")
	}
	id := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, TasksPath), "/")
	op := taskOp(r.Method, id)
	if op == "" {
		return newTaskErr(http.StatusMethodNotAllowed, core.CodeInvalidAction, "unsupported task request")
	}
	req.action = "eni:" + op
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 64<<10))
	if err != nil {
		return newTaskErr(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the request body exceeds 64 KiB or could not be read")
	}
	var spec TaskRequest
	var specErr error
	region := r.URL.Query().Get("region")
	if op == "CreateTask" {
		if specErr = json.Unmarshal(body, &spec); specErr == nil && region == "" {
			region = spec.Region
		}
	}
	if err := s.identifyTask(r, req, body, region); err != nil {
		return err
	}
	if specErr != nil {
		return newTaskErr(http.StatusBadRequest, core.CodeInvalidParameterValue, "the body is not a task request: "+specErr.Error())
	}
	var rep *TaskReply
	switch op {
	case "CreateTask":
		rep, err = s.createTask(r.Context(), req.who, spec, taskWait(r))
	case "DescribeTask":
		rep, err = s.describeTask(r.Context(), req.who, id, taskWait(r))
	case "RenewTask":
		rep, err = s.renewTask(req.who, id)
	case "DeleteTask":
		rep, err = s.deleteTask(req.who, id)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(buf).Encode(rep)
}

// identifyTask authenticates a task call (identify) in the region it names,
// or its credential scope's: with signatures, a region named must be the
// scope's.
func (s *Server) identifyTask(r *http.Request, req *request, body []byte, region string) error {
	scoped := regionOf(r)
	named := region != ""
	if !named {
		region = scoped
	}
	if err := s.identify(r, req, body, region, TaskService); err != nil {
		return err
	}
	if named && s.opt.Authenticate != nil && region != scoped {
		return core.UnknownRegionError(scoped)
	}
	return nil
}

// createTask creates a task and, asked to wait, waits (as describeTask) for it
// to be up.
func (s *Server) createTask(ctx context.Context, who core.Caller, spec TaskRequest, wait time.Duration) (*TaskReply, error) {
	var info *core.TaskInfo
	err := s.core.Write(who, false, s.commit, func(tx *core.Tx) error {
		var err error
		info, err = tx.CreateTask(core.TaskSpec{SubnetID: spec.SubnetID, Groups: spec.SecurityGroupIDs, Lease: s.taskLease()})
		return err
	})
	if err != nil {
		return nil, err
	}
	rep := &TaskReply{TaskID: info.ID, NetworkInterfaceID: info.ENIID, PrivateIPAddress: info.PrivateIP, MACAddress: info.MAC,
		LeaseSeconds: s.taskLease().Seconds(), VPCCIDR: info.VPCCIDR}
	if info.DHCP != nil {
		rep.DHCPOptions = map[string][]string{}
		for _, c := range info.DHCP {
			rep.DHCPOptions[c.Key] = c.Values
		}
	}
	rep.Ready = s.taskReady(ctx, info.ID, wait)
	return rep, nil
}

// taskReady says whether a task is up, waiting up to wait for it to be.
func (s *Server) taskReady(ctx context.Context, id string, wait time.Duration) bool {
	ready := s.opt.Tasks(id)
	if !ready && wait > 0 && s.opt.TaskWait != nil {
		wctx, cancel := context.WithTimeout(ctx, wait)
		ready = s.opt.TaskWait(wctx, id)
		cancel()
	}
	return ready
}

func (s *Server) describeTask(ctx context.Context, who core.Caller, id string, wait time.Duration) (*TaskReply, error) {
	var t *core.Task
	var need mark
	err := s.core.Read(who, s.commit, func(tx *core.Tx) error { need = s.seen(); t = tx.GetTask(id); return nil })
	if err := s.settled(err, need); err != nil {
		return nil, err
	}
	if t == nil {
		return nil, errTaskNotFound(id)
	}
	return &TaskReply{TaskID: t.ID, NetworkInterfaceID: t.ENIID, Ready: s.taskReady(ctx, t.ID, wait)}, nil
}

// maxTaskWait bounds a DescribeTask's wait.
const maxTaskWait = 5 * time.Second

// taskWait is the wait a CreateTask or DescribeTask asks for (?wait=SECONDS, fractions allowed).
func taskWait(r *http.Request) time.Duration {
	sec, err := strconv.ParseFloat(r.URL.Query().Get("wait"), 64)
	if err != nil || !(sec > 0) {
		return 0
	}
	return min(time.Duration(sec*float64(time.Second)), maxTaskWait)
}

func (s *Server) renewTask(who core.Caller, id string) (*TaskReply, error) {
	found := false
	if err := s.core.Write(who, false, s.commit, func(tx *core.Tx) error { found = tx.RenewTask(id, s.taskLease()); return nil }); err != nil {
		return nil, err
	}
	if !found {
		return nil, errTaskNotFound(id)
	}
	return &TaskReply{TaskID: id, LeaseSeconds: s.taskLease().Seconds()}, nil
}

// deleteTask deletes a task of the caller's with its ENI; a task that is
// gone, or another account's, is not found.
func (s *Server) deleteTask(who core.Caller, id string) (*TaskReply, error) {
	err := s.core.Write(who, false, s.commit, func(tx *core.Tx) error {
		if tx.GetTask(id) == nil {
			return errTaskNotFound(id)
		}
		return tx.DeleteTask(id)
	})
	if err != nil {
		return nil, err
	}
	return &TaskReply{TaskID: id}, nil
}
