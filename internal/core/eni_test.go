package core

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
	"pgregory.net/rapid"
)

// eniFix is a VPC 10.0.0.0/16 with subnets in two AZs (one with IPv6), a
// second VPC with a subnet in AZ a, and a few groups.
type eniFix struct {
	c                      *Core
	vpc, vpc2              string
	subA, subB, sub6, sub2 string // sub6: 10.0.3.0/24 + IPv6 in AZ a; sub2 in vpc2
	tiny                   string // 10.0.9.0/28 in AZ a: 11 usable addresses
	defSG, sg1, sg2, sgV2  string
}

func newENIFix(t testing.TB) *eniFix {
	t.Helper()
	f := &eniFix{c: newTestCore(t)}
	eniMust(t, mutate(t, f.c, func(tx *Tx) error {
		v, _ := tx.createVPC("10.0.0.0/16", false, nil)
		v2, _ := tx.createVPC("10.1.0.0/16", false, nil)
		f.vpc, f.vpc2 = v.ID, v2.ID
		put := func(vpc, az, cidr, v6 string) string {
			id := tx.newID("subnet")
			tx.PutSubnetForTest(id, vpc, az, cidr, v6)
			return id
		}
		f.subA = put(v.ID, "us-east-1a", "10.0.1.0/24", "")
		f.subB = put(v.ID, "us-east-1b", "10.0.2.0/24", "")
		f.sub6 = put(v.ID, "us-east-1a", "10.0.3.0/24", "2600:1f00:0:3::/64")
		f.tiny = put(v.ID, "us-east-1a", "10.0.9.0/28", "")
		f.sub2 = put(v2.ID, "us-east-1a", "10.1.1.0/24", "")
		f.defSG = tx.eniDefaultGroup(v.ID)
		f.sgV2 = tx.eniDefaultGroup(v2.ID)
		f.sg1, f.sg2 = tx.newID("sg"), tx.newID("sg")
		tx.PutGroupForTest(f.sg1, v.ID, "web")
		tx.PutGroupForTest(f.sg2, v.ID, "db")
		return nil
	}))
	return f
}

func eniMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eniWantCode fails unless err is a core error with code.
func eniWantCode(t testing.TB, err error, code string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want error %s", err, code)
	}
	if ce.Code != code {
		t.Fatalf("got %s (%s), want %s", ce.Code, ce.Message, code)
	}
}

// do runs an operation in a write transaction and returns its result.
func eniDo[O any](t testing.TB, c *Core, fn func(tx *Tx) (O, error)) (O, error) {
	t.Helper()
	var out O
	err := mutate(t, c, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

func (f *eniFix) create(t testing.TB, in *ec2wire.CreateNetworkInterfaceInput) (ec2wire.NetworkInterface, error) {
	t.Helper()
	out, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.CreateNetworkInterfaceOutput, error) { return tx.CreateNetworkInterface(in) })
	if err != nil {
		return ec2wire.NetworkInterface{}, err
	}
	return *out.NetworkInterface, nil
}

func (f *eniFix) mustCreate(t testing.TB, subnet string, mod ...func(*ec2wire.CreateNetworkInterfaceInput)) ec2wire.NetworkInterface {
	t.Helper()
	in := &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(subnet)}
	for _, m := range mod {
		m(in)
	}
	n, err := f.create(t, in)
	eniMust(t, err)
	return n
}

func (f *eniFix) get(t testing.TB, id string) ec2wire.NetworkInterface {
	t.Helper()
	var out ec2wire.NetworkInterface
	eniMust(t, view(t, f.c, func(tx *Tx) error {
		e, err := tx.getENI(id)
		if err != nil {
			return err
		}
		out = tx.eniOut(e)
		return nil
	}))
	return out
}

func (f *eniFix) instance(t testing.TB, typ, az, state string) string {
	t.Helper()
	var id string
	eniMust(t, mutate(t, f.c, func(tx *Tx) error {
		id = tx.newID("i")
		tx.PutInstanceForTest(id, typ, az, f.subA, f.vpc, state)
		return nil
	}))
	return id
}

func (f *eniFix) setState(t testing.TB, inst, state string) {
	t.Helper()
	eniMust(t, mutate(t, f.c, func(tx *Tx) error { tx.instances.Mut(inst).State = state; return nil }))
}

func (f *eniFix) attach(t testing.TB, eni, inst string, dev int32) (string, error) {
	t.Helper()
	out, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.AttachNetworkInterfaceOutput, error) {
		return tx.AttachNetworkInterface(&ec2wire.AttachNetworkInterfaceInput{NetworkInterfaceId: p(eni), InstanceId: p(inst), DeviceIndex: p(dev)})
	})
	if err != nil {
		return "", err
	}
	return *out.AttachmentId, nil
}

func (f *eniFix) detach(t testing.TB, att string, force bool) error {
	t.Helper()
	_, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.DetachNetworkInterfaceOutput, error) {
		return tx.DetachNetworkInterface(&ec2wire.DetachNetworkInterfaceInput{AttachmentId: p(att), Force: p(force)})
	})
	return err
}

func (f *eniFix) assign(t testing.TB, in *ec2wire.AssignPrivateIpAddressesInput) (*ec2wire.AssignPrivateIpAddressesOutput, error) {
	t.Helper()
	return eniDo(t, f.c, func(tx *Tx) (*ec2wire.AssignPrivateIpAddressesOutput, error) { return tx.AssignPrivateIpAddresses(in) })
}

func (f *eniFix) unassign(t testing.TB, eni string, ips ...string) error {
	t.Helper()
	_, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.UnassignPrivateIpAddressesOutput, error) {
		return tx.UnassignPrivateIpAddresses(&ec2wire.UnassignPrivateIpAddressesInput{NetworkInterfaceId: p(eni), PrivateIpAddresses: ips})
	})
	return err
}

// eip puts an Elastic IP associated with the ENI's address ip.
func (f *eniFix) eip(t testing.TB, eni, ip, public string) string {
	t.Helper()
	var id string
	eniMust(t, mutate(t, f.c, func(tx *Tx) error {
		id = tx.newID("eipalloc")
		tx.addresses.Put(&Address{AllocationID: id, Owner: tx.Account, PublicIP: public, AssociationID: tx.newID("eipassoc"), ENIID: eni, PrivateIP: ip})
		return nil
	}))
	return id
}

func (f *eniFix) address(t testing.TB, alloc string) Address {
	t.Helper()
	var a Address
	eniMust(t, view(t, f.c, func(tx *Tx) error { a = *tx.addresses.Get(alloc); return nil }))
	return a
}

func eniIPs(n ec2wire.NetworkInterface) []string {
	var out []string
	for _, ip := range n.PrivateIpAddresses {
		out = append(out, *ip.PrivateIpAddress)
	}
	return out
}

var macRE = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)

func TestENICreateDefaults(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) { in.Description = p("hello") })
	if !validID(*n.NetworkInterfaceId, "eni") || *n.Status != "available" || *n.InterfaceType != "interface" ||
		*n.SubnetId != f.subA || *n.VpcId != f.vpc || *n.AvailabilityZone != "us-east-1a" || *n.Description != "hello" ||
		*n.OwnerId != testCaller.Account || *n.RequesterId != testCaller.Account || *n.RequesterManaged || !*n.SourceDestCheck {
		t.Fatalf("eni = %+v", n)
	}
	if !macRE.MatchString(*n.MacAddress) || (*n.MacAddress)[1] != '2' {
		t.Fatalf("mac = %s", *n.MacAddress)
	}
	if len(n.Groups) != 1 || *n.Groups[0].GroupId != f.defSG || *n.Groups[0].GroupName != "default" {
		t.Fatalf("groups = %+v", n.Groups)
	}
	ip := *n.PrivateIpAddress
	if !netip.MustParsePrefix("10.0.1.0/24").Contains(netip.MustParseAddr(ip)) || ip == "10.0.1.1" || ip == "10.0.1.0" {
		t.Fatalf("ip = %s", ip)
	}
	if want := "ip-" + regexp.MustCompile(`\.`).ReplaceAllString(ip, "-") + ".ec2.internal"; *n.PrivateDnsName != want {
		t.Fatalf("dns = %s, want %s", *n.PrivateDnsName, want)
	}
	if len(n.PrivateIpAddresses) != 1 || !*n.PrivateIpAddresses[0].Primary || *n.PrivateIpAddresses[0].PrivateDnsName != *n.PrivateDnsName {
		t.Fatalf("private ips = %+v", n.PrivateIpAddresses)
	}
	// CreateNetworkInterface never gives a public IPv4.
	if n.Association != nil || n.Attachment != nil {
		t.Fatalf("association/attachment = %+v %+v", n.Association, n.Attachment)
	}
	m := f.mustCreate(t, f.subA)
	if *m.MacAddress == *n.MacAddress || *m.PrivateIpAddress == ip {
		t.Fatal("MAC or address handed out twice")
	}
}

func TestENIPrivateDNSNameOtherRegion(t *testing.T) {
	c := newTestCore(t)
	who := Caller{Account: "123456789012", Region: "eu-west-1"}
	var n ec2wire.NetworkInterface
	eniMust(t, c.Write(who, false, nil, func(tx *Tx) error {
		var sub string
		tx.subnets.Each(func(s *Subnet) bool { sub = s.ID; return false })
		out, err := tx.CreateNetworkInterface(&ec2wire.CreateNetworkInterfaceInput{SubnetId: p(sub), PrivateIpAddress: nil})
		if err != nil {
			return err
		}
		n = *out.NetworkInterface
		return nil
	}))
	if want := regexp.MustCompile(`^ip-172-31-\d+-\d+\.eu-west-1\.compute\.internal$`); !want.MatchString(*n.PrivateDnsName) {
		t.Fatalf("dns = %s", *n.PrivateDnsName)
	}
	if eniPublicDNS("eu-west-1", "203.0.113.5") != "ec2-203-0-113-5.eu-west-1.compute.amazonaws.com" ||
		eniPublicDNS("us-east-1", "203.0.113.5") != "ec2-203-0-113-5.compute-1.amazonaws.com" {
		t.Fatal("public dns names")
	}
}

func TestENICreateExplicitAddresses(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) {
		in.PrivateIpAddresses = []ec2wire.PrivateIpAddressSpecification{
			{PrivateIpAddress: p("10.0.1.20")}, {PrivateIpAddress: p("10.0.1.10"), Primary: p(true)},
		}
	})
	if *n.PrivateIpAddress != "10.0.1.10" || !slices.Equal(eniIPs(n), []string{"10.0.1.10", "10.0.1.20"}) {
		t.Fatalf("ips = %v", eniIPs(n))
	}
	for _, tc := range []struct {
		name, ip, code string
	}{
		{"outside", "10.0.2.5", CodeInvalidParameterValue},
		{"network", "10.0.1.0", CodeInvalidParameterValue},
		{"router", "10.0.1.1", CodeInvalidParameterValue},
		{"dns", "10.0.1.2", CodeInvalidParameterValue},
		{"reserved3", "10.0.1.3", CodeInvalidParameterValue},
		{"broadcast", "10.0.1.255", CodeInvalidParameterValue},
		{"garbage", "x", CodeInvalidParameterValue},
		{"in use primary", "10.0.1.10", CodeInvalidIPAddressInUse},
		{"in use secondary", "10.0.1.20", CodeInvalidIPAddressInUse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA), PrivateIpAddress: p(tc.ip)})
			eniWantCode(t, err, tc.code)
		})
	}
	_, err := f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA), PrivateIpAddress: p("10.0.1.30"),
		PrivateIpAddresses: []ec2wire.PrivateIpAddressSpecification{{PrivateIpAddress: p("10.0.1.31"), Primary: p(true)}}})
	eniWantCode(t, err, CodeInvalidParameterCombination)
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA),
		PrivateIpAddresses:             []ec2wire.PrivateIpAddressSpecification{{PrivateIpAddress: p("10.0.1.31")}, {PrivateIpAddress: p("10.0.1.32")}},
		SecondaryPrivateIpAddressCount: p(int32(1))})
	eniWantCode(t, err, CodeInvalidParameterCombination)
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.sub6),
		Ipv6Addresses: []ec2wire.InstanceIpv6Address{{Ipv6Address: p("2600:1f00:0:3::10")}}, Ipv6AddressCount: p(int32(1))})
	eniWantCode(t, err, CodeInvalidParameterCombination)
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA),
		PrivateIpAddresses: []ec2wire.PrivateIpAddressSpecification{{PrivateIpAddress: p("10.0.1.40")}, {PrivateIpAddress: p("10.0.1.40")}}})
	eniWantCode(t, err, CodeInvalidParameterValue)
	// Primary plus a count is allowed.
	n = f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) {
		in.PrivateIpAddress = p("10.0.1.50")
		in.SecondaryPrivateIpAddressCount = p(int32(2))
	})
	if len(n.PrivateIpAddresses) != 3 || *n.PrivateIpAddress != "10.0.1.50" {
		t.Fatalf("ips = %v", eniIPs(n))
	}
	// Nothing of a failed create is kept.
	eniMust(t, view(t, f.c, func(tx *Tx) error {
		if owner := tx.ipv4Owner(f.subA, netip.MustParseAddr("10.0.1.30")); owner != "" {
			t.Fatalf("10.0.1.30 held by %s after a failed create", owner)
		}
		return nil
	}))
}

func TestENICreateSubnetFull(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.tiny, func(in *ec2wire.CreateNetworkInterfaceInput) { in.SecondaryPrivateIpAddressCount = p(int32(9)) })
	if len(n.PrivateIpAddresses) != 10 {
		t.Fatalf("ips = %v", eniIPs(n))
	}
	f.mustCreate(t, f.tiny)
	_, err := f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.tiny)})
	eniWantCode(t, err, CodeInsufficientFreeAddresses)
	_, err = f.assign(t, &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: n.NetworkInterfaceId, SecondaryPrivateIpAddressCount: p(int32(1))})
	eniWantCode(t, err, CodeInsufficientFreeAddresses)
}

func TestENICreateGroups(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) { in.Groups = []string{f.sg1, f.sg2, f.sg1} })
	if len(n.Groups) != 2 || *n.Groups[0].GroupName != "web" || *n.Groups[1].GroupName != "db" {
		t.Fatalf("groups = %+v", n.Groups)
	}
	_, err := f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA), Groups: []string{f.sgV2}})
	eniWantCode(t, err, CodeInvalidParameter)
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA), Groups: []string{"sg-0123456789abcdef0"}})
	eniWantCode(t, err, CodeInvalidGroupNotFound)
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA), Groups: []string{"web"}})
	eniWantCode(t, err, CodeInvalidGroupIDMalformed)
	var six []string
	eniMust(t, mutate(t, f.c, func(tx *Tx) error {
		for i := range 6 {
			id := tx.newID("sg")
			tx.PutGroupForTest(id, f.vpc, fmt.Sprint("g", i))
			six = append(six, id)
		}
		return nil
	}))
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA), Groups: six})
	eniWantCode(t, err, CodeSGsPerInterfaceLimitExceeded)
	f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) { in.Groups = six[:5] })
}

func TestENICreateSubnetErrors(t *testing.T) {
	f := newENIFix(t)
	_, err := f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p("subnet-0123456789abcdef0")})
	eniWantCode(t, err, CodeInvalidSubnetIDNotFound)
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p("bogus")})
	eniWantCode(t, err, CodeInvalidSubnetIDMalformed)
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{})
	eniWantCode(t, err, CodeMissingParameter)
}

func TestENICreateInterfaceTypesAndIPv6(t *testing.T) {
	f := newENIFix(t)
	for _, typ := range []string{"efa", "trunk", "interface"} {
		n := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) { in.InterfaceType = p(typ) })
		if *n.InterfaceType != typ {
			t.Fatalf("type = %s", *n.InterfaceType)
		}
	}
	n := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) { in.InterfaceType = p("efa-only") })
	if n.PrivateIpAddress != nil || len(n.PrivateIpAddresses) != 0 {
		t.Fatalf("efa-only got addresses %v", eniIPs(n))
	}
	_, err := f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA), InterfaceType: p("lambda")})
	eniWantCode(t, err, CodeInvalidParameterValue)
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA), Ipv6AddressCount: p(int32(1))})
	eniWantCode(t, err, CodeInvalidParameterValue)
	n = f.mustCreate(t, f.sub6, func(in *ec2wire.CreateNetworkInterfaceInput) {
		in.Ipv6Addresses = []ec2wire.InstanceIpv6Address{{Ipv6Address: p("2600:1f00:0:3:0:0:0:10")}}
	})
	if len(n.Ipv6Addresses) != 1 || *n.Ipv6Addresses[0].Ipv6Address != "2600:1f00:0:3::10" {
		t.Fatalf("ipv6 = %+v", n.Ipv6Addresses)
	}
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.sub6), Ipv6Addresses: []ec2wire.InstanceIpv6Address{{Ipv6Address: p("2600:1f00:0:3::10")}}})
	eniWantCode(t, err, CodeInvalidIPAddressInUse)
	_, err = f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.sub6), Ipv6Addresses: []ec2wire.InstanceIpv6Address{{Ipv6Address: p("2600:1f00:0:4::10")}}})
	eniWantCode(t, err, CodeInvalidParameterValue)
	n = f.mustCreate(t, f.sub6, func(in *ec2wire.CreateNetworkInterfaceInput) { in.Ipv6AddressCount = p(int32(3)) })
	if len(n.Ipv6Addresses) != 3 {
		t.Fatalf("ipv6 = %+v", n.Ipv6Addresses)
	}
}

func TestENIUnattachedAddressCap(t *testing.T) {
	f := newENIFix(t)
	_, err := f.create(t, &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA), SecondaryPrivateIpAddressCount: p(int32(eniUnattachedMaxIPs))})
	eniWantCode(t, err, CodePrivateIPLimitExceeded)
	n := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) {
		in.SecondaryPrivateIpAddressCount = p(int32(eniUnattachedMaxIPs - 1))
	})
	_, err = f.assign(t, &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: n.NetworkInterfaceId, SecondaryPrivateIpAddressCount: p(int32(1))})
	eniWantCode(t, err, CodePrivateIPLimitExceeded)
}

func TestENIAttachLifecycle(t *testing.T) {
	f := newENIFix(t)
	inst := f.instance(t, "t3.small", "us-east-1a", "running")
	n := f.mustCreate(t, f.subA)
	id := *n.NetworkInterfaceId
	att, err := f.attach(t, id, inst, 1)
	eniMust(t, err)
	if !validID(att, "eni-attach") {
		t.Fatalf("attachment id %s", att)
	}
	got := f.get(t, id)
	if *got.Status != "in-use" || got.Attachment == nil || *got.Attachment.AttachmentId != att || *got.Attachment.InstanceId != inst ||
		*got.Attachment.DeviceIndex != 1 || *got.Attachment.NetworkCardIndex != 0 || *got.Attachment.Status != "attached" ||
		*got.Attachment.DeleteOnTermination || *got.Attachment.InstanceOwnerId != testCaller.Account || got.Attachment.AttachTime == nil {
		t.Fatalf("attached eni = %+v / %+v", got, got.Attachment)
	}
	// In use: a second attach fails, delete fails.
	inst2 := f.instance(t, "t3.small", "us-east-1a", "running")
	_, err = f.attach(t, id, inst2, 1)
	eniWantCode(t, err, CodeInvalidENIInUse)
	_, err = eniDo(t, f.c, func(tx *Tx) (*ec2wire.DeleteNetworkInterfaceOutput, error) {
		return tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: p(id)})
	})
	eniWantCode(t, err, CodeInvalidParameterValue)
	if ce := err.(*Error); ce.Message != "Network interface '"+id+"' is currently in use." {
		t.Fatalf("message %q", ce.Message)
	}
	eniMust(t, f.detach(t, att, false))
	got = f.get(t, id)
	if *got.Status != "available" || got.Attachment != nil {
		t.Fatalf("detached eni = %+v", got)
	}
	eniWantCode(t, f.detach(t, att, false), CodeInvalidAttachmentNotFound)
	eniWantCode(t, f.detach(t, id, false), CodeInvalidAttachmentMalformed)
	_, err = eniDo(t, f.c, func(tx *Tx) (*ec2wire.DeleteNetworkInterfaceOutput, error) {
		return tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: p(id)})
	})
	eniMust(t, err)
	_, err = f.attach(t, id, inst, 1)
	eniWantCode(t, err, CodeInvalidENINotFound)
}

func TestENIAttachRules(t *testing.T) {
	f := newENIFix(t)
	inst := f.instance(t, "t3.micro", "us-east-1a", "running") // 2 ENIs, 2 IPv4 per ENI
	// AZ mismatch.
	b := f.mustCreate(t, f.subB)
	_, err := f.attach(t, *b.NetworkInterfaceId, inst, 1)
	eniWantCode(t, err, CodeInvalidParameterValue)
	// Primary slot, then the slot is taken.
	primary := f.mustCreate(t, f.subA)
	_, err = f.attach(t, *primary.NetworkInterfaceId, inst, 0)
	eniMust(t, err)
	other := f.mustCreate(t, f.subA)
	_, err = f.attach(t, *other.NetworkInterfaceId, inst, 0)
	eniWantCode(t, err, CodeInvalidParameterValue)
	if msg := err.(*Error).Message; msg != "Instance '"+inst+"' already has an interface attached at device index '0'." {
		t.Fatalf("message %q", msg)
	}
	// Too many addresses for t3.micro's 2 per ENI.
	big := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) { in.SecondaryPrivateIpAddressCount = p(int32(2)) })
	_, err = f.attach(t, *big.NetworkInterfaceId, inst, 1)
	eniWantCode(t, err, CodeInterfaceIPLimitExceeded)
	// Multi-VPC: a secondary ENI of another VPC of the account, same AZ.
	v2 := f.mustCreate(t, f.sub2)
	_, err = f.attach(t, *v2.NetworkInterfaceId, inst, 1)
	eniMust(t, err)
	// Third ENI on a 2-ENI type.
	_, err = f.attach(t, *other.NetworkInterfaceId, inst, 2)
	eniWantCode(t, err, CodeAttachmentLimitExceeded)
	if msg := err.(*Error).Message; msg != "Interface count 3 exceeds the limit for t3.micro" {
		t.Fatalf("message %q", msg)
	}
	// Negative device index and a card the type does not have.
	inst2 := f.instance(t, "m5.large", "us-east-1a", "running")
	_, err = f.attach(t, *other.NetworkInterfaceId, inst2, -1)
	eniWantCode(t, err, CodeInvalidParameterValue)
	_, err = eniDo(t, f.c, func(tx *Tx) (*ec2wire.AttachNetworkInterfaceOutput, error) {
		return tx.AttachNetworkInterface(&ec2wire.AttachNetworkInterfaceInput{NetworkInterfaceId: other.NetworkInterfaceId, InstanceId: p(inst2), DeviceIndex: p(int32(1)), NetworkCardIndex: p(int32(1))})
	})
	eniWantCode(t, err, CodeInvalidParameterValue)
	// Instance states: pending/stopping/terminated refuse, stopped accepts.
	for _, st := range []string{"pending", "stopping", "shutting-down", "terminated"} {
		f.setState(t, inst2, st)
		_, err = f.attach(t, *other.NetworkInterfaceId, inst2, 1)
		eniWantCode(t, err, CodeIncorrectInstanceState)
	}
	f.setState(t, inst2, "stopped")
	_, err = f.attach(t, *other.NetworkInterfaceId, inst2, 1)
	eniMust(t, err)
	// Unknown ids.
	_, err = f.attach(t, "eni-0123456789abcdef0", inst2, 2)
	eniWantCode(t, err, CodeInvalidENINotFound)
	_, err = f.attach(t, *b.NetworkInterfaceId, "i-0123456789abcdef0", 2)
	eniWantCode(t, err, CodeInvalidInstanceIDNotFound)
	_, err = f.attach(t, *b.NetworkInterfaceId, "instance", 2)
	eniWantCode(t, err, CodeInvalidInstanceIDMalformed)
}

func TestENIAttachENIOfAnotherAccount(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.subA)
	other := Caller{Account: "210987654321", Region: "us-east-1"}
	var inst string
	eniMust(t, f.c.Write(other, false, nil, func(tx *Tx) error {
		inst = tx.newID("i")
		tx.PutInstanceForTest(inst, "t3.small", "us-east-1a", "", "", "running")
		_, err := tx.AttachNetworkInterface(&ec2wire.AttachNetworkInterfaceInput{NetworkInterfaceId: n.NetworkInterfaceId, InstanceId: p(inst), DeviceIndex: p(int32(1))})
		eniWantCode(t, err, CodeInvalidENINotFound)
		return nil
	}))
	_, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.CreateNetworkInterfacePermissionOutput, error) {
		return tx.CreateNetworkInterfacePermission(&ec2wire.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: n.NetworkInterfaceId, Permission: p("INSTANCE-ATTACH"), AwsAccountId: p(other.Account)})
	})
	eniMust(t, err)
	eniMust(t, f.c.Write(other, false, nil, func(tx *Tx) error {
		_, err := tx.AttachNetworkInterface(&ec2wire.AttachNetworkInterfaceInput{NetworkInterfaceId: n.NetworkInterfaceId, InstanceId: p(inst), DeviceIndex: p(int32(1))})
		return err
	}))
	if got := f.get(t, *n.NetworkInterfaceId); *got.Attachment.InstanceOwnerId != other.Account {
		t.Fatalf("attachment = %+v", got.Attachment)
	}
}

func TestENIDetachRules(t *testing.T) {
	f := newENIFix(t)
	inst := f.instance(t, "t3.small", "us-east-1a", "running")
	p0 := f.mustCreate(t, f.subA)
	att0, err := f.attach(t, *p0.NetworkInterfaceId, inst, 0)
	eniMust(t, err)
	err = f.detach(t, att0, false)
	eniWantCode(t, err, CodeOperationNotPermitted)
	if msg := err.(*Error).Message; msg != "The network interface at device index 0 and networkCard index 0 cannot be detached." {
		t.Fatalf("message %q", msg)
	}
	eniWantCode(t, f.detach(t, att0, true), CodeOperationNotPermitted)
	s := f.mustCreate(t, f.subA)
	att1, err := f.attach(t, *s.NetworkInterfaceId, inst, 1)
	eniMust(t, err)
	f.setState(t, inst, "stopping")
	eniWantCode(t, f.detach(t, att1, false), CodeIncorrectInstanceState)
	eniMust(t, f.detach(t, att1, true))
	f.setState(t, inst, "stopped")
	att1, err = f.attach(t, *s.NetworkInterfaceId, inst, 1)
	eniMust(t, err)
	eniMust(t, f.detach(t, att1, false))
}

func TestENIRequesterManaged(t *testing.T) {
	f := newENIFix(t)
	inst := f.instance(t, "t3.small", "us-east-1a", "running")
	n := f.mustCreate(t, f.subA)
	id := *n.NetworkInterfaceId
	att, err := f.attach(t, id, inst, 1)
	eniMust(t, err)
	eniMust(t, mutate(t, f.c, func(tx *Tx) error { tx.SetRequesterManagedForTest(id); return nil }))
	eniWantCode(t, f.detach(t, att, true), CodeOperationNotPermitted)
	_, err = eniDo(t, f.c, func(tx *Tx) (*ec2wire.ModifyNetworkInterfaceAttributeOutput, error) {
		return tx.ModifyNetworkInterfaceAttribute(&ec2wire.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: p(id), Description: &ec2wire.AttributeValue{Value: p("x")}})
	})
	eniWantCode(t, err, CodeOperationNotPermitted)
	_, err = f.assign(t, &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(id), SecondaryPrivateIpAddressCount: p(int32(1))})
	eniWantCode(t, err, CodeOperationNotPermitted)
	eniMust(t, mutate(t, f.c, func(tx *Tx) error { tx.enis.Mut(id).Attachment = nil; return nil }))
	_, err = eniDo(t, f.c, func(tx *Tx) (*ec2wire.DeleteNetworkInterfaceOutput, error) {
		return tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: p(id)})
	})
	eniWantCode(t, err, CodeOperationNotPermitted)
	if got := f.get(t, id); *got.RequesterManaged != true || *got.RequesterId != "amazon-elb" {
		t.Fatalf("eni = %+v", got)
	}
}

func TestENIDeleteRemovesEIPAssociations(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) { in.SecondaryPrivateIpAddressCount = p(int32(1)) })
	ips := eniIPs(n)
	a1 := f.eip(t, *n.NetworkInterfaceId, ips[0], "198.51.100.10")
	a2 := f.eip(t, *n.NetworkInterfaceId, ips[1], "198.51.100.11")
	got := f.get(t, *n.NetworkInterfaceId)
	if got.Association == nil || *got.Association.PublicIp != "198.51.100.10" || *got.Association.AllocationId != a1 ||
		*got.Association.IpOwnerId != testCaller.Account || *got.Association.PublicDnsName != "ec2-198-51-100-10.compute-1.amazonaws.com" ||
		got.Association.AssociationId == nil {
		t.Fatalf("association = %+v", got.Association)
	}
	if as := got.PrivateIpAddresses[1].Association; as == nil || *as.PublicIp != "198.51.100.11" {
		t.Fatalf("secondary association = %+v", as)
	}
	_, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.DeleteNetworkInterfaceOutput, error) {
		return tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: n.NetworkInterfaceId})
	})
	eniMust(t, err)
	for _, id := range []string{a1, a2} {
		if a := f.address(t, id); a.ENIID != "" || a.AssociationID != "" || a.PrivateIP != "" || a.PublicIP == "" {
			t.Fatalf("address after delete = %+v", a)
		}
	}
	_, err = eniDo(t, f.c, func(tx *Tx) (*ec2wire.DeleteNetworkInterfaceOutput, error) {
		return tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: n.NetworkInterfaceId})
	})
	eniWantCode(t, err, CodeInvalidENINotFound)
}

func TestENIAutoPublicIPRendering(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.subA)
	eniMust(t, mutate(t, f.c, func(tx *Tx) error { tx.enis.Mut(*n.NetworkInterfaceId).PublicIP = "203.0.113.9"; return nil }))
	got := f.get(t, *n.NetworkInterfaceId)
	if a := got.Association; a == nil || *a.PublicIp != "203.0.113.9" || *a.IpOwnerId != "amazon" || a.AllocationId != nil || a.AssociationId != nil ||
		*a.PublicDnsName != "ec2-203-0-113-9.compute-1.amazonaws.com" {
		t.Fatalf("association = %+v", a)
	}
	if a := got.PrivateIpAddresses[0].Association; a == nil || *a.PublicIp != "203.0.113.9" {
		t.Fatalf("private ip association = %+v", a)
	}
	var in ec2wire.InstanceNetworkInterface
	eniMust(t, view(t, f.c, func(tx *Tx) error { in = tx.instanceENIOut(tx.enis.Get(*n.NetworkInterfaceId)); return nil }))
	if in.Association == nil || *in.Association.PublicIp != "203.0.113.9" || *in.Association.IpOwnerId != "amazon" || *in.MacAddress != *n.MacAddress ||
		len(in.PrivateIpAddresses) != 1 || len(in.Groups) != 1 || *in.Status != "available" {
		t.Fatalf("instance eni = %+v", in)
	}
}

func TestENIAssignPrivateIPs(t *testing.T) {
	f := newENIFix(t)
	inst := f.instance(t, "t3.small", "us-east-1a", "running") // 4 IPv4 per ENI
	n := f.mustCreate(t, f.subA)
	id := *n.NetworkInterfaceId
	_, err := f.attach(t, id, inst, 1)
	eniMust(t, err)
	out, err := f.assign(t, &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(id), PrivateIpAddresses: []string{"10.0.1.100"}})
	eniMust(t, err)
	if len(out.AssignedPrivateIpAddresses) != 1 || *out.AssignedPrivateIpAddresses[0].PrivateIpAddress != "10.0.1.100" || *out.NetworkInterfaceId != id {
		t.Fatalf("assign = %+v", out)
	}
	out, err = f.assign(t, &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(id), SecondaryPrivateIpAddressCount: p(int32(2))})
	eniMust(t, err)
	if len(out.AssignedPrivateIpAddresses) != 2 || len(f.get(t, id).PrivateIpAddresses) != 4 {
		t.Fatalf("assign count = %+v", out)
	}
	_, err = f.assign(t, &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(id), SecondaryPrivateIpAddressCount: p(int32(1))})
	eniWantCode(t, err, CodePrivateIPLimitExceeded)
	if msg := err.(*Error).Message; msg != "Number of private addresses will exceed limit." {
		t.Fatalf("message %q", msg)
	}
	m := f.mustCreate(t, f.subA)
	for _, tc := range []struct {
		in   ec2wire.AssignPrivateIpAddressesInput
		code string
	}{
		{ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: m.NetworkInterfaceId}, CodeMissingParameter},
		{ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: m.NetworkInterfaceId, PrivateIpAddresses: []string{"10.0.1.120"}, SecondaryPrivateIpAddressCount: p(int32(1))}, CodeInvalidParameterCombination},
		{ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: m.NetworkInterfaceId, SecondaryPrivateIpAddressCount: p(int32(0))}, CodeInvalidParameterValue},
		{ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: m.NetworkInterfaceId, PrivateIpAddresses: []string{"10.0.2.5"}}, CodeInvalidParameterValue},
		{ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: m.NetworkInterfaceId, PrivateIpAddresses: []string{"10.0.1.100"}}, CodeInvalidParameterValue},
		{ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: m.NetworkInterfaceId, PrivateIpAddresses: []string{*n.PrivateIpAddress}, AllowReassignment: p(true)}, CodeInvalidIPAddressInUse},
		{ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: m.NetworkInterfaceId, Ipv4PrefixCount: p(int32(0))}, CodeInvalidParameterValue},
		{ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: m.NetworkInterfaceId, Ipv4Prefixes: []string{"10.0.1.17/28"}}, CodeInvalidParameterValue},
		{ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p("eni-0123456789abcdef0"), SecondaryPrivateIpAddressCount: p(int32(1))}, CodeInvalidENINotFound},
	} {
		_, err := f.assign(t, &tc.in)
		eniWantCode(t, err, tc.code)
	}
}

func TestENIAssignReassignmentMovesEIP(t *testing.T) {
	f := newENIFix(t)
	from := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) {
		in.PrivateIpAddress = p("10.0.1.10")
		in.PrivateIpAddresses = []ec2wire.PrivateIpAddressSpecification{{PrivateIpAddress: p("10.0.1.11")}}
	})
	to := f.mustCreate(t, f.subA)
	alloc := f.eip(t, *from.NetworkInterfaceId, "10.0.1.11", "198.51.100.20")
	_, err := f.assign(t, &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: to.NetworkInterfaceId, PrivateIpAddresses: []string{"10.0.1.11"}})
	eniWantCode(t, err, CodeInvalidParameterValue)
	_, err = f.assign(t, &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: to.NetworkInterfaceId, PrivateIpAddresses: []string{"10.0.1.11"}, AllowReassignment: p(true)})
	eniMust(t, err)
	if got := eniIPs(f.get(t, *from.NetworkInterfaceId)); !slices.Equal(got, []string{"10.0.1.10"}) {
		t.Fatalf("from = %v", got)
	}
	got := f.get(t, *to.NetworkInterfaceId)
	if ips := eniIPs(got); len(ips) != 2 || ips[1] != "10.0.1.11" || got.PrivateIpAddresses[1].Association == nil ||
		*got.PrivateIpAddresses[1].Association.PublicIp != "198.51.100.20" {
		t.Fatalf("to = %+v", got.PrivateIpAddresses)
	}
	if a := f.address(t, alloc); a.ENIID != *to.NetworkInterfaceId || a.PrivateIP != "10.0.1.11" {
		t.Fatalf("address = %+v", a)
	}
	// Another subnet's ENI cannot take it: the address is not in its subnet.
	o := f.mustCreate(t, f.sub6)
	_, err = f.assign(t, &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: o.NetworkInterfaceId, PrivateIpAddresses: []string{"10.0.1.11"}, AllowReassignment: p(true)})
	eniWantCode(t, err, CodeInvalidParameterValue)
}

func TestENIUnassignPrivateIPs(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) {
		in.PrivateIpAddress = p("10.0.1.10")
		in.PrivateIpAddresses = []ec2wire.PrivateIpAddressSpecification{{PrivateIpAddress: p("10.0.1.11")}, {PrivateIpAddress: p("10.0.1.12")}}
	})
	id := *n.NetworkInterfaceId
	alloc := f.eip(t, id, "10.0.1.11", "198.51.100.30")
	other := f.mustCreate(t, f.subA)
	eniWantCode(t, f.unassign(t, id, "10.0.1.10"), CodeInvalidParameterValue)
	eniWantCode(t, f.unassign(t, id, *other.PrivateIpAddress), CodeInvalidParameterValue)
	eniWantCode(t, f.unassign(t, id, "10.0.1.11", "10.0.1.99"), CodeInvalidParameterValue)
	eniWantCode(t, f.unassign(t, id), CodeMissingParameter)
	eniMust(t, f.unassign(t, id, "10.0.1.11"))
	if got := eniIPs(f.get(t, id)); !slices.Equal(got, []string{"10.0.1.10", "10.0.1.12"}) {
		t.Fatalf("ips = %v", got)
	}
	if a := f.address(t, alloc); a.ENIID != "" || a.AssociationID != "" || a.PrivateIP != "" {
		t.Fatalf("address = %+v", a)
	}
	// The address is free again.
	f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) { in.PrivateIpAddress = p("10.0.1.11") })
}

func TestENIIPv6AssignUnassign(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.sub6)
	id := *n.NetworkInterfaceId
	do := func(in *ec2wire.AssignIpv6AddressesInput) (*ec2wire.AssignIpv6AddressesOutput, error) {
		return eniDo(t, f.c, func(tx *Tx) (*ec2wire.AssignIpv6AddressesOutput, error) { return tx.AssignIpv6Addresses(in) })
	}
	undo := func(ips ...string) (*ec2wire.UnassignIpv6AddressesOutput, error) {
		return eniDo(t, f.c, func(tx *Tx) (*ec2wire.UnassignIpv6AddressesOutput, error) {
			return tx.UnassignIpv6Addresses(&ec2wire.UnassignIpv6AddressesInput{NetworkInterfaceId: p(id), Ipv6Addresses: ips})
		})
	}
	out, err := do(&ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: p(id), Ipv6Addresses: []string{"2600:1f00:0:3::20"}})
	eniMust(t, err)
	if !slices.Equal(out.AssignedIpv6Addresses, []string{"2600:1f00:0:3::20"}) {
		t.Fatalf("assigned = %v", out.AssignedIpv6Addresses)
	}
	out, err = do(&ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: p(id), Ipv6AddressCount: p(int32(2))})
	eniMust(t, err)
	if len(out.AssignedIpv6Addresses) != 2 || len(f.get(t, id).Ipv6Addresses) != 3 {
		t.Fatalf("assigned = %v", out.AssignedIpv6Addresses)
	}
	other := f.mustCreate(t, f.sub6)
	_, err = do(&ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: other.NetworkInterfaceId, Ipv6Addresses: []string{"2600:1f00:0:3::20"}})
	eniWantCode(t, err, CodeInvalidIPAddressInUse)
	_, err = do(&ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: p(id), Ipv6Addresses: []string{"2600:1f00:0:3::21"}, Ipv6AddressCount: p(int32(1))})
	eniWantCode(t, err, CodeInvalidParameterCombination)
	_, err = do(&ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: p(id)})
	eniWantCode(t, err, CodeMissingParameter)
	v4 := f.mustCreate(t, f.subA)
	_, err = do(&ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: v4.NetworkInterfaceId, Ipv6AddressCount: p(int32(1))})
	eniWantCode(t, err, CodeInvalidParameterValue)
	// IPv6 per-ENI limit of the instance type (t3.micro: 2).
	inst := f.instance(t, "t3.micro", "us-east-1a", "running")
	_, err = f.attach(t, *other.NetworkInterfaceId, inst, 1)
	eniMust(t, err)
	_, err = do(&ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: other.NetworkInterfaceId, Ipv6AddressCount: p(int32(3))})
	eniWantCode(t, err, CodePrivateIPLimitExceeded)
	u, err := undo("2600:1f00:0:3:0::20")
	eniMust(t, err)
	if !slices.Equal(u.UnassignedIpv6Addresses, []string{"2600:1f00:0:3::20"}) || len(f.get(t, id).Ipv6Addresses) != 2 {
		t.Fatalf("unassigned = %v", u.UnassignedIpv6Addresses)
	}
	_, err = undo("2600:1f00:0:3::20")
	eniWantCode(t, err, CodeInvalidParameterValue)
	_, err = undo()
	eniWantCode(t, err, CodeMissingParameter)
	// Freed: another ENI may take it now.
	_, err = do(&ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: other.NetworkInterfaceId, Ipv6Addresses: []string{"2600:1f00:0:3::20"}})
	eniMust(t, err)
}

func TestENIModifyAttribute(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.subA)
	id := *n.NetworkInterfaceId
	mod := func(in ec2wire.ModifyNetworkInterfaceAttributeInput) error {
		in.NetworkInterfaceId = p(id)
		_, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.ModifyNetworkInterfaceAttributeOutput, error) {
			return tx.ModifyNetworkInterfaceAttribute(&in)
		})
		return err
	}
	eniMust(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{Description: &ec2wire.AttributeValue{Value: p("new")}}))
	eniMust(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{SourceDestCheck: &ec2wire.AttributeBooleanValue{Value: p(false)}}))
	eniMust(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{Groups: []string{f.sg1, f.sg2}}))
	got := f.get(t, id)
	if *got.Description != "new" || *got.SourceDestCheck || len(got.Groups) != 2 || *got.Groups[0].GroupId != f.sg1 || *got.Groups[1].GroupId != f.sg2 {
		t.Fatalf("eni = %+v", got)
	}
	eniMust(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{Groups: []string{f.sg2}}))
	if got := f.get(t, id); len(got.Groups) != 1 || *got.Groups[0].GroupId != f.sg2 {
		t.Fatalf("groups not replaced: %+v", got.Groups)
	}
	eniWantCode(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{}), CodeMissingParameter)
	eniWantCode(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{Description: &ec2wire.AttributeValue{Value: p("x")}, SourceDestCheck: &ec2wire.AttributeBooleanValue{Value: p(true)}}), CodeInvalidParameterCombination)
	eniWantCode(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{Groups: []string{f.sgV2}}), CodeInvalidGroupNotFound)
	eniWantCode(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{Attachment: &ec2wire.NetworkInterfaceAttachmentChanges{AttachmentId: p("eni-attach-0123456789abcdef0"), DeleteOnTermination: p(true)}}), CodeInvalidAttachmentNotFound)
	eniWantCode(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{Attachment: &ec2wire.NetworkInterfaceAttachmentChanges{AttachmentId: p(id), DeleteOnTermination: p(true)}}), CodeInvalidAttachmentMalformed)
	inst := f.instance(t, "t3.small", "us-east-1a", "running")
	att, err := f.attach(t, id, inst, 1)
	eniMust(t, err)
	eniMust(t, mod(ec2wire.ModifyNetworkInterfaceAttributeInput{Attachment: &ec2wire.NetworkInterfaceAttachmentChanges{AttachmentId: p(att), DeleteOnTermination: p(true)}}))
	if got := f.get(t, id); !*got.Attachment.DeleteOnTermination {
		t.Fatal("delete on termination not set")
	}
	// Reset puts the source/dest check back.
	_, err = eniDo(t, f.c, func(tx *Tx) (*ec2wire.ResetNetworkInterfaceAttributeOutput, error) {
		return tx.ResetNetworkInterfaceAttribute(&ec2wire.ResetNetworkInterfaceAttributeInput{NetworkInterfaceId: p(id), SourceDestCheck: p("sourceDestCheck")})
	})
	eniMust(t, err)
	if !*f.get(t, id).SourceDestCheck {
		t.Fatal("reset did not restore the source/dest check")
	}
	// DescribeNetworkInterfaceAttribute.
	attr := func(a string) (*ec2wire.DescribeNetworkInterfaceAttributeOutput, error) {
		var out *ec2wire.DescribeNetworkInterfaceAttributeOutput
		err := view(t, f.c, func(tx *Tx) error {
			var err error
			out, err = tx.DescribeNetworkInterfaceAttribute(&ec2wire.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: p(id), Attribute: p(a)})
			return err
		})
		return out, err
	}
	if o, err := attr("description"); err != nil || *o.Description.Value != "new" || o.Groups != nil {
		t.Fatalf("description: %+v %v", o, err)
	}
	if o, err := attr("groupSet"); err != nil || len(o.Groups) != 1 || *o.Groups[0].GroupName != "db" {
		t.Fatalf("groupSet: %+v %v", o, err)
	}
	if o, err := attr("sourceDestCheck"); err != nil || !*o.SourceDestCheck.Value {
		t.Fatalf("sourceDestCheck: %+v %v", o, err)
	}
	if o, err := attr("attachment"); err != nil || *o.Attachment.AttachmentId != att {
		t.Fatalf("attachment: %+v %v", o, err)
	}
	_, err = attr("bogus")
	eniWantCode(t, err, CodeInvalidParameterValue)
	_, err = attr("")
	eniWantCode(t, err, CodeMissingParameter)
}

// Moving an ENI (detach, attach elsewhere) keeps every attribute.
func TestENIMoveKeepsAttributes(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.sub6, func(in *ec2wire.CreateNetworkInterfaceInput) {
		in.Description = p("floating")
		in.Groups = []string{f.sg1, f.sg2}
		in.SecondaryPrivateIpAddressCount = p(int32(2))
		in.Ipv6AddressCount = p(int32(1))
		in.TagSpecifications = []ec2wire.TagSpecification{{ResourceType: p("network-interface"), Tags: []ec2wire.Tag{{Key: p("Name"), Value: p("vip")}}}}
	})
	id := *n.NetworkInterfaceId
	eniMust(t, mutate(t, f.c, func(tx *Tx) error { tx.enis.Mut(id).SourceDestCheck = false; return nil }))
	f.eip(t, id, *n.PrivateIpAddress, "198.51.100.40")
	before := f.get(t, id)
	i1 := f.instance(t, "m5.large", "us-east-1a", "running")
	i2 := f.instance(t, "m5.large", "us-east-1a", "stopped")
	att, err := f.attach(t, id, i1, 1)
	eniMust(t, err)
	eniMust(t, f.detach(t, att, false))
	att2, err := f.attach(t, id, i2, 2)
	eniMust(t, err)
	after := f.get(t, id)
	if *after.Attachment.InstanceId != i2 || *after.Attachment.AttachmentId != att2 || *after.Attachment.DeviceIndex != 2 {
		t.Fatalf("attachment = %+v", after.Attachment)
	}
	after.Attachment, after.Status = nil, before.Status
	if fmt.Sprintf("%+v", eniDeref(before)) != fmt.Sprintf("%+v", eniDeref(after)) {
		t.Fatalf("attributes changed by the move:\nbefore %s\nafter  %s", eniDeref(before), eniDeref(after))
	}
}

// eniDeref prints a rendered ENI with its pointers followed.
func eniDeref(n ec2wire.NetworkInterface) string {
	s := fmt.Sprintf("%s %s %s %s %v %s %v", *n.NetworkInterfaceId, *n.MacAddress, *n.Description, *n.PrivateIpAddress, *n.SourceDestCheck, *n.Status, eniIPs(n))
	for _, g := range n.Groups {
		s += " " + *g.GroupId + "/" + *g.GroupName
	}
	for _, a := range n.Ipv6Addresses {
		s += " " + *a.Ipv6Address
	}
	for _, tg := range n.TagSet {
		s += " " + *tg.Key + "=" + *tg.Value
	}
	if a := n.Association; a != nil {
		s += " " + *a.PublicIp + " " + *a.AllocationId + " " + *a.AssociationId
	}
	return s
}

func TestENIDescribeFilters(t *testing.T) {
	f := newENIFix(t)
	inst := f.instance(t, "t3.small", "us-east-1a", "running")
	a := f.mustCreate(t, f.subA, func(in *ec2wire.CreateNetworkInterfaceInput) {
		in.Description = p("AWS Lambda VPC ENI-x")
		in.Groups = []string{f.sg1}
		in.SecondaryPrivateIpAddressCount = p(int32(1))
		in.TagSpecifications = []ec2wire.TagSpecification{{ResourceType: p("network-interface"), Tags: []ec2wire.Tag{{Key: p("Team"), Value: p("net")}}}}
	})
	b := f.mustCreate(t, f.sub6, func(in *ec2wire.CreateNetworkInterfaceInput) {
		in.Description = p("plain*star")
		in.Ipv6AddressCount = p(int32(1))
		in.InterfaceType = p("efa")
	})
	c := f.mustCreate(t, f.sub2)
	att, err := f.attach(t, *a.NetworkInterfaceId, inst, 1)
	eniMust(t, err)
	alloc := f.eip(t, *a.NetworkInterfaceId, *a.PrivateIpAddress, "198.51.100.50")
	eniMust(t, mutate(t, f.c, func(tx *Tx) error { tx.enis.Mut(*b.NetworkInterfaceId).SourceDestCheck = false; return nil }))
	A, B, C := *a.NetworkInterfaceId, *b.NetworkInterfaceId, *c.NetworkInterfaceId
	var ga ec2wire.NetworkInterface
	eniMust(t, view(t, f.c, func(tx *Tx) error { ga = tx.eniOut(tx.enis.Get(A)); return nil }))
	all := []string{A, B, C}
	none := []string{}
	for _, tc := range []struct {
		name string
		vals []string
		want []string
	}{
		{"addresses.private-ip-address", []string{eniIPs(a)[1]}, []string{A}},
		{"addresses.primary", []string{"false"}, []string{A}},
		{"addresses.association.public-ip", []string{"198.51.100.50"}, []string{A}},
		{"addresses.association.owner-id", []string{testCaller.Account}, []string{A}},
		{"association.allocation-id", []string{alloc}, []string{A}},
		{"association.association-id", []string{*ga.Association.AssociationId}, []string{A}},
		{"association.ip-owner-id", []string{testCaller.Account}, []string{A}},
		{"association.public-ip", []string{"198.51.100.*"}, []string{A}},
		{"association.public-dns-name", []string{"ec2-198-51-100-50.compute-1.amazonaws.com"}, []string{A}},
		{"attachment.attach-time", []string{ga.Attachment.AttachTime.Format(ec2wire.TimeFormat)}, []string{A}},
		{"attachment.attachment-id", []string{att}, []string{A}},
		{"attachment.delete-on-termination", []string{"false"}, []string{A}},
		{"attachment.device-index", []string{"1"}, []string{A}},
		{"attachment.instance-id", []string{inst}, []string{A}},
		{"attachment.instance-owner-id", []string{testCaller.Account}, []string{A}},
		{"attachment.status", []string{"attached"}, []string{A}},
		{"attachment.nat-gateway-id", []string{"nat-1"}, none},
		{"availability-zone", []string{"us-east-1a"}, all},
		{"availability-zone-id", []string{"use1-az1"}, all},
		{"description", []string{"AWS Lambda VPC ENI*"}, []string{A}},
		{"description", []string{`plain\*star`}, []string{B}},
		{"description", []string{`plain?star`}, []string{B}},
		{"group-id", []string{f.sg1}, []string{A}},
		{"group-name", []string{"default"}, []string{B, C}},
		{"interface-type", []string{"efa"}, []string{B}},
		{"ipv6-addresses.ipv6-address", []string{*b.Ipv6Addresses[0].Ipv6Address}, []string{B}},
		{"mac-address", []string{*c.MacAddress}, []string{C}},
		{"network-interface-id", []string{A, C}, []string{A, C}},
		{"network-interface-id", []string{"eni-0123456789abcdef0"}, none},
		{"operator.managed", []string{"false"}, all},
		{"owner-id", []string{testCaller.Account}, all},
		{"private-dns-name", []string{*b.PrivateDnsName}, []string{B}},
		{"private-ip-address", []string{*c.PrivateIpAddress, eniIPs(a)[1]}, []string{A, C}},
		{"requester-id", []string{testCaller.Account}, all},
		{"requester-managed", []string{"true"}, none},
		{"source-dest-check", []string{"false"}, []string{B}},
		{"status", []string{"in-use"}, []string{A}},
		{"status", []string{"available"}, []string{B, C}},
		{"subnet-id", []string{f.sub6, f.sub2}, []string{B, C}},
		{"vpc-id", []string{f.vpc}, []string{A, B}},
		{"tag:Team", []string{"n?t"}, []string{A}},
		{"tag-key", []string{"Team"}, []string{A}},
		{"tag-value", []string{"net"}, []string{A}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := f.describe(t, &ec2wire.DescribeNetworkInterfacesInput{Filters: []ec2wire.Filter{{Name: p(tc.name), Values: tc.vals}}})
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("%s=%v: got %v, want %v", tc.name, tc.vals, got, want)
			}
		})
	}
	// Filters are ANDed, values ORed.
	got := f.describe(t, &ec2wire.DescribeNetworkInterfacesInput{Filters: []ec2wire.Filter{
		{Name: p("vpc-id"), Values: []string{f.vpc}}, {Name: p("status"), Values: []string{"available", "detaching"}}}})
	if !slices.Equal(got, []string{B}) {
		t.Fatalf("and/or: %v", got)
	}
	var err2 error
	_ = view(t, f.c, func(tx *Tx) error {
		_, err2 = tx.DescribeNetworkInterfaces(&ec2wire.DescribeNetworkInterfacesInput{Filters: []ec2wire.Filter{{Name: p("bogus"), Values: []string{"x"}}}})
		return nil
	})
	eniWantCode(t, err2, CodeInvalidParameterValue)
}

func (f *eniFix) describe(t testing.TB, in *ec2wire.DescribeNetworkInterfacesInput) []string {
	t.Helper()
	var ids []string
	eniMust(t, view(t, f.c, func(tx *Tx) error {
		out, err := tx.DescribeNetworkInterfaces(in)
		if err != nil {
			return err
		}
		for _, n := range out.NetworkInterfaces {
			ids = append(ids, *n.NetworkInterfaceId)
		}
		return nil
	}))
	slices.Sort(ids)
	return ids
}

func TestENIDescribeIDsAndPagination(t *testing.T) {
	f := newENIFix(t)
	var ids []string
	for range 12 {
		ids = append(ids, *f.mustCreate(t, f.subA).NetworkInterfaceId)
	}
	slices.Sort(ids)
	if got := f.describe(t, &ec2wire.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ids[:3]}); !slices.Equal(got, ids[:3]) {
		t.Fatalf("by id: %v", got)
	}
	describe := func(in *ec2wire.DescribeNetworkInterfacesInput) (*ec2wire.DescribeNetworkInterfacesOutput, error) {
		var out *ec2wire.DescribeNetworkInterfacesOutput
		err := view(t, f.c, func(tx *Tx) error {
			var err error
			out, err = tx.DescribeNetworkInterfaces(in)
			return err
		})
		return out, err
	}
	_, err := describe(&ec2wire.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{ids[0], "eni-00000099", "eni-00000098"}})
	eniWantCode(t, err, CodeInvalidENINotFound)
	if msg := err.(*Error).Message; msg != "The networkInterface ID 'eni-00000099' does not exist" {
		t.Fatalf("message %q", msg)
	}
	_, err = describe(&ec2wire.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ids[:1], MaxResults: p(int32(5))})
	eniWantCode(t, err, CodeInvalidParameterCombination)
	for _, n := range []int32{4, 1001} {
		_, err = describe(&ec2wire.DescribeNetworkInterfacesInput{MaxResults: p(n)})
		eniWantCode(t, err, CodeInvalidParameterValue)
	}
	var seen []string
	var tok *string
	pages := 0
	for {
		out, err := describe(&ec2wire.DescribeNetworkInterfacesInput{MaxResults: p(int32(5)), NextToken: tok,
			Filters: []ec2wire.Filter{{Name: p("subnet-id"), Values: []string{f.subA}}}})
		eniMust(t, err)
		pages++
		for _, n := range out.NetworkInterfaces {
			seen = append(seen, *n.NetworkInterfaceId)
		}
		if out.NextToken == nil {
			break
		}
		tok = out.NextToken
	}
	if pages != 3 || !slices.Equal(seen, ids) {
		t.Fatalf("pages %d, seen %v", pages, seen)
	}
	_, err = describe(&ec2wire.DescribeNetworkInterfacesInput{NextToken: p("!!!")})
	eniWantCode(t, err, CodeInvalidNextToken)
}

// The indexed candidate path sees the transaction's own writes.
func TestENIDescribeSeesOwnWrites(t *testing.T) {
	f := newENIFix(t)
	eniMust(t, mutate(t, f.c, func(tx *Tx) error {
		out, err := tx.CreateNetworkInterface(&ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.subA)})
		if err != nil {
			return err
		}
		d, err := tx.DescribeNetworkInterfaces(&ec2wire.DescribeNetworkInterfacesInput{Filters: []ec2wire.Filter{
			{Name: p("subnet-id"), Values: []string{f.subA}}, {Name: p("private-ip-address"), Values: []string{*out.NetworkInterface.PrivateIpAddress}}}})
		if err != nil {
			return err
		}
		if len(d.NetworkInterfaces) != 1 {
			t.Fatalf("describe in tx = %d ENIs", len(d.NetworkInterfaces))
		}
		return nil
	}))
}

func TestENIPermissions(t *testing.T) {
	f := newENIFix(t)
	n := f.mustCreate(t, f.subA)
	create := func(in ec2wire.CreateNetworkInterfacePermissionInput) (*ec2wire.NetworkInterfacePermission, error) {
		out, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.CreateNetworkInterfacePermissionOutput, error) {
			return tx.CreateNetworkInterfacePermission(&in)
		})
		if err != nil {
			return nil, err
		}
		return out.InterfacePermission, nil
	}
	pm, err := create(ec2wire.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: n.NetworkInterfaceId, Permission: p("INSTANCE-ATTACH"), AwsAccountId: p("210987654321")})
	eniMust(t, err)
	if !validID(*pm.NetworkInterfacePermissionId, "eni-perm") || *pm.PermissionState.State != "granted" || *pm.AwsAccountId != "210987654321" {
		t.Fatalf("permission = %+v", pm)
	}
	for _, tc := range []struct {
		in   ec2wire.CreateNetworkInterfacePermissionInput
		code string
	}{
		{ec2wire.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: n.NetworkInterfaceId, Permission: p("READ"), AwsAccountId: p("210987654321")}, CodeInvalidParameterValue},
		{ec2wire.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: n.NetworkInterfaceId, Permission: p("EIP-ASSOCIATE")}, CodeMissingParameter},
		{ec2wire.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: n.NetworkInterfaceId, Permission: p("EIP-ASSOCIATE"), AwsAccountId: p("12")}, CodeInvalidParameterValue},
		{ec2wire.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: n.NetworkInterfaceId, Permission: p("EIP-ASSOCIATE"), AwsAccountId: p("210987654321"), AwsService: p("x")}, CodeInvalidParameterCombination},
		{ec2wire.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: p("eni-0123456789abcdef0"), Permission: p("EIP-ASSOCIATE"), AwsAccountId: p("210987654321")}, CodeInvalidENINotFound},
	} {
		_, err := create(tc.in)
		eniWantCode(t, err, tc.code)
	}
	_, err = create(ec2wire.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: n.NetworkInterfaceId, Permission: p("EIP-ASSOCIATE"), AwsAccountId: p("210987654321")})
	eniMust(t, err)
	list := func(in ec2wire.DescribeNetworkInterfacePermissionsInput) ([]string, error) {
		var ids []string
		err := view(t, f.c, func(tx *Tx) error {
			out, err := tx.DescribeNetworkInterfacePermissions(&in)
			if err != nil {
				return err
			}
			for _, x := range out.NetworkInterfacePermissions {
				ids = append(ids, *x.NetworkInterfacePermissionId)
			}
			return nil
		})
		return ids, err
	}
	ids, err := list(ec2wire.DescribeNetworkInterfacePermissionsInput{Filters: []ec2wire.Filter{{Name: p("network-interface-permission.permission"), Values: []string{"INSTANCE-ATTACH"}}}})
	if err != nil || !slices.Equal(ids, []string{*pm.NetworkInterfacePermissionId}) {
		t.Fatalf("filter: %v %v", ids, err)
	}
	for _, name := range []string{"network-interface-permission.network-interface-permission-id", "network-interface-permission.network-interface-id", "network-interface-permission.aws-account-id"} {
		val := map[string]string{"network-interface-permission.network-interface-permission-id": *pm.NetworkInterfacePermissionId,
			"network-interface-permission.network-interface-id": *n.NetworkInterfaceId, "network-interface-permission.aws-account-id": "210987654321"}[name]
		ids, err := list(ec2wire.DescribeNetworkInterfacePermissionsInput{Filters: []ec2wire.Filter{{Name: p(name), Values: []string{val}}}})
		if err != nil || len(ids) == 0 {
			t.Fatalf("%s: %v %v", name, ids, err)
		}
	}
	if ids, err := list(ec2wire.DescribeNetworkInterfacePermissionsInput{Filters: []ec2wire.Filter{{Name: p("network-interface-permission.aws-service"), Values: []string{"*"}}}}); err != nil || len(ids) != 0 {
		t.Fatalf("aws-service: %v %v", ids, err)
	}
	if ids, err := list(ec2wire.DescribeNetworkInterfacePermissionsInput{}); err != nil || len(ids) != 2 {
		t.Fatalf("all: %v %v", ids, err)
	}
	_, err = list(ec2wire.DescribeNetworkInterfacePermissionsInput{MaxResults: p(int32(256))})
	eniWantCode(t, err, CodeInvalidParameterValue)
	_, err = list(ec2wire.DescribeNetworkInterfacePermissionsInput{NetworkInterfacePermissionIds: []string{"eni-perm-0123456789abcdef0"}})
	eniWantCode(t, err, CodeInvalidPermIDNotFound)
	_, err = list(ec2wire.DescribeNetworkInterfacePermissionsInput{NetworkInterfacePermissionIds: []string{"perm"}})
	eniWantCode(t, err, CodeInvalidPermIDMalformed)
	del := func(id string) error {
		_, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.DeleteNetworkInterfacePermissionOutput, error) {
			return tx.DeleteNetworkInterfacePermission(&ec2wire.DeleteNetworkInterfacePermissionInput{NetworkInterfacePermissionId: p(id)})
		})
		return err
	}
	eniMust(t, del(*pm.NetworkInterfacePermissionId))
	eniWantCode(t, del(*pm.NetworkInterfacePermissionId), CodeInvalidPermIDNotFound)
	// Deleting the ENI removes its permissions.
	_, err = eniDo(t, f.c, func(tx *Tx) (*ec2wire.DeleteNetworkInterfaceOutput, error) {
		return tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: n.NetworkInterfaceId})
	})
	eniMust(t, err)
	if ids, err := list(ec2wire.DescribeNetworkInterfacePermissionsInput{}); err != nil || len(ids) != 0 {
		t.Fatalf("after delete: %v %v", ids, err)
	}
}

// Random sequences of create/assign/unassign/delete never give one IPv4 to
// two ENIs and keep the subnet's free count exact.
func TestENIAddressInvariantsProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		f := newENIFix(t)
		var live []string
		check := func() {
			eniMust(t, view(t, f.c, func(tx *Tx) error {
				seen := map[string]string{}
				used := 0
				tx.enis.Each(func(e *ENI) bool {
					if e.SubnetID != f.tiny {
						return true
					}
					for _, ip := range e.PrivateIPs {
						if o, dup := seen[ip.Address]; dup {
							rt.Fatalf("%s held by %s and %s", ip.Address, o, e.ID)
						}
						seen[ip.Address] = e.ID
						used++
						if owner := tx.ipv4Owner(f.tiny, netip.MustParseAddr(ip.Address)); owner != e.ID {
							rt.Fatalf("index says %s holds %s, record says %s", owner, ip.Address, e.ID)
						}
					}
					return true
				})
				if got := tx.availableIPv4(tx.subnets.Get(f.tiny)); got != 11-used {
					rt.Fatalf("available = %d, want %d", got, 11-used)
				}
				return nil
			}))
		}
		for range rapid.IntRange(1, 30).Draw(rt, "steps") {
			switch op := rapid.IntRange(0, 4).Draw(rt, "op"); {
			case op == 0 || len(live) == 0:
				in := &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.tiny)}
				if rapid.Bool().Draw(rt, "explicit") {
					in.PrivateIpAddress = p(fmt.Sprintf("10.0.9.%d", rapid.IntRange(0, 15).Draw(rt, "ip")))
				} else {
					in.SecondaryPrivateIpAddressCount = p(int32(rapid.IntRange(0, 3).Draw(rt, "count")))
				}
				if n, err := f.create(t, in); err == nil {
					live = append(live, *n.NetworkInterfaceId)
				}
			case op == 1:
				id := rapid.SampledFrom(live).Draw(rt, "eni")
				in := &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(id), AllowReassignment: p(rapid.Bool().Draw(rt, "realloc"))}
				if rapid.Bool().Draw(rt, "explicit") {
					in.PrivateIpAddresses = []string{fmt.Sprintf("10.0.9.%d", rapid.IntRange(0, 15).Draw(rt, "ip"))}
				} else {
					in.SecondaryPrivateIpAddressCount = p(int32(rapid.IntRange(1, 3).Draw(rt, "count")))
				}
				_, _ = f.assign(t, in) // errors (full, in use) are expected
			case op == 2:
				id := rapid.SampledFrom(live).Draw(rt, "eni")
				_ = f.unassign(t, id, fmt.Sprintf("10.0.9.%d", rapid.IntRange(4, 14).Draw(rt, "ip"))) // may not be its
			case op == 3:
				i := rapid.IntRange(0, len(live)-1).Draw(rt, "i")
				_, err := eniDo(t, f.c, func(tx *Tx) (*ec2wire.DeleteNetworkInterfaceOutput, error) {
					return tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: p(live[i])})
				})
				eniMust(t, err)
				live = slices.Delete(live, i, i+1)
			case op == 4:
				// A transaction that fails half-way leaves nothing behind.
				_ = mutate(t, f.c, func(tx *Tx) error {
					_, _ = tx.CreateNetworkInterface(&ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.tiny)})
					return errorf(CodeInternalError, "abort")
				})
			}
			check()
		}
	})
}
