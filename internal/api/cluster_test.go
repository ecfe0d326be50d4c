package api_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// TestClusterPlacementOverTheWire: in cluster mode RunInstances fails with
// AWS's InsufficientInstanceCapacity (HTTP 500) while no host is live in the
// zone, places on a live host otherwise (pending until the host reports it
// up, then running), and DescribeInstanceStatus reports the instance impaired
// once its host's lease is gone.
func TestClusterPlacementOverTheWire(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.Cluster = true
	clock := newTestClock()
	e := apitest.New(t, apitest.Options{Config: &cfg, Now: clock.Now})
	c := e.Client()
	in := &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1a")}}
	_, err := c.RunInstances(ctx, in, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InsufficientInstanceCapacity" || !strings.Contains(ae.ErrorMessage(), "t3.micro capacity") ||
		!errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
		t.Fatalf("no live host: %v", err)
	}
	host := core.Host{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1"}
	e.Core.SetHosts("us-east-1", []core.Host{host})
	out, err := c.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	if st := out.Instances[0].State.Name; st != types.InstanceStateNamePending {
		t.Fatalf("launched %s", st)
	}
	host.Realised = map[string]bool{id: true}
	e.Core.SetHosts("us-east-1", []core.Host{host})
	who := core.Caller{Account: cfg.DefaultAccount, Region: "us-east-1"}
	if err := e.Core.SettleHosts(who, e.API.Commit); err != nil {
		t.Fatal(err)
	}
	clock.Advance(core.StatusCheckDelay)
	if got := statuses(t, c, &ec2.DescribeInstanceStatusInput{})[id]; got != [4]string{"running", "ok", "ok", "passed"} {
		t.Fatalf("on a live host: %v", got)
	}
	e.Core.SetHosts("us-east-1", nil)
	if got := statuses(t, c, &ec2.DescribeInstanceStatusInput{})[id]; got != [4]string{"running", "impaired", "impaired", "failed"} {
		t.Fatalf("its host gone: %v", got)
	}
	got := statuses(t, c, &ec2.DescribeInstanceStatusInput{Filters: []types.Filter{filter("system-status.status", "impaired")}})
	if _, ok := got[id]; !ok || len(got) != 1 {
		t.Errorf("filter system-status.status=impaired: %v", got)
	}
}
