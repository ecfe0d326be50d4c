package core

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// VPC peering connections. A connection joins a requester VPC and an
// accepter VPC (of the same or another account) of this region. The
// requester's request is pending-acceptance until the accepter's owner
// accepts it (active) or rejects it, or 7 days pass (expired); a request
// between VPCs whose IPv4 blocks overlap, or to a VPC the named account does
// not own, fails at once. Either side deletes an active connection; routes to
// it then go blackhole. Ended connections stay visible for as long as AWS
// shows them (hours to days, by side), then answer NotFound.

// Peering error codes.
const (
	CodeInvalidPcxIDNotFound  = "InvalidVpcPeeringConnectionID.NotFound"
	CodeInvalidPcxIDMalformed = "InvalidVpcPeeringConnectionId.Malformed"
	CodeInvalidStateTransit   = "InvalidStateTransition"
	CodePcxOutstandingLimit   = "OutstandingVpcPeeringConnectionLimitExceeded"
	CodePcxActiveLimit        = "ActiveVpcPeeringConnectionPerVpcLimitExceeded"
)

func init() {
	Codes = append(Codes, CodeInvalidPcxIDNotFound, CodeInvalidPcxIDMalformed, CodeInvalidStateTransit, CodePcxOutstandingLimit, CodePcxActiveLimit)
}

// AWS's default quotas: outstanding (pending) requests per VPC, active
// connections per VPC.
const (
	pcxOutstandingQuota = 25
	pcxActiveQuota      = 50
)

// pcxCount counts the connections of VPC vpc (as requester only, when
// requested) whose status is code.
func (tx *Tx) pcxCount(vpc, code string, requested bool) int {
	n := 0
	tx.pcx().Each(func(c *PeeringConnection) bool {
		mine := c.Requester.VpcID == vpc || (!requested && c.Accepter.VpcID == vpc)
		if s, _ := tx.pcxStatus(c); mine && s == code {
			n++
		}
		return true
	})
	return n
}

// Peering statuses.
const (
	pcxInitiating = "initiating-request"
	pcxPending    = "pending-acceptance"
	pcxActive     = "active"
	pcxRejected   = "rejected"
	pcxDeleted    = "deleted"
	pcxFailed     = "failed"
	pcxExpired    = "expired"
)

// pcxExpiry is how long a request waits for its accepter.
const pcxExpiry = 7 * 24 * time.Hour

// pcxFailedMessage is AWS's status message of a failed request.
const pcxFailedMessage = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"

// PeeringSide is one VPC of a peering connection, as it was when the
// connection was requested (the blocks are shown once the VPC is gone).
type PeeringSide struct {
	Owner    string   `json:"owner"`
	VpcID    string   `json:"vpcId"`
	Region   string   `json:"region"`
	Cidrs    []string `json:"cidrs,omitempty"`
	Ipv6     []string `json:"ipv6,omitempty"`
	AllowDNS bool     `json:"allowDns,omitempty"` // AllowDnsResolutionFromRemoteVpc
}

// PeeringConnection is a VPC peering connection.
type PeeringConnection struct {
	ID        string      `json:"id"`
	Requester PeeringSide `json:"requester"`
	Accepter  PeeringSide `json:"accepter"`
	Status    string      `json:"status"`
	Message   string      `json:"message"`
	CreatedAt time.Time   `json:"createdAt"`
	StatusAt  time.Time   `json:"statusAt"`          // when Status was set
	EndedBy   string      `json:"endedBy,omitempty"` // the account that deleted or rejected it
	Tags      Tags        `json:"tags,omitempty"`
}

func (c *PeeringConnection) key() string { return c.ID }
func (c *PeeringConnection) clone() *PeeringConnection {
	d := *c
	d.Requester.Cidrs, d.Requester.Ipv6 = slices.Clone(c.Requester.Cidrs), slices.Clone(c.Requester.Ipv6)
	d.Accepter.Cidrs, d.Accepter.Ipv6 = slices.Clone(c.Accepter.Cidrs), slices.Clone(c.Accepter.Ipv6)
	d.Tags = maps.Clone(c.Tags)
	return &d
}

// status is the connection's status now: a request nobody answered in 7
// days has expired.
func (tx *Tx) pcxStatus(c *PeeringConnection) (code, msg string) {
	if c.Status == pcxPending && !tx.now.Before(c.CreatedAt.Add(pcxExpiry)) {
		return pcxExpired, "Expired"
	}
	return c.Status, c.Message
}

// pcxParty reports whether the caller owns one of the connection's VPCs
// and asks in one of their regions.
func (tx *Tx) pcxParty(c *PeeringConnection) bool {
	return (c.Requester.Owner == tx.Account || c.Accepter.Owner == tx.Account) &&
		(c.Requester.Region == tx.Region || c.Accepter.Region == tx.Region)
}

// pcxVisible reports whether the caller still sees the connection: as AWS,
// a deleted one for 2 hours to the side that deleted it and 2 days to the
// other, a rejected one 2 days to the requester and 2 hours to the
// accepter, a failed one 2 hours, an expired one 2 days.
func (tx *Tx) pcxVisible(c *PeeringConnection) bool {
	if !tx.pcxParty(c) {
		return false
	}
	code, _ := tx.pcxStatus(c)
	since := tx.now.Sub(c.StatusAt)
	switch code {
	case pcxDeleted:
		return since < 2*time.Hour || (c.EndedBy != tx.Account && since < 48*time.Hour)
	case pcxRejected:
		return since < 2*time.Hour || (c.Requester.Owner == tx.Account && since < 48*time.Hour)
	case pcxFailed:
		return since < 2*time.Hour
	case pcxExpired:
		return tx.now.Sub(c.CreatedAt.Add(pcxExpiry)) < 48*time.Hour
	}
	return true
}

func (tx *Tx) getPcx(id string) (*PeeringConnection, error) {
	if !validID(id, "pcx") {
		return nil, errorf(CodeInvalidPcxIDMalformed, "Invalid id: \"%s\" (expecting \"pcx-...\")", id)
	}
	c := tx.pcx().Get(id)
	if c == nil || !tx.pcxVisible(c) {
		return nil, errorf(CodeInvalidPcxIDNotFound, "The vpcPeeringConnection ID '%s' does not exist", id)
	}
	return c, nil
}

// pcxSideOut is one side's VpcInfo: its VPC's blocks now, or as requested
// once the VPC is gone.
func (tx *Tx) pcxSideOut(s PeeringSide) *ec2wire.VpcPeeringConnectionVpcInfo {
	cidrs, v6 := s.Cidrs, s.Ipv6
	if v := tx.vpcs.Get(s.VpcID); v != nil && s.Region == tx.Region {
		cidrs, v6 = vpcBlocks(v)
	}
	o := &ec2wire.VpcPeeringConnectionVpcInfo{OwnerId: p(s.Owner), VpcId: p(s.VpcID), Region: p(s.Region),
		PeeringOptions: &ec2wire.VpcPeeringConnectionOptionsDescription{AllowDnsResolutionFromRemoteVpc: p(s.AllowDNS),
			AllowEgressFromLocalClassicLinkToRemoteVpc: p(false), AllowEgressFromLocalVpcToRemoteClassicLink: p(false)}}
	if len(cidrs) > 0 {
		o.CidrBlock = p(cidrs[0])
	}
	for _, c := range cidrs {
		o.CidrBlockSet = append(o.CidrBlockSet, ec2wire.CidrBlock{CidrBlock: p(c)})
	}
	for _, c := range v6 {
		o.Ipv6CidrBlockSet = append(o.Ipv6CidrBlockSet, ec2wire.Ipv6CidrBlock{Ipv6CidrBlock: p(c)})
	}
	return o
}

// vpcBlocks returns a VPC's associated IPv4 blocks (primary first) and IPv6
// blocks.
func vpcBlocks(v *VPC) (v4, v6 []string) {
	for _, a := range v.CidrAssocs {
		v4 = append(v4, a.Cidr)
	}
	for _, a := range v.Ipv6Assocs {
		v6 = append(v6, a.Cidr)
	}
	return v4, v6
}

func (tx *Tx) pcxOut(c *PeeringConnection) *ec2wire.VpcPeeringConnection {
	code, msg := tx.pcxStatus(c)
	o := &ec2wire.VpcPeeringConnection{VpcPeeringConnectionId: p(c.ID), Tags: tagsOut(c.Tags),
		RequesterVpcInfo: tx.pcxSideOut(c.Requester), AccepterVpcInfo: tx.pcxSideOut(c.Accepter),
		Status: &ec2wire.VpcPeeringConnectionStateReason{Code: p(code), Message: p(msg)}}
	if code == pcxPending || code == pcxExpired {
		o.ExpirationTime = ec2wire.NewTime(c.CreatedAt.Add(pcxExpiry))
	}
	// AWS shows a side's blocks and options while it takes part: the accepter's
	// once it has accepted, the requester's while pending or active.
	if code != pcxActive {
		pcxReduce(o.AccepterVpcInfo)
	}
	if code != pcxActive && code != pcxPending {
		pcxReduce(o.RequesterVpcInfo)
	}
	return o
}

// blocksOverlap reports whether any IPv4 block of a overlaps one of b.
func blocksOverlap(a, b []string) bool {
	for _, x := range a {
		px, err := netip.ParsePrefix(x)
		if err != nil {
			continue
		}
		for _, y := range b {
			if py, err := netip.ParsePrefix(y); err == nil && px.Overlaps(py) {
				return true
			}
		}
	}
	return false
}

// pcxOpenBetween returns a pending or active connection requested from vpc
// to peer, or nil.
func (tx *Tx) pcxOpenBetween(vpc, peer string) *PeeringConnection {
	var found *PeeringConnection
	tx.pcx().Each(func(c *PeeringConnection) bool {
		code, _ := tx.pcxStatus(c)
		if c.Requester.VpcID == vpc && c.Accepter.VpcID == peer && (code == pcxPending || code == pcxActive) {
			found = c
		}
		return found == nil
	})
	return found
}

// PeerVPC is what a request in one region knows of a VPC of another
// region of the server (the API layer reads it before the request's
// transaction: a transaction sees one region).
type PeerVPC struct {
	Region, Owner string
	Cidrs, Ipv6   []string
}

// PeerVPC reads VPC id of a region, or nil when there is none (or the
// region is not served).
func (c *Core) PeerVPC(region, id string) *PeerVPC {
	var out *PeerVPC
	_ = c.View(Caller{Region: region}, func(tx *Tx) error {
		if v := tx.vpcs.Get(id); v != nil {
			out = &PeerVPC{Region: region, Owner: v.Owner}
			out.Cidrs, out.Ipv6 = vpcBlocks(v)
		}
		return nil
	})
	return out
}

// CreateVpcPeeringConnection requests a peering connection from one of the
// caller's VPCs to a VPC of the region, of the caller or of another account.
func (tx *Tx) CreateVpcPeeringConnection(in *ec2wire.CreateVpcPeeringConnectionInput) (*ec2wire.CreateVpcPeeringConnectionOutput, error) {
	return tx.CreateVpcPeeringConnectionWith(in, nil)
}

// CreateVpcPeeringConnectionWith requests a peering connection; peer is
// the accepter VPC as read in PeerRegion when that is not the caller's
// region (nil: none there). The reply says initiating-request; the request
// is then pending-acceptance, or failed when the blocks overlap or the
// named account has no such VPC. A request like an open one answers that
// one, as AWS does.
func (tx *Tx) CreateVpcPeeringConnectionWith(in *ec2wire.CreateVpcPeeringConnectionInput, peer *PeerVPC) (*ec2wire.CreateVpcPeeringConnectionOutput, error) {
	if in.VpcId == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter vpcId")
	}
	v, err := tx.getVPC(*in.VpcId)
	if err != nil {
		return nil, err
	}
	if in.PeerVpcId == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter peerVpcId")
	}
	peerID, owner := *in.PeerVpcId, tx.Account
	if !validID(peerID, "vpc") {
		return nil, errorf(CodeInvalidVpcIDMalformed, "Invalid id: \"%s\" (expecting \"vpc-...\")", peerID)
	}
	if in.PeerOwnerId != nil && *in.PeerOwnerId != "" {
		owner = *in.PeerOwnerId
		if !validAccountID(owner) {
			return nil, errorf(CodeInvalidParameterValue, "Invalid value '%s' for peerOwnerId. It must be a 12-digit AWS account ID.", truncateName(owner))
		}
	}
	region, err := tx.pcxPeerRegion(in.PeerRegion)
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "vpc-peering-connection")
	if err != nil {
		return nil, err
	}
	if region == tx.Region {
		if peerID == v.ID {
			return nil, errorf(CodeInvalidParameterValue, "Cannot create a VPC peering connection between a VPC and itself (%s).", v.ID)
		}
		peer = nil
		if pv := tx.vpcs.Get(peerID); pv != nil {
			peer = &PeerVPC{Region: region, Owner: pv.Owner}
			peer.Cidrs, peer.Ipv6 = vpcBlocks(pv)
		}
		if owner == tx.Account && (peer == nil || peer.Owner != owner) {
			return nil, errorf(CodeInvalidVpcIDNotFound, "The vpc ID '%s' does not exist", peerID)
		}
	}
	if c := tx.pcxOpenBetween(v.ID, peerID); c != nil && c.Accepter.Owner == owner {
		return &ec2wire.CreateVpcPeeringConnectionOutput{VpcPeeringConnection: tx.pcxOut(c)}, nil
	}
	if tx.pcxCount(v.ID, pcxPending, true) >= pcxOutstandingQuota {
		return nil, errorf(CodePcxOutstandingLimit, "You've reached the limit on the number of VPC peering connection requests that you can create for the specified VPC (%d).", pcxOutstandingQuota)
	}
	c := &PeeringConnection{ID: tx.newID("pcx"), CreatedAt: tx.now, StatusAt: tx.now, Tags: tags,
		Requester: PeeringSide{Owner: tx.Account, VpcID: v.ID, Region: tx.Region},
		Accepter:  PeeringSide{Owner: owner, VpcID: peerID, Region: region}}
	c.Requester.Cidrs, c.Requester.Ipv6 = vpcBlocks(v)
	c.Status, c.Message = pcxPending, "Pending Acceptance by "+owner
	if peer == nil || peer.Owner != owner {
		c.Status, c.Message = pcxFailed, pcxFailedMessage
	} else {
		c.Accepter.Cidrs, c.Accepter.Ipv6 = peer.Cidrs, peer.Ipv6
		if blocksOverlap(c.Requester.Cidrs, c.Accepter.Cidrs) {
			c.Status, c.Message = pcxFailed, pcxFailedMessage
		}
	}
	tx.pcx().Put(c)
	out := tx.pcxOut(c)
	out.Status = &ec2wire.VpcPeeringConnectionStateReason{Code: p(pcxInitiating), Message: p("Initiating Request to " + owner)}
	out.ExpirationTime = ec2wire.NewTime(c.CreatedAt.Add(pcxExpiry))
	return &ec2wire.CreateVpcPeeringConnectionOutput{VpcPeeringConnection: out}, nil
}

// pcxPeerRegion returns the accepter's region: PeerRegion, a region this
// server serves, or the caller's.
func (tx *Tx) pcxPeerRegion(r *string) (string, error) {
	if r == nil || *r == "" || *r == tx.Region {
		return tx.Region, nil
	}
	if !slices.Contains(tx.cfg.Regions, *r) {
		return "", errorf(CodeInvalidParameterValue, "Invalid region: %s", truncateName(*r))
	}
	return *r, nil
}

// validAccountID reports whether s is 12 digits.
func validAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// pcxPendingFor returns the connection id names when it is pending and the
// caller owns its accepter VPC (op names the refused operation).
func (tx *Tx) pcxPendingFor(id, op string) (*PeeringConnection, error) {
	c, err := tx.getPcx(id)
	if err != nil {
		return nil, err
	}
	if c.Accepter.Owner != tx.Account {
		return nil, errorf(CodeOperationNotPermitted, "User (%s) cannot %s peering %s", tx.Account, op, c.ID)
	}
	if c.Accepter.Region != tx.Region {
		return nil, errorf(CodeOperationNotPermitted, "Incorrect region (%s) specified for this request. VPC peering connection %s must be accepted or rejected in region %s", tx.Region, c.ID, c.Accepter.Region)
	}
	if code, _ := tx.pcxStatus(c); code != pcxPending {
		return nil, errorf(CodeInvalidStateTransit, "Invalid state transition for %s, attempted to transition from %s to %s", c.ID, code, map[string]string{"accept": pcxActive, "reject": pcxRejected}[op])
	}
	return c, nil
}

// AcceptVpcPeeringConnection activates a pending request; only the owner
// of the accepter VPC may.
func (tx *Tx) AcceptVpcPeeringConnection(in *ec2wire.AcceptVpcPeeringConnectionInput) (*ec2wire.AcceptVpcPeeringConnectionOutput, error) {
	if in.VpcPeeringConnectionId == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter vpcPeeringConnectionId")
	}
	c, err := tx.pcxPendingFor(*in.VpcPeeringConnectionId, "accept")
	if err != nil {
		return nil, err
	}
	for _, vpc := range []string{c.Requester.VpcID, c.Accepter.VpcID} {
		if tx.pcxCount(vpc, pcxActive, false) >= pcxActiveQuota {
			return nil, errorf(CodePcxActiveLimit, "You've reached the limit on the number of active VPC peering connections for VPC %s (%d).", vpc, pcxActiveQuota)
		}
	}
	m := tx.pcx().Mut(c.ID)
	m.Status, m.Message, m.StatusAt = pcxActive, "Active", tx.now
	return &ec2wire.AcceptVpcPeeringConnectionOutput{VpcPeeringConnection: tx.pcxOut(m)}, nil
}

// RejectVpcPeeringConnection rejects a pending request; only the owner of
// the accepter VPC may.
func (tx *Tx) RejectVpcPeeringConnection(in *ec2wire.RejectVpcPeeringConnectionInput) (*ec2wire.RejectVpcPeeringConnectionOutput, error) {
	c, err := tx.pcxPendingFor(str(in.VpcPeeringConnectionId), "reject")
	if err != nil {
		return nil, err
	}
	m := tx.pcx().Mut(c.ID)
	m.Status, m.Message, m.StatusAt, m.EndedBy = pcxRejected, "Rejected by "+tx.Account, tx.now, tx.Account
	return &ec2wire.RejectVpcPeeringConnectionOutput{Return: p(true)}, nil
}

// DeleteVpcPeeringConnection deletes an active connection (either side) or
// withdraws a pending request (its requester); routes to it go blackhole.
func (tx *Tx) DeleteVpcPeeringConnection(in *ec2wire.DeleteVpcPeeringConnectionInput) (*ec2wire.DeleteVpcPeeringConnectionOutput, error) {
	c, err := tx.getPcx(str(in.VpcPeeringConnectionId))
	if err != nil {
		return nil, err
	}
	code, _ := tx.pcxStatus(c)
	switch {
	case code == pcxPending && c.Requester.Owner != tx.Account:
		return nil, errorf(CodeOperationNotPermitted, "User (%s) cannot delete peering %s: only the requester may withdraw a pending request; reject it instead", tx.Account, c.ID)
	case code != pcxActive && code != pcxPending:
		// AWS's words; Terraform's provider matches "to deleting" to treat it as gone.
		return nil, errorf(CodeInvalidStateTransit, "Invalid state transition for %s, attempted to transition from %s to deleting", c.ID, code)
	}
	m := tx.pcx().Mut(c.ID)
	m.Status, m.Message, m.StatusAt, m.EndedBy = pcxDeleted, "Deleted by "+tx.Account, tx.now, tx.Account
	return &ec2wire.DeleteVpcPeeringConnectionOutput{Return: p(true)}, nil
}

// pcxFilters are DescribeVpcPeeringConnections' filters.
func (tx *Tx) pcxFilters() filterSet[PeeringConnection] {
	side := func(f func(PeeringSide) []string, accepter bool) func(*PeeringConnection) []string {
		return func(c *PeeringConnection) []string {
			if accepter {
				return f(c.Accepter)
			}
			return f(c.Requester)
		}
	}
	blocks := func(s PeeringSide) []string {
		if v := tx.vpcs.Get(s.VpcID); v != nil && s.Region == tx.Region {
			v4, _ := vpcBlocks(v)
			return v4
		}
		return s.Cidrs
	}
	owner := func(s PeeringSide) []string { return []string{s.Owner} }
	vpc := func(s PeeringSide) []string { return []string{s.VpcID} }
	fs := filterSet[PeeringConnection]{
		"status-code":    func(c *PeeringConnection) []string { code, _ := tx.pcxStatus(c); return []string{code} },
		"status-message": func(c *PeeringConnection) []string { _, m := tx.pcxStatus(c); return []string{m} },
		"expiration-time": func(c *PeeringConnection) []string {
			return []string{c.CreatedAt.Add(pcxExpiry).UTC().Format(ec2wire.TimeFormat)}
		},
		"vpc-peering-connection-id": func(c *PeeringConnection) []string { return []string{c.ID} },
	}
	for _, s := range []struct {
		name     string
		accepter bool
	}{{"requester-vpc-info", false}, {"accepter-vpc-info", true}} {
		fs[s.name+".cidr-block"] = side(blocks, s.accepter)
		fs[s.name+".owner-id"] = side(owner, s.accepter)
		fs[s.name+".vpc-id"] = side(vpc, s.accepter)
	}
	return fs
}

// DescribeVpcPeeringConnections lists the connections the caller is a
// party to.
func (tx *Tx) DescribeVpcPeeringConnections(in *ec2wire.DescribeVpcPeeringConnectionsInput) (*ec2wire.DescribeVpcPeeringConnectionsOutput, error) {
	m, err := newMatcher(tx.pcxFilters(), func(c *PeeringConnection) Tags { return c.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.VpcPeeringConnectionIds {
		if _, err := tx.getPcx(id); err != nil {
			return nil, err
		}
	}
	items := tx.pcx().Sorted(func(c *PeeringConnection) bool {
		return tx.pcxVisible(c) && (len(in.VpcPeeringConnectionIds) == 0 || contains(in.VpcPeeringConnectionIds, c.ID)) && m.match(c)
	})
	page, next, err := paginate(items, func(c *PeeringConnection) string { return c.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeVpcPeeringConnectionsOutput{NextToken: next}
	for _, c := range page {
		out.VpcPeeringConnections = append(out.VpcPeeringConnections, *tx.pcxOut(c))
	}
	return out, nil
}

// ModifyVpcPeeringConnectionOptions sets AllowDnsResolutionFromRemoteVpc
// of an active connection, each side by its VPC's owner. The ClassicLink
// options cannot be turned on, as ClassicLink is gone since EC2-Classic was
// retired.
func (tx *Tx) ModifyVpcPeeringConnectionOptions(in *ec2wire.ModifyVpcPeeringConnectionOptionsInput) (*ec2wire.ModifyVpcPeeringConnectionOptionsOutput, error) {
	c, err := tx.getPcx(str(in.VpcPeeringConnectionId))
	if err != nil {
		return nil, err
	}
	if in.AccepterPeeringConnectionOptions == nil && in.RequesterPeeringConnectionOptions == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter AccepterPeeringConnectionOptions or RequesterPeeringConnectionOptions")
	}
	if code, _ := tx.pcxStatus(c); code != pcxActive {
		return nil, errorf(CodeOperationNotPermitted, "Peering %s is not active. Peering options can be added only to active peerings.", c.ID)
	}
	m := tx.pcx().Mut(c.ID)
	out := &ec2wire.ModifyVpcPeeringConnectionOptionsOutput{}
	for _, s := range []struct {
		req  *ec2wire.PeeringConnectionOptionsRequest
		side *PeeringSide
		name string
		out  **ec2wire.PeeringConnectionOptions
	}{{in.RequesterPeeringConnectionOptions, &m.Requester, "requester", &out.RequesterPeeringConnectionOptions},
		{in.AccepterPeeringConnectionOptions, &m.Accepter, "accepter", &out.AccepterPeeringConnectionOptions}} {
		if s.req == nil {
			continue
		}
		if s.side.Owner != tx.Account {
			return nil, errorf(CodeOperationNotPermitted, "User (%s) cannot modify the %s options of peering %s: they belong to account %s", tx.Account, s.name, c.ID, s.side.Owner)
		}
		if boolv(s.req.AllowEgressFromLocalClassicLinkToRemoteVpc) || boolv(s.req.AllowEgressFromLocalVpcToRemoteClassicLink) {
			return nil, classicLinkUnsupported() // false, which Terraform's provider sends, changes nothing
		}
		if s.req.AllowDnsResolutionFromRemoteVpc != nil {
			s.side.AllowDNS = *s.req.AllowDnsResolutionFromRemoteVpc
		}
		*s.out = &ec2wire.PeeringConnectionOptions{AllowDnsResolutionFromRemoteVpc: p(s.side.AllowDNS),
			AllowEgressFromLocalClassicLinkToRemoteVpc: p(false), AllowEgressFromLocalVpcToRemoteClassicLink: p(false)}
	}
	return out, nil
}

// pcxRouteTarget checks a route of table r to connection id for dest: a
// connection of the table's VPC, active or still pending acceptance (the
// route is then a blackhole until it is accepted, as on AWS); the
// destination not within the VPC's own blocks.
func (tx *Tx) pcxRouteTarget(r *RouteTable, id string, dest netip.Prefix) (Route, error) {
	c, err := tx.getPcx(id)
	if err != nil {
		return Route{}, err
	}
	if c.Requester.VpcID != r.VpcID && c.Accepter.VpcID != r.VpcID {
		return Route{}, errorf(CodeInvalidParameterValue, "route table %s and peering connection %s belong to different networks", r.ID, c.ID)
	}
	if code, _ := tx.pcxStatus(c); code != pcxActive && code != pcxPending {
		return Route{}, errorf(CodeInvalidParameterValue, "Peering connection %s is %s; a route can target only an active peering connection or one pending acceptance.", c.ID, code)
	}
	if v := tx.vpcs.Get(r.VpcID); v != nil {
		for _, l := range rtbLocalRoutes(v) {
			if b, err := netip.ParsePrefix(routeDest(l)); err == nil && subnetWithin(dest, b) {
				return Route{}, errorf(CodeInvalidParameterValue, "The destination CIDR block %s is equal to or more specific than one of this VPC's CIDR blocks. This route can target only an interface or an instance.", dest)
			}
		}
	}
	return Route{VpcPeeringConnectionID: c.ID}, nil
}

// pcxActiveFor returns the connection id if it is active and joins vpc to
// another VPC, and that VPC's id.
func (tx *Tx) pcxActiveFor(id, vpc string) (*PeeringConnection, string) {
	c := tx.pcx().Get(id)
	if c == nil {
		return nil, ""
	}
	if code, _ := tx.pcxStatus(c); code != pcxActive {
		return nil, ""
	}
	switch vpc {
	case c.Requester.VpcID:
		return c, c.Accepter.VpcID
	case c.Accepter.VpcID:
		return c, c.Requester.VpcID
	}
	return nil, ""
}

// pcxOfVPC returns an active connection of the VPC, or "" (DeleteVpc's
// dependency).
func (tx *Tx) pcxOfVPC(vpc string) string {
	var id string
	tx.pcx().Each(func(c *PeeringConnection) bool {
		if c.Requester.VpcID == vpc || c.Accepter.VpcID == vpc {
			if code, _ := tx.pcxStatus(c); code == pcxActive {
				id = c.ID
			}
		}
		return id == ""
	})
	return id
}

// pcxVPCGone ends the pending requests of a VPC being deleted.
func (tx *Tx) pcxVPCGone(vpc string) {
	pending := tx.pcx().Sorted(func(c *PeeringConnection) bool {
		code, _ := tx.pcxStatus(c)
		return code == pcxPending && (c.Requester.VpcID == vpc || c.Accepter.VpcID == vpc)
	})
	for _, c := range pending {
		m := tx.pcx().Mut(c.ID)
		m.Status, m.Message, m.StatusAt, m.EndedBy = pcxDeleted, "Deleted by "+tx.Account, tx.now, tx.Account
	}
}

// HostPeering is an active peering connection between two VPCs of the
// region, as the data plane realises it (a link between their routers).
type HostPeering struct {
	ID   string
	VPCs [2]string // requester, accepter
}

// HostPeerRoute is a subnet's route to a peering connection: traffic from
// the subnet to Dest crosses to the connection's other VPC.
type HostPeerRoute struct {
	Dest, PeeringID string
}

// hostPeerings lists the active connections whose VPCs both exist.
func (tx *Tx) hostPeerings() []HostPeering {
	var out []HostPeering
	for _, c := range tx.pcx().Sorted(nil) {
		if code, _ := tx.pcxStatus(c); code != pcxActive || tx.vpcs.Get(c.Requester.VpcID) == nil || tx.vpcs.Get(c.Accepter.VpcID) == nil {
			continue
		}
		out = append(out, HostPeering{ID: c.ID, VPCs: [2]string{c.Requester.VpcID, c.Accepter.VpcID}})
	}
	return out
}

// hostPeerRoutes returns the IPv4 routes of table r (in effect for a subnet
// of vpc) that go to an active connection of vpc.
func (tx *Tx) hostPeerRoutes(vpc string, r *RouteTable) []HostPeerRoute {
	if r == nil {
		return nil
	}
	var out []HostPeerRoute
	for _, rt := range r.Routes {
		if rt.VpcPeeringConnectionID == "" || rt.DestinationCidrBlock == "" {
			continue
		}
		if c, _ := tx.pcxActiveFor(rt.VpcPeeringConnectionID, vpc); c != nil {
			out = append(out, HostPeerRoute{Dest: rt.DestinationCidrBlock, PeeringID: c.ID})
		}
	}
	return out
}

// pcxBetween returns an active connection joining VPCs a and b, or "" (a
// security group may reference a group of a peered VPC).
func (tx *Tx) pcxBetween(a, b string) string {
	var id string
	tx.pcx().Each(func(c *PeeringConnection) bool {
		if (c.Requester.VpcID == a && c.Accepter.VpcID == b) || (c.Requester.VpcID == b && c.Accepter.VpcID == a) {
			if code, _ := tx.pcxStatus(c); code == pcxActive {
				id = c.ID
			}
		}
		return id == ""
	})
	return id
}

// pcxStore holds the peering connections of every region of a core: a
// connection between VPCs of two regions is one record, seen and changed
// from both. Its table is copy-on-write: a read transaction reads the
// snapshot it started with; a write transaction takes mu at its first use
// of the table (tx.pcx) and holds it to its end, so that changes from two
// regions never interleave. mu is taken only under a region's lock and no
// region lock is taken under it.
type pcxStore struct {
	mu   sync.Mutex
	snap atomic.Pointer[table[PeeringConnection, *PeeringConnection]]
}

func newPcxStore() *pcxStore {
	s := &pcxStore{}
	s.snap.Store(newTable[PeeringConnection]("pcx"))
	return s
}

// decode and put load stored records (before the core serves).
func (s *pcxStore) decode(id string, val []byte) (any, error) { return s.snap.Load().decode(id, val) }
func (s *pcxStore) put(id string, v any)                      { s.snap.Load().put(id, v) }

// replace takes o's records (Reload, Clear).
func (s *pcxStore) replace(o *pcxStore) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.Store(o.snap.Load())
}

// dump adds the records to a Dump, each under its requester's region.
func (s *pcxStore) dump(out map[string]string) {
	for id, v := range s.snap.Load().rows {
		b, _ := json.Marshal(v) // records are plain data
		out["pcx/"+v.Requester.Region+"/"+id] = string(b)
	}
}

// pcx is the transaction's view of the peering connections; a write
// transaction locks the store at its first call and reads its latest state.
func (tx *Tx) pcx() *txTable[PeeringConnection, *PeeringConnection] {
	if !tx.readOnly && !tx.pcxHeld {
		tx.pcxStore.mu.Lock()
		tx.pcxHeld = true
		tx.pcxs.base = tx.pcxStore.snap.Load()
	}
	return &tx.pcxs
}

// pcxRelease unlocks the store at the end of a write transaction.
func (tx *Tx) pcxRelease() {
	if tx.pcxHeld {
		tx.pcxHeld = false
		tx.pcxStore.mu.Unlock()
	}
}

// pcxChanges adds the transaction's peering changes to cs, each keyed by
// its requester's region (where it was created).
func (tx *Tx) pcxChanges(cs *ChangeSet) error {
	ids := slices.Sorted(maps.Keys(tx.pcxs.over))
	for _, id := range ids {
		v := tx.pcxs.over[id]
		if v == nil {
			continue // connections are ended, never removed
		}
		b, err := encodeRecord(v)
		if err != nil {
			return fmt.Errorf("encode pcx %s: %w", id, err)
		}
		cs.Changes = append(cs.Changes, Change{Kind: "pcx", Key: v.Requester.Region + "/" + id, Value: b})
	}
	return nil
}

// pcxApply publishes the transaction's peering changes (committed, under
// the store's lock): a new snapshot.
func (tx *Tx) pcxApply() {
	if !tx.pcxHeld || len(tx.pcxs.over) == 0 {
		return
	}
	next := newTable[PeeringConnection]("pcx")
	maps.Copy(next.rows, tx.pcxStore.snap.Load().rows)
	for id, v := range tx.pcxs.over {
		if v != nil {
			next.rows[id] = v
		}
	}
	tx.pcxStore.snap.Store(next)
	tx.pcxs.base = next
	tx.pcxs.over = nil
}

// pcxDNSFrom reports whether instances of VPC remote resolve the public DNS
// names of VPC local to private addresses: an active connection joins them
// and local's side allows it (AllowDnsResolutionFromRemoteVpc).
func (tx *Tx) pcxDNSFrom(local, remote string) bool {
	id := tx.pcxBetween(local, remote)
	if id == "" {
		return false
	}
	c := tx.pcx().Get(id)
	if c.Requester.VpcID == local {
		return c.Requester.AllowDNS
	}
	return c.Accepter.AllowDNS
}

// pcxReduce leaves a side's owner, VPC and region only.
func pcxReduce(s *ec2wire.VpcPeeringConnectionVpcInfo) {
	s.CidrBlock, s.CidrBlockSet, s.Ipv6CidrBlockSet, s.PeeringOptions = nil, nil, nil, nil
}
