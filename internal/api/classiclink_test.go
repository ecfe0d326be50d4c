package api_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/eni-net/eni/internal/apitest"
)

// Every ClassicLink action answers what AWS answers since EC2-Classic was
// retired: UnsupportedOperation, HTTP 400, "The functionality you requested
// is not available in this region." (Ansible's ec2_vpc_net matches on the
// message), and changes nothing.
func TestClassicLinkUnsupported(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(vpcs.Vpcs) != 1 {
		t.Fatalf("DescribeVpcs: %v %v", vpcs, err)
	}
	vpc := vpcs.Vpcs[0].VpcId
	inst := aws.String("i-0123456789abcdef0")
	calls := map[string]func(context.Context) error{
		"DescribeVpcClassicLink": func(ctx context.Context) error {
			_, err := c.DescribeVpcClassicLink(ctx, &ec2.DescribeVpcClassicLinkInput{VpcIds: []string{*vpc}})
			return err
		},
		"DescribeVpcClassicLinkDnsSupport": func(ctx context.Context) error {
			_, err := c.DescribeVpcClassicLinkDnsSupport(ctx, &ec2.DescribeVpcClassicLinkDnsSupportInput{VpcIds: []string{*vpc}})
			return err
		},
		"DescribeClassicLinkInstances": func(ctx context.Context) error {
			_, err := c.DescribeClassicLinkInstances(ctx, &ec2.DescribeClassicLinkInstancesInput{})
			return err
		},
		"EnableVpcClassicLink": func(ctx context.Context) error {
			_, err := c.EnableVpcClassicLink(ctx, &ec2.EnableVpcClassicLinkInput{VpcId: vpc})
			return err
		},
		"DisableVpcClassicLink": func(ctx context.Context) error {
			_, err := c.DisableVpcClassicLink(ctx, &ec2.DisableVpcClassicLinkInput{VpcId: vpc})
			return err
		},
		"EnableVpcClassicLinkDnsSupport": func(ctx context.Context) error {
			_, err := c.EnableVpcClassicLinkDnsSupport(ctx, &ec2.EnableVpcClassicLinkDnsSupportInput{VpcId: vpc})
			return err
		},
		"DisableVpcClassicLinkDnsSupport": func(ctx context.Context) error {
			_, err := c.DisableVpcClassicLinkDnsSupport(ctx, &ec2.DisableVpcClassicLinkDnsSupportInput{VpcId: vpc})
			return err
		},
		"AttachClassicLinkVpc": func(ctx context.Context) error {
			_, err := c.AttachClassicLinkVpc(ctx, &ec2.AttachClassicLinkVpcInput{VpcId: vpc, InstanceId: inst, Groups: []string{"sg-0123456789abcdef0"}})
			return err
		},
		"DetachClassicLinkVpc": func(ctx context.Context) error {
			_, err := c.DetachClassicLinkVpc(ctx, &ec2.DetachClassicLinkVpcInput{VpcId: vpc, InstanceId: inst})
			return err
		},
	}
	for name, call := range calls {
		err := call(ctx)
		var ae smithy.APIError
		var re *awshttp.ResponseError
		if !errors.As(err, &ae) || !errors.As(err, &re) {
			t.Errorf("%s: got %v, want an API error", name, err)
			continue
		}
		if ae.ErrorCode() != "UnsupportedOperation" || re.HTTPStatusCode() != 400 ||
			ae.ErrorMessage() != "The functionality you requested is not available in this region." {
			t.Errorf("%s: got %d %s %q", name, re.HTTPStatusCode(), ae.ErrorCode(), ae.ErrorMessage())
		}
	}
	after, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(after.Vpcs) != 1 || *after.Vpcs[0].VpcId != *vpc {
		t.Fatalf("after: %v %v", after, err)
	}
}
