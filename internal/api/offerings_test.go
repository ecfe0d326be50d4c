package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// Every instance type of the table is offered in the region and in each
// zone, by name or by id.
func TestDescribeInstanceTypeOfferings(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	offer := func(in *ec2.DescribeInstanceTypeOfferingsInput) []types.InstanceTypeOffering {
		t.Helper()
		var all []types.InstanceTypeOffering
		p := ec2.NewDescribeInstanceTypeOfferingsPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.InstanceTypeOfferings...)
		}
		return all
	}
	region := offer(&ec2.DescribeInstanceTypeOfferingsInput{Filters: []types.Filter{filter("instance-type", "t3.micro", "m5.large")}})
	if len(region) != 2 || region[0].LocationType != types.LocationTypeRegion || aws.ToString(region[0].Location) != "us-east-1" {
		t.Errorf("region offerings: %+v", region)
	}
	azs := offer(&ec2.DescribeInstanceTypeOfferingsInput{LocationType: types.LocationTypeAvailabilityZone, Filters: []types.Filter{filter("instance-type", "t3.micro")}})
	if len(azs) != 3 || aws.ToString(azs[0].Location) != "us-east-1a" || azs[0].LocationType != types.LocationTypeAvailabilityZone {
		t.Errorf("zone offerings: %+v", azs)
	}
	ids := offer(&ec2.DescribeInstanceTypeOfferingsInput{LocationType: types.LocationTypeAvailabilityZoneId,
		Filters: []types.Filter{filter("instance-type", "t3.*"), filter("location", "use1-az2")}})
	if len(ids) != 7 || aws.ToString(ids[0].Location) != "use1-az2" { // t3.nano to t3.2xlarge
		t.Errorf("zone id offerings: %d %+v", len(ids), ids)
	}
	if all := offer(&ec2.DescribeInstanceTypeOfferingsInput{MaxResults: aws.Int32(1000)}); len(all) < 1000 {
		t.Errorf("all types: %d", len(all))
	}
	for _, in := range []*ec2.DescribeInstanceTypeOfferingsInput{
		{LocationType: "outer-space"}, {MaxResults: aws.Int32(4)}, {Filters: []types.Filter{filter("zone", "x")}},
	} {
		_, err := c.DescribeInstanceTypeOfferings(ctx, in)
		apitest.WantCode(t, err, "InvalidParameterValue")
	}
}

// RebootInstances: running instances reboot (nothing changes), terminated
// ones are ignored, others are in the wrong state.
func TestRebootInstances(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	a := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{}).InstanceId)
	b := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{}).InstanceId)
	before := describeInstance(t, c, a)
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{a}}); err != nil {
		t.Fatal(err)
	}
	after := describeInstance(t, c, a)
	if after.State.Name != types.InstanceStateNameRunning || aws.ToString(after.PrivateIpAddress) != aws.ToString(before.PrivateIpAddress) {
		t.Errorf("after reboot: %+v", after.State)
	}
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{b}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{a, b}})
	apitest.WantCode(t, err, "IncorrectInstanceState")
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{b}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{a, b}}); err != nil {
		t.Errorf("reboot with a terminated instance: %v", err)
	}
	_, err = c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{a}, DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
}
