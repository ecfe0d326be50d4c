package core

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

func sgWantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

func TestSGProtocol(t *testing.T) {
	for _, c := range []struct{ in, want, code string }{
		{"tcp", "tcp", ""}, {"TCP", "tcp", ""}, {"Udp", "udp", ""}, {"icmp", "icmp", ""}, {"ICMPv6", "icmpv6", ""},
		{"all", "-1", ""}, {"ALL", "-1", ""}, {"-1", "-1", ""},
		{"6", "tcp", ""}, {"17", "udp", ""}, {"1", "icmp", ""}, {"58", "icmpv6", ""}, {"47", "47", ""}, {"0", "0", ""},
		{"256", "", CodeInvalidParameterValue}, {"-2", "", CodeInvalidParameterValue}, {"gre", "", CodeInvalidParameterValue},
		{"", "", CodeMissingParameter},
	} {
		got, err := sgProtocol(c.in)
		if c.code != "" {
			sgWantCode(t, err, c.code)
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("sgProtocol(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestSGPorts(t *testing.T) {
	i := func(v int32) *int32 { return &v }
	for _, c := range []struct {
		proto    string
		from, to *int32
		wf, wt   int32
		code     string
	}{
		{"tcp", i(22), i(22), 22, 22, ""},
		{"udp", i(0), i(65535), 0, 65535, ""},
		{"tcp", nil, i(22), 0, 0, CodeInvalidParameterValue},
		{"tcp", i(-1), i(-1), 0, 0, CodeInvalidPermissionMalformed},
		{"tcp", i(1), i(65536), 0, 0, CodeInvalidPermissionMalformed},
		{"tcp", i(100), i(99), 0, 0, CodeInvalidPermissionMalformed},
		{"icmp", nil, nil, -1, -1, ""},
		{"icmp", i(8), i(0), 8, 0, ""},
		{"icmpv6", i(-1), i(-1), -1, -1, ""},
		{"icmp", i(8), i(65535), 0, 0, CodeInvalidParameterValue},
		{"icmp", i(256), i(0), 0, 0, CodeInvalidParameterValue},
		{"icmp", i(-1), i(3), 0, 0, CodeInvalidPermissionMalformed},
		{"-1", i(22), i(80), -1, -1, ""},
		{"47", i(1), i(2), -1, -1, ""},
	} {
		f, to, err := sgPorts(c.proto, c.from, c.to)
		if c.code != "" {
			sgWantCode(t, err, c.code)
			continue
		}
		if err != nil || f != c.wf || to != c.wt {
			t.Errorf("sgPorts(%s) = %d, %d, %v; want %d, %d", c.proto, f, to, err, c.wf, c.wt)
		}
	}
}

func noGroups(ec2wire.UserIdGroupPair) (string, string, error) {
	return "", "", errorf(CodeInvalidGroupNotFound, "no groups here")
}

func fixedGroups(pr ec2wire.UserIdGroupPair) (string, string, error) {
	return str(pr.GroupId), "111122223333", nil
}

func TestSGSplitOnePeerPerRule(t *testing.T) {
	perms := []ec2wire.IpPermission{
		{IpProtocol: p("TCP"), FromPort: p(int32(22)), ToPort: p(int32(22)),
			IpRanges:         []ec2wire.IpRange{{CidrIp: p("10.0.0.0/8"), Description: p("office")}, {CidrIp: p("192.168.1.7/24")}},
			Ipv6Ranges:       []ec2wire.Ipv6Range{{CidrIpv6: p("2001:DB8::/32")}},
			PrefixListIds:    []ec2wire.PrefixListId{{PrefixListId: p("pl-12345678")}},
			UserIdGroupPairs: []ec2wire.UserIdGroupPair{{GroupId: p("sg-12345678")}}},
		{IpProtocol: p("all"), FromPort: p(int32(5)), ToPort: p(int32(6)), IpRanges: []ec2wire.IpRange{{CidrIp: p("0.0.0.0/0")}}},
	}
	rules, err := sgSplit(perms, false, fixedGroups)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "10.0.0.0/8", Description: "office"},
		{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "192.168.1.0/24"}, // canonicalised
		{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv6: "2001:db8::/32"},
		{Protocol: "tcp", FromPort: 22, ToPort: 22, PrefixListID: "pl-12345678"},
		{Protocol: "tcp", FromPort: 22, ToPort: 22, GroupID: "sg-12345678", GroupOwner: "111122223333"},
		{Protocol: "-1", FromPort: -1, ToPort: -1, CidrIpv4: "0.0.0.0/0"},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Fatalf("split:\n got %+v\nwant %+v", rules, want)
	}

	// Merging gives back one permission per protocol/ports, peers in order.
	merged := sgMerge(rules)
	if len(merged) != 2 {
		t.Fatalf("merged into %d permissions: %+v", len(merged), merged)
	}
	m := merged[0]
	if str(m.IpProtocol) != "tcp" || *m.FromPort != 22 || *m.ToPort != 22 || len(m.IpRanges) != 2 || len(m.Ipv6Ranges) != 1 ||
		len(m.PrefixListIds) != 1 || len(m.UserIdGroupPairs) != 1 {
		t.Fatalf("merged tcp permission = %+v", m)
	}
	if str(m.IpRanges[0].Description) != "office" || m.IpRanges[1].Description != nil {
		t.Fatalf("descriptions = %+v", m.IpRanges)
	}
	if str(m.UserIdGroupPairs[0].GroupId) != "sg-12345678" || str(m.UserIdGroupPairs[0].UserId) != "111122223333" {
		t.Fatalf("group pair = %+v", m.UserIdGroupPairs[0])
	}
	if all := merged[1]; str(all.IpProtocol) != "-1" || all.FromPort != nil || all.ToPort != nil {
		t.Fatalf("all-traffic permission renders ports: %+v", all)
	}
	// Split of the merged form is the identity.
	again, err := sgSplit(merged, false, fixedGroups)
	if err != nil || !reflect.DeepEqual(again, rules) {
		t.Fatalf("split(merge(rules)) = %+v, %v", again, err)
	}
}

func TestSGSplitErrors(t *testing.T) {
	tcp := func(mod func(*ec2wire.IpPermission)) []ec2wire.IpPermission {
		pm := ec2wire.IpPermission{IpProtocol: p("tcp"), FromPort: p(int32(80)), ToPort: p(int32(80)), IpRanges: []ec2wire.IpRange{{CidrIp: p("10.0.0.0/8")}}}
		mod(&pm)
		return []ec2wire.IpPermission{pm}
	}
	for name, c := range map[string]struct {
		perms []ec2wire.IpPermission
		code  string
	}{
		"bad cidr":     {tcp(func(pm *ec2wire.IpPermission) { pm.IpRanges[0].CidrIp = p("10.0.0.0/33") }), CodeInvalidParameterValue},
		"v6 as v4":     {tcp(func(pm *ec2wire.IpPermission) { pm.IpRanges[0].CidrIp = p("::/0") }), CodeInvalidParameterValue},
		"v4 as v6":     {tcp(func(pm *ec2wire.IpPermission) { pm.Ipv6Ranges = []ec2wire.Ipv6Range{{CidrIpv6: p("10.0.0.0/8")}} }), CodeInvalidParameterValue},
		"bare address": {tcp(func(pm *ec2wire.IpPermission) { pm.IpRanges[0].CidrIp = p("10.0.0.1") }), CodeInvalidParameterValue},
		"no peer":      {tcp(func(pm *ec2wire.IpPermission) { pm.IpRanges = nil }), CodeMissingParameter},
		"bad port":     {tcp(func(pm *ec2wire.IpPermission) { pm.ToPort = p(int32(70000)) }), CodeInvalidPermissionMalformed},
		"bad pl":       {tcp(func(pm *ec2wire.IpPermission) { pm.PrefixListIds = []ec2wire.PrefixListId{{PrefixListId: p("x")}} }), CodeInvalidPermissionMalformed},
		"bad group": {tcp(func(pm *ec2wire.IpPermission) {
			pm.UserIdGroupPairs = []ec2wire.UserIdGroupPair{{GroupId: p("sg-12345678")}}
		}), CodeInvalidGroupNotFound},
		"long description": {tcp(func(pm *ec2wire.IpPermission) {
			pm.IpRanges[0].Description = p(fmt.Sprintf("%0300d", 0))
		}), CodeInvalidParameterValue},
	} {
		_, err := sgSplit(c.perms, false, noGroups)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.Code != c.code {
			t.Errorf("%s: got %v, want %s", name, err, c.code)
		}
	}
}

func TestSGRuleKey(t *testing.T) {
	a := Rule{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "10.0.0.0/8", Description: "a", ID: "sgr-1"}
	b := a
	b.Description, b.ID = "b", "sgr-2"
	if sgRuleKey(&a) != sgRuleKey(&b) {
		t.Fatal("description or id changes the rule key")
	}
	for _, mod := range []func(*Rule){
		func(r *Rule) { r.Egress = true },
		func(r *Rule) { r.Protocol = "udp" },
		func(r *Rule) { r.ToPort = 23 },
		func(r *Rule) { r.CidrIpv4 = "10.0.0.0/16" },
		func(r *Rule) { r.CidrIpv4, r.PrefixListID = "", "pl-12345678" },
	} {
		c := a
		mod(&c)
		if sgRuleKey(&c) == sgRuleKey(&a) {
			t.Errorf("%+v and %+v have the same key", c, a)
		}
	}
}

func TestSGCount(t *testing.T) {
	v4, v6 := sgCount([]Rule{{CidrIpv4: "10.0.0.0/8"}, {CidrIpv6: "::/0"}, {GroupID: "sg-1"}, {PrefixListID: "pl-1"}})
	if v4 != 3 || v6 != 3 {
		t.Fatalf("count = %d, %d; want 3, 3", v4, v6)
	}
}

// sgTestGroup creates a group in the default VPC.
func sgTestGroup(t *testing.T, c *Core, name string) string {
	t.Helper()
	var id string
	err := mutate(t, c, func(tx *Tx) error {
		out, err := tx.CreateSecurityGroup(&ec2wire.CreateSecurityGroupInput{GroupName: p(name), Description: p("test")})
		if err == nil {
			id = str(out.GroupId)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func sgTCP(port int32, cidrs ...string) ec2wire.IpPermission {
	pm := ec2wire.IpPermission{IpProtocol: p("tcp"), FromPort: p(port), ToPort: p(port)}
	for _, c := range cidrs {
		pm.IpRanges = append(pm.IpRanges, ec2wire.IpRange{CidrIp: p(c)})
	}
	return pm
}

func TestSGAuthorizeDuplicateIsAllOrNothing(t *testing.T) {
	c := newTestCore(t)
	id := sgTestGroup(t, c, "web")
	auth := func(perms ...ec2wire.IpPermission) error {
		return mutate(t, c, func(tx *Tx) error {
			_, err := tx.AuthorizeSecurityGroupIngress(&ec2wire.AuthorizeSecurityGroupIngressInput{GroupId: p(id), IpPermissions: perms})
			return err
		})
	}
	if err := auth(sgTCP(22, "10.0.0.0/8")); err != nil {
		t.Fatal(err)
	}
	// One new peer and one existing: the call fails and adds nothing.
	sgWantCode(t, auth(sgTCP(22, "192.168.0.0/16", "10.0.0.0/8")), CodeInvalidPermissionDuplicate)
	// The same peer twice in one call.
	sgWantCode(t, auth(sgTCP(80, "192.168.0.0/16"), sgTCP(80, "192.168.0.0/16")), CodeInvalidParameterValue)
	_ = view(t, c, func(tx *Tx) error {
		in, eg := tx.SecurityGroupRules(id)
		if len(in) != 1 || in[0].CidrIpv4 != "10.0.0.0/8" || len(eg) != 1 {
			t.Fatalf("rules after failed calls: %+v %+v", in, eg)
		}
		return nil
	})
}

func TestSGRuleLimitCountsFamiliesSeparately(t *testing.T) {
	c := newTestCore(t)
	id := sgTestGroup(t, c, "many")
	var v4 []ec2wire.IpRange
	var v6r []ec2wire.Ipv6Range
	for i := 0; i < sgMaxRules; i++ {
		v4 = append(v4, ec2wire.IpRange{CidrIp: p(fmt.Sprintf("10.0.%d.0/24", i))})
		v6r = append(v6r, ec2wire.Ipv6Range{CidrIpv6: p(fmt.Sprintf("2001:db8:%x::/48", i))})
	}
	auth := func(pm ec2wire.IpPermission) error {
		return mutate(t, c, func(tx *Tx) error {
			_, err := tx.AuthorizeSecurityGroupIngress(&ec2wire.AuthorizeSecurityGroupIngressInput{GroupId: p(id), IpPermissions: []ec2wire.IpPermission{pm}})
			return err
		})
	}
	if err := auth(ec2wire.IpPermission{IpProtocol: p("tcp"), FromPort: p(int32(1)), ToPort: p(int32(1)), IpRanges: v4}); err != nil {
		t.Fatal(err)
	}
	// 60 IPv4 rules leave room for 60 IPv6 rules...
	if err := auth(ec2wire.IpPermission{IpProtocol: p("tcp"), FromPort: p(int32(1)), ToPort: p(int32(1)), Ipv6Ranges: v6r}); err != nil {
		t.Fatal(err)
	}
	// ...but not for a 61st IPv4 rule, nor a group reference (which counts in both).
	sgWantCode(t, auth(sgTCP(2, "10.1.0.0/16")), CodeRulesPerGroupLimitExceeded)
	sgWantCode(t, auth(ec2wire.IpPermission{IpProtocol: p("-1"), UserIdGroupPairs: []ec2wire.UserIdGroupPair{{GroupId: p(id)}}}), CodeRulesPerGroupLimitExceeded)
	// Egress is counted on its own (it has 1 rule).
	err := mutate(t, c, func(tx *Tx) error {
		_, err := tx.AuthorizeSecurityGroupEgress(&ec2wire.AuthorizeSecurityGroupEgressInput{GroupId: p(id), IpPermissions: []ec2wire.IpPermission{sgTCP(443, "10.1.0.0/16")}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSGDeleteDependencies(t *testing.T) {
	c := newTestCore(t)
	used := sgTestGroup(t, c, "used")
	del := func(id string) error {
		return mutate(t, c, func(tx *Tx) error {
			_, err := tx.DeleteSecurityGroup(&ec2wire.DeleteSecurityGroupInput{GroupId: p(id)})
			return err
		})
	}
	var vpcID, defID string
	err := mutate(t, c, func(tx *Tx) error {
		vpcID = tx.sgDefaultVPC().ID
		defID = tx.sgByName(vpcID, "default").ID
		tx.enis.Put(&ENI{ID: "eni-12345678", Owner: tx.Account, VpcID: vpcID, Groups: []string{defID, used}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sgWantCode(t, del(defID), CodeCannotDelete)
	sgWantCode(t, del(used), CodeDependencyViolation)
	if err := mutate(t, c, func(tx *Tx) error { tx.enis.Delete("eni-12345678"); return nil }); err != nil {
		t.Fatal(err)
	}
	// A group referenced by another group's rule cannot go either; a
	// reference to itself does not hold it.
	other := sgTestGroup(t, c, "other")
	err = mutate(t, c, func(tx *Tx) error {
		pm := ec2wire.IpPermission{IpProtocol: p("-1"), UserIdGroupPairs: []ec2wire.UserIdGroupPair{{GroupId: p(used)}}}
		if _, err := tx.AuthorizeSecurityGroupIngress(&ec2wire.AuthorizeSecurityGroupIngressInput{GroupId: p(other), IpPermissions: []ec2wire.IpPermission{pm}}); err != nil {
			return err
		}
		pm.UserIdGroupPairs[0].GroupId = p(other)
		_, err := tx.AuthorizeSecurityGroupIngress(&ec2wire.AuthorizeSecurityGroupIngressInput{GroupId: p(other), IpPermissions: []ec2wire.IpPermission{pm}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sgWantCode(t, del(used), CodeDependencyViolation)
	if err := del(other); err != nil {
		t.Fatal(err)
	}
	if err := del(used); err != nil {
		t.Fatal(err)
	}
	sgWantCode(t, del(used), CodeInvalidGroupNotFound)
}

func TestSGCreateWithoutDefaultVPC(t *testing.T) {
	c := newTestCore(t)
	err := mutate(t, c, func(tx *Tx) error {
		tx.vpcs.Delete(tx.sgDefaultVPC().ID)
		_, err := tx.CreateSecurityGroup(&ec2wire.CreateSecurityGroupInput{GroupName: p("x"), Description: p("x")})
		return err
	})
	sgWantCode(t, err, CodeVPCIdNotSpecified)
}

func TestSGExports(t *testing.T) {
	c := newTestCore(t)
	id := sgTestGroup(t, c, "web")
	_ = view(t, c, func(tx *Tx) error {
		got := tx.GroupNames([]string{id, "sg-00000000"})
		if len(got) != 2 || str(got[0].GroupId) != id || str(got[0].GroupName) != "web" || got[1].GroupName != nil {
			t.Fatalf("GroupNames = %+v", got)
		}
		in, eg := tx.SecurityGroupRules(id)
		if len(in) != 0 || len(eg) != 1 || eg[0].Protocol != "-1" || eg[0].CidrIpv4 != "0.0.0.0/0" || !eg[0].Egress {
			t.Fatalf("rules = %+v %+v", in, eg)
		}
		eg[0].CidrIpv4 = "changed"
		if _, eg2 := tx.SecurityGroupRules(id); eg2[0].CidrIpv4 != "0.0.0.0/0" {
			t.Fatal("SecurityGroupRules returned the stored slice")
		}
		if a, b := tx.SecurityGroupRules("sg-00000000"); a != nil || b != nil {
			t.Fatal("rules of a missing group")
		}
		return nil
	})
}
