package core

// Route table associations beyond a subnet's: the main association and its
// moves (ReplaceRouteTableAssociation), gateway route tables (an internet
// gateway's edge association, AssociateRouteTable with GatewayId) and the
// replaced targets of local routes (ReplaceRoute of a local route).

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// rtbGatewayAssoc returns the table a gateway is associated with, or nil.
func (tx *Tx) rtbGatewayAssoc(gatewayID string) *RouteTable {
	var out *RouteTable
	tx.rtbs.Each(func(r *RouteTable) bool {
		for _, a := range r.Associations {
			if a.GatewayID == gatewayID {
				out = r
			}
		}
		return out == nil
	})
	return out
}

// rtbEdgeAssociated reports whether a table is a gateway route table.
func rtbEdgeAssociated(r *RouteTable) bool {
	return slices.ContainsFunc(r.Associations, func(a RouteTableAssoc) bool { return a.GatewayID != "" })
}

// rtbEdgeRoute checks one route of a gateway route table against AWS's rules:
// besides the local routes, only routes to a network interface (a middlebox
// appliance) whose destination lies inside the VPC.
func (tx *Tx) rtbEdgeRoute(r *RouteTable, rt Route) error {
	if rt.GatewayID == "local" {
		return nil
	}
	dest := routeDest(rt)
	if rt.NetworkInterfaceID == "" || rt.InstanceID != "" {
		return errorf(CodeInvalidParameterValue, "The route %s in route table %s has a target that a gateway route table does not support: only a network interface (or a Gateway Load Balancer endpoint) may be the target of a route of a gateway route table.", dest, r.ID)
	}
	v := tx.vpcs.Get(r.VpcID)
	pfx, err := netip.ParsePrefix(dest)
	inside := false
	if v != nil && err == nil {
		for _, l := range rtbLocalRoutes(v) {
			if b, err := netip.ParsePrefix(routeDest(l)); err == nil && subnetWithin(pfx, b) {
				inside = true
			}
		}
	}
	if !inside {
		return errorf(CodeInvalidParameterValue, "The destination %s of a route in route table %s is outside the VPC's CIDR blocks; a gateway route table may only route destinations inside its VPC.", dest, r.ID)
	}
	return nil
}

// rtbEdgeCheck applies the gateway route table rules to a route added to r.
func (tx *Tx) rtbEdgeCheck(r *RouteTable, rt Route) error {
	if !rtbEdgeAssociated(r) || rt.Local {
		return nil
	}
	return tx.rtbEdgeRoute(r, rt)
}

// rtbEdgeReady checks every route of a table that is to become a gateway
// route table.
func (tx *Tx) rtbEdgeReady(r *RouteTable) error {
	for _, rt := range tx.rtbRoutes(r) {
		if rt.Local {
			continue
		}
		if err := tx.rtbEdgeRoute(r, rt); err != nil {
			return err
		}
	}
	return nil
}

// rtbAssociateGateway makes table r the gateway route table of an internet
// gateway attached to its VPC. A gateway has at most one.
func (tx *Tx) rtbAssociateGateway(r *RouteTable, gatewayID string) (*ec2wire.AssociateRouteTableOutput, error) {
	if err := tx.rtbGatewayOfVPC(r, gatewayID); err != nil {
		return nil, err
	}
	if o := tx.rtbGatewayAssoc(gatewayID); o != nil {
		return nil, errorf(CodeResourceAlreadyAssociated, "the specified association for route table %s conflicts with an existing association", r.ID)
	}
	if err := tx.rtbEdgeReady(r); err != nil {
		return nil, err
	}
	a := RouteTableAssoc{ID: tx.newID("rtbassoc"), GatewayID: gatewayID}
	m := tx.rtbs.Mut(r.ID)
	if g := m.GoneGatewayAssoc; g != nil && g.GatewayID == gatewayID {
		a.ID, m.GoneGatewayAssoc = g.ID, nil // associated again: the same association
	}
	m.Associations = append(m.Associations, a)
	return &ec2wire.AssociateRouteTableOutput{
		AssociationId: p(a.ID), AssociationState: &ec2wire.RouteTableAssociationState{State: p("associated")},
	}, nil
}

// rtbGatewayOfVPC checks that gatewayID is the caller's internet gateway or
// virtual private gateway, attached to r's VPC.
func (tx *Tx) rtbGatewayOfVPC(r *RouteTable, gatewayID string) error {
	attached := false
	switch {
	case strings.HasPrefix(gatewayID, "igw-"):
		g := tx.igws.Get(gatewayID)
		if g == nil || g.Owner != tx.Account {
			return errorf(CodeInvalidGatewayIDNotFound, "The gateway ID '%s' does not exist", gatewayID)
		}
		attached = igwAttachedTo(g, r.VpcID)
	case strings.HasPrefix(gatewayID, "vgw-"):
		g := tx.vgws.Get(gatewayID)
		if g == nil || g.Owner != tx.Account {
			return errorf(CodeInvalidGatewayIDNotFound, "The gateway ID '%s' does not exist", gatewayID)
		}
		attached = g.attachedVPC() == r.VpcID
	default:
		return errorf(CodeInvalidGatewayIDNotFound, "The gateway ID '%s' does not exist", gatewayID)
	}
	if !attached {
		return errorf(CodeInvalidParameterValue, "route table %s and network gateway %s belong to different networks", r.ID, gatewayID)
	}
	return nil
}

// rtbForgetGateway drops the edge association of a gateway detached from
// its VPC.
func (tx *Tx) rtbForgetGateway(gatewayID string) {
	if r := tx.rtbGatewayAssoc(gatewayID); r != nil {
		m := tx.rtbs.Mut(r.ID)
		m.Associations = slices.DeleteFunc(m.Associations, func(a RouteTableAssoc) bool { return a.GatewayID == gatewayID })
	}
}

// rtbFindAssoc returns the caller's table holding association id, and the
// association.
func (tx *Tx) rtbFindAssoc(id string) (*RouteTable, RouteTableAssoc, error) {
	if !validID(id, "rtbassoc") {
		return nil, RouteTableAssoc{}, errorf(CodeInvalidAssociationIDMalformed, "Invalid id: \"%s\" (expecting \"rtbassoc-...\")", id)
	}
	var found *RouteTable
	var assoc RouteTableAssoc
	tx.rtbs.Each(func(r *RouteTable) bool {
		if r.Owner == tx.Account {
			for _, a := range r.Associations {
				if a.ID == id {
					found, assoc = r, a
				}
			}
		}
		return found == nil
	})
	if found == nil {
		return nil, RouteTableAssoc{}, errorf(CodeInvalidRouteTableAssocNotFound, "The association ID '%s' does not exist", id)
	}
	return found, assoc, nil
}

// ReplaceRouteTableAssociation moves an association (a subnet's, a
// gateway's, or the main one: the new table becomes its VPC's main table) to
// another table of the same VPC, under a new id.
func (tx *Tx) ReplaceRouteTableAssociation(in *ec2wire.ReplaceRouteTableAssociationInput) (*ec2wire.ReplaceRouteTableAssociationOutput, error) {
	old, a, err := tx.rtbFindAssoc(str(in.AssociationId))
	if err != nil {
		return nil, err
	}
	r, err := tx.getRouteTable(str(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	if r.VpcID != old.VpcID {
		if a.SubnetID != "" {
			return nil, errorf(CodeInvalidParameterValue, "Route table %s and subnet %s belong to different networks", r.ID, a.SubnetID)
		}
		return nil, errorf(CodeInvalidParameterValue, "Route table %s and route table %s belong to different networks", r.ID, old.ID)
	}
	if a.GatewayID != "" {
		if err := tx.rtbEdgeReady(r); err != nil {
			return nil, err
		}
	}
	m := tx.rtbs.Mut(old.ID)
	m.Associations = slices.DeleteFunc(m.Associations, func(x RouteTableAssoc) bool { return x.ID == a.ID })
	a.ID = tx.newID("rtbassoc")
	n := tx.rtbs.Mut(r.ID)
	n.Associations = append(n.Associations, a)
	return &ec2wire.ReplaceRouteTableAssociationOutput{
		NewAssociationId: p(a.ID), AssociationState: &ec2wire.RouteTableAssociationState{State: p("associated")},
	}, nil
}

// rtbReplaceLocal changes the target of the local route cur of table r, or
// with LocalTarget restores it. As AWS allows, the new target is a network
// interface of the VPC (Gateway Load Balancer endpoints and NAT gateways,
// also allowed by AWS, are not modelled).
func (tx *Tx) rtbReplaceLocal(r *RouteTable, cur Route, in *ec2wire.ReplaceRouteInput) error {
	dest := routeDest(cur)
	others := []*string{in.GatewayId, in.InstanceId, in.EgressOnlyInternetGatewayId, in.NatGatewayId, in.TransitGatewayId,
		in.LocalGatewayId, in.CarrierGatewayId, in.VpcPeeringConnectionId, in.VpcEndpointId, in.CoreNetworkArn}
	given := slices.ContainsFunc(others, func(s *string) bool { return s != nil })
	switch {
	case boolv(in.LocalTarget) && (given || in.NetworkInterfaceId != nil):
		return errorf(CodeInvalidParameterCombination, "The parameter localTarget cannot be used with another route target.")
	case boolv(in.LocalTarget):
		m := tx.rtbs.Mut(r.ID)
		m.Routes = slices.DeleteFunc(m.Routes, func(rt Route) bool { return rt.Local && routeDest(rt) == dest })
		return nil
	case in.GatewayId != nil && *in.GatewayId == "local":
		return errorf(CodeInvalidParameterValue, "Use localTarget to restore the target of the local route %s in route table %s.", dest, r.ID)
	case given || in.NetworkInterfaceId == nil:
		return errorf(CodeInvalidParameterValue, "The target of the local route %s in route table %s can only be replaced with a network interface in the VPC.", dest, r.ID)
	}
	e, err := tx.getENI(*in.NetworkInterfaceId)
	if err != nil {
		return err
	}
	if e.VpcID != r.VpcID {
		return errorf(CodeInvalidParameterValue, "route table %s and interface %s belong to different networks", r.ID, e.ID)
	}
	rt := Route{DestinationCidrBlock: cur.DestinationCidrBlock, DestinationIpv6CidrBlock: cur.DestinationIpv6CidrBlock,
		NetworkInterfaceID: e.ID, Local: true, Origin: "CreateRouteTable"}
	m := tx.rtbs.Mut(r.ID)
	if i := slices.IndexFunc(m.Routes, func(x Route) bool { return x.Local && routeDest(x) == dest }); i >= 0 {
		m.Routes[i] = rt
	} else {
		m.Routes = append(m.Routes, rt)
	}
	return nil
}

// checkRouteTables verifies the associations: one main table per VPC, no
// subnet or gateway associated twice, each with a live subnet of the table's
// VPC or a gateway attached to it.
func (d *db) checkRouteTables(bad func(string, ...any)) {
	mains := map[string]int{}
	seen := map[string]string{}
	for _, r := range d.rtbs.rows {
		for _, a := range r.Associations {
			k := a.SubnetID + a.GatewayID
			switch {
			case a.Main:
				mains[r.VpcID]++
				continue
			case a.SubnetID != "":
				if s := d.subnets.rows[a.SubnetID]; s == nil || s.VpcID != r.VpcID {
					bad("route table %s associated with subnet %s, not one of VPC %s", r.ID, a.SubnetID, r.VpcID)
				}
			case strings.HasPrefix(a.GatewayID, "vgw-"):
				if g := d.vgws.rows[a.GatewayID]; g == nil || g.attachedVPC() != r.VpcID {
					bad("route table %s associated with gateway %s, not attached to VPC %s", r.ID, a.GatewayID, r.VpcID)
				}
			case a.GatewayID != "":
				if g := d.igws.rows[a.GatewayID]; g == nil || !igwAttachedTo(g, r.VpcID) {
					bad("route table %s associated with gateway %s, not attached to VPC %s", r.ID, a.GatewayID, r.VpcID)
				}
			}
			if o, ok := seen[k]; ok {
				bad("%s associated with route tables %s and %s", k, o, r.ID)
			}
			seen[k] = r.ID
		}
	}
	for _, v := range d.vpcs.rows {
		if mains[v.ID] != 1 {
			bad("VPC %s has %d main route tables", v.ID, mains[v.ID])
		}
	}
}
