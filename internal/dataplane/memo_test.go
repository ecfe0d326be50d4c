package dataplane

import (
	"reflect"
	"testing"
)

// memoSample is a Desired with every slice non-empty and every pointer set, so that every
// field of every type in it is reached.
func memoSample() Desired {
	acl := &NetworkACL{Inbound: []ACLEntry{{RuleNumber: 100, Protocol: "6", Allow: true, CIDR: "0.0.0.0/0", FromPort: 22, ToPort: 22, ICMPType: -1, ICMPCode: -1}},
		Outbound: []ACLEntry{{RuleNumber: 100, Protocol: "-1", Allow: true, CIDR: "0.0.0.0/0"}}}
	return Desired{
		VPCs: []VPC{{ID: "vpc-1", ResolverIP: "10.0.0.2", Subnets: []Subnet{{ID: "subnet-a", CIDR: "10.0.1.0/24",
			IPv6CIDR: "2001:db8:1::/64", RouterIP: "10.0.1.1", Public: true, DefaultRouteENI: "eni-n",
			PeerRoutes: []PeerRoute{{CIDR: "10.9.0.0/16", Peering: "pcx-1"}}, ACL: acl, EgressOnlyIPv6: true, VNI: 7}}}},
		Instances: []Instance{{ID: "i-a", Running: true}},
		ENIs: []ENI{{ID: "eni-a", MAC: "02:00:00:00:00:01", SubnetID: "subnet-a", VPCID: "vpc-1", PrimaryIP: "10.0.1.10",
			SecondaryIPs: []string{"10.0.1.11"}, IPv6: []string{"2001:db8:1::10"}, IPv4Prefixes: []string{"10.0.1.32/28"},
			IPv6Prefixes: []string{"2001:db8:1:0:1::/80"}, InstanceID: "i-a", DeviceIndex: 1, SourceDestCheck: true,
			Groups: []string{"sg-1"}}},
		Groups: []Group{{ID: "sg-1", Ingress: []Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"0.0.0.0/0"}}},
			Egress: []Rule{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDRs: []string{"0.0.0.0/0"}}}}},
		PublicIPs:   []PublicMapping{{Public: "198.51.100.1", Private: "10.0.1.10", ENIID: "eni-a", VPCID: "vpc-1"}},
		Peerings:    []Peering{{ID: "pcx-1", VPCs: [2]string{"vpc-1", "vpc-2"}}},
		Services:    []ServiceListener{{Instance: "eni-e", Addr: "10.0.1.20"}},
		NATGateways: []NATGateway{{ID: "nat-1", ENIID: "eni-n", Sources: []string{"10.0.0.0/16"}, SNAT: []string{"10.0.1.50"}}},
		Overlay: &Overlay{Local: "10.99.0.1", UnderlayNS: "/run/netns/h1", Port: 4789, MTU: 1450, Hosts: []string{"10.99.0.1", "10.99.0.2"},
			Remote: []RemoteENI{{Host: "10.99.0.2", ENI: ENI{ID: "eni-r", MAC: "02:00:00:00:00:02", SubnetID: "subnet-a", VPCID: "vpc-1",
				PrimaryIP: "10.0.1.12", SecondaryIPs: []string{"10.0.1.13"}, IPv6: []string{"2001:db8:1::12"}, IPv4Prefixes: []string{"10.0.1.48/28"},
				IPv6Prefixes: []string{"2001:db8:1:0:2::/80"}, InstanceID: "i-r", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-1"}}}}},
	}
}

// leaves calls fn with every settable scalar (string, int, bool) reachable from v, and
// with every slice (to grow it) and pointer (to clear it).
func leaves(v reflect.Value, path string, fn func(path string, v reflect.Value)) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			leaves(v.Field(i), path+"."+v.Type().Field(i).Name, fn)
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice {
			fn(path+"[+]", v)
		}
		for i := 0; i < v.Len(); i++ {
			leaves(v.Index(i), path+"[i]", fn)
		}
	case reflect.Pointer:
		fn(path+"=nil", v)
		if !v.IsNil() {
			leaves(v.Elem(), path, fn)
		}
	default:
		fn(path, v)
	}
}

// TestDesiredEqualSeesEveryField: changing any one field anywhere in a Desired makes it
// unequal to the original (a field desiredEqual forgot would let a pass skip a change),
// and the copy cloneDesired makes shares nothing with the original.
func TestDesiredEqualSeesEveryField(t *testing.T) {
	orig := memoSample()
	if c := cloneDesired(&orig); !desiredEqual(&orig, &c) {
		t.Fatal("a clone is not equal to its original")
	}
	var paths []string
	leaves(reflect.ValueOf(&orig).Elem(), "Desired", func(p string, _ reflect.Value) { paths = append(paths, p) })
	if len(paths) < 60 {
		t.Fatalf("only %d fields reached", len(paths))
	}
	for k, want := range paths {
		c := cloneDesired(&orig)
		n := 0
		leaves(reflect.ValueOf(&c).Elem(), "Desired", func(p string, v reflect.Value) {
			if n++; n-1 != k {
				return
			}
			switch v.Kind() {
			case reflect.String:
				v.SetString(v.String() + "x")
			case reflect.Int:
				v.SetInt(v.Int() + 1)
			case reflect.Uint32:
				v.SetUint(v.Uint() + 1)
			case reflect.Bool:
				v.SetBool(!v.Bool())
			case reflect.Slice:
				v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
			case reflect.Pointer:
				v.Set(reflect.Zero(v.Type()))
			default:
				t.Fatalf("%s: kind %s not handled", p, v.Kind())
			}
		})
		if desiredEqual(&orig, &c) {
			t.Errorf("%s changed, still equal", want)
		}
		if fresh := memoSample(); !desiredEqual(&orig, &fresh) {
			t.Fatalf("changing the clone's %s changed the original", want)
		}
	}
}

// TestCloneDesiredSharing: the memo of a pass shares the copies of the last memo's ENIs
// that the delta says are unchanged (same id at the same place), and copies the others;
// with as many ENIs, into the last memo's list, which it takes over.
func TestCloneDesiredSharing(t *testing.T) {
	for _, more := range []bool{false, true} {
		prev := Desired{ENIs: []ENI{{ID: "eni-a", SecondaryIPs: []string{"10.0.0.5"}}, {ID: "eni-b", SecondaryIPs: []string{"10.0.0.6"}}}}
		prev = cloneDesired(&prev)
		a, b := &prev.ENIs[0].SecondaryIPs[0], &prev.ENIs[1].SecondaryIPs[0] // the last memo's
		d := Desired{ENIs: []ENI{{ID: "eni-a", SecondaryIPs: []string{"10.0.0.5"}}, {ID: "eni-b", SecondaryIPs: []string{"10.0.0.7"}}}}
		if more {
			d.ENIs = append(d.ENIs, ENI{ID: "eni-c"})
		}
		m := cloneDesiredSharing(&d, &prev, map[string]bool{"eni-b": true})
		if !desiredEqual(&m, &d) {
			t.Fatalf("the memo differs from d: %+v", m.ENIs)
		}
		if &m.ENIs[0].SecondaryIPs[0] != a {
			t.Error("an unchanged ENI was copied, not shared with the last memo")
		}
		if &m.ENIs[1].SecondaryIPs[0] == &d.ENIs[1].SecondaryIPs[0] || &m.ENIs[1].SecondaryIPs[0] == b {
			t.Error("a changed ENI shares its addresses with the caller's Desired or the last memo")
		}
		// Another order: nothing is shared by position with another ENI.
		prev = m
		a = &prev.ENIs[0].SecondaryIPs[0]
		d.ENIs[0], d.ENIs[1] = d.ENIs[1], d.ENIs[0]
		m = cloneDesiredSharing(&d, &prev, map[string]bool{})
		if !desiredEqual(&m, &d) || &m.ENIs[0].SecondaryIPs[0] == a || &m.ENIs[1].SecondaryIPs[0] == &d.ENIs[1].SecondaryIPs[0] {
			t.Errorf("reordered: %+v", m.ENIs)
		}
		// Out of id order, a changed ENI in its place: found and copied all the same.
		prev = m
		d.ENIs[1].SecondaryIPs = []string{"10.0.0.9"}
		m = cloneDesiredSharing(&d, &prev, map[string]bool{d.ENIs[1].ID: true})
		if !desiredEqual(&m, &d) || &m.ENIs[1].SecondaryIPs[0] == &d.ENIs[1].SecondaryIPs[0] {
			t.Errorf("out of order, changed: %+v", m.ENIs)
		}
	}
}
