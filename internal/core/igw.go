package core

import "github.com/eni-net/eni/internal/ec2wire"

// This file belongs to the subnets / internet gateways / route tables work
// package: internet gateways.

// igwAttachedTo reports whether the gateway is attached to the VPC.
func igwAttachedTo(g *InternetGateway, vpcID string) bool {
	for _, a := range g.Attachments {
		if a.VpcID == vpcID {
			return true
		}
	}
	return false
}

// igwOfVPC returns the internet gateway attached to the VPC, or nil.
func (tx *Tx) igwOfVPC(vpcID string) *InternetGateway {
	var found *InternetGateway
	tx.igws.Each(func(g *InternetGateway) bool {
		if igwAttachedTo(g, vpcID) {
			found = g
		}
		return found == nil
	})
	return found
}

// igwVPCHasPublicIPs reports whether a public IPv4 is mapped to an ENI of the
// VPC: an Elastic IP associated with it, or an auto-assigned public address.
func (tx *Tx) igwVPCHasPublicIPs(vpcID string) bool {
	found := false
	tx.addresses.Each(func(a *Address) bool {
		if a.ENIID != "" {
			if e := tx.enis.Get(a.ENIID); e != nil && e.VpcID == vpcID {
				found = true
			}
		}
		return !found
	})
	if found {
		return true
	}
	tx.enis.Each(func(e *ENI) bool {
		found = e.VpcID == vpcID && e.PublicIP != ""
		return !found
	})
	return found
}

func (tx *Tx) igwOut(g *InternetGateway) *ec2wire.InternetGateway {
	out := &ec2wire.InternetGateway{InternetGatewayId: p(g.ID), OwnerId: p(g.Owner), Tags: tagsOut(g.Tags)}
	for _, a := range g.Attachments {
		out.Attachments = append(out.Attachments, ec2wire.InternetGatewayAttachment{VpcId: p(a.VpcID), State: p(a.State)})
	}
	return out
}

// CreateInternetGateway creates a detached internet gateway.
func (tx *Tx) CreateInternetGateway(in *ec2wire.CreateInternetGatewayInput) (*ec2wire.CreateInternetGatewayOutput, error) {
	tags, err := tagSpecs(in.TagSpecifications, "internet-gateway")
	if err != nil {
		return nil, err
	}
	g := &InternetGateway{ID: tx.newID("igw"), Owner: tx.Account, Tags: tags}
	tx.igws.Put(g)
	return &ec2wire.CreateInternetGatewayOutput{InternetGateway: tx.igwOut(g)}, nil
}

// AttachInternetGateway attaches a gateway to a VPC: a gateway serves one
// VPC and a VPC has at most one gateway.
func (tx *Tx) AttachInternetGateway(in *ec2wire.AttachInternetGatewayInput) (*ec2wire.AttachInternetGatewayOutput, error) {
	g, err := tx.getIGW(str(in.InternetGatewayId))
	if err != nil {
		return nil, err
	}
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	if len(g.Attachments) > 0 {
		return nil, errorf(CodeResourceAlreadyAssociated, "resource %s is already attached to network %s", g.ID, g.Attachments[0].VpcID)
	}
	if o := tx.igwOfVPC(v.ID); o != nil {
		return nil, errorf(CodeResourceAlreadyAssociated, "Network %s already has an internet gateway attached", v.ID)
	}
	g = tx.igws.Mut(g.ID)
	g.Attachments = append(g.Attachments, IGWAttachment{VpcID: v.ID, State: "available"})
	return &ec2wire.AttachInternetGatewayOutput{Return: p(true)}, nil
}

// DetachInternetGateway detaches a gateway from its VPC once no public
// address is mapped in the VPC.
func (tx *Tx) DetachInternetGateway(in *ec2wire.DetachInternetGatewayInput) (*ec2wire.DetachInternetGatewayOutput, error) {
	g, err := tx.getIGW(str(in.InternetGatewayId))
	if err != nil {
		return nil, err
	}
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	if !igwAttachedTo(g, v.ID) {
		return nil, errorf(CodeGatewayNotAttached, "resource %s is not attached to network %s", g.ID, v.ID)
	}
	if tx.igwVPCHasPublicIPs(v.ID) {
		return nil, errorf(CodeDependencyViolation, "Network %s has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.", v.ID)
	}
	tx.rtbForgetGateway(g.ID)
	g = tx.igws.Mut(g.ID)
	for i, a := range g.Attachments {
		if a.VpcID == v.ID {
			g.Attachments = append(g.Attachments[:i:i], g.Attachments[i+1:]...)
			break
		}
	}
	return &ec2wire.DetachInternetGatewayOutput{Return: p(true)}, nil
}

// DeleteInternetGateway deletes a detached gateway. Routes that point at it
// stay, as blackholes.
func (tx *Tx) DeleteInternetGateway(in *ec2wire.DeleteInternetGatewayInput) (*ec2wire.DeleteInternetGatewayOutput, error) {
	g, err := tx.getIGW(str(in.InternetGatewayId))
	if err != nil {
		return nil, err
	}
	if len(g.Attachments) > 0 {
		return nil, errorf(CodeDependencyViolation, "The internetGateway '%s' has dependencies and cannot be deleted.", g.ID)
	}
	tx.igws.Delete(g.ID)
	return &ec2wire.DeleteInternetGatewayOutput{Return: p(true)}, nil
}

var igwFilters = filterSet[InternetGateway]{
	"internet-gateway-id": func(g *InternetGateway) []string { return []string{g.ID} },
	"owner-id":            func(g *InternetGateway) []string { return []string{g.Owner} },
	"attachment.state": func(g *InternetGateway) []string {
		var out []string
		for _, a := range g.Attachments {
			out = append(out, a.State)
		}
		return out
	},
	"attachment.vpc-id": func(g *InternetGateway) []string {
		var out []string
		for _, a := range g.Attachments {
			out = append(out, a.VpcID)
		}
		return out
	},
}

// DescribeInternetGateways lists internet gateways.
func (tx *Tx) DescribeInternetGateways(in *ec2wire.DescribeInternetGatewaysInput) (*ec2wire.DescribeInternetGatewaysOutput, error) {
	m, err := newMatcher(igwFilters, func(g *InternetGateway) Tags { return g.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.InternetGatewayIds {
		if _, err := tx.getIGW(id); err != nil {
			return nil, err
		}
	}
	items := tx.igws.Sorted(func(g *InternetGateway) bool {
		return g.Owner == tx.Account && (len(in.InternetGatewayIds) == 0 || contains(in.InternetGatewayIds, g.ID)) && m.match(g)
	})
	page, next, err := paginate(items, func(g *InternetGateway) string { return g.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeInternetGatewaysOutput{NextToken: next}
	for _, g := range page {
		out.InternetGateways = append(out.InternetGateways, *tx.igwOut(g))
	}
	return out, nil
}
