package api_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// ipv6States returns the VPC's IPv6 associations as id -> state.
func ipv6States(t *testing.T, c *ec2.Client, vpc string) map[string]string {
	t.Helper()
	out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpc}})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, a := range out.Vpcs[0].Ipv6CidrBlockAssociationSet {
		m[aws.ToString(a.AssociationId)] = string(a.Ipv6CidrBlockState.State)
	}
	return m
}

// After DisassociateVpcCidrBlock the association settles: the reply says
// disassociating, DescribeVpcs shows it disassociated (what Ansible's
// ec2_vpc_net waits for: every Amazon block it saw disassociated), and it
// leaves the VPC after CidrGoneRetention. The VPC's active blocks lose it at
// once, so it can be associated again.
func TestDisassociatedCidrSettles(t *testing.T) {
	clock := newTestClock()
	e := apitest.New(t, apitest.Options{Now: clock.Now, Durable: true})
	c := e.Client()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	id := *vpc.Vpc.VpcId
	assoc := *vpc.Vpc.Ipv6CidrBlockAssociationSet[0].AssociationId
	if got := ipv6States(t, c, id); got[assoc] != "associated" {
		t.Fatalf("before: %v", got)
	}
	out, err := c.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: aws.String(assoc)})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Ipv6CidrBlockAssociation.Ipv6CidrBlockState.State; s != types.VpcCidrBlockStateCodeDisassociating {
		t.Errorf("reply state %s", s)
	}
	if got := ipv6States(t, c, id); len(got) != 1 || got[assoc] != "disassociated" {
		t.Errorf("after: %v", got)
	}
	byState, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("ipv6-cidr-block-association.state", "disassociated")}})
	if err != nil || len(byState.Vpcs) != 1 {
		t.Errorf("filter on disassociated: %v %v", byState, err)
	}
	// A secondary IPv4 block settles the same way.
	v4, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: aws.String(id), CidrBlock: aws.String("10.21.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: v4.CidrBlockAssociation.AssociationId}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if n := len(d.Vpcs[0].CidrBlockAssociationSet); n != 2 || d.Vpcs[0].CidrBlockAssociationSet[1].CidrBlockState.State != types.VpcCidrBlockStateCodeDisassociated {
		t.Errorf("IPv4 after: %+v", d.Vpcs[0].CidrBlockAssociationSet)
	}
	// The routes follow the active blocks only; a new IPv6 block can come.
	rt, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", id)}})
	if err != nil || len(rt.RouteTables[0].Routes) != 1 {
		t.Errorf("routes after: %+v %v", rt.RouteTables[0].Routes, err)
	}
	again, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: aws.String(id), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := ipv6States(t, c, id); len(got) != 2 || got[*again.Ipv6CidrBlockAssociation.AssociationId] != "associated" {
		t.Errorf("re-associated: %v", got)
	}
	// Durable; then gone after the retention.
	path := e.Path
	e.Close()
	e = apitest.New(t, apitest.Options{Now: clock.Now, Path: path})
	c = e.Client()
	if got := ipv6States(t, c, id); got[assoc] != "disassociated" {
		t.Errorf("after restart: %v", got)
	}
	clock.Advance(core.CidrGoneRetention)
	if got := ipv6States(t, c, id); len(got) != 1 || got[assoc] != "" {
		t.Errorf("after the retention: %v", got)
	}
	d, _ = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if n := len(d.Vpcs[0].CidrBlockAssociationSet); n != 1 {
		t.Errorf("IPv4 after the retention: %+v", d.Vpcs[0].CidrBlockAssociationSet)
	}
	_, err = c.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: aws.String(assoc)})
	apitest.WantCode(t, err, "InvalidVpcCidrBlockAssociationID.NotFound")
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// settled fails the test if anything of the instance, its ENIs or the
// address is in a transitional state, and checks the waiters tools use
// return at once.
func settled(t *testing.T, c *ec2.Client, inst, alloc string) {
	t.Helper()
	i := describeInstance(t, c, inst)
	if i.State.Name != types.InstanceStateNameRunning || i.MetadataOptions.State != types.InstanceMetadataOptionsStateApplied {
		t.Errorf("instance %s, metadata %s", i.State.Name, i.MetadataOptions.State)
	}
	for _, n := range i.NetworkInterfaces {
		if n.Status != types.NetworkInterfaceStatusInUse || n.Attachment.Status != types.AttachmentStatusAttached {
			t.Errorf("ENI %s: %s, attachment %s", *n.NetworkInterfaceId, n.Status, n.Attachment.Status)
		}
	}
	for _, b := range i.BlockDeviceMappings {
		if b.Ebs.Status != types.AttachmentStatusAttached {
			t.Errorf("volume %s: %s", *b.Ebs.VolumeId, b.Ebs.Status)
		}
	}
	a, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{alloc}})
	if err != nil || aws.ToString(a.Addresses[0].InstanceId) != inst || aws.ToString(a.Addresses[0].PublicIp) != aws.ToString(i.PublicIpAddress) {
		t.Errorf("address %+v, instance public IP %v (%v)", a, aws.ToString(i.PublicIpAddress), err)
	}
	fast := func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}
	if err := ec2.NewInstanceRunningWaiter(c, fast).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{inst}}, time.Second); err != nil {
		t.Errorf("instance_running: %v", err)
	}
}

// Associating an Elastic IP with the instance it is already associated
// with (an idempotence run) changes nothing and leaves nothing transitional,
// without and with a data plane (where a launch is pending until the data
// plane reports the instance up).
func TestReassociateAddressSettles(t *testing.T) {
	for _, dataPlane := range []bool{false, true} {
		cfg := core.DefaultConfig()
		cfg.DataPlane = dataPlane
		e := apitest.New(t, apitest.Options{Config: &cfg})
		c := e.Client()
		inst := aws.ToString(runInstance(t, c, &ec2.RunInstancesInput{}).InstanceId)
		if dataPlane {
			enis := map[string]string{}
			for _, n := range describeInstance(t, c, inst).NetworkInterfaces {
				enis[*n.NetworkInterfaceId] = inst
			}
			// What the agent writes back once the namespace is up.
			if err := e.Core.Write(core.Caller{Account: "123456789012", Region: "us-east-1"}, false, e.API.Commit, func(tx *core.Tx) error {
				tx.MarkRealised(core.SetOf(map[string]bool{inst: true}), core.SetOf(enis))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
		if err != nil {
			t.Fatal(err)
		}
		first, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, InstanceId: aws.String(inst)})
		if err != nil {
			t.Fatal(err)
		}
		settled(t, c, inst, *a.AllocationId)
		for _, in := range []*ec2.AssociateAddressInput{
			{AllocationId: a.AllocationId, InstanceId: aws.String(inst)},
			{AllocationId: a.AllocationId, InstanceId: aws.String(inst), AllowReassociation: aws.Bool(false)},
			{PublicIp: a.PublicIp, InstanceId: aws.String(inst)},
		} {
			again, err := c.AssociateAddress(ctx, in)
			if err != nil || aws.ToString(again.AssociationId) != aws.ToString(first.AssociationId) {
				t.Errorf("data plane %v: re-association: %v %v", dataPlane, again, err)
			}
			settled(t, c, inst, *a.AllocationId)
		}
		if errs := e.Core.Check(); len(errs) > 0 {
			t.Fatal(errs)
		}
	}
}
