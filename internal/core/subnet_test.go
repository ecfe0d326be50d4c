package core

import (
	"net/netip"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// subnetTestVPC creates a VPC (with an IPv6 /56 when ipv6) and returns its id.
func subnetTestVPC(t *testing.T, c *Core, cidr string, ipv6 bool) *VPC {
	t.Helper()
	var v *VPC
	if err := mutate(t, c, func(tx *Tx) error {
		out, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p(cidr), AmazonProvidedIpv6CidrBlock: p(ipv6)})
		if err != nil {
			return err
		}
		v = tx.vpcs.Get(*out.Vpc.VpcId)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

func subnetCreate(t *testing.T, c *Core, in *ec2wire.CreateSubnetInput) (*Subnet, error) {
	t.Helper()
	var s *Subnet
	err := mutate(t, c, func(tx *Tx) error {
		out, err := tx.CreateSubnet(in)
		if err != nil {
			return err
		}
		s = tx.subnets.Get(*out.Subnet.SubnetId)
		return nil
	})
	return s, err
}

func subnetWantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok || e.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func TestSubnetCidrRangeAndConflict(t *testing.T) {
	c := newTestCore(t)
	v := subnetTestVPC(t, c, "10.0.0.0/24", false)
	if err := mutate(t, c, func(tx *Tx) error {
		_, err := tx.AssociateVpcCidrBlock(&ec2wire.AssociateVpcCidrBlockInput{VpcId: p(v.ID), CidrBlock: p("10.0.1.0/24")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s, err := subnetCreate(t, c, &ec2wire.CreateSubnetInput{VpcId: p(v.ID), CidrBlock: p("10.0.0.7/26")})
	if err != nil {
		t.Fatal(err)
	}
	if s.CidrBlock != "10.0.0.0/26" || s.AZ != "us-east-1a" {
		t.Fatalf("subnet = %+v, want canonical 10.0.0.0/26 in the first AZ", s)
	}
	cases := []struct {
		cidr, code string
	}{
		{"10.0.0.32/27", CodeInvalidSubnetConflict}, // inside 10.0.0.0/26
		{"10.0.0.0/25", CodeInvalidSubnetConflict},  // contains it
		{"10.0.0.0/23", CodeInvalidSubnetRange},     // spans both VPC blocks
		{"10.0.2.0/24", CodeInvalidSubnetRange},     // outside the VPC
		{"10.0.0.64/29", CodeInvalidSubnetRange},    // smaller than /28
		{"10.0.0.0/15", CodeInvalidSubnetRange},     // larger than /16
		{"10.0.0.300/24", CodeInvalidParameterValue},
		{"2001:db8::/64", CodeInvalidParameterValue},
	}
	for _, tc := range cases {
		_, err := subnetCreate(t, c, &ec2wire.CreateSubnetInput{VpcId: p(v.ID), CidrBlock: p(tc.cidr)})
		subnetWantCode(t, err, tc.code)
	}
	// The secondary block takes subnets; adjacent subnets do not conflict.
	for _, cidr := range []string{"10.0.1.0/28", "10.0.0.64/26", "10.0.1.16/28"} {
		if _, err := subnetCreate(t, c, &ec2wire.CreateSubnetInput{VpcId: p(v.ID), CidrBlock: p(cidr)}); err != nil {
			t.Fatalf("%s: %v", cidr, err)
		}
	}
	// Another VPC may reuse the same range.
	v2 := subnetTestVPC(t, c, "10.0.0.0/24", false)
	if _, err := subnetCreate(t, c, &ec2wire.CreateSubnetInput{VpcId: p(v2.ID), CidrBlock: p("10.0.0.0/26")}); err != nil {
		t.Fatal(err)
	}
}

func TestSubnetIpv6Rules(t *testing.T) {
	c := newTestCore(t)
	v := subnetTestVPC(t, c, "10.0.0.0/16", true)
	block := netip.MustParsePrefix(v.Ipv6Assocs[0].Cidr)
	sub64 := func(i byte) string {
		a := block.Addr().As16()
		a[7] = i
		return netip.PrefixFrom(netip.AddrFrom16(a), 64).String()
	}
	s, err := subnetCreate(t, c, &ec2wire.CreateSubnetInput{VpcId: p(v.ID), CidrBlock: p("10.0.0.0/24"), Ipv6CidrBlock: p(sub64(1))})
	if err != nil {
		t.Fatal(err)
	}
	if s.Ipv6CidrBlock != sub64(1) || !validID(s.Ipv6AssocID, "subnet-cidr-assoc") {
		t.Fatalf("subnet = %+v", s)
	}
	cases := []struct {
		ipv6, code string
	}{
		{sub64(1), CodeInvalidSubnetConflict},
		{netip.PrefixFrom(block.Addr(), 60).String(), CodeInvalidSubnetRange}, // not a /64
		{"2001:db8::/64", CodeInvalidSubnetRange},                             // outside the /56
		{"10.0.0.0/24", CodeInvalidParameterValue},
	}
	for _, tc := range cases {
		_, err := subnetCreate(t, c, &ec2wire.CreateSubnetInput{VpcId: p(v.ID), CidrBlock: p("10.0.1.0/24"), Ipv6CidrBlock: p(tc.ipv6)})
		subnetWantCode(t, err, tc.code)
	}
	// A VPC without an IPv6 block takes no IPv6 subnet.
	v4 := subnetTestVPC(t, c, "10.1.0.0/16", false)
	_, err = subnetCreate(t, c, &ec2wire.CreateSubnetInput{VpcId: p(v4.ID), CidrBlock: p("10.1.0.0/24"), Ipv6CidrBlock: p(sub64(2))})
	subnetWantCode(t, err, CodeInvalidSubnetRange)
}

func TestSubnetAvailableCountAndZones(t *testing.T) {
	c := newTestCore(t)
	v := subnetTestVPC(t, c, "10.0.0.0/16", false)
	s, err := subnetCreate(t, c, &ec2wire.CreateSubnetInput{VpcId: p(v.ID), CidrBlock: p("10.0.0.0/28"), AvailabilityZoneId: p("use1-az2")})
	if err != nil {
		t.Fatal(err)
	}
	if s.AZ != "us-east-1b" {
		t.Fatalf("AZ = %s, want us-east-1b", s.AZ)
	}
	count := func() int32 {
		var n int32
		if err := view(t, c, func(tx *Tx) error {
			out, err := tx.DescribeSubnets(&ec2wire.DescribeSubnetsInput{SubnetIds: []string{s.ID}})
			if err != nil {
				return err
			}
			n = *out.Subnets[0].AvailableIpAddressCount
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 11 {
		t.Fatalf("available = %d, want 11 (16 - 5 reserved)", n)
	}
	if err := mutate(t, c, func(tx *Tx) error {
		_, err := tx.createENI(eniSpec{Subnet: tx.subnets.Get(s.ID), SecondaryCount: 2})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 8 {
		t.Fatalf("available = %d after an ENI with 3 addresses, want 8", n)
	}
	for _, in := range []*ec2wire.CreateSubnetInput{
		{VpcId: p(v.ID), CidrBlock: p("10.0.1.0/24"), AvailabilityZone: p("us-east-1z")},
		{VpcId: p(v.ID), CidrBlock: p("10.0.1.0/24"), AvailabilityZoneId: p("use1-az9")},
	} {
		_, err := subnetCreate(t, c, in)
		subnetWantCode(t, err, CodeInvalidParameterValue)
	}
	_, err = subnetCreate(t, c, &ec2wire.CreateSubnetInput{VpcId: p(v.ID), CidrBlock: p("10.0.1.0/24"), AvailabilityZone: p("us-east-1a"), AvailabilityZoneId: p("use1-az2")})
	subnetWantCode(t, err, CodeInvalidParameterCombination)
}

// subnetRouteFixture is a VPC with one subnet, an attached gateway and a
// second (custom) route table.
type subnetRouteFixture struct {
	vpc, subnet, igw, main, custom string
}

func newSubnetRouteFixture(t *testing.T, c *Core) subnetRouteFixture {
	t.Helper()
	v := subnetTestVPC(t, c, "10.0.0.0/16", false)
	f := subnetRouteFixture{vpc: v.ID}
	if err := mutate(t, c, func(tx *Tx) error {
		s, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: p(v.ID), CidrBlock: p("10.0.1.0/24")})
		if err != nil {
			return err
		}
		f.subnet = *s.Subnet.SubnetId
		g, err := tx.CreateInternetGateway(&ec2wire.CreateInternetGatewayInput{})
		if err != nil {
			return err
		}
		f.igw = *g.InternetGateway.InternetGatewayId
		if _, err := tx.AttachInternetGateway(&ec2wire.AttachInternetGatewayInput{InternetGatewayId: p(f.igw), VpcId: p(v.ID)}); err != nil {
			return err
		}
		r, err := tx.CreateRouteTable(&ec2wire.CreateRouteTableInput{VpcId: p(v.ID)})
		if err != nil {
			return err
		}
		f.custom = *r.RouteTable.RouteTableId
		tx.rtbs.Each(func(r *RouteTable) bool {
			if r.VpcID == v.ID && isMain(r) {
				f.main = r.ID
			}
			return true
		})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func subnetPublic(t *testing.T, c *Core, subnetID string) (bool, string) {
	t.Helper()
	var pub bool
	var rtb string
	if err := view(t, c, func(tx *Tx) error {
		pub = tx.SubnetIsPublic(subnetID)
		if r := tx.SubnetRouteTable(subnetID); r != nil {
			rtb = r.ID
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return pub, rtb
}

func TestSubnetRouteTableAndPublic(t *testing.T) {
	c := newTestCore(t)
	f := newSubnetRouteFixture(t, c)
	step := func(name string, fn func(tx *Tx) error, wantPublic bool, wantRtb string) {
		t.Helper()
		if fn != nil {
			if err := mutate(t, c, fn); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		pub, rtb := subnetPublic(t, c, f.subnet)
		if pub != wantPublic || rtb != wantRtb {
			t.Fatalf("%s: public=%v table=%s, want %v %s", name, pub, rtb, wantPublic, wantRtb)
		}
	}
	step("fresh subnet uses the main table, no default route", nil, false, f.main)
	step("default route in the main table", func(tx *Tx) error {
		_, err := tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: p(f.main), DestinationCidrBlock: p("0.0.0.0/0"), GatewayId: p(f.igw)})
		return err
	}, true, f.main)
	var assoc string
	step("explicit association with a table without a default route", func(tx *Tx) error {
		out, err := tx.AssociateRouteTable(&ec2wire.AssociateRouteTableInput{RouteTableId: p(f.custom), SubnetId: p(f.subnet)})
		if err == nil {
			assoc = *out.AssociationId
		}
		return err
	}, false, f.custom)
	step("a narrower route to the gateway is not a default route", func(tx *Tx) error {
		_, err := tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: p(f.custom), DestinationCidrBlock: p("0.0.0.0/1"), GatewayId: p(f.igw)})
		return err
	}, false, f.custom)
	step("default route in the associated table", func(tx *Tx) error {
		_, err := tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: p(f.custom), DestinationCidrBlock: p("0.0.0.0/0"), GatewayId: p(f.igw)})
		return err
	}, true, f.custom)
	step("detached gateway makes the route a blackhole", func(tx *Tx) error {
		_, err := tx.DetachInternetGateway(&ec2wire.DetachInternetGatewayInput{InternetGatewayId: p(f.igw), VpcId: p(f.vpc)})
		return err
	}, false, f.custom)
	if err := view(t, c, func(tx *Tx) error {
		r := tx.SubnetRouteTable(f.subnet)
		for _, rt := range r.Routes {
			want := "blackhole"
			if rt.GatewayID == "local" {
				want = "active"
			}
			if got := tx.RouteState(r, rt); got != want {
				t.Errorf("route %s -> %s state %s, want %s", routeDest(rt), rt.GatewayID, got, want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	step("reattached gateway", func(tx *Tx) error {
		_, err := tx.AttachInternetGateway(&ec2wire.AttachInternetGatewayInput{InternetGatewayId: p(f.igw), VpcId: p(f.vpc)})
		return err
	}, true, f.custom)
	step("disassociation falls back to the main table", func(tx *Tx) error {
		_, err := tx.DisassociateRouteTable(&ec2wire.DisassociateRouteTableInput{AssociationId: p(assoc)})
		return err
	}, true, f.main)
	step("gateway route replaced by an ENI route", func(tx *Tx) error {
		e, err := tx.createENI(eniSpec{Subnet: tx.subnets.Get(f.subnet)})
		if err != nil {
			return err
		}
		_, err = tx.ReplaceRoute(&ec2wire.ReplaceRouteInput{RouteTableId: p(f.main), DestinationCidrBlock: p("0.0.0.0/0"), NetworkInterfaceId: p(e.ID)})
		return err
	}, false, f.main)

	// The default VPC's subnets are public; an unknown subnet is not.
	if err := view(t, c, func(tx *Tx) error {
		n := 0
		tx.subnets.Each(func(s *Subnet) bool {
			if s.DefaultForAz {
				n++
				if !tx.SubnetIsPublic(s.ID) {
					t.Errorf("default subnet %s is not public", s.ID)
				}
			}
			return true
		})
		if n != 3 {
			t.Errorf("%d default subnets", n)
		}
		if tx.SubnetIsPublic("subnet-00000000") || tx.SubnetRouteTable("subnet-00000000") != nil {
			t.Error("unknown subnet has a table")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSubnetRouteTargetsAndBlackhole(t *testing.T) {
	c := newTestCore(t)
	f := newSubnetRouteFixture(t, c)
	var eni, inst string
	if err := mutate(t, c, func(tx *Tx) error {
		e, err := tx.createENI(eniSpec{Subnet: tx.subnets.Get(f.subnet)})
		if err != nil {
			return err
		}
		eni = e.ID
		inst = "i-0123456789abcdef0"
		tx.instances.Put(&Instance{ID: inst, Owner: tx.Account, AZ: e.AZ, SubnetID: f.subnet, VpcID: f.vpc, State: "running", InstanceType: "t3.micro"})
		e.Attachment = &Attachment{ID: "eni-attach-0123456789abcdef0", InstanceID: inst, InstanceOwner: tx.Account, Status: "attached"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := mutate(t, c, func(tx *Tx) error {
		if _, err := tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: p(f.custom), DestinationCidrBlock: p("192.168.0.0/16"), InstanceId: p(inst)}); err != nil {
			return err
		}
		// A route more specific than the VPC's block may target an interface, not a gateway.
		if _, err := tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: p(f.custom), DestinationCidrBlock: p("10.0.1.0/24"), NetworkInterfaceId: p(eni)}); err != nil {
			return err
		}
		_, err := tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: p(f.custom), DestinationCidrBlock: p("10.0.2.0/24"), GatewayId: p(f.igw)})
		subnetWantCode(t, err, CodeInvalidParameterValue)
		_, err = tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: p(f.custom), DestinationCidrBlock: p("10.0.0.0/16"), NetworkInterfaceId: p(eni)})
		subnetWantCode(t, err, CodeRouteAlreadyExists)
		_, err = tx.DeleteRoute(&ec2wire.DeleteRouteInput{RouteTableId: p(f.custom), DestinationCidrBlock: p("10.0.0.0/16")})
		subnetWantCode(t, err, CodeInvalidParameterValue)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	describe := func() []ec2wire.Route {
		var routes []ec2wire.Route
		if err := view(t, c, func(tx *Tx) error {
			out, err := tx.DescribeRouteTables(&ec2wire.DescribeRouteTablesInput{RouteTableIds: []string{f.custom}})
			if err != nil {
				return err
			}
			routes = out.RouteTables[0].Routes
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return routes
	}
	routes := describe()
	if len(routes) != 3 || str(routes[1].InstanceId) != inst || str(routes[1].NetworkInterfaceId) != eni || str(routes[1].State) != "active" {
		t.Fatalf("routes = %+v", routes)
	}
	// The ENI goes away: both routes that use it become blackholes.
	if err := mutate(t, c, func(tx *Tx) error {
		tx.enis.Delete(eni)
		tx.instances.Delete(inst)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	routes = describe()
	for _, rt := range routes[1:] {
		if str(rt.State) != "blackhole" {
			t.Errorf("route %s state %s, want blackhole", str(rt.DestinationCidrBlock), str(rt.State))
		}
	}
	if str(routes[1].InstanceId) != inst {
		t.Errorf("blackhole instance route lost its instance: %+v", routes[1])
	}
}

func TestSubnetLocalRoutesFollowVPCBlocks(t *testing.T) {
	c := newTestCore(t)
	v := subnetTestVPC(t, c, "10.0.0.0/16", true)
	var rtb string
	if err := mutate(t, c, func(tx *Tx) error {
		out, err := tx.CreateRouteTable(&ec2wire.CreateRouteTableInput{VpcId: p(v.ID)})
		if err != nil {
			return err
		}
		rtb = *out.RouteTable.RouteTableId
		if len(out.RouteTable.Routes) != 2 || str(out.RouteTable.Routes[1].DestinationIpv6CidrBlock) != v.Ipv6Assocs[0].Cidr {
			t.Errorf("new table routes = %+v, want IPv4 and IPv6 local routes", out.RouteTable.Routes)
		}
		_, err = tx.AssociateVpcCidrBlock(&ec2wire.AssociateVpcCidrBlockInput{VpcId: p(v.ID), CidrBlock: p("10.1.0.0/16")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := view(t, c, func(tx *Tx) error {
		for _, r := range tx.rtbs.Sorted(func(r *RouteTable) bool { return r.VpcID == v.ID }) {
			n := 0
			for _, rt := range tx.rtbRoutes(r) {
				if rt.GatewayID == "local" {
					n++
				}
			}
			if n != 3 {
				t.Errorf("table %s (main %v) has %d local routes, want 3", r.ID, r.ID != rtb, n)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSubnetIGWDetachNeedsNoPublicAddresses(t *testing.T) {
	c := newTestCore(t)
	f := newSubnetRouteFixture(t, c)
	var eni string
	if err := mutate(t, c, func(tx *Tx) error {
		e, err := tx.createENI(eniSpec{Subnet: tx.subnets.Get(f.subnet)})
		if err != nil {
			return err
		}
		eni = e.ID
		e.PublicIP = "198.51.100.77"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	detach := func(tx *Tx) error {
		_, err := tx.DetachInternetGateway(&ec2wire.DetachInternetGatewayInput{InternetGatewayId: p(f.igw), VpcId: p(f.vpc)})
		return err
	}
	subnetWantCode(t, mutate(t, c, detach), CodeDependencyViolation)
	// An Elastic IP associated with an ENI of the VPC counts too.
	if err := mutate(t, c, func(tx *Tx) error {
		tx.enis.Mut(eni).PublicIP = ""
		tx.addresses.Put(&Address{AllocationID: "eipalloc-0123456789abcdef0", Owner: tx.Account, PublicIP: "198.51.100.78",
			AssociationID: "eipassoc-0123456789abcdef0", ENIID: eni, PrivateIP: tx.enis.Get(eni).PrimaryIP()})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	subnetWantCode(t, mutate(t, c, detach), CodeDependencyViolation)
	if err := mutate(t, c, func(tx *Tx) error {
		tx.addresses.Delete("eipalloc-0123456789abcdef0")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := mutate(t, c, detach); err != nil {
		t.Fatal(err)
	}
}
