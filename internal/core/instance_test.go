package core

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

func TestInstanceTypeTable(t *testing.T) {
	m, names, err := parseInstanceTypes(instanceTypesTSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1403 || len(names) != 1403 {
		t.Fatalf("parsed %d types (%d names), want 1403", len(m), len(names))
	}
	for _, c := range []struct {
		typ        string
		enis, four int
		six        int
	}{
		{"t2.micro", 2, 2, 2}, {"t3.micro", 2, 2, 2}, {"t3.small", 3, 4, 4}, {"t3.medium", 3, 6, 6},
		{"t3.large", 3, 12, 12}, {"m5.large", 3, 10, 10}, {"m5.xlarge", 4, 15, 15}, {"m5.4xlarge", 8, 30, 30},
		{"m5.24xlarge", 15, 50, 50}, {"m1.small", 2, 4, 0}, {"p4d.24xlarge", 60, 50, 50},
	} {
		enis, four, six, ok := instanceTypeLimits(c.typ)
		if !ok || enis != c.enis || four != c.four || six != c.six {
			t.Errorf("%s: limits %d/%d/%d ok=%v, want %d/%d/%d", c.typ, enis, four, six, ok, c.enis, c.four, c.six)
		}
	}
	if _, _, _, ok := instanceTypeLimits("t9.huge"); ok {
		t.Error("unknown type has limits")
	}
	// The cards of every type add up to its total, the default card has its own count.
	for _, name := range names {
		it := m[name]
		sum := 0
		for _, c := range it.Cards() {
			sum += c.MaxENIs
			if c.MaxENIs <= 0 {
				t.Errorf("%s: card %d has %d ENIs", name, c.Index, c.MaxENIs)
			}
		}
		if sum != it.MaxENIs || it.CardMaxENIs(it.DefaultCardIndex) != it.DefaultCardMaxENIs {
			t.Errorf("%s: cards %+v, total %d default %d", name, it.Cards(), it.MaxENIs, it.DefaultCardMaxENIs)
		}
	}
	p4d, _ := instanceType("p4d.24xlarge")
	if cards := p4d.Cards(); len(cards) != 4 || cards[3].MaxENIs != 15 {
		t.Errorf("p4d cards = %+v", cards)
	}
	if _, _, err := parseInstanceTypes("h\nx\t1\n"); err == nil {
		t.Error("a short row parsed")
	}
	if _, _, err := parseInstanceTypes("h\nx\ta\t1\t1\t1\t1\t0\tnitro\tfalse\n"); err == nil {
		t.Error("a non-numeric row parsed")
	}
}

func TestInstanceTypeDerivedFields(t *testing.T) {
	for name, want := range map[string]string{
		"m5.large": "x86_64", "m6g.large": "arm64", "c7gn.large": "arm64", "t4g.micro": "arm64", "a1.large": "arm64",
		"im4gn.large": "arm64", "is4gen.large": "arm64", "g5g.xlarge": "arm64", "g4dn.xlarge": "x86_64",
		"mac1.metal": "x86_64_mac", "mac2.metal": "arm64_mac", "u7i-12tb.224xlarge": "x86_64", "c7i-flex.large": "x86_64",
	} {
		if got := instanceTypeArch(name); got != want {
			t.Errorf("arch(%s) = %s, want %s", name, got, want)
		}
	}
	m1, _ := instanceType("m1.small")
	t3, _ := instanceType("t3.micro")
	if m1.currentGeneration() || !t3.currentGeneration() || m1.enaSupport() != "unsupported" || t3.enaSupport() != "required" {
		t.Errorf("generation/ena: m1 %v %s, t3 %v %s", m1.currentGeneration(), m1.enaSupport(), t3.currentGeneration(), t3.enaSupport())
	}
}

func TestDescribeInstanceTypesCore(t *testing.T) {
	c := newTestCore(t)
	err := view(t, c, func(tx *Tx) error {
		out, err := tx.DescribeInstanceTypes(&ec2wire.DescribeInstanceTypesInput{Filters: []ec2wire.Filter{
			{Name: p("network-info.maximum-network-interfaces"), Values: []string{"60"}},
			{Name: p("instance-type"), Values: []string{"p4*"}},
		}})
		if err != nil {
			return err
		}
		if len(out.InstanceTypes) != 2 || *out.InstanceTypes[0].InstanceType != "p4d.24xlarge" {
			t.Errorf("got %d types", len(out.InstanceTypes))
		}
		ni := out.InstanceTypes[0].NetworkInfo
		if *ni.MaximumNetworkCards != 4 || len(ni.NetworkCards) != 4 || *ni.EfaSupported {
			t.Errorf("network info %+v", ni)
		}
		_, err = tx.DescribeInstanceTypes(&ec2wire.DescribeInstanceTypesInput{InstanceTypes: []string{"t3.micro", "x1.nope"}})
		wantCode(t, err, CodeInvalidInstanceType)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

// runOne launches one instance with in (MinCount/MaxCount/ImageId filled in).
func runOne(t *testing.T, c *Core, in *ec2wire.RunInstancesInput) (*ec2wire.Instance, error) {
	t.Helper()
	if in.ImageId == nil {
		in.ImageId = p("ami-12345678")
	}
	if in.MinCount == nil {
		in.MinCount, in.MaxCount = p(int32(1)), p(int32(1))
	}
	var out *ec2wire.Reservation
	err := mutate(t, c, func(tx *Tx) error {
		var err error
		out, err = tx.RunInstances(in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out.Instances[0], nil
}

// putSubnet stores a subnet of the default VPC (bypassing CreateSubnet).
func putSubnet(t *testing.T, c *Core, cidr string, mapPublic bool) *Subnet {
	t.Helper()
	var s *Subnet
	if err := mutate(t, c, func(tx *Tx) error {
		v := tx.instanceDefaultVPC()
		s = &Subnet{ID: tx.newID("subnet"), Owner: tx.Account, VpcID: v.ID, AZ: tx.AZs()[0].Name, CidrBlock: cidr, MapPublicIpOnLaunch: mapPublic}
		tx.subnets.Put(s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunInstancesPublicIPRule(t *testing.T) {
	c := newTestCore(t)
	private := putSubnet(t, c, "172.31.200.0/24", false)
	var eniID string
	if err := mutate(t, c, func(tx *Tx) error {
		e, err := tx.createENI(eniSpec{Subnet: private, IPv6Count: -1})
		eniID = e.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	nic := func(dev int32, extra func(*ec2wire.InstanceNetworkInterfaceSpecification)) ec2wire.InstanceNetworkInterfaceSpecification {
		s := ec2wire.InstanceNetworkInterfaceSpecification{DeviceIndex: p(dev)}
		if extra != nil {
			extra(&s)
		}
		return s
	}
	for _, c2 := range []struct {
		name string
		in   *ec2wire.RunInstancesInput
		want bool
	}{
		{"default subnet maps public", &ec2wire.RunInstancesInput{}, true},
		{"private subnet", &ec2wire.RunInstancesInput{SubnetId: p(private.ID)}, false},
		{"explicit true in private subnet", &ec2wire.RunInstancesInput{NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{
			nic(0, func(s *ec2wire.InstanceNetworkInterfaceSpecification) {
				s.SubnetId, s.AssociatePublicIpAddress = p(private.ID), p(true)
			})}}, true},
		{"explicit false in default subnet", &ec2wire.RunInstancesInput{NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{
			nic(0, func(s *ec2wire.InstanceNetworkInterfaceSpecification) { s.AssociatePublicIpAddress = p(false) })}}, false},
		{"two interfaces", &ec2wire.RunInstancesInput{NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{nic(0, nil), nic(1, nil)}}, false},
		{"existing ENI at index 0", &ec2wire.RunInstancesInput{NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{
			nic(0, func(s *ec2wire.InstanceNetworkInterfaceSpecification) { s.NetworkInterfaceId = p(eniID) })}}, false},
	} {
		inst, err := runOne(t, c, c2.in)
		if err != nil {
			t.Fatalf("%s: %v", c2.name, err)
		}
		if got := inst.PublicIpAddress != nil; got != c2.want {
			t.Errorf("%s: public IP %v, want %v", c2.name, str(inst.PublicIpAddress), c2.want)
		}
	}
}

func TestRunInstancesLaunchesWhatFits(t *testing.T) {
	c := newTestCore(t)
	small := putSubnet(t, c, "172.31.201.0/28", false) // 11 usable addresses
	var res *ec2wire.Reservation
	if err := mutate(t, c, func(tx *Tx) error {
		var err error
		res, err = tx.RunInstances(&ec2wire.RunInstancesInput{ImageId: p("ami-12345678"), MinCount: p(int32(2)), MaxCount: p(int32(20)), SubnetId: p(small.ID)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(res.Instances) != 11 {
		t.Fatalf("launched %d, want 11", len(res.Instances))
	}
	for i, inst := range res.Instances {
		if *inst.AmiLaunchIndex != int32(i) || *inst.State.Name != "pending" {
			t.Errorf("instance %d: %+v", i, inst)
		}
	}
	_, err := runOne(t, c, &ec2wire.RunInstancesInput{SubnetId: p(small.ID)})
	wantCode(t, err, CodeInsufficientFreeAddresses)
}

func TestTerminateReleasesAutoPublicIPOfKeptENI(t *testing.T) {
	c := newTestCore(t)
	inst, err := runOne(t, c, &ec2wire.RunInstancesInput{NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: p(int32(0)), DeleteOnTermination: p(false)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if inst.PublicIpAddress == nil {
		t.Fatal("no public IP")
	}
	eniID := *inst.NetworkInterfaces[0].NetworkInterfaceId
	if err := mutate(t, c, func(tx *Tx) error {
		_, err := tx.TerminateInstances(&ec2wire.TerminateInstancesInput{InstanceIds: []string{*inst.InstanceId}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_ = view(t, c, func(tx *Tx) error {
		e := tx.enis.Get(eniID)
		if e == nil || e.Attachment != nil || e.PublicIP != "" || e.PrimaryIP() != *inst.PrivateIpAddress {
			t.Errorf("kept ENI = %+v", e)
		}
		if i := tx.instances.Get(*inst.InstanceId); i.State != "terminated" || i.TerminatedAt.IsZero() {
			t.Errorf("instance = %+v", i)
		}
		return nil
	})
}

func TestStartGivesNoPublicIPWithTwoENIs(t *testing.T) {
	c := newTestCore(t)
	inst, err := runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("t3.micro")})
	if err != nil {
		t.Fatal(err)
	}
	id := *inst.InstanceId
	if inst.PublicIpAddress == nil {
		t.Fatal("no public IP")
	}
	if err := mutate(t, c, func(tx *Tx) error {
		sub := tx.subnets.Get(*inst.SubnetId)
		e, err := tx.createENI(eniSpec{Subnet: sub, IPv6Count: -1})
		if err != nil {
			return err
		}
		if _, err := tx.attachENI(e, tx.instances.Get(id), 1, 0, false); err != nil {
			return err
		}
		_, err = tx.StopInstances(&ec2wire.StopInstancesInput{InstanceIds: []string{id}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := mutate(t, c, func(tx *Tx) error {
		_, err := tx.StartInstances(&ec2wire.StartInstancesInput{InstanceIds: []string{id}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_ = view(t, c, func(tx *Tx) error {
		for _, e := range tx.enisOfInstance(id) {
			if e.PublicIP != "" {
				t.Errorf("ENI %s got public IP %s after start with two ENIs", e.ID, e.PublicIP)
			}
		}
		if i := tx.instances.Get(id); i.State != "running" || !i.AutoPublicIP {
			t.Errorf("instance = %+v", i)
		}
		return nil
	})
}

func TestRunInstancesIPv6(t *testing.T) {
	c := newTestCore(t)
	var sub *Subnet
	if err := mutate(t, c, func(tx *Tx) error {
		v := tx.instanceDefaultVPC()
		sub = &Subnet{ID: tx.newID("subnet"), Owner: tx.Account, VpcID: v.ID, AZ: tx.AZs()[1].Name, CidrBlock: "172.31.202.0/24",
			Ipv6CidrBlock: "2600:1f00:0:1::/64", AssignIpv6AddressOnCreation: true}
		tx.subnets.Put(sub)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	inst, err := runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("t2.micro"), SubnetId: p(sub.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(inst.NetworkInterfaces[0].Ipv6Addresses); n != 1 || *inst.Placement.AvailabilityZone != sub.AZ {
		t.Errorf("subnet default: %d IPv6 in %s", n, *inst.Placement.AvailabilityZone)
	}
	inst, err = runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("t2.micro"), SubnetId: p(sub.ID), Ipv6AddressCount: p(int32(2))})
	if err != nil || len(inst.NetworkInterfaces[0].Ipv6Addresses) != 2 {
		t.Fatalf("two IPv6: %v", err)
	}
	_, err = runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("t2.micro"), SubnetId: p(sub.ID), Ipv6AddressCount: p(int32(3))})
	wantCode(t, err, CodeInterfaceIPLimitExceeded)
	_, err = runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("m1.small"), SubnetId: p(sub.ID)})
	wantCode(t, err, CodeInterfaceIPLimitExceeded) // the subnet's automatic IPv6 does not fit a type without IPv6
	inst, err = runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("m1.small"), SubnetId: p(sub.ID), Ipv6AddressCount: p(int32(0))})
	if err != nil || len(inst.NetworkInterfaces[0].Ipv6Addresses) != 0 {
		t.Fatalf("m1.small without IPv6: %v", err)
	}
	inst, err = runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("t2.micro"), SubnetId: p(sub.ID),
		Ipv6Addresses: []ec2wire.InstanceIpv6Address{{Ipv6Address: p("2600:1f00:0:1::99")}}})
	if err != nil || *inst.NetworkInterfaces[0].Ipv6Addresses[0].Ipv6Address != "2600:1f00:0:1::99" {
		t.Fatalf("explicit IPv6: %v", err)
	}
}

func TestInstanceLifecycleInvariants(t *testing.T) {
	c := newTestCore(t)
	var ids []string
	for _, in := range []*ec2wire.RunInstancesInput{
		{},
		{InstanceType: p("m5.large"), SecurityGroups: []string{"default"}, MinCount: p(int32(1)), MaxCount: p(int32(3))},
		{InstanceType: p("t3.medium"), NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{
			{DeviceIndex: p(int32(0)), SecondaryPrivateIpAddressCount: p(int32(2))},
			{DeviceIndex: p(int32(1)), DeleteOnTermination: p(false)},
		}},
	} {
		in.ImageId = p("ami-12345678")
		if in.MinCount == nil {
			in.MinCount, in.MaxCount = p(int32(1)), p(int32(1))
		}
		if err := mutate(t, c, func(tx *Tx) error {
			out, err := tx.RunInstances(in)
			for _, i := range out.Instances {
				ids = append(ids, *i.InstanceId)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(ids) != 5 {
		t.Fatalf("launched %d", len(ids))
	}
	steps := []func(tx *Tx) error{
		func(tx *Tx) error {
			_, err := tx.StopInstances(&ec2wire.StopInstancesInput{InstanceIds: ids[:3]})
			return err
		},
		func(tx *Tx) error {
			_, err := tx.StartInstances(&ec2wire.StartInstancesInput{InstanceIds: ids[:2]})
			return err
		},
		func(tx *Tx) error {
			_, err := tx.TerminateInstances(&ec2wire.TerminateInstancesInput{InstanceIds: ids[1:]})
			return err
		},
	}
	for i, step := range steps {
		if err := mutate(t, c, step); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if errs := c.Check(); len(errs) > 0 {
			t.Fatalf("step %d: invariants: %v", i, errs)
		}
	}
	_ = view(t, c, func(tx *Tx) error {
		if n := len(tx.enisOfInstance(ids[0])); n != 1 {
			t.Errorf("running instance has %d ENIs", n)
		}
		left := 0
		tx.enis.Each(func(e *ENI) bool {
			left++
			if e.Attachment == nil && e.PublicIP != "" {
				t.Errorf("detached ENI %s keeps public IP", e.ID)
			}
			return true
		})
		if left != 2 { // ids[0]'s primary and the kept secondary of the last launch
			t.Errorf("%d ENIs left, want 2", left)
		}
		out, err := tx.DescribeInstances(&ec2wire.DescribeInstancesInput{Filters: []ec2wire.Filter{
			{Name: p("instance-state-name"), Values: []string{"terminated"}},
		}})
		if err != nil || len(out.Reservations) != 2 {
			t.Errorf("terminated reservations: %+v %v", out, err)
		}
		return nil
	})
}

func TestRunInstancesGroupNames(t *testing.T) {
	c := newTestCore(t)
	inst, err := runOne(t, c, &ec2wire.RunInstancesInput{SecurityGroups: []string{"default"}})
	if err != nil || len(inst.SecurityGroups) != 1 || *inst.SecurityGroups[0].GroupName != "default" {
		t.Fatalf("by name: %+v %v", inst, err)
	}
	_, err = runOne(t, c, &ec2wire.RunInstancesInput{SecurityGroups: []string{"nope"}})
	wantCode(t, err, CodeInvalidGroupNotFound)
	// Names are for the default VPC only.
	var sub *Subnet
	if err := mutate(t, c, func(tx *Tx) error {
		v, _ := tx.createVPC("10.1.0.0/16", false, nil)
		sub = &Subnet{ID: tx.newID("subnet"), Owner: tx.Account, VpcID: v.ID, AZ: tx.AZs()[0].Name, CidrBlock: "10.1.1.0/24"}
		tx.subnets.Put(sub)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = runOne(t, c, &ec2wire.RunInstancesInput{SubnetId: p(sub.ID), SecurityGroups: []string{"default"}})
	wantCode(t, err, CodeInvalidParameterCombination)
	inst, err = runOne(t, c, &ec2wire.RunInstancesInput{SubnetId: p(sub.ID)})
	if err != nil || *inst.VpcId != sub.VpcID || inst.PublicIpAddress != nil || *inst.PublicDnsName != "" {
		t.Fatalf("non-default VPC: %+v %v", inst, err)
	}
}

func TestRunInstancesNetworkCards(t *testing.T) {
	c := newTestCore(t)
	inst, err := runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("p4d.24xlarge"), NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: p(int32(0))}, {DeviceIndex: p(int32(0)), NetworkCardIndex: p(int32(1))}, {DeviceIndex: p(int32(1)), NetworkCardIndex: p(int32(3))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cards := map[int32]int{}
	for _, n := range inst.NetworkInterfaces {
		cards[*n.Attachment.NetworkCardIndex]++
	}
	if len(inst.NetworkInterfaces) != 3 || cards[0] != 1 || cards[1] != 1 || cards[3] != 1 {
		t.Errorf("cards = %v", cards)
	}
	_, err = runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("p4d.24xlarge"), NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: p(int32(0))}, {DeviceIndex: p(int32(0)), NetworkCardIndex: p(int32(4))},
	}})
	wantCode(t, err, CodeInvalidParameterValue)
	_, err = runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("p4d.24xlarge"), NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: p(int32(1))}, {DeviceIndex: p(int32(0)), NetworkCardIndex: p(int32(1))},
	}})
	wantCode(t, err, CodeInvalidParameterValue) // no primary at card 0, device 0
}

// MarkRealised makes the realised pending instances running and their attaching
// ENIs attached, and leaves the others as they are; the index of what it may
// change (pending instances, attaching ENIs) follows the records (Check).
func TestMarkRealised(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataPlane = true
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := New(Env{Now: func() time.Time { return now }, Rand: &testRand{rand.NewChaCha8([32]byte{1})}}, cfg)
	var ids, enis []string
	for range 2 {
		i, err := runOne(t, c, &ec2wire.RunInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		ids, enis = append(ids, *i.InstanceId), append(enis, *i.NetworkInterfaces[0].NetworkInterfaceId)
	}
	states := func() string {
		var s []string
		_ = view(t, c, func(tx *Tx) error {
			for k := range ids {
				s = append(s, tx.instances.Get(ids[k]).State+"/"+tx.enis.Get(enis[k]).Attachment.Status)
			}
			return nil
		})
		return strings.Join(s, " ")
	}
	if got := states(); got != "pending/attaching pending/attaching" {
		t.Fatalf("launched: %s", got)
	}
	if errs := c.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := mutate(t, c, func(tx *Tx) error {
		if !tx.MarkRealised(SetOf(map[string]bool{ids[0]: true}), SetOf(map[string]string{enis[0]: ids[0], enis[1]: "i-other"})) {
			t.Error("MarkRealised changed nothing")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := states(); got != "running/attached pending/attaching" {
		t.Fatalf("the first realised: %s", got)
	}
	if errs := c.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
