package core

import (
	"maps"
	"slices"
	"strconv"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Virtual private gateways (VPN gateways): the AWS side of a site-to-site VPN,
// attached to at most one VPC at a time (and a VPC to at most one gateway).
// Here a gateway is API only: routes to it, its gateway route table and the
// route propagation it enables are kept and described, and carry no traffic
// (there is no VPN connection to carry it).

// vgwDefaultASN is the Amazon side ASN a gateway gets when none is asked for.
const vgwDefaultASN = 64512

// VpnGateway is a virtual private gateway.
type VpnGateway struct {
	ID          string          `json:"id"`
	Owner       string          `json:"owner"`
	Type        string          `json:"type"`
	AZ          string          `json:"az,omitempty"`
	ASN         int64           `json:"asn"`
	Attachments []VgwAttachment `json:"attachments,omitempty"`
	Tags        Tags            `json:"tags,omitempty"`
}

// VgwAttachment is a gateway's attachment to a VPC: attached, or detached
// (AWS keeps a detached attachment in the list until the next attach).
type VgwAttachment struct {
	VpcID string `json:"vpcId"`
	State string `json:"state"`
}

func (g *VpnGateway) key() string { return g.ID }
func (g *VpnGateway) clone() *VpnGateway {
	c := *g
	c.Attachments = slices.Clone(g.Attachments)
	c.Tags = maps.Clone(g.Tags)
	return &c
}

// attachedVPC is the VPC the gateway is attached to, or "".
func (g *VpnGateway) attachedVPC() string {
	for _, a := range g.Attachments {
		if a.State == "attached" {
			return a.VpcID
		}
	}
	return ""
}

func (tx *Tx) getVGW(id string) (*VpnGateway, error) {
	if !validID(id, "vgw") {
		return nil, errorf(CodeInvalidVpnGatewayIDMalformed, "Invalid id: \"%s\" (expecting \"vgw-...\")", id)
	}
	g := tx.vgws.Get(id)
	if g == nil || g.Owner != tx.Account {
		return nil, errorf(CodeInvalidVpnGatewayIDNotFound, "The vpnGateway ID '%s' does not exist", id)
	}
	return g, nil
}

func vgwOut(g *VpnGateway) *ec2wire.VpnGateway {
	o := &ec2wire.VpnGateway{VpnGatewayId: p(g.ID), State: p("available"), Type: p(g.Type), AmazonSideAsn: p(g.ASN), Tags: tagsOut(g.Tags)}
	if g.AZ != "" {
		o.AvailabilityZone = p(g.AZ)
	}
	for _, a := range g.Attachments {
		o.VpcAttachments = append(o.VpcAttachments, ec2wire.VpcAttachment{VpcId: p(a.VpcID), State: p(a.State)})
	}
	return o
}

// CreateVpnGateway creates a detached gateway of type ipsec.1.
func (tx *Tx) CreateVpnGateway(in *ec2wire.CreateVpnGatewayInput) (*ec2wire.CreateVpnGatewayOutput, error) {
	if t := str(in.Type); t != "ipsec.1" {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter type is invalid. Valid value is ipsec.1.", t)
	}
	asn := int64(vgwDefaultASN)
	if in.AmazonSideAsn != nil {
		asn = *in.AmazonSideAsn
		if !(asn >= 64512 && asn <= 65534) && !(asn >= 4200000000 && asn <= 4294967294) {
			return nil, errorf(CodeInvalidParameterValue, "The ASN %d is invalid: use a private ASN in the 64512 to 65534 or 4200000000 to 4294967294 range.", asn)
		}
	}
	az := str(in.AvailabilityZone)
	if _, ok := tx.azByName(az); az != "" && !ok {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter availabilityZone is invalid.", az)
	}
	tags, err := tagSpecs(in.TagSpecifications, "vpn-gateway")
	if err != nil {
		return nil, err
	}
	g := &VpnGateway{ID: tx.newID("vgw"), Owner: tx.Account, Type: "ipsec.1", AZ: az, ASN: asn, Tags: tags}
	tx.vgws.Put(g)
	return &ec2wire.CreateVpnGatewayOutput{VpnGateway: vgwOut(g)}, nil
}

var vgwFilters = filterSet[VpnGateway]{
	"vpn-gateway-id":    func(g *VpnGateway) []string { return []string{g.ID} },
	"state":             func(g *VpnGateway) []string { return []string{"available"} },
	"type":              func(g *VpnGateway) []string { return []string{g.Type} },
	"availability-zone": func(g *VpnGateway) []string { return []string{g.AZ} },
	"amazon-side-asn":   func(g *VpnGateway) []string { return []string{strconv.FormatInt(g.ASN, 10)} },
	"attachment.state": func(g *VpnGateway) []string {
		var out []string
		for _, a := range g.Attachments {
			out = append(out, a.State)
		}
		return out
	},
	"attachment.vpc-id": func(g *VpnGateway) []string {
		var out []string
		for _, a := range g.Attachments {
			out = append(out, a.VpcID)
		}
		return out
	},
}

// DescribeVpnGateways lists the caller's gateways; a named one that does not
// exist is InvalidVpnGatewayID.NotFound.
func (tx *Tx) DescribeVpnGateways(in *ec2wire.DescribeVpnGatewaysInput) (*ec2wire.DescribeVpnGatewaysOutput, error) {
	for _, id := range in.VpnGatewayIds {
		if _, err := tx.getVGW(id); err != nil {
			return nil, err
		}
	}
	m, err := newMatcher(vgwFilters, func(g *VpnGateway) Tags { return g.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeVpnGatewaysOutput{}
	for _, g := range tx.vgws.Sorted(func(g *VpnGateway) bool {
		return g.Owner == tx.Account && (len(in.VpnGatewayIds) == 0 || contains(in.VpnGatewayIds, g.ID)) && m.match(g)
	}) {
		out.VpnGateways = append(out.VpnGateways, *vgwOut(g))
	}
	return out, nil
}

// AttachVpnGateway attaches a gateway to a VPC: one gateway per VPC, one VPC
// per gateway. The reply says attaching, as AWS's; the attachment is
// attached at once (no waiter polls long).
func (tx *Tx) AttachVpnGateway(in *ec2wire.AttachVpnGatewayInput) (*ec2wire.AttachVpnGatewayOutput, error) {
	g, err := tx.getVGW(str(in.VpnGatewayId))
	if err != nil {
		return nil, err
	}
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	if cur := g.attachedVPC(); cur != "" {
		return nil, errorf(CodeVpnGatewayAttachmentLimitExceeded, "The VPN gateway %s is already attached to VPC %s.", g.ID, cur)
	}
	if other := tx.vgwOfVPC(v.ID); other != "" {
		return nil, errorf(CodeVpnGatewayAttachmentLimitExceeded, "The VPC %s already has a VPN gateway attached: %s.", v.ID, other)
	}
	m := tx.vgws.Mut(g.ID)
	m.Attachments = []VgwAttachment{{VpcID: v.ID, State: "attached"}}
	return &ec2wire.AttachVpnGatewayOutput{VpcAttachment: &ec2wire.VpcAttachment{VpcId: p(v.ID), State: p("attaching")}}, nil
}

// DetachVpnGateway detaches a gateway from its VPC; the VPC's gateway route
// table association with it and the route propagation from it go, routes to
// it go blackhole.
func (tx *Tx) DetachVpnGateway(in *ec2wire.DetachVpnGatewayInput) (*ec2wire.DetachVpnGatewayOutput, error) {
	g, err := tx.getVGW(str(in.VpnGatewayId))
	if err != nil {
		return nil, err
	}
	vpc := str(in.VpcId)
	if g.attachedVPC() != vpc || vpc == "" {
		return nil, errorf(CodeInvalidVpnGatewayAttachmentNotFound, "The attachment with vpn gateway ID '%s' and vpc ID '%s' does not exist", g.ID, vpc)
	}
	m := tx.vgws.Mut(g.ID)
	m.Attachments = []VgwAttachment{{VpcID: vpc, State: "detached"}}
	tx.rtbForgetGateway(g.ID)
	for _, r := range tx.rtbs.Sorted(func(r *RouteTable) bool { return r.VpcID == vpc && slices.Contains(r.PropagatingVgws, g.ID) }) {
		mr := tx.rtbs.Mut(r.ID)
		mr.PropagatingVgws = slices.DeleteFunc(mr.PropagatingVgws, func(id string) bool { return id == g.ID })
	}
	return &ec2wire.DetachVpnGatewayOutput{Return: p(true)}, nil
}

// DeleteVpnGateway deletes a detached gateway.
func (tx *Tx) DeleteVpnGateway(in *ec2wire.DeleteVpnGatewayInput) (*ec2wire.DeleteVpnGatewayOutput, error) {
	g, err := tx.getVGW(str(in.VpnGatewayId))
	if err != nil {
		return nil, err
	}
	if g.attachedVPC() != "" {
		return nil, errorf(CodeIncorrectState, "The VPN gateway is in use.")
	}
	tx.vgws.Delete(g.ID)
	return &ec2wire.DeleteVpnGatewayOutput{Return: p(true)}, nil
}

// EnableVgwRoutePropagation makes a table propagate the routes of a gateway
// attached to its VPC (here there are none to propagate: no VPN connection).
func (tx *Tx) EnableVgwRoutePropagation(in *ec2wire.EnableVgwRoutePropagationInput) (*ec2wire.EnableVgwRoutePropagationOutput, error) {
	r, g, err := tx.vgwPropagation(str(in.RouteTableId), str(in.GatewayId))
	if err != nil {
		return nil, err
	}
	if g.attachedVPC() != r.VpcID {
		return nil, errorf(CodeGatewayNotAttached, "resource %s is not attached to network %s", g.ID, r.VpcID)
	}
	if !slices.Contains(r.PropagatingVgws, g.ID) {
		m := tx.rtbs.Mut(r.ID)
		m.PropagatingVgws = append(m.PropagatingVgws, g.ID)
	}
	return &ec2wire.EnableVgwRoutePropagationOutput{Return: p(true)}, nil
}

// DisableVgwRoutePropagation stops it (nothing to do when it is not on).
func (tx *Tx) DisableVgwRoutePropagation(in *ec2wire.DisableVgwRoutePropagationInput) (*ec2wire.DisableVgwRoutePropagationOutput, error) {
	r, g, err := tx.vgwPropagation(str(in.RouteTableId), str(in.GatewayId))
	if err != nil {
		return nil, err
	}
	if slices.Contains(r.PropagatingVgws, g.ID) {
		m := tx.rtbs.Mut(r.ID)
		m.PropagatingVgws = slices.DeleteFunc(m.PropagatingVgws, func(id string) bool { return id == g.ID })
	}
	return &ec2wire.DisableVgwRoutePropagationOutput{Return: p(true)}, nil
}

// vgwPropagation finds the caller's table and gateway of a propagation call.
func (tx *Tx) vgwPropagation(rtb, gw string) (*RouteTable, *VpnGateway, error) {
	r, err := tx.getRouteTable(rtb)
	if err != nil {
		return nil, nil, err
	}
	g, err := tx.getVGW(gw)
	if err != nil {
		return nil, nil, err
	}
	return r, g, nil
}

// vgwOfVPC returns the gateway attached to the VPC, or "".
func (tx *Tx) vgwOfVPC(vpcID string) string {
	var id string
	tx.vgws.Each(func(g *VpnGateway) bool {
		if g.attachedVPC() == vpcID {
			id = g.ID
		}
		return id == ""
	})
	return id
}

// vgwRouteTarget checks a route of table r to gateway id: the caller's
// gateway, attached to the table's VPC.
func (tx *Tx) vgwRouteTarget(r *RouteTable, id string) (Route, error) {
	g, err := tx.getVGW(id)
	if err != nil {
		return Route{}, errorf(CodeInvalidGatewayIDNotFound, "The gateway ID '%s' does not exist", id)
	}
	if g.attachedVPC() != r.VpcID {
		return Route{}, errorf(CodeInvalidParameterValue, "route table %s and network gateway %s belong to different networks", r.ID, g.ID)
	}
	return Route{GatewayID: g.ID}, nil
}

// vgwActiveFor says whether a route of a table of vpc to gateway id can be
// active: the gateway is attached to the VPC.
func (tx *Tx) vgwActiveFor(id, vpc string) bool {
	g := tx.vgws.Get(id)
	return g != nil && g.attachedVPC() == vpc
}
