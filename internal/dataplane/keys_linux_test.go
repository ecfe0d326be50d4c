package dataplane

import (
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The spec keys decide what an incremental pass re-realises: a field they leave out is a
// change the data plane would miss. These types are hashed field by field; a new field
// must be added to the keys (and to the counts here).
func TestSpecKeysCoverEveryField(t *testing.T) {
	for typ, n := range map[reflect.Type]int{
		reflect.TypeFor[Rule]():   4, // groupKey
		reflect.TypeFor[route]():  5, // routingKey
		reflect.TypeFor[policy](): 3, // routingKey
	} {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, the spec keys hash %d: update them", typ, typ.NumField(), n)
		}
	}
}

func TestSpecKeysSeeEveryChange(t *testing.T) {
	a := netip.MustParseAddr
	pf := netip.MustParsePrefix
	si := &subnetInfo{prefix: pf("10.0.1.0/24"), bcast: a("10.0.1.255")}
	base := func() *eniInfo {
		return &eniInfo{ENI: ENI{ID: "eni-1", InstanceID: "i-1", SubnetID: "subnet-1", SourceDestCheck: true, Groups: []string{"sg-1"}},
			mac: "02:00:00:00:00:01", subnet: si, ips: []netip.Addr{a("10.0.1.5")}, mark: 3, host: "h1", host2: "h2", host3: "h3", eth: "eth0"}
	}
	groups := map[string]Group{"sg-1": {ID: "sg-1", Ingress: []Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"10.0.0.0/16"}}}}}
	// An ENI's elements' key, and its profile's (its groups' rules).
	dp := func(e *eniInfo, g map[string]Group) [2]uint64 {
		c := &planeCache{profs: map[uint64]*profEntry{}}
		e.prof = c.profile(e, g)
		return [2]uint64{dpENIKey(e), e.prof.key}
	}
	want := dp(base(), groups)
	for name, change := range map[string]func(e *eniInfo, g map[string]Group){
		"mark":  func(e *eniInfo, g map[string]Group) { e.mark = 4 },
		"host":  func(e *eniInfo, g map[string]Group) { e.host = "hx" },
		"host2": func(e *eniInfo, g map[string]Group) { e.host2 = "hx" },
		"host3": func(e *eniInfo, g map[string]Group) { e.host3 = "hx" },
		"mac":   func(e *eniInfo, g map[string]Group) { e.mac = "02:00:00:00:00:02" },
		"ips":   func(e *eniInfo, g map[string]Group) { e.ips = append(e.ips, a("10.0.1.6")) },
		"ips6":  func(e *eniInfo, g map[string]Group) { e.ips6 = []netip.Addr{a("2001:db8::1")} },
		"pfx4":  func(e *eniInfo, g map[string]Group) { e.pfx4 = []netip.Prefix{pf("10.0.1.16/28")} },
		"pfx6":  func(e *eniInfo, g map[string]Group) { e.pfx6 = []netip.Prefix{pf("2001:db8::1:0:0:0/80")} },
		"sdc":   func(e *eniInfo, g map[string]Group) { e.SourceDestCheck = false },
		"bcast": func(e *eniInfo, g map[string]Group) {
			e.subnet = &subnetInfo{prefix: si.prefix, bcast: a("10.0.1.127")}
		},
		"groups": func(e *eniInfo, g map[string]Group) { e.Groups = []string{"sg-1", "sg-2"} },
		"proto": func(e *eniInfo, g map[string]Group) {
			g["sg-1"] = Group{Ingress: []Rule{{Protocol: "udp", FromPort: 22, ToPort: 22, CIDRs: []string{"10.0.0.0/16"}}}}
		},
		"from": func(e *eniInfo, g map[string]Group) {
			g["sg-1"] = Group{Ingress: []Rule{{Protocol: "tcp", FromPort: 21, ToPort: 22, CIDRs: []string{"10.0.0.0/16"}}}}
		},
		"to": func(e *eniInfo, g map[string]Group) {
			g["sg-1"] = Group{Ingress: []Rule{{Protocol: "tcp", FromPort: 22, ToPort: 23, CIDRs: []string{"10.0.0.0/16"}}}}
		},
		"cidrs": func(e *eniInfo, g map[string]Group) {
			g["sg-1"] = Group{Ingress: []Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"10.0.0.0/8"}}}}
		},
		"egress":  func(e *eniInfo, g map[string]Group) { g["sg-1"] = Group{Egress: g["sg-1"].Ingress} },
		"missing": func(e *eniInfo, g map[string]Group) { delete(g, "sg-1") },
	} {
		e, g := base(), map[string]Group{"sg-1": groups["sg-1"]}
		change(e, g)
		if dp(e, g) == want {
			t.Errorf("dpENIKey and profileKey: a change of %s gives the same keys", name)
		}
	}

	k0 := eniKey(base(), 7, &nsCtx{gen: 1}, 1500)
	for name, change := range map[string]func(e *eniInfo){
		"instance": func(e *eniInfo) { e.InstanceID = "i-2" },
		"index":    func(e *eniInfo) { e.DeviceIndex = 1 },
		"mac":      func(e *eniInfo) { e.mac = "02:00:00:00:00:02" },
		"subnet":   func(e *eniInfo) { e.SubnetID = "subnet-2" },
		"ips":      func(e *eniInfo) { e.ips = []netip.Addr{a("10.0.1.7")} },
		"eth":      func(e *eniInfo) { e.eth = "eth1" },
		"host":     func(e *eniInfo) { e.host = "hx" },
		"pfx4":     func(e *eniInfo) { e.pfx4 = []netip.Prefix{netip.MustParsePrefix("10.0.1.16/28")} },
		"pfx6":     func(e *eniInfo) { e.pfx6 = []netip.Prefix{netip.MustParsePrefix("2001:db8::1:0:0:0/80")} },
	} {
		e := base()
		change(e)
		if eniKey(e, 7, &nsCtx{gen: 1}, 1500) == k0 {
			t.Errorf("eniKey: a change of %s gives the same key", name)
		}
	}
	if eniKey(base(), 8, &nsCtx{gen: 1}, 1500) == k0 || eniKey(base(), 7, &nsCtx{gen: 2}, 1500) == k0 || eniKey(base(), 7, &nsCtx{gen: 1}, 1450) == k0 {
		t.Error("eniKey ignores the bridge, the namespace generation or the MTU")
	}

	routes := []route{{dst: pf("0.0.0.0/0"), gw: a("10.0.1.1"), link: 2, table: 254}}
	rules := []policy{{prio: 100, src: pf("10.0.1.5/32"), table: 1000}}
	r0 := routingKey(1, []int{254}, routes, rules)
	for name, k := range map[string]uint64{
		"gen":    routingKey(2, []int{254}, routes, rules),
		"tables": routingKey(1, []int{254, 1000}, routes, rules),
		"dst":    routingKey(1, []int{254}, []route{{dst: pf("0.0.0.0/1"), gw: a("10.0.1.1"), link: 2, table: 254}}, rules),
		"gw":     routingKey(1, []int{254}, []route{{dst: pf("0.0.0.0/0"), link: 2, table: 254}}, rules),
		"link":   routingKey(1, []int{254}, []route{{dst: pf("0.0.0.0/0"), gw: a("10.0.1.1"), link: 3, table: 254}}, rules),
		"src":    routingKey(1, []int{254}, []route{{dst: pf("0.0.0.0/0"), gw: a("10.0.1.1"), link: 2, src: a("10.0.1.5"), table: 254}}, rules),
		"table":  routingKey(1, []int{254}, []route{{dst: pf("0.0.0.0/0"), gw: a("10.0.1.1"), link: 2, table: 253}}, rules),
		"prio":   routingKey(1, []int{254}, routes, []policy{{prio: 101, src: pf("10.0.1.5/32"), table: 1000}}),
		"rsrc":   routingKey(1, []int{254}, routes, []policy{{prio: 100, src: pf("10.0.1.6/32"), table: 1000}}),
		"rtable": routingKey(1, []int{254}, routes, []policy{{prio: 100, src: pf("10.0.1.5/32"), table: 1001}}),
		"none":   routingKey(1, []int{254}, nil, rules),
	} {
		if k == r0 {
			t.Errorf("routingKey: a change of %s gives the same key", name)
		}
	}

	// Lengths keep neighbouring fields apart.
	x, y := newKeyHash(), newKeyHash()
	x.strs([]string{"ab", "c"})
	y.strs([]string{"a", "bc"})
	if x.sum() == y.sum() {
		t.Error(`["ab" "c"] and ["a" "bc"] hash alike`)
	}
}

func TestNamesAndMACs(t *testing.T) {
	// ifName and hash32 keep the names earlier builds gave (hosts keep their interfaces
	// across upgrades): prefix, kind, FNV-1a 32 of the id in 8 hex digits.
	if got := ifName("eni", 'e', "eni-0123456789abcdef0"); got != "enie"+fmt.Sprintf("%08x", fnv32a("eni-0123456789abcdef0")) {
		t.Errorf("ifName = %q", got)
	}
	if ethName(12) != "eth12" {
		t.Errorf("ethName(12) = %q", ethName(12))
	}
	for s, ok := range map[string]bool{"02:00:5e:00:53:01": true, "02:00:5E:00:53:0A": true, "02:00:5e:00:53": false,
		"02-00-5e-00-53-01": false, "02:00:5e:00:53:0g": false, "2:00:5e:00:53:01:": false, "": false} {
		b, err := parseMAC(s)
		if (err == nil) != ok {
			t.Errorf("parseMAC(%q): %v", s, err)
		}
		if ok && net.HardwareAddr(b).String() != strings.ToLower(s) {
			t.Errorf("parseMAC(%q) = %v", s, net.HardwareAddr(b))
		}
	}
}

func fnv32a(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func TestProfileGroups(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, nil},
		{[]string{"sg-a"}, []string{"sg-a"}},
		{[]string{"sg-a", "sg-b"}, []string{"sg-a", "sg-b"}},
		{[]string{"sg-b", "sg-a"}, []string{"sg-a", "sg-b"}},
		{[]string{"sg-a", "sg-a"}, []string{"sg-a"}},
		{[]string{"sg-b", "sg-a", "sg-b"}, []string{"sg-a", "sg-b"}},
	} {
		if got := profileGroups(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("profileGroups(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// The same groups in another order, or one repeated: the same profile.
	si := &subnetInfo{}
	a := &eniInfo{ENI: ENI{Groups: []string{"sg-a", "sg-b"}}, subnet: si}
	b := &eniInfo{ENI: ENI{Groups: []string{"sg-b", "sg-a", "sg-a"}}, subnet: si}
	if profileID(a) != profileID(b) {
		t.Error("the same groups in another order give another profile")
	}
}

func TestProfileMarker(t *testing.T) {
	name := profileMarker(42, 0x0123456789abcdef, 0xfedcba9876543210)
	if n, id, ok := parseProfileMarker(name); !ok || n != 42 || id != 0x0123456789abcdef {
		t.Errorf("parseProfileMarker(%q) = %d, %x, %v", name, n, id, ok)
	}
	for _, other := range []string{"p", "p0_0123456789abcdef_fedcba9876543210", "p1_0123_fedcba9876543210", "pre",
		dpENIMarker(3, 7, "eni-1"), "v0123456789abcdef", "p1_0123456789abcdef"} {
		if _, _, ok := parseProfileMarker(other); ok {
			t.Errorf("parseProfileMarker(%q) took it for a profile's marker", other)
		}
	}
}

// TestProfileHashCollision: two group sets whose identities hash alike are two profiles.
func TestProfileHashCollision(t *testing.T) {
	c := &planeCache{profs: map[uint64]*profEntry{}}
	si := &subnetInfo{}
	a := &eniInfo{ENI: ENI{Groups: []string{"sg-a"}}, subnet: si}
	b := &eniInfo{ENI: ENI{Groups: []string{"sg-b"}}, subnet: si}
	pa := c.profile(a, nil)
	c.profs[profileID(b)] = pa // b's hash taken by a's profile, as a collision would
	pb := c.profile(b, nil)
	if pb == pa || !pb.holds(b) || pa.holds(b) {
		t.Fatalf("b got profile %d of %v, a has %d of %v", pb.num, pb.groups, pa.num, pa.groups)
	}
	if c.profile(b, nil) != pb {
		t.Error("b's profile not found again")
	}
}
