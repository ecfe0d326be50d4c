package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/ec2wire"
)

const addrAMI = "ami-0a3c3a20c09d6f377"

func addrAlloc(t *testing.T, c *ec2.Client) *ec2.AllocateAddressOutput {
	t.Helper()
	out, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// addrLaunch runs one instance in the default subnet of the first AZ.
func addrLaunch(t *testing.T, c *ec2.Client) types.Instance {
	t.Helper()
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(addrAMI), InstanceType: types.InstanceTypeM5Large, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1a")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Instances[0]
}

func addrCreateENI(t *testing.T, c *ec2.Client, subnet string, secondary int32) types.NetworkInterface {
	t.Helper()
	in := &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet)}
	if secondary > 0 {
		in.SecondaryPrivateIpAddressCount = aws.Int32(secondary)
	}
	out, err := c.CreateNetworkInterface(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return *out.NetworkInterface
}

func addrDescribe(t *testing.T, c *ec2.Client, allocID string) types.Address {
	t.Helper()
	out, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{allocID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Addresses) != 1 {
		t.Fatalf("describe %s: %+v", allocID, out.Addresses)
	}
	return out.Addresses[0]
}

func addrDescribeENI(t *testing.T, c *ec2.Client, id string) types.NetworkInterface {
	t.Helper()
	out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return out.NetworkInterfaces[0]
}

func TestAllocateAddress(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	out, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeElasticIp, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Domain != types.DomainTypeVpc || aws.ToString(out.PublicIpv4Pool) != "amazon" || aws.ToString(out.NetworkBorderGroup) != "us-east-1" ||
		aws.ToString(out.PublicIp) == "" || len(aws.ToString(out.AllocationId)) != len("eipalloc-")+17 {
		t.Fatalf("allocate = %+v", out)
	}
	a := addrDescribe(t, c, aws.ToString(out.AllocationId))
	if aws.ToString(a.PublicIp) != aws.ToString(out.PublicIp) || a.Domain != types.DomainTypeVpc || len(a.Tags) != 1 ||
		aws.ToString(a.Tags[0].Value) != "web" || a.AssociationId != nil || aws.ToString(a.NetworkBorderGroup) != "us-east-1" {
		t.Fatalf("describe = %+v", a)
	}
	// Dry run allocates nothing.
	_, err = c.AllocateAddress(ctx, &ec2.AllocateAddressInput{DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	all, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil || len(all.Addresses) != 1 {
		t.Fatalf("addresses = %+v %v", all, err)
	}
	// Another region has its own addresses.
	other, err := e.Client("eu-west-1").DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil || len(other.Addresses) != 0 {
		t.Fatalf("eu-west-1 addresses = %+v %v", other, err)
	}
}

func TestAllocateAddressLimitExceeded(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	for i := 0; i < 5; i++ {
		addrAlloc(t, c)
	}
	_, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	apitest.WantCode(t, err, "AddressLimitExceeded")
	// The quota is per region.
	if _, err := e.Client("eu-west-1").AllocateAddress(ctx, &ec2.AllocateAddressInput{}); err != nil {
		t.Fatal(err)
	}
}

func TestAllocateAddressRecover(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	out := addrAlloc(t, c)
	_, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Address: out.PublicIp})
	apitest.WantCode(t, err, "InvalidAddress.NotFound")
	if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: out.AllocationId}); err != nil {
		t.Fatal(err)
	}
	back, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Address: out.PublicIp})
	if err != nil || aws.ToString(back.PublicIp) != aws.ToString(out.PublicIp) {
		t.Fatalf("recover: %+v %v", back, err)
	}
	_, err = c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Address: aws.String("192.0.2.7")})
	apitest.WantCode(t, err, "InvalidAddress.NotFound")
}

func TestAssociateAddressInstance(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	eni := aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId)
	primary := aws.ToString(inst.PrivateIpAddress)
	out := addrAlloc(t, c)
	assoc, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(assoc.AssociationId)
	if len(id) != len("eipassoc-")+17 {
		t.Fatalf("association id %q", id)
	}
	a := addrDescribe(t, c, aws.ToString(out.AllocationId))
	if aws.ToString(a.AssociationId) != id || aws.ToString(a.InstanceId) != aws.ToString(inst.InstanceId) ||
		aws.ToString(a.NetworkInterfaceId) != eni || aws.ToString(a.PrivateIpAddress) != primary ||
		aws.ToString(a.NetworkInterfaceOwnerId) != "123456789012" {
		t.Fatalf("describe = %+v", a)
	}
	// The ENI shows the Elastic IP; the auto-assigned public IP is gone.
	n := addrDescribeENI(t, c, eni)
	if n.Association == nil || aws.ToString(n.Association.PublicIp) != aws.ToString(out.PublicIp) || aws.ToString(n.Association.AllocationId) != aws.ToString(out.AllocationId) {
		t.Fatalf("ENI association = %+v", n.Association)
	}
	// Idempotent for the same target.
	again, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId, AllowReassociation: aws.Bool(false)})
	if err != nil || aws.ToString(again.AssociationId) != id {
		t.Fatalf("again: %+v %v", again, err)
	}
}

func TestAssociateAddressReleasesAutoPublicIP(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	auto := aws.ToString(inst.PublicIpAddress)
	if auto == "" {
		t.Skip("RunInstances gave no auto-assigned public IP in the default subnet")
	}
	out := addrAlloc(t, c)
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, NetworkInterfaceId: inst.NetworkInterfaces[0].NetworkInterfaceId}); err != nil {
		t.Fatal(err)
	}
	var got []core.PublicMapping
	_ = e.Core.Read(core.Caller{Account: "123456789012", Region: "us-east-1"}, nil, func(tx *core.Tx) error { got = tx.PublicMappings(); return nil })
	if len(got) != 1 || got[0].Public != aws.ToString(out.PublicIp) || got[0].Private != aws.ToString(inst.PrivateIpAddress) {
		t.Fatalf("public mappings = %+v (auto-assigned was %s)", got, auto)
	}
	// The released address can be recovered as an Elastic IP.
	if _, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Address: aws.String(auto)}); err != nil {
		t.Fatalf("recover released %s: %v", auto, err)
	}
}

func TestAssociateAddressENIPrivateIP(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	subnet := aws.ToString(addrLaunch(t, c).SubnetId)
	n := addrCreateENI(t, c, subnet, 1)
	var secondary string
	for _, ip := range n.PrivateIpAddresses {
		if !aws.ToBool(ip.Primary) {
			secondary = aws.ToString(ip.PrivateIpAddress)
		}
	}
	out := addrAlloc(t, c)
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, NetworkInterfaceId: n.NetworkInterfaceId, PrivateIpAddress: aws.String(secondary)}); err != nil {
		t.Fatal(err)
	}
	a := addrDescribe(t, c, aws.ToString(out.AllocationId))
	if aws.ToString(a.PrivateIpAddress) != secondary || a.InstanceId != nil {
		t.Fatalf("describe = %+v", a)
	}
	// Default: the primary address.
	p := addrAlloc(t, c)
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: p.AllocationId, NetworkInterfaceId: n.NetworkInterfaceId}); err != nil {
		t.Fatal(err)
	}
	if a := addrDescribe(t, c, aws.ToString(p.AllocationId)); aws.ToString(a.PrivateIpAddress) != aws.ToString(n.PrivateIpAddress) {
		t.Fatalf("default private IP = %+v", a)
	}
}

func TestAssociateAddressInvalidParameterValue(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	subnet := aws.ToString(addrLaunch(t, c).SubnetId)
	n := addrCreateENI(t, c, subnet, 0)
	out := addrAlloc(t, c)
	_, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, NetworkInterfaceId: n.NetworkInterfaceId, PrivateIpAddress: aws.String("172.31.15.250")})
	apitest.WantCode(t, err, "InvalidParameterValue")
}

func TestAssociateAddressInvalidParameterCombination(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	out := addrAlloc(t, c)
	_, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId, NetworkInterfaceId: inst.NetworkInterfaces[0].NetworkInterfaceId})
	apitest.WantCode(t, err, "InvalidParameterCombination")
}

func TestAssociateAddressMultipleInterfaces(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	n := addrCreateENI(t, c, aws.ToString(inst.SubnetId), 0)
	if _, err := c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: n.NetworkInterfaceId, InstanceId: inst.InstanceId, DeviceIndex: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	out := addrAlloc(t, c)
	_, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId})
	apitest.WantCode(t, err, "InvalidInstanceID")
	// Naming the interface works.
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, NetworkInterfaceId: n.NetworkInterfaceId}); err != nil {
		t.Fatal(err)
	}
	if a := addrDescribe(t, c, aws.ToString(out.AllocationId)); aws.ToString(a.InstanceId) != aws.ToString(inst.InstanceId) {
		t.Fatalf("instance-id of an EIP on a secondary ENI = %+v", a)
	}
}

func TestAssociateAddressIncorrectInstanceState(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	// Instances launch straight to running without a data plane: make one
	// pending directly in the model.
	const pending = "i-0000000000000abcd"
	if err := e.Core.Write(core.Caller{Account: "123456789012", Region: "us-east-1"}, false, nil, func(tx *core.Tx) error {
		tx.PutInstanceForTest(pending, "m5.large", "us-east-1a", aws.ToString(inst.SubnetId), aws.ToString(inst.VpcId), "pending")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out := addrAlloc(t, c)
	_, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: aws.String(pending)})
	apitest.WantCode(t, err, "IncorrectInstanceState")
	// So does a terminated one.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId})
	apitest.WantCode(t, err, "IncorrectInstanceState")
}

func TestAssociateAddressNotFound(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	out := addrAlloc(t, c)
	_, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: aws.String("eipalloc-0123456789abcdef0"), InstanceId: inst.InstanceId})
	apitest.WantCode(t, err, "InvalidAllocationID.NotFound")
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, NetworkInterfaceId: aws.String("eni-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: aws.String("i-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{PublicIp: aws.String("203.0.113.254"), InstanceId: inst.InstanceId})
	apitest.WantCode(t, err, "InvalidAddress.NotFound")
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId})
	apitest.WantCode(t, err, "MissingParameter")
	// Another account's Elastic IP is not found.
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(addrOtherAccountEIP(t, e)), InstanceId: inst.InstanceId})
	apitest.WantCode(t, err, "InvalidAllocationID.NotFound")
}

// addrOtherAccountEIP allocates an Elastic IP for another account, directly in the model.
func addrOtherAccountEIP(t *testing.T, e *apitest.Env) string {
	t.Helper()
	var id string
	if err := e.Core.Write(core.Caller{Account: "210987654321", Region: "us-east-1"}, false, nil, func(tx *core.Tx) error {
		out, err := tx.AllocateAddress(&ec2wire.AllocateAddressInput{})
		if err != nil {
			return err
		}
		id = aws.ToString(out.AllocationId)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAssociateAddressReassociation(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	subnet := aws.ToString(addrLaunch(t, c).SubnetId)
	n1 := addrCreateENI(t, c, subnet, 0)
	n2 := addrCreateENI(t, c, subnet, 0)
	a := addrAlloc(t, c)
	b := addrAlloc(t, c)
	first, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, NetworkInterfaceId: n1.NetworkInterfaceId})
	if err != nil {
		t.Fatal(err)
	}
	// The EIP is in use: AllowReassociation=false refuses to move it.
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, NetworkInterfaceId: n2.NetworkInterfaceId, AllowReassociation: aws.Bool(false)})
	apitest.WantCode(t, err, "Resource.AlreadyAssociated")
	// The private address has an EIP: AllowReassociation=false refuses to replace it.
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: b.AllocationId, NetworkInterfaceId: n1.NetworkInterfaceId, AllowReassociation: aws.Bool(false)})
	apitest.WantCode(t, err, "Resource.AlreadyAssociated")
	// By default an associated EIP moves.
	moved, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, NetworkInterfaceId: n2.NetworkInterfaceId})
	if err != nil || aws.ToString(moved.AssociationId) == aws.ToString(first.AssociationId) {
		t.Fatalf("move: %+v %v", moved, err)
	}
	if got := addrDescribe(t, c, aws.ToString(a.AllocationId)); aws.ToString(got.NetworkInterfaceId) != aws.ToString(n2.NetworkInterfaceId) {
		t.Fatalf("moved = %+v", got)
	}
	if got := addrDescribeENI(t, c, aws.ToString(n1.NetworkInterfaceId)); got.Association != nil {
		t.Fatalf("old ENI still shows %+v", got.Association)
	}
	// With reassociation allowed, another EIP takes the address and the first is disassociated.
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: b.AllocationId, NetworkInterfaceId: n2.NetworkInterfaceId, AllowReassociation: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if got := addrDescribe(t, c, aws.ToString(a.AllocationId)); got.AssociationId != nil || got.NetworkInterfaceId != nil {
		t.Fatalf("displaced EIP = %+v", got)
	}
	// The old association id is gone.
	_, err = c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: moved.AssociationId})
	apitest.WantCode(t, err, "InvalidAssociationID.NotFound")
}

func TestAssociateAddressGatewayNotAttached(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	subnet := addrSubnet(t, c, vpcID, "10.1.1.0/24")
	n := addrCreateENI(t, c, subnet, 0)
	out := addrAlloc(t, c)
	_, err = c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, NetworkInterfaceId: n.NetworkInterfaceId})
	apitest.WantCode(t, err, "Gateway.NotAttached")
	if got := addrDescribe(t, c, aws.ToString(out.AllocationId)); got.AssociationId != nil {
		t.Fatalf("associated anyway: %+v", got)
	}
	// Attach a gateway and it works.
	addrAttachGateway(t, c, vpcID)
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, NetworkInterfaceId: n.NetworkInterfaceId}); err != nil {
		t.Fatal(err)
	}
}

// addrSubnet creates a subnet in the first AZ.
func addrSubnet(t *testing.T, c *ec2.Client, vpcID, cidr string) string {
	t.Helper()
	out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Subnet.SubnetId)
}

// addrAttachGateway creates an internet gateway and attaches it to the VPC.
func addrAttachGateway(t *testing.T, c *ec2.Client, vpcID string) {
	t.Helper()
	g, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: g.InternetGateway.InternetGatewayId, VpcId: aws.String(vpcID)}); err != nil {
		t.Fatal(err)
	}
}

func TestDisassociateAddress(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	out := addrAlloc(t, c)
	assoc, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc.AssociationId, DryRun: aws.Bool(true)})
	apitest.WantCode(t, err, "DryRunOperation")
	if _, err := c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc.AssociationId}); err != nil {
		t.Fatal(err)
	}
	a := addrDescribe(t, c, aws.ToString(out.AllocationId))
	if a.AssociationId != nil || a.InstanceId != nil || a.NetworkInterfaceId != nil || a.PrivateIpAddress != nil {
		t.Fatalf("after disassociate: %+v", a)
	}
	if n := addrDescribeENI(t, c, aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId)); n.Association != nil && aws.ToString(n.Association.PublicIp) == aws.ToString(out.PublicIp) {
		t.Fatalf("ENI still shows the EIP: %+v", n.Association)
	}
	_, err = c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc.AssociationId})
	apitest.WantCode(t, err, "InvalidAssociationID.NotFound")
	// The legacy public-IP form is idempotent for an unassociated address.
	if _, err := c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{PublicIp: out.PublicIp}); err != nil {
		t.Fatal(err)
	}
}

// ReleaseAddress of an address associated with an instance of the default
// VPC disassociates and releases it (the instance gets an auto-assigned
// public IP back, as after DisassociateAddress); in any other VPC the
// address must be disassociated first (InvalidIPAddress.InUse).
func TestReleaseAddress(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	out := addrAlloc(t, c)
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: out.AllocationId}); err != nil {
		t.Fatalf("release in the default VPC: %v", err)
	}
	_, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(out.AllocationId)}})
	apitest.WantCode(t, err, "InvalidAllocationID.NotFound")
	n := addrDescribeENI(t, c, aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId))
	if n.Association == nil || aws.ToString(n.Association.PublicIp) == aws.ToString(out.PublicIp) || aws.ToString(n.Association.IpOwnerId) != "amazon" {
		t.Fatalf("after release: ENI association %+v", n.Association)
	}

	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	addrAttachGateway(t, c, aws.ToString(vpc.Vpc.VpcId))
	eni := addrCreateENI(t, c, addrSubnet(t, c, aws.ToString(vpc.Vpc.VpcId), "10.1.1.0/24"), 0)
	out = addrAlloc(t, c)
	assoc, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: out.AllocationId})
	apitest.WantCode(t, err, "InvalidIPAddress.InUse")
	if a := addrDescribe(t, c, aws.ToString(out.AllocationId)); aws.ToString(a.AssociationId) != aws.ToString(assoc.AssociationId) {
		t.Fatalf("refused release changed the address: %+v", a)
	}
	if _, err := c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc.AssociationId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: out.AllocationId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: out.AllocationId})
	apitest.WantCode(t, err, "InvalidAllocationID.NotFound")
}

func TestReleaseAddressOnTerminate(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	out := addrAlloc(t, c)
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	// The primary ENI was deleted: the EIP stays allocated, disassociated, and can be released.
	if a := addrDescribe(t, c, aws.ToString(out.AllocationId)); a.AssociationId != nil {
		t.Fatalf("after terminate: %+v", a)
	}
	if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: out.AllocationId}); err != nil {
		t.Fatal(err)
	}
}

func TestDescribeAddressesFilters(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	a := addrAlloc(t, c)
	b, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeElasticIp, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	assoc, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, InstanceId: inst.InstanceId})
	if err != nil {
		t.Fatal(err)
	}
	aid, bid := aws.ToString(a.AllocationId), aws.ToString(b.AllocationId)
	eni := aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId)
	cases := []struct {
		name, value string
		want        []string
	}{
		{"allocation-id", bid, []string{bid}},
		{"association-id", aws.ToString(assoc.AssociationId), []string{aid}},
		{"instance-id", aws.ToString(inst.InstanceId), []string{aid}},
		{"network-interface-id", eni, []string{aid}},
		{"network-interface-owner-id", "123456789012", []string{aid}},
		{"private-ip-address", aws.ToString(inst.PrivateIpAddress), []string{aid}},
		{"public-ip", aws.ToString(b.PublicIp), []string{bid}},
		{"network-border-group", "us-east-1", []string{aid, bid}},
		{"domain", "vpc", []string{aid, bid}},
		{"tag:team", "net", []string{bid}},
		{"tag-key", "team", []string{bid}},
		{"public-ip", "192.0.2.*", nil},
	}
	for _, tc := range cases {
		out, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{{Name: aws.String(tc.name), Values: []string{tc.value}}}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := map[string]bool{}
		for _, x := range out.Addresses {
			got[aws.ToString(x.AllocationId)] = true
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s=%s: got %v, want %v", tc.name, tc.value, got, tc.want)
		}
		for _, w := range tc.want {
			if !got[w] {
				t.Errorf("%s=%s: got %v, want %v", tc.name, tc.value, got, tc.want)
			}
		}
	}
	byIP, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{PublicIps: []string{aws.ToString(a.PublicIp)}})
	if err != nil || len(byIP.Addresses) != 1 || aws.ToString(byIP.Addresses[0].AllocationId) != aid {
		t.Fatalf("by public IP: %+v %v", byIP, err)
	}
	_, err = c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{PublicIps: []string{"192.0.2.1"}})
	apitest.WantCode(t, err, "InvalidAddress.NotFound")
	_, err = c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{"eipalloc-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidAllocationID.NotFound")
	_, err = c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{"eipalloc-x"}})
	apitest.WantCode(t, err, "InvalidAllocationID.Malformed")
	_, err = c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	apitest.WantCode(t, err, "InvalidParameterValue")
}

func TestDisassociateAddressRestoresPublicIP(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := addrLaunch(t, c)
	if inst.PublicIpAddress == nil {
		t.Skip("RunInstances gave no auto-assigned public IP in the default subnet")
	}
	out := addrAlloc(t, c)
	assoc, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc.AssociationId}); err != nil {
		t.Fatal(err)
	}
	n := addrDescribeENI(t, c, aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId))
	if n.Association == nil || aws.ToString(n.Association.PublicIp) == "" || aws.ToString(n.Association.PublicIp) == aws.ToString(out.PublicIp) ||
		aws.ToString(n.Association.IpOwnerId) != "amazon" {
		t.Fatalf("after disassociate: ENI association %+v", n.Association)
	}
}

func TestAddressesSurviveRestart(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	inst := addrLaunch(t, c)
	out := addrAlloc(t, c)
	assoc, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: out.AllocationId, InstanceId: inst.InstanceId})
	if err != nil {
		t.Fatal(err)
	}
	path := e.Path
	e.Close()
	e2 := apitest.New(t, apitest.Options{Path: path})
	c2 := e2.Client()
	a := addrDescribe(t, c2, aws.ToString(out.AllocationId))
	if aws.ToString(a.AssociationId) != aws.ToString(assoc.AssociationId) || aws.ToString(a.InstanceId) != aws.ToString(inst.InstanceId) {
		t.Fatalf("after restart: %+v", a)
	}
	// The rebuilt indexes find the association and keep the address taken.
	_, err = c2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Address: out.PublicIp})
	apitest.WantCode(t, err, "InvalidAddress.NotFound")
	if _, err := c2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc.AssociationId}); err != nil {
		t.Fatal(err)
	}
	if errs := e2.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
