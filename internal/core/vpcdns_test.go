package core

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// dnsWorld is two VPCs of us-east-1: A (10.0.0.0/16, a subnet with resource names and
// A records) with instances a1 (ip-name, an Elastic IP, a secondary address) and a2
// (resource-name); B (10.1.0.0/16) with b1.
type dnsWorld struct {
	c                  *Core
	vpcA, vpcB         string
	a1, a2, b1         *ec2wire.Instance
	a1Secondary, a1EIP string
}

func newDNSWorld(t *testing.T) dnsWorld {
	t.Helper()
	w := dnsWorld{c: newTestCore(t)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var sA, sARes, sB string
	must(mutate(t, w.c, func(tx *Tx) error {
		for _, v := range []struct {
			cidr string
			id   *string
		}{{"10.0.0.0/16", &w.vpcA}, {"10.1.0.0/16", &w.vpcB}} {
			out, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p(v.cidr)})
			if err != nil {
				return err
			}
			*v.id = *out.Vpc.VpcId
		}
		for _, s := range []struct {
			vpc, cidr string
			id        *string
		}{{w.vpcA, "10.0.1.0/24", &sA}, {w.vpcA, "10.0.2.0/24", &sARes}, {w.vpcB, "10.1.1.0/24", &sB}} {
			out, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: p(s.vpc), CidrBlock: p(s.cidr), AvailabilityZone: p("us-east-1a")})
			if err != nil {
				return err
			}
			*s.id = *out.Subnet.SubnetId
		}
		if _, err := tx.ModifySubnetAttribute(&ec2wire.ModifySubnetAttributeInput{SubnetId: p(sARes), PrivateDnsHostnameTypeOnLaunch: p("resource-name")}); err != nil {
			return err
		}
		_, err := tx.ModifySubnetAttribute(&ec2wire.ModifySubnetAttributeInput{SubnetId: p(sARes), EnableResourceNameDnsARecordOnLaunch: &ec2wire.AttributeBooleanValue{Value: p(true)}})
		return err
	}))
	var err error
	w.a1, err = runOne(t, w.c, &ec2wire.RunInstancesInput{SubnetId: p(sA)})
	must(err)
	w.a2, err = runOne(t, w.c, &ec2wire.RunInstancesInput{SubnetId: p(sARes)})
	must(err)
	w.b1, err = runOne(t, w.c, &ec2wire.RunInstancesInput{SubnetId: p(sB)})
	must(err)
	must(mutate(t, w.c, func(tx *Tx) error {
		eni := *w.a1.NetworkInterfaces[0].NetworkInterfaceId
		out, err := tx.AssignPrivateIpAddresses(&ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(eni), SecondaryPrivateIpAddressCount: p(int32(1))})
		if err != nil {
			return err
		}
		w.a1Secondary = *out.AssignedPrivateIpAddresses[0].PrivateIpAddress
		igw, err := tx.CreateInternetGateway(&ec2wire.CreateInternetGatewayInput{})
		if err != nil {
			return err
		}
		if _, err := tx.AttachInternetGateway(&ec2wire.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: p(w.vpcA)}); err != nil {
			return err
		}
		alloc, err := tx.AllocateAddress(&ec2wire.AllocateAddressInput{Domain: p("vpc")})
		if err != nil {
			return err
		}
		w.a1EIP = *alloc.PublicIp
		_, err = tx.AssociateAddress(&ec2wire.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: w.a1.InstanceId})
		return err
	}))
	return w
}

func (w dnsWorld) attr(t *testing.T, vpc string, in ec2wire.ModifyVpcAttributeInput) {
	t.Helper()
	in.VpcId = p(vpc)
	if err := mutate(t, w.c, func(tx *Tx) error { _, err := tx.ModifyVpcAttribute(&in); return err }); err != nil {
		t.Fatal(err)
	}
}

func on(v bool) *ec2wire.AttributeBooleanValue { return &ec2wire.AttributeBooleanValue{Value: &v} }

// dnsA is the answer of a name with IPv4 addresses.
func dnsA(ips ...string) DNSAnswer {
	a := DNSAnswer{Exists: true}
	for _, ip := range ips {
		a.A = append(a.A, netip.MustParseAddr(ip))
	}
	return a
}

func sameAnswer(a, b DNSAnswer) bool {
	return a.Refused == b.Refused && a.Exists == b.Exists && slices.Equal(a.A, b.A) && slices.Equal(a.AAAA, b.AAAA) && a.PTR == b.PTR
}

// The VPC resolver answers private names (every address of the VPC's ENIs, A and PTR)
// in its VPC only, resource names as the instance's options say, public names with
// split horizon once the owning VPC has DNS hostnames, nothing outside, and nothing at
// all without DNS support; what a source adds is asked last.
func TestResolveVPCDNS(t *testing.T) {
	w := newDNSWorld(t)
	a1IP, a2IP, b1IP := *w.a1.PrivateIpAddress, *w.a2.PrivateIpAddress, *w.b1.PrivateIpAddress
	name := func(ip string) string { return "ip-" + dashes(ip) + ".ec2.internal" }
	pub := "ec2-" + dashes(w.a1EIP) + ".compute-1.amazonaws.com"
	ask := func(vpc, n string) DNSAnswer { return w.c.ResolveVPCDNS("us-east-1", vpc, n) }
	check := func(what, vpc, n string, want DNSAnswer) {
		t.Helper()
		if got := ask(vpc, n); !sameAnswer(got, want) {
			t.Errorf("%s: %s from %s: %+v, want %+v", what, n, vpc, got, want)
		}
	}
	check("private name", w.vpcA, name(a1IP), dnsA(a1IP))
	check("any case, final dot", w.vpcA, "IP-"+dashes(a1IP)+".EC2.Internal.", dnsA(a1IP))
	check("secondary address", w.vpcA, name(w.a1Secondary), dnsA(w.a1Secondary))
	check("resource-name instance's IP name", w.vpcA, name(a2IP), dnsA(a2IP))
	check("another VPC's private name", w.vpcA, name(b1IP), DNSAnswer{})
	check("an address no ENI holds", w.vpcA, "ip-10-0-1-250.ec2.internal", DNSAnswer{})
	check("other region's form", w.vpcA, "ip-"+dashes(a1IP)+".us-east-1.compute.internal", DNSAnswer{})
	check("outside", w.vpcA, "example.com", DNSAnswer{})
	check("PTR", w.vpcA, reverseName(a1IP), DNSAnswer{Exists: true, PTR: name(a1IP)})
	check("PTR of another VPC's address", w.vpcA, reverseName(b1IP), DNSAnswer{})
	check("resource name with A record", w.vpcA, *w.a2.InstanceId+".ec2.internal", dnsA(a2IP))
	check("resource name without records", w.vpcA, *w.a1.InstanceId+".ec2.internal", DNSAnswer{})
	check("resource name from another VPC", w.vpcB, *w.a2.InstanceId+".ec2.internal", DNSAnswer{})

	check("public name without DNS hostnames", w.vpcA, pub, DNSAnswer{})
	w.attr(t, w.vpcA, ec2wire.ModifyVpcAttributeInput{EnableDnsHostnames: on(true)})
	check("public name inside its VPC", w.vpcA, pub, dnsA(a1IP))
	check("public name from another VPC", w.vpcB, pub, dnsA(w.a1EIP))
	check("PTR of a public address", w.vpcB, reverseName(w.a1EIP), DNSAnswer{Exists: true, PTR: pub})
	if err := mutate(t, w.c, func(tx *Tx) error {
		a := tx.addressByPublicIP(w.a1EIP)
		_, err := tx.ModifyAddressAttribute(&ec2wire.ModifyAddressAttributeInput{AllocationId: p(a.AllocationID), DomainName: p("mail.example.com")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	check("PTR of an Elastic IP with its own record", w.vpcB, reverseName(w.a1EIP), DNSAnswer{Exists: true, PTR: "mail.example.com"})

	AddVPCDNSSource(func(tx *Tx, vpcID, n string) (DNSAnswer, bool) {
		if n != "hook.example.test" || vpcID != w.vpcB {
			return DNSAnswer{}, false
		}
		return dnsA("10.1.9.9"), true
	})
	check("a source's name", w.vpcB, "Hook.Example.Test.", dnsA("10.1.9.9"))
	check("a source's name elsewhere", w.vpcA, "hook.example.test", DNSAnswer{})

	w.attr(t, w.vpcA, ec2wire.ModifyVpcAttributeInput{EnableDnsHostnames: on(false)})
	w.attr(t, w.vpcA, ec2wire.ModifyVpcAttributeInput{EnableDnsSupport: on(false)})
	check("DNS support off", w.vpcA, name(a1IP), DNSAnswer{Refused: true})
	check("no such VPC", "vpc-0123456789abcdef0", name(a1IP), DNSAnswer{Refused: true})
	if got := w.c.ResolveVPCDNS("xx-nowhere-1", w.vpcA, name(a1IP)); !got.Refused {
		t.Errorf("a region not served: %+v", got)
	}
	if got := VPCResolverIP("10.0.0.0/16").String(); got != "10.0.0.2" {
		t.Errorf("VPCResolverIP(10.0.0.0/16) = %s", got)
	}
	if got := VPCResolverIP("172.31.16.0/20").String(); got != "172.31.16.2" {
		t.Errorf("VPCResolverIP(172.31.16.0/20) = %s", got)
	}
}

func dashes(ip string) string {
	b := []byte(ip)
	for i := range b {
		if b[i] == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

func reverseName(ip string) string {
	a := netip.MustParseAddr(ip).As4()
	return netip.AddrFrom4([4]byte{a[3], a[2], a[1], a[0]}).String() + ".in-addr.arpa"
}
