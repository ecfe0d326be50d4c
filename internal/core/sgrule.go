package core

// Changes to existing security group rules: ModifySecurityGroupRules (a rule,
// by id, becomes another) and UpdateSecurityGroupRuleDescriptions* (only the
// description, found by id or by permission).

import (
	"slices"

	"github.com/eni-net/eni/internal/ec2wire"
)

// sgRuleIndex returns the direction and index of rule id in group g.
func sgRuleIndex(g *SecurityGroup, id string) (egress bool, i int, err error) {
	if !validID(id, "sgr") {
		return false, 0, errorf(CodeSecurityGroupRuleIDMalformed, "Invalid id: \"%s\" (expecting \"sgr-...\")", id)
	}
	if i = slices.IndexFunc(g.Ingress, func(r Rule) bool { return r.ID == id }); i >= 0 {
		return false, i, nil
	}
	if i = slices.IndexFunc(g.Egress, func(r Rule) bool { return r.ID == id }); i >= 0 {
		return true, i, nil
	}
	return false, 0, errorf(CodeSecurityGroupRuleIDNotFound, "The security group rule ID '%s' does not exist", id)
}

// sgRuleFromRequest turns a SecurityGroupRuleRequest into a rule of group g
// (one peer, AWS's protocol and port rules), through the IpPermission rules.
func (tx *Tx) sgRuleFromRequest(g *SecurityGroup, egress bool, in *ec2wire.SecurityGroupRuleRequest) (Rule, error) {
	if in == nil {
		return Rule{}, errorf(CodeMissingParameter, "The request must contain the parameter SecurityGroupRule")
	}
	pm := ec2wire.IpPermission{IpProtocol: in.IpProtocol, FromPort: in.FromPort, ToPort: in.ToPort}
	peers := 0
	if in.CidrIpv4 != nil {
		pm.IpRanges, peers = []ec2wire.IpRange{{CidrIp: in.CidrIpv4, Description: in.Description}}, peers+1
	}
	if in.CidrIpv6 != nil {
		pm.Ipv6Ranges, peers = []ec2wire.Ipv6Range{{CidrIpv6: in.CidrIpv6, Description: in.Description}}, peers+1
	}
	if in.PrefixListId != nil {
		pm.PrefixListIds, peers = []ec2wire.PrefixListId{{PrefixListId: in.PrefixListId, Description: in.Description}}, peers+1
	}
	if in.ReferencedGroupId != nil {
		pm.UserIdGroupPairs, peers = []ec2wire.UserIdGroupPair{{GroupId: in.ReferencedGroupId, Description: in.Description}}, peers+1
	}
	if peers > 1 {
		return Rule{}, errorf(CodeInvalidParameterCombination, "A security group rule has exactly one of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupId.")
	}
	rules, err := sgSplit([]ec2wire.IpPermission{pm}, egress, tx.sgResolver(g))
	if err != nil {
		return Rule{}, err
	}
	if err := tx.plCheckRules(rules); err != nil {
		return Rule{}, err
	}
	return rules[0], nil
}

// ModifySecurityGroupRules replaces rules of a group, by id: each keeps its
// id, direction and tags. All or nothing.
func (tx *Tx) ModifySecurityGroupRules(in *ec2wire.ModifySecurityGroupRulesInput) (*ec2wire.ModifySecurityGroupRulesOutput, error) {
	g, err := tx.getGroup(str(in.GroupId))
	if err != nil {
		return nil, err
	}
	if len(in.SecurityGroupRules) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter SecurityGroupRule")
	}
	m := tx.groups.Mut(g.ID)
	for _, u := range in.SecurityGroupRules {
		egress, i, err := sgRuleIndex(m, str(u.SecurityGroupRuleId))
		if err != nil {
			return nil, err
		}
		r, err := tx.sgRuleFromRequest(m, egress, u.SecurityGroupRule)
		if err != nil {
			return nil, err
		}
		list := &m.Ingress
		if egress {
			list = &m.Egress
		}
		r.ID, r.Tags = (*list)[i].ID, (*list)[i].Tags
		k := sgRuleKey(&r)
		if slices.ContainsFunc(*list, func(o Rule) bool { return o.ID != r.ID && sgRuleKey(&o) == k }) {
			return nil, errorf(CodeInvalidPermissionDuplicate, "the specified rule \"peer: %s, %s, from port: %d, to port: %d, ALLOW\" already exists", sgPeer(&r), sgProtoLabel(r.Protocol), r.FromPort, r.ToPort)
		}
		(*list)[i] = r
		if v4, v6 := tx.sgWeighed(*list); v4 > sgMaxRules || v6 > sgMaxRules {
			return nil, errorf(CodeRulesPerGroupLimitExceeded, "The maximum number of rules per security group has been reached.")
		}
	}
	return &ec2wire.ModifySecurityGroupRulesOutput{Return: p(true)}, nil
}

// sgUpdateDescriptions sets the descriptions of existing rules of one
// direction, named by permission (the peer's description is the new one; a
// peer without one clears it) or by rule id.
func (tx *Tx) sgUpdateDescriptions(g *SecurityGroup, egress bool, perms []ec2wire.IpPermission, byID []ec2wire.SecurityGroupRuleDescription) error {
	switch {
	case len(perms) > 0 && len(byID) > 0:
		return errorf(CodeInvalidParameterCombination, "The parameter 'SecurityGroupRuleDescriptions' may not be used in combination with 'IpPermissions'")
	case len(perms) == 0 && len(byID) == 0:
		return errorf(CodeMissingParameter, "The request must contain the parameter IpPermissions or SecurityGroupRuleDescriptions")
	}
	m := tx.groups.Mut(g.ID)
	list := &m.Ingress
	if egress {
		list = &m.Egress
	}
	for _, d := range byID {
		e, i, err := sgRuleIndex(m, str(d.SecurityGroupRuleId))
		if err == nil && e != egress {
			err = errorf(CodeSecurityGroupRuleIDNotFound, "The security group rule ID '%s' does not exist", str(d.SecurityGroupRuleId))
		}
		if err != nil {
			return err
		}
		desc, err := sgDescription(d.Description)
		if err != nil {
			return err
		}
		(*list)[i].Description = desc
	}
	if len(perms) == 0 {
		return nil
	}
	rules, err := sgSplit(perms, egress, tx.sgResolver(g))
	if err != nil {
		return err
	}
	for _, r := range rules {
		k := sgRuleKey(&r)
		i := slices.IndexFunc(*list, func(o Rule) bool { return sgRuleKey(&o) == k })
		if i < 0 {
			return errorf(CodeInvalidPermissionNotFound, "The specified rule does not exist in this security group.")
		}
		(*list)[i].Description = r.Description
	}
	return nil
}

// UpdateSecurityGroupRuleDescriptionsIngress changes inbound rules' descriptions.
func (tx *Tx) UpdateSecurityGroupRuleDescriptionsIngress(in *ec2wire.UpdateSecurityGroupRuleDescriptionsIngressInput) (*ec2wire.UpdateSecurityGroupRuleDescriptionsIngressOutput, error) {
	g, err := tx.sgTarget(in.GroupId, in.GroupName)
	if err != nil {
		return nil, err
	}
	if err := tx.sgUpdateDescriptions(g, false, in.IpPermissions, in.SecurityGroupRuleDescriptions); err != nil {
		return nil, err
	}
	return &ec2wire.UpdateSecurityGroupRuleDescriptionsIngressOutput{Return: p(true)}, nil
}

// UpdateSecurityGroupRuleDescriptionsEgress changes outbound rules' descriptions.
func (tx *Tx) UpdateSecurityGroupRuleDescriptionsEgress(in *ec2wire.UpdateSecurityGroupRuleDescriptionsEgressInput) (*ec2wire.UpdateSecurityGroupRuleDescriptionsEgressOutput, error) {
	g, err := tx.sgTarget(in.GroupId, in.GroupName)
	if err != nil {
		return nil, err
	}
	if err := tx.sgUpdateDescriptions(g, true, in.IpPermissions, in.SecurityGroupRuleDescriptions); err != nil {
		return nil, err
	}
	return &ec2wire.UpdateSecurityGroupRuleDescriptionsEgressOutput{Return: p(true)}, nil
}
