package core

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// NAT gateways. A gateway owns one requester-managed ENI (interface type
// nat_gateway) in its subnet; a public gateway's Elastic IP is associated
// with that ENI's primary address. Without a data plane a gateway is
// stored "available" at once (CreateNatGateway's reply says "pending", as
// AWS's does), so that no waiter hangs; with one it is pending until its
// namespace is up (hostnatgateway.go); DeleteNatGateway frees the ENI (the Elastic IP is
// disassociated, not released, as in AWS) and leaves the gateway
// "deleted", describable for natDeletedVisible, then gone. A public
// gateway in a VPC without an internet gateway is "failed"
// (Gateway.NotAttached), as AWS reports it, and holds nothing.

// natRequesterID is the requester AWS shows on the ENIs of NAT gateways.
const natRequesterID = "amazon-aws"

// natDeletedVisible is how long a deleted or failed gateway stays
// describable (AWS: "about an hour").
const natDeletedVisible = time.Hour

// NatAddress is one address of a NAT gateway.
type NatAddress struct {
	AllocationID  string `json:"allocationId,omitempty"`
	PublicIP      string `json:"publicIp,omitempty"`
	AssociationID string `json:"associationId,omitempty"`
	PrivateIP     string `json:"privateIp"`
	Primary       bool   `json:"primary,omitempty"`
}

// NatGateway is a NAT gateway.
type NatGateway struct {
	ID           string       `json:"id"`
	Owner        string       `json:"owner"`
	VpcID        string       `json:"vpcId"`
	SubnetID     string       `json:"subnetId"`
	Connectivity string       `json:"connectivity"` // public | private
	ENIID        string       `json:"eniId,omitempty"`
	Addresses    []NatAddress `json:"addresses,omitempty"`
	State        string       `json:"state"` // pending | available | failed | deleting | deleted
	FailureCode  string       `json:"failureCode,omitempty"`
	FailureMsg   string       `json:"failureMessage,omitempty"`
	ClientToken  string       `json:"clientToken,omitempty"`
	CreatedAt    time.Time    `json:"createdAt"`
	DeletedAt    time.Time    `json:"deletedAt,omitzero"`
	Tags         Tags         `json:"tags,omitempty"`
}

func (g *NatGateway) key() string { return g.ID }
func (g *NatGateway) clone() *NatGateway {
	c := *g
	c.Addresses = slices.Clone(g.Addresses)
	c.Tags = maps.Clone(g.Tags)
	return &c
}

// natVisible reports whether a gateway is still describable at now.
func natVisible(g *NatGateway, now time.Time) bool {
	return g.DeletedAt.IsZero() || now.Sub(g.DeletedAt) < natDeletedVisible
}

func natNotFound(id string) error {
	return errorf(CodeNatGatewayNotFound, "The Nat Gateway %s was not found", id)
}

// natIDNotFound is what CreateRoute, ReplaceRoute and CreateTags answer
// for a gateway that does not exist.
func natIDNotFound(id string) error {
	return errorf(CodeInvalidNatGatewayIDNotFound, "The natGateway ID '%s' does not exist", id)
}

// getNat returns a describable gateway of the caller.
func (tx *Tx) getNat(id string) (*NatGateway, error) {
	if !validID(id, "nat") {
		return nil, errorf(CodeNatGatewayMalformed, "The natGateway ID '%s' is malformed", id)
	}
	g := tx.nats.Get(id)
	if g == nil || g.Owner != tx.Account || !natVisible(g, tx.now) {
		return nil, natNotFound(id)
	}
	return g, nil
}

func natOut(g *NatGateway) *ec2wire.NatGateway {
	o := &ec2wire.NatGateway{
		NatGatewayId: p(g.ID), VpcId: p(g.VpcID), SubnetId: p(g.SubnetID), State: p(g.State),
		ConnectivityType: p(g.Connectivity), CreateTime: ec2wire.NewTime(g.CreatedAt), Tags: tagsOut(g.Tags),
	}
	if g.State == "deleted" {
		o.DeleteTime = ec2wire.NewTime(g.DeletedAt)
	}
	if g.FailureCode != "" {
		o.FailureCode, o.FailureMessage = p(g.FailureCode), p(g.FailureMsg)
	}
	status := "succeeded"
	switch g.State {
	case "deleting":
		status = "disassociating"
	case "deleted":
		status = "disassociated"
	}
	for _, a := range g.Addresses {
		w := ec2wire.NatGatewayAddress{NetworkInterfaceId: p(g.ENIID), PrivateIp: p(a.PrivateIP), IsPrimary: p(a.Primary), Status: p(status)}
		if a.AllocationID != "" {
			w.AllocationId, w.PublicIp = p(a.AllocationID), p(a.PublicIP)
			if a.AssociationID != "" && natLive(g) {
				w.AssociationId = p(a.AssociationID)
			}
		}
		o.NatGatewayAddresses = append(o.NatGatewayAddresses, w)
	}
	return o
}

// natByToken returns the caller's gateway created with a client token.
func (tx *Tx) natByToken(token string) *NatGateway {
	var found *NatGateway
	tx.nats.Each(func(g *NatGateway) bool {
		if g.Owner == tx.Account && g.ClientToken == token {
			found = g
		}
		return found == nil
	})
	return found
}

// natEIP checks that an Elastic IP may be given to a gateway.
func (tx *Tx) natEIP(allocID string) (*Address, error) {
	a, err := tx.getAddress(allocID)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// natCheckCreate validates a CreateNatGateway request's connectivity and
// Elastic IPs and returns the connectivity type.
func (tx *Tx) natCheckCreate(in *ec2wire.CreateNatGatewayInput) (string, error) {
	conn := str(in.ConnectivityType)
	if conn == "" {
		conn = "public"
	}
	switch conn {
	case "public":
		if in.AllocationId == nil {
			return "", errorf(CodeMissingParameter, "The request must contain the parameter AllocationId")
		}
		if _, err := tx.natEIP(*in.AllocationId); err != nil {
			return "", err
		}
		for _, id := range in.SecondaryAllocationIds {
			if _, err := tx.natEIP(id); err != nil {
				return "", err
			}
		}
		if len(in.SecondaryAllocationIds) > 0 && len(in.SecondaryPrivateIpAddresses) > 0 && len(in.SecondaryAllocationIds) != len(in.SecondaryPrivateIpAddresses) {
			return "", errorf(CodeInvalidParameterValue, "The number of secondary private IP addresses must match the number of secondary allocation IDs.")
		}
	case "private":
		if in.AllocationId != nil || len(in.SecondaryAllocationIds) > 0 {
			return "", errorf(CodeInvalidParameterCombination, "Elastic IP addresses cannot be associated with a private NAT gateway.")
		}
	default:
		return "", errorf(CodeInvalidParameterValue, "Value (%s) for parameter ConnectivityType is invalid. Allowed values are [private, public].", conn)
	}
	if in.SecondaryPrivateIpAddressCount != nil && len(in.SecondaryPrivateIpAddresses) > 0 {
		return "", errorf(CodeInvalidParameterCombination, "The parameters SecondaryPrivateIpAddresses and SecondaryPrivateIpAddressCount cannot be specified together.")
	}
	if n := natSecondaryCount(in); n > 7 {
		return "", errorf(CodeInvalidParameterValue, "A NAT gateway can have at most 8 private IPv4 addresses; %d secondary addresses were requested.", n)
	}
	return conn, nil
}

func natSecondaryCount(in *ec2wire.CreateNatGatewayInput) int {
	n := max(len(in.SecondaryPrivateIpAddresses), len(in.SecondaryAllocationIds))
	if in.SecondaryPrivateIpAddressCount != nil {
		n = max(n, int(*in.SecondaryPrivateIpAddressCount))
	}
	return n
}

// CreateNatGateway creates a gateway with its ENI in the subnet.
func (tx *Tx) CreateNatGateway(in *ec2wire.CreateNatGatewayInput) (*ec2wire.CreateNatGatewayOutput, error) {
	s, err := tx.getSubnet(str(in.SubnetId))
	if err != nil {
		return nil, err
	}
	if tok := str(in.ClientToken); tok != "" {
		if g := tx.natByToken(tok); g != nil {
			if g.SubnetID != s.ID {
				return nil, errorf(CodeIdempotentParameterMismatch, "Client token %s was used with different parameters.", tok)
			}
			out := natOut(g)
			return &ec2wire.CreateNatGatewayOutput{NatGateway: out, ClientToken: in.ClientToken}, nil
		}
	}
	conn, err := tx.natCheckCreate(in)
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "natgateway")
	if err != nil {
		return nil, err
	}
	state := "available"
	if tx.natRealised() {
		state = "pending" // until the data plane has it up (hostnatgateway.go)
	}
	g := &NatGateway{ID: tx.newID("nat"), Owner: tx.Account, VpcID: s.VpcID, SubnetID: s.ID, Connectivity: conn,
		State: state, ClientToken: str(in.ClientToken), CreatedAt: tx.now, Tags: tags}
	if code, msg := tx.natFailure(s, in); code != "" {
		g.State, g.DeletedAt, g.FailureCode, g.FailureMsg = "failed", tx.now, code, msg
		tx.nats.Put(g)
		return natCreateOut(g, in), nil
	}
	if err := tx.natMakeENI(g, s, in); err != nil {
		return nil, err
	}
	tx.nats.Put(g)
	return natCreateOut(g, in), nil
}

// natFailure returns why a valid request makes a failed gateway, as AWS's
// NatGateway.FailureCode documents: a public gateway in a VPC without an
// attached internet gateway, or with an Elastic IP already associated.
func (tx *Tx) natFailure(s *Subnet, in *ec2wire.CreateNatGatewayInput) (string, string) {
	if str(in.ConnectivityType) == "private" {
		return "", ""
	}
	if !tx.addressGatewayAttached(s.VpcID) {
		return "Gateway.NotAttached", fmt.Sprintf("Network %s has no Internet gateway attached", s.VpcID)
	}
	for _, id := range append([]string{str(in.AllocationId)}, in.SecondaryAllocationIds...) {
		if a := tx.addresses.Get(id); a != nil && a.ENIID != "" {
			return "Resource.AlreadyAssociated", fmt.Sprintf("Elastic IP address %s is already associated", id)
		}
	}
	return "", ""
}

func natCreateOut(g *NatGateway, in *ec2wire.CreateNatGatewayInput) *ec2wire.CreateNatGatewayOutput {
	out := natOut(g)
	if natLive(g) {
		out.State = p("pending") // as AWS answers; stored available without a data plane
		for i := range out.NatGatewayAddresses {
			out.NatGatewayAddresses[i].Status = p("associating")
		}
	}
	return &ec2wire.CreateNatGatewayOutput{NatGateway: out, ClientToken: in.ClientToken}
}

// natMakeENI creates the gateway's ENI, attached as AWS shows it, and
// associates its Elastic IPs.
func (tx *Tx) natMakeENI(g *NatGateway, s *Subnet, in *ec2wire.CreateNatGatewayInput) error {
	spec := eniSpec{
		Subnet: s, PrimaryIP: str(in.PrivateIpAddress), SecondaryIPs: in.SecondaryPrivateIpAddresses,
		IPv6Count: 0, Description: "Interface for NAT Gateway " + g.ID, InterfaceType: "nat_gateway",
		RequesterManaged: true, RequesterID: natRequesterID,
	}
	if len(in.SecondaryPrivateIpAddresses) == 0 {
		spec.SecondaryCount = natSecondaryCount(in)
	}
	e, err := tx.createENI(spec)
	if err != nil {
		return err
	}
	m := tx.enis.Mut(e.ID)
	m.Groups = nil // NAT gateway interfaces have no security groups
	m.SourceDestCheck = false
	m.Attachment = &Attachment{ID: tx.newID("ela-attach"), InstanceOwner: "amazon-aws", DeviceIndex: 1, Status: "attached", AttachTime: tx.now}
	g.ENIID = e.ID
	allocs := in.SecondaryAllocationIds
	if in.AllocationId != nil {
		allocs = append([]string{*in.AllocationId}, allocs...)
	}
	for i, ip := range m.PrivateIPs {
		a := NatAddress{PrivateIP: ip.Address, Primary: i == 0}
		if i < len(allocs) {
			a = tx.natAssociate(g, allocs[i], ip.Address)
			a.Primary = i == 0
		}
		g.Addresses = append(g.Addresses, a)
	}
	return nil
}

// natAssociate associates an Elastic IP with one of the gateway ENI's
// private addresses.
func (tx *Tx) natAssociate(g *NatGateway, allocID, privateIP string) NatAddress {
	m := tx.addresses.Mut(allocID)
	m.AssociationID = tx.newID("eipassoc")
	m.ENIID = g.ENIID
	m.PrivateIP = privateIP
	return NatAddress{AllocationID: allocID, PublicIP: m.PublicIP, AssociationID: m.AssociationID, PrivateIP: privateIP}
}

// natFilters are DescribeNatGateways' documented filters.
var natFilters = filterSet[NatGateway]{
	"nat-gateway-id": func(g *NatGateway) []string { return []string{g.ID} },
	"state":          func(g *NatGateway) []string { return []string{g.State} },
	"subnet-id":      func(g *NatGateway) []string { return []string{g.SubnetID} },
	"vpc-id":         func(g *NatGateway) []string { return []string{g.VpcID} },
}

// DescribeNatGateways lists the caller's gateways; a named gateway that
// does not exist is NatGatewayNotFound.
func (tx *Tx) DescribeNatGateways(in *ec2wire.DescribeNatGatewaysInput) (*ec2wire.DescribeNatGatewaysOutput, error) {
	m, err := newMatcher(natFilters, func(g *NatGateway) Tags { return g.Tags }, in.Filter)
	if err != nil {
		return nil, err
	}
	for _, id := range in.NatGatewayIds {
		if _, err := tx.getNat(id); err != nil {
			return nil, err
		}
	}
	items := tx.nats.Sorted(func(g *NatGateway) bool {
		return g.Owner == tx.Account && natVisible(g, tx.now) &&
			(len(in.NatGatewayIds) == 0 || contains(in.NatGatewayIds, g.ID)) && m.match(g)
	})
	page, next, err := paginate(items, func(g *NatGateway) string { return g.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeNatGatewaysOutput{NextToken: next}
	for _, g := range page {
		out.NatGateways = append(out.NatGateways, *natOut(g))
	}
	return out, nil
}

// DeleteNatGateway deletes a gateway: its ENI goes, its Elastic IPs are
// disassociated (they stay allocated), routes to it become blackholes.
func (tx *Tx) DeleteNatGateway(in *ec2wire.DeleteNatGatewayInput) (*ec2wire.DeleteNatGatewayOutput, error) {
	g, err := tx.getNat(str(in.NatGatewayId))
	if err != nil {
		return nil, err
	}
	if natLive(g) {
		if g.ENIID != "" && tx.enis.Get(g.ENIID) != nil {
			tx.deleteENI(g.ENIID)
		}
		m := tx.nats.Mut(g.ID)
		m.State, m.DeletedAt = "deleted", tx.now
		if tx.natRealised() {
			m.State = "deleting" // until its namespace is gone (hostnatgateway.go)
		}
	}
	return &ec2wire.DeleteNatGatewayOutput{NatGatewayId: p(g.ID)}, nil
}

// natRouteTarget checks a route of table r to gateway id.
func (tx *Tx) natRouteTarget(r *RouteTable, id string, ipv6 bool) (Route, error) {
	g := tx.nats.Get(id)
	if !validID(id, "nat") || g == nil || g.Owner != tx.Account || !natLive(g) {
		return Route{}, natIDNotFound(id)
	}
	if g.VpcID != r.VpcID {
		return Route{}, errorf(CodeInvalidParameterValue, "route table %s and network gateway %s belong to different networks", r.ID, g.ID)
	}
	_ = ipv6 // NAT64: AWS accepts a NAT gateway as the target of 64:ff9b::/96
	return Route{NatGatewayID: g.ID}, nil
}

// natActive reports whether a route to gateway id forwards.
func (tx *Tx) natActive(id string) bool {
	return natLive(tx.nats.Get(id))
}

// natInVPC returns an available gateway of the VPC, or "".
func (tx *Tx) natInVPC(vpcID string) string {
	var id string
	tx.nats.Each(func(g *NatGateway) bool {
		if g.VpcID == vpcID && (natLive(g) || g.State == "deleting") {
			id = g.ID
		}
		return id == ""
	})
	return id
}

// natOfENI returns the gateway id an ENI belongs to, from the description
// AWS gives its ENIs.
func natOfENI(e *ENI) []string {
	if e.InterfaceType != "nat_gateway" {
		return nil
	}
	if id, ok := strings.CutPrefix(e.Description, "Interface for NAT Gateway "); ok {
		return []string{id}
	}
	return nil
}
