package core

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// addrFix is a region with ENIs and instances made directly as records.
type addrFix struct {
	c       *Core
	vpc     string // default VPC (has an internet gateway)
	subnet  string // a default subnet
	az      string
	lone    string // VPC without an internet gateway
	loneSub string
	loneENI string
	eniA    string // available ENI, 172.31.0.10 (primary) + .11
	eniB    string // available ENI, 172.31.0.20 with auto-assigned public IP
	single  string // running instance with one ENI (eniS, 172.31.0.30)
	eniS    string
	multi   string // running instance with two ENIs
	pending string // pending instance with one ENI
	eniBPub string
}

func addrWantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want code %s", err, code)
	}
}

func addrCheck(t *testing.T, c *Core) {
	t.Helper()
	for _, err := range c.Check() {
		t.Error(err)
	}
}

// addrPutENI stores an ENI with the given private addresses (primary first).
func addrPutENI(tx *Tx, s *Subnet, ips ...string) *ENI {
	e := &ENI{
		ID: tx.newID("eni"), Owner: tx.Account, SubnetID: s.ID, VpcID: s.VpcID, AZ: s.AZ,
		InterfaceType: "interface", MAC: tx.nextMAC(), SourceDestCheck: true, RequesterID: tx.Account,
		Groups: []string{addrTestDefaultGroup(tx, s.VpcID)},
	}
	for i, ip := range ips {
		e.PrivateIPs = append(e.PrivateIPs, PrivateIP{Address: ip, Primary: i == 0})
	}
	tx.enis.Put(e)
	return e
}

func addrTestDefaultGroup(tx *Tx, vpcID string) string {
	var id string
	tx.groups.Each(func(g *SecurityGroup) bool {
		if g.VpcID == vpcID && g.Name == "default" {
			id = g.ID
		}
		return id == ""
	})
	return id
}

// addrPutInstance stores an instance in state with the ENIs attached.
func addrPutInstance(tx *Tx, s *Subnet, state string, enis ...*ENI) *Instance {
	inst := &Instance{ID: tx.newID("i"), Owner: tx.Account, InstanceType: "m5.large", AZ: s.AZ, SubnetID: s.ID, VpcID: s.VpcID, State: state}
	tx.instances.Put(inst)
	for i, e := range enis {
		e.Attachment = &Attachment{ID: tx.newID("eni-attach"), InstanceID: inst.ID, InstanceOwner: tx.Account, DeviceIndex: int32(i), Status: "attached", DeleteOnTermination: i == 0}
	}
	return inst
}

func newAddrFix(t *testing.T) *addrFix {
	t.Helper()
	f := &addrFix{c: newTestCore(t)}
	err := mutate(t, f.c, func(tx *Tx) error {
		var s *Subnet
		tx.subnets.Each(func(v *Subnet) bool {
			if v.CidrBlock == "172.31.0.0/20" {
				s = v
			}
			return s == nil
		})
		if s == nil {
			return fmt.Errorf("no default subnet")
		}
		f.vpc, f.subnet, f.az = s.VpcID, s.ID, s.AZ
		f.eniA = addrPutENI(tx, s, "172.31.0.10", "172.31.0.11").ID
		b := addrPutENI(tx, s, "172.31.0.20")
		b.PublicIP = "198.51.100.200"
		f.eniB, f.eniBPub = b.ID, b.PublicIP
		es := addrPutENI(tx, s, "172.31.0.30")
		f.eniS = es.ID
		f.single = addrPutInstance(tx, s, "running", es).ID
		f.multi = addrPutInstance(tx, s, "running", addrPutENI(tx, s, "172.31.0.40"), addrPutENI(tx, s, "172.31.0.41")).ID
		f.pending = addrPutInstance(tx, s, "pending", addrPutENI(tx, s, "172.31.0.50")).ID

		v, _ := tx.createVPC("10.9.0.0/16", false, nil)
		ls := &Subnet{ID: tx.newID("subnet"), Owner: tx.Account, VpcID: v.ID, AZ: s.AZ, CidrBlock: "10.9.1.0/24"}
		tx.subnets.Put(ls)
		f.lone, f.loneSub = v.ID, ls.ID
		f.loneENI = addrPutENI(tx, ls, "10.9.1.10").ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	addrCheck(t, f.c)
	return f
}

func (f *addrFix) alloc(t *testing.T) *ec2wire.AllocateAddressOutput {
	t.Helper()
	var out *ec2wire.AllocateAddressOutput
	if err := mutate(t, f.c, func(tx *Tx) (err error) {
		out, err = tx.AllocateAddress(&ec2wire.AllocateAddressInput{Domain: p("vpc")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *addrFix) assoc(t *testing.T, in *ec2wire.AssociateAddressInput) (string, error) {
	t.Helper()
	var id string
	err := mutate(t, f.c, func(tx *Tx) error {
		out, err := tx.AssociateAddress(in)
		if err != nil {
			return err
		}
		id = str(out.AssociationId)
		return nil
	})
	return id, err
}

func (f *addrFix) get(t *testing.T, allocID string) *Address {
	t.Helper()
	var a *Address
	_ = view(t, f.c, func(tx *Tx) error { a = tx.addresses.Get(allocID); return nil })
	if a == nil {
		t.Fatalf("address %s missing", allocID)
	}
	return a
}

func TestAddressAllocateQuotaPerAccount(t *testing.T) {
	f := newAddrFix(t)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		out := f.alloc(t)
		if seen[str(out.PublicIp)] || str(out.Domain) != "vpc" || str(out.PublicIpv4Pool) != "amazon" ||
			str(out.NetworkBorderGroup) != "us-east-1" || !validID(str(out.AllocationId), "eipalloc") {
			t.Fatalf("allocation %d = %+v", i, out)
		}
		seen[str(out.PublicIp)] = true
	}
	err := mutate(t, f.c, func(tx *Tx) error {
		_, err := tx.AllocateAddress(&ec2wire.AllocateAddressInput{})
		return err
	})
	addrWantCode(t, err, CodeAddressLimitExceeded)
	// Another account has its own quota, in the same pool.
	other := Caller{Account: "210987654321", Region: "us-east-1"}
	var pub string
	if err := f.c.Write(other, false, nil, func(tx *Tx) error {
		out, err := tx.AllocateAddress(&ec2wire.AllocateAddressInput{})
		pub = str(out.PublicIp)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if seen[pub] {
		t.Fatalf("address %s handed out twice", pub)
	}
	addrCheck(t, f.c)
}

func TestAddressAllocateRecoverAndParams(t *testing.T) {
	f := newAddrFix(t)
	out := f.alloc(t)
	pub, id := str(out.PublicIp), str(out.AllocationId)
	try := func(in *ec2wire.AllocateAddressInput) (*ec2wire.AllocateAddressOutput, error) {
		var o *ec2wire.AllocateAddressOutput
		err := mutate(t, f.c, func(tx *Tx) (err error) { o, err = tx.AllocateAddress(in); return err })
		return o, err
	}
	_, err := try(&ec2wire.AllocateAddressInput{Address: p(pub)})
	addrWantCode(t, err, CodeInvalidAddressNotFound) // held by us
	_, err = try(&ec2wire.AllocateAddressInput{Address: p(f.eniBPub)})
	addrWantCode(t, err, CodeInvalidAddressNotFound) // an ENI's auto-assigned address
	_, err = try(&ec2wire.AllocateAddressInput{Address: p("192.0.2.1")})
	addrWantCode(t, err, CodeInvalidAddressNotFound) // outside the pool
	_, err = try(&ec2wire.AllocateAddressInput{Address: p("198.51.100.0")})
	addrWantCode(t, err, CodeInvalidAddressNotFound) // the pool's network address
	_, err = try(&ec2wire.AllocateAddressInput{Address: p("nope")})
	addrWantCode(t, err, CodeInvalidParameterValue)
	_, err = try(&ec2wire.AllocateAddressInput{Domain: p("standard")})
	addrWantCode(t, err, CodeInvalidParameterValue)
	_, err = try(&ec2wire.AllocateAddressInput{NetworkBorderGroup: p("us-west-2")})
	addrWantCode(t, err, CodeInvalidParameterValue)
	_, err = try(&ec2wire.AllocateAddressInput{PublicIpv4Pool: p("ipv4pool-ec2-0123")})
	addrWantCode(t, err, CodeInvalidParameterValue)
	_, err = try(&ec2wire.AllocateAddressInput{TagSpecifications: []ec2wire.TagSpecification{{ResourceType: p("vpc")}}})
	addrWantCode(t, err, CodeInvalidParameterValue)

	if err := mutate(t, f.c, func(tx *Tx) error {
		_, err := tx.ReleaseAddress(&ec2wire.ReleaseAddressInput{AllocationId: p(id)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := try(&ec2wire.AllocateAddressInput{Address: p(pub), TagSpecifications: []ec2wire.TagSpecification{
		{ResourceType: p("elastic-ip"), Tags: []ec2wire.Tag{{Key: p("Name"), Value: p("back")}}}}})
	if err != nil || str(got.PublicIp) != pub || str(got.AllocationId) == id {
		t.Fatalf("recover %s: %+v %v", pub, got, err)
	}
	if a := f.get(t, str(got.AllocationId)); a.Tags["Name"] != "back" {
		t.Fatalf("tags = %v", a.Tags)
	}
}

func TestAddressAssociateErrors(t *testing.T) {
	f := newAddrFix(t)
	a := str(f.alloc(t).AllocationId)
	other := str(f.alloc(t).AllocationId)
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(other), NetworkInterfaceId: p(f.eniA), PrivateIpAddress: p("172.31.0.11")}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   ec2wire.AssociateAddressInput
		code string
	}{
		{"multiple ENIs", ec2wire.AssociateAddressInput{AllocationId: p(a), InstanceId: p(f.multi)}, CodeInvalidInstanceID},
		{"pending", ec2wire.AssociateAddressInput{AllocationId: p(a), InstanceId: p(f.pending)}, CodeIncorrectInstanceState},
		{"instance and ENI", ec2wire.AssociateAddressInput{AllocationId: p(a), InstanceId: p(f.single), NetworkInterfaceId: p(f.eniA)}, CodeInvalidParameterCombination},
		{"no target", ec2wire.AssociateAddressInput{AllocationId: p(a)}, CodeMissingParameter},
		{"no address", ec2wire.AssociateAddressInput{NetworkInterfaceId: p(f.eniA)}, CodeMissingParameter},
		{"private IP elsewhere", ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniA), PrivateIpAddress: p("172.31.0.20")}, CodeInvalidParameterValue},
		{"no gateway", ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.loneENI)}, CodeGatewayNotAttached},
		{"unknown allocation", ec2wire.AssociateAddressInput{AllocationId: p("eipalloc-0123456789abcdef0"), NetworkInterfaceId: p(f.eniA)}, CodeInvalidAllocationIDNotFound},
		{"malformed allocation", ec2wire.AssociateAddressInput{AllocationId: p("eipalloc-zz"), NetworkInterfaceId: p(f.eniA)}, CodeInvalidAllocationIDMalformed},
		{"unknown public IP", ec2wire.AssociateAddressInput{PublicIp: p("203.0.113.99"), NetworkInterfaceId: p(f.eniA)}, CodeInvalidAddressNotFound},
		{"unknown ENI", ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p("eni-0123456789abcdef0")}, CodeInvalidENINotFound},
		{"unknown instance", ec2wire.AssociateAddressInput{AllocationId: p(a), InstanceId: p("i-0123456789abcdef0")}, CodeInvalidInstanceIDNotFound},
		{"IP holds another EIP, no reassociation", ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniA), PrivateIpAddress: p("172.31.0.11"), AllowReassociation: p(false)}, CodeResourceAlreadyAssociated},
		{"EIP in use, no reassociation", ec2wire.AssociateAddressInput{AllocationId: p(other), NetworkInterfaceId: p(f.eniB), AllowReassociation: p(false)}, CodeResourceAlreadyAssociated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.assoc(t, &tc.in)
			addrWantCode(t, err, tc.code)
		})
	}
	// Nothing changed.
	if got := f.get(t, a); got.ENIID != "" {
		t.Fatalf("failed calls associated %+v", got)
	}
	if got := f.get(t, other); got.ENIID != f.eniA || got.PrivateIP != "172.31.0.11" {
		t.Fatalf("failed calls moved %+v", got)
	}
	addrCheck(t, f.c)
}

func TestAddressAssociateInstanceAndIdempotent(t *testing.T) {
	f := newAddrFix(t)
	out := f.alloc(t)
	a := str(out.AllocationId)
	id1, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(a), InstanceId: p(f.single)})
	if err != nil || !validID(id1, "eipassoc") {
		t.Fatalf("associate: %q %v", id1, err)
	}
	got := f.get(t, a)
	if got.ENIID != f.eniS || got.PrivateIP != "172.31.0.30" || got.AssociationID != id1 {
		t.Fatalf("address = %+v", got)
	}
	// Same target again (by ENI, and by legacy public IP): same association.
	id2, err := f.assoc(t, &ec2wire.AssociateAddressInput{PublicIp: out.PublicIp, NetworkInterfaceId: p(f.eniS), AllowReassociation: p(false)})
	if err != nil || id2 != id1 {
		t.Fatalf("repeat: %q %v, want %q", id2, err, id1)
	}
	// A stopped instance keeps accepting associations.
	if err := mutate(t, f.c, func(tx *Tx) error { tx.instances.Mut(f.single).State = "stopped"; return nil }); err != nil {
		t.Fatal(err)
	}
	b := str(f.alloc(t).AllocationId)
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(b), InstanceId: p(f.single)}); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, a); got.ENIID != "" {
		t.Fatalf("the displaced EIP is still associated: %+v", got)
	}
	addrCheck(t, f.c)
}

func TestAddressReassociation(t *testing.T) {
	f := newAddrFix(t)
	a := str(f.alloc(t).AllocationId)
	b := str(f.alloc(t).AllocationId)
	id1, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniA)})
	if err != nil {
		t.Fatal(err)
	}
	// Default: an associated EIP moves.
	id2, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniA), PrivateIpAddress: p("172.31.0.11")})
	if err != nil || id2 == id1 {
		t.Fatalf("move: %q %v", id2, err)
	}
	if got := f.get(t, a); got.PrivateIP != "172.31.0.11" || got.AssociationID != id2 {
		t.Fatalf("after move %+v", got)
	}
	// Explicit true: another EIP takes the private address; the first is disassociated.
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(b), NetworkInterfaceId: p(f.eniA), PrivateIpAddress: p("172.31.0.11"), AllowReassociation: p(true)}); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, a); got.ENIID != "" || got.AssociationID != "" || got.PrivateIP != "" {
		t.Fatalf("displaced EIP = %+v", got)
	}
	var byAssoc *Address
	_ = view(t, f.c, func(tx *Tx) error { byAssoc = tx.addressByAssociation(id2); return nil })
	if byAssoc != nil {
		t.Fatalf("old association %s still found: %+v", id2, byAssoc)
	}
	addrCheck(t, f.c)
}

func TestAddressPrimaryReleasesAutoPublicIP(t *testing.T) {
	f := newAddrFix(t)
	a := str(f.alloc(t).AllocationId)
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniB)}); err != nil {
		t.Fatal(err)
	}
	var pub string
	_ = view(t, f.c, func(tx *Tx) error { pub = tx.enis.Get(f.eniB).PublicIP; return nil })
	if pub != "" {
		t.Fatalf("auto-assigned public IP kept: %s", pub)
	}
	// The released address is free again (the index forgot it).
	err := mutate(t, f.c, func(tx *Tx) error {
		_, err := tx.AllocateAddress(&ec2wire.AllocateAddressInput{Address: p(f.eniBPub)})
		return err
	})
	if err != nil {
		t.Fatalf("recover released auto-assigned address: %v", err)
	}
	addrCheck(t, f.c)
}

func TestAddressSecondaryKeepsAutoPublicIP(t *testing.T) {
	f := newAddrFix(t)
	err := mutate(t, f.c, func(tx *Tx) error {
		e := tx.enis.Mut(f.eniB)
		e.PrivateIPs = append(e.PrivateIPs, PrivateIP{Address: "172.31.0.21"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := str(f.alloc(t).AllocationId)
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniB), PrivateIpAddress: p("172.31.0.21")}); err != nil {
		t.Fatal(err)
	}
	_ = view(t, f.c, func(tx *Tx) error {
		if tx.enis.Get(f.eniB).PublicIP != f.eniBPub {
			t.Errorf("auto-assigned public IP lost")
		}
		return nil
	})
}

func TestAddressDisassociateAndRelease(t *testing.T) {
	f := newAddrFix(t)
	// Outside a default VPC, an associated address cannot be released.
	if err := mutate(t, f.c, func(tx *Tx) error { tx.vpcs.Mut(f.vpc).IsDefault = false; return nil }); err != nil {
		t.Fatal(err)
	}
	out := f.alloc(t)
	a := str(out.AllocationId)
	assoc, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniA)})
	if err != nil {
		t.Fatal(err)
	}
	release := func(in *ec2wire.ReleaseAddressInput) error {
		return mutate(t, f.c, func(tx *Tx) error { _, err := tx.ReleaseAddress(in); return err })
	}
	disassoc := func(in *ec2wire.DisassociateAddressInput) error {
		return mutate(t, f.c, func(tx *Tx) error { _, err := tx.DisassociateAddress(in); return err })
	}
	addrWantCode(t, release(&ec2wire.ReleaseAddressInput{AllocationId: p(a)}), CodeInvalidIPAddressInUse)
	addrWantCode(t, release(&ec2wire.ReleaseAddressInput{AllocationId: p("eipalloc-0123456789abcdef0")}), CodeInvalidAllocationIDNotFound)
	addrWantCode(t, release(&ec2wire.ReleaseAddressInput{}), CodeMissingParameter)
	addrWantCode(t, disassoc(&ec2wire.DisassociateAddressInput{AssociationId: p("eipassoc-0123456789abcdef0")}), CodeInvalidAssociationIDNotFound)
	addrWantCode(t, disassoc(&ec2wire.DisassociateAddressInput{AssociationId: p("bogus")}), CodeInvalidAssociationIDMalformed)
	addrWantCode(t, disassoc(&ec2wire.DisassociateAddressInput{}), CodeMissingParameter)
	// Another account cannot see the association.
	other := Caller{Account: "210987654321", Region: "us-east-1"}
	err = f.c.Write(other, false, nil, func(tx *Tx) error {
		_, err := tx.DisassociateAddress(&ec2wire.DisassociateAddressInput{AssociationId: p(assoc)})
		return err
	})
	addrWantCode(t, err, CodeInvalidAssociationIDNotFound)
	err = f.c.Write(other, false, nil, func(tx *Tx) error {
		_, err := tx.ReleaseAddress(&ec2wire.ReleaseAddressInput{PublicIp: out.PublicIp})
		return err
	})
	addrWantCode(t, err, CodeAuthFailure)

	if err := disassoc(&ec2wire.DisassociateAddressInput{AssociationId: p(assoc)}); err != nil {
		t.Fatal(err)
	}
	addrWantCode(t, disassoc(&ec2wire.DisassociateAddressInput{AssociationId: p(assoc)}), CodeInvalidAssociationIDNotFound)
	// The legacy form is idempotent.
	if err := disassoc(&ec2wire.DisassociateAddressInput{PublicIp: out.PublicIp}); err != nil {
		t.Fatal(err)
	}
	if err := release(&ec2wire.ReleaseAddressInput{AllocationId: p(a)}); err != nil {
		t.Fatal(err)
	}
	addrWantCode(t, release(&ec2wire.ReleaseAddressInput{AllocationId: p(a)}), CodeInvalidAllocationIDNotFound)
	addrCheck(t, f.c)
}

// In a default VPC, ReleaseAddress disassociates an associated address
// and releases it, and the instance gets its auto-assigned address back
// as after DisassociateAddress.
func TestAddressReleaseInDefaultVPC(t *testing.T) {
	f := newAddrFix(t)
	out := f.alloc(t)
	a := str(out.AllocationId)
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniA)}); err != nil {
		t.Fatal(err)
	}
	if err := mutate(t, f.c, func(tx *Tx) error {
		_, err := tx.ReleaseAddress(&ec2wire.ReleaseAddressInput{AllocationId: p(a)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_ = view(t, f.c, func(tx *Tx) error {
		if tx.addresses.Get(a) != nil || len(tx.addressesOfENI(f.eniA)) != 0 {
			t.Errorf("released address still there or still associated")
		}
		return nil
	})
	addrCheck(t, f.c)
}

func TestAddressDescribeFilters(t *testing.T) {
	f := newAddrFix(t)
	a := f.alloc(t)
	b := f.alloc(t)
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: a.AllocationId, InstanceId: p(f.single)}); err != nil {
		t.Fatal(err)
	}
	if err := mutate(t, f.c, func(tx *Tx) error {
		_, err := tx.CreateTags(&ec2wire.CreateTagsInput{Resources: []string{str(b.AllocationId)}, Tags: []ec2wire.Tag{{Key: p("team"), Value: p("net")}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	describe := func(in *ec2wire.DescribeAddressesInput) ([]string, error) {
		var ids []string
		err := view(t, f.c, func(tx *Tx) error {
			out, err := tx.DescribeAddresses(in)
			if err != nil {
				return err
			}
			for _, x := range out.Addresses {
				ids = append(ids, str(x.AllocationId))
			}
			return nil
		})
		return ids, err
	}
	filter := func(name, val string) *ec2wire.DescribeAddressesInput {
		return &ec2wire.DescribeAddressesInput{Filters: []ec2wire.Filter{{Name: p(name), Values: []string{val}}}}
	}
	aid, bid := str(a.AllocationId), str(b.AllocationId)
	cases := []struct {
		in   *ec2wire.DescribeAddressesInput
		want string
	}{
		{filter("instance-id", f.single), aid},
		{filter("network-interface-id", f.eniS), aid},
		{filter("private-ip-address", "172.31.0.30"), aid},
		{filter("network-interface-owner-id", "123456789012"), aid},
		{filter("public-ip", str(b.PublicIp)), bid},
		{filter("allocation-id", bid), bid},
		{filter("association-id", "eipassoc-*"), aid},
		{filter("tag:team", "n?t"), bid},
		{filter("tag-key", "team"), bid},
		{filter("domain", "vpc"), aid + "," + bid},
		{filter("network-border-group", "us-east-1"), aid + "," + bid},
		{filter("domain", "standard"), ""},
		{&ec2wire.DescribeAddressesInput{PublicIps: []string{str(a.PublicIp)}}, aid},
		{&ec2wire.DescribeAddressesInput{AllocationIds: []string{bid}}, bid},
	}
	for _, tc := range cases {
		ids, err := describe(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for i, id := range ids {
			if i > 0 {
				got += ","
			}
			got += id
		}
		want := tc.want
		if aid > bid && want == aid+","+bid {
			want = bid + "," + aid
		}
		if got != want {
			t.Errorf("%+v: got %q, want %q", tc.in, got, want)
		}
	}
	_, err := describe(&ec2wire.DescribeAddressesInput{PublicIps: []string{"203.0.113.250"}})
	addrWantCode(t, err, CodeInvalidAddressNotFound)
	_, err = describe(&ec2wire.DescribeAddressesInput{AllocationIds: []string{"eipalloc-0123456789abcdef0"}})
	addrWantCode(t, err, CodeInvalidAllocationIDNotFound)
	_, err = describe(filter("bogus", "x"))
	addrWantCode(t, err, CodeInvalidParameterValue)
}

func TestAddressHelpersFollowENIs(t *testing.T) {
	f := newAddrFix(t)
	a := str(f.alloc(t).AllocationId)
	b := str(f.alloc(t).AllocationId)
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniA)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(b), NetworkInterfaceId: p(f.eniA), PrivateIpAddress: p("172.31.0.11")}); err != nil {
		t.Fatal(err)
	}
	_ = view(t, f.c, func(tx *Tx) error {
		if got := tx.addressesOfENI(f.eniA); len(got) != 2 {
			t.Errorf("addressesOfENI = %d", len(got))
		}
		if got := tx.addressFor(f.eniA, "172.31.0.11"); got == nil || got.AllocationID != b {
			t.Errorf("addressFor = %+v", got)
		}
		return nil
	})
	// A secondary address moves to another ENI, taking its EIP along.
	if err := mutate(t, f.c, func(tx *Tx) error {
		ea := tx.enis.Mut(f.eniA)
		ea.PrivateIPs = ea.PrivateIPs[:1]
		eb := tx.enis.Mut(f.eniB)
		eb.PrivateIPs = append(eb.PrivateIPs, PrivateIP{Address: "172.31.0.11"})
		tx.addressMoveIP(f.eniA, "172.31.0.11", f.eniB)
		// The transaction sees its own writes.
		if got := tx.addressFor(f.eniB, "172.31.0.11"); got == nil || got.AllocationID != b {
			return fmt.Errorf("in tx: addressFor = %+v", got)
		}
		if got := tx.addressFor(f.eniA, "172.31.0.11"); got != nil {
			return fmt.Errorf("in tx: still on the old ENI: %+v", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, b); got.ENIID != f.eniB {
		t.Fatalf("moved EIP = %+v", got)
	}
	addrCheck(t, f.c)
	// Deleting the ENI drops its associations; the EIPs stay allocated.
	if err := mutate(t, f.c, func(tx *Tx) error {
		tx.addressDisassociateENI(f.eniA)
		tx.enis.Delete(f.eniA)
		tx.addressDisassociateIP(f.eniB, "172.31.0.11")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a, b} {
		if got := f.get(t, id); got.ENIID != "" {
			t.Fatalf("%s still associated: %+v", id, got)
		}
	}
	_ = view(t, f.c, func(tx *Tx) error {
		if len(tx.db.idx.eipByENI) != 0 || len(tx.db.idx.eipByAssoc) != 0 {
			t.Errorf("index left over: %v %v", tx.db.idx.eipByENI, tx.db.idx.eipByAssoc)
		}
		return nil
	})
	addrCheck(t, f.c)
}

func TestAddressIndexRebuild(t *testing.T) {
	f := newAddrFix(t)
	a := str(f.alloc(t).AllocationId)
	assoc, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniA)})
	if err != nil {
		t.Fatal(err)
	}
	r := f.c.region("us-east-1")
	r.db.rebuild()
	_ = view(t, f.c, func(tx *Tx) error {
		if got := tx.addressByAssociation(assoc); got == nil || got.AllocationID != a {
			t.Errorf("after rebuild: addressByAssociation = %+v", got)
		}
		if got := tx.addressFor(f.eniA, "172.31.0.10"); got == nil || got.AllocationID != a {
			t.Errorf("after rebuild: addressFor = %+v", got)
		}
		return nil
	})
}

func TestAddressCrossAccountPermission(t *testing.T) {
	f := newAddrFix(t)
	other := Caller{Account: "210987654321", Region: "us-east-1"}
	var a string
	if err := f.c.Write(other, false, nil, func(tx *Tx) error {
		out, err := tx.AllocateAddress(&ec2wire.AllocateAddressInput{})
		a = str(out.AllocationId)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	assoc := func() error {
		return f.c.Write(other, false, nil, func(tx *Tx) error {
			_, err := tx.AssociateAddress(&ec2wire.AssociateAddressInput{AllocationId: p(a), NetworkInterfaceId: p(f.eniA)})
			return err
		})
	}
	addrWantCode(t, assoc(), CodeInvalidENINotFound)
	if err := mutate(t, f.c, func(tx *Tx) error {
		tx.perms.Put(&Permission{ID: tx.newID("eni-perm"), Owner: tx.Account, ENIID: f.eniA, Account: other.Account, Permission: "EIP-ASSOCIATE", State: "granted"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := assoc(); err != nil {
		t.Fatal(err)
	}
}

func TestPublicMappings(t *testing.T) {
	f := newAddrFix(t)
	a := f.alloc(t)
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: a.AllocationId, NetworkInterfaceId: p(f.eniA), PrivateIpAddress: p("172.31.0.11")}); err != nil {
		t.Fatal(err)
	}
	f.alloc(t) // unassociated: no mapping
	// Another account's ENI with an EIP shows up too.
	other := Caller{Account: "210987654321", Region: "us-east-1"}
	var otherENI, otherPub, otherVPC string
	if err := f.c.Write(other, false, nil, func(tx *Tx) error {
		var s *Subnet
		tx.subnets.Each(func(v *Subnet) bool {
			if v.Owner == other.Account && v.DefaultForAz {
				s = v
			}
			return s == nil
		})
		e := addrPutENI(tx, s, "172.31.0.10")
		otherENI, otherVPC = e.ID, s.VpcID
		out, err := tx.AllocateAddress(&ec2wire.AllocateAddressInput{})
		if err != nil {
			return err
		}
		otherPub = str(out.PublicIp)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Write(other, false, nil, func(tx *Tx) error {
		_, err := tx.AssociateAddress(&ec2wire.AssociateAddressInput{PublicIp: p(otherPub), NetworkInterfaceId: p(otherENI)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var got []PublicMapping
	_ = f.c.Read(Caller{Account: "999999999999", Region: "us-east-1"}, nil, func(tx *Tx) error { got = tx.PublicMappings(); return nil })
	want := map[string]PublicMapping{
		str(a.PublicIp): {Public: str(a.PublicIp), Private: "172.31.0.11", ENIID: f.eniA, VpcID: f.vpc},
		f.eniBPub:       {Public: f.eniBPub, Private: "172.31.0.20", ENIID: f.eniB, VpcID: f.vpc},
		otherPub:        {Public: otherPub, Private: "172.31.0.10", ENIID: otherENI, VpcID: otherVPC},
	}
	if len(got) != len(want) {
		t.Fatalf("mappings = %+v", got)
	}
	for i, m := range got {
		if want[m.Public] != m {
			t.Errorf("mapping %+v, want %+v", m, want[m.Public])
		}
		if i > 0 && got[i-1].Public >= m.Public && len(got[i-1].Public) == len(m.Public) {
			t.Errorf("not sorted: %v", got)
		}
	}
	// Another region has none.
	_ = f.c.Read(Caller{Account: "123456789012", Region: "eu-west-1"}, nil, func(tx *Tx) error { got = tx.PublicMappings(); return nil })
	if len(got) != 0 {
		t.Fatalf("eu-west-1 mappings = %+v", got)
	}
}

// Tags.

func tagTestCreate(t *testing.T, c *Core, ids []string, kv ...string) error {
	t.Helper()
	in := &ec2wire.CreateTagsInput{Resources: ids}
	for i := 0; i+1 < len(kv); i += 2 {
		in.Tags = append(in.Tags, ec2wire.Tag{Key: p(kv[i]), Value: p(kv[i+1])})
	}
	return mutate(t, c, func(tx *Tx) error { _, err := tx.CreateTags(in); return err })
}

func tagTestDescribe(t *testing.T, c *Core, filters ...ec2wire.Filter) []ec2wire.TagDescription {
	t.Helper()
	var out []ec2wire.TagDescription
	if err := view(t, c, func(tx *Tx) error {
		o, err := tx.DescribeTags(&ec2wire.DescribeTagsInput{Filters: filters})
		if err != nil {
			return err
		}
		out = o.Tags
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTagsEveryResourceType(t *testing.T) {
	f := newAddrFix(t)
	eip := str(f.alloc(t).AllocationId)
	ids := map[string]string{"network-interface": f.eniA, "instance": f.single, "elastic-ip": eip, "vpc": f.vpc, "subnet": f.subnet}
	_ = view(t, f.c, func(tx *Tx) error {
		tx.groups.Each(func(g *SecurityGroup) bool {
			if g.VpcID == f.vpc {
				ids["security-group"] = g.ID
				ids["security-group-rule"] = g.Egress[0].ID
			}
			return true
		})
		tx.igws.Each(func(g *InternetGateway) bool { ids["internet-gateway"] = g.ID; return true })
		tx.rtbs.Each(func(r *RouteTable) bool {
			if r.VpcID == f.vpc {
				ids["route-table"] = r.ID
			}
			return true
		})
		return nil
	})
	if len(ids) != 9 {
		t.Fatalf("fixture ids = %v", ids)
	}
	var all []string
	for _, id := range ids {
		all = append(all, id)
	}
	if err := tagTestCreate(t, f.c, all, "env", "prod", "Name", ""); err != nil {
		t.Fatal(err)
	}
	got := tagTestDescribe(t, f.c, ec2wire.Filter{Name: p("key"), Values: []string{"env"}})
	if len(got) != 9 {
		t.Fatalf("describe = %d items", len(got))
	}
	for _, d := range got {
		if ids[str(d.ResourceType)] != str(d.ResourceId) || str(d.Value) != "prod" {
			t.Errorf("item %s %s %s=%s", str(d.ResourceType), str(d.ResourceId), str(d.Key), str(d.Value))
		}
	}
	for typ, id := range ids {
		got := tagTestDescribe(t, f.c, ec2wire.Filter{Name: p("resource-type"), Values: []string{typ}})
		if len(got) != 2 || str(got[0].ResourceId) != id || str(got[0].Key) != "Name" || str(got[0].Value) != "" {
			t.Errorf("%s: %+v", typ, got)
		}
	}
	// The rule's tags live in its group.
	_ = view(t, f.c, func(tx *Tx) error {
		if g := tx.groups.Get(ids["security-group"]); g.Egress[0].Tags["env"] != "prod" {
			t.Errorf("rule tags = %v", g.Egress[0].Tags)
		}
		return nil
	})
	addrCheck(t, f.c)
}

func TestTagsErrorsAreAtomic(t *testing.T) {
	f := newAddrFix(t)
	cases := []struct {
		id, code string
	}{
		{"eni-0123456789abcdef0", CodeInvalidENINotFound},
		{"eni-xyz", CodeInvalidENIMalformed},
		{"vpc-0123456789abcdef0", CodeInvalidVpcIDNotFound},
		{"subnet-0123456789abcdef0", CodeInvalidSubnetIDNotFound},
		{"sg-0123456789abcdef0", CodeInvalidGroupNotFound},
		{"sgr-0123456789abcdef0", CodeSecurityGroupRuleIDNotFound},
		{"sgr-bad", CodeSecurityGroupRuleIDMalformed},
		{"i-0123456789abcdef0", CodeInvalidInstanceIDNotFound},
		{"eipalloc-0123456789abcdef0", CodeInvalidAllocationIDNotFound},
		{"igw-0123456789abcdef0", CodeInvalidIGWIDNotFound},
		{"rtb-0123456789abcdef0", CodeInvalidRouteTableIDNotFound},
		{"vol-0123456789abcdef0", CodeInvalidVolumeNotFound},
		{"nat-0123456789abcdef0", CodeInvalidNatGatewayIDNotFound},
		{"nothing", CodeInvalidID},
	}
	for _, tc := range cases {
		err := tagTestCreate(t, f.c, []string{f.eniA, tc.id}, "k", "v")
		addrWantCode(t, err, tc.code)
	}
	addrWantCode(t, tagTestCreate(t, f.c, []string{f.eniA}, "aws:x", "v"), CodeInvalidTagKeyMalformed)
	var many []string
	for i := 0; i < 51; i++ {
		many = append(many, fmt.Sprint("k", i), "v")
	}
	addrWantCode(t, tagTestCreate(t, f.c, []string{f.eniA}, many...), CodeTagLimitExceeded)
	addrWantCode(t, tagTestCreate(t, f.c, nil, "k", "v"), CodeMissingParameter)
	addrWantCode(t, tagTestCreate(t, f.c, []string{f.eniA}), CodeMissingParameter)
	// 50 in two steps is fine; one more is not.
	if err := tagTestCreate(t, f.c, []string{f.eniA}, many[:60]...); err != nil {
		t.Fatal(err)
	}
	if err := tagTestCreate(t, f.c, []string{f.eniA}, many[60:100]...); err != nil {
		t.Fatal(err)
	}
	addrWantCode(t, tagTestCreate(t, f.c, []string{f.eniA}, "one", "more"), CodeTagLimitExceeded)
	// Another account's resource is not found.
	other := Caller{Account: "210987654321", Region: "us-east-1"}
	err := f.c.Write(other, false, nil, func(tx *Tx) error {
		_, err := tx.CreateTags(&ec2wire.CreateTagsInput{Resources: []string{f.eniB}, Tags: []ec2wire.Tag{{Key: p("k")}}})
		return err
	})
	addrWantCode(t, err, CodeInvalidENINotFound)
	if got := tagTestDescribe(t, f.c, ec2wire.Filter{Name: p("key"), Values: []string{"k"}}); len(got) != 0 {
		t.Fatalf("a failed call tagged: %+v", got)
	}
	if got := tagTestDescribe(t, f.c); len(got) != 50 {
		t.Fatalf("tags = %d, want 50", len(got))
	}
}

func TestDeleteTagsSemantics(t *testing.T) {
	f := newAddrFix(t)
	if err := tagTestCreate(t, f.c, []string{f.eniA, f.eniB}, "a", "1", "b", "2", "c", "3"); err != nil {
		t.Fatal(err)
	}
	del := func(ids []string, tags ...ec2wire.Tag) error {
		return mutate(t, f.c, func(tx *Tx) error {
			_, err := tx.DeleteTags(&ec2wire.DeleteTagsInput{Resources: ids, Tags: tags})
			return err
		})
	}
	// key only: regardless of value; key+value: only on match.
	if err := del([]string{f.eniA}, ec2wire.Tag{Key: p("a")}, ec2wire.Tag{Key: p("b"), Value: p("nope")}, ec2wire.Tag{Key: p("c"), Value: p("3")}, ec2wire.Tag{Key: p("zz")}); err != nil {
		t.Fatal(err)
	}
	_ = view(t, f.c, func(tx *Tx) error {
		if got := tx.enis.Get(f.eniA).Tags; len(got) != 1 || got["b"] != "2" {
			t.Errorf("after delete: %v", got)
		}
		return nil
	})
	addrWantCode(t, del([]string{f.eniB, "eni-0123456789abcdef0"}, ec2wire.Tag{Key: p("a")}), CodeInvalidENINotFound)
	addrWantCode(t, del([]string{f.eniB}, ec2wire.Tag{Key: p("aws:cloudformation:stack")}), CodeInvalidTagKeyMalformed)
	addrWantCode(t, del(nil, ec2wire.Tag{Key: p("a")}), CodeMissingParameter)
	// No tags at all: every tag goes.
	if err := del([]string{f.eniB}); err != nil {
		t.Fatal(err)
	}
	_ = view(t, f.c, func(tx *Tx) error {
		if got := tx.enis.Get(f.eniB).Tags; got != nil {
			t.Errorf("after delete all: %v", got)
		}
		return nil
	})
}

func TestDescribeTagsFiltersAndPages(t *testing.T) {
	f := newAddrFix(t)
	if err := tagTestCreate(t, f.c, []string{f.eniA, f.eniB, f.single}, "team", "net", "x", "1"); err != nil {
		t.Fatal(err)
	}
	if err := tagTestCreate(t, f.c, []string{f.eniB}, "team", "web"); err != nil {
		t.Fatal(err)
	}
	got := tagTestDescribe(t, f.c, ec2wire.Filter{Name: p("tag:team"), Values: []string{"net"}})
	if len(got) != 4 {
		t.Fatalf("tag:team=net: %+v", got)
	}
	got = tagTestDescribe(t, f.c, ec2wire.Filter{Name: p("value"), Values: []string{"w*"}})
	if len(got) != 1 || str(got[0].ResourceId) != f.eniB {
		t.Fatalf("value=w*: %+v", got)
	}
	got = tagTestDescribe(t, f.c, ec2wire.Filter{Name: p("resource-id"), Values: []string{f.single}}, ec2wire.Filter{Name: p("key"), Values: []string{"x"}})
	if len(got) != 1 || str(got[0].ResourceType) != "instance" {
		t.Fatalf("resource-id+key: %+v", got)
	}
	err := view(t, f.c, func(tx *Tx) error {
		_, err := tx.DescribeTags(&ec2wire.DescribeTagsInput{Filters: []ec2wire.Filter{{Name: p("bogus"), Values: []string{"x"}}}})
		return err
	})
	addrWantCode(t, err, CodeInvalidParameterValue)
	// Pages of 5 over 6 tags.
	var all []string
	var tok *string
	for i := 0; ; i++ {
		var out *ec2wire.DescribeTagsOutput
		if err := view(t, f.c, func(tx *Tx) (err error) {
			out, err = tx.DescribeTags(&ec2wire.DescribeTagsInput{MaxResults: p(int32(5)), NextToken: tok})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, d := range out.Tags {
			all = append(all, str(d.ResourceId)+"/"+str(d.Key))
		}
		if tok = out.NextToken; tok == nil {
			break
		}
		if i > 3 {
			t.Fatal("pagination does not end")
		}
	}
	if len(all) != 6 {
		t.Fatalf("paged = %v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1] >= all[i] {
			t.Fatalf("unsorted or duplicated: %v", all)
		}
	}
	err = view(t, f.c, func(tx *Tx) error {
		_, err := tx.DescribeTags(&ec2wire.DescribeTagsInput{MaxResults: p(int32(2))})
		return err
	})
	addrWantCode(t, err, CodeInvalidParameterValue)
}

func TestAddressDisassociateRestoresAutoPublicIP(t *testing.T) {
	f := newAddrFix(t)
	var multiPrimary string
	if err := mutate(t, f.c, func(tx *Tx) error {
		tx.instances.Mut(f.single).AutoPublicIP = true
		tx.enis.Mut(f.eniS).PublicIP = "198.51.100.201"
		tx.instances.Mut(f.multi).AutoPublicIP = true
		multiPrimary = tx.enisOfInstance(f.multi)[0].ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pub := func(eni string) string {
		var s string
		_ = view(t, f.c, func(tx *Tx) error { s = tx.enis.Get(eni).PublicIP; return nil })
		return s
	}
	a := f.alloc(t)
	assoc, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: a.AllocationId, InstanceId: p(f.single)})
	if err != nil {
		t.Fatal(err)
	}
	if got := pub(f.eniS); got != "" {
		t.Fatalf("public IP kept: %s", got)
	}
	if err := mutate(t, f.c, func(tx *Tx) error {
		_, err := tx.DisassociateAddress(&ec2wire.DisassociateAddressInput{AssociationId: p(assoc)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := pub(f.eniS); got == "" || got == str(a.PublicIp) {
		t.Fatalf("after disassociate: public IP %q", got)
	}
	// Moving the EIP away by reassociation also gives a new one.
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: a.AllocationId, InstanceId: p(f.single)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: a.AllocationId, NetworkInterfaceId: p(f.eniA)}); err != nil {
		t.Fatal(err)
	}
	if got := pub(f.eniS); got == "" {
		t.Fatal("after reassociation elsewhere: no public IP")
	}
	// An instance with several ENIs gets none back.
	assoc, err = f.assoc(t, &ec2wire.AssociateAddressInput{AllocationId: a.AllocationId, NetworkInterfaceId: p(multiPrimary)})
	if err != nil {
		t.Fatal(err)
	}
	if err := mutate(t, f.c, func(tx *Tx) error {
		_, err := tx.DisassociateAddress(&ec2wire.DisassociateAddressInput{AssociationId: p(assoc)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := pub(multiPrimary); got != "" {
		t.Fatalf("multi-ENI instance got public IP %s", got)
	}
	addrCheck(t, f.c)
}
