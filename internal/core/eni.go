package core

import "github.com/eni-net/eni/internal/ec2wire"

// This file belongs to the ENI work package. The signatures below are shared
// with RunInstances (instance.go) and must keep their meaning.

// eniSpec describes a new ENI.
type eniSpec struct {
	Subnet           *Subnet
	Description      string
	PrimaryIP        string   // "" = allocate from the subnet
	SecondaryIPs     []string // explicit secondary private IPv4s
	SecondaryCount   int      // secondary private IPv4s to allocate
	IPv6             []string // explicit IPv6 addresses
	IPv6Count        int      // IPv6 addresses to allocate; -1 = the subnet's AssignIpv6AddressOnCreation default
	Groups           []string // security group ids; empty = the VPC's default group
	InterfaceType    string   // "" = "interface"
	RequesterManaged bool
	RequesterID      string // "" = the caller's account
	Tags             Tags
}

// createENI validates spec, allocates addresses and a MAC and puts a new,
// available ENI.
func (tx *Tx) createENI(spec eniSpec) (*ENI, error) {
	return nil, errorf(CodeInternalError, "createENI: not implemented")
}

// attachENI checks every attachment rule (state, AZ, slot, type limits,
// account) and attaches e to inst. It puts the changed ENI.
func (tx *Tx) attachENI(e *ENI, inst *Instance, deviceIndex, cardIndex int32, deleteOnTermination bool) (*Attachment, error) {
	return nil, errorf(CodeInternalError, "attachENI: not implemented")
}

// eniOut renders an ENI as DescribeNetworkInterfaces shows it.
func (tx *Tx) eniOut(e *ENI) ec2wire.NetworkInterface {
	return ec2wire.NetworkInterface{NetworkInterfaceId: p(e.ID)}
}

// instanceENIOut renders an attached ENI as DescribeInstances shows it.
func (tx *Tx) instanceENIOut(e *ENI) ec2wire.InstanceNetworkInterface {
	return ec2wire.InstanceNetworkInterface{NetworkInterfaceId: p(e.ID)}
}

// eniFilters are DescribeNetworkInterfaces' filters; DescribeInstances uses
// them as network-interface.<name>.
var eniFilters = filterSet[ENI]{}
