package core

import "github.com/eni-net/eni/internal/ec2wire"

// Security groups across VPC peering: a rule may reference a group of a VPC
// peered by an active connection (sgResolver). Such a reference shows the
// peer group's VPC and the connection; once the connection is no longer
// active (or the group is gone) the rule is stale.

// pcxLatestBetween returns the most recently requested connection joining
// VPCs a and b, whatever its status, or nil.
func (tx *Tx) pcxLatestBetween(a, b string) *PeeringConnection {
	var found *PeeringConnection
	tx.pcx().Each(func(c *PeeringConnection) bool {
		if (c.Requester.VpcID == a && c.Accepter.VpcID == b) || (c.Requester.VpcID == b && c.Accepter.VpcID == a) {
			if found == nil || c.CreatedAt.After(found.CreatedAt) || (c.CreatedAt.Equal(found.CreatedAt) && c.ID > found.ID) {
				found = c
			}
		}
		return true
	})
	return found
}

// sgPeerPair completes a group pair of a rule of group g that references a
// group of another VPC: its VPC, the connection and the connection's
// status. It reports whether the reference is stale (the group gone, or no
// active connection between the VPCs).
func (tx *Tx) sgPeerPair(g *SecurityGroup, pair *ec2wire.UserIdGroupPair) bool {
	ref := tx.groups.Get(str(pair.GroupId))
	if ref == nil {
		return true
	}
	if ref.VpcID == g.VpcID {
		return false
	}
	pair.VpcId = p(ref.VpcID)
	c := tx.pcxLatestBetween(g.VpcID, ref.VpcID)
	if c == nil {
		return true
	}
	code, _ := tx.pcxStatus(c)
	pair.VpcPeeringConnectionId, pair.PeeringStatus = p(c.ID), p(code)
	return code != pcxActive
}

// sgPeerPerms completes the group pairs of g's rendered permissions that
// reference groups of peered VPCs (DescribeSecurityGroups).
func (tx *Tx) sgPeerPerms(g *SecurityGroup, perms []ec2wire.IpPermission) []ec2wire.IpPermission {
	for i := range perms {
		for j := range perms[i].UserIdGroupPairs {
			tx.sgPeerPair(g, &perms[i].UserIdGroupPairs[j])
		}
	}
	return perms
}

// DescribeSecurityGroupReferences lists, for each of the caller's groups,
// the VPCs peered with its VPC whose groups reference it, and the
// connection.
func (tx *Tx) DescribeSecurityGroupReferences(in *ec2wire.DescribeSecurityGroupReferencesInput) (*ec2wire.DescribeSecurityGroupReferencesOutput, error) {
	if len(in.GroupId) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter groupId")
	}
	out := &ec2wire.DescribeSecurityGroupReferencesOutput{}
	for _, id := range in.GroupId {
		g, err := tx.getGroup(id)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, o := range tx.groups.Sorted(func(o *SecurityGroup) bool { return o.VpcID != g.VpcID }) {
			pcx := tx.pcxBetween(o.VpcID, g.VpcID)
			if pcx == "" || seen[o.VpcID] || !sgReferences(o, g.ID) {
				continue
			}
			seen[o.VpcID] = true
			out.SecurityGroupReferenceSet = append(out.SecurityGroupReferenceSet, ec2wire.SecurityGroupReference{
				GroupId: p(g.ID), ReferencingVpcId: p(o.VpcID), VpcPeeringConnectionId: p(pcx)})
		}
	}
	return out, nil
}

// sgReferences reports whether a rule of o references group id.
func sgReferences(o *SecurityGroup, id string) bool {
	for _, rules := range [][]Rule{o.Ingress, o.Egress} {
		for _, r := range rules {
			if r.GroupID == id {
				return true
			}
		}
	}
	return false
}

// sgStalePerms returns the stale rules among rules of group g.
func (tx *Tx) sgStalePerms(g *SecurityGroup, rules []Rule) []ec2wire.StaleIpPermission {
	var out []ec2wire.StaleIpPermission
	for _, r := range rules {
		if r.GroupID == "" {
			continue
		}
		pair := ec2wire.UserIdGroupPair{GroupId: p(r.GroupID), UserId: p(r.GroupOwner)}
		if r.Description != "" {
			pair.Description = p(r.Description)
		}
		if !tx.sgPeerPair(g, &pair) {
			continue
		}
		sp := ec2wire.StaleIpPermission{IpProtocol: p(r.Protocol), UserIdGroupPairs: []ec2wire.UserIdGroupPair{pair}}
		if sgHasPorts(r.Protocol) {
			sp.FromPort, sp.ToPort = p(r.FromPort), p(r.ToPort)
		}
		out = append(out, sp)
	}
	return out
}

// DescribeStaleSecurityGroups lists the groups of a VPC with stale rules:
// rules that reference a group of a VPC no longer peered (or a group gone).
func (tx *Tx) DescribeStaleSecurityGroups(in *ec2wire.DescribeStaleSecurityGroupsInput) (*ec2wire.DescribeStaleSecurityGroupsOutput, error) {
	if in.VpcId == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter vpcId")
	}
	v, err := tx.getVPC(*in.VpcId)
	if err != nil {
		return nil, err
	}
	var stale []*ec2wire.StaleSecurityGroup
	for _, g := range tx.groups.Sorted(func(g *SecurityGroup) bool { return g.VpcID == v.ID && g.Owner == tx.Account }) {
		sg := &ec2wire.StaleSecurityGroup{GroupId: p(g.ID), GroupName: p(g.Name), Description: p(g.Description), VpcId: p(g.VpcID),
			StaleIpPermissions: tx.sgStalePerms(g, g.Ingress), StaleIpPermissionsEgress: tx.sgStalePerms(g, g.Egress)}
		if len(sg.StaleIpPermissions)+len(sg.StaleIpPermissionsEgress) > 0 {
			stale = append(stale, sg)
		}
	}
	page, next, err := paginate(stale, func(s *ec2wire.StaleSecurityGroup) string { return *s.GroupId }, in.MaxResults, in.NextToken, 5, 255)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeStaleSecurityGroupsOutput{NextToken: next}
	for _, s := range page {
		out.StaleSecurityGroupSet = append(out.StaleSecurityGroupSet, *s)
	}
	return out, nil
}

// sgRevokeResolver resolves the group peers of rules revoked from g: as
// sgResolver, and also a group that a stale rule of g references (of a VPC
// no longer peered, or deleted).
func (tx *Tx) sgRevokeResolver(g *SecurityGroup) sgPeerResolver {
	resolve := tx.sgResolver(g)
	return func(pr ec2wire.UserIdGroupPair) (string, string, error) {
		id, owner, err := resolve(pr)
		if err == nil || pr.GroupId == nil {
			return id, owner, err
		}
		for _, rules := range [][]Rule{g.Ingress, g.Egress} {
			for _, r := range rules {
				if r.GroupID == *pr.GroupId && (pr.UserId == nil || *pr.UserId == r.GroupOwner) {
					return r.GroupID, r.GroupOwner, nil
				}
			}
		}
		return id, owner, err
	}
}
