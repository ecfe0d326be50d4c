package taskrun

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/sigv4"
)

// The server restarts with a shorter --task-lease: a live run-task follows
// the lease its renewals report, and its task is not reaped.
func TestRenewFollowsTheServersLease(t *testing.T) {
	ready := func(string) bool { return true }
	env := apitest.New(t, apitest.Options{Tasks: ready, TaskLease: 6 * time.Second})
	out, err := env.Client().DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(api.TaskRequest{Region: "us-east-1", SubnetID: aws.ToString(out.Subnets[0].SubnetId)})
	var task api.TaskReply
	tc := NewClient("test", "us-east-1", nil) // unsigned: the server has no --auth
	if err := tc.Call("POST", env.Server.URL+"/eni/v1/tasks", body, &task); err != nil {
		t.Fatal(err)
	}
	if task.LeaseSeconds != 6 {
		t.Fatalf("leaseSeconds %v, want 6", task.LeaseSeconds)
	}
	// "Restart": the same state served with a 1.2 s lease, and its reaper. run-task
	// renews every 2 s (a third of 6 s) until a renewal reports 1.2 s, then every
	// 400 ms: one that kept renewing every 2 s would lose its task by 4 s. The
	// margins (800 ms) hold on a loaded machine.
	srv2 := api.New(api.Options{Core: env.Core, Store: env.Store, Tasks: ready, TaskLease: 1200 * time.Millisecond})
	hs := httptest.NewServer(srv2)
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv2.ReapTasks(ctx, 50*time.Millisecond)
	taskURL := hs.URL + "/eni/v1/tasks/" + task.TaskID + "?region=us-east-1"
	stop := make(chan struct{})
	lost := make(chan error, 1)
	go renewTask(tc, taskURL, task.LeaseSeconds, time.Now(), stop, lost)
	select {
	case err := <-lost:
		t.Fatalf("a live, renewing run-task lost its task: %v", err)
	case <-time.After(5 * time.Second):
	}
	// Renewals stop (run-task killed): the task goes.
	close(stop)
	time.Sleep(2 * time.Second)
	if err := tc.Call("PUT", taskURL, nil, nil); err == nil {
		t.Fatal("the task outlived its lease without renewals")
	}
}

// Against a server without leases (no leaseSeconds) there is nothing to
// renew: run-task never reports the task lost.
func TestRenewWithoutLeases(t *testing.T) {
	hs := httptest.NewServer(nil) // answers 404 to everything
	defer hs.Close()
	stop := make(chan struct{})
	defer close(stop)
	lost := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		renewTask(NewClient("test", "", nil), hs.URL+"/eni/v1/tasks/task-1", 0, time.Now(), stop, lost)
		close(done)
	}()
	select {
	case <-done:
	case err := <-lost:
		t.Fatalf("lost: %v", err)
	case <-time.After(time.Second):
		t.Fatal("renewTask did not return at once without a lease")
	}
}

// run-task signs its calls with the keys in the environment, for the
// service "eni": against eni serve --auth sigv4 the task is the signer's
// account's, and without credentials the call is refused.
func TestRunTaskSigns(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAALICE0000000001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "alice-secret")
	keys, err := sigv4.Parse(strings.NewReader("AKIAALICE0000000001 alice-secret 111111111111\n"))
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Keys: keys, Now: time.Now}
	env := apitest.New(t, apitest.Options{Authenticate: v.Verify, Tasks: func(string) bool { return true }})
	alice := apitest.NewClient(env.Server.URL, "eu-west-1", "AKIAALICE0000000001", "alice-secret")
	out, err := alice.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(api.TaskRequest{Region: "eu-west-1", SubnetID: aws.ToString(out.Subnets[0].SubnetId)})
	tc := NewClient("run-task", "eu-west-1", EnvCredentials())
	if tc.Creds == nil {
		t.Fatal("no credentials from the environment")
	}
	var task api.TaskReply
	if err := tc.Call("POST", env.Server.URL+"/eni/v1/tasks?region=eu-west-1", body, &task); err != nil {
		t.Fatal(err)
	}
	enis, err := alice.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{task.NetworkInterfaceID}})
	if err != nil || len(enis.NetworkInterfaces) != 1 || aws.ToString(enis.NetworkInterfaces[0].OwnerId) != "111111111111" {
		t.Fatalf("the task's ENI: %+v %v", enis, err)
	}
	taskURL := env.Server.URL + "/eni/v1/tasks/" + task.TaskID + "?region=eu-west-1"
	if err := tc.Call("PUT", taskURL, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Without credentials: refused.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	unsigned := NewClient("run-task", "eu-west-1", EnvCredentials())
	if unsigned.Creds != nil {
		t.Fatal("credentials found in an empty environment")
	}
	if err := unsigned.Call("DELETE", taskURL, nil, nil); err == nil || !strings.Contains(err.Error(), "MissingAuthenticationToken") {
		t.Fatalf("unsigned delete: %v", err)
	}
	if err := tc.Call("DELETE", taskURL, nil, nil); err != nil {
		t.Fatal(err)
	}
}
