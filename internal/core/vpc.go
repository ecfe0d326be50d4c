package core

import (
	"net/netip"

	"github.com/eni-net/eni/internal/ec2wire"
)

// createVPC creates a VPC with its default security group and main route
// table (which the caller may still change).
func (tx *Tx) createVPC(cidr string, isDefault bool, tags Tags) (*VPC, *RouteTable) {
	v := &VPC{
		ID: tx.newID("vpc"), Owner: tx.Account, CidrBlock: cidr, IsDefault: isDefault,
		InstanceTenancy: "default", DhcpOptionsID: tx.defaultDhcpID(), EnableDnsSupport: true,
		EnableDnsHostnames: isDefault, Tags: tags,
	}
	v.CidrAssocs = []CidrAssoc{{ID: tx.newID("vpc-cidr-assoc"), Cidr: cidr, State: "associated"}}
	tx.vpcs.Put(v)
	tx.aclCreateDefault(v)
	tx.groups.Put(&SecurityGroup{
		ID: tx.newID("sg"), Owner: tx.Account, VpcID: v.ID, Name: "default",
		Description: "default VPC security group",
		Ingress:     []Rule{{ID: tx.newID("sgr"), Protocol: "-1", FromPort: -1, ToPort: -1, GroupID: "", GroupOwner: tx.Account}},
		Egress:      []Rule{{ID: tx.newID("sgr"), Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CidrIpv4: "0.0.0.0/0"}},
	})
	// The default group's ingress rule references the group itself.
	for _, g := range tx.groups.over {
		if g != nil && g.VpcID == v.ID && g.Name == "default" {
			g.Ingress[0].GroupID = g.ID
		}
	}
	rtb := &RouteTable{
		ID: tx.newID("rtb"), Owner: tx.Account, VpcID: v.ID,
		Routes:       []Route{{DestinationCidrBlock: cidr, GatewayID: "local", Origin: "CreateRouteTable"}},
		Associations: []RouteTableAssoc{{ID: tx.newID("rtbassoc"), Main: true}},
	}
	tx.rtbs.Put(rtb)
	return v, rtb
}

// checkVPCCidr validates a VPC IPv4 block: /16 to /28.
func checkVPCCidr(cidr string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
	}
	if p.Bits() < 16 || p.Bits() > 28 {
		return netip.Prefix{}, errorf(CodeInvalidVpcRange, "The CIDR '%s' is invalid.", cidr)
	}
	return p.Masked(), nil
}

// CreateVpc creates a VPC.
func (tx *Tx) CreateVpc(in *ec2wire.CreateVpcInput) (*ec2wire.CreateVpcOutput, error) {
	if in.CidrBlock == nil {
		return nil, errorf(CodeMissingParameter, "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
	}
	pfx, err := checkVPCCidr(*in.CidrBlock)
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "vpc")
	if err != nil {
		return nil, err
	}
	if t := str(in.InstanceTenancy); t != "" && t != "default" && t != "dedicated" && t != "host" {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter instanceTenancy is invalid.", t)
	}
	v, _ := tx.createVPC(pfx.String(), false, tags)
	if t := str(in.InstanceTenancy); t != "" {
		v.InstanceTenancy = t
	}
	if boolv(in.AmazonProvidedIpv6CidrBlock) {
		if err := tx.addVPCIpv6(v); err != nil {
			return nil, err
		}
		// The default group of an IPv6 VPC also lets all IPv6 out.
		for id, g := range tx.groups.over {
			if g != nil && g.VpcID == v.ID && g.Name == "default" {
				m := tx.groups.Mut(id)
				m.Egress = append(m.Egress, Rule{ID: tx.newID("sgr"), Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CidrIpv6: "::/0"})
			}
		}
	}
	return &ec2wire.CreateVpcOutput{Vpc: tx.vpcOut(v)}, nil
}

func (tx *Tx) addVPCIpv6(v *VPC) error {
	pool := tx.cfg.Ipv6Pool.Masked()
	for try := 0; try < 1000; try++ {
		var b [4]byte
		_, _ = tx.env.Rand.Read(b[:]) // the injected source does not fail
		a := pool.Addr().As16()
		// Fill bits [pool.Bits(), 56) with randomness.
		n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		for i := pool.Bits(); i < 56; i++ {
			if n&(1<<uint(i-pool.Bits())) != 0 {
				a[i/8] |= 1 << (7 - i%8)
			}
		}
		cand := netip.PrefixFrom(netip.AddrFrom16(a), 56).String()
		taken := false
		tx.vpcs.Each(func(o *VPC) bool {
			for _, as := range o.Ipv6Assocs {
				taken = taken || as.Cidr == cand
			}
			return !taken
		})
		if !taken {
			v.Ipv6Assocs = append(v.Ipv6Assocs, CidrAssoc{ID: tx.newID("vpc-cidr-assoc"), Cidr: cand, State: "associated"})
			if len(v.Ipv6Assocs) == 1 {
				tx.aclVPCGainedIpv6(v.ID)
			}
			return nil
		}
	}
	return errorf(CodeInsufficientFreeAddresses, "No IPv6 CIDR block is available")
}

func (tx *Tx) vpcOut(v *VPC) *ec2wire.Vpc {
	out := &ec2wire.Vpc{
		VpcId: p(v.ID), OwnerId: p(v.Owner), CidrBlock: p(v.CidrBlock), State: p("available"),
		IsDefault: p(v.IsDefault), InstanceTenancy: p(v.InstanceTenancy), DhcpOptionsId: p(v.DhcpOptionsID),
		Tags: tagsOut(v.Tags),
	}
	for _, a := range tx.vpcCidrs(v) {
		out.CidrBlockAssociationSet = append(out.CidrBlockAssociationSet, ec2wire.VpcCidrBlockAssociation{
			AssociationId: p(a.ID), CidrBlock: p(a.Cidr), CidrBlockState: &ec2wire.VpcCidrBlockState{State: p(a.State)},
		})
	}
	for _, a := range tx.vpcIpv6s(v) {
		out.Ipv6CidrBlockAssociationSet = append(out.Ipv6CidrBlockAssociationSet, ec2wire.VpcIpv6CidrBlockAssociation{
			AssociationId: p(a.ID), Ipv6CidrBlock: p(a.Cidr), Ipv6CidrBlockState: &ec2wire.VpcCidrBlockState{State: p(a.State)},
			NetworkBorderGroup: p(tx.Region), Ipv6Pool: p("Amazon"),
		})
	}
	return out
}

// vpcFilters are DescribeVpcs' filters; the association filters see the
// associations DescribeVpcs shows (recently disassociated ones too).
func (tx *Tx) vpcFilters() filterSet[VPC] {
	each := func(list func(v *VPC) []CidrAssoc, f func(a CidrAssoc) string) func(v *VPC) []string {
		return func(v *VPC) []string {
			var out []string
			for _, a := range list(v) {
				out = append(out, f(a))
			}
			return out
		}
	}
	cidr, id, state := func(a CidrAssoc) string { return a.Cidr }, func(a CidrAssoc) string { return a.ID }, func(a CidrAssoc) string { return a.State }
	fs := filterSet[VPC]{
		"vpc-id":                                func(v *VPC) []string { return []string{v.ID} },
		"cidr":                                  func(v *VPC) []string { return []string{v.CidrBlock} },
		"cidr-block":                            func(v *VPC) []string { return []string{v.CidrBlock} },
		"is-default":                            func(v *VPC) []string { return []string{bstr(v.IsDefault)} },
		"state":                                 func(v *VPC) []string { return []string{"available"} },
		"owner-id":                              func(v *VPC) []string { return []string{v.Owner} },
		"dhcp-options-id":                       func(v *VPC) []string { return []string{v.DhcpOptionsID} },
		"instance-tenancy":                      func(v *VPC) []string { return []string{v.InstanceTenancy} },
		"cidr-block-association.cidr-block":     each(tx.vpcCidrs, cidr),
		"cidr-block-association.association-id": each(tx.vpcCidrs, id),
		"cidr-block-association.state":          each(tx.vpcCidrs, state),
		"ipv6-cidr-block-association.ipv6-cidr-block": each(tx.vpcIpv6s, cidr),
		"ipv6-cidr-block-association.association-id":  each(tx.vpcIpv6s, id),
		"ipv6-cidr-block-association.state":           each(tx.vpcIpv6s, state),
		"ipv6-cidr-block-association.ipv6-pool":       each(tx.vpcIpv6s, func(CidrAssoc) string { return "Amazon" }),
	}
	for legacy, name := range vpcLegacyFilters {
		fs[legacy] = fs[name]
	}
	return fs
}

// vpcLegacyFilters are the names from EC2's first VPC API (its XML element
// names) that AWS still accepts beside the documented ones: Ansible's
// ec2_instance finds the default VPC with isDefault.
var vpcLegacyFilters = map[string]string{
	"isDefault": "is-default", "vpcId": "vpc-id", "cidrBlock": "cidr-block", "dhcpOptionsId": "dhcp-options-id",
}

// DescribeVpcs lists VPCs.
func (tx *Tx) DescribeVpcs(in *ec2wire.DescribeVpcsInput) (*ec2wire.DescribeVpcsOutput, error) {
	m, err := newMatcher(tx.vpcFilters(), func(v *VPC) Tags { return v.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.VpcIds {
		if _, err := tx.getVPC(id); err != nil {
			return nil, err
		}
	}
	items := tx.vpcs.Sorted(func(v *VPC) bool {
		return v.Owner == tx.Account && (len(in.VpcIds) == 0 || contains(in.VpcIds, v.ID)) && m.match(v)
	})
	page, next, err := paginate(items, func(v *VPC) string { return v.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeVpcsOutput{NextToken: next}
	for _, v := range page {
		out.Vpcs = append(out.Vpcs, *tx.vpcOut(v))
	}
	return out, nil
}

// DeleteVpc deletes a VPC that has nothing left in it but its default
// security group and main route table.
func (tx *Tx) DeleteVpc(in *ec2wire.DeleteVpcInput) (*ec2wire.DeleteVpcOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	// AWS's message names no dependency (Terraform and Ansible users see
	// exactly this); what and id only say which check found one.
	dep := func(what, id string) error {
		return errorf(CodeDependencyViolation, "The vpc '%s' has dependencies and cannot be deleted.", v.ID)
	}
	var derr error
	tx.subnets.Each(func(s *Subnet) bool {
		if s.VpcID == v.ID {
			derr = dep("subnet", s.ID)
		}
		return derr == nil
	})
	if derr != nil {
		return nil, derr
	}
	tx.igws.Each(func(g *InternetGateway) bool {
		for _, a := range g.Attachments {
			if a.VpcID == v.ID {
				derr = dep("internet gateway", g.ID)
			}
		}
		return derr == nil
	})
	if derr != nil {
		return nil, derr
	}
	if id := tx.natInVPC(v.ID); id != "" {
		return nil, dep("NAT gateway", id)
	}
	if id := tx.eigwInVPC(v.ID); id != "" {
		return nil, dep("egress-only internet gateway", id)
	}
	if id := tx.vpceInVPC(v.ID); id != "" {
		return nil, dep("VPC endpoint", id)
	}
	if id := tx.pcxOfVPC(v.ID); id != "" {
		return nil, dep("VPC peering connection", id)
	}
	if id := tx.vgwOfVPC(v.ID); id != "" {
		return nil, dep("VPN gateway", id)
	}
	tx.enis.Each(func(e *ENI) bool {
		if e.VpcID == v.ID {
			derr = dep("network interface", e.ID)
		}
		return derr == nil
	})
	if derr != nil {
		return nil, derr
	}
	if id := tx.aclBlockingVPC(v.ID); id != "" {
		return nil, dep("network ACL", id)
	}
	var groups, rtbs []string
	tx.groups.Each(func(g *SecurityGroup) bool {
		if g.VpcID == v.ID {
			if g.Name != "default" {
				derr = dep("security group", g.ID)
			}
			groups = append(groups, g.ID)
		}
		return derr == nil
	})
	if derr != nil {
		return nil, derr
	}
	tx.rtbs.Each(func(r *RouteTable) bool {
		if r.VpcID == v.ID {
			if !isMain(r) {
				derr = dep("route table", r.ID)
			}
			rtbs = append(rtbs, r.ID)
		}
		return derr == nil
	})
	if derr != nil {
		return nil, derr
	}
	for _, id := range groups {
		tx.groups.Delete(id)
	}
	for _, id := range rtbs {
		tx.rtbs.Delete(id)
	}
	tx.aclDeleteVPC(v.ID)
	tx.pcxVPCGone(v.ID)
	tx.vpcs.Delete(v.ID)
	return &ec2wire.DeleteVpcOutput{Return: p(true)}, nil
}

func isMain(r *RouteTable) bool {
	for _, a := range r.Associations {
		if a.Main {
			return true
		}
	}
	return false
}

// AssociateVpcCidrBlock adds an Amazon-provided IPv6 /56 or a secondary IPv4 block.
func (tx *Tx) AssociateVpcCidrBlock(in *ec2wire.AssociateVpcCidrBlockInput) (*ec2wire.AssociateVpcCidrBlockOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	v = tx.vpcs.Mut(v.ID)
	out := &ec2wire.AssociateVpcCidrBlockOutput{VpcId: p(v.ID)}
	switch {
	case boolv(in.AmazonProvidedIpv6CidrBlock) && in.CidrBlock != nil:
		return nil, errorf(CodeInvalidParameterCombination, "Only one of cidrBlock and amazonProvidedIpv6CidrBlock may be given.")
	case boolv(in.AmazonProvidedIpv6CidrBlock):
		if len(v.Ipv6Assocs) >= 5 {
			return nil, errorf(CodeInvalidParameterValue, "The maximum number of IPv6 CIDR blocks for vpc %s has been reached.", v.ID)
		}
		if err := tx.addVPCIpv6(v); err != nil {
			return nil, err
		}
		a := v.Ipv6Assocs[len(v.Ipv6Assocs)-1]
		out.Ipv6CidrBlockAssociation = &ec2wire.VpcIpv6CidrBlockAssociation{
			AssociationId: p(a.ID), Ipv6CidrBlock: p(a.Cidr), Ipv6CidrBlockState: &ec2wire.VpcCidrBlockState{State: p("associating")},
			NetworkBorderGroup: p(tx.Region), Ipv6Pool: p("Amazon"),
		}
	case in.CidrBlock != nil:
		pfx, err := checkVPCCidr(*in.CidrBlock)
		if err != nil {
			return nil, err
		}
		if len(v.CidrAssocs) >= 5 {
			return nil, errorf("CidrLimitExceeded", "This network '%s' has met its maximum number of allowed CIDRs: 5", v.ID)
		}
		for _, a := range v.CidrAssocs {
			if netip.MustParsePrefix(a.Cidr).Overlaps(pfx) {
				return nil, errorf(CodeInvalidVpcRange, "The CIDR '%s' conflicts with another CIDR of the VPC.", pfx)
			}
		}
		if err := tx.vpcCidrRouteConflict(v, pfx); err != nil {
			return nil, err
		}
		a := CidrAssoc{ID: tx.newID("vpc-cidr-assoc"), Cidr: pfx.String(), State: "associated"}
		v.CidrAssocs = append(v.CidrAssocs, a)
		out.CidrBlockAssociation = &ec2wire.VpcCidrBlockAssociation{
			AssociationId: p(a.ID), CidrBlock: p(a.Cidr), CidrBlockState: &ec2wire.VpcCidrBlockState{State: p("associating")},
		}
		// The main route table gains a local route for the new block.
		tx.rtbs.Each(func(r *RouteTable) bool {
			if r.VpcID == v.ID {
				m := tx.rtbs.Mut(r.ID)
				m.Routes = append(m.Routes, Route{DestinationCidrBlock: a.Cidr, GatewayID: "local", Origin: "CreateRouteTable"})
			}
			return true
		})
	default:
		return nil, errorf(CodeMissingParameter, "Either cidrBlock or amazonProvidedIpv6CidrBlock must be given.")
	}
	return out, nil
}

// DisassociateVpcCidrBlock removes a secondary IPv4 block or an IPv6 block.
func (tx *Tx) DisassociateVpcCidrBlock(in *ec2wire.DisassociateVpcCidrBlockInput) (*ec2wire.DisassociateVpcCidrBlockOutput, error) {
	id := str(in.AssociationId)
	var found *VPC
	tx.vpcs.Each(func(v *VPC) bool {
		if v.Owner != tx.Account {
			return true
		}
		for _, a := range append(append([]CidrAssoc{}, v.CidrAssocs...), v.Ipv6Assocs...) {
			if a.ID == id {
				found = v
			}
		}
		return found == nil
	})
	if found == nil {
		return nil, errorf(CodeInvalidCidrBlockNotFound, "The vpc CIDR block association ID '%s' does not exist", id)
	}
	v := tx.vpcs.Mut(found.ID)
	out := &ec2wire.DisassociateVpcCidrBlockOutput{VpcId: p(v.ID)}
	for i, a := range v.CidrAssocs {
		if a.ID != id {
			continue
		}
		if i == 0 {
			return nil, errorf(CodeOperationNotPermitted, "The vpc CIDR block with association ID %s may not be disassociated. It is the primary IPv4 CIDR block of the VPC", id)
		}
		pfx := netip.MustParsePrefix(a.Cidr)
		var derr error
		tx.subnets.Each(func(s *Subnet) bool {
			if s.VpcID == v.ID && pfx.Overlaps(subnetPrefix(s)) {
				derr = errorf(CodeDependencyViolation, "The vpc CIDR block '%s' has dependencies (subnet %s)", a.Cidr, s.ID)
			}
			return derr == nil
		})
		if derr != nil {
			return nil, derr
		}
		v.CidrAssocs = append(v.CidrAssocs[:i:i], v.CidrAssocs[i+1:]...)
		tx.cidrGone(v, a, false)
		out.CidrBlockAssociation = &ec2wire.VpcCidrBlockAssociation{AssociationId: p(a.ID), CidrBlock: p(a.Cidr), CidrBlockState: &ec2wire.VpcCidrBlockState{State: p("disassociating")}}
		return out, nil
	}
	for i, a := range v.Ipv6Assocs {
		if a.ID != id {
			continue
		}
		var derr error
		tx.subnets.Each(func(s *Subnet) bool {
			if s.VpcID == v.ID && s.Ipv6CidrBlock != "" {
				derr = errorf(CodeDependencyViolation, "The vpc IPv6 CIDR block '%s' has dependencies (subnet %s)", a.Cidr, s.ID)
			}
			return derr == nil
		})
		if derr != nil {
			return nil, derr
		}
		v.Ipv6Assocs = append(v.Ipv6Assocs[:i:i], v.Ipv6Assocs[i+1:]...)
		tx.cidrGone(v, a, true)
		out.Ipv6CidrBlockAssociation = &ec2wire.VpcIpv6CidrBlockAssociation{AssociationId: p(a.ID), Ipv6CidrBlock: p(a.Cidr), Ipv6CidrBlockState: &ec2wire.VpcCidrBlockState{State: p("disassociating")}}
	}
	return out, nil
}

// DescribeVpcAttribute answers one of the VPC's three attributes.
func (tx *Tx) DescribeVpcAttribute(in *ec2wire.DescribeVpcAttributeInput) (*ec2wire.DescribeVpcAttributeOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeVpcAttributeOutput{VpcId: p(v.ID)}
	switch str(in.Attribute) {
	case "enableDnsSupport":
		out.EnableDnsSupport = &ec2wire.AttributeBooleanValue{Value: p(v.EnableDnsSupport)}
	case "enableDnsHostnames":
		out.EnableDnsHostnames = &ec2wire.AttributeBooleanValue{Value: p(v.EnableDnsHostnames)}
	case "enableNetworkAddressUsageMetrics":
		out.EnableNetworkAddressUsageMetrics = &ec2wire.AttributeBooleanValue{Value: p(v.EnableNAUMetrics)}
	default:
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter attribute is invalid.", str(in.Attribute))
	}
	return out, nil
}

// ModifyVpcAttribute sets one attribute: DNS support, DNS hostnames or
// Network Address Usage metrics.
func (tx *Tx) ModifyVpcAttribute(in *ec2wire.ModifyVpcAttributeInput) (*ec2wire.ModifyVpcAttributeOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	n := 0
	for _, a := range []*ec2wire.AttributeBooleanValue{in.EnableDnsSupport, in.EnableDnsHostnames, in.EnableNetworkAddressUsageMetrics} {
		if a != nil {
			n++
		}
	}
	if n != 1 {
		return nil, errorf(CodeInvalidParameterCombination, "Exactly one attribute must be specified.")
	}
	v = tx.vpcs.Mut(v.ID)
	if in.EnableDnsSupport != nil {
		v.EnableDnsSupport = boolv(in.EnableDnsSupport.Value)
	}
	if in.EnableDnsHostnames != nil {
		v.EnableDnsHostnames = boolv(in.EnableDnsHostnames.Value)
	}
	if in.EnableNetworkAddressUsageMetrics != nil {
		v.EnableNAUMetrics = boolv(in.EnableNetworkAddressUsageMetrics.Value)
	}
	return &ec2wire.ModifyVpcAttributeOutput{Return: p(true)}, nil
}
