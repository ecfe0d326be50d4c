package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
)

// The server restarts with a shorter --task-lease: a live run-task follows
// the lease its renewals report, and its task is not reaped.
func TestRenewFollowsTheServersLease(t *testing.T) {
	ready := func(string) bool { return true }
	env := apitest.New(t, apitest.Options{Tasks: ready, TaskLease: 900 * time.Millisecond})
	out, err := env.Client().DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(api.TaskRequest{Region: "us-east-1", SubnetID: aws.ToString(out.Subnets[0].SubnetId)})
	var task api.TaskReply
	if err := call("POST", env.Server.URL+"/eni/v1/tasks", body, &task); err != nil {
		t.Fatal(err)
	}
	if task.LeaseSeconds != 0.9 {
		t.Fatalf("leaseSeconds %v, want 0.9", task.LeaseSeconds)
	}
	// "Restart": the same state served with a 150 ms lease, and its reaper.
	srv2 := api.New(api.Options{Core: env.Core, Store: env.Store, Tasks: ready, TaskLease: 150 * time.Millisecond})
	hs := httptest.NewServer(srv2)
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv2.ReapTasks(ctx, 50*time.Millisecond)
	taskURL := hs.URL + "/eni/v1/tasks/" + task.TaskID + "?region=us-east-1"
	stop := make(chan struct{})
	lost := make(chan error, 1)
	go renewTask(taskURL, task.LeaseSeconds, stop, lost)
	select {
	case err := <-lost:
		t.Fatalf("a live, renewing run-task lost its task: %v", err)
	case <-time.After(2 * time.Second):
	}
	// Renewals stop (run-task killed): the task goes.
	close(stop)
	time.Sleep(500 * time.Millisecond)
	if err := call("PUT", taskURL, nil, nil); err == nil {
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
	go func() { renewTask(hs.URL+"/eni/v1/tasks/task-1", 0, stop, lost); close(done) }()
	select {
	case <-done:
	case err := <-lost:
		t.Fatalf("lost: %v", err)
	case <-time.After(time.Second):
		t.Fatal("renewTask did not return at once without a lease")
	}
}
