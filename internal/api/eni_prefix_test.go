package api_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

func prefixesOf(n types.NetworkInterface) []string {
	var out []string
	for _, p := range n.Ipv4Prefixes {
		out = append(out, aws.ToString(p.Ipv4Prefix))
	}
	return out
}

// IPv4 prefix delegation (what the EKS VPC CNI's prefix mode uses): /28s of
// the subnet, whole and aligned, counted as one address each, and never
// sharing an address with anything else.
func TestENIPrefixDelegation(t *testing.T) {
	x := newENIEnv(t)
	free := func() int32 {
		t.Helper()
		out, err := x.c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{x.subA}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt32(out.Subnets[0].AvailableIpAddressCount)
	}
	free0 := free()

	// Counted: two /28s, aligned, clear of the reserved addresses and of
	// the primary address.
	n := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv4PrefixCount: aws.Int32(2)})
	id := aws.ToString(n.NetworkInterfaceId)
	got := prefixesOf(*n)
	if len(got) != 2 {
		t.Fatalf("prefixes = %v", got)
	}
	primary := netip.MustParseAddr(aws.ToString(n.PrivateIpAddress))
	for _, s := range got {
		pf := netip.MustParsePrefix(s)
		if pf.Bits() != 28 || pf != pf.Masked() || !netip.MustParsePrefix("10.0.1.0/24").Contains(pf.Addr()) ||
			pf.Contains(primary) || pf.Addr() == netip.MustParseAddr("10.0.1.0") || pf.Addr() == netip.MustParseAddr("10.0.1.240") {
			t.Errorf("prefix %s (primary %s)", s, primary)
		}
	}
	if d := prefixesOf(x.get(t, id)); !slices.Equal(d, got) {
		t.Errorf("described prefixes %v, created %v", d, got)
	}
	if f := free(); f != free0-1-32 {
		t.Errorf("AvailableIpAddressCount %d, want %d (one address and two /28s fewer)", f, free0-1-32)
	}

	// Addresses in a delegated prefix are taken, for anyone.
	inPrefix := netip.MustParsePrefix(got[0]).Addr().Next().String()
	_, err := x.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String(inPrefix)})
	apitest.WantCode(t, err, "InvalidIPAddress.InUse")
	other := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String("10.0.1.100")})
	otherID := aws.ToString(other.NetworkInterfaceId)
	_, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(otherID),
		PrivateIpAddresses: []string{inPrefix}, AllowReassignment: aws.Bool(true)})
	apitest.WantCode(t, err, "InvalidIPAddress.InUse")
	_, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), PrivateIpAddresses: []string{inPrefix}})
	apitest.WantCode(t, err, "InvalidIPAddress.InUse")
	// ... and so is the prefix, and one holding another ENI's address.
	_, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(otherID), Ipv4Prefixes: []string{got[1]}})
	apitest.WantCode(t, err, "InvalidIPAddress.InUse")
	otherIP := netip.MustParseAddr(aws.ToString(other.PrivateIpAddress))
	_, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id),
		Ipv4Prefixes: []string{netip.PrefixFrom(otherIP, 28).Masked().String()}})
	apitest.WantCode(t, err, "InvalidIPAddress.InUse")

	// Assign: counted and explicit; the reply lists what was added.
	out, err := x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), Ipv4PrefixCount: aws.Int32(1)})
	if err != nil || len(out.AssignedIpv4Prefixes) != 1 || len(out.AssignedPrivateIpAddresses) != 0 {
		t.Fatalf("assign count: %+v %v", out, err)
	}
	counted := aws.ToString(out.AssignedIpv4Prefixes[0].Ipv4Prefix)
	out, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), Ipv4Prefixes: []string{"10.0.1.224/28"}})
	if err != nil || len(out.AssignedIpv4Prefixes) != 1 || aws.ToString(out.AssignedIpv4Prefixes[0].Ipv4Prefix) != "10.0.1.224/28" {
		t.Fatalf("assign explicit: %+v %v", out, err)
	}
	if d := prefixesOf(x.get(t, id)); len(d) != 4 || !slices.Contains(d, counted) || !slices.Contains(d, "10.0.1.224/28") {
		t.Fatalf("prefixes after assign: %v", d)
	}
	_, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), Ipv4PrefixCount: aws.Int32(1), Ipv4Prefixes: []string{"10.0.1.208/28"}})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), Ipv4Prefixes: []string{"10.0.1.240/28"}})
	apitest.WantCode(t, err, "InvalidParameterValue") // holds the broadcast address

	// Unassign: only what the ENI holds; then the space is free again.
	_, err = x.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(otherID), Ipv4Prefixes: []string{counted}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	if _, err := x.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), Ipv4Prefixes: []string{counted}}); err != nil {
		t.Fatal(err)
	}
	if d := prefixesOf(x.get(t, id)); len(d) != 3 || slices.Contains(d, counted) {
		t.Fatalf("prefixes after unassign: %v", d)
	}
	x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), PrivateIpAddress: aws.String(netip.MustParsePrefix(counted).Addr().Next().String())})

	// A prefix counts as one address against the instance type's limit
	// (t3.nano: 2 per interface).
	small := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv4PrefixCount: aws.Int32(2)})
	inst := aws.ToString(runInstance(t, x.c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Nano, SubnetId: aws.String(x.subA)}).InstanceId)
	_, err = x.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: small.NetworkInterfaceId, InstanceId: aws.String(inst), DeviceIndex: aws.Int32(1)})
	apitest.WantCode(t, err, "InvalidInterface.IpAddressLimitExceeded")
	one := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), Ipv4PrefixCount: aws.Int32(1)})
	x.attach(t, aws.ToString(one.NetworkInterfaceId), inst, 1)
	_, err = x.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: one.NetworkInterfaceId, Ipv4PrefixCount: aws.Int32(1)})
	apitest.WantCode(t, err, "PrivateIpAddressLimitExceeded")
	insts, err := x.c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{inst}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ni := range insts.Reservations[0].Instances[0].NetworkInterfaces {
		if aws.ToString(ni.NetworkInterfaceId) == aws.ToString(one.NetworkInterfaceId) && len(ni.Ipv4Prefixes) != 1 {
			t.Errorf("DescribeInstances shows prefixes %+v", ni.Ipv4Prefixes)
		}
	}

	// Deleting the ENI frees its prefixes.
	before := free()
	if _, err := x.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if f := free(); f != before+1+48 {
		t.Errorf("AvailableIpAddressCount %d after delete, want %d", f, before+1+48)
	}
	if errs := x.e.Core.Check(); len(errs) > 0 {
		t.Fatalf("invariants: %v", errs)
	}
}

// A subnet with free addresses may have no free /28: AWS answers
// InsufficientCidrBlocks (amazon-vpc-cni-k8s#1836), and so does ENI.
func TestENIPrefixFragmentation(t *testing.T) {
	x := newENIEnv(t)
	out, err := x.c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(x.vpc), AvailabilityZone: aws.String("us-east-1a"), CidrBlock: aws.String("10.0.5.0/26")})
	if err != nil {
		t.Fatal(err)
	}
	s := out.Subnet.SubnetId
	// A /26 has two usable /28s (.16 and .32: the first holds the reserved
	// addresses, the last the broadcast); one address in each uses them up.
	x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: s, PrivateIpAddress: aws.String("10.0.5.20")})
	x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: s, PrivateIpAddress: aws.String("10.0.5.40")})
	_, err = x.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: s, Ipv4PrefixCount: aws.Int32(1)})
	apitest.WantCode(t, err, "InsufficientCidrBlocks")
	// Plenty of single addresses are still there.
	x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: s, SecondaryPrivateIpAddressCount: aws.Int32(20)})
	if errs := x.e.Core.Check(); len(errs) > 0 {
		t.Fatalf("invariants: %v", errs)
	}
}

// RunInstances delegates prefixes to the ENIs it creates.
func TestRunInstancesWithPrefixes(t *testing.T) {
	x := newENIEnv(t)
	inst := runInstance(t, x.c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeM5Large,
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(x.subA), Ipv4PrefixCount: aws.Int32(2)}}})
	if len(inst.NetworkInterfaces) != 1 || len(inst.NetworkInterfaces[0].Ipv4Prefixes) != 2 {
		t.Fatalf("launched with %+v", inst.NetworkInterfaces)
	}
	_, err := x.c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Nano,
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(x.subA), Ipv4PrefixCount: aws.Int32(2)}}})
	apitest.WantCode(t, err, "InvalidInterface.IpAddressLimitExceeded")
	if errs := x.e.Core.Check(); len(errs) > 0 {
		t.Fatalf("invariants: %v", errs)
	}
}

// IPv6 prefix delegation: /80s of the subnet's /64.
func TestENIIPv6PrefixDelegation(t *testing.T) {
	x := newENIEnv(t)
	sub, err := x.c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{x.sub6}})
	if err != nil {
		t.Fatal(err)
	}
	block := netip.MustParsePrefix(aws.ToString(sub.Subnets[0].Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock))
	n := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.sub6), Ipv6PrefixCount: aws.Int32(1)})
	id := aws.ToString(n.NetworkInterfaceId)
	if len(n.Ipv6Prefixes) != 1 {
		t.Fatalf("created with %+v", n.Ipv6Prefixes)
	}
	pf := netip.MustParsePrefix(aws.ToString(n.Ipv6Prefixes[0].Ipv6Prefix))
	if pf.Bits() != 80 || pf != pf.Masked() || !block.Contains(pf.Addr()) || pf.Addr() == block.Addr() {
		t.Fatalf("prefix %s in %s", pf, block)
	}
	// An address inside it is taken; so is the prefix.
	_, err = x.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.sub6),
		Ipv6Addresses: []types.InstanceIpv6Address{{Ipv6Address: aws.String(pf.Addr().Next().String())}}})
	apitest.WantCode(t, err, "InvalidIPAddress.InUse")
	other := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.sub6)})
	_, err = x.c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: other.NetworkInterfaceId, Ipv6Prefixes: []string{pf.String()}})
	apitest.WantCode(t, err, "InvalidIPAddress.InUse")
	_, err = x.c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: other.NetworkInterfaceId, Ipv6Prefixes: []string{block.String()}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	// Assign and unassign.
	out, err := x.c.AssignIpv6Addresses(ctx, &ec2.AssignIpv6AddressesInput{NetworkInterfaceId: aws.String(id), Ipv6PrefixCount: aws.Int32(2)})
	if err != nil || len(out.AssignedIpv6Prefixes) != 2 || len(out.AssignedIpv6Addresses) != 0 {
		t.Fatalf("assign: %+v %v", out, err)
	}
	if got := x.get(t, id).Ipv6Prefixes; len(got) != 3 {
		t.Fatalf("described %+v", got)
	}
	un, err := x.c.UnassignIpv6Addresses(ctx, &ec2.UnassignIpv6AddressesInput{NetworkInterfaceId: aws.String(id), Ipv6Prefixes: out.AssignedIpv6Prefixes})
	if err != nil || !slices.Equal(un.UnassignedIpv6Prefixes, out.AssignedIpv6Prefixes) {
		t.Fatalf("unassign: %+v %v", un, err)
	}
	_, err = x.c.UnassignIpv6Addresses(ctx, &ec2.UnassignIpv6AddressesInput{NetworkInterfaceId: other.NetworkInterfaceId, Ipv6Prefixes: []string{pf.String()}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	if got := x.get(t, id).Ipv6Prefixes; len(got) != 1 || aws.ToString(got[0].Ipv6Prefix) != pf.String() {
		t.Fatalf("after unassign %+v", got)
	}
	// The instance type's IPv6 limit counts a prefix as one (t3.nano: 2).
	_, err = x.c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Nano,
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(x.sub6), Ipv6PrefixCount: aws.Int32(3)}}})
	apitest.WantCode(t, err, "InvalidInterface.IpAddressLimitExceeded")
	inst := runInstance(t, x.c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Nano,
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(x.sub6), Ipv6PrefixCount: aws.Int32(1)}}})
	if len(inst.NetworkInterfaces[0].Ipv6Prefixes) != 1 {
		t.Fatalf("launched with %+v", inst.NetworkInterfaces[0])
	}
	if errs := x.e.Core.Check(); len(errs) > 0 {
		t.Fatalf("invariants: %v", errs)
	}
}

// ConnectionTrackingSpecification: stored within AWS's ranges, shown as
// ConnectionTrackingConfiguration, changed one field at a time.
func TestENIConnectionTracking(t *testing.T) {
	x := newENIEnv(t)
	plain := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA)})
	if plain.ConnectionTrackingConfiguration != nil {
		t.Errorf("an ENI created without one shows %+v", plain.ConnectionTrackingConfiguration)
	}
	n := x.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA),
		ConnectionTrackingSpecification: &types.ConnectionTrackingSpecificationRequest{TcpEstablishedTimeout: aws.Int32(300)}})
	id := aws.ToString(n.NetworkInterfaceId)
	want := func(tcp, stream, udp int32) {
		t.Helper()
		c := x.get(t, id).ConnectionTrackingConfiguration
		if c == nil || aws.ToInt32(c.TcpEstablishedTimeout) != tcp || aws.ToInt32(c.UdpStreamTimeout) != stream || aws.ToInt32(c.UdpTimeout) != udp {
			t.Fatalf("configuration %+v, want %d/%d/%d", c, tcp, stream, udp)
		}
	}
	want(300, 180, 30)
	if _, err := x.c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id),
		ConnectionTrackingSpecification: &types.ConnectionTrackingSpecificationRequest{UdpTimeout: aws.Int32(60)}}); err != nil {
		t.Fatal(err)
	}
	want(300, 180, 60)
	for _, bad := range []types.ConnectionTrackingSpecificationRequest{
		{TcpEstablishedTimeout: aws.Int32(59)}, {TcpEstablishedTimeout: aws.Int32(432001)},
		{UdpStreamTimeout: aws.Int32(181)}, {UdpTimeout: aws.Int32(29)},
	} {
		_, err := x.c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), ConnectionTrackingSpecification: &bad})
		apitest.WantCode(t, err, "InvalidParameterValue")
		_, err = x.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(x.subA), ConnectionTrackingSpecification: &bad})
		apitest.WantCode(t, err, "InvalidParameterValue")
	}
	want(300, 180, 60)
	inst := runInstance(t, x.c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeM5Large, NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{
		DeviceIndex: aws.Int32(0), SubnetId: aws.String(x.subA), ConnectionTrackingSpecification: &types.ConnectionTrackingSpecificationRequest{UdpStreamTimeout: aws.Int32(60)}}}})
	if c := inst.NetworkInterfaces[0].ConnectionTrackingConfiguration; c == nil || aws.ToInt32(c.UdpStreamTimeout) != 60 || aws.ToInt32(c.TcpEstablishedTimeout) != 432000 {
		t.Errorf("launched with %+v", c)
	}
}
