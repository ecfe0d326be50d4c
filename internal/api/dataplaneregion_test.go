package api_test

import (
	"errors"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// With a data plane for us-east-1, a launch or start in another region is
// refused (Unsupported, 400) instead of staying pending forever.
func TestDataPlaneRegionRefusesOtherRegions(t *testing.T) {
	// An instance of eu-west-1, launched and stopped by a server without a data plane.
	e := apitest.New(t, apitest.Options{Durable: true})
	run, err := e.Client("eu-west-1").RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	if _, err := e.Client("eu-west-1").StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	path := e.Path
	e.Close()
	cfg := core.DefaultConfig()
	cfg.DataPlane, cfg.DataPlaneRegion = true, "us-east-1"
	e = apitest.New(t, apitest.Options{Path: path, Config: &cfg})
	eu := e.Client("eu-west-1")
	const msg = "The requested configuration is currently not supported. Please check the documentation for supported configurations. " +
		"(This server's data plane runs instances in us-east-1 only, not in eu-west-1: eni serve --dataplane-region.)"
	_, err = eu.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantError(t, err, 400, "Unsupported", msg)
	_, err = eu.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	wantError(t, err, 400, "Unsupported", msg)
	out, err := eu.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Reservations); n != 1 || out.Reservations[0].Instances[0].State.Name != "stopped" {
		t.Fatalf("after the refusals: %d reservations, %+v", n, out.Reservations)
	}
	// The data plane's own region launches (pending until the data plane has it up).
	run, err = e.Client().RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if s := run.Instances[0].State.Name; s != "pending" {
		t.Fatalf("us-east-1: %s", s)
	}
}

func wantError(t *testing.T, err error, status int, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Fatalf("got %v, want an API error", err)
	}
	if re.HTTPStatusCode() != status || ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("got %d %s %q, want %d %s %q", re.HTTPStatusCode(), ae.ErrorCode(), ae.ErrorMessage(), status, code, msg)
	}
}
