package core

// VPC endpoints. A gateway endpoint (S3, DynamoDB) is a route: the service's
// AWS-managed prefix list → vpce-… in each chosen route table. An interface
// endpoint is one requester-managed network interface (interface type
// vpc_endpoint) per chosen subnet, one subnet per zone, with the chosen
// security groups, DNS names and optionally the service's own name (private
// DNS). Endpoints are available as soon as they are created (the reply
// says pending, as AWS's does) and deleted at once: a gateway endpoint is
// gone (NotFound) as its routes are, an interface endpoint is described as
// deleted for an hour, then NotFound.

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// VPC endpoint error codes.
const (
	CodeInvalidVpcEndpointIDNotFound  = "InvalidVpcEndpointId.NotFound"
	CodeInvalidVpcEndpointIDMalformed = "InvalidVpcEndpointId.Malformed"
	CodeInvalidVpcEndpointNotFound    = "InvalidVpcEndpoint.NotFound"
	CodeInvalidServiceName            = "InvalidServiceName"
	CodeDuplicateSubnetsInSameZone    = "DuplicateSubnetsInSameZone"
)

func init() {
	Codes = append(Codes, CodeInvalidVpcEndpointIDNotFound, CodeInvalidVpcEndpointIDMalformed,
		CodeInvalidVpcEndpointNotFound, CodeInvalidServiceName, CodeDuplicateSubnetsInSameZone)
}

// VPC endpoint states.
const (
	vpcePending   = "pending"
	vpceAvailable = "available"
	vpceDeleting  = "deleting"
	vpceDeleted   = "deleted"
)

// vpceDeletedVisible is how long a deleted endpoint is still described.
const vpceDeletedVisible = time.Hour

// VpcEndpoint is a gateway or interface VPC endpoint.
type VpcEndpoint struct {
	ID            string    `json:"id"`
	Owner         string    `json:"owner"`
	VpcID         string    `json:"vpcId"`
	ServiceName   string    `json:"serviceName"`
	Type          string    `json:"type"` // Gateway | Interface
	State         string    `json:"state"`
	Policy        string    `json:"policy,omitempty"`
	PrivateDNS    bool      `json:"privateDns,omitempty"`
	RouteTableIDs []string  `json:"routeTableIds,omitempty"` // Gateway
	SubnetIDs     []string  `json:"subnetIds,omitempty"`     // Interface, one per zone
	ENIIDs        []string  `json:"eniIds,omitempty"`        // Interface, one per subnet, same order
	Groups        []string  `json:"groups,omitempty"`        // Interface
	CreatedAt     time.Time `json:"createdAt"`
	DeletedAt     time.Time `json:"deletedAt,omitzero"`
	Tags          Tags      `json:"tags,omitempty"`
}

func (e *VpcEndpoint) key() string { return e.ID }
func (e *VpcEndpoint) clone() *VpcEndpoint {
	c := *e
	c.RouteTableIDs, c.SubnetIDs = slices.Clone(e.RouteTableIDs), slices.Clone(e.SubnetIDs)
	c.ENIIDs, c.Groups = slices.Clone(e.ENIIDs), slices.Clone(e.Groups)
	c.Tags = maps.Clone(e.Tags)
	return &c
}

// vpceVisible reports whether the caller sees the endpoint.
func (tx *Tx) vpceVisible(e *VpcEndpoint) bool {
	return e.Owner == tx.Account && (e.State != vpceDeleted || tx.now.Sub(e.DeletedAt) < vpceDeletedVisible)
}

func (tx *Tx) getVpce(id string) (*VpcEndpoint, error) {
	if !validID(id, "vpce") {
		return nil, errorf(CodeInvalidVpcEndpointIDMalformed, "Invalid id: \"%s\" (expecting \"vpce-...\")", id)
	}
	e := tx.vpces.Get(id)
	if e == nil || !tx.vpceVisible(e) {
		return nil, errorf(CodeInvalidVpcEndpointIDNotFound, "The Vpc Endpoint Id '%s' does not exist", id)
	}
	return e, nil
}

// vpceLive returns the caller's endpoint that is not deleted.
func (tx *Tx) vpceLive(id string) (*VpcEndpoint, error) {
	e, err := tx.getVpce(id)
	if err == nil && e.State == vpceDeleted {
		err = errorf(CodeInvalidVpcEndpointIDNotFound, "The Vpc Endpoint Id '%s' does not exist", id)
	}
	return e, err
}

// vpceInVPC returns an endpoint left in a VPC ("" if none).
func (tx *Tx) vpceInVPC(vpcID string) string {
	id := ""
	tx.vpces.Each(func(e *VpcEndpoint) bool {
		if e.VpcID == vpcID && e.State != vpceDeleted {
			id = e.ID
		}
		return id == ""
	})
	return id
}

// vpceRouteActive reports whether a route's gateway vpce-… is a live
// endpoint (RouteState).
func (tx *Tx) vpceRouteActive(id string) bool {
	e := tx.vpces.Get(id)
	return e != nil && e.State != vpceDeleted
}

// vpcePolicy checks a policy document (JSON) or gives the default one.
func vpcePolicy(doc *string) (string, error) {
	if doc == nil {
		return vpceDefaultPolicy, nil
	}
	if !json.Valid([]byte(*doc)) {
		return "", errorf(CodeInvalidParameter, "The policy document is not valid JSON.")
	}
	return *doc, nil
}

// vpcePrivateDNSCheck checks that private DNS may be on for an interface
// endpoint of a VPC: the service must have a name and the VPC both DNS
// attributes (S3's needs a gateway endpoint in the VPC too).
func (tx *Tx) vpcePrivateDNSCheck(e *VpcEndpoint, v *VPC) error {
	if tx.vpcePrivateName(e) == "" {
		return errorf(CodeInvalidParameter, "Private DNS can't be enabled because the service %s does not provide a private DNS name.", e.ServiceName)
	}
	if !v.EnableDnsSupport || !v.EnableDnsHostnames {
		return errorf(CodeInvalidParameter, "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for %s", v.ID)
	}
	if e.ServiceName == tx.serviceName("s3") && !tx.vpceHasGateway(v.ID, e.ServiceName) {
		return errorf(CodeInvalidParameter, "To set PrivateDnsOnlyForInboundResolverEndpoint to true, the VPC %s must have a Gateway endpoint for the service.", v.ID)
	}
	return nil
}

func (tx *Tx) vpceHasGateway(vpcID, service string) bool {
	found := false
	tx.vpces.Each(func(e *VpcEndpoint) bool {
		found = e.VpcID == vpcID && e.ServiceName == service && e.Type == vpceGateway && e.State != vpceDeleted
		return !found
	})
	return found
}

// CreateVpcEndpoint creates a gateway or interface endpoint to an AWS service.
func (tx *Tx) CreateVpcEndpoint(in *ec2wire.CreateVpcEndpointInput) (*ec2wire.CreateVpcEndpointOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	typ := str(in.VpcEndpointType)
	if typ == "" {
		typ = vpceGateway
	}
	if typ != vpceGateway && typ != vpceInterface && typ != vpceGWLB {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter vpcEndpointType is invalid. Valid values are Interface, Gateway, GatewayLoadBalancer, Resource, ServiceNetwork.", typ)
	}
	if _, err := tx.vpceFindService(str(in.ServiceName), typ); err != nil {
		return nil, err
	}
	if t := str(in.IpAddressType); t != "" && t != "ipv4" {
		return nil, errorf(CodeInvalidParameter, "The VPC endpoint service %s does not support IP address type %s.", str(in.ServiceName), t)
	}
	policy, err := vpcePolicy(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "vpc-endpoint")
	if err != nil {
		return nil, err
	}
	e := &VpcEndpoint{ID: tx.newID("vpce"), Owner: tx.Account, VpcID: v.ID, ServiceName: str(in.ServiceName), Type: typ,
		State: vpceAvailable, Policy: policy, CreatedAt: tx.now, Tags: tags}
	if typ == vpceGateway {
		err = tx.vpceCreateGateway(e, in)
	} else {
		err = tx.vpceCreateInterface(e, v, in)
	}
	if err != nil {
		return nil, err
	}
	tx.vpcePurge()
	tx.vpces.Put(e)
	return &ec2wire.CreateVpcEndpointOutput{VpcEndpoint: tx.vpceOut(e, vpcePending), ClientToken: in.ClientToken}, nil
}

func (tx *Tx) vpceCreateGateway(e *VpcEndpoint, in *ec2wire.CreateVpcEndpointInput) error {
	if len(in.SubnetIds) > 0 || len(in.SecurityGroupIds) > 0 {
		return errorf(CodeInvalidParameter, "Subnets and security groups are not supported for Gateway VPC endpoints.")
	}
	if boolv(in.PrivateDnsEnabled) {
		return errorf(CodeInvalidParameter, "Private DNS is not supported for Gateway VPC endpoints.")
	}
	return tx.vpceAddRoutes(e, in.RouteTableIds)
}

func (tx *Tx) vpceCreateInterface(e *VpcEndpoint, v *VPC, in *ec2wire.CreateVpcEndpointInput) error {
	if len(in.RouteTableIds) > 0 {
		return errorf(CodeInvalidParameter, "Route tables are not supported for Interface VPC endpoints.")
	}
	// AWS's default is on for a service with a private name (S3's needs a
	// gateway endpoint, so it is off unless asked).
	e.PrivateDNS = tx.vpcePrivateName(e) != "" && e.ServiceName != tx.serviceName("s3")
	if in.PrivateDnsEnabled != nil {
		e.PrivateDNS = *in.PrivateDnsEnabled
	}
	if e.PrivateDNS {
		if err := tx.vpcePrivateDNSCheck(e, v); err != nil {
			return err
		}
	}
	groups, err := tx.vpceGroups(v.ID, in.SecurityGroupIds)
	if err != nil {
		return err
	}
	e.Groups = groups
	return tx.vpceAddSubnets(e, in.SubnetIds)
}

// vpceGroups checks an interface endpoint's groups (the VPC's default
// group when none).
func (tx *Tx) vpceGroups(vpcID string, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		g, err := tx.getGroup(id)
		if err != nil {
			return nil, err
		}
		if g.VpcID != vpcID {
			return nil, errorf(CodeInvalidParameter, "The security group %s does not belong to VPC %s.", id, vpcID)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > eniMaxGroups {
		return nil, errorf(CodeSGsPerInterfaceLimitExceeded, "The maximum number of security groups per interface has been reached.")
	}
	if len(out) == 0 {
		if def := tx.eniDefaultGroup(vpcID); def != "" {
			out = []string{def}
		}
	}
	return out, nil
}

// vpceAddRoutes adds the service's prefix list route → the endpoint to
// route tables of its VPC.
func (tx *Tx) vpceAddRoutes(e *VpcEndpoint, ids []string) error {
	pl := awsListID(tx.Region, e.ServiceName)
	for _, id := range ids {
		r, err := tx.getRouteTable(id)
		if err != nil {
			return err
		}
		if r.VpcID != e.VpcID {
			return errorf(CodeInvalidParameter, "The route table %s does not belong to VPC %s.", id, e.VpcID)
		}
		if slices.Contains(e.RouteTableIDs, id) {
			continue
		}
		if rtbFind(r.Routes, pl) >= 0 {
			return errorf(CodeRouteAlreadyExists, "route table %s already has a route with destination-prefix-list-id %s", id, pl)
		}
		m := tx.rtbs.Mut(id)
		m.Routes = append(m.Routes, Route{DestinationPrefixListID: pl, GatewayID: e.ID, Origin: "CreateRoute"})
		e.RouteTableIDs = append(e.RouteTableIDs, id)
	}
	return nil
}

// vpceRemoveRoutes takes the endpoint's route out of route tables.
func (tx *Tx) vpceRemoveRoutes(e *VpcEndpoint, ids []string) {
	for _, id := range ids {
		if r := tx.rtbs.Get(id); r != nil {
			if j := slices.IndexFunc(r.Routes, func(rt Route) bool { return rt.GatewayID == e.ID }); j >= 0 {
				m := tx.rtbs.Mut(id)
				m.Routes = slices.Delete(m.Routes, j, j+1)
			}
		}
		e.RouteTableIDs = slices.DeleteFunc(e.RouteTableIDs, func(s string) bool { return s == id })
	}
}

// vpceAddSubnets creates the endpoint's network interface in each subnet,
// one subnet per zone.
func (tx *Tx) vpceAddSubnets(e *VpcEndpoint, ids []string) error {
	for _, id := range ids {
		s, err := tx.getSubnet(id)
		if err != nil {
			return err
		}
		if s.VpcID != e.VpcID {
			return errorf(CodeInvalidParameter, "The subnet %s does not belong to VPC %s.", id, e.VpcID)
		}
		if slices.Contains(e.SubnetIDs, id) {
			continue
		}
		for _, other := range e.SubnetIDs {
			if o := tx.subnets.Get(other); o != nil && o.AZ == s.AZ {
				return errorf(CodeDuplicateSubnetsInSameZone, "Found another VPC endpoint subnet in the availability zone of %s. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.", id)
			}
		}
		n, err := tx.createENI(eniSpec{Subnet: s, Groups: e.Groups, IPv6Count: -1, InterfaceType: "vpc_endpoint",
			Description: "VPC Endpoint Interface " + e.ID, RequesterManaged: true, RequesterID: vpceRequesterID})
		if err != nil {
			return err
		}
		tx.enis.Mut(n.ID).Attachment = &Attachment{ID: tx.newID("ela-attach"), InstanceOwner: "amazon-aws", DeviceIndex: 1, Status: "attached", AttachTime: tx.now}
		e.SubnetIDs = append(e.SubnetIDs, id)
		e.ENIIDs = append(e.ENIIDs, n.ID)
	}
	return nil
}

// vpceRemoveSubnets deletes the endpoint's network interfaces in subnets.
func (tx *Tx) vpceRemoveSubnets(e *VpcEndpoint, ids []string) {
	for _, id := range ids {
		i := slices.Index(e.SubnetIDs, id)
		if i < 0 {
			continue
		}
		if tx.enis.Get(e.ENIIDs[i]) != nil {
			tx.deleteENI(e.ENIIDs[i])
		}
		e.SubnetIDs = slices.Delete(e.SubnetIDs, i, i+1)
		e.ENIIDs = slices.Delete(e.ENIIDs, i, i+1)
	}
}

// vpcePurge forgets endpoints deleted long enough ago to be invisible.
func (tx *Tx) vpcePurge() {
	var old []string
	tx.vpces.Each(func(e *VpcEndpoint) bool {
		if e.State == vpceDeleted && tx.now.Sub(e.DeletedAt) >= vpceDeletedVisible {
			old = append(old, e.ID)
		}
		return true
	})
	for _, id := range old {
		tx.vpces.Delete(id)
	}
}

// DeleteVpcEndpoints deletes endpoints: their routes and network interfaces
// go with them. Ids that are not the caller's endpoints are listed as
// unsuccessful, the others deleted.
func (tx *Tx) DeleteVpcEndpoints(in *ec2wire.DeleteVpcEndpointsInput) (*ec2wire.DeleteVpcEndpointsOutput, error) {
	if len(in.VpcEndpointIds) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter VpcEndpointId")
	}
	out := &ec2wire.DeleteVpcEndpointsOutput{}
	for _, id := range in.VpcEndpointIds {
		e, err := tx.vpceLive(id)
		if err != nil {
			code, msg := CodeInvalidVpcEndpointNotFound, "The Vpc Endpoint Id '"+id+"' does not exist"
			if !validID(id, "vpce") {
				code, msg = CodeInvalidVpcEndpointIDMalformed, "Invalid id: \""+id+"\" (expecting \"vpce-...\")"
			}
			out.Unsuccessful = append(out.Unsuccessful, ec2wire.UnsuccessfulItem{ResourceId: p(id),
				Error: &ec2wire.UnsuccessfulItemError{Code: p(code), Message: p(msg)}})
			continue
		}
		m := tx.vpces.Mut(e.ID)
		tx.vpceRemoveRoutes(m, slices.Clone(m.RouteTableIDs))
		tx.vpceRemoveSubnets(m, slices.Clone(m.SubnetIDs))
		m.State, m.DeletedAt = vpceDeleted, tx.now
		if m.Type == vpceGateway {
			// AWS describes a deleted gateway endpoint no more (amazon.aws's
			// ec2_vpc_endpoint target, run against AWS, asks for it by id
			// right after and expects InvalidVpcEndpointId.NotFound).
			tx.vpces.Delete(e.ID)
		}
	}
	tx.vpcePurge()
	return out, nil
}

// ModifyVpcEndpoint changes an endpoint's route tables, subnets, security
// groups, private DNS or policy. Every change is checked before any applies.
func (tx *Tx) ModifyVpcEndpoint(in *ec2wire.ModifyVpcEndpointInput) (*ec2wire.ModifyVpcEndpointOutput, error) {
	e, err := tx.vpceLive(str(in.VpcEndpointId))
	if err != nil {
		return nil, err
	}
	m := e.clone()
	if err := tx.vpceModifyCommon(m, in); err != nil {
		return nil, err
	}
	if m.Type == vpceGateway {
		err = tx.vpceModifyGateway(m, in)
	} else {
		err = tx.vpceModifyInterface(m, in)
	}
	if err != nil {
		return nil, err
	}
	tx.vpces.Put(m)
	return &ec2wire.ModifyVpcEndpointOutput{Return: p(true)}, nil
}

func (tx *Tx) vpceModifyCommon(m *VpcEndpoint, in *ec2wire.ModifyVpcEndpointInput) error {
	if in.PolicyDocument != nil && boolv(in.ResetPolicy) {
		return errorf(CodeInvalidParameterCombination, "The parameters PolicyDocument and ResetPolicy cannot be specified together.")
	}
	if in.PolicyDocument != nil || boolv(in.ResetPolicy) {
		doc := in.PolicyDocument
		if boolv(in.ResetPolicy) {
			doc = nil
		}
		policy, err := vpcePolicy(doc)
		if err != nil {
			return err
		}
		m.Policy = policy
	}
	if t := str(in.IpAddressType); t != "" && t != "ipv4" {
		return errorf(CodeInvalidParameter, "The VPC endpoint service %s does not support IP address type %s.", m.ServiceName, t)
	}
	return nil
}

func (tx *Tx) vpceModifyGateway(m *VpcEndpoint, in *ec2wire.ModifyVpcEndpointInput) error {
	if len(in.AddSubnetIds)+len(in.RemoveSubnetIds)+len(in.AddSecurityGroupIds)+len(in.RemoveSecurityGroupIds) > 0 {
		return errorf(CodeInvalidParameter, "Subnets and security groups are not supported for Gateway VPC endpoints.")
	}
	if boolv(in.PrivateDnsEnabled) {
		return errorf(CodeInvalidParameter, "Private DNS is not supported for Gateway VPC endpoints.")
	}
	for _, id := range in.RemoveRouteTableIds {
		if _, err := tx.getRouteTable(id); err != nil {
			return err
		}
	}
	tx.vpceRemoveRoutes(m, in.RemoveRouteTableIds)
	return tx.vpceAddRoutes(m, in.AddRouteTableIds)
}

func (tx *Tx) vpceModifyInterface(m *VpcEndpoint, in *ec2wire.ModifyVpcEndpointInput) error {
	if len(in.AddRouteTableIds)+len(in.RemoveRouteTableIds) > 0 {
		return errorf(CodeInvalidParameter, "Route tables are not supported for Interface VPC endpoints.")
	}
	v := tx.vpcs.Get(m.VpcID)
	if in.PrivateDnsEnabled != nil {
		m.PrivateDNS = *in.PrivateDnsEnabled
		if m.PrivateDNS && v != nil {
			if err := tx.vpcePrivateDNSCheck(m, v); err != nil {
				return err
			}
		}
	}
	groups := slices.DeleteFunc(slices.Clone(m.Groups), func(g string) bool { return slices.Contains(in.RemoveSecurityGroupIds, g) })
	groups, err := tx.vpceGroups(m.VpcID, append(groups, in.AddSecurityGroupIds...))
	if err != nil {
		return err
	}
	m.Groups = groups
	for _, id := range in.RemoveSubnetIds {
		if _, err := tx.getSubnet(id); err != nil {
			return err
		}
	}
	tx.vpceRemoveSubnets(m, in.RemoveSubnetIds)
	if err := tx.vpceAddSubnets(m, in.AddSubnetIds); err != nil {
		return err
	}
	for _, id := range m.ENIIDs {
		if n := tx.enis.Get(id); n != nil && !slices.Equal(n.Groups, m.Groups) {
			tx.enis.Mut(id).Groups = slices.Clone(m.Groups)
		}
	}
	return nil
}

func (tx *Tx) vpceOut(e *VpcEndpoint, state string) *ec2wire.VpcEndpoint {
	if state == "" {
		state = e.State
	}
	o := &ec2wire.VpcEndpoint{VpcEndpointId: p(e.ID), VpcEndpointType: p(e.Type), VpcId: p(e.VpcID), ServiceName: p(e.ServiceName),
		State: p(state), PolicyDocument: p(e.Policy), OwnerId: p(e.Owner), RequesterManaged: p(false), PrivateDnsEnabled: p(e.PrivateDNS),
		CreationTimestamp: ec2wire.NewTime(e.CreatedAt), IpAddressType: p("ipv4"), Tags: tagsOut(e.Tags),
		RouteTableIds: slices.Clone(e.RouteTableIDs), SubnetIds: slices.Clone(e.SubnetIDs), NetworkInterfaceIds: slices.Clone(e.ENIIDs)}
	if e.Type == vpceInterface && e.State != vpceDeleted {
		o.DnsOptions = &ec2wire.DnsOptions{DnsRecordIpType: p("ipv4")}
		o.DnsEntries = tx.vpceDNSEntries(e)
		for _, g := range e.Groups {
			gi := ec2wire.SecurityGroupIdentifier{GroupId: p(g)}
			if sg := tx.groups.Get(g); sg != nil {
				gi.GroupName = p(sg.Name)
			}
			o.Groups = append(o.Groups, gi)
		}
	}
	return o
}

var vpceFilters = filterSet[VpcEndpoint]{
	"service-name":       func(e *VpcEndpoint) []string { return []string{e.ServiceName} },
	"vpc-id":             func(e *VpcEndpoint) []string { return []string{e.VpcID} },
	"vpc-endpoint-id":    func(e *VpcEndpoint) []string { return []string{e.ID} },
	"vpc-endpoint-state": func(e *VpcEndpoint) []string { return []string{e.State} },
	"vpc-endpoint-type":  func(e *VpcEndpoint) []string { return []string{e.Type} },
	"ip-address-type":    func(e *VpcEndpoint) []string { return []string{"ipv4"} },
}

// DescribeVpcEndpoints lists the caller's endpoints.
func (tx *Tx) DescribeVpcEndpoints(in *ec2wire.DescribeVpcEndpointsInput) (*ec2wire.DescribeVpcEndpointsOutput, error) {
	m, err := newMatcher(vpceFilters, func(e *VpcEndpoint) Tags { return e.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.VpcEndpointIds {
		if _, err := tx.getVpce(id); err != nil {
			return nil, err
		}
	}
	items := tx.vpces.Sorted(func(e *VpcEndpoint) bool {
		return tx.vpceVisible(e) && (len(in.VpcEndpointIds) == 0 || slices.Contains(in.VpcEndpointIds, e.ID)) && m.match(e)
	})
	page, next, err := paginate(items, func(e *VpcEndpoint) string { return e.ID }, in.MaxResults, in.NextToken, 1, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeVpcEndpointsOutput{NextToken: next}
	for _, e := range page {
		out.VpcEndpoints = append(out.VpcEndpoints, *tx.vpceOut(e, ""))
	}
	return out, nil
}
