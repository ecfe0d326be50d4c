package core

import (
	"net/netip"
	"slices"

	"github.com/eni-net/eni/internal/ec2wire"
)

// The secondary addresses of a NAT gateway (AWS, 2023): private addresses
// added to or removed from its ENI (Assign/UnassignPrivateNatGatewayAddress)
// and Elastic IPs associated with or disassociated from them
// (Associate/DisassociateNatGatewayAddress, public gateways only). A
// gateway has at most natMaxAddresses addresses. The replies say
// assigning / unassigning / associating / disassociating, as AWS's do; the
// change is made at once (Describe shows succeeded, or the address gone).

// natMaxAddresses is AWS's limit of private IPv4 addresses per gateway.
const natMaxAddresses = 8

// natMutable returns an available gateway of the caller that the address
// actions may change.
func (tx *Tx) natMutable(id string) (*NatGateway, error) {
	g, err := tx.getNat(id)
	if err != nil {
		return nil, err
	}
	if !natLive(g) {
		return nil, errorf(CodeInvalidParameterValue, "NAT gateway %s is in state %s: its addresses cannot be changed.", g.ID, g.State)
	}
	return tx.nats.Mut(g.ID), nil
}

// natAddrOut is the reply's view of the addresses the call changed.
func natAddrOut(g *NatGateway, ips []string, status string) []ec2wire.NatGatewayAddress {
	var out []ec2wire.NatGatewayAddress
	for _, ip := range ips {
		w := ec2wire.NatGatewayAddress{NetworkInterfaceId: p(g.ENIID), PrivateIp: p(ip), IsPrimary: p(false), Status: p(status)}
		if i := slices.IndexFunc(g.Addresses, func(a NatAddress) bool { return a.PrivateIP == ip }); i >= 0 && g.Addresses[i].AllocationID != "" {
			a := g.Addresses[i]
			w.AllocationId, w.PublicIp, w.AssociationId = p(a.AllocationID), p(a.PublicIP), nonEmpty(a.AssociationID)
		}
		out = append(out, w)
	}
	return out
}

// natAddIPs gives the gateway's ENI the named private addresses, or count
// new ones, and records them as gateway addresses; it returns them.
func (tx *Tx) natAddIPs(g *NatGateway, named []string, count int) ([]string, error) {
	if len(g.Addresses)+len(named)+count > natMaxAddresses {
		return nil, errorf(CodeInvalidParameterValue, "A NAT gateway can have at most %d private IPv4 addresses.", natMaxAddresses)
	}
	if dup := eniDuplicate(named); dup != "" {
		return nil, errorf(CodeInvalidParameterValue, "The address %s is specified more than once.", dup)
	}
	e := tx.enis.Mut(g.ENIID)
	s := tx.subnets.Get(e.SubnetID)
	var ips []string
	for _, ip := range named {
		if err := tx.eniTakeIPv4(e, ip, false); err != nil {
			return nil, err
		}
		ips = append(ips, e.PrivateIPs[len(e.PrivateIPs)-1].Address)
	}
	for range count {
		a, err := tx.allocIPv4(s)
		if err != nil {
			return nil, err
		}
		e.PrivateIPs = append(e.PrivateIPs, PrivateIP{Address: a.String()})
		ips = append(ips, a.String())
	}
	for _, ip := range ips {
		g.Addresses = append(g.Addresses, NatAddress{PrivateIP: ip})
	}
	return ips, nil
}

// AssignPrivateNatGatewayAddress adds private addresses to a gateway.
func (tx *Tx) AssignPrivateNatGatewayAddress(in *ec2wire.AssignPrivateNatGatewayAddressInput) (*ec2wire.AssignPrivateNatGatewayAddressOutput, error) {
	g, err := tx.natMutable(str(in.NatGatewayId))
	if err != nil {
		return nil, err
	}
	count := int(i32(in.PrivateIpAddressCount))
	switch {
	case len(in.PrivateIpAddresses) > 0 && in.PrivateIpAddressCount != nil:
		return nil, errorf(CodeInvalidParameterCombination, "The parameters PrivateIpAddresses and PrivateIpAddressCount cannot be specified together.")
	case len(in.PrivateIpAddresses) == 0 && in.PrivateIpAddressCount == nil:
		return nil, errorf(CodeMissingParameter, "Either PrivateIpAddresses or PrivateIpAddressCount must be specified.")
	case in.PrivateIpAddressCount != nil && count < 1:
		return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter PrivateIpAddressCount is invalid. Expecting a value greater than 0.", count)
	}
	ips, err := tx.natAddIPs(g, in.PrivateIpAddresses, count)
	if err != nil {
		return nil, err
	}
	return &ec2wire.AssignPrivateNatGatewayAddressOutput{NatGatewayId: p(g.ID), NatGatewayAddresses: natAddrOut(g, ips, "assigning")}, nil
}

// natSecondary returns the index of a secondary address of the gateway.
func natSecondary(g *NatGateway, ip string) (int, error) {
	a, err := netip.ParseAddr(ip)
	i := -1
	if err == nil {
		i = slices.IndexFunc(g.Addresses, func(x NatAddress) bool { return x.PrivateIP == a.String() })
	}
	if i < 0 {
		return -1, errorf(CodeInvalidParameterValue, "The private IP address %s is not assigned to NAT gateway %s.", ip, g.ID)
	}
	if g.Addresses[i].Primary {
		return -1, errorf(CodeInvalidParameterValue, "The primary private IP address %s of NAT gateway %s cannot be changed.", ip, g.ID)
	}
	return i, nil
}

// UnassignPrivateNatGatewayAddress removes secondary private addresses
// that carry no Elastic IP.
func (tx *Tx) UnassignPrivateNatGatewayAddress(in *ec2wire.UnassignPrivateNatGatewayAddressInput) (*ec2wire.UnassignPrivateNatGatewayAddressOutput, error) {
	g, err := tx.natMutable(str(in.NatGatewayId))
	if err != nil {
		return nil, err
	}
	if err := natDrain(in.MaxDrainDurationSeconds); err != nil {
		return nil, err
	}
	for _, ip := range in.PrivateIpAddresses {
		i, err := natSecondary(g, ip)
		if err != nil {
			return nil, err
		}
		if g.Addresses[i].AllocationID != "" {
			return nil, errorf(CodeInvalidParameterValue, "The private IP address %s is associated with Elastic IP address %s; disassociate it first.", ip, g.Addresses[i].AllocationID)
		}
	}
	out := &ec2wire.UnassignPrivateNatGatewayAddressOutput{NatGatewayId: p(g.ID), NatGatewayAddresses: natAddrOut(g, in.PrivateIpAddresses, "unassigning")}
	e := tx.enis.Mut(g.ENIID)
	for _, ip := range in.PrivateIpAddresses {
		a := netip.MustParseAddr(ip).String()
		g.Addresses = slices.DeleteFunc(g.Addresses, func(x NatAddress) bool { return x.PrivateIP == a })
		e.PrivateIPs = slices.DeleteFunc(e.PrivateIPs, func(x PrivateIP) bool { return x.Address == a })
	}
	return out, nil
}

// natDrain checks MaxDrainDurationSeconds (1–4000, AWS's range).
func natDrain(v *int32) error {
	if v != nil && (*v < 1 || *v > 4000) {
		return errorf(CodeInvalidParameterValue, "Value (%d) for parameter MaxDrainDurationSeconds is invalid. Expecting a value between 1 and 4000.", *v)
	}
	return nil
}

// AssociateNatGatewayAddress associates Elastic IPs with a public
// gateway, on the named private addresses (new ones of its ENI) or on
// addresses assigned for them.
func (tx *Tx) AssociateNatGatewayAddress(in *ec2wire.AssociateNatGatewayAddressInput) (*ec2wire.AssociateNatGatewayAddressOutput, error) {
	g, err := tx.natMutable(str(in.NatGatewayId))
	if err != nil {
		return nil, err
	}
	if g.Connectivity != "public" {
		return nil, errorf(CodeInvalidParameterValue, "Elastic IP addresses cannot be associated with a private NAT gateway.")
	}
	if len(in.PrivateIpAddresses) > 0 && len(in.PrivateIpAddresses) != len(in.AllocationIds) {
		return nil, errorf(CodeInvalidParameterValue, "The number of private IP addresses must match the number of allocation IDs.")
	}
	if dup := eniDuplicate(in.AllocationIds); dup != "" {
		return nil, errorf(CodeInvalidParameterValue, "The allocation ID %s is specified more than once.", dup)
	}
	for _, id := range in.AllocationIds {
		a, err := tx.natEIP(id)
		if err != nil {
			return nil, err
		}
		if a.ENIID != "" {
			return nil, errorf(CodeResourceAlreadyAssociated, "Elastic IP address %s is already associated", id)
		}
	}
	count := 0
	if len(in.PrivateIpAddresses) == 0 {
		count = len(in.AllocationIds)
	}
	ips, err := tx.natAddIPs(g, in.PrivateIpAddresses, count)
	if err != nil {
		return nil, err
	}
	for i, ip := range ips {
		j := slices.IndexFunc(g.Addresses, func(x NatAddress) bool { return x.PrivateIP == ip })
		g.Addresses[j] = tx.natAssociate(g, in.AllocationIds[i], ip)
	}
	return &ec2wire.AssociateNatGatewayAddressOutput{NatGatewayId: p(g.ID), NatGatewayAddresses: natAddrOut(g, ips, "associating")}, nil
}

// DisassociateNatGatewayAddress disassociates secondary Elastic IPs from a
// public gateway; their private addresses stay with it.
func (tx *Tx) DisassociateNatGatewayAddress(in *ec2wire.DisassociateNatGatewayAddressInput) (*ec2wire.DisassociateNatGatewayAddressOutput, error) {
	g, err := tx.natMutable(str(in.NatGatewayId))
	if err != nil {
		return nil, err
	}
	if err := natDrain(in.MaxDrainDurationSeconds); err != nil {
		return nil, err
	}
	var ips []string
	for _, id := range in.AssociationIds {
		i := slices.IndexFunc(g.Addresses, func(x NatAddress) bool { return x.AssociationID == id })
		if i < 0 {
			return nil, errorf(CodeInvalidAssociationIDNotFound, "The association ID '%s' does not exist", id)
		}
		if _, err := natSecondary(g, g.Addresses[i].PrivateIP); err != nil {
			return nil, err
		}
		ips = append(ips, g.Addresses[i].PrivateIP)
	}
	out := &ec2wire.DisassociateNatGatewayAddressOutput{NatGatewayId: p(g.ID), NatGatewayAddresses: natAddrOut(g, ips, "disassociating")}
	for _, ip := range ips {
		i := slices.IndexFunc(g.Addresses, func(x NatAddress) bool { return x.PrivateIP == ip })
		addressClear(tx.addresses.Mut(g.Addresses[i].AllocationID))
		g.Addresses[i] = NatAddress{PrivateIP: ip}
	}
	return out, nil
}
