package api_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// RunInstances keeps EbsOptimized, Monitoring and HibernationOptions and
// DescribeInstances (with its filters) and DescribeInstanceAttribute
// report them; an instance launched without them reports them off.
// Hibernation needs an encrypted root volume, as on AWS
// (UnsupportedHibernationConfiguration otherwise).
func TestRunInstancesKeepsEbsMonitoringHibernation(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	hib := &types.HibernationOptionsRequest{Configured: aws.Bool(true)}
	for _, bdm := range [][]types.BlockDeviceMapping{nil, {{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(8), Encrypted: aws.Bool(true)}}}} {
		_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			InstanceType: types.InstanceTypeM5Large, HibernationOptions: hib, BlockDeviceMappings: bdm})
		apitest.WantCode(t, err, "UnsupportedHibernationConfiguration")
		if err == nil || !strings.Contains(err.Error(), "For hibernation, the root device volume must be encrypted.") {
			t.Fatalf("unencrypted root: %v", err)
		}
	}
	if out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil || len(out.Reservations) != 0 {
		t.Fatalf("a refused launch left %+v %v", out, err)
	}
	on := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeM5Large, EbsOptimized: aws.Bool(true),
		Monitoring: &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(true)}, HibernationOptions: hib,
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{Encrypted: aws.Bool(true)}}}})
	if on.Monitoring == nil || on.Monitoring.State != types.MonitoringStatePending || !aws.ToBool(on.EbsOptimized) ||
		on.HibernationOptions == nil || !aws.ToBool(on.HibernationOptions.Configured) {
		t.Fatalf("RunInstances reply: monitoring %+v, ebs %v, hibernation %+v", on.Monitoring, aws.ToBool(on.EbsOptimized), on.HibernationOptions)
	}
	off := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeM5Large})
	onID, offID := aws.ToString(on.InstanceId), aws.ToString(off.InstanceId)
	got := describeInstance(t, c, onID)
	if got.Monitoring.State != types.MonitoringStateEnabled || !aws.ToBool(got.EbsOptimized) || !aws.ToBool(got.HibernationOptions.Configured) {
		t.Fatalf("described: monitoring %+v, ebs %v, hibernation %+v", got.Monitoring, aws.ToBool(got.EbsOptimized), got.HibernationOptions)
	}
	got = describeInstance(t, c, offID)
	if got.Monitoring.State != types.MonitoringStateDisabled || aws.ToBool(got.EbsOptimized) || aws.ToBool(got.HibernationOptions.Configured) {
		t.Fatalf("described default: monitoring %+v, ebs %v, hibernation %+v", got.Monitoring, aws.ToBool(got.EbsOptimized), got.HibernationOptions)
	}
	for id, want := range map[string]bool{onID: true, offID: false} {
		attr, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameEbsOptimized})
		if err != nil || attr.EbsOptimized == nil || aws.ToBool(attr.EbsOptimized.Value) != want {
			t.Fatalf("ebsOptimized of %s: %+v %v, want %v", id, attr, err, want)
		}
	}
	for _, f := range []types.Filter{filter("monitoring-state", "enabled"), filter("hibernation-options.configured", "true"), filter("ebs-optimized", "true")} {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{f}})
		if err != nil || len(out.Reservations) != 1 || aws.ToString(out.Reservations[0].Instances[0].InstanceId) != onID {
			t.Fatalf("filter %s: %+v %v", aws.ToString(f.Name), out, err)
		}
	}
}
