package core

// Prefix delegation under random operations and at launch (first written by
// a review of the prefix delegation change).

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// RunInstances with Ipv4PrefixCount and MaxCount > what the subnet's /28s
// allow: as AWS, it launches what fits (>= MinCount).
func TestRunInstancesPrefixCountLaunchesWhatFits(t *testing.T) {
	c := newTestCore(t)
	s := putSubnet(t, c, "172.31.202.0/26", false) // /28s: .16 and .32 usable
	var res *ec2wire.Reservation
	err := mutate(t, c, func(tx *Tx) error {
		var err error
		res, err = tx.RunInstances(&ec2wire.RunInstancesInput{ImageId: p("ami-12345678"), MinCount: p(int32(1)), MaxCount: p(int32(5)),
			NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{{DeviceIndex: p(int32(0)), SubnetId: p(s.ID), Ipv4PrefixCount: p(int32(1))}}})
		return err
	})
	if err != nil {
		t.Fatalf("MinCount=1 MaxCount=5 with one /28 each: %v (want the 2 instances that fit)", err)
	}
	if len(res.Instances) != 2 {
		t.Fatalf("launched %d, want 2", len(res.Instances))
	}
}

// Prefixes of ENIs deleted with their instance leave the indexes.
func TestTerminateReleasesPrefixes(t *testing.T) {
	f := newENIFix(t)
	var res *ec2wire.Reservation
	eniMust(t, mutate(t, f.c, func(tx *Tx) error {
		var err error
		res, err = tx.RunInstances(&ec2wire.RunInstancesInput{ImageId: p("ami-12345678"), MinCount: p(int32(3)), MaxCount: p(int32(3)), InstanceType: p("m5.large"),
			NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{{DeviceIndex: p(int32(0)), SubnetId: p(f.sub6),
				Ipv4PrefixCount: p(int32(2)), Ipv6PrefixCount: p(int32(2))}}})
		return err
	}))
	if errs := f.c.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	var ids []string
	for _, i := range res.Instances {
		ids = append(ids, *i.InstanceId)
	}
	eniMust(t, mutate(t, f.c, func(tx *Tx) error {
		_, err := tx.TerminateInstances(&ec2wire.TerminateInstancesInput{InstanceIds: ids})
		return err
	}))
	// Let any shutting-down -> terminated transition happen.
	if errs := f.c.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	r := f.c.region("us-east-1")
	n4, n6 := len(r.db.idx.ipv4Prefix[f.sub6]), len(r.db.idx.ipv6Prefix[f.sub6])
	enis := 0
	for _, e := range r.db.enis.rows {
		if e.SubnetID == f.sub6 {
			enis++
		}
	}
	if enis != 0 || n4 != 0 || n6 != 0 {
		t.Fatalf("after terminate: %d ENIs, %d v4 and %d v6 prefix index entries; want none", enis, n4, n6)
	}
}

// Random operations, several per transaction, with explicit, counted and
// reassigned addresses and prefixes; the invariants (no address or prefix
// held twice, none inside another's prefix, indexes exact) must hold after
// every commit.
func TestRandomPrefixOps(t *testing.T) {
	okTx := 0
	failed := map[string]int{}
	defer func() { t.Logf("ok tx %d; failed %v", okTx, failed) }()
	for seed := uint64(1); seed <= 40; seed++ {
		f := newENIFix(t)
		rng := rand.New(rand.NewPCG(seed, 99))
		var enis, pending []string
		sp := netip.MustParsePrefix("10.0.3.0/24")
		rnd4 := func() string { return addrAdd(sp.Addr(), uint64(4+rng.IntN(250))).String() }
		rndPf4 := func() string { return netip.PrefixFrom(addrAdd(sp.Addr(), uint64(16*(1+rng.IntN(14)))), 28).String() }
		rnd6 := func() string {
			b := netip.MustParseAddr("2600:1f00:0:3::").As16()
			b[9] = byte(rng.IntN(3))
			b[15] = byte(4 + rng.IntN(8))
			return netip.AddrFrom16(b).String()
		}
		rndPf6 := func() string {
			b := netip.MustParseAddr("2600:1f00:0:3::").As16()
			b[9] = byte(1 + rng.IntN(3))
			return netip.PrefixFrom(netip.AddrFrom16(b), 80).String()
		}
		pick := func() string {
			if len(enis) == 0 {
				return "eni-00000000000000000"
			}
			return enis[rng.IntN(len(enis))]
		}
		op := func(tx *Tx) (string, error) {
			switch rng.IntN(9) {
			case 0, 1:
				in := &ec2wire.CreateNetworkInterfaceInput{SubnetId: p(f.sub6)}
				if rng.IntN(2) == 0 {
					in.PrivateIpAddress = p(rnd4())
				}
				if rng.IntN(2) == 0 {
					in.Ipv4PrefixCount = p(int32(rng.IntN(3)))
				} else if rng.IntN(2) == 0 {
					in.Ipv4Prefixes = []ec2wire.Ipv4PrefixSpecificationRequest{{Ipv4Prefix: p(rndPf4())}}
				}
				if rng.IntN(2) == 0 {
					in.Ipv6Prefixes = []ec2wire.Ipv6PrefixSpecificationRequest{{Ipv6Prefix: p(rndPf6())}}
				} else {
					in.Ipv6PrefixCount = p(int32(rng.IntN(2)))
				}
				if rng.IntN(2) == 0 {
					in.Ipv6Addresses = []ec2wire.InstanceIpv6Address{{Ipv6Address: p(rnd6())}}
				} else {
					in.Ipv6AddressCount = p(int32(rng.IntN(2)))
				}
				in.SecondaryPrivateIpAddressCount = p(int32(rng.IntN(3)))
				out, err := tx.CreateNetworkInterface(in)
				if err == nil {
					pending = append(pending, *out.NetworkInterface.NetworkInterfaceId)
				}
				return fmt.Sprintf("create %+v", in), err
			case 2:
				in := &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(pick()), AllowReassignment: p(rng.IntN(2) == 0)}
				switch rng.IntN(4) {
				case 0:
					in.PrivateIpAddresses = []string{rnd4(), rnd4()}
				case 1:
					in.SecondaryPrivateIpAddressCount = p(int32(1 + rng.IntN(3)))
				}
				if rng.IntN(2) == 0 {
					in.Ipv4Prefixes = []string{rndPf4()}
				} else {
					in.Ipv4PrefixCount = p(int32(1 + rng.IntN(2)))
				}
				_, err := tx.AssignPrivateIpAddresses(in)
				return fmt.Sprintf("assign4 %+v", in), err
			case 3:
				in := &ec2wire.AssignIpv6AddressesInput{NetworkInterfaceId: p(pick())}
				if rng.IntN(2) == 0 {
					in.Ipv6Addresses = []string{rnd6()}
				} else {
					in.Ipv6AddressCount = p(int32(1))
				}
				if rng.IntN(2) == 0 {
					in.Ipv6Prefixes = []string{rndPf6()}
				} else {
					in.Ipv6PrefixCount = p(int32(1))
				}
				_, err := tx.AssignIpv6Addresses(in)
				return fmt.Sprintf("assign6 %+v", in), err
			case 4:
				id := pick()
				e := tx.enis.Get(id)
				if e == nil || len(e.IPv4Prefixes) == 0 {
					return "noop", nil
				}
				in := &ec2wire.UnassignPrivateIpAddressesInput{NetworkInterfaceId: p(id), Ipv4Prefixes: []string{e.IPv4Prefixes[0]}}
				_, err := tx.UnassignPrivateIpAddresses(in)
				return fmt.Sprintf("unassign4 %+v", in), err
			case 5:
				id := pick()
				e := tx.enis.Get(id)
				if e == nil || len(e.IPv6Prefixes) == 0 {
					return "noop", nil
				}
				in := &ec2wire.UnassignIpv6AddressesInput{NetworkInterfaceId: p(id), Ipv6Prefixes: []string{e.IPv6Prefixes[0]}}
				_, err := tx.UnassignIpv6Addresses(in)
				return fmt.Sprintf("unassign6 %+v", in), err
			case 6:
				id := pick()
				_, err := tx.DeleteNetworkInterface(&ec2wire.DeleteNetworkInterfaceInput{NetworkInterfaceId: p(id)})
				return "delete " + id, err
			default:
				in := &ec2wire.AssignPrivateIpAddressesInput{NetworkInterfaceId: p(pick()), AllowReassignment: p(true),
					PrivateIpAddresses: []string{rnd4()}}
				_, err := tx.AssignPrivateIpAddresses(in)
				return fmt.Sprintf("reassign %+v", in), err
			}
		}
		for step := 0; step < 300; step++ {
			var log []string
			pending = nil
			n := 1 + rng.IntN(4)
			merr := mutate(t, f.c, func(tx *Tx) error {
				for range n {
					what, err := op(tx)
					log = append(log, what)
					if err != nil {
						return err
					}
				}
				return nil
			})
			if merr == nil {
				enis = append(enis, pending...)
				okTx++
			} else {
				failed[fmt.Sprint(log[len(log)-1][:6], " ", merr.(*Error).Code)]++
			}
			if errs := f.c.Check(); len(errs) > 0 {
				t.Fatalf("seed %d step %d after %v: %v", seed, step, log, errs)
			}
		}
	}
}

// Two new NICs in one subnet: the counted /28 of device 0 must not take the
// /28 that device 1 names.
func TestRunInstancesNamedPrefixBeforeCounted(t *testing.T) {
	c := newTestCore(t)
	s := putSubnet(t, c, "172.31.203.0/24", false)
	_, err := runOne(t, c, &ec2wire.RunInstancesInput{InstanceType: p("m5.large"), NetworkInterfaces: []ec2wire.InstanceNetworkInterfaceSpecification{
		{DeviceIndex: p(int32(0)), SubnetId: p(s.ID), Ipv4PrefixCount: p(int32(1))},
		{DeviceIndex: p(int32(1)), SubnetId: p(s.ID), Ipv4Prefixes: []ec2wire.Ipv4PrefixSpecificationRequest{{Ipv4Prefix: p("172.31.203.16/28")}}},
	}})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
}
