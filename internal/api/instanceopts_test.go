package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

func creditsOf(t *testing.T, c *ec2.Client, ids ...string) map[string]string {
	t.Helper()
	out, err := c.DescribeInstanceCreditSpecifications(ctx, &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, s := range out.InstanceCreditSpecifications {
		m[aws.ToString(s.InstanceId)] = aws.ToString(s.CpuCredits)
	}
	return m
}

// ModifyInstanceCreditSpecification changes a burstable instance's option,
// read back at once (what aws_instance polls); an instance that cannot take
// it is listed unsuccessful and the others still change.
func TestModifyInstanceCreditSpecification(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	t3 := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro}).InstanceId)
	m5 := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeM5Large}).InstanceId)
	if got := creditsOf(t, c); got[t3] != "unlimited" || len(got) != 1 {
		t.Fatalf("defaults %v", got)
	}
	out, err := c.ModifyInstanceCreditSpecification(ctx, &ec2.ModifyInstanceCreditSpecificationInput{InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{
		{InstanceId: aws.String(t3), CpuCredits: aws.String("standard")},
		{InstanceId: aws.String(m5), CpuCredits: aws.String("standard")},
		{InstanceId: aws.String("i-0123456789abcdef0"), CpuCredits: aws.String("standard")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SuccessfulInstanceCreditSpecifications) != 1 || aws.ToString(out.SuccessfulInstanceCreditSpecifications[0].InstanceId) != t3 ||
		len(out.UnsuccessfulInstanceCreditSpecifications) != 2 || string(out.UnsuccessfulInstanceCreditSpecifications[1].Error.Code) != "InvalidInstanceID.NotFound" {
		t.Errorf("reply %+v %+v", out.SuccessfulInstanceCreditSpecifications, out.UnsuccessfulInstanceCreditSpecifications)
	}
	if got := creditsOf(t, c, t3); got[t3] != "standard" {
		t.Errorf("after modify %v", got)
	}
	_, err = c.ModifyInstanceCreditSpecification(ctx, &ec2.ModifyInstanceCreditSpecificationInput{InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{
		{InstanceId: aws.String(t3), CpuCredits: aws.String("fast")},
	}})
	ebsWantErr(t, "bad value", err, "InvalidParameterValue", "")

	// Durable; the automatic recovery option too, shown by DescribeInstances.
	mo, err := c.ModifyInstanceMaintenanceOptions(ctx, &ec2.ModifyInstanceMaintenanceOptionsInput{InstanceId: aws.String(t3), AutoRecovery: types.InstanceAutoRecoveryStateDisabled})
	if err != nil || mo.AutoRecovery != types.InstanceAutoRecoveryStateDisabled || aws.ToString(mo.InstanceId) != t3 {
		t.Fatalf("ModifyInstanceMaintenanceOptions %+v %v", mo, err)
	}
	_, err = c.ModifyInstanceMaintenanceOptions(ctx, &ec2.ModifyInstanceMaintenanceOptionsInput{InstanceId: aws.String(t3), AutoRecovery: "sometimes"})
	ebsWantErr(t, "bad auto recovery", err, "InvalidParameterValue", "")
	path := e.Path
	e.Close()
	e = apitest.New(t, apitest.Options{Path: path})
	c = e.Client()
	if got := creditsOf(t, c, t3); got[t3] != "standard" {
		t.Errorf("after restart %v", got)
	}
	if mo := describeInstance(t, c, t3).MaintenanceOptions; mo == nil || mo.AutoRecovery != types.InstanceAutoRecoveryStateDisabled {
		t.Errorf("maintenance options %+v", mo)
	}
	if mo := describeInstance(t, c, m5).MaintenanceOptions; mo == nil || mo.AutoRecovery != types.InstanceAutoRecoveryStateDefault {
		t.Errorf("maintenance options of another %+v", mo)
	}
}

// GetPasswordData of a Linux instance: empty, as AWS answers; the SDK's
// password-data-available waiter therefore never succeeds, as against AWS.
func TestGetPasswordData(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	id := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{}).InstanceId)
	out, err := c.GetPasswordData(ctx, &ec2.GetPasswordDataInput{InstanceId: aws.String(id)})
	if err != nil || aws.ToString(out.InstanceId) != id || out.PasswordData == nil || *out.PasswordData != "" || out.Timestamp == nil {
		t.Fatalf("GetPasswordData %+v %v", out, err)
	}
	_, err = c.GetPasswordData(ctx, &ec2.GetPasswordDataInput{InstanceId: aws.String("i-0123456789abcdef0")})
	ebsWantErr(t, "unknown instance", err, "InvalidInstanceID.NotFound", "")
}

// ModifyVpcTenancy: dedicated becomes default, read back by DescribeVpcs;
// nothing else is a valid target.
func TestModifyVpcTenancy(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.40.0.0/16"), InstanceTenancy: types.TenancyDedicated})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(vpc.Vpc.VpcId)
	_, err = c.ModifyVpcTenancy(ctx, &ec2.ModifyVpcTenancyInput{VpcId: aws.String(id), InstanceTenancy: "dedicated"})
	ebsWantErr(t, "to dedicated", err, "InvalidParameterValue", "")
	out, err := c.ModifyVpcTenancy(ctx, &ec2.ModifyVpcTenancyInput{VpcId: aws.String(id), InstanceTenancy: types.VpcTenancyDefault})
	if err != nil || !aws.ToBool(out.ReturnValue) {
		t.Fatalf("ModifyVpcTenancy %+v %v", out, err)
	}
	d, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if err != nil || d.Vpcs[0].InstanceTenancy != types.TenancyDefault {
		t.Errorf("tenancy %+v %v", d, err)
	}
	_, err = c.ModifyVpcTenancy(ctx, &ec2.ModifyVpcTenancyInput{VpcId: aws.String("vpc-0123456789abcdef0"), InstanceTenancy: types.VpcTenancyDefault})
	ebsWantErr(t, "unknown vpc", err, "InvalidVpcID.NotFound", "")
}

// MonitorInstances / UnmonitorInstances: the replies say pending and
// disabling, DescribeInstances (and its filter) shows enabled and disabled
// at once, which is what aws_instance reads back.
func TestMonitorInstances(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	a := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{}).InstanceId)
	b := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{}).InstanceId)
	on, err := c.MonitorInstances(ctx, &ec2.MonitorInstancesInput{InstanceIds: []string{a, b}})
	if err != nil || len(on.InstanceMonitorings) != 2 || on.InstanceMonitorings[0].Monitoring.State != types.MonitoringStatePending {
		t.Fatalf("MonitorInstances %+v %v", on, err)
	}
	if s := describeInstance(t, c, a).Monitoring.State; s != types.MonitoringStateEnabled {
		t.Errorf("after monitor: %s", s)
	}
	off, err := c.UnmonitorInstances(ctx, &ec2.UnmonitorInstancesInput{InstanceIds: []string{b}})
	if err != nil || len(off.InstanceMonitorings) != 1 || off.InstanceMonitorings[0].Monitoring.State != types.MonitoringStateDisabling {
		t.Fatalf("UnmonitorInstances %+v %v", off, err)
	}
	d, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("monitoring-state", "enabled")}})
	if err != nil || len(d.Reservations) != 1 || aws.ToString(d.Reservations[0].Instances[0].InstanceId) != a {
		t.Errorf("by monitoring state %+v %v", d, err)
	}
	_, err = c.MonitorInstances(ctx, &ec2.MonitorInstancesInput{InstanceIds: []string{a, "i-0123456789abcdef0"}})
	ebsWantErr(t, "unknown instance", err, "InvalidInstanceID.NotFound", "")
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{b}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.MonitorInstances(ctx, &ec2.MonitorInstancesInput{InstanceIds: []string{b}})
	ebsWantErr(t, "terminated", err, "IncorrectInstanceState", "")
}

// RunInstances keeps CreditSpecification and MaintenanceOptions, read back
// the way aws_instance reads them.
func TestLaunchCreditAndMaintenance(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	id := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro,
		CreditSpecification: &types.CreditSpecificationRequest{CpuCredits: aws.String("standard")},
		MaintenanceOptions:  &types.InstanceMaintenanceOptionsRequest{AutoRecovery: types.InstanceAutoRecoveryStateDisabled}}).InstanceId)
	if got := creditsOf(t, c, id); got[id] != "standard" {
		t.Errorf("credits %v", got)
	}
	if mo := describeInstance(t, c, id).MaintenanceOptions; mo.AutoRecovery != types.InstanceAutoRecoveryStateDisabled {
		t.Errorf("maintenance %+v", mo)
	}
	_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		CreditSpecification: &types.CreditSpecificationRequest{CpuCredits: aws.String("turbo")}})
	ebsWantErr(t, "bad credits", err, "InvalidParameterValue", "")
}

// ModifyInstanceAttribute ebsOptimized: on a stopped instance, as AWS; read
// back by DescribeInstanceAttribute and DescribeInstances.
func TestModifyEbsOptimized(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	id := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeM5Large}).InstanceId)
	modify := func() error {
		_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), EbsOptimized: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
		return err
	}
	ebsWantErr(t, "running", modify(), "IncorrectInstanceState", "The instance '"+id+"' is not in the 'stopped' state.")
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if err := modify(); err != nil {
		t.Fatal(err)
	}
	attr, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameEbsOptimized})
	if err != nil || !aws.ToBool(attr.EbsOptimized.Value) || !aws.ToBool(describeInstance(t, c, id).EbsOptimized) {
		t.Errorf("ebsOptimized %+v %v", attr, err)
	}
}

// The Capacity Reservation preference: at launch and, on a stopped
// instance, with ModifyInstanceCapacityReservationAttributes; read back by
// DescribeInstances, which aws_instance polls.
func TestCapacityReservationPreference(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	pref := func(id string) types.CapacityReservationPreference {
		t.Helper()
		return describeInstance(t, c, id).CapacityReservationSpecification.CapacityReservationPreference
	}
	id := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{CapacityReservationSpecification: &types.CapacityReservationSpecification{
		CapacityReservationPreference: types.CapacityReservationPreferenceNone}}).InstanceId)
	if got := pref(id); got != types.CapacityReservationPreferenceNone {
		t.Errorf("at launch: %s", got)
	}
	modify := func(spec types.CapacityReservationSpecification) error {
		_, err := c.ModifyInstanceCapacityReservationAttributes(ctx, &ec2.ModifyInstanceCapacityReservationAttributesInput{InstanceId: aws.String(id), CapacityReservationSpecification: &spec})
		return err
	}
	open := types.CapacityReservationSpecification{CapacityReservationPreference: types.CapacityReservationPreferenceOpen}
	ebsWantErr(t, "running", modify(open), "IncorrectInstanceState", "")
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if err := modify(open); err != nil {
		t.Fatal(err)
	}
	if got := pref(id); got != types.CapacityReservationPreferenceOpen {
		t.Errorf("after modify: %s", got)
	}
	ebsWantErr(t, "a target", modify(types.CapacityReservationSpecification{CapacityReservationTarget: &types.CapacityReservationTarget{CapacityReservationId: aws.String("cr-0123456789abcdef0")}}),
		"UnsupportedOperation", "")
	ebsWantErr(t, "bad preference", modify(types.CapacityReservationSpecification{CapacityReservationPreference: "maybe"}), "InvalidParameterValue", "")
}

// ModifyPrivateDnsNameOptions: the resource-name records change at any
// time, the hostname type only on a stopped instance, with the subnet's
// rules; DescribeInstances shows what aws_instance reads back.
func TestModifyPrivateDnsNameOptions(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	id := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{}).InstanceId)
	opts := func() types.PrivateDnsNameOptionsResponse {
		t.Helper()
		return *describeInstance(t, c, id).PrivateDnsNameOptions
	}
	if _, err := c.ModifyPrivateDnsNameOptions(ctx, &ec2.ModifyPrivateDnsNameOptionsInput{InstanceId: aws.String(id), EnableResourceNameDnsARecord: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if o := opts(); !aws.ToBool(o.EnableResourceNameDnsARecord) || o.HostnameType != types.HostnameTypeIpName {
		t.Errorf("after A record: %+v", o)
	}
	toResource := &ec2.ModifyPrivateDnsNameOptionsInput{InstanceId: aws.String(id), PrivateDnsHostnameType: types.HostnameTypeResourceName}
	_, err := c.ModifyPrivateDnsNameOptions(ctx, toResource)
	ebsWantErr(t, "hostname type of a running instance", err, "IncorrectInstanceState", "")
	_, err = c.ModifyPrivateDnsNameOptions(ctx, &ec2.ModifyPrivateDnsNameOptionsInput{InstanceId: aws.String(id), EnableResourceNameDnsAAAARecord: aws.Bool(true)})
	ebsWantErr(t, "AAAA record without IPv6", err, "InvalidParameterValue", "")
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyPrivateDnsNameOptions(ctx, toResource); err != nil {
		t.Fatal(err)
	}
	if o := opts(); o.HostnameType != types.HostnameTypeResourceName || !aws.ToBool(o.EnableResourceNameDnsARecord) {
		t.Errorf("after hostname type: %+v", o)
	}
}
