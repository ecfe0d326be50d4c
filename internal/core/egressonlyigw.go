package core

import (
	"maps"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Egress-only internet gateways: IPv6 out of a VPC and nothing in. A gateway
// is created attached to its VPC and stays so until deleted; routes to it
// (IPv6 destinations only) go blackhole when it is deleted.

// EgressOnlyIGW is an egress-only internet gateway.
type EgressOnlyIGW struct {
	ID    string `json:"id"`
	Owner string `json:"owner"`
	VpcID string `json:"vpcId"`
	Tags  Tags   `json:"tags,omitempty"`
}

func (g *EgressOnlyIGW) key() string { return g.ID }
func (g *EgressOnlyIGW) clone() *EgressOnlyIGW {
	c := *g
	c.Tags = maps.Clone(g.Tags)
	return &c
}

func (tx *Tx) getEIGW(id string) (*EgressOnlyIGW, error) {
	if !validID(id, "eigw") {
		return nil, errorf(CodeInvalidEIGWIDMalformed, "Invalid id: \"%s\" (expecting \"eigw-...\")", id)
	}
	g := tx.eigws.Get(id)
	if g == nil || g.Owner != tx.Account {
		return nil, errorf(CodeInvalidGatewayIDNotFound, "The eigw ID '%s' does not exist", id)
	}
	return g, nil
}

func eigwOut(g *EgressOnlyIGW) *ec2wire.EgressOnlyInternetGateway {
	return &ec2wire.EgressOnlyInternetGateway{
		EgressOnlyInternetGatewayId: p(g.ID), Tags: tagsOut(g.Tags),
		Attachments: []ec2wire.InternetGatewayAttachment{{VpcId: p(g.VpcID), State: p("attached")}},
	}
}

// CreateEgressOnlyInternetGateway creates a gateway attached to a VPC.
func (tx *Tx) CreateEgressOnlyInternetGateway(in *ec2wire.CreateEgressOnlyInternetGatewayInput) (*ec2wire.CreateEgressOnlyInternetGatewayOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "egress-only-internet-gateway")
	if err != nil {
		return nil, err
	}
	g := &EgressOnlyIGW{ID: tx.newID("eigw"), Owner: tx.Account, VpcID: v.ID, Tags: tags}
	tx.eigws.Put(g)
	return &ec2wire.CreateEgressOnlyInternetGatewayOutput{EgressOnlyInternetGateway: eigwOut(g), ClientToken: in.ClientToken}, nil
}

// eigwFilters are the documented filters: AWS documents only tag filters.
var eigwFilters = filterSet[EgressOnlyIGW]{}

// DescribeEgressOnlyInternetGateways lists the gateways. Ids that name no
// gateway select nothing, without an error: Terraform's provider reads a
// deleted gateway as an empty answer (it handles no NotFound code here,
// unlike DeleteEgressOnlyInternetGateway's InvalidGatewayID.NotFound).
func (tx *Tx) DescribeEgressOnlyInternetGateways(in *ec2wire.DescribeEgressOnlyInternetGatewaysInput) (*ec2wire.DescribeEgressOnlyInternetGatewaysOutput, error) {
	m, err := newMatcher(eigwFilters, func(g *EgressOnlyIGW) Tags { return g.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	items := tx.eigws.Sorted(func(g *EgressOnlyIGW) bool {
		return g.Owner == tx.Account && (len(in.EgressOnlyInternetGatewayIds) == 0 || contains(in.EgressOnlyInternetGatewayIds, g.ID)) && m.match(g)
	})
	page, next, err := paginate(items, func(g *EgressOnlyIGW) string { return g.ID }, in.MaxResults, in.NextToken, 5, 255)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeEgressOnlyInternetGatewaysOutput{NextToken: next}
	for _, g := range page {
		out.EgressOnlyInternetGateways = append(out.EgressOnlyInternetGateways, *eigwOut(g))
	}
	return out, nil
}

// DeleteEgressOnlyInternetGateway deletes a gateway; routes to it stay, as
// blackholes.
func (tx *Tx) DeleteEgressOnlyInternetGateway(in *ec2wire.DeleteEgressOnlyInternetGatewayInput) (*ec2wire.DeleteEgressOnlyInternetGatewayOutput, error) {
	g, err := tx.getEIGW(str(in.EgressOnlyInternetGatewayId))
	if err != nil {
		return nil, err
	}
	tx.eigws.Delete(g.ID)
	return &ec2wire.DeleteEgressOnlyInternetGatewayOutput{ReturnCode: p(true)}, nil
}

// eigwRouteTarget checks a route of table r to gateway id for destination
// dest: the gateway must be the caller's, in the table's VPC, and the
// destination IPv6.
func (tx *Tx) eigwRouteTarget(r *RouteTable, id string, ipv6 bool) (Route, error) {
	g, err := tx.getEIGW(id)
	if err != nil {
		return Route{}, err
	}
	if g.VpcID != r.VpcID {
		return Route{}, errorf(CodeInvalidParameterValue, "route table %s and network gateway %s belong to different networks", r.ID, g.ID)
	}
	if !ipv6 {
		return Route{}, errorf(CodeInvalidParameterValue, "Egress-only internet gateway %s can only be the target of an IPv6 route (destinationIpv6CidrBlock).", g.ID)
	}
	return Route{EgressOnlyIGWID: g.ID}, nil
}

// eigwInVPC returns a gateway of the VPC, or "".
func (tx *Tx) eigwInVPC(vpcID string) string {
	var id string
	tx.eigws.Each(func(g *EgressOnlyIGW) bool {
		if g.VpcID == vpcID {
			id = g.ID
		}
		return id == ""
	})
	return id
}
