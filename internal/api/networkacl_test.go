package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// aclWant fails unless err has the code and message.
func aclWant(t *testing.T, err error, code, msg string) {
	t.Helper()
	apitest.WantCode(t, err, code)
	eniWantMessage(t, err, msg)
}

// aclEntries renders an ACL's entries as "E|100|-1|allow|0.0.0.0/0", egress
// marked E and ingress I, in the order described.
func aclEntries(a types.NetworkAcl) []string {
	var out []string
	for _, e := range a.Entries {
		dir := "I"
		if aws.ToBool(e.Egress) {
			dir = "E"
		}
		s := fmt.Sprintf("%s|%d|%s|%s|%s%s", dir, aws.ToInt32(e.RuleNumber), aws.ToString(e.Protocol), e.RuleAction, aws.ToString(e.CidrBlock), aws.ToString(e.Ipv6CidrBlock))
		if e.PortRange != nil {
			s += fmt.Sprintf("|ports %d-%d", aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To))
		}
		if e.IcmpTypeCode != nil {
			s += fmt.Sprintf("|icmp %d/%d", aws.ToInt32(e.IcmpTypeCode.Type), aws.ToInt32(e.IcmpTypeCode.Code))
		}
		out = append(out, s)
	}
	return out
}

func aclDescribe(t *testing.T, c *ec2.Client, filters ...types.Filter) []types.NetworkAcl {
	t.Helper()
	out, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	return out.NetworkAcls
}

func aclGet(t *testing.T, c *ec2.Client, id string) types.NetworkAcl {
	t.Helper()
	out, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{id}})
	if err != nil || len(out.NetworkAcls) != 1 {
		t.Fatalf("DescribeNetworkAcls %s: %v %v", id, out, err)
	}
	return out.NetworkAcls[0]
}

// aclDefault returns a VPC's default ACL.
func aclDefault(t *testing.T, c *ec2.Client, vpc string) types.NetworkAcl {
	t.Helper()
	acls := aclDescribe(t, c, filter("vpc-id", vpc), filter("default", "true"))
	if len(acls) != 1 {
		t.Fatalf("default ACLs of %s: %+v", vpc, acls)
	}
	return acls[0]
}

func aclSubnets(a types.NetworkAcl) map[string]string {
	out := map[string]string{}
	for _, as := range a.Associations {
		out[aws.ToString(as.SubnetId)] = aws.ToString(as.NetworkAclAssociationId)
	}
	return out
}

// Every VPC has a default ACL that allows everything (IPv6 too when the VPC
// has an IPv6 block), every subnet is associated with it, and the default
// VPC's three subnets are.
func TestNetworkACLDefaults(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	want4 := []string{"E|100|-1|allow|0.0.0.0/0", "E|32767|-1|deny|0.0.0.0/0", "I|100|-1|allow|0.0.0.0/0", "I|32767|-1|deny|0.0.0.0/0"}
	def := aclDefault(t, c, sgDefaultVPC(t, c))
	if got := aclEntries(def); !slices.Equal(got, want4) || len(def.Associations) != 3 || aws.ToString(def.OwnerId) != "123456789012" {
		t.Errorf("default VPC's ACL: %v, %d associations", got, len(def.Associations))
	}

	v4 := subnetVPC(t, c, "10.1.0.0/16", false)
	a4 := aclDefault(t, c, *v4.VpcId)
	if got := aclEntries(a4); !slices.Equal(got, want4) || len(a4.Associations) != 0 {
		t.Errorf("new VPC's ACL: %v %+v", got, a4.Associations)
	}
	sub := subnetNew(t, c, *v4.VpcId, "10.1.1.0/24")
	a4 = aclDefault(t, c, *v4.VpcId)
	if as := aclSubnets(a4); !strings.HasPrefix(as[sub], "aclassoc-") || len(as) != 1 {
		t.Errorf("new subnet's association: %+v", a4.Associations)
	}
	if got := aclDescribe(t, c, filter("association.subnet-id", sub)); len(got) != 1 || *got[0].NetworkAclId != *a4.NetworkAclId {
		t.Errorf("association.subnet-id filter: %+v", got)
	}

	v6 := subnetVPC(t, c, "10.2.0.0/16", true)
	want6 := []string{"E|100|-1|allow|0.0.0.0/0", "E|101|-1|allow|::/0", "E|32767|-1|deny|0.0.0.0/0", "E|32768|-1|deny|::/0",
		"I|100|-1|allow|0.0.0.0/0", "I|101|-1|allow|::/0", "I|32767|-1|deny|0.0.0.0/0", "I|32768|-1|deny|::/0"}
	if got := aclEntries(aclDefault(t, c, *v6.VpcId)); !slices.Equal(got, want6) {
		t.Errorf("IPv6 VPC's ACL: %v", got)
	}
	// A VPC that gains an IPv6 block later gains the IPv6 pair; a custom
	// ACL gains the IPv6 catch-all denies.
	custom, err := c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: v4.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: v4.VpcId, AmazonProvidedIpv6CidrBlock: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if got := aclEntries(aclDefault(t, c, *v4.VpcId)); !slices.Equal(got, want6) {
		t.Errorf("ACL after the VPC gained IPv6: %v", got)
	}
	if got := aclEntries(aclGet(t, c, *custom.NetworkAcl.NetworkAclId)); !slices.Equal(got, []string{"E|32767|-1|deny|0.0.0.0/0", "E|32768|-1|deny|::/0", "I|32767|-1|deny|0.0.0.0/0", "I|32768|-1|deny|::/0"}) {
		t.Errorf("custom ACL after the VPC gained IPv6: %v", got)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// Custom ACLs: created denying everything, entries with AWS's rules and
// errors, associations replaced, deletion refused while in use.
func TestNetworkACLLifecycle(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := *subnetVPC(t, c, "10.3.0.0/16", false).VpcId
	sub := subnetNew(t, c, vpc, "10.3.1.0/24")
	created, err := c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(vpc),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkAcl, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	acl := created.NetworkAcl
	id := aws.ToString(acl.NetworkAclId)
	if !strings.HasPrefix(id, "acl-") || aws.ToBool(acl.IsDefault) || len(acl.Tags) != 1 || len(acl.Associations) != 0 ||
		!slices.Equal(aclEntries(*acl), []string{"E|32767|-1|deny|0.0.0.0/0", "I|32767|-1|deny|0.0.0.0/0"}) {
		t.Fatalf("CreateNetworkAcl: %+v %v", acl, aclEntries(*acl))
	}

	entry := func(n int32, egress bool, proto, action string) *ec2.CreateNetworkAclEntryInput {
		return &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(n), Egress: aws.Bool(egress),
			Protocol: aws.String(proto), RuleAction: types.RuleAction(action), CidrBlock: aws.String("10.0.0.0/8")}
	}
	ok := entry(100, false, "tcp", "allow")
	ok.PortRange = &types.PortRange{From: aws.Int32(443), To: aws.Int32(443)}
	if _, err := c.CreateNetworkAclEntry(ctx, ok); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateNetworkAclEntry(ctx, ok)
	aclWant(t, err, "NetworkAclEntryAlreadyExists", "The network acl entry identified by 100 already exists.")
	same := entry(100, true, "-1", "deny") // the same number in the other direction is another entry
	if _, err := c.CreateNetworkAclEntry(ctx, same); err != nil {
		t.Fatal(err)
	}
	icmp := entry(110, false, "1", "allow")
	icmp.IcmpTypeCode = &types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}
	if _, err := c.CreateNetworkAclEntry(ctx, icmp); err != nil {
		t.Fatal(err)
	}
	v6 := &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(120), Egress: aws.Bool(false),
		Protocol: aws.String("17"), RuleAction: types.RuleActionDeny, Ipv6CidrBlock: aws.String("2001:db8::1/64"), PortRange: &types.PortRange{From: aws.Int32(53), To: aws.Int32(53)}}
	if _, err := c.CreateNetworkAclEntry(ctx, v6); err != nil {
		t.Fatal(err)
	}
	want := []string{"E|100|-1|deny|10.0.0.0/8", "E|32767|-1|deny|0.0.0.0/0",
		"I|100|6|allow|10.0.0.0/8|ports 443-443", "I|110|1|allow|10.0.0.0/8|icmp 8/-1", "I|120|17|deny|2001:db8::/64|ports 53-53", "I|32767|-1|deny|0.0.0.0/0"}
	if got := aclEntries(aclGet(t, c, id)); !slices.Equal(got, want) {
		t.Errorf("entries %v, want %v", got, want)
	}

	// Validation, in AWS's words where known.
	for _, tc := range []struct {
		in   func(*ec2.CreateNetworkAclEntryInput)
		code string
		msg  string
	}{
		{func(in *ec2.CreateNetworkAclEntryInput) { in.RuleNumber = aws.Int32(32767) }, "InvalidParameterValue", "Value (32767) for parameter ruleNumber is invalid. Rulenumber must be in range 1..32766"},
		{func(in *ec2.CreateNetworkAclEntryInput) { in.RuleNumber = aws.Int32(0) }, "InvalidParameterValue", "Value (0) for parameter ruleNumber is invalid. Rulenumber must be in range 1..32766"},
		{func(in *ec2.CreateNetworkAclEntryInput) { in.Protocol = aws.String("tcp") }, "InvalidParameterValue", "Invalid value for portRange. Must specify both from and to ports with TCP/UDP."},
		{func(in *ec2.CreateNetworkAclEntryInput) {
			in.Protocol, in.PortRange = aws.String("6"), &types.PortRange{From: aws.Int32(90), To: aws.Int32(80)}
		}, "InvalidParameterValue", "Invalid value for portRange. From port (90) must not be greater than to port (80)."},
		{func(in *ec2.CreateNetworkAclEntryInput) { in.Protocol = aws.String("icmp") }, "InvalidParameterValue", "Invalid value for icmpTypeCode. Must specify both ICMP type and code with ICMP."},
		{func(in *ec2.CreateNetworkAclEntryInput) { in.Protocol = aws.String("bogus") }, "InvalidParameterValue", "Invalid value 'bogus' for IP protocol. Unknown protocol."},
		{func(in *ec2.CreateNetworkAclEntryInput) { in.CidrBlock = aws.String("2001:db8::/64") }, "InvalidParameterValue", "Value (2001:db8::/64) for parameter cidrBlock is invalid. This is not a valid CIDR block."},
		{func(in *ec2.CreateNetworkAclEntryInput) {
			in.CidrBlock, in.Ipv6CidrBlock = nil, aws.String("10.0.0.0/8")
		}, "InvalidParameterValue", "Value (10.0.0.0/8) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block."},
		{func(in *ec2.CreateNetworkAclEntryInput) { in.Ipv6CidrBlock = aws.String("::/0") }, "InvalidParameterCombination", "Only one of cidrBlock and ipv6CidrBlock may be specified."},
		{func(in *ec2.CreateNetworkAclEntryInput) { in.CidrBlock = nil }, "MissingParameter", "The request must contain the parameter cidrBlock or ipv6CidrBlock"},
		{func(in *ec2.CreateNetworkAclEntryInput) { in.NetworkAclId = aws.String("acl-0123456789abcdef0") }, "InvalidNetworkAclID.NotFound", "The networkAcl ID 'acl-0123456789abcdef0' does not exist"},
		{func(in *ec2.CreateNetworkAclEntryInput) { in.NetworkAclId = aws.String("acl-xyz") }, "InvalidNetworkAclId.Malformed", `Invalid id: "acl-xyz" (expecting "acl-...")`},
	} {
		in := entry(200, false, "-1", "allow")
		tc.in(in)
		_, err := c.CreateNetworkAclEntry(ctx, in)
		aclWant(t, err, tc.code, tc.msg)
	}

	// Replace and delete by number and direction.
	rep := &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(100), Egress: aws.Bool(false),
		Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, CidrBlock: aws.String("192.168.0.0/16")}
	if _, err := c.ReplaceNetworkAclEntry(ctx, rep); err != nil {
		t.Fatal(err)
	}
	rep.RuleNumber = aws.Int32(300)
	_, err = c.ReplaceNetworkAclEntry(ctx, rep)
	aclWant(t, err, "InvalidNetworkAclEntry.NotFound", "The network acl entry identified by 300 does not exist")
	if _, err := c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(110), Egress: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(110), Egress: aws.Bool(false)})
	aclWant(t, err, "InvalidNetworkAclEntry.NotFound", "The network acl entry identified by 110 does not exist")
	_, err = c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(32767), Egress: aws.Bool(false)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	if got := aclEntries(aclGet(t, c, id)); !slices.Equal(got, []string{"E|100|-1|deny|10.0.0.0/8", "E|32767|-1|deny|0.0.0.0/0",
		"I|100|-1|deny|192.168.0.0/16", "I|120|17|deny|2001:db8::/64|ports 53-53", "I|32767|-1|deny|0.0.0.0/0"}) {
		t.Errorf("after replace and delete: %v", got)
	}

	// Filters over entries and tags.
	for _, f := range []types.Filter{filter("entry.rule-number", "120"), filter("entry.protocol", "udp"), filter("entry.port-range.from", "53"),
		filter("entry.ipv6-cidr", "2001:db8::/64"), filter("tag:Name", "web"), filter("network-acl-id", id),
		filter("default", "false"), filter("entry.cidr", "192.168.*")} {
		got := aclDescribe(t, c, f, filter("vpc-id", vpc))
		if len(got) != 1 || aws.ToString(got[0].NetworkAclId) != id {
			t.Errorf("filter %s=%v: %d ACLs", *f.Name, f.Values, len(got))
		}
	}
	if got := aclDescribe(t, c, filter("entry.rule-action", "allow"), filter("vpc-id", vpc)); len(got) != 1 || !aws.ToBool(got[0].IsDefault) {
		t.Errorf("entry.rule-action=allow: %+v", got)
	}
	if got := aclDescribe(t, c, filter("entry.icmp.type", "8")); len(got) != 0 {
		t.Errorf("entry.icmp.type matched a deleted entry: %d", len(got))
	}

	// The subnet moves to the custom ACL and back: each move is a new association.
	def := aclDefault(t, c, vpc)
	first := aclSubnets(def)[sub]
	moved, err := c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(first), NetworkAclId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(moved.NewAssociationId)
	if second == first || !strings.HasPrefix(second, "aclassoc-") || aclSubnets(aclGet(t, c, id))[sub] != second || len(aclDefault(t, c, vpc).Associations) != 0 {
		t.Fatalf("after ReplaceNetworkAclAssociation: %s %+v", second, aclGet(t, c, id).Associations)
	}
	if got := aclDescribe(t, c, filter("association.association-id", second)); len(got) != 1 || *got[0].NetworkAclId != id {
		t.Errorf("association.association-id filter: %+v", got)
	}
	_, err = c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(first), NetworkAclId: aws.String(id)})
	aclWant(t, err, "InvalidAssociationID.NotFound", fmt.Sprintf("The association ID '%s' does not exist", first))
	_, err = c.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: aws.String(id)})
	aclWant(t, err, "DependencyViolation", fmt.Sprintf("The networkAcl '%s' has dependencies and cannot be deleted.", id))
	_, err = c.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: def.NetworkAclId})
	aclWant(t, err, "InvalidParameterValue", "cannot delete default network ACL "+aws.ToString(def.NetworkAclId))
	// An ACL of another VPC cannot take the subnet.
	other := aclDefault(t, c, sgDefaultVPC(t, c))
	_, err = c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(second), NetworkAclId: other.NetworkAclId})
	apitest.WantCode(t, err, "InvalidParameterValue")
	// A VPC with a custom ACL cannot be deleted.
	_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpc)})
	apitest.WantCode(t, err, "DependencyViolation")

	back, err := c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(second), NetworkAclId: def.NetworkAclId})
	if err != nil {
		t.Fatal(err)
	}
	if got := aclSubnets(aclDefault(t, c, vpc))[sub]; got != aws.ToString(back.NewAssociationId) || got == first {
		t.Errorf("back on the default ACL as %s (reply %s)", got, aws.ToString(back.NewAssociationId))
	}
	if _, err := c.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{id}})
	aclWant(t, err, "InvalidNetworkAclID.NotFound", fmt.Sprintf("The networkAcl ID '%s' does not exist", id))

	// Deleting the subnet and the VPC leaves nothing behind.
	if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(sub)}); err != nil {
		t.Fatal(err)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpc)}); err != nil {
		t.Fatal(err)
	}
	if got := aclDescribe(t, c, filter("vpc-id", vpc)); len(got) != 0 {
		t.Errorf("ACLs left of a deleted VPC: %+v", got)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// The quota of rules per ACL and direction counts the catch-all deny.
func TestNetworkACLRuleQuota(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	acl := aclDefault(t, c, sgDefaultVPC(t, c)) // rule 100 and the deny: 2 of 20
	for n := int32(1); n <= 18; n++ {
		if _, err := c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: acl.NetworkAclId, RuleNumber: aws.Int32(n),
			Egress: aws.Bool(true), Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("10.0.0.0/8")}); err != nil {
			t.Fatal(n, err)
		}
	}
	_, err := c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: acl.NetworkAclId, RuleNumber: aws.Int32(19),
		Egress: aws.Bool(true), Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("10.0.0.0/8")})
	apitest.WantCode(t, err, "RulesPerAclLimitExceeded")
	if _, err := c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: acl.NetworkAclId, RuleNumber: aws.Int32(19),
		Egress: aws.Bool(false), Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("10.0.0.0/8")}); err != nil {
		t.Fatalf("ingress has its own quota: %v", err)
	}
}

// The default ACL and tags on it survive a restart.
func TestNetworkACLDurable(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	acl := aclDefault(t, c, sgDefaultVPC(t, c))
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{*acl.NetworkAclId}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	path := e.Path
	e.Close()
	e2 := apitest.New(t, apitest.Options{Path: path})
	got := aclGet(t, e2.Client(), *acl.NetworkAclId)
	if len(got.Tags) != 1 || len(got.Associations) != 3 || len(got.Entries) != 4 {
		t.Errorf("after restart: %+v", got)
	}
	tags, err := e2.Client().DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{filter("resource-type", "network-acl")}})
	if err != nil || len(tags.Tags) != 1 {
		t.Errorf("DescribeTags network-acl: %+v %v", tags, err)
	}
}
