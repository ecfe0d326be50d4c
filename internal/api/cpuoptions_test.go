package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// CpuOptions at launch, checked against the type's valid counts (AWS's table of
// the types that support CPU options), kept through stop and start, described, and
// reset to the new type's defaults by a change of type; DescribeInstanceTypes shows
// the table as VCpuInfo.
func TestCPUOptions(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	cpu := func(cores, threads int32) *types.CpuOptionsRequest {
		return &types.CpuOptionsRequest{CoreCount: aws.Int32(cores), ThreadsPerCore: aws.Int32(threads)}
	}
	for _, tc := range []struct {
		typ       types.InstanceType
		req       *types.CpuOptionsRequest
		code, msg string
	}{
		{types.InstanceTypeT2Micro, cpu(1, 1), "UnsupportedOperation", "The t2.micro instance type does not support specifying CpuOptions."},
		{types.InstanceTypeM5Metal, cpu(2, 1), "UnsupportedOperation", "The m5.metal instance type does not support specifying CpuOptions."},
		{types.InstanceTypeM5Xlarge, &types.CpuOptionsRequest{CoreCount: aws.Int32(2)}, "MissingParameter", "you must specify both CoreCount and ThreadsPerCore"},
		{types.InstanceTypeM5Xlarge, cpu(1, 2), "InvalidParameterValue", "Valid core counts for m5.xlarge are 2."},
		{types.InstanceTypeM5Xlarge, cpu(2, 3), "InvalidParameterValue", "Valid threads per core for m5.xlarge are 1, 2."},
		{types.InstanceTypeR44xlarge, cpu(9, 2), "InvalidParameterValue", "Valid core counts for r4.4xlarge are 1, 2, 3, 4, 5, 6, 7, 8."},
	} {
		_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			InstanceType: tc.typ, CpuOptions: tc.req})
		apitest.WantCode(t, err, tc.code)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s %+v: %v, want %q", tc.typ, tc.req, err, tc.msg)
		}
	}
	if out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil || len(out.Reservations) != 0 {
		t.Fatalf("a refused launch left %+v %v", out, err)
	}

	wantCPU := func(what string, got *types.CpuOptions, cores, threads int32) {
		t.Helper()
		if got == nil || aws.ToInt32(got.CoreCount) != cores || aws.ToInt32(got.ThreadsPerCore) != threads {
			t.Errorf("%s: CpuOptions %+v, want %d cores, %d threads per core", what, got, cores, threads)
		}
	}
	nano := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Nano, CpuOptions: cpu(1, 1)})
	wantCPU("t3.nano 1×1, the reply", nano.CpuOptions, 1, 1)
	id := aws.ToString(nano.InstanceId)
	wantCPU("t3.nano 1×1, described", describeInstance(t, c, id).CpuOptions, 1, 1)
	def := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeR44xlarge})
	wantCPU("r4.4xlarge's defaults", describeInstance(t, c, aws.ToString(def.InstanceId)).CpuOptions, 8, 2)
	r4 := runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeR44xlarge, CpuOptions: cpu(3, 1)})
	wantCPU("r4.4xlarge 3×1", describeInstance(t, c, aws.ToString(r4.InstanceId)).CpuOptions, 3, 1)

	// Kept through stop and start; a new type brings its defaults.
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	wantCPU("t3.nano after stop and start", describeInstance(t, c, id).CpuOptions, 1, 1)
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		InstanceType: &types.AttributeValue{Value: aws.String("m5.xlarge")}}); err != nil {
		t.Fatal(err)
	}
	wantCPU("t3.nano made m5.xlarge", describeInstance(t, c, id).CpuOptions, 2, 2)

	// DescribeInstanceTypes: VCpuInfo and its filters.
	types_, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{types.InstanceTypeR44xlarge}})
	if err != nil || len(types_.InstanceTypes) != 1 {
		t.Fatalf("DescribeInstanceTypes r4.4xlarge: %+v %v", types_, err)
	}
	v := types_.InstanceTypes[0].VCpuInfo
	if v == nil || aws.ToInt32(v.DefaultVCpus) != 16 || aws.ToInt32(v.DefaultCores) != 8 || aws.ToInt32(v.DefaultThreadsPerCore) != 2 ||
		!slices.Equal(v.ValidCores, []int32{1, 2, 3, 4, 5, 6, 7, 8}) || !slices.Equal(v.ValidThreadsPerCore, []int32{1, 2}) {
		t.Errorf("r4.4xlarge VCpuInfo %+v", v)
	}
	found, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{
		filter("vcpu-info.default-vcpus", "16"), filter("vcpu-info.valid-cores", "3"), filter("instance-type", "r4.*")}})
	if err != nil || len(found.InstanceTypes) != 1 || found.InstanceTypes[0].InstanceType != types.InstanceTypeR44xlarge {
		t.Errorf("vcpu-info filters: %+v %v", found, err)
	}
}
