package core

import (
	"net/netip"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Subnet IPv6 CIDR blocks: AssociateSubnetCidrBlock gives a subnet one /64
// of its VPC's IPv6 blocks (a subnet has at most one), and
// DisassociateSubnetCidrBlock takes it away once no interface of the subnet
// holds an IPv6 address or prefix. As for VPC blocks (vpccidr.go), the reply
// says associating / disassociating, the change is in effect at once, and a
// removed block is shown as "disassociated" for CidrGoneRetention.

// subnetIpv6s are the subnet's IPv6 associations as DescribeSubnets shows them.
func (tx *Tx) subnetIpv6s(s *Subnet) []CidrAssoc {
	var out []CidrAssoc
	if s.Ipv6CidrBlock != "" {
		out = append(out, CidrAssoc{ID: s.Ipv6AssocID, Cidr: s.Ipv6CidrBlock, State: "associated"})
	}
	return append(out, cidrGoneVisible(s.Ipv6Gone, tx.now)...)
}

func subnetIpv6AssocOut(a CidrAssoc, state string) *ec2wire.SubnetIpv6CidrBlockAssociation {
	return &ec2wire.SubnetIpv6CidrBlockAssociation{AssociationId: p(a.ID), Ipv6CidrBlock: p(a.Cidr),
		Ipv6CidrBlockState: &ec2wire.SubnetCidrBlockState{State: p(state)}}
}

// AssociateSubnetCidrBlock associates an IPv6 /64 of the VPC with a subnet.
func (tx *Tx) AssociateSubnetCidrBlock(in *ec2wire.AssociateSubnetCidrBlockInput) (*ec2wire.AssociateSubnetCidrBlockOutput, error) {
	s, err := tx.getSubnet(str(in.SubnetId))
	if err != nil {
		return nil, err
	}
	if in.Ipv6CidrBlock == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter ipv6CidrBlock")
	}
	if s.Ipv6CidrBlock != "" {
		return nil, errorf(CodeInvalidParameterValue, "The subnet %s already has an IPv6 CIDR block (%s); a subnet can have only one.", s.ID, s.Ipv6CidrBlock)
	}
	pfx, err := tx.subnetCheckIpv6(tx.vpcs.Get(s.VpcID), *in.Ipv6CidrBlock)
	if err != nil {
		return nil, err
	}
	m := tx.subnets.Mut(s.ID)
	m.Ipv6CidrBlock, m.Ipv6AssocID = pfx.String(), tx.newID("subnet-cidr-assoc")
	a := CidrAssoc{ID: m.Ipv6AssocID, Cidr: m.Ipv6CidrBlock}
	return &ec2wire.AssociateSubnetCidrBlockOutput{SubnetId: p(s.ID), Ipv6CidrBlockAssociation: subnetIpv6AssocOut(a, "associating")}, nil
}

// subnetIpv6InUse returns an interface of the subnet holding an IPv6
// address or prefix, or "".
func (tx *Tx) subnetIpv6InUse(subnetID string) string {
	for _, e := range tx.enisOfSubnet(subnetID) {
		if len(e.IPv6) > 0 || len(e.IPv6Prefixes) > 0 {
			return e.ID
		}
	}
	return ""
}

// DisassociateSubnetCidrBlock removes a subnet's IPv6 block.
func (tx *Tx) DisassociateSubnetCidrBlock(in *ec2wire.DisassociateSubnetCidrBlockInput) (*ec2wire.DisassociateSubnetCidrBlockOutput, error) {
	id := str(in.AssociationId)
	var found *Subnet
	tx.subnets.Each(func(s *Subnet) bool {
		if s.Owner == tx.Account && s.Ipv6AssocID == id && s.Ipv6CidrBlock != "" {
			found = s
		}
		return found == nil
	})
	if found == nil {
		return nil, errorf(CodeInvalidSubnetCidrAssocNotFound, "The subnet CIDR block with association ID '%s' does not exist", id)
	}
	if found.Ipv6Native {
		return nil, errorf(CodeOperationNotPermitted, "The IPv6 CIDR block %s is the only CIDR block of IPv6-only subnet %s and cannot be disassociated.", found.Ipv6CidrBlock, found.ID)
	}
	if e := tx.subnetIpv6InUse(found.ID); e != "" {
		return nil, errorf(CodeDependencyViolation, "The subnet CIDR block '%s' has dependencies (network interface %s holds IPv6 addresses of it).", found.Ipv6CidrBlock, e)
	}
	m := tx.subnets.Mut(found.ID)
	a := CidrAssoc{ID: m.Ipv6AssocID, Cidr: m.Ipv6CidrBlock, State: "disassociated", GoneAt: tx.now}
	m.Ipv6Gone = append(cidrGoneVisible(m.Ipv6Gone, tx.now), a)
	m.Ipv6CidrBlock, m.Ipv6AssocID = "", ""
	// What needs an IPv6 block is off without one.
	m.AssignIpv6AddressOnCreation, m.EnableDnsAAAARecord, m.EnableDns64 = false, false, false
	return &ec2wire.DisassociateSubnetCidrBlockOutput{SubnetId: p(m.ID), Ipv6CidrBlockAssociation: subnetIpv6AssocOut(a, "disassociating")}, nil
}

// vpcCidrRouteConflict returns an error when a new block of VPC v would be
// equal to or larger than the destination of a route in one of its route
// tables (AWS's restriction: such a block would capture the route's
// traffic).
func (tx *Tx) vpcCidrRouteConflict(v *VPC, pfx netip.Prefix) error {
	var cerr error
	tx.rtbs.Each(func(r *RouteTable) bool {
		if r.VpcID != v.ID {
			return true
		}
		for _, rt := range r.Routes {
			d, err := netip.ParsePrefix(rt.DestinationCidrBlock)
			if rt.GatewayID == "local" || err != nil || !subnetWithin(d, pfx) {
				continue
			}
			cerr = errorf(CodeInvalidVpcRange, "The CIDR '%s' is invalid: it is equal to or larger than the destination %s of a route in route table %s.", pfx, d, r.ID)
			return false
		}
		return true
	})
	return cerr
}
