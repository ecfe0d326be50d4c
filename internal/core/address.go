package core

// This file belongs to the Elastic IP work package: AllocateAddress,
// AssociateAddress, DisassociateAddress, ReleaseAddress, DescribeAddresses,
// the helpers other packages use to keep associations consistent when ENIs
// and their addresses change, and the public mappings the data plane reads.

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/eni-net/eni/internal/ec2wire"
)

// addressFor returns the Elastic IP associated with the ENI's private IPv4
// address ip, or nil.
func (tx *Tx) addressFor(eniID, ip string) *Address {
	for _, a := range tx.addressesOfENI(eniID) {
		if a.PrivateIP == ip {
			return a
		}
	}
	return nil
}

// addressesOfENI returns the Elastic IPs associated with any private address
// of the ENI, sorted by allocation id.
func (tx *Tx) addressesOfENI(eniID string) []*Address {
	if eniID == "" {
		return nil
	}
	var ids []string
	for id := range tx.db.idx.eipByENI[eniID] {
		ids = append(ids, id)
	}
	return tx.addresses.Pick(ids, func(a *Address) bool { return a.ENIID == eniID })
}

// addressByAssociation returns the Elastic IP with the association id, or nil.
func (tx *Tx) addressByAssociation(assocID string) *Address {
	if assocID == "" {
		return nil
	}
	if id, ok := tx.db.idx.eipByAssoc[assocID]; ok {
		if a := tx.addresses.Get(id); a != nil && a.AssociationID == assocID {
			return a
		}
	}
	for _, a := range tx.addresses.over {
		if a != nil && a.AssociationID == assocID {
			return a
		}
	}
	return nil
}

// addressByPublicIP returns the Elastic IP (of any account) holding the
// public IPv4 ip, or nil.
func (tx *Tx) addressByPublicIP(ip string) *Address {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	id := tx.publicOwner(a)
	if id == "" {
		return nil
	}
	return tx.addresses.Get(id)
}

// addressDisassociateENI removes every Elastic IP association of the ENI (the
// ENI is being deleted); the addresses stay allocated, as in AWS.
func (tx *Tx) addressDisassociateENI(eniID string) {
	for _, a := range tx.addressesOfENI(eniID) {
		addressClear(tx.addresses.Mut(a.AllocationID))
	}
}

// addressDisassociateIP removes the Elastic IP association of one private
// address of the ENI (the address is being unassigned), if any.
func (tx *Tx) addressDisassociateIP(eniID, ip string) {
	if a := tx.addressFor(eniID, ip); a != nil {
		addressClear(tx.addresses.Mut(a.AllocationID))
	}
}

// addressMoveIP moves the Elastic IP on a secondary private address that is
// reassigned from one ENI to another: the EIP follows the address (AWS §3.4).
func (tx *Tx) addressMoveIP(fromENI, ip, toENI string) {
	if a := tx.addressFor(fromENI, ip); a != nil {
		tx.addresses.Mut(a.AllocationID).ENIID = toENI
	}
}

// addressRestorePublicIP gives the primary ENI of an instance launched with
// an auto-assigned public IPv4 a new one once it has lost its last Elastic IP,
// unless the instance has several ENIs (AWS §3.5). Call it after the
// disassociation. An exhausted pool leaves the ENI without one.
func (tx *Tx) addressRestorePublicIP(eniID string) {
	e := tx.enis.Get(eniID)
	if e == nil || e.PublicIP != "" || e.Attachment == nil || e.Attachment.DeviceIndex != 0 || len(tx.addressesOfENI(eniID)) > 0 {
		return
	}
	inst := tx.instances.Get(e.Attachment.InstanceID)
	if inst == nil || !inst.AutoPublicIP || (inst.State != "running" && inst.State != "pending") || len(tx.enisOfInstance(inst.ID)) != 1 {
		return
	}
	if ip, err := tx.allocPublicIP(); err == nil {
		tx.enis.Mut(eniID).PublicIP = ip.String()
	}
}

func addressClear(a *Address) {
	a.AssociationID, a.ENIID, a.PrivateIP = "", "", ""
}

// addressInPool reports whether a is a usable address of the public pool.
func (tx *Tx) addressInPool(a netip.Addr) bool {
	for _, p := range tx.cfg.PublicPool {
		p = p.Masked()
		if p.Contains(a) && a != p.Addr() && a != lastAddr(p) {
			return true
		}
	}
	return false
}

// addressCount returns the number of Elastic IPs the caller holds in the region.
func (tx *Tx) addressCount() int {
	n := 0
	tx.addresses.Each(func(a *Address) bool {
		if a.Owner == tx.Account {
			n++
		}
		return true
	})
	return n
}

// addressGatewayAttached reports whether an internet gateway is attached to the VPC.
func (tx *Tx) addressGatewayAttached(vpcID string) bool {
	found := false
	tx.igws.Each(func(g *InternetGateway) bool {
		for _, at := range g.Attachments {
			if at.VpcID == vpcID && at.State != "detaching" && at.State != "detached" {
				found = true
			}
		}
		return !found
	})
	return found
}

// addressPermitted reports whether the caller may associate its Elastic IPs
// with another account's ENI (an EIP-ASSOCIATE network interface permission).
func (tx *Tx) addressPermitted(eniID string) bool {
	ok := false
	tx.perms.Each(func(pm *Permission) bool {
		ok = pm.ENIID == eniID && pm.Account == tx.Account && pm.Permission == "EIP-ASSOCIATE" && pm.State == "granted"
		return !ok
	})
	return ok
}

func (tx *Tx) addressOut(a *Address) ec2wire.Address {
	out := ec2wire.Address{
		AllocationId: p(a.AllocationID), PublicIp: p(a.PublicIP), Domain: p("vpc"),
		PublicIpv4Pool: p("amazon"), NetworkBorderGroup: p(tx.Region), Tags: tagsOut(a.Tags),
	}
	if a.ENIID != "" {
		out.AssociationId = p(a.AssociationID)
		out.NetworkInterfaceId = p(a.ENIID)
		out.PrivateIpAddress = p(a.PrivateIP)
		if e := tx.enis.Get(a.ENIID); e != nil {
			out.NetworkInterfaceOwnerId = p(e.Owner)
			if e.Attachment != nil {
				out.InstanceId = p(e.Attachment.InstanceID)
			}
		}
	}
	return out
}

// AllocateAddress allocates an Elastic IP from the public pool.
func (tx *Tx) AllocateAddress(in *ec2wire.AllocateAddressInput) (*ec2wire.AllocateAddressOutput, error) {
	if d := str(in.Domain); d != "" && d != "vpc" {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter domain is invalid. Only 'vpc' is supported.", d)
	}
	if g := str(in.NetworkBorderGroup); g != "" && g != tx.Region {
		return nil, errorf(CodeInvalidParameterValue, "Network border group %s is not valid for this region.", g)
	}
	if pool := str(in.PublicIpv4Pool); pool != "" && pool != "amazon" {
		return nil, errorf(CodeInvalidParameterValue, "The pool ID '%s' does not exist", pool)
	}
	if in.CustomerOwnedIpv4Pool != nil {
		return nil, errorf(CodeInvalidParameterValue, "The customer-owned pool ID '%s' does not exist", str(in.CustomerOwnedIpv4Pool))
	}
	tags, err := tagSpecs(in.TagSpecifications, "elastic-ip")
	if err != nil {
		return nil, err
	}
	if tx.addressCount() >= tx.cfg.EIPQuota {
		return nil, errorf(CodeAddressLimitExceeded, "The maximum number of addresses has been reached.")
	}
	var ip netip.Addr
	if want := str(in.Address); want != "" {
		a, err := netip.ParseAddr(want)
		if err != nil || !a.Is4() {
			return nil, errorf(CodeInvalidParameterValue, "Invalid IPv4 address: %s", want)
		}
		if !tx.addressInPool(a) || tx.publicOwner(a) != "" {
			return nil, errorf(CodeInvalidAddressNotFound, "The address '%s' is not available for recovery.", want)
		}
		ip = a
	} else if ip, err = tx.allocPublicIP(); err != nil {
		return nil, err
	}
	a := &Address{AllocationID: tx.newID("eipalloc"), Owner: tx.Account, PublicIP: ip.String(), Tags: tags}
	tx.addresses.Put(a)
	return &ec2wire.AllocateAddressOutput{
		AllocationId: p(a.AllocationID), PublicIp: p(a.PublicIP), Domain: p("vpc"),
		PublicIpv4Pool: p("amazon"), NetworkBorderGroup: p(tx.Region),
	}, nil
}

// addressOwned resolves an AllocationId or (legacy) PublicIp parameter to one
// of the caller's Elastic IPs.
func (tx *Tx) addressOwned(allocID, publicIP *string) (*Address, error) {
	switch {
	case allocID != nil && publicIP != nil:
		return nil, errorf(CodeInvalidParameterCombination, "You may specify either a public IP or an allocation id, but not both.")
	case allocID != nil:
		return tx.getAddress(*allocID)
	case publicIP != nil:
		a := tx.addressByPublicIP(*publicIP)
		if a == nil || a.Owner != tx.Account {
			return nil, errorf(CodeInvalidAddressNotFound, "Address '%s' not found.", *publicIP)
		}
		return a, nil
	}
	return nil, errorf(CodeMissingParameter, "Either public IP or allocation id must be specified")
}

// AssociateAddress associates an Elastic IP with an instance's only ENI or
// with one private IPv4 address of an ENI.
func (tx *Tx) AssociateAddress(in *ec2wire.AssociateAddressInput) (*ec2wire.AssociateAddressOutput, error) {
	a, err := tx.addressOwned(in.AllocationId, in.PublicIp)
	if err != nil {
		return nil, err
	}
	var e *ENI
	switch {
	case in.InstanceId != nil && in.NetworkInterfaceId != nil:
		return nil, errorf(CodeInvalidParameterCombination, "You may specify either an instance ID or a network interface ID, but not both.")
	case in.InstanceId != nil:
		inst, err := tx.getInstance(*in.InstanceId)
		if err != nil {
			return nil, err
		}
		switch inst.State {
		case "pending", "shutting-down", "terminated":
			return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a valid state for this operation.", inst.ID)
		}
		enis := tx.enisOfInstance(inst.ID)
		if len(enis) > 1 {
			return nil, errorf(CodeInvalidInstanceID, "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", inst.ID)
		}
		if len(enis) == 0 {
			return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a valid state for this operation.", inst.ID)
		}
		e = enis[0]
	case in.NetworkInterfaceId != nil:
		id := *in.NetworkInterfaceId
		if validID(id, "eni") {
			if o := tx.enis.Get(id); o != nil && o.Owner != tx.Account && tx.addressPermitted(id) {
				e = o
			}
		}
		if e == nil {
			if e, err = tx.getENI(id); err != nil {
				return nil, err
			}
		}
	default:
		return nil, errorf(CodeMissingParameter, "Either an instance ID or a network interface ID must be specified.")
	}
	ip := e.PrimaryIP()
	if ip == "" && in.PrivateIpAddress == nil {
		return nil, errorf(CodeInvalidParameterValue, "Network interface %s has no private IPv4 address to associate an Elastic IP address with.", e.ID)
	}
	if in.PrivateIpAddress != nil {
		ip = *in.PrivateIpAddress
		if !e.HasIP(ip) {
			return nil, errorf(CodeInvalidParameterValue, "The private IP address %s is not assigned to network interface %s.", ip, e.ID)
		}
	}
	if ip == "" {
		return nil, errorf(CodeInvalidParameterValue, "Network interface %s has no private IPv4 address.", e.ID)
	}
	if err := tx.addressServiceHeld(a); err != nil {
		return nil, err
	}
	if e.RequesterManaged {
		return nil, errorf(CodeAuthFailure, addressServiceMsg)
	}
	if a.ENIID == e.ID && a.PrivateIP == ip {
		return &ec2wire.AssociateAddressOutput{AssociationId: p(a.AssociationID)}, nil // already there
	}
	if !tx.addressGatewayAttached(e.VpcID) {
		return nil, errorf(CodeGatewayNotAttached, "Network %s is not attached to any internet gateway", e.VpcID)
	}
	reassoc := in.AllowReassociation == nil || *in.AllowReassociation
	if a.ENIID != "" && !reassoc {
		return nil, errorf(CodeResourceAlreadyAssociated, "resource %s is already associated with associate-id %s", a.AllocationID, a.AssociationID)
	}
	if other := tx.addressFor(e.ID, ip); other != nil {
		if !reassoc {
			return nil, errorf(CodeResourceAlreadyAssociated, "The private IP address %s of %s is already associated with %s (%s)", ip, e.ID, other.AllocationID, other.PublicIP)
		}
		addressClear(tx.addresses.Mut(other.AllocationID))
	}
	if ip == e.PrimaryIP() && e.PublicIP != "" {
		// The auto-assigned public IPv4 is released when an EIP takes the
		// primary address (AWS §3.5).
		tx.enis.Mut(e.ID).PublicIP = ""
	}
	m := tx.addresses.Mut(a.AllocationID)
	prev := m.ENIID
	m.AssociationID = tx.newID("eipassoc")
	m.ENIID = e.ID
	m.PrivateIP = ip
	if prev != "" && prev != e.ID {
		tx.addressRestorePublicIP(prev)
	}
	return &ec2wire.AssociateAddressOutput{AssociationId: p(m.AssociationID)}, nil
}

// DisassociateAddress removes an Elastic IP's association.
func (tx *Tx) DisassociateAddress(in *ec2wire.DisassociateAddressInput) (*ec2wire.DisassociateAddressOutput, error) {
	var a *Address
	switch {
	case in.AssociationId != nil && in.PublicIp != nil:
		return nil, errorf(CodeInvalidParameterCombination, "You may specify either a public IP or an association id, but not both.")
	case in.AssociationId != nil:
		id := *in.AssociationId
		if !validID(id, "eipassoc") {
			return nil, errorf(CodeInvalidAssociationIDMalformed, "Invalid id: \"%s\" (expecting \"eipassoc-...\")", id)
		}
		a = tx.addressByAssociation(id)
		if a == nil || a.Owner != tx.Account {
			return nil, errorf(CodeInvalidAssociationIDNotFound, "The association ID '%s' does not exist", id)
		}
	case in.PublicIp != nil:
		var err error
		if a, err = tx.addressOwned(nil, in.PublicIp); err != nil {
			return nil, err
		}
		if a.ENIID == "" {
			return &ec2wire.DisassociateAddressOutput{Return: p(true)}, nil
		}
	default:
		return nil, errorf(CodeMissingParameter, "Either public IP or association id must be specified")
	}
	if err := tx.addressServiceHeld(a); err != nil {
		return nil, err
	}
	eniID := a.ENIID
	addressClear(tx.addresses.Mut(a.AllocationID))
	tx.addressRestorePublicIP(eniID)
	return &ec2wire.DisassociateAddressOutput{Return: p(true)}, nil
}

// ReleaseAddress returns an unassociated Elastic IP to the pool.
func (tx *Tx) ReleaseAddress(in *ec2wire.ReleaseAddressInput) (*ec2wire.ReleaseAddressOutput, error) {
	if in.AllocationId == nil && in.PublicIp != nil {
		if a := tx.addressByPublicIP(*in.PublicIp); a != nil && a.Owner != tx.Account {
			return nil, errorf(CodeAuthFailure, "The address '%s' does not belong to you.", *in.PublicIp)
		}
	}
	a, err := tx.addressOwned(in.AllocationId, in.PublicIp)
	if err != nil {
		return nil, err
	}
	if g := str(in.NetworkBorderGroup); g != "" && g != tx.Region {
		return nil, errorf(CodeInvalidParameterValue, "Network border group %s is not valid for this address.", g)
	}
	if err := tx.addressServiceHeld(a); err != nil {
		return nil, err
	}
	if a.ENIID != "" && !tx.addressInDefaultVPC(a) {
		return nil, errorf(CodeInvalidIPAddressInUse, "Address %s (%s) is in use: it is associated with %s.", a.PublicIP, a.AllocationID, a.AssociationID)
	}
	tx.addresses.Delete(a.AllocationID)
	if a.ENIID != "" {
		tx.addressRestorePublicIP(a.ENIID) // as DisassociateAddress does
	}
	return &ec2wire.ReleaseAddressOutput{Return: p(true)}, nil
}

// addressInDefaultVPC reports whether a is associated with an interface of
// a default VPC. There AWS releases an associated address, disassociating
// it first; in any other VPC it must be disassociated before
// (InvalidIPAddress.InUse), as ReleaseAddress's reference says.
func (tx *Tx) addressInDefaultVPC(a *Address) bool {
	e := tx.enis.Get(a.ENIID)
	if e == nil {
		return false
	}
	v := tx.vpcs.Get(e.VpcID)
	return v != nil && v.IsDefault
}

// addressFilters are DescribeAddresses' filters.
func (tx *Tx) addressFilters() filterSet[Address] {
	eni := func(a *Address) *ENI {
		if a.ENIID == "" {
			return nil
		}
		return tx.enis.Get(a.ENIID)
	}
	return filterSet[Address]{
		"allocation-id":        func(a *Address) []string { return []string{a.AllocationID} },
		"association-id":       func(a *Address) []string { return addressOne(a.AssociationID) },
		"domain":               func(a *Address) []string { return []string{"vpc"} },
		"network-border-group": func(a *Address) []string { return []string{tx.Region} },
		"network-interface-id": func(a *Address) []string { return addressOne(a.ENIID) },
		"private-ip-address":   func(a *Address) []string { return addressOne(a.PrivateIP) },
		"public-ip":            func(a *Address) []string { return []string{a.PublicIP} },
		"public-ipv4-pool":     func(a *Address) []string { return []string{"amazon"} },
		"instance-id": func(a *Address) []string {
			if e := eni(a); e != nil && e.Attachment != nil {
				return []string{e.Attachment.InstanceID}
			}
			return nil
		},
		"network-interface-owner-id": func(a *Address) []string {
			if e := eni(a); e != nil {
				return []string{e.Owner}
			}
			return nil
		},
	}
}

func addressOne(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// DescribeAddresses lists the caller's Elastic IPs (not paginated).
func (tx *Tx) DescribeAddresses(in *ec2wire.DescribeAddressesInput) (*ec2wire.DescribeAddressesOutput, error) {
	m, err := newMatcher(tx.addressFilters(), func(a *Address) Tags { return a.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.AllocationIds {
		if _, err := tx.getAddress(id); err != nil {
			return nil, err
		}
	}
	for _, ip := range in.PublicIps {
		if a := tx.addressByPublicIP(ip); a == nil || a.Owner != tx.Account {
			return nil, errorf(CodeInvalidAddressNotFound, "Address '%s' not found.", ip)
		}
	}
	items := tx.addresses.Sorted(func(a *Address) bool {
		return a.Owner == tx.Account &&
			(len(in.AllocationIds) == 0 || slices.Contains(in.AllocationIds, a.AllocationID)) &&
			(len(in.PublicIps) == 0 || slices.Contains(in.PublicIps, a.PublicIP)) &&
			m.match(a)
	})
	out := &ec2wire.DescribeAddressesOutput{}
	for _, a := range items {
		out.Addresses = append(out.Addresses, tx.addressOut(a))
	}
	return out, nil
}

// PublicMapping is one public IPv4 address mapped 1:1 to a private IPv4
// address of an ENI, as the internet gateway translates it.
type PublicMapping struct {
	Public  string // public IPv4
	Private string // private IPv4 of the ENI
	ENIID   string
	VpcID   string
}

// PublicMappings lists every public IPv4 of the region (Elastic IP
// associations and auto-assigned public addresses) of every account, sorted
// by public address. It only reads.
func (tx *Tx) PublicMappings() []PublicMapping {
	out := tx.eipMappings()
	tx.enis.Each(func(e *ENI) bool {
		if m, ok := eniPublicMapping(e); ok {
			out = append(out, m)
		}
		return true
	})
	sortPublicMappings(out)
	return out
}

// eipMappings are the Elastic IPs associated with an address their ENI has, unsorted.
func (tx *Tx) eipMappings() []PublicMapping {
	var out []PublicMapping
	tx.addresses.Each(func(a *Address) bool {
		if a.ENIID == "" {
			return true
		}
		if e := tx.enis.Get(a.ENIID); e != nil && e.HasIP(a.PrivateIP) {
			out = append(out, PublicMapping{Public: a.PublicIP, Private: a.PrivateIP, ENIID: e.ID, VpcID: e.VpcID})
		}
		return true
	})
	return out
}

// eniPublicMapping is the mapping of e's own public IPv4 address (not an Elastic IP's)
// to its primary private one, if it has both.
func eniPublicMapping(e *ENI) (PublicMapping, bool) {
	if e == nil || e.PublicIP == "" {
		return PublicMapping{}, false
	}
	ip := e.PrimaryIP()
	return PublicMapping{Public: e.PublicIP, Private: ip, ENIID: e.ID, VpcID: e.VpcID}, ip != ""
}

// sortPublicMappings orders mappings by public address, then ENI.
func sortPublicMappings(ms []PublicMapping) {
	slices.SortFunc(ms, func(x, y PublicMapping) int {
		xa, _ := netip.ParseAddr(x.Public)
		ya, _ := netip.ParseAddr(y.Public)
		return cmp.Or(xa.Compare(ya), cmp.Compare(x.ENIID, y.ENIID))
	})
}

// addressServiceMsg is what AWS answers (AuthFailure) when a user
// associates, disassociates or releases an Elastic IP whose association a
// service manages (a NAT gateway's), or associates one with a service's
// interface.
const addressServiceMsg = "You do not have permission to access the specified resource."

// addressServiceHeld refuses changes to an Elastic IP associated with a
// requester-managed interface: the service (a NAT gateway) holds it until
// it lets it go.
func (tx *Tx) addressServiceHeld(a *Address) error {
	if a.ENIID == "" {
		return nil
	}
	if e := tx.enis.Get(a.ENIID); e != nil && e.RequesterManaged {
		return errorf(CodeAuthFailure, addressServiceMsg)
	}
	return nil
}
