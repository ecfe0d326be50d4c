package core

import (
	"fmt"
	"net/netip"

	"github.com/eni-net/eni/internal/ec2wire"
)

// The default VPC: what a fresh account has in every region (bootstrap),
// and what CreateDefaultVpc / CreateDefaultSubnet make again after the
// user deleted it: 172.31.0.0/16 with DNS hostnames on, an attached
// internet gateway and a main route to it, a default security group, a
// /20 default subnet per zone that maps public IPv4 addresses on launch.
// createVPC gives it what every VPC gets (default security group, main
// route table, the account's DHCP options set, and a default network ACL
// where the model has one).

// defaultVPCCidr is the default VPC's block.
const defaultVPCCidr = "172.31.0.0/16"

// defaultVPC returns the caller's default VPC, or nil.
func (tx *Tx) defaultVPC() *VPC {
	var found *VPC
	tx.vpcs.Each(func(v *VPC) bool {
		if v.IsDefault && v.Owner == tx.Account {
			found = v
		}
		return found == nil
	})
	return found
}

// createDefaultVPC creates the default VPC with its gateway, main route and
// a default subnet in every zone.
func (tx *Tx) createDefaultVPC() *VPC {
	vpc, rtb := tx.createVPC(defaultVPCCidr, true, nil)
	igw := &InternetGateway{ID: tx.newID("igw"), Owner: tx.Account, Attachments: []IGWAttachment{{VpcID: vpc.ID, State: "available"}}}
	tx.igws.Put(igw)
	rtb.Routes = append(rtb.Routes, Route{DestinationCidrBlock: "0.0.0.0/0", GatewayID: igw.ID, Origin: "CreateRoute"})
	for i, z := range tx.AZs() {
		tx.subnets.Put(tx.defaultSubnet(vpc, z, fmt.Sprintf("172.31.%d.0/20", 16*i)))
	}
	return vpc
}

func (tx *Tx) defaultSubnet(v *VPC, z AZ, cidr string) *Subnet {
	return &Subnet{ID: tx.newID("subnet"), Owner: tx.Account, VpcID: v.ID, AZ: z.Name, CidrBlock: cidr,
		DefaultForAz: true, MapPublicIpOnLaunch: true}
}

// CreateDefaultVpc creates a default VPC when the account has none.
func (tx *Tx) CreateDefaultVpc(in *ec2wire.CreateDefaultVpcInput) (*ec2wire.CreateDefaultVpcOutput, error) {
	if tx.defaultVPC() != nil {
		return nil, errorf(CodeDefaultVpcAlreadyExists, "A Default VPC already exists for this account in this region.")
	}
	v := tx.createDefaultVPC()
	return &ec2wire.CreateDefaultVpcOutput{Vpc: tx.vpcOut(v)}, nil
}

// CreateDefaultSubnet creates the default subnet of a zone: the first free
// /20 of the default VPC's block.
func (tx *Tx) CreateDefaultSubnet(in *ec2wire.CreateDefaultSubnetInput) (*ec2wire.CreateDefaultSubnetOutput, error) {
	z, err := tx.subnetAZ(in.AvailabilityZone, nil)
	if err != nil {
		return nil, err
	}
	if boolv(in.Ipv6Native) {
		return nil, errorf(CodeInvalidParameterValue, "IPv6-only default subnets are not supported: create an IPv6-only subnet with CreateSubnet.")
	}
	v := tx.defaultVPC()
	if v == nil {
		return nil, errorf(CodeDefaultVpcDoesNotExist, "No default VPC exists for this account in this region.")
	}
	var taken []netip.Prefix
	var dup *Subnet
	tx.subnets.Each(func(s *Subnet) bool {
		if s.VpcID == v.ID {
			taken = append(taken, subnetPrefix(s))
			if s.DefaultForAz && s.AZ == z.Name {
				dup = s
			}
		}
		return dup == nil
	})
	if dup != nil {
		return nil, errorf(CodeDefaultSubnetAlreadyExists, "'%s' is already the default subnet in %s.", dup.ID, z.Name)
	}
	cidr, ok := defaultSubnetCidr(v, taken)
	if !ok {
		return nil, errorf(CodeInvalidSubnetConflict, "There is no free /20 left in the default VPC %s for a default subnet in %s.", v.ID, z.Name)
	}
	s := tx.defaultSubnet(v, z, cidr.String())
	tx.subnets.Put(s)
	return &ec2wire.CreateDefaultSubnetOutput{Subnet: tx.subnetOut(s)}, nil
}

// defaultSubnetCidr returns the first /20 of the VPC's primary block that
// overlaps no subnet.
func defaultSubnetCidr(v *VPC, taken []netip.Prefix) (netip.Prefix, bool) {
	base := netip.MustParsePrefix(v.CidrBlock)
	if base.Bits() > 20 {
		return netip.Prefix{}, false
	}
	a := base.Masked().Addr().As4()
	start := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	for i := uint32(0); i < 1<<(20-base.Bits()); i++ {
		n := start + i<<12
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), 20)
		free := true
		for _, t := range taken {
			free = free && !t.Overlaps(cand)
		}
		if free {
			return cand, true
		}
	}
	return netip.Prefix{}, false
}
