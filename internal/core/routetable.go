package core

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// This file belongs to the subnets / internet gateways / route tables work
// package: route tables and routes.
//
// A table's local routes are derived from its VPC's current CIDR blocks (IPv4
// and IPv6), so they follow AssociateVpcCidrBlock / DisassociateVpcCidrBlock;
// the stored local routes only seed that view. Every other route is stored in
// the order it was created.

// rtbLocalRoutes returns a VPC's local routes: one per IPv4 and IPv6 block.
func rtbLocalRoutes(v *VPC) []Route {
	out := make([]Route, 0, len(v.CidrAssocs)+len(v.Ipv6Assocs))
	for _, a := range v.CidrAssocs {
		out = append(out, Route{DestinationCidrBlock: a.Cidr, GatewayID: "local", Origin: "CreateRouteTable"})
	}
	for _, a := range v.Ipv6Assocs {
		out = append(out, Route{DestinationIpv6CidrBlock: a.Cidr, GatewayID: "local", Origin: "CreateRouteTable"})
	}
	return out
}

// rtbRoutes returns the routes in effect in a table: the local routes of its
// VPC first, then the others. The result is a new slice.
func (tx *Tx) rtbRoutes(r *RouteTable) []Route {
	v := tx.vpcs.Get(r.VpcID)
	if v == nil {
		return slices.Clone(r.Routes)
	}
	out := rtbLocalRoutes(v)
	for i := range out {
		if j := slices.IndexFunc(r.Routes, func(rt Route) bool { return rt.Local && routeDest(rt) == routeDest(out[i]) }); j >= 0 {
			out[i] = r.Routes[j] // the local route's target replaced
		}
	}
	for _, rt := range r.Routes {
		if rt.GatewayID != "local" && !rt.Local {
			out = append(out, rt)
		}
	}
	return out
}

// routeDest returns a route's destination (IPv4 or IPv6 CIDR, or prefix
// list).
func routeDest(rt Route) string {
	switch {
	case rt.DestinationCidrBlock != "":
		return rt.DestinationCidrBlock
	case rt.DestinationPrefixListID != "":
		return rt.DestinationPrefixListID
	}
	return rt.DestinationIpv6CidrBlock
}

func rtbFind(routes []Route, dest string) int {
	for i, rt := range routes {
		if routeDest(rt) == dest {
			return i
		}
	}
	return -1
}

// RouteState says whether a route of table r can forward traffic: "active",
// or "blackhole" when its target is gone (a deleted network interface, an
// internet gateway deleted or no longer attached to the table's VPC).
func (tx *Tx) RouteState(r *RouteTable, rt Route) string {
	switch {
	case rt.GatewayID == "local":
		return "active"
	case strings.HasPrefix(rt.GatewayID, "vpce-"):
		if tx.vpceRouteActive(rt.GatewayID) {
			return "active"
		}
		return "blackhole"
	case strings.HasPrefix(rt.GatewayID, "vgw-"):
		if tx.vgwActiveFor(rt.GatewayID, r.VpcID) {
			return "active"
		}
		return "blackhole"
	case rt.GatewayID != "":
		if g := tx.igws.Get(rt.GatewayID); g != nil && igwAttachedTo(g, r.VpcID) {
			return "active"
		}
		return "blackhole"
	case rt.NetworkInterfaceID != "":
		if tx.enis.Get(rt.NetworkInterfaceID) != nil {
			return "active"
		}
		return "blackhole"
	case rt.EgressOnlyIGWID != "":
		if tx.eigws.Get(rt.EgressOnlyIGWID) != nil {
			return "active"
		}
		return "blackhole"
	case rt.NatGatewayID != "":
		if tx.natActive(rt.NatGatewayID) {
			return "active"
		}
		return "blackhole"
	case rt.VpcPeeringConnectionID != "":
		if c, _ := tx.pcxActiveFor(rt.VpcPeeringConnectionID, r.VpcID); c != nil {
			return "active"
		}
		return "blackhole"
	}
	return "blackhole"
}

// rtbRouteInstance returns the instance a route reaches: the instance its
// network interface is attached to, or, once the interface is gone, the
// instance the route was created with.
func (tx *Tx) rtbRouteInstance(rt Route) string {
	if rt.NetworkInterfaceID != "" {
		if e := tx.enis.Get(rt.NetworkInterfaceID); e != nil {
			if e.Attachment != nil {
				return e.Attachment.InstanceID
			}
			return ""
		}
	}
	return rt.InstanceID
}

func (tx *Tx) rtbRouteOut(r *RouteTable, rt Route) ec2wire.Route {
	o := ec2wire.Route{Origin: p(rt.Origin), State: p(tx.RouteState(r, rt))}
	if rt.DestinationCidrBlock != "" {
		o.DestinationCidrBlock = p(rt.DestinationCidrBlock)
	}
	if rt.DestinationIpv6CidrBlock != "" {
		o.DestinationIpv6CidrBlock = p(rt.DestinationIpv6CidrBlock)
	}
	if rt.GatewayID != "" {
		o.GatewayId = p(rt.GatewayID)
	}
	if rt.NetworkInterfaceID != "" {
		o.NetworkInterfaceId = p(rt.NetworkInterfaceID)
	}
	if rt.EgressOnlyIGWID != "" {
		o.EgressOnlyInternetGatewayId = p(rt.EgressOnlyIGWID)
	}
	if rt.DestinationPrefixListID != "" {
		o.DestinationPrefixListId = p(rt.DestinationPrefixListID)
	}
	if rt.NatGatewayID != "" {
		o.NatGatewayId = p(rt.NatGatewayID)
	}
	if rt.VpcPeeringConnectionID != "" {
		o.VpcPeeringConnectionId = p(rt.VpcPeeringConnectionID)
	}
	if id := tx.rtbRouteInstance(rt); id != "" {
		o.InstanceId = p(id)
		owner := r.Owner
		if i := tx.instances.Get(id); i != nil {
			owner = i.Owner
		}
		o.InstanceOwnerId = p(owner)
	}
	return o
}

func (tx *Tx) rtbOut(r *RouteTable) *ec2wire.RouteTable {
	out := &ec2wire.RouteTable{RouteTableId: p(r.ID), VpcId: p(r.VpcID), OwnerId: p(r.Owner), Tags: tagsOut(r.Tags)}
	for _, rt := range tx.rtbRoutes(r) {
		out.Routes = append(out.Routes, tx.rtbRouteOut(r, rt))
	}
	for _, a := range r.Associations {
		o := ec2wire.RouteTableAssociation{
			RouteTableAssociationId: p(a.ID), RouteTableId: p(r.ID), Main: p(a.Main),
			AssociationState: &ec2wire.RouteTableAssociationState{State: p("associated")},
		}
		if a.SubnetID != "" {
			o.SubnetId = p(a.SubnetID)
		}
		if a.GatewayID != "" {
			o.GatewayId = p(a.GatewayID)
		}
		out.Associations = append(out.Associations, o)
	}
	if a := r.GoneGatewayAssoc; a != nil {
		out.Associations = append(out.Associations, ec2wire.RouteTableAssociation{
			RouteTableAssociationId: p(a.ID), RouteTableId: p(r.ID), Main: p(false), GatewayId: p(a.GatewayID),
			AssociationState: &ec2wire.RouteTableAssociationState{State: p("disassociated")},
		})
	}
	for _, g := range r.PropagatingVgws {
		out.PropagatingVgws = append(out.PropagatingVgws, ec2wire.PropagatingVgw{GatewayId: p(g)})
	}
	return out
}

// CreateRouteTable creates a route table with the VPC's local routes.
func (tx *Tx) CreateRouteTable(in *ec2wire.CreateRouteTableInput) (*ec2wire.CreateRouteTableOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "route-table")
	if err != nil {
		return nil, err
	}
	r := &RouteTable{ID: tx.newID("rtb"), Owner: tx.Account, VpcID: v.ID, Routes: rtbLocalRoutes(v), Tags: tags}
	tx.rtbs.Put(r)
	return &ec2wire.CreateRouteTableOutput{RouteTable: tx.rtbOut(r), ClientToken: in.ClientToken}, nil
}

// DeleteRouteTable deletes a table that no subnet uses and that is not its
// VPC's main table.
func (tx *Tx) DeleteRouteTable(in *ec2wire.DeleteRouteTableInput) (*ec2wire.DeleteRouteTableOutput, error) {
	r, err := tx.getRouteTable(str(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	if len(r.Associations) > 0 {
		return nil, errorf(CodeDependencyViolation, "The routeTable '%s' has dependencies and cannot be deleted.", r.ID)
	}
	tx.rtbs.Delete(r.ID)
	return &ec2wire.DeleteRouteTableOutput{Return: p(true)}, nil
}

// rtbFilters are DescribeRouteTables' filters; route state and instance need
// the transaction.
func (tx *Tx) rtbFilters() filterSet[RouteTable] {
	assoc := func(f func(RouteTableAssoc) string) func(*RouteTable) []string {
		return func(r *RouteTable) []string {
			var out []string
			for _, a := range r.Associations {
				if v := f(a); v != "" {
					out = append(out, v)
				}
			}
			return out
		}
	}
	route := func(f func(*RouteTable, Route) string) func(*RouteTable) []string {
		return func(r *RouteTable) []string {
			var out []string
			for _, rt := range tx.rtbRoutes(r) {
				if v := f(r, rt); v != "" {
					out = append(out, v)
				}
			}
			return out
		}
	}
	none := func(*RouteTable) []string { return nil }
	return filterSet[RouteTable]{
		"route-table-id":                         func(r *RouteTable) []string { return []string{r.ID} },
		"vpc-id":                                 func(r *RouteTable) []string { return []string{r.VpcID} },
		"owner-id":                               func(r *RouteTable) []string { return []string{r.Owner} },
		"association.route-table-association-id": assoc(func(a RouteTableAssoc) string { return a.ID }),
		"association.route-table-id": func(r *RouteTable) []string {
			if len(r.Associations) == 0 {
				return nil
			}
			return []string{r.ID}
		},
		"association.subnet-id":  assoc(func(a RouteTableAssoc) string { return a.SubnetID }),
		"association.main":       assoc(func(a RouteTableAssoc) string { return bstr(a.Main) }),
		"association.gateway-id": assoc(func(a RouteTableAssoc) string { return a.GatewayID }),
		"route.destination-cidr-block": route(func(_ *RouteTable, rt Route) string {
			return rt.DestinationCidrBlock
		}),
		"route.destination-ipv6-cidr-block": route(func(_ *RouteTable, rt Route) string {
			return rt.DestinationIpv6CidrBlock
		}),
		"route.gateway-id":                      route(func(_ *RouteTable, rt Route) string { return rt.GatewayID }),
		"route.network-interface-id":            route(func(_ *RouteTable, rt Route) string { return rt.NetworkInterfaceID }),
		"route.instance-id":                     route(func(_ *RouteTable, rt Route) string { return tx.rtbRouteInstance(rt) }),
		"route.origin":                          route(func(_ *RouteTable, rt Route) string { return rt.Origin }),
		"route.state":                           route(tx.RouteState),
		"route.destination-prefix-list-id":      route(func(_ *RouteTable, rt Route) string { return rt.DestinationPrefixListID }),
		"route.egress-only-internet-gateway-id": route(func(_ *RouteTable, rt Route) string { return rt.EgressOnlyIGWID }),
		"route.nat-gateway-id":                  route(func(_ *RouteTable, rt Route) string { return rt.NatGatewayID }),
		"route.transit-gateway-id":              none,
		"route.vpc-peering-connection-id":       route(func(_ *RouteTable, rt Route) string { return rt.VpcPeeringConnectionID }),
	}
}

// DescribeRouteTables lists route tables.
func (tx *Tx) DescribeRouteTables(in *ec2wire.DescribeRouteTablesInput) (*ec2wire.DescribeRouteTablesOutput, error) {
	m, err := newMatcher(tx.rtbFilters(), func(r *RouteTable) Tags { return r.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.RouteTableIds {
		if _, err := tx.getRouteTable(id); err != nil {
			return nil, err
		}
	}
	items := tx.rtbs.Sorted(func(r *RouteTable) bool {
		return r.Owner == tx.Account && (len(in.RouteTableIds) == 0 || contains(in.RouteTableIds, r.ID)) && m.match(r)
	})
	page, next, err := paginate(items, func(r *RouteTable) string { return r.ID }, in.MaxResults, in.NextToken, 5, 100)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeRouteTablesOutput{NextToken: next}
	for _, r := range page {
		out.RouteTables = append(out.RouteTables, *tx.rtbOut(r))
	}
	return out, nil
}

// rtbDest parses a route request's destination: exactly one IPv4 or IPv6
// CIDR block, in canonical form.
func rtbDest(v4, v6, prefixList *string) (netip.Prefix, error) {
	switch {
	case v4 != nil && v6 != nil:
		return netip.Prefix{}, errorf(CodeInvalidParameterCombination, "Only one of destinationCidrBlock and destinationIpv6CidrBlock may be given.")
	case v4 != nil:
		pfx, err := netip.ParsePrefix(*v4)
		if err != nil || !pfx.Addr().Is4() {
			return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Value (%s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.", *v4)
		}
		return pfx.Masked(), nil
	case v6 != nil:
		pfx, err := netip.ParsePrefix(*v6)
		if err != nil || !pfx.Addr().Is6() || pfx.Addr().Is4In6() {
			return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Value (%s) for parameter destinationIpv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.", *v6)
		}
		return pfx.Masked(), nil
	case prefixList != nil:
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Prefix list destinations are not supported.")
	}
	return netip.Prefix{}, errorf(CodeMissingParameter, "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock")
}

// rtbTargetIn is a route request's target parameters.
type rtbTargetIn struct {
	gateway, eni, instance, eigw, pcx, nat *string
	// gatewayLike are targets of gateway kinds this service has none of;
	// other are targets of kinds it does not model.
	gatewayLike, other []*string
}

// rtbTarget validates a route request's one target for table r and
// destination dest, and returns the route (without destination or origin).
func (tx *Tx) rtbTarget(r *RouteTable, dest netip.Prefix, t rtbTargetIn) (Route, error) {
	n := 0
	for _, s := range append(append([]*string{t.gateway, t.eni, t.instance, t.eigw, t.pcx, t.nat}, t.gatewayLike...), t.other...) {
		if s != nil {
			n++
		}
	}
	switch {
	case n == 0:
		return Route{}, errorf(CodeMissingParameter, "The request must contain exactly one of gatewayId, networkInterfaceId or instanceId")
	case n > 1:
		return Route{}, errorf(CodeInvalidParameterCombination, "Only one route target (gatewayId, networkInterfaceId, instanceId, ...) may be given.")
	}
	for _, s := range t.gatewayLike {
		if s != nil {
			return Route{}, errorf(CodeInvalidGatewayIDNotFound, "The gateway ID '%s' does not exist", *s)
		}
	}
	for _, s := range t.other {
		if s != nil {
			return Route{}, errorf(CodeInvalidParameterValue, "Value (%s) for the route target is invalid: only internet gateways, network interfaces and instances are supported.", *s)
		}
	}
	switch {
	case t.eigw != nil:
		return tx.eigwRouteTarget(r, *t.eigw, dest.Addr().Is6())
	case t.nat != nil:
		return tx.natRouteTarget(r, *t.nat, dest.Addr().Is6())
	case t.pcx != nil:
		return tx.pcxRouteTarget(r, *t.pcx, dest)
	case t.gateway != nil:
		id := *t.gateway
		if id == "local" {
			return Route{}, errorf(CodeInvalidParameterValue, "A route with target local cannot be created; the local routes come from the VPC's CIDR blocks.")
		}
		if validID(id, "vgw") {
			return tx.vgwRouteTarget(r, id)
		}
		g := tx.igws.Get(id)
		if !validID(id, "igw") || g == nil || g.Owner != tx.Account {
			return Route{}, errorf(CodeInvalidGatewayIDNotFound, "The gateway ID '%s' does not exist", id)
		}
		if !igwAttachedTo(g, r.VpcID) {
			return Route{}, errorf(CodeInvalidParameterValue, "route table %s and network gateway %s belong to different networks", r.ID, id)
		}
		if v := tx.vpcs.Get(r.VpcID); v != nil {
			for _, l := range rtbLocalRoutes(v) {
				if b, err := netip.ParsePrefix(routeDest(l)); err == nil && subnetWithin(dest, b) {
					return Route{}, errorf(CodeInvalidParameterValue, "The destination CIDR block %s is equal to or more specific than one of this VPC's CIDR blocks. This route can target only an interface or an instance.", dest)
				}
			}
		}
		return Route{GatewayID: g.ID}, nil
	case t.eni != nil:
		e, err := tx.getENI(*t.eni)
		if err != nil {
			return Route{}, err
		}
		if e.VpcID != r.VpcID {
			return Route{}, errorf(CodeInvalidParameterValue, "route table %s and interface %s belong to different networks", r.ID, e.ID)
		}
		return Route{NetworkInterfaceID: e.ID}, nil
	default:
		inst, err := tx.getInstance(*t.instance)
		if err != nil {
			return Route{}, err
		}
		enis := tx.enisOfInstance(inst.ID)
		if len(enis) > 1 {
			return Route{}, errorf(CodeInvalidInstanceID, "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", inst.ID)
		}
		if len(enis) == 0 {
			return Route{}, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a valid state for this operation.", inst.ID)
		}
		if enis[0].VpcID != r.VpcID {
			return Route{}, errorf(CodeInvalidParameterValue, "route table %s and instance %s belong to different networks", r.ID, inst.ID)
		}
		return Route{NetworkInterfaceID: enis[0].ID, InstanceID: inst.ID}, nil
	}
}

func rtbWithDest(rt Route, dest netip.Prefix) Route {
	if dest.Addr().Is4() {
		rt.DestinationCidrBlock = dest.String()
	} else {
		rt.DestinationIpv6CidrBlock = dest.String()
	}
	return rt
}

// CreateRoute adds a route to a table.
func (tx *Tx) CreateRoute(in *ec2wire.CreateRouteInput) (*ec2wire.CreateRouteOutput, error) {
	r, err := tx.getRouteTable(str(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	if in.DestinationPrefixListId != nil && in.DestinationCidrBlock == nil && in.DestinationIpv6CidrBlock == nil {
		return tx.plCreateRoute(r, in)
	}
	dest, err := rtbDest(in.DestinationCidrBlock, in.DestinationIpv6CidrBlock, in.DestinationPrefixListId)
	if err != nil {
		return nil, err
	}
	if rtbFind(tx.rtbRoutes(r), dest.String()) >= 0 {
		return nil, errorf(CodeRouteAlreadyExists, "The route identified by %s already exists.", dest)
	}
	rt, err := tx.rtbTarget(r, dest, rtbTargetIn{
		gateway: in.GatewayId, eni: in.NetworkInterfaceId, instance: in.InstanceId, eigw: in.EgressOnlyInternetGatewayId,
		pcx: in.VpcPeeringConnectionId,
		nat: in.NatGatewayId, gatewayLike: []*string{in.TransitGatewayId, in.LocalGatewayId, in.CarrierGatewayId},
		other: []*string{in.VpcEndpointId, in.CoreNetworkArn},
	})
	if err != nil {
		return nil, err
	}
	rt = rtbWithDest(rt, dest)
	rt.Origin = "CreateRoute"
	if err := tx.rtbEdgeCheck(r, rt); err != nil {
		return nil, err
	}
	m := tx.rtbs.Mut(r.ID)
	m.Routes = append(m.Routes, rt)
	return &ec2wire.CreateRouteOutput{Return: p(true)}, nil
}

// ReplaceRoute changes the target of an existing route.
func (tx *Tx) ReplaceRoute(in *ec2wire.ReplaceRouteInput) (*ec2wire.ReplaceRouteOutput, error) {
	r, err := tx.getRouteTable(str(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	if in.DestinationPrefixListId != nil && in.DestinationCidrBlock == nil && in.DestinationIpv6CidrBlock == nil {
		return tx.plReplaceRoute(r, in)
	}
	dest, err := rtbDest(in.DestinationCidrBlock, in.DestinationIpv6CidrBlock, in.DestinationPrefixListId)
	if err != nil {
		return nil, err
	}
	routes := tx.rtbRoutes(r)
	i := rtbFind(routes, dest.String())
	if i < 0 {
		return nil, errorf(CodeInvalidRouteNotFound, "There is no route defined for '%s' in the route table. Use CreateRoute instead.", dest)
	}
	if routes[i].GatewayID == "local" || routes[i].Local {
		if err := tx.rtbReplaceLocal(r, routes[i], in); err != nil {
			return nil, err
		}
		return &ec2wire.ReplaceRouteOutput{Return: p(true)}, nil
	}
	if boolv(in.LocalTarget) {
		return nil, errorf(CodeInvalidParameterValue, "The route %s is not a local route; localTarget cannot be used.", dest)
	}
	rt, err := tx.rtbTarget(r, dest, rtbTargetIn{
		gateway: in.GatewayId, eni: in.NetworkInterfaceId, instance: in.InstanceId, eigw: in.EgressOnlyInternetGatewayId,
		pcx: in.VpcPeeringConnectionId,
		nat: in.NatGatewayId, gatewayLike: []*string{in.TransitGatewayId, in.LocalGatewayId, in.CarrierGatewayId},
		other: []*string{in.VpcEndpointId, in.CoreNetworkArn},
	})
	if err != nil {
		return nil, err
	}
	if err := tx.rtbEdgeCheck(r, rtbWithDest(rt, dest)); err != nil {
		return nil, err
	}
	m := tx.rtbs.Mut(r.ID)
	j := rtbFind(m.Routes, dest.String())
	rt = rtbWithDest(rt, dest)
	rt.Origin = m.Routes[j].Origin
	m.Routes[j] = rt
	return &ec2wire.ReplaceRouteOutput{Return: p(true)}, nil
}

// DeleteRoute removes a route; the local routes cannot be removed.
func (tx *Tx) DeleteRoute(in *ec2wire.DeleteRouteInput) (*ec2wire.DeleteRouteOutput, error) {
	r, err := tx.getRouteTable(str(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	if in.DestinationPrefixListId != nil && in.DestinationCidrBlock == nil && in.DestinationIpv6CidrBlock == nil {
		return tx.plDeleteRoute(r, in)
	}
	dest, err := rtbDest(in.DestinationCidrBlock, in.DestinationIpv6CidrBlock, in.DestinationPrefixListId)
	if err != nil {
		return nil, err
	}
	routes := tx.rtbRoutes(r)
	i := rtbFind(routes, dest.String())
	if i < 0 {
		param := "destination-cidr-block"
		if dest.Addr().Is6() {
			param = "destination-ipv6-cidr-block"
		}
		return nil, errorf(CodeInvalidRouteNotFound, "no route with %s %s in route table %s", param, dest, r.ID)
	}
	if routes[i].GatewayID == "local" || routes[i].Local {
		return nil, errorf(CodeInvalidParameterValue, "cannot remove local route %s in route table %s", dest, r.ID)
	}
	m := tx.rtbs.Mut(r.ID)
	j := rtbFind(m.Routes, dest.String())
	m.Routes = append(m.Routes[:j:j], m.Routes[j+1:]...)
	return &ec2wire.DeleteRouteOutput{Return: p(true)}, nil
}

// AssociateRouteTable associates a table with a subnet of its VPC; a subnet
// has at most one explicit association.
func (tx *Tx) AssociateRouteTable(in *ec2wire.AssociateRouteTableInput) (*ec2wire.AssociateRouteTableOutput, error) {
	r, err := tx.getRouteTable(str(in.RouteTableId))
	if err != nil {
		return nil, err
	}
	switch {
	case in.GatewayId != nil && in.SubnetId != nil:
		return nil, errorf(CodeInvalidParameterCombination, "Only one of subnetId and gatewayId may be given.")
	case in.GatewayId != nil:
		return tx.rtbAssociateGateway(r, *in.GatewayId)
	case in.SubnetId == nil:
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter subnetId")
	}
	s, err := tx.getSubnet(*in.SubnetId)
	if err != nil {
		return nil, err
	}
	if s.VpcID != r.VpcID {
		return nil, errorf(CodeInvalidParameterValue, "Route table %s and subnet %s belong to different networks", r.ID, s.ID)
	}
	var aerr error
	tx.rtbs.Each(func(o *RouteTable) bool {
		for _, a := range o.Associations {
			if a.SubnetID == s.ID {
				aerr = errorf(CodeResourceAlreadyAssociated, "the specified association for route table %s conflicts with an existing association", r.ID)
			}
		}
		return aerr == nil
	})
	if aerr != nil {
		return nil, aerr
	}
	a := RouteTableAssoc{ID: tx.newID("rtbassoc"), SubnetID: s.ID}
	m := tx.rtbs.Mut(r.ID)
	m.Associations = append(m.Associations, a)
	return &ec2wire.AssociateRouteTableOutput{
		AssociationId: p(a.ID), AssociationState: &ec2wire.RouteTableAssociationState{State: p("associated")},
	}, nil
}

// DisassociateRouteTable removes a subnet's explicit association; the subnet
// falls back to its VPC's main table.
func (tx *Tx) DisassociateRouteTable(in *ec2wire.DisassociateRouteTableInput) (*ec2wire.DisassociateRouteTableOutput, error) {
	id := str(in.AssociationId)
	if !validID(id, "rtbassoc") {
		return nil, errorf(CodeInvalidAssociationIDMalformed, "Invalid id: \"%s\" (expecting \"rtbassoc-...\")", id)
	}
	var found *RouteTable
	tx.rtbs.Each(func(r *RouteTable) bool {
		if r.Owner == tx.Account {
			for _, a := range r.Associations {
				if a.ID == id {
					found = r
				}
			}
		}
		return found == nil
	})
	if found == nil {
		return nil, errorf(CodeInvalidRouteTableAssocNotFound, "The association ID '%s' does not exist", id)
	}
	m := tx.rtbs.Mut(found.ID)
	for i, a := range m.Associations {
		if a.ID != id {
			continue
		}
		if a.Main {
			return nil, errorf(CodeInvalidParameterValue, "cannot disassociate the main route table association %s", id)
		}
		m.Associations = append(m.Associations[:i:i], m.Associations[i+1:]...)
		if a.GatewayID != "" {
			// AWS goes on listing a gateway's edge association, disassociated, for a
			// while (amazon.aws's ec2_vpc_route_table target counts it): the last one.
			m.GoneGatewayAssoc = &a
		}
		break
	}
	return &ec2wire.DisassociateRouteTableOutput{Return: p(true)}, nil
}

// SubnetRouteTable returns the route table that governs a subnet: its
// explicitly associated table, else its VPC's main table; nil if the subnet
// or table does not exist. The result is a copy whose Routes are the routes
// in effect (the VPC's local routes first), so the caller may keep it.
func (tx *Tx) SubnetRouteTable(subnetID string) *RouteTable {
	s := tx.subnets.Get(subnetID)
	if s == nil {
		return nil
	}
	var explicit, main *RouteTable
	tx.rtbs.Each(func(r *RouteTable) bool {
		if r.VpcID != s.VpcID {
			return true
		}
		for _, a := range r.Associations {
			if a.SubnetID == subnetID {
				explicit = r
			}
			if a.Main {
				main = r
			}
		}
		return explicit == nil
	})
	r := explicit
	if r == nil {
		r = main
	}
	if r == nil {
		return nil
	}
	c := r.clone()
	c.Routes = tx.rtbRoutes(r)
	return c
}

// SubnetIsPublic reports whether a subnet's route table sends 0.0.0.0/0 to an
// internet gateway attached to the subnet's VPC.
func (tx *Tx) SubnetIsPublic(subnetID string) bool {
	s := tx.subnets.Get(subnetID)
	r := tx.SubnetRouteTable(subnetID)
	if s == nil || r == nil {
		return false
	}
	for _, rt := range r.Routes {
		if rt.DestinationCidrBlock != "0.0.0.0/0" || !strings.HasPrefix(rt.GatewayID, "igw-") {
			continue
		}
		if g := tx.igws.Get(rt.GatewayID); g != nil && igwAttachedTo(g, s.VpcID) {
			return true
		}
	}
	return false
}
