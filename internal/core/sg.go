package core

// Security groups. A group's rules are stored one peer per Rule (as
// DescribeSecurityGroupRules shows them, each with its sgr- id); on the wire
// IpPermissions group several peers per (protocol, from port, to port):
// sgSplit turns permissions into rules, sgMerge rules into permissions.

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

const (
	// sgMaxRules is AWS's default quota of rules per group and direction,
	// counted separately for IPv4 and IPv6.
	sgMaxRules = 60
	// sgMaxNameLen bounds group names, descriptions and rule descriptions.
	sgMaxNameLen = 255
)

// GroupNames returns the groups with the given ids, in order, with their
// names (for ENI and instance rendering). Unknown ids keep no name.
func (tx *Tx) GroupNames(ids []string) []ec2wire.GroupIdentifier {
	out := make([]ec2wire.GroupIdentifier, 0, len(ids))
	for _, id := range ids {
		gi := ec2wire.GroupIdentifier{GroupId: p(id)}
		if g := tx.groups.Get(id); g != nil {
			gi.GroupName = p(g.Name)
		}
		out = append(out, gi)
	}
	return out
}

// SecurityGroupRules returns copies of a group's ingress and egress rules,
// or nil, nil if there is no such group. It is a pure read for the data plane.
func (tx *Tx) SecurityGroupRules(id string) ([]Rule, []Rule) {
	g := tx.groups.Get(id)
	if g == nil {
		return nil, nil
	}
	return cloneRules(g.Ingress), cloneRules(g.Egress)
}

func (tx *Tx) sgArn(g *SecurityGroup) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", tx.Region, g.Owner, g.ID)
}

// sgNameChars are the characters AWS allows in VPC group names and descriptions.
const sgNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-:/()#,@[]+=&;{}!$*"

func sgCheckText(param, v string) error {
	if v == "" {
		return errorf(CodeInvalidParameterValue, "Value () for parameter %s is invalid. Length must be between 1 and %d.", param, sgMaxNameLen)
	}
	if len(v) > sgMaxNameLen {
		return errorf(CodeInvalidParameterValue, "Value (%s) for parameter %s is invalid. Length exceeds maximum of %d.", v, param, sgMaxNameLen)
	}
	for _, c := range v {
		if !strings.ContainsRune(sgNameChars, c) {
			return errorf(CodeInvalidParameterValue, "Value (%s) for parameter %s is invalid. Character sets beyond ASCII are not supported.", v, param)
		}
	}
	return nil
}

// sgDefaultVPC returns the caller's default VPC, or nil.
func (tx *Tx) sgDefaultVPC() *VPC {
	var out *VPC
	tx.vpcs.Each(func(v *VPC) bool {
		if v.IsDefault && v.Owner == tx.Account {
			out = v
		}
		return out == nil
	})
	return out
}

// sgByName returns the caller's group called name in a VPC, or nil.
func (tx *Tx) sgByName(vpcID, name string) *SecurityGroup {
	var out *SecurityGroup
	tx.groups.Each(func(g *SecurityGroup) bool {
		if g.VpcID == vpcID && g.Name == name && g.Owner == tx.Account {
			out = g
		}
		return out == nil
	})
	return out
}

// sgByDefaultName resolves a group name in the default VPC, as GroupName
// parameters do.
func (tx *Tx) sgByDefaultName(name string) (*SecurityGroup, error) {
	v := tx.sgDefaultVPC()
	if v == nil {
		return nil, errorf(CodeInvalidGroupNotFound, "The security group '%s' does not exist", name)
	}
	g := tx.sgByName(v.ID, name)
	if g == nil {
		return nil, errorf(CodeInvalidGroupNotFound, "The security group '%s' does not exist in default VPC '%s'", name, v.ID)
	}
	return g, nil
}

// sgTarget resolves the GroupId (or, for the default VPC, GroupName) of an
// operation on one group.
func (tx *Tx) sgTarget(id, name *string) (*SecurityGroup, error) {
	switch {
	case id != nil && *id != "":
		return tx.getGroup(*id)
	case name != nil && *name != "":
		return tx.sgByDefaultName(*name)
	}
	return nil, errorf(CodeMissingParameter, "The request must contain the parameter groupName or groupId")
}

// CreateSecurityGroup creates a group with the default egress rule(s).
func (tx *Tx) CreateSecurityGroup(in *ec2wire.CreateSecurityGroupInput) (*ec2wire.CreateSecurityGroupOutput, error) {
	name, desc := str(in.GroupName), str(in.Description)
	if err := sgCheckText("GroupName", name); err != nil {
		return nil, err
	}
	if desc == "" { // absent or empty: AWS answers both alike
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter GroupDescription")
	}
	if err := sgCheckText("GroupDescription", desc); err != nil {
		return nil, err
	}
	if name == "default" {
		return nil, errorf(CodeInvalidGroupReserved, "The security group 'default' is reserved")
	}
	if strings.HasPrefix(strings.ToLower(name), "sg-") {
		return nil, errorf(CodeInvalidParameterValue, "Group names may not be in the format sg-*.")
	}
	var vpc *VPC
	if id := str(in.VpcId); id != "" {
		v, err := tx.getVPC(id)
		if err != nil {
			return nil, err
		}
		vpc = v
	} else if vpc = tx.sgDefaultVPC(); vpc == nil {
		return nil, errorf(CodeVPCIdNotSpecified, "No default VPC for this user")
	}
	if tx.sgByName(vpc.ID, name) != nil {
		return nil, errorf(CodeInvalidGroupDuplicate, "The security group '%s' already exists for VPC '%s'", name, vpc.ID)
	}
	tags, err := tagSpecs(in.TagSpecifications, "security-group")
	if err != nil {
		return nil, err
	}
	g := &SecurityGroup{ID: tx.newID("sg"), Owner: tx.Account, VpcID: vpc.ID, Name: name, Description: desc, Tags: tags}
	g.Egress = []Rule{{ID: tx.newID("sgr"), Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CidrIpv4: "0.0.0.0/0"}}
	if len(vpc.Ipv6Assocs) > 0 {
		g.Egress = append(g.Egress, Rule{ID: tx.newID("sgr"), Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CidrIpv6: "::/0"})
	}
	tx.groups.Put(g)
	return &ec2wire.CreateSecurityGroupOutput{GroupId: p(g.ID), Tags: tagsOut(g.Tags), SecurityGroupArn: p(tx.sgArn(g))}, nil
}

// DeleteSecurityGroup deletes a group no ENI uses and no other group's rule
// references.
func (tx *Tx) DeleteSecurityGroup(in *ec2wire.DeleteSecurityGroupInput) (*ec2wire.DeleteSecurityGroupOutput, error) {
	g, err := tx.sgTarget(in.GroupId, in.GroupName)
	if err != nil {
		return nil, err
	}
	if g.Name == "default" {
		return nil, errorf(CodeCannotDelete, "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
	}
	var derr error
	tx.enis.Each(func(e *ENI) bool {
		if slices.Contains(e.Groups, g.ID) {
			derr = errorf(CodeDependencyViolation, "resource %s has a dependent object", g.ID)
		}
		return derr == nil
	})
	if derr != nil {
		return nil, derr
	}
	// AWS answers InvalidGroup.InUse for some references; DependencyViolation
	// is what it answers for ENIs and what clients retry on, so use it for both.
	tx.groups.Each(func(o *SecurityGroup) bool {
		if o.ID == g.ID || o.VpcID != g.VpcID { // a peer VPC's reference goes stale (sgpeering.go)
			return true
		}
		for _, r := range append(slices.Clip(o.Ingress), o.Egress...) {
			if r.GroupID == g.ID {
				derr = errorf(CodeDependencyViolation, "resource %s has a dependent object", g.ID)
			}
		}
		return derr == nil
	})
	if derr != nil {
		return nil, derr
	}
	tx.groups.Delete(g.ID)
	return &ec2wire.DeleteSecurityGroupOutput{Return: p(true), GroupId: p(g.ID)}, nil
}

// sgProtocol normalises an IpProtocol: names are case-insensitive, "all" is
// "-1", and the numbers of tcp, udp, icmp and icmpv6 become their names.
func sgProtocol(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	switch l {
	case "":
		return "", errorf(CodeMissingParameter, "The request must contain the parameter ipProtocol")
	case "-1", "all":
		return "-1", nil
	case "tcp", "udp", "icmp", "icmpv6":
		return l, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 0 || n > 255 {
		return "", errorf(CodeInvalidParameterValue, "Invalid value '%s' for IP protocol. Unknown protocol.", s)
	}
	switch n {
	case 6:
		return "tcp", nil
	case 17:
		return "udp", nil
	case 1:
		return "icmp", nil
	case 58:
		return "icmpv6", nil
	}
	return strconv.Itoa(n), nil
}

// sgHasPorts reports whether rules of a protocol carry ports (or ICMP
// type/code); for the others AWS ignores and does not render them.
func sgHasPorts(proto string) bool {
	switch proto {
	case "tcp", "udp", "icmp", "icmpv6":
		return true
	}
	return false
}

// sgPorts validates the port range (or ICMP type and code) of a protocol.
func sgPorts(proto string, from, to *int32) (int32, int32, error) {
	switch proto {
	case "tcp", "udp":
		if from == nil || to == nil {
			return 0, 0, errorf(CodeInvalidParameterValue, "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.")
		}
		for _, v := range []int32{*from, *to} {
			if v < 0 || v > 65535 {
				return 0, 0, errorf(CodeInvalidPermissionMalformed, "TCP/UDP port (%d) out of range", v)
			}
		}
		if *from > *to {
			return 0, 0, errorf(CodeInvalidPermissionMalformed, "Invalid TCP/UDP port range: from port %d is greater than to port %d", *from, *to)
		}
		return *from, *to, nil
	case "icmp", "icmpv6":
		f, t := int32(-1), int32(-1)
		if from != nil {
			f = *from
		}
		if to != nil {
			t = *to
		}
		if f < -1 || f > 255 {
			return 0, 0, errorf(CodeInvalidParameterValue, "ICMP type (%d) out of range", f)
		}
		if t < -1 || t > 255 {
			return 0, 0, errorf(CodeInvalidParameterValue, "ICMP code (%d) out of range", t)
		}
		if f == -1 && t != -1 {
			return 0, 0, errorf(CodeInvalidPermissionMalformed, "ICMP code (%d) must be -1 when the ICMP type is -1", t)
		}
		return f, t, nil
	}
	return -1, -1, nil
}

// sgPeerResolver turns a UserIdGroupPair into the referenced group's id and owner.
type sgPeerResolver func(ec2wire.UserIdGroupPair) (id, owner string, err error)

func sgDescription(d *string) (string, error) {
	s := str(d)
	if len(s) > sgMaxNameLen {
		return "", errorf(CodeInvalidParameterValue, "Value for parameter description is invalid. Length exceeds maximum of %d.", sgMaxNameLen)
	}
	return s, nil
}

// sgSplit turns IpPermissions into one Rule per peer, without ids, in the
// order given.
func sgSplit(perms []ec2wire.IpPermission, egress bool, resolve sgPeerResolver) ([]Rule, error) {
	var out []Rule
	for _, pm := range perms {
		proto, err := sgProtocol(str(pm.IpProtocol))
		if err != nil {
			return nil, err
		}
		from, to, err := sgPorts(proto, pm.FromPort, pm.ToPort)
		if err != nil {
			return nil, err
		}
		base := Rule{Egress: egress, Protocol: proto, FromPort: from, ToPort: to}
		n := len(out)
		for _, r := range pm.IpRanges {
			c := str(r.CidrIp)
			pfx, err := netip.ParsePrefix(c)
			if err != nil || !pfx.Addr().Is4() {
				return nil, errorf(CodeInvalidParameterValue, "CIDR block %s is malformed", c)
			}
			rule := base
			rule.CidrIpv4 = pfx.Masked().String()
			if rule.Description, err = sgDescription(r.Description); err != nil {
				return nil, err
			}
			out = append(out, rule)
		}
		for _, r := range pm.Ipv6Ranges {
			c := str(r.CidrIpv6)
			pfx, err := netip.ParsePrefix(c)
			if err != nil || !pfx.Addr().Is6() || pfx.Addr().Is4In6() {
				return nil, errorf(CodeInvalidParameterValue, "CIDR block %s is malformed", c)
			}
			rule := base
			rule.CidrIpv6 = pfx.Masked().String()
			if rule.Description, err = sgDescription(r.Description); err != nil {
				return nil, err
			}
			out = append(out, rule)
		}
		for _, r := range pm.PrefixListIds {
			id := str(r.PrefixListId)
			if !validID(id, "pl") {
				return nil, errorf(CodeInvalidPermissionMalformed, "Invalid prefix list id: \"%s\" (expecting \"pl-...\")", id)
			}
			rule := base
			rule.PrefixListID = id
			if rule.Description, err = sgDescription(r.Description); err != nil {
				return nil, err
			}
			out = append(out, rule)
		}
		for _, r := range pm.UserIdGroupPairs {
			id, owner, err := resolve(r)
			if err != nil {
				return nil, err
			}
			rule := base
			rule.GroupID, rule.GroupOwner = id, owner
			if rule.Description, err = sgDescription(r.Description); err != nil {
				return nil, err
			}
			out = append(out, rule)
		}
		if len(out) == n {
			return nil, errorf(CodeMissingParameter, "Missing source specification: include source security group or CIDR information")
		}
	}
	return out, nil
}

// sgPeer names a rule's peer, the part of its identity besides direction,
// protocol and ports.
func sgPeer(r *Rule) string {
	switch {
	case r.CidrIpv4 != "":
		return r.CidrIpv4
	case r.CidrIpv6 != "":
		return r.CidrIpv6
	case r.PrefixListID != "":
		return r.PrefixListID
	}
	return r.GroupID
}

// sgRuleKey identifies a rule for duplicate detection and revocation:
// direction, protocol, ports and peer; the description does not count.
func sgRuleKey(r *Rule) string {
	kind := "sg"
	switch {
	case r.CidrIpv4 != "":
		kind = "4"
	case r.CidrIpv6 != "":
		kind = "6"
	case r.PrefixListID != "":
		kind = "pl"
	}
	return fmt.Sprintf("%t|%s|%d|%d|%s:%s", r.Egress, r.Protocol, r.FromPort, r.ToPort, kind, sgPeer(r))
}

// sgCount counts rules against the quota: CIDR rules in their family, group
// and prefix-list rules in both.
func sgCount(rules []Rule) (v4, v6 int) {
	for i := range rules {
		switch {
		case rules[i].CidrIpv4 != "":
			v4++
		case rules[i].CidrIpv6 != "":
			v6++
		default:
			v4++
			v6++
		}
	}
	return v4, v6
}

// sgMerge renders rules as IpPermissions: one per (protocol, from, to), in
// the order of first appearance, with the peers in rule order.
func sgMerge(rules []Rule) []ec2wire.IpPermission {
	var out []ec2wire.IpPermission
	index := map[string]int{}
	for i := range rules {
		r := &rules[i]
		k := fmt.Sprintf("%s|%d|%d", r.Protocol, r.FromPort, r.ToPort)
		j, ok := index[k]
		if !ok {
			pm := ec2wire.IpPermission{IpProtocol: p(r.Protocol)}
			if sgHasPorts(r.Protocol) {
				pm.FromPort, pm.ToPort = p(r.FromPort), p(r.ToPort)
			}
			out = append(out, pm)
			j = len(out) - 1
			index[k] = j
		}
		pm := &out[j]
		var desc *string
		if r.Description != "" {
			desc = p(r.Description)
		}
		switch {
		case r.CidrIpv4 != "":
			pm.IpRanges = append(pm.IpRanges, ec2wire.IpRange{CidrIp: p(r.CidrIpv4), Description: desc})
		case r.CidrIpv6 != "":
			pm.Ipv6Ranges = append(pm.Ipv6Ranges, ec2wire.Ipv6Range{CidrIpv6: p(r.CidrIpv6), Description: desc})
		case r.PrefixListID != "":
			pm.PrefixListIds = append(pm.PrefixListIds, ec2wire.PrefixListId{PrefixListId: p(r.PrefixListID), Description: desc})
		case r.GroupID != "":
			pm.UserIdGroupPairs = append(pm.UserIdGroupPairs, ec2wire.UserIdGroupPair{GroupId: p(r.GroupID), UserId: p(r.GroupOwner), Description: desc})
		}
	}
	return out
}

// sgRuleOut renders one rule as DescribeSecurityGroupRules shows it.
func sgRuleOut(g *SecurityGroup, r *Rule) ec2wire.SecurityGroupRule {
	out := ec2wire.SecurityGroupRule{
		SecurityGroupRuleId: p(r.ID), GroupId: p(g.ID), GroupOwnerId: p(g.Owner), IsEgress: p(r.Egress),
		IpProtocol: p(r.Protocol), FromPort: p(r.FromPort), ToPort: p(r.ToPort), Tags: tagsOut(r.Tags),
	}
	if r.CidrIpv4 != "" {
		out.CidrIpv4 = p(r.CidrIpv4)
	}
	if r.CidrIpv6 != "" {
		out.CidrIpv6 = p(r.CidrIpv6)
	}
	if r.PrefixListID != "" {
		out.PrefixListId = p(r.PrefixListID)
	}
	if r.GroupID != "" {
		out.ReferencedGroupInfo = &ec2wire.ReferencedSecurityGroup{GroupId: p(r.GroupID), UserId: p(r.GroupOwner)}
	}
	if r.Description != "" {
		out.Description = p(r.Description)
	}
	return out
}

func sgProtoLabel(proto string) string {
	if proto == "-1" {
		return "ALL"
	}
	return strings.ToUpper(proto)
}

// sgResolver resolves the group peers of rules of group g: by id (of the
// caller, or of UserId), or by name in g's VPC; the peer must be in g's VPC.
func (tx *Tx) sgResolver(g *SecurityGroup) sgPeerResolver {
	return func(pr ec2wire.UserIdGroupPair) (string, string, error) {
		id, name, user := str(pr.GroupId), str(pr.GroupName), str(pr.UserId)
		var peer *SecurityGroup
		switch {
		case id != "":
			if !validID(id, "sg") {
				return "", "", errorf(CodeInvalidGroupIDMalformed, "Invalid id: \"%s\" (expecting \"sg-...\")", id)
			}
			owner := tx.Account
			if user != "" {
				owner = user
			}
			if peer = tx.groups.Get(id); peer == nil || peer.Owner != owner {
				return "", "", errorf(CodeInvalidGroupNotFound, "The security group '%s' does not exist", id)
			}
		case name != "":
			if peer = tx.sgByName(g.VpcID, name); peer == nil {
				return "", "", errorf(CodeInvalidGroupNotFound, "The security group '%s' does not exist in VPC '%s'", name, g.VpcID)
			}
		default:
			return "", "", errorf(CodeMissingParameter, "Missing source specification: include source security group or CIDR information")
		}
		if peer.VpcID != g.VpcID && tx.pcxBetween(peer.VpcID, g.VpcID) == "" { // a peered VPC's group may be referenced
			return "", "", errorf(CodeInvalidGroupNotFound, "You have specified two resources that belong to different networks.")
		}
		return peer.ID, peer.Owner, nil
	}
}

// sgLegacy is the flat, pre-IpPermissions form of Authorize/Revoke.
type sgLegacy struct {
	CidrIp, IpProtocol, SourceGroupName, SourceGroupOwner *string
	FromPort, ToPort                                      *int32
}

// perms turns the flat form into IpPermissions (nil if it is not used).
// SourceSecurityGroupName alone grants all ICMP, TCP and UDP from that group.
func (l sgLegacy) perms(ipPerms []ec2wire.IpPermission) ([]ec2wire.IpPermission, error) {
	used := l.CidrIp != nil || l.IpProtocol != nil || l.SourceGroupName != nil || l.FromPort != nil || l.ToPort != nil
	if !used {
		return ipPerms, nil
	}
	if len(ipPerms) > 0 {
		return nil, errorf(CodeInvalidParameterCombination, "The parameter 'ipPermissions' may not be used in combination with 'cidrIp', 'ipProtocol', 'fromPort', 'toPort' or 'sourceSecurityGroupName'")
	}
	var groups []ec2wire.UserIdGroupPair
	if str(l.SourceGroupName) != "" {
		groups = []ec2wire.UserIdGroupPair{{GroupName: l.SourceGroupName, UserId: l.SourceGroupOwner}}
	}
	var ranges []ec2wire.IpRange
	if l.CidrIp != nil {
		ranges = []ec2wire.IpRange{{CidrIp: l.CidrIp}}
	}
	if l.IpProtocol == nil && groups != nil {
		if ranges != nil || l.FromPort != nil || l.ToPort != nil {
			return nil, errorf(CodeInvalidParameterCombination, "The parameter 'sourceSecurityGroupName' may only be combined with 'ipProtocol', 'fromPort' and 'toPort' all together")
		}
		return []ec2wire.IpPermission{
			{IpProtocol: p("icmp"), FromPort: p(int32(-1)), ToPort: p(int32(-1)), UserIdGroupPairs: groups},
			{IpProtocol: p("tcp"), FromPort: p(int32(0)), ToPort: p(int32(65535)), UserIdGroupPairs: groups},
			{IpProtocol: p("udp"), FromPort: p(int32(0)), ToPort: p(int32(65535)), UserIdGroupPairs: groups},
		}, nil
	}
	if l.IpProtocol == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter ipProtocol")
	}
	return []ec2wire.IpPermission{{IpProtocol: l.IpProtocol, FromPort: l.FromPort, ToPort: l.ToPort, IpRanges: ranges, UserIdGroupPairs: groups}}, nil
}

// sgAuthorize adds rules to one direction of group g: all or nothing.
func (tx *Tx) sgAuthorize(g *SecurityGroup, egress bool, perms []ec2wire.IpPermission, specs []ec2wire.TagSpecification) ([]ec2wire.SecurityGroupRule, error) {
	if len(perms) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter ipPermissions")
	}
	tags, err := tagSpecs(specs, "security-group-rule")
	if err != nil {
		return nil, err
	}
	rules, err := sgSplit(perms, egress, tx.sgResolver(g))
	if err != nil {
		return nil, err
	}
	if err := tx.plCheckRules(rules); err != nil {
		return nil, err
	}
	m := tx.groups.Mut(g.ID)
	list := &m.Ingress
	if egress {
		list = &m.Egress
	}
	have := map[string]bool{}
	for i := range *list {
		have[sgRuleKey(&(*list)[i])] = true
	}
	added := map[string]bool{}
	for i := range rules {
		r := &rules[i]
		k := sgRuleKey(r)
		if have[k] {
			return nil, errorf(CodeInvalidPermissionDuplicate, "the specified rule \"peer: %s, %s, from port: %d, to port: %d, ALLOW\" already exists", sgPeer(r), sgProtoLabel(r.Protocol), r.FromPort, r.ToPort)
		}
		if added[k] {
			return nil, errorf(CodeInvalidParameterValue, "The same permission must not appear multiple times")
		}
		added[k] = true
	}
	all := append(slices.Clip(*list), rules...)
	if v4, v6 := tx.sgWeighed(all); v4 > sgMaxRules || v6 > sgMaxRules {
		return nil, errorf(CodeRulesPerGroupLimitExceeded, "The maximum number of rules per security group has been reached.")
	}
	out := make([]ec2wire.SecurityGroupRule, 0, len(rules))
	for i := len(*list); i < len(all); i++ {
		all[i].ID = tx.newID("sgr")
		if len(tags) > 0 {
			all[i].Tags = cloneTags(tags)
		}
		out = append(out, sgRuleOut(m, &all[i]))
	}
	*list = all
	return out, nil
}

func cloneTags(t Tags) Tags {
	out := make(Tags, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// sgRevoke removes rules from one direction of group g, by permission or by
// rule id. In a default VPC unmatched permissions are returned instead of
// failing the call, as AWS does.
func (tx *Tx) sgRevoke(g *SecurityGroup, egress bool, perms []ec2wire.IpPermission, ruleIDs []string) ([]ec2wire.IpPermission, error) {
	if len(perms) > 0 && len(ruleIDs) > 0 {
		return nil, errorf(CodeInvalidParameterCombination, "The parameter 'securityGroupRuleIds' may not be used in combination with 'ipPermissions'")
	}
	if len(perms) == 0 && len(ruleIDs) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter ipPermissions or securityGroupRuleIds")
	}
	m := tx.groups.Mut(g.ID)
	list := &m.Ingress
	if egress {
		list = &m.Egress
	}
	drop := map[int]bool{}
	var unknown []Rule
	if len(ruleIDs) > 0 {
		for _, id := range ruleIDs {
			if !validID(id, "sgr") {
				return nil, errorf(CodeSecurityGroupRuleIDMalformed, "Invalid id: \"%s\" (expecting \"sgr-...\")", id)
			}
			i := slices.IndexFunc(*list, func(r Rule) bool { return r.ID == id })
			if i < 0 {
				return nil, errorf(CodeSecurityGroupRuleIDNotFound, "The security group rule ID '%s' does not exist", id)
			}
			drop[i] = true
		}
	} else {
		rules, err := sgSplit(perms, egress, tx.sgRevokeResolver(g))
		if err != nil {
			return nil, err
		}
		for i := range rules {
			k := sgRuleKey(&rules[i])
			j := slices.IndexFunc(*list, func(r Rule) bool { return sgRuleKey(&r) == k })
			if j < 0 {
				unknown = append(unknown, rules[i])
				continue
			}
			drop[j] = true
		}
		if len(unknown) > 0 {
			if v := tx.vpcs.Get(g.VpcID); v == nil || !v.IsDefault {
				return nil, errorf(CodeInvalidPermissionNotFound, "The specified rule does not exist in this security group.")
			}
		}
	}
	kept := make([]Rule, 0, len(*list))
	for i, r := range *list {
		if !drop[i] {
			kept = append(kept, r)
		}
	}
	*list = kept
	return sgMerge(unknown), nil
}

// AuthorizeSecurityGroupIngress adds inbound rules.
func (tx *Tx) AuthorizeSecurityGroupIngress(in *ec2wire.AuthorizeSecurityGroupIngressInput) (*ec2wire.AuthorizeSecurityGroupIngressOutput, error) {
	g, err := tx.sgTarget(in.GroupId, in.GroupName)
	if err != nil {
		return nil, err
	}
	perms, err := sgLegacy{in.CidrIp, in.IpProtocol, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort}.perms(in.IpPermissions)
	if err != nil {
		return nil, err
	}
	rules, err := tx.sgAuthorize(g, false, perms, in.TagSpecifications)
	if err != nil {
		return nil, err
	}
	return &ec2wire.AuthorizeSecurityGroupIngressOutput{Return: p(true), SecurityGroupRules: rules}, nil
}

// AuthorizeSecurityGroupEgress adds outbound rules.
func (tx *Tx) AuthorizeSecurityGroupEgress(in *ec2wire.AuthorizeSecurityGroupEgressInput) (*ec2wire.AuthorizeSecurityGroupEgressOutput, error) {
	g, err := tx.getGroup(str(in.GroupId))
	if err != nil {
		return nil, err
	}
	perms, err := sgLegacy{in.CidrIp, in.IpProtocol, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort}.perms(in.IpPermissions)
	if err != nil {
		return nil, err
	}
	rules, err := tx.sgAuthorize(g, true, perms, in.TagSpecifications)
	if err != nil {
		return nil, err
	}
	return &ec2wire.AuthorizeSecurityGroupEgressOutput{Return: p(true), SecurityGroupRules: rules}, nil
}

// RevokeSecurityGroupIngress removes inbound rules.
func (tx *Tx) RevokeSecurityGroupIngress(in *ec2wire.RevokeSecurityGroupIngressInput) (*ec2wire.RevokeSecurityGroupIngressOutput, error) {
	g, err := tx.sgTarget(in.GroupId, in.GroupName)
	if err != nil {
		return nil, err
	}
	perms, err := sgLegacy{in.CidrIp, in.IpProtocol, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort}.perms(in.IpPermissions)
	if err != nil {
		return nil, err
	}
	unknown, err := tx.sgRevoke(g, false, perms, in.SecurityGroupRuleIds)
	if err != nil {
		return nil, err
	}
	return &ec2wire.RevokeSecurityGroupIngressOutput{Return: p(true), UnknownIpPermissions: unknown}, nil
}

// RevokeSecurityGroupEgress removes outbound rules.
func (tx *Tx) RevokeSecurityGroupEgress(in *ec2wire.RevokeSecurityGroupEgressInput) (*ec2wire.RevokeSecurityGroupEgressOutput, error) {
	g, err := tx.getGroup(str(in.GroupId))
	if err != nil {
		return nil, err
	}
	perms, err := sgLegacy{in.CidrIp, in.IpProtocol, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort}.perms(in.IpPermissions)
	if err != nil {
		return nil, err
	}
	unknown, err := tx.sgRevoke(g, true, perms, in.SecurityGroupRuleIds)
	if err != nil {
		return nil, err
	}
	return &ec2wire.RevokeSecurityGroupEgressOutput{Return: p(true), UnknownIpPermissions: unknown}, nil
}

// sgPermValues returns, for the ip-permission.* (or egress.ip-permission.*)
// filter field, the values of all rules of one direction.
func (tx *Tx) sgPermValues(rules []Rule, field string) []string {
	var out []string
	for i := range rules {
		r := &rules[i]
		var v string
		switch field {
		case "cidr":
			v = r.CidrIpv4
		case "ipv6-cidr":
			v = r.CidrIpv6
		case "prefix-list-id":
			v = r.PrefixListID
		case "group-id":
			v = r.GroupID
		case "user-id":
			v = r.GroupOwner
		case "group-name":
			if r.GroupID != "" {
				if o := tx.groups.Get(r.GroupID); o != nil {
					v = o.Name
				}
			}
		case "protocol":
			v = r.Protocol
		case "from-port":
			v = strconv.Itoa(int(r.FromPort))
		case "to-port":
			v = strconv.Itoa(int(r.ToPort))
		}
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (tx *Tx) sgFilters() filterSet[SecurityGroup] {
	fs := filterSet[SecurityGroup]{
		"group-id":    func(g *SecurityGroup) []string { return []string{g.ID} },
		"group-name":  func(g *SecurityGroup) []string { return []string{g.Name} },
		"vpc-id":      func(g *SecurityGroup) []string { return []string{g.VpcID} },
		"owner-id":    func(g *SecurityGroup) []string { return []string{g.Owner} },
		"description": func(g *SecurityGroup) []string { return []string{g.Description} },
	}
	for _, f := range []string{"cidr", "ipv6-cidr", "from-port", "to-port", "protocol", "group-id", "group-name", "user-id", "prefix-list-id"} {
		fs["ip-permission."+f] = func(g *SecurityGroup) []string { return tx.sgPermValues(g.Ingress, f) }
		fs["egress.ip-permission."+f] = func(g *SecurityGroup) []string { return tx.sgPermValues(g.Egress, f) }
	}
	return fs
}

// sgOut renders a group for DescribeSecurityGroups.
func (tx *Tx) sgOut(g *SecurityGroup) ec2wire.SecurityGroup {
	return ec2wire.SecurityGroup{
		GroupId: p(g.ID), GroupName: p(g.Name), Description: p(g.Description), VpcId: p(g.VpcID),
		OwnerId: p(g.Owner), IpPermissions: tx.sgPeerPerms(g, sgMerge(g.Ingress)), IpPermissionsEgress: tx.sgPeerPerms(g, sgMerge(g.Egress)),
		Tags: tagsOut(g.Tags), SecurityGroupArn: p(tx.sgArn(g)),
	}
}

// DescribeSecurityGroups lists groups.
func (tx *Tx) DescribeSecurityGroups(in *ec2wire.DescribeSecurityGroupsInput) (*ec2wire.DescribeSecurityGroupsOutput, error) {
	m, err := newMatcher(tx.sgFilters(), func(g *SecurityGroup) Tags { return g.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range in.GroupIds {
		if _, err := tx.getGroup(id); err != nil {
			return nil, err
		}
		want[id] = true
	}
	for _, name := range in.GroupNames {
		g, err := tx.sgByDefaultName(name)
		if err != nil {
			return nil, err
		}
		want[g.ID] = true
	}
	items := tx.groups.Sorted(func(g *SecurityGroup) bool {
		return g.Owner == tx.Account && (len(want) == 0 || want[g.ID]) && m.match(g)
	})
	page, next, err := paginate(items, func(g *SecurityGroup) string { return g.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeSecurityGroupsOutput{NextToken: next, SecurityGroups: make([]ec2wire.SecurityGroup, 0, len(page))}
	for _, g := range page {
		out.SecurityGroups = append(out.SecurityGroups, tx.sgOut(g))
	}
	return out, nil
}

// sgRuleRef is one rule seen with its group, for DescribeSecurityGroupRules.
type sgRuleRef struct {
	g *SecurityGroup
	r *Rule
}

var sgRuleFilters = filterSet[sgRuleRef]{
	"group-id":               func(x *sgRuleRef) []string { return []string{x.g.ID} },
	"security-group-rule-id": func(x *sgRuleRef) []string { return []string{x.r.ID} },
}

// checkGroupIDFilter checks DescribeSecurityGroupRules' group-id filter
// values: AWS answers a value that is not a group id (even "") with
// InvalidGroupId.Malformed instead of matching nothing.
func checkGroupIDFilter(filters []ec2wire.Filter) error {
	for _, f := range filters {
		if str(f.Name) != "group-id" {
			continue
		}
		for _, v := range f.Values {
			if !validID(v, "sg") {
				return errorf(CodeInvalidGroupIDMalformed, "The security group ID '%s' is malformed", v)
			}
		}
	}
	return nil
}

// DescribeSecurityGroupRules lists rules one peer at a time.
func (tx *Tx) DescribeSecurityGroupRules(in *ec2wire.DescribeSecurityGroupRulesInput) (*ec2wire.DescribeSecurityGroupRulesOutput, error) {
	m, err := newMatcher(sgRuleFilters, func(x *sgRuleRef) Tags { return x.r.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	if err := checkGroupIDFilter(in.Filters); err != nil {
		return nil, err
	}
	var all []*sgRuleRef
	for _, g := range tx.groups.Sorted(func(g *SecurityGroup) bool { return g.Owner == tx.Account }) {
		for i := range g.Ingress {
			all = append(all, &sgRuleRef{g, &g.Ingress[i]})
		}
		for i := range g.Egress {
			all = append(all, &sgRuleRef{g, &g.Egress[i]})
		}
	}
	slices.SortFunc(all, func(a, b *sgRuleRef) int { return strings.Compare(a.r.ID, b.r.ID) })
	want := map[string]bool{}
	for _, id := range in.SecurityGroupRuleIds {
		if !validID(id, "sgr") {
			return nil, errorf(CodeSecurityGroupRuleIDMalformed, "Invalid id: \"%s\" (expecting \"sgr-...\")", id)
		}
		if !slices.ContainsFunc(all, func(x *sgRuleRef) bool { return x.r.ID == id }) {
			return nil, errorf(CodeSecurityGroupRuleIDNotFound, "The security group rule ID '%s' does not exist", id)
		}
		want[id] = true
	}
	items := all[:0:0]
	for _, x := range all {
		if (len(want) == 0 || want[x.r.ID]) && m.match(x) {
			items = append(items, x)
		}
	}
	page, next, err := paginate(items, func(x *sgRuleRef) string { return x.r.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeSecurityGroupRulesOutput{NextToken: next}
	for _, x := range page {
		out.SecurityGroupRules = append(out.SecurityGroupRules, sgRuleOut(x.g, x.r))
	}
	return out, nil
}
