package api_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// Concurrent clients racing for the same resource: the core serialises
// writes per region, so exactly the allowed number of them may win and the
// losers get the AWS error code. Run with -race.

const raceClients = 16

// raceDefaultSubnet returns the default subnet of an AZ.
func raceDefaultSubnet(t *testing.T, c *ec2.Client, az string) types.Subnet {
	t.Helper()
	out, err := c.DescribeSubnets(apitest.Ctx(), &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		{Name: aws.String("default-for-az"), Values: []string{"true"}}, {Name: aws.String("availability-zone"), Values: []string{az}},
	}})
	if err != nil || len(out.Subnets) != 1 {
		t.Fatalf("default subnet of %s: %v %v", az, out, err)
	}
	return out.Subnets[0]
}

// raceRun runs fn(i) for i in [0, n) at the same time and waits.
func raceRun(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func raceCheck(t *testing.T, e *apitest.Env) {
	t.Helper()
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatalf("invariants: %v", errs)
	}
}

func TestRaceAttachSameENI(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	sub := raceDefaultSubnet(t, c, "us-east-1a")
	run, err := c.RunInstances(apitest.Ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testAMI), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(raceClients), MaxCount: aws.Int32(raceClients), SubnetId: sub.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Instances) != raceClients {
		t.Fatalf("launched %d instances", len(run.Instances))
	}
	eni, err := c.CreateNetworkInterface(apitest.Ctx(), &ec2.CreateNetworkInterfaceInput{SubnetId: sub.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	eniID := *eni.NetworkInterface.NetworkInterfaceId

	attachIDs := make([]string, raceClients)
	errs := make([]error, raceClients)
	raceRun(raceClients, func(i int) {
		out, err := c.AttachNetworkInterface(apitest.Ctx(), &ec2.AttachNetworkInterfaceInput{
			NetworkInterfaceId: aws.String(eniID), InstanceId: run.Instances[i].InstanceId, DeviceIndex: aws.Int32(1),
		})
		errs[i] = err
		if err == nil {
			attachIDs[i] = *out.AttachmentId
		}
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("clients %d and %d both attached %s", winner, i, eniID)
		case err == nil:
			winner = i
		case apitest.Code(err) != "InvalidNetworkInterface.InUse":
			t.Errorf("client %d: got %v, want InvalidNetworkInterface.InUse", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no client attached the ENI")
	}
	got, err := c.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
	if err != nil {
		t.Fatal(err)
	}
	a := got.NetworkInterfaces[0].Attachment
	if a == nil || *a.InstanceId != *run.Instances[winner].InstanceId || *a.AttachmentId != attachIDs[winner] {
		t.Fatalf("attachment %+v, want instance %s attachment %s", a, *run.Instances[winner].InstanceId, attachIDs[winner])
	}
	// Only the winner's instance has a second interface.
	insts, err := c.DescribeInstances(apitest.Ctx(), &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("network-interface.network-interface-id"), Values: []string{eniID}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range insts.Reservations {
		n += len(r.Instances)
	}
	if n != 1 {
		t.Fatalf("%d instances have the ENI", n)
	}
	raceCheck(t, e)
}

func TestRaceAssignPrivateIPsUntilSubnetFull(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc, err := c.CreateVpc(apitest.Ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.CreateSubnet(apitest.Ctx(), &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.20.0.0/26"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	enis := make([]string, raceClients)
	for i := range enis {
		out, err := c.CreateNetworkInterface(apitest.Ctx(), &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId})
		if err != nil {
			t.Fatal(err)
		}
		enis[i] = *out.NetworkInterface.NetworkInterfaceId
	}
	const usable = 64 - 5 // a /26 minus AWS's five reserved addresses
	assigned := make([][]string, raceClients)
	errs := make([]error, raceClients)
	raceRun(raceClients, func(i int) {
		for range usable { // bounded: each round takes 3 addresses or fails
			out, err := c.AssignPrivateIpAddresses(apitest.Ctx(), &ec2.AssignPrivateIpAddressesInput{
				NetworkInterfaceId: aws.String(enis[i]), SecondaryPrivateIpAddressCount: aws.Int32(3),
			})
			if err != nil {
				errs[i] = err
				return
			}
			if len(out.AssignedPrivateIpAddresses) != 3 {
				errs[i] = fmt.Errorf("assigned %d addresses, want 3", len(out.AssignedPrivateIpAddresses))
				return
			}
			for _, a := range out.AssignedPrivateIpAddresses {
				assigned[i] = append(assigned[i], *a.PrivateIpAddress)
			}
		}
		errs[i] = fmt.Errorf("the subnet never filled up")
	})
	for i, err := range errs {
		switch apitest.Code(err) {
		case "InsufficientFreeAddressesInSubnet", "PrivateIpAddressLimitExceeded":
		default:
			t.Errorf("client %d: got %v, want InsufficientFreeAddressesInSubnet or PrivateIpAddressLimitExceeded", i, err)
		}
	}
	// Every address is held once, by the ENI that was told it got it.
	out, err := c.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		{Name: aws.String("subnet-id"), Values: []string{*sub.Subnet.SubnetId}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	holder := map[string]string{}
	for _, n := range out.NetworkInterfaces {
		for _, a := range n.PrivateIpAddresses {
			if prev, dup := holder[*a.PrivateIpAddress]; dup {
				t.Errorf("address %s held by %s and %s", *a.PrivateIpAddress, prev, *n.NetworkInterfaceId)
			}
			holder[*a.PrivateIpAddress] = *n.NetworkInterfaceId
		}
	}
	total := 0
	for i, as := range assigned {
		total += len(as)
		for _, a := range as {
			if holder[a] != enis[i] {
				t.Errorf("%s was assigned to %s but is held by %q", a, enis[i], holder[a])
			}
		}
	}
	if len(holder) != raceClients+total {
		t.Errorf("%d addresses held, want %d primaries + %d assigned", len(holder), raceClients, total)
	}
	// Full: fewer than three addresses are left.
	free := usable - len(holder)
	if free < 0 || free >= 3 {
		t.Errorf("%d addresses held in a subnet of %d: %d free", len(holder), usable, free)
	}
	subs, err := c.DescribeSubnets(apitest.Ctx(), &ec2.DescribeSubnetsInput{SubnetIds: []string{*sub.Subnet.SubnetId}})
	if err != nil {
		t.Fatal(err)
	}
	if got := *subs.Subnets[0].AvailableIpAddressCount; int(got) != free {
		t.Errorf("AvailableIpAddressCount %d, want %d", got, free)
	}
	raceCheck(t, e)
}

func TestRaceCreateDeleteDescribeENIs(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	sub := raceDefaultSubnet(t, c, "us-east-1b")
	const workers, rounds = 8, 15
	errs := make(chan error, 3*workers*rounds)
	raceRun(2*workers, func(i int) {
		for r := range rounds {
			if i%2 == 1 { // readers
				out, err := c.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
					{Name: aws.String("subnet-id"), Values: []string{*sub.SubnetId}},
				}})
				if err != nil {
					errs <- fmt.Errorf("describe: %w", err)
					continue
				}
				for _, n := range out.NetworkInterfaces {
					if n.PrivateIpAddress == nil || n.MacAddress == nil || *n.SubnetId != *sub.SubnetId {
						errs <- fmt.Errorf("describe saw a half-made ENI: %+v", n)
					}
				}
				continue
			}
			out, err := c.CreateNetworkInterface(apitest.Ctx(), &ec2.CreateNetworkInterfaceInput{
				SubnetId: sub.SubnetId, Description: aws.String(fmt.Sprintf("race %d/%d", i, r)),
			})
			if err != nil {
				errs <- fmt.Errorf("create: %w", err)
				continue
			}
			id := out.NetworkInterface.NetworkInterfaceId
			if _, err := c.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{*id}}); err != nil {
				errs <- fmt.Errorf("describe own %s: %w", *id, err)
			}
			if r%3 == 2 {
				continue // keep some
			}
			if _, err := c.DeleteNetworkInterface(apitest.Ctx(), &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: id}); err != nil {
				errs <- fmt.Errorf("delete %s: %w", *id, err)
			}
			// A second delete of the same id is NotFound, never a success.
			_, err = c.DeleteNetworkInterface(apitest.Ctx(), &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: id})
			if apitest.Code(err) != "InvalidNetworkInterfaceID.NotFound" {
				errs <- fmt.Errorf("second delete of %s: %v", *id, err)
			}
		}
	})
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	out, err := c.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		{Name: aws.String("subnet-id"), Values: []string{*sub.SubnetId}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	kept := workers * (rounds / 3)
	if len(out.NetworkInterfaces) != kept {
		t.Errorf("%d ENIs left, want %d", len(out.NetworkInterfaces), kept)
	}
	macs := map[string]bool{}
	for _, n := range out.NetworkInterfaces {
		if macs[*n.MacAddress] {
			t.Errorf("MAC %s twice", *n.MacAddress)
		}
		macs[*n.MacAddress] = true
	}
	raceCheck(t, e)
}

func TestRaceAllocateAddressQuota(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	quota := e.Core.Config().EIPQuota
	if quota >= raceClients {
		t.Fatalf("quota %d leaves no loser among %d clients", quota, raceClients)
	}
	ips := make([]string, raceClients)
	errs := make([]error, raceClients)
	raceRun(raceClients, func(i int) {
		out, err := c.AllocateAddress(apitest.Ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
		errs[i] = err
		if err == nil {
			ips[i] = *out.PublicIp
		}
	})
	won := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			if apitest.Code(err) != "AddressLimitExceeded" {
				t.Errorf("client %d: got %v, want AddressLimitExceeded", i, err)
			}
			continue
		}
		if won[ips[i]] {
			t.Errorf("public IP %s handed out twice", ips[i])
		}
		won[ips[i]] = true
	}
	if len(won) != quota {
		t.Errorf("%d allocations succeeded, want the quota %d", len(won), quota)
	}
	out, err := c.DescribeAddresses(apitest.Ctx(), &ec2.DescribeAddressesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Addresses) != quota {
		t.Errorf("DescribeAddresses lists %d, want %d", len(out.Addresses), quota)
	}
	raceCheck(t, e)
}

// TestRaceMixedReadersWriters runs a writer per kind of change, each on its
// own resources, while readers call every Describe action: under -race this
// finds any operation that changes committed records in place.
func TestRaceMixedReadersWriters(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	ctx := apitest.Ctx()
	sub := raceDefaultSubnet(t, c, "us-east-1a")
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), InstanceType: types.InstanceTypeT3Large,
		MinCount: aws.Int32(2), MaxCount: aws.Int32(2), SubnetId: sub.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	inst, inst2 := run.Instances[0].InstanceId, run.Instances[1].InstanceId
	enis := make([]*string, 4)
	for i := range enis {
		out, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.SubnetId})
		if err != nil {
			t.Fatal(err)
		}
		enis[i] = out.NetworkInterface.NetworkInterfaceId
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: sub.VpcId, GroupName: aws.String("race"), Description: aws.String("race")})
	if err != nil {
		t.Fatal(err)
	}
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	perm := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}}

	const rounds = 12
	check := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	writers := []func(r int) error{
		func(r int) error {
			_, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: enis[0], Description: &types.AttributeValue{Value: aws.String(fmt.Sprint("d", r))}})
			if err == nil {
				_, err = c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: enis[0], SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(r%2 == 0)}})
			}
			return check("modify", err)
		},
		func(r int) error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{*enis[0], *enis[1], *inst}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String(fmt.Sprint(r))}}})
			if err == nil {
				_, err = c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{*enis[1]}, Tags: []types.Tag{{Key: aws.String("k")}}})
			}
			return check("tags", err)
		},
		func(r int) error {
			a, err := c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: enis[1], InstanceId: inst, DeviceIndex: aws.Int32(1)})
			if err == nil {
				_, err = c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: enis[1],
					Attachment: &types.NetworkInterfaceAttachmentChanges{AttachmentId: a.AttachmentId, DeleteOnTermination: aws.Bool(false)}})
			}
			if err == nil {
				_, err = c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: a.AttachmentId, Force: aws.Bool(r%2 == 0)})
			}
			return check("attach/detach", err)
		},
		func(r int) error {
			out, err := c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: enis[2], SecondaryPrivateIpAddressCount: aws.Int32(2)})
			if err == nil {
				_, err = c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: enis[2],
					PrivateIpAddresses: []string{*out.AssignedPrivateIpAddresses[0].PrivateIpAddress}})
			}
			return check("assign/unassign", err)
		},
		func(r int) error {
			a, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, NetworkInterfaceId: enis[3]})
			if err == nil {
				_, err = c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: a.AssociationId})
			}
			return check("associate/disassociate", err)
		},
		func(r int) error {
			_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm})
			if err == nil {
				_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm})
			}
			return check("authorize/revoke", err)
		},
		func(r int) error {
			groups := []string{*sg.GroupId}
			if r%2 == 1 {
				groups = []string{*sg.GroupId, *sub.VpcId} // the VPC id is not a group: refused, changes nothing
			}
			_, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: enis[3], Groups: groups})
			if r%2 == 1 {
				if apitest.Code(err) != "InvalidGroupId.Malformed" {
					return fmt.Errorf("groups with a VPC id: %v", err)
				}
				return nil
			}
			return check("groups", err)
		},
		func(r int) error {
			_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{*inst2}})
			if err == nil {
				_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{*inst2}})
			}
			if apitest.Code(err) == "IncorrectInstanceState" {
				return nil // a state the data plane has not moved on from
			}
			return check("stop/start", err)
		},
		func(r int) error {
			out, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.SubnetId, SecondaryPrivateIpAddressCount: aws.Int32(1)})
			if err == nil {
				_, err = c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: out.NetworkInterface.NetworkInterfaceId})
			}
			return check("create/delete", err)
		},
	}
	readers := []func() error{
		func() error {
			_, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
			return err
		},
		func() error { _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); return err },
		func() error { _, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{}); return err },
		func() error { _, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{}); return err },
		func() error {
			_, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{})
			return err
		},
		func() error { _, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{}); return err },
		func() error { _, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); return err },
		func() error { _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); return err },
		func() error { _, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{}); return err },
		func() error {
			_, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{})
			return err
		},
		func() error {
			_, err := c.DescribeNetworkInterfaceAttribute(ctx, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: enis[1], Attribute: types.NetworkInterfaceAttributeAttachment})
			return err
		},
		func() error {
			_, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: inst, Attribute: types.InstanceAttributeNameGroupSet})
			return err
		},
		func() error {
			_, err := c.DescribeNetworkInterfacePermissions(ctx, &ec2.DescribeNetworkInterfacePermissionsInput{})
			return err
		},
		func() error {
			if errs := e.Core.Check(); len(errs) > 0 {
				return fmt.Errorf("invariants: %v", errs)
			}
			_ = e.Core.Dump() // only its reads matter here
			return nil
		},
	}
	errs := make(chan error, (len(writers)+len(readers))*rounds)
	raceRun(len(writers)+len(readers), func(i int) {
		for r := range rounds {
			var err error
			if i < len(writers) {
				err = writers[i](r)
			} else {
				err = readers[i-len(writers)]()
			}
			if err != nil {
				errs <- err
			}
		}
	})
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	raceCheck(t, e)
}

// TestRaceBootstrapFreshRegion sends many first requests to a region that
// has no state yet: the account's default VPC is made exactly once.
func TestRaceBootstrapFreshRegion(t *testing.T) {
	e := apitest.New(t)
	c := e.Client("eu-west-1")
	counts := make([]int, raceClients)
	errs := make([]error, raceClients)
	raceRun(raceClients, func(i int) {
		out, err := c.DescribeVpcs(apitest.Ctx(), &ec2.DescribeVpcsInput{})
		errs[i] = err
		if err == nil {
			counts[i] = len(out.Vpcs)
		}
	})
	for i := range raceClients {
		if errs[i] != nil || counts[i] != 1 {
			t.Errorf("client %d: %d VPCs, %v", i, counts[i], errs[i])
		}
	}
	out, err := c.DescribeSubnets(apitest.Ctx(), &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Subnets) != e.Core.Config().AZCount {
		t.Errorf("%d default subnets, want %d", len(out.Subnets), e.Core.Config().AZCount)
	}
	raceCheck(t, e)
}
