package api_test

import (
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// allocEnv is a server picking private addresses the given way, with a VPC
// 10.0.0.0/16, a /24 subnet and a /28 subnet.
func allocEnv(t *testing.T, how string) (c *ec2.Client, sub24, sub28 string) {
	t.Helper()
	cfg := core.DefaultConfig()
	cfg.PrivateIPAllocation = how
	c = apitest.New(t, apitest.Options{Config: &cfg}).Client()
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub := func(cidr string) string {
		out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String("us-east-1a")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Subnet.SubnetId)
	}
	return c, sub("10.0.1.0/24"), sub("10.0.2.0/28")
}

func allocENI(t *testing.T, c *ec2.Client, in *ec2.CreateNetworkInterfaceInput) *types.NetworkInterface {
	t.Helper()
	out, err := c.CreateNetworkInterface(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out.NetworkInterface
}

// TestPrivateIPAllocationRandom: with AllocRandom (eni serve's default) an
// address nobody asked for is a free one from anywhere in the subnet, as AWS
// picks them, never a reserved or taken one, so fixed addresses a client
// chose for later (amazon.aws's ec2_eni target takes .133–.135 of its subnet
// after creating interfaces without one) are unlikely to be taken; a full
// subnet still answers InsufficientFreeAddressesInSubnet.
func TestPrivateIPAllocationRandom(t *testing.T) {
	c, sub24, sub28 := allocEnv(t, core.AllocRandom)
	p24 := netip.MustParsePrefix("10.0.1.0/24")
	allocENI(t, c, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(sub24), PrivateIpAddress: aws.String("10.0.1.10")})
	seen := map[netip.Addr]bool{netip.MustParseAddr("10.0.1.10"): true}
	low := 0 // addresses the lowest-first way would have given: .4–.24 but .10
	take := func(s string) {
		t.Helper()
		a := netip.MustParseAddr(s)
		if !p24.Contains(a) || a.As4()[3] < 4 || a.As4()[3] == 255 || seen[a] {
			t.Fatalf("allocated %s: outside the subnet's usable addresses or taken (%v)", a, seen)
		}
		seen[a] = true
		if a.As4()[3] <= 24 {
			low++
		}
	}
	for range 15 {
		take(aws.ToString(allocENI(t, c, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(sub24)}).PrivateIpAddress))
	}
	n := allocENI(t, c, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(sub24), SecondaryPrivateIpAddressCount: aws.Int32(2)})
	for _, pi := range n.PrivateIpAddresses {
		take(aws.ToString(pi.PrivateIpAddress))
	}
	as, err := c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: n.NetworkInterfaceId, SecondaryPrivateIpAddressCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	for _, pi := range as.AssignedPrivateIpAddresses {
		take(aws.ToString(pi.PrivateIpAddress))
	}
	if low == len(seen)-1 {
		t.Fatalf("all %d addresses are the lowest free ones, not random: %v", low, seen)
	}
	// A /28 has 11 usable addresses: each given once, then none.
	p28 := netip.MustParsePrefix("10.0.2.0/28")
	got := map[netip.Addr]bool{}
	for range 11 {
		a := netip.MustParseAddr(aws.ToString(allocENI(t, c, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(sub28)}).PrivateIpAddress))
		if !p28.Contains(a) || a.As4()[3] < 4 || a.As4()[3] == 15 || got[a] {
			t.Fatalf("allocated %s in 10.0.2.0/28 (have %v)", a, got)
		}
		got[a] = true
	}
	_, err = c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(sub28)})
	apitest.WantCode(t, err, "InsufficientFreeAddressesInSubnet")
	// Instances get theirs the same way.
	r, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(sub24)})
	if err != nil {
		t.Fatal(err)
	}
	take(aws.ToString(r.Instances[0].PrivateIpAddress))
}

// TestPrivateIPAllocationLowest: AllocLowest (the core's default, and eni
// serve --private-ip-allocation lowest) gives the lowest free addresses, in
// order: predictable addresses for labs and tests.
func TestPrivateIPAllocationLowest(t *testing.T) {
	c, sub24, _ := allocEnv(t, core.AllocLowest)
	for _, want := range []string{"10.0.1.4", "10.0.1.5", "10.0.1.6"} {
		if got := aws.ToString(allocENI(t, c, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(sub24)}).PrivateIpAddress); got != want {
			t.Fatalf("allocated %s, want %s", got, want)
		}
	}
	if _, err := core.ParsePrivateIPAllocation("sequential"); err == nil {
		t.Fatal("ParsePrivateIPAllocation accepted sequential")
	}
	for in, want := range map[string]string{"": core.AllocLowest, "lowest": core.AllocLowest, "random": core.AllocRandom} {
		if got, err := core.ParsePrivateIPAllocation(in); err != nil || got != want {
			t.Fatalf("ParsePrivateIPAllocation(%q) = %q, %v", in, got, err)
		}
	}
}
