package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/dataplane"
	"github.com/eni-net/eni/internal/netadmin"
)

// runTask is `eni run-task --subnet S [--security-group G]... -- CMD...`: the
// Fargate "awsvpc" pattern. The server creates a requester-managed ENI and a
// namespace for the task; the command runs there; the ENI is deleted when the
// command exits or run-task is interrupted (SIGINT/SIGTERM are passed on to
// the command first).
func runTask(args []string) error {
	o, cmdArgs, err := parseRunTask(args)
	if err != nil {
		return err
	}
	if err := netadmin.Check(); err != nil {
		return fmt.Errorf("run-task: %w", err) // before a task is made for nothing
	}
	tc := newTaskClient(o.region)
	base := strings.TrimRight(o.endpoint, "/") + api.TasksPath
	body, _ := json.Marshal(api.TaskRequest{Region: o.region, SubnetID: o.subnet, SecurityGroupIDs: o.groups}) // plain data
	r := &taskRun{tc: tc, lost: make(chan error, 1), sigs: make(chan os.Signal, 2)}
	if err := tc.call(http.MethodPost, base+"?region="+url.QueryEscape(o.region), body, &r.task); err != nil {
		return err
	}
	r.url = base + "/" + r.task.TaskID + "?region=" + url.QueryEscape(o.region)
	fmt.Fprintf(os.Stderr, "eni run-task: task %s, ENI %s, %s\n", r.task.TaskID, r.task.NetworkInterfaceID, r.task.PrivateIPAddress)
	// The command's resolv.conf and hosts (its VPC's resolver, its name), asked for
	// while the task's network comes up.
	etcc := make(chan etcFiles, 1)
	go func() {
		etcc <- etcOf(vpcNetWith(tc, o.endpoint, r.task.NetworkInterfaceID), tc.region, r.task.PrivateIPAddress)
	}()
	// Renew the task's lease from now on; the server deletes a task whose
	// run-task stopped renewing (this process killed, say).
	stopRenew := make(chan struct{})
	defer close(stopRenew)
	go renewTask(tc, r.url, r.task.LeaseSeconds, stopRenew, r.lost)
	// Signals from now on end the task, not run-task.
	signal.Notify(r.sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(r.sigs)
	if err := r.waitReady(o.wait); err != nil {
		return err
	}
	cmd, release, err := r.start(o.prefix, cmdArgs, <-etcc)
	if err != nil {
		r.cleanup()
		return err
	}
	defer release()
	werr, err := r.waitCommand(cmd)
	if err != nil {
		return err
	}
	r.cleanup()
	exitAsCommand(werr)
	return werr
}

// runTaskOpts are run-task's flags.
type runTaskOpts struct {
	endpoint, region, subnet, prefix string
	groups                           multiFlag
	wait                             time.Duration
}

// parseRunTask parses run-task's flags and returns them with the command.
func parseRunTask(args []string) (*runTaskOpts, []string, error) {
	o := &runTaskOpts{}
	fs := flag.NewFlagSet("run-task", flag.ContinueOnError)
	fs.StringVar(&o.endpoint, "endpoint", envOr("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"), "the eni server (on this host)")
	fs.StringVar(&o.region, "region", envOr("AWS_REGION", envOr("AWS_DEFAULT_REGION", "us-east-1")), "region (the server's --dataplane-region)")
	fs.StringVar(&o.subnet, "subnet", "", "subnet of the task's ENI (required)")
	fs.Var(&o.groups, "security-group", "security group of the task's ENI (repeat, or comma-separate; default: the VPC's default group)")
	fs.StringVar(&o.prefix, "prefix", "eni", "the server's --dataplane-prefix")
	fs.DurationVar(&o.wait, "wait", 30*time.Second, "how long to wait for the task's network")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni run-task --subnet SUBNET [--security-group SG]... -- COMMAND [ARG...]\n\n"+
			"Runs COMMAND in a fresh network namespace with its own requester-managed ENI (as ECS does\n"+
			"for tasks in awsvpc mode). The ENI shows in DescribeNetworkInterfaces while the task runs and\n"+
			"is deleted when COMMAND exits or run-task is interrupted. Needs root, on the server's host.\n"+
			"Its calls are signed (SigV4, service \"eni\") with the standard AWS credential chain\n"+
			"(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws), as eni serve --auth sigv4\n"+
			"needs; the task is that key's account's.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) > 0 && cmdArgs[0] == "--" {
		cmdArgs = cmdArgs[1:]
	}
	if o.subnet == "" || len(cmdArgs) == 0 {
		return nil, nil, &usageError{cmd: "run-task", err: errors.New("need --subnet and a command")}
	}
	return o, cmdArgs, nil
}

// taskRun is one task of run-task: its API, the lease renewal's failure and
// the signals that end it.
type taskRun struct {
	tc   *taskClient
	task api.TaskReply
	url  string
	lost chan error
	sigs chan os.Signal
}

// cleanup deletes the task; one already gone (its lease ran out) is not found:
// nothing to do.
func (r *taskRun) cleanup() {
	if err := r.tc.call(http.MethodDelete, r.url, nil, nil); err != nil && !strings.Contains(err.Error(), "InvalidTaskID.NotFound") {
		fmt.Fprintf(os.Stderr, "eni run-task: deleting %s: %v\n", r.task.TaskID, err)
	}
}

// waitReady polls until the task's network is up (deleting the task when it
// gives up or is interrupted).
func (r *taskRun) waitReady(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		var st api.TaskReply
		// The server answers as soon as the task is up, within a second (a server
		// without ?wait answers at once: polled every 5 ms then).
		if err := r.tc.call(http.MethodGet, r.url+"&wait=1", nil, &st); err != nil {
			r.cleanup()
			return err
		}
		if st.Ready {
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
}

// start starts the command in the task's namespace. The command ends with
// run-task, even one killed outright: its task (and network) goes when the
// lease runs out, and a command left without a network would be of no use.
// (The signal follows the thread that starts the command, which lives until
// release.) It sees the task's /sys and has its private DNS name as hostname
// (osview_linux.go).
func (r *taskRun) start(prefix string, args []string, etc etcFiles) (cmd *exec.Cmd, release func(), err error) {
	p, err := dataplane.New(dataplane.Options{Prefix: prefix})
	if err != nil {
		return nil, nil, err
	}
	cmd = exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "ENI_TASK_ID="+r.task.TaskID, "ENI_NETWORK_INTERFACE_ID="+r.task.NetworkInterfaceID, "ENI_PRIVATE_IP="+r.task.PrivateIPAddress)
	hostname := privateDNSName(r.task.PrivateIPAddress, r.tc.region)
	release, err = startOSView(p, p.InstanceNS(r.task.TaskID), cmd, func() (string, etcFiles) { return hostname, etc })
	if err != nil {
		return nil, nil, fmt.Errorf("run-task: start: %w", err)
	}
	return cmd, release, nil
}

// waitCommand waits for the command, passing signals on; a lost lease stops
// it (SIGTERM, SIGKILL after 10 s) and is run-task's error.
func (r *taskRun) waitCommand(cmd *exec.Cmd) (werr, err error) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case werr = <-done:
	case err := <-r.lost:
		fmt.Fprintf(os.Stderr, "eni run-task: %v; stopping the command\n", err)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		return nil, fmt.Errorf("run-task: %w", err)
	case s := <-r.sigs:
		_ = cmd.Process.Signal(s) // it may have exited meanwhile
		select {
		case werr = <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			werr = <-done
		}
	}
	return werr, nil
}

// exitAsCommand exits with the command's status when it failed: its exit code,
// or 128 + the signal that killed it, as a shell reports it.
func exitAsCommand(werr error) {
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(ee.ExitCode())
	}
}

// taskClient calls the server's task API, signed (SigV4, for the service
// api.TaskService) with the credentials of the standard AWS chain
// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the shared
// files, ...) when it finds any; a server with --auth none needs none.
type taskClient struct {
	cmd    string // the command, in messages
	region string
	creds  aws.CredentialsProvider // nil: unsigned
	signer *v4.Signer
}

// newTaskClient finds the credentials. The instance metadata service is not
// asked: a role's session credentials are never in eni serve's keys.
func newTaskClient(region string) *taskClient { return newAPIClient("run-task", region) }

// newAPIClient is newTaskClient for the eni command cmd.
func newAPIClient(cmd, region string) *taskClient {
	tc := &taskClient{cmd: cmd, region: region, signer: v4.NewSigner()}
	// Keys in the environment come first in the SDK's chain too: taken as they
	// are, without loading the SDK's configuration (milliseconds of a task's start).
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		tc.creds = credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))
		return tc
	}
	if !mayHaveCredentials() {
		return tc // the SDK's chain would find none either: unsigned
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	if err != nil {
		fmt.Fprintf(os.Stderr, "eni %s: no AWS configuration (%v); requests are not signed\n", tc.cmd, err)
		return tc
	}
	if cfg.Credentials != nil {
		if _, err := cfg.Credentials.Retrieve(ctx); err == nil {
			tc.creds = cfg.Credentials
		}
	}
	return tc
}

// mayHaveCredentials reports whether the SDK's credential chain (the instance
// metadata service left out) could find any beyond the keys newAPIClient takes from
// the environment itself: a shared config or credentials file, or a variable naming
// another source (keys under their old names, a profile, web identity, a container's
// endpoint). Without one, loading the SDK's configuration finds nothing, and costs
// milliseconds of a task's start: it parses $AWS_CA_BUNDLE whole (8 ms here).
func mayHaveCredentials() bool {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	for _, f := range append(slices.Clone(config.DefaultSharedConfigFiles), config.DefaultSharedCredentialsFiles...) {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

func (c *taskClient) call(method, u string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.creds != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return fmt.Errorf("%s: credentials: %w", c.cmd, err)
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), api.TaskService, c.region, time.Now()); err != nil {
			return fmt.Errorf("%s: signing: %w", c.cmd, err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", c.cmd, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct{ Code, Message string }
		_ = json.NewDecoder(resp.Body).Decode(&e) // best effort: the status says enough
		return fmt.Errorf("%s: %s: %s (HTTP %d)", c.cmd, e.Code, e.Message, resp.StatusCode)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// multiFlag is a repeatable, comma-separated string flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*m = append(*m, s)
		}
	}
	return nil
}

// renewTask renews the task's lease every third of it until stop closes,
// following the lease each renewal reports (the server may have been
// restarted with another --task-lease). It sends on lost when the server
// says the task is gone, or when renewals have failed for a whole lease (the
// server then deletes the task anyway). Against a server without leases
// (leaseSeconds 0) there is nothing to renew.
func renewTask(tc *taskClient, taskURL string, leaseSeconds float64, stop <-chan struct{}, lost chan<- error) {
	if leaseSeconds <= 0 {
		return
	}
	lease := time.Duration(leaseSeconds * float64(time.Second))
	t := time.NewTicker(lease / 3)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		var rep api.TaskReply
		err := tc.call(http.MethodPut, taskURL, nil, &rep)
		if err == nil {
			last = time.Now()
			if l := time.Duration(rep.LeaseSeconds * float64(time.Second)); l > 0 && l != lease {
				lease = l
				t.Reset(lease / 3)
			}
			continue
		}
		if strings.Contains(err.Error(), "InvalidTaskID.NotFound") || time.Since(last) > lease {
			lost <- fmt.Errorf("the task's lease is lost (%v)", err)
			return
		}
	}
}
