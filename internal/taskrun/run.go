// Package taskrun is `eni run-task` (and the eni-run-task binary, which is only
// this): the Fargate "awsvpc" pattern. The server creates a requester-managed ENI
// and a namespace for the task; the command runs there; the ENI is deleted when
// the command exits or run-task is interrupted (SIGINT/SIGTERM are passed on to
// the command first). It links no more than that needs: not the server, not the
// SDK, not net/http (the eni binary's start alone is 40 ms of a task's, the
// package initialisations and page faults of all it links; eni-run-task's is a
// few).
package taskrun

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/eni-net/eni/internal/netadmin"
	"github.com/eni-net/eni/internal/nsname"
	"github.com/eni-net/eni/internal/taskapi"
)

// Options are run-task's flags.
type Options struct {
	Endpoint, Region, Subnet, Prefix string
	Groups                           multiFlag
	Wait                             time.Duration
}

// Flags is run-task's flag set, bound to the options it returns; prog names the
// command in its usage ("eni run-task", "eni-run-task").
func Flags(prog string) (*flag.FlagSet, *Options) {
	o := &Options{}
	fs := flag.NewFlagSet("run-task", flag.ContinueOnError)
	fs.StringVar(&o.Endpoint, "endpoint", EnvOr("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"), "the eni server (on this host)")
	fs.StringVar(&o.Region, "region", EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION", "us-east-1")), "region (the server's --dataplane-region)")
	fs.StringVar(&o.Subnet, "subnet", "", "subnet of the task's ENI (required)")
	fs.Var(&o.Groups, "security-group", "security group of the task's ENI (repeat, or comma-separate; default: the VPC's default group)")
	fs.StringVar(&o.Prefix, "prefix", "eni", "the server's --dataplane-prefix")
	fs.DurationVar(&o.Wait, "wait", 30*time.Second, "how long to wait for the task's network")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s --subnet SUBNET [--security-group SG]... -- COMMAND [ARG...]\n\n"+
			"Runs COMMAND in a fresh network namespace with its own requester-managed ENI (as ECS does\n"+
			"for tasks in awsvpc mode). The ENI shows in DescribeNetworkInterfaces while the task runs and\n"+
			"is deleted when COMMAND exits or run-task is interrupted. Needs root, on the server's host.\n"+
			"Its calls are signed (SigV4, service \"eni\") with the standard AWS credential chain\n"+
			"(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws), as eni serve --auth sigv4\n"+
			"needs; the task is that key's account's. (eni-run-task is the same command in a binary of\n"+
			"its own, which starts in a few milliseconds where eni takes tens; it takes keys from the\n"+
			"environment, and hands a task whose credentials are elsewhere to eni run-task.)\n\nFlags:\n", prog)
		fs.PrintDefaults()
	}
	return fs, o
}

// Command is the command to run, of the arguments left once the flags are parsed;
// an error is a mistake on the command line.
func (o *Options) Command(args []string) ([]string, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if o.Subnet == "" || len(args) == 0 {
		return nil, errors.New("need --subnet and a command")
	}
	if err := nsname.ValidPrefix(o.Prefix); err != nil {
		return nil, err
	}
	return args, nil
}

// Run runs argv as a task of o's, calling the server with tc, and returns when it has ended: as the command did (it exits as the command
// did when that failed, ExitAs).
func Run(o *Options, argv []string, tc *Client) error {
	sigs, notified := CatchSignals()
	defer func() {
		<-notified
		signal.Stop(caught.sigs)
	}()
	// Before a task is made for nothing. (A kernel that refuses the namespaces even
	// so fails the command's start, and the task is deleted then.)
	if err := netadmin.Capable(); err != nil {
		return fmt.Errorf("run-task: %w", err)
	}
	proc, err := NewProc(argv) // a command not found makes no task
	if err != nil {
		return fmt.Errorf("run-task: %w", err)
	}
	r := &taskRun{tc: tc, lost: make(chan error, 1), sigs: sigs}
	view := PrepareOSView() // while the server makes the task
	sent := time.Now()
	deadline := sent.Add(o.Wait)
	if err := r.create(o, notified); err != nil {
		view.Abort()
		return err
	}
	fmt.Fprintf(os.Stderr, "eni run-task: task %s, ENI %s, %s\n", r.task.TaskID, r.task.NetworkInterfaceID, r.task.PrivateIPAddress)
	// (A server that does not name the task's VPC, older than vpcCidrBlock, gets the
	// resolver's subnet-independent address, 169.254.169.253: etc.go.)
	etc := EtcOf(VPCNet{CIDR: r.task.VPCCIDR, DHCP: r.task.DHCPOptions}, r.tc.Region, r.task.PrivateIPAddress)
	// Renew the task's lease from now on; the server deletes a task whose
	// run-task stopped renewing (this process killed, say).
	stopRenew := make(chan struct{})
	defer close(stopRenew)
	go renewTask(r.tc, r.url, r.task.LeaseSeconds, sent, stopRenew, r.lost)
	if err := r.waitReady(deadline, o.Wait); err != nil {
		view.Abort()
		return err
	}
	release, err := r.start(view, o.Prefix, proc, etc)
	if err != nil {
		r.cleanup()
		return err
	}
	defer release()
	werr, err := r.waitCommand(proc)
	if err != nil {
		return err
	}
	r.cleanup()
	ExitAs(werr)
	return werr
}

// caught are the signals that end a task rather than run-task (CatchSignals).
var caught struct {
	once     sync.Once
	sigs     chan os.Signal
	notified chan struct{}
}

// CatchSignals starts catching SIGINT and SIGTERM for Run (once a process: Run is
// run once): from then on one ends the task, not run-task (one that comes while the
// create waits deletes the task it made). signal.Notify takes a millisecond here
// (the runtime starts a thread to mask signals and hands it each signal in turn),
// so it runs in the background, from as early as can be (eni-run-task calls this
// first, Run does too), and Run waits for it only once its create has been
// answered: 0.7-0.9 ms off a task's start here (medians of 200 starts each, in turn
// with builds that catch signals in Run before the create). The price: a signal
// that comes after the create is sent and before signal.Notify is done (a
// millisecond or two into run-task) ends run-task, and the task it asked for goes
// when its lease runs out, as a killed run-task's does; before, signals were
// caught before the create was sent. A process that will not Run calls
// ReleaseSignals.
func CatchSignals() (sigs <-chan os.Signal, notified <-chan struct{}) {
	caught.once.Do(func() {
		caught.sigs, caught.notified = make(chan os.Signal, 2), make(chan struct{})
		go func() {
			signal.Notify(caught.sigs, syscall.SIGINT, syscall.SIGTERM)
			close(caught.notified)
		}()
	})
	return caught.sigs, caught.notified
}

// ReleaseSignals undoes CatchSignals in a process that will not Run
// (eni-run-task handing its task to eni run-task): SIGINT and SIGTERM do what they
// would have without it, and one it caught meanwhile is sent again, to do that now.
func ReleaseSignals() {
	sigs, notified := CatchSignals()
	<-notified
	signal.Stop(caught.sigs)
	select {
	case s := <-sigs:
		if sig, ok := s.(syscall.Signal); ok {
			_ = syscall.Kill(os.Getpid(), sig)
		}
	default:
	}
}

// create makes the task and waits for it to be up, in one call (a server that
// does not wait answers at once); a signal that came meanwhile deletes it (once
// notified: signals are caught, CatchSignals).
func (r *taskRun) create(o *Options, notified <-chan struct{}) error {
	base := strings.TrimRight(o.Endpoint, "/") + taskapi.Path
	body := taskapi.Request{Region: o.Region, SubnetID: o.Subnet, SecurityGroupIDs: o.Groups}.AppendJSON(nil)
	if err := r.tc.Call("POST", base+"?region="+url.QueryEscape(o.Region)+"&wait="+waitSeconds(o.Wait), body, &r.task); err != nil {
		return err
	}
	r.url = base + "/" + r.task.TaskID + "?region=" + url.QueryEscape(o.Region)
	<-notified
	select {
	case <-r.sigs:
		r.cleanup()
		return errors.New("run-task: interrupted")
	default:
		return nil
	}
}

// waitSeconds is the wait a call asks the server for: a second at most (the
// server's own bound is 5), polled again until wait has passed.
func waitSeconds(wait time.Duration) string {
	return fmt.Sprint(min(wait, time.Second).Seconds())
}

// taskRun is one task of run-task: its API, the lease renewal's failure and
// the signals that end it.
type taskRun struct {
	tc   *Client
	task taskapi.Reply
	url  string
	lost chan error
	sigs <-chan os.Signal
}

// cleanup deletes the task; one already gone (its lease ran out) is not found:
// nothing to do.
func (r *taskRun) cleanup() {
	if err := r.tc.Call("DELETE", r.url, nil, nil); err != nil && !strings.Contains(err.Error(), "InvalidTaskID.NotFound") {
		fmt.Fprintf(os.Stderr, "eni run-task: deleting %s: %v\n", r.task.TaskID, err)
	}
}

// waitReady polls until the task's network is up, unless the create said it is
// (deleting the task when it gives up at deadline, wait after it began, or is
// interrupted).
func (r *taskRun) waitReady(deadline time.Time, wait time.Duration) error {
	for !r.task.Ready {
		var st taskapi.Reply
		// The server answers as soon as the task is up, within a second (a server
		// without ?wait answers at once: polled every 5 ms then).
		if err := r.tc.Call("GET", r.url+"&wait=1", nil, &st); err != nil {
			r.cleanup()
			return err
		}
		if r.task.Ready = st.Ready; st.Ready {
			return nil
		}
		if time.Now().After(deadline) {
			r.cleanup()
			return fmt.Errorf("run-task: the task's network was not up after %s (is the server's data plane on?)", wait)
		}
		select {
		case <-r.sigs:
			r.cleanup()
			return errors.New("run-task: interrupted")
		case err := <-r.lost:
			return fmt.Errorf("run-task: %w", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// start starts the command in the task's namespace. The command ends with
// run-task, even one killed outright: its task (and network) goes when the
// lease runs out, and a command left without a network would be of no use.
// (The signal follows the thread that starts the command, which lives until
// release.) It sees the task's /sys and has its private DNS name as hostname
// (osview_linux.go).
func (r *taskRun) start(view *OSView, prefix string, proc *Proc, etc EtcFiles) (release func(), err error) {
	proc.Env = append(environWithout("ENI_TASK_ID", "ENI_NETWORK_INTERFACE_ID", "ENI_PRIVATE_IP"),
		"ENI_TASK_ID="+r.task.TaskID, "ENI_NETWORK_INTERFACE_ID="+r.task.NetworkInterfaceID, "ENI_PRIVATE_IP="+r.task.PrivateIPAddress)
	hostname := PrivateDNSName(r.task.PrivateIPAddress, r.tc.Region)
	release, err = view.Start(nsname.Of(prefix, r.task.TaskID), proc.start, func() (string, EtcFiles) { return hostname, etc })
	if err != nil {
		return nil, fmt.Errorf("run-task: start: %w", err)
	}
	return release, nil
}

// environWithout is this process's environment without the variables names (a task
// started in a task gets its own task's, not both: os/exec would have kept only the
// last of each, and many programs read the first).
func environWithout(names ...string) []string {
	env := os.Environ()
	return slices.DeleteFunc(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, k)
	})
}

// waitCommand waits for the command, passing signals on; a lost lease stops
// it (SIGTERM, SIGKILL after 10 s) and is run-task's error. werr is the
// command's failure (an *ExitError), nil when it exited 0.
func (r *taskRun) waitCommand(proc *Proc) (werr, err error) {
	done := make(chan error, 1)
	go func() {
		ws, err := proc.Wait()
		if err == nil && ws != 0 {
			err = &ExitError{ws}
		}
		done <- err
	}()
	select {
	case werr = <-done:
	case err := <-r.lost:
		fmt.Fprintf(os.Stderr, "eni run-task: %v; stopping the command\n", err)
		_ = proc.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = proc.Signal(syscall.SIGKILL)
			<-done
		}
		return nil, fmt.Errorf("run-task: %w", err)
	case s := <-r.sigs:
		if sig, ok := s.(syscall.Signal); ok {
			_ = proc.Signal(sig) // it may have exited meanwhile
		}
		select {
		case werr = <-done:
		case <-time.After(10 * time.Second):
			_ = proc.Signal(syscall.SIGKILL)
			werr = <-done
		}
	}
	return werr, nil
}

// An ExitError is a command's exit other than with 0.
type ExitError struct{ Status syscall.WaitStatus }

func (e *ExitError) Error() string {
	if e.Status.Signaled() {
		return "signal: " + e.Status.Signal().String()
	}
	return fmt.Sprintf("exit status %d", e.Status.ExitStatus())
}

// ExitAs exits as the command that ended with werr did when it failed: its exit code,
// or 128 + the signal that killed it, as a shell reports it.
func ExitAs(werr error) {
	var ee *exec.ExitError
	var pe *ExitError
	switch {
	case errors.As(werr, &pe):
		exitAs(pe.Status)
	case errors.As(werr, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			exitAs(ws)
		}
		os.Exit(ee.ExitCode())
	}
}

// exitAs exits as a command that ended with ws: its exit code, or 128 + the signal.
func exitAs(ws syscall.WaitStatus) {
	if ws.Signaled() {
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(ws.ExitStatus())
}

// renewTask renews the task's lease every third of it, the first a third after
// start (when the create was sent: the lease runs from the create at the latest),
// until stop closes, following the lease each renewal reports (the server may
// have been restarted with another --task-lease). It sends on lost when the
// server says the task is gone, or when renewals have failed for a whole lease
// (the server then deletes the task anyway). Against a server without leases
// (leaseSeconds 0) there is nothing to renew.
func renewTask(tc *Client, taskURL string, leaseSeconds float64, start time.Time, stop <-chan struct{}, lost chan<- error) {
	if leaseSeconds <= 0 {
		return
	}
	lease := time.Duration(leaseSeconds * float64(time.Second))
	t := time.NewTimer(time.Until(start.Add(lease / 3)))
	defer t.Stop()
	last := start
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		var rep taskapi.Reply
		err := tc.Call("PUT", taskURL, nil, &rep)
		if err == nil {
			last = time.Now()
			if l := time.Duration(rep.LeaseSeconds * float64(time.Second)); l > 0 {
				lease = l
			}
		} else if strings.Contains(err.Error(), "InvalidTaskID.NotFound") || time.Since(last) > lease {
			lost <- fmt.Errorf("the task's lease is lost (%v)", err)
			return
		}
		t.Reset(lease / 3)
	}
}
