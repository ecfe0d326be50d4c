package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/netadmin"
)

// eni exec of an instance without a namespace says why, from the server it
// finds in AWS_ENDPOINT_URL (or --endpoint).
func TestExecSaysWhyThereIsNoNamespace(t *testing.T) {
	e := apitest.New(t)
	run, err := e.Client().RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	live, gone := aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)
	if _, err := e.Client().TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", e.Server.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	for _, c := range []struct{ args, want string }{
		{live, "exec: instance " + live + " is running in us-east-1 but has no namespace zq-" + live + " on this host: is the server's data plane on (--dataplane linux), with --dataplane-prefix zq and --dataplane-region us-east-1?"},
		{gone, "exec: instance " + gone + " is terminated: only a running instance has a namespace"},
		{"i-0123456789abcdef0", "exec: the server at " + e.Server.URL + " has no instance i-0123456789abcdef0 in us-east-1"},
		{"--endpoint http://127.0.0.1:1 " + live, "exec: no namespace zq-" + live + ", and the server at http://127.0.0.1:1 did not say why ("},
	} {
		args := append([]string{"--prefix", "zq"}, strings.Fields(c.args)...)
		err := execCmd(append(args, "--", "true"))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s", c.args, err, c.want)
		}
	}
}

// eni run-task calls the server in AWS_ENDPOINT_URL; --endpoint overrides it.
func TestRunTaskEndpointFromEnvironment(t *testing.T) {
	if err := netadmin.Check(); err != nil {
		t.Skipf("run-task refuses before calling the server: %v", err)
	}
	e := apitest.New(t) // no data plane: the task API says so
	t.Setenv("AWS_ENDPOINT_URL", e.Server.URL)
	err := runTask([]string{"--subnet", "subnet-1", "--", "true"})
	if err == nil || !strings.Contains(err.Error(), "tasks need the Linux data plane") {
		t.Fatalf("from AWS_ENDPOINT_URL: %v", err)
	}
	err = runTask([]string{"--endpoint", "http://127.0.0.1:1", "--subnet", "subnet-1", "--", "true"})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("--endpoint: %v", err)
	}
}
