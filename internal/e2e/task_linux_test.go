package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// task is a running `eni run-task` whose command is this test binary's helper.
type task struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	ID     string
	ENI    string
	IP     string
	done   chan error
}

var taskLine = regexp.MustCompile(`task (task-[0-9a-f]+), ENI (eni-[0-9a-f]+), ([0-9.]+)`)

// runTask starts `eni run-task` with the helper as its command (answering as
// name on the ports) and waits until the helper listens inside the task.
func (e *env) runTask(subnet, group, name string, ports ...int) *task {
	e.t.Helper()
	return e.runTaskVia([]string{runTaskBinary(e.t)}, subnet, group, name, ports...)
}

// runTaskVia is runTask with the command prog (eni-run-task, or eni run-task).
func (e *env) runTaskVia(prog []string, subnet, group, name string, ports ...int) *task {
	e.t.Helper()
	self, err := os.Executable()
	e.must(err)
	var ps []string
	for _, p := range ports {
		ps = append(ps, fmt.Sprint(p))
	}
	return e.runTaskCmdVia(prog, subnet, group, name, []string{helperEnv + "=" + name + ":" + strings.Join(ps, ",")}, self)
}

// runTaskCmd is runTask with another command: argv, with env added to the
// environment, must print "listening" and run until its stdin closes.
func (e *env) runTaskCmd(subnet, group, name string, env []string, argv ...string) *task {
	e.t.Helper()
	return e.runTaskCmdVia([]string{runTaskBinary(e.t)}, subnet, group, name, env, argv...)
}

// runTaskCmdVia is runTaskCmd with the command prog (eni-run-task, or eni run-task).
func (e *env) runTaskCmdVia(prog []string, subnet, group, name string, env []string, argv ...string) *task {
	e.t.Helper()
	args := append(slices.Clone(prog[1:]), "--endpoint", e.api.Server.URL, "--prefix", e.prefix, "--subnet", subnet, "--security-group", group, "--")
	cmd := exec.Command(prog[0], append(args, argv...)...)
	// Keys in the environment (the server does not check them): eni-run-task signs
	// with them itself, whatever the machine's ~/.aws holds.
	cmd.Env = append(os.Environ(), append([]string{"AWS_ACCESS_KEY_ID=AKIDE2ETASK", "AWS_SECRET_ACCESS_KEY=e2e", "AWS_SESSION_TOKEN="}, env...)...)
	tk := &task{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	var err error
	tk.stdin, err = cmd.StdinPipe()
	e.must(err)
	stdout, err := cmd.StdoutPipe()
	e.must(err)
	cmd.Stderr = tk.stderr
	e.must(cmd.Start())
	e.t.Cleanup(func() { tk.kill() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		tk.done <- cmd.Wait() // after stdout is drained
	}()
	first := func(l string) {
		if l != "listening" {
			e.t.Fatalf("run-task %s: %q, want listening; stderr: %s", name, l, tk.stderr)
		}
	}
	select {
	case l := <-lines:
		first(l)
	case err := <-tk.done:
		select {
		case l := <-lines: // it listened, then ended (sh -c 'echo listening; exit 3'): both were ready
			tk.done <- err // for wait
			first(l)
		default:
			e.t.Fatalf("run-task %s ended before its command listened: %v; stderr: %s", name, err, tk.stderr)
		}
	case <-time.After(eventually):
		e.t.Fatalf("run-task %s: the command did not start within %s; stderr: %s", name, eventually, tk.stderr)
	}
	// The line is written before the command starts, but reaches tk.stderr through
	// os/exec's copying goroutine, which may not have run yet.
	m := tk.stderr.await(taskLine, eventually)
	if m == nil {
		e.t.Fatalf("run-task %s: no task line on stderr: %s", name, tk.stderr)
	}
	tk.ID, tk.ENI, tk.IP = m[1], m[2], m[3]
	return tk
}

// wait waits for run-task to exit and returns its exit code.
func (tk *task) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-tk.done:
		tk.done <- err // for kill
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("run-task: %v", err)
		}
		return 0
	case <-time.After(eventually):
		t.Fatalf("run-task did not exit within %s; stderr: %s", eventually, tk.stderr)
		return -1
	}
}

func (tk *task) kill() {
	if tk.cmd.ProcessState == nil && tk.cmd.Process != nil {
		_ = tk.cmd.Process.Kill() // may have exited already
	}
}

// TestTasks is the data plane issue's second use case: two tasks with
// different security groups on one host, run by the real commands, eni-run-task
// and eni run-task. Each shows as a requester-managed ENI while it runs; its group
// decides who reaches it; the ENI and the namespace go away when the command
// exits, or when run-task is interrupted.
func TestTasks(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	client := e.launch(subnet) // default group: egress anywhere
	sgA := e.sg(vpc, "task-a", 8080, "10.0.0.0/16")
	sgB := e.sg(vpc, "task-b", 9090, "10.0.0.0/16") // 9090 only: proves B is up while 8080 stays shut
	e.waitRunning(client)
	clientNS := e.plane.InstanceNS(client)

	a := e.runTask(subnet, sgA, "task-a", 8080)                                              // eni-run-task
	b := e.runTaskVia([]string{eniBinary(t), "run-task"}, subnet, sgB, "task-b", 8080, 9090) // the same, in eni

	for _, tc := range []struct {
		tk    *task
		group string
	}{{a, sgA}, {b, sgB}} {
		ni, ok := e.eni(tc.tk.ENI)
		if !ok {
			t.Fatalf("task %s: ENI %s not in DescribeNetworkInterfaces", tc.tk.ID, tc.tk.ENI)
		}
		wantDesc := fmt.Sprintf("arn:aws:ecs:us-east-1:%s:attachment/%s", e.api.Core.Config().DefaultAccount, strings.TrimPrefix(tc.tk.ID, "task-"))
		if ni.InterfaceType != types.NetworkInterfaceTypeInterface || !aws.ToBool(ni.RequesterManaged) ||
			aws.ToString(ni.RequesterId) == "" || aws.ToString(ni.Description) != wantDesc ||
			aws.ToString(ni.PrivateIpAddress) != tc.tk.IP || ni.Status != types.NetworkInterfaceStatusInUse ||
			len(ni.Groups) != 1 || aws.ToString(ni.Groups[0].GroupId) != tc.group {
			t.Errorf("task %s ENI: type %q requester-managed %v requester %q description %q ip %q status %q groups %+v; want description %q",
				tc.tk.ID, ni.InterfaceType, aws.ToBool(ni.RequesterManaged), aws.ToString(ni.RequesterId),
				aws.ToString(ni.Description), aws.ToString(ni.PrivateIpAddress), ni.Status, ni.Groups, wantDesc)
		}
		if !e.hasNS(e.plane.InstanceNS(tc.tk.ID)) {
			t.Errorf("task %s has no namespace", tc.tk.ID)
		}
	}

	// Live tasks renew their leases: they outlast two of them.
	time.Sleep(2 * taskLease)
	for _, tk := range []*task{a, b} {
		if _, ok := e.eni(tk.ENI); !ok {
			t.Fatalf("task %s's ENI went while its run-task was renewing the lease; stderr: %s", tk.ID, tk.stderr)
		}
	}
	got := e.reach(clientNS, net.JoinHostPort(a.IP, "8080"), "task-a")
	if clientIP := *e.primaryENI(client).PrivateIpAddress; !strings.Contains(got, clientIP+":") {
		t.Errorf("task A saw %q, want the client %s", got, clientIP)
	}
	e.reach(clientNS, net.JoinHostPort(b.IP, "9090"), "task-b")
	e.settle()
	e.noReach(clientNS, net.JoinHostPort(b.IP, "8080")) // B's group has no 8080

	// The command exits (its stdin closes): run-task deletes the task.
	e.must(a.stdin.Close())
	if code := a.wait(t); code != 0 {
		t.Errorf("run-task A exited %d, want 0; stderr: %s", code, a.stderr)
	}
	if _, ok := e.eni(a.ENI); ok {
		t.Errorf("task A's ENI %s still exists after the command exited", a.ENI)
	}
	e.waitFor("task A's namespace removed", func() (bool, string) {
		return !e.hasNS(e.plane.InstanceNS(a.ID)), ""
	})

	// SIGINT ends the command and the task.
	e.must(b.cmd.Process.Signal(syscall.SIGINT))
	if code := b.wait(t); code != 128+int(syscall.SIGINT) {
		t.Errorf("run-task B exited %d after SIGINT, want %d; stderr: %s", code, 128+int(syscall.SIGINT), b.stderr)
	}
	if _, ok := e.eni(b.ENI); ok {
		t.Errorf("task B's ENI %s still exists after SIGINT", b.ENI)
	}
	e.waitFor("task B's namespace removed", func() (bool, string) {
		return !e.hasNS(e.plane.InstanceNS(b.ID)), ""
	})
	// SIGKILL leaves run-task no chance to delete its task: the lease runs
	// out and the server deletes the task and its ENI.
	c := e.runTask(subnet, sgA, "task-c", 8080)
	e.must(c.cmd.Process.Kill())
	c.wait(t) // returns once the helper, killed with run-task, closes run-task's stdout
	e.waitFor("the killed run-task's ENI deleted when its lease ran out", func() (bool, string) {
		_, ok := e.eni(c.ENI)
		return !ok, ""
	})
	e.waitFor("the killed run-task's namespace removed", func() (bool, string) {
		return !e.hasNS(e.plane.InstanceNS(c.ID)), ""
	})

	// run-task exits as its command did: its exit code, or 128 + the signal that
	// killed it.
	for _, tc := range []struct {
		script string
		want   int
	}{{"echo listening; exit 3", 3}, {"echo listening; kill -TERM $$", 128 + int(syscall.SIGTERM)}} {
		tk := e.runTaskCmd(subnet, sgA, "exits", nil, "/bin/sh", "-c", tc.script)
		if code := tk.wait(t); code != tc.want {
			t.Errorf("run-task of sh -c %q exited %d, want %d; stderr: %s", tc.script, code, tc.want, tk.stderr)
		}
	}
	// A task started in a task (ENI_TASK_ID already set) gives its command its own
	// variables, each once: sh's /proc/$$/environ is what run-task passed it.
	nested := e.runTaskCmd(subnet, sgA, "nested", []string{"ENI_TASK_ID=task-outer"}, "/bin/sh", "-c",
		`n=$(grep -zc ^ENI_TASK_ID= /proc/$$/environ); if [ "$n" = 1 ] && [ "$ENI_TASK_ID" != task-outer ]; then echo listening; else echo "ENI_TASK_ID $n times, $ENI_TASK_ID"; fi; cat >/dev/null`)
	e.must(nested.stdin.Close())
	nested.wait(t)
	e.settle()
	if got, want := strings.Join(e.namespaces(), " "), strings.Join(e.wantNamespaces(), " "); got != want {
		t.Errorf("namespaces %s, want %s", got, want)
	}
}

// lockedBuffer is a concurrency-safe bytes.Buffer (a subprocess's stderr).
type lockedBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{} // a write since the last await looked (made by await)
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wrote != nil {
		select {
		case l.wrote <- struct{}{}:
		default:
		}
	}
	return l.b.Write(p)
}

// await is re's submatches in what has been written, once it matches; nil when
// it has not within timeout.
func (l *lockedBuffer) await(re *regexp.Regexp, timeout time.Duration) []string {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		if l.wrote == nil {
			l.wrote = make(chan struct{}, 1)
		}
		m := re.FindStringSubmatch(l.b.String())
		l.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-l.wrote:
		case <-deadline:
			return nil
		}
	}
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
