package core

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// This file belongs to the subnets / internet gateways / route tables work
// package: subnets.

// maxSubnetsPerVPC is AWS's default quota of subnets per VPC.
const maxSubnetsPerVPC = 200

// subnetCheckCidr validates a new subnet's IPv4 block in VPC v: a valid CIDR
// (canonicalised, as AWS does), /16 to /28, inside one of the VPC's IPv4
// blocks and overlapping no other subnet of the VPC.
func (tx *Tx) subnetCheckCidr(v *VPC, cidr string) (netip.Prefix, error) {
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil || !pfx.Addr().Is4() {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
	}
	pfx = pfx.Masked()
	if pfx.Bits() < 16 || pfx.Bits() > 28 {
		return netip.Prefix{}, errorf(CodeInvalidSubnetRange, "The CIDR '%s' is invalid.", pfx)
	}
	inside := false
	for _, a := range v.CidrAssocs {
		if b, err := netip.ParsePrefix(a.Cidr); err == nil && subnetWithin(pfx, b) {
			inside = true
		}
	}
	if !inside {
		return netip.Prefix{}, errorf(CodeInvalidSubnetRange, "The CIDR '%s' is invalid.", pfx)
	}
	var cerr error
	tx.subnets.Each(func(s *Subnet) bool {
		if s.VpcID == v.ID && subnetPrefix(s).Overlaps(pfx) {
			cerr = errorf(CodeInvalidSubnetConflict, "The CIDR '%s' conflicts with another subnet", pfx)
		}
		return cerr == nil
	})
	return pfx, cerr
}

// subnetCheckIpv6 validates a new subnet's IPv6 block: a /64 inside one of
// the VPC's IPv6 blocks, overlapping no other subnet of the VPC.
func (tx *Tx) subnetCheckIpv6(v *VPC, cidr string) (netip.Prefix, error) {
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil || !pfx.Addr().Is6() || pfx.Addr().Is4In6() {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Value (%s) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.", cidr)
	}
	pfx = pfx.Masked()
	if pfx.Bits() != 64 {
		return netip.Prefix{}, errorf(CodeInvalidSubnetRange, "The IPv6 CIDR '%s' is invalid. The subnet size must use a /64 prefix length.", pfx)
	}
	inside := false
	for _, a := range v.Ipv6Assocs {
		if b, err := netip.ParsePrefix(a.Cidr); err == nil && subnetWithin(pfx, b) {
			inside = true
		}
	}
	if !inside {
		return netip.Prefix{}, errorf(CodeInvalidSubnetRange, "The IPv6 CIDR '%s' is invalid.", pfx)
	}
	var cerr error
	tx.subnets.Each(func(s *Subnet) bool {
		if s.VpcID == v.ID && s.Ipv6CidrBlock != "" {
			if o, err := netip.ParsePrefix(s.Ipv6CidrBlock); err == nil && o.Overlaps(pfx) {
				cerr = errorf(CodeInvalidSubnetConflict, "The IPv6 CIDR '%s' conflicts with another subnet", pfx)
			}
		}
		return cerr == nil
	})
	return pfx, cerr
}

// subnetWithin reports whether inner lies entirely inside outer.
func subnetWithin(inner, outer netip.Prefix) bool {
	return outer.Bits() <= inner.Bits() && outer.Masked().Contains(inner.Addr())
}

// subnetAZ resolves the zone a new subnet asks for; none means the first zone.
func (tx *Tx) subnetAZ(name, id *string) (AZ, error) {
	zones := tx.AZs()
	list := func() string {
		names := make([]string, len(zones))
		for i, z := range zones {
			names[i] = z.Name
		}
		return strings.Join(names, ", ")
	}
	var byName, byID AZ
	if name != nil {
		z, ok := tx.azByName(*name)
		if !ok {
			return AZ{}, errorf(CodeInvalidParameterValue, "Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %s.", *name, list())
		}
		byName = z
	}
	if id != nil {
		z, ok := tx.azByID(*id)
		if !ok {
			return AZ{}, errorf(CodeInvalidParameterValue, "Value (%s) for parameter availabilityZoneId is invalid. Subnets can currently only be created in the following availability zones: %s.", *id, list())
		}
		byID = z
	}
	switch {
	case name != nil && id != nil && byName != byID:
		return AZ{}, errorf(CodeInvalidParameterCombination, "The parameters availabilityZone (%s) and availabilityZoneId (%s) name different zones.", *name, *id)
	case name != nil:
		return byName, nil
	case id != nil:
		return byID, nil
	}
	return zones[0], nil
}

// CreateSubnet creates a subnet in a VPC.
func (tx *Tx) CreateSubnet(in *ec2wire.CreateSubnetInput) (*ec2wire.CreateSubnetOutput, error) {
	v, err := tx.getVPC(str(in.VpcId))
	if err != nil {
		return nil, err
	}
	if in.OutpostArn != nil {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter outpostArn is invalid.", *in.OutpostArn)
	}
	native := boolv(in.Ipv6Native)
	var pfx, pfx6 netip.Prefix
	switch {
	case native:
		if pfx6, err = tx.ipv6OnlySubnet(v, in); err != nil {
			return nil, err
		}
	case in.CidrBlock == nil:
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter cidrBlock")
	default:
		if pfx, err = tx.subnetCheckCidr(v, *in.CidrBlock); err != nil {
			return nil, err
		}
		if in.Ipv6CidrBlock != nil {
			if pfx6, err = tx.subnetCheckIpv6(v, *in.Ipv6CidrBlock); err != nil {
				return nil, err
			}
		}
	}
	z, err := tx.subnetAZ(in.AvailabilityZone, in.AvailabilityZoneId)
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "subnet")
	if err != nil {
		return nil, err
	}
	n := 0
	tx.subnets.Each(func(s *Subnet) bool {
		if s.VpcID == v.ID {
			n++
		}
		return true
	})
	if n >= maxSubnetsPerVPC {
		return nil, errorf(CodeSubnetLimitExceeded, "The maximum number of subnets for %s has been reached.", v.ID)
	}
	s := &Subnet{ID: tx.newID("subnet"), Owner: tx.Account, VpcID: v.ID, AZ: z.Name, Tags: tags}
	if native {
		s.Ipv6Native, s.AssignIpv6AddressOnCreation, s.HostnameType = true, true, "resource-name"
	} else {
		s.CidrBlock = pfx.String()
	}
	if pfx6.IsValid() {
		s.Ipv6CidrBlock = pfx6.String()
		s.Ipv6AssocID = tx.newID("subnet-cidr-assoc")
	}
	tx.subnets.Put(s)
	return &ec2wire.CreateSubnetOutput{Subnet: tx.subnetOut(s)}, nil
}

// subnetArn is the subnet's ARN.
func (tx *Tx) subnetArn(s *Subnet) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", tx.Region, s.Owner, s.ID)
}

func subnetHostnameType(s *Subnet) string {
	if s.HostnameType == "" {
		return "ip-name"
	}
	return s.HostnameType
}

func (tx *Tx) subnetOut(s *Subnet) *ec2wire.Subnet {
	out := &ec2wire.Subnet{
		SubnetId: p(s.ID), VpcId: p(s.VpcID), OwnerId: p(s.Owner), State: p("available"),
		CidrBlock: nonEmpty(s.CidrBlock), AvailabilityZone: p(s.AZ), AvailabilityZoneId: p(tx.zoneID(s.AZ)),
		AvailableIpAddressCount: p(int32(tx.availableIPv4(s))),
		DefaultForAz:            p(s.DefaultForAz), MapPublicIpOnLaunch: p(s.MapPublicIpOnLaunch),
		MapCustomerOwnedIpOnLaunch: p(false), AssignIpv6AddressOnCreation: p(s.AssignIpv6AddressOnCreation),
		EnableDns64: p(s.EnableDns64), Ipv6Native: p(s.Ipv6Native), SubnetArn: p(tx.subnetArn(s)),
		PrivateDnsNameOptionsOnLaunch: &ec2wire.PrivateDnsNameOptionsOnLaunch{
			HostnameType:                    p(subnetHostnameType(s)),
			EnableResourceNameDnsARecord:    p(s.EnableDnsARecord),
			EnableResourceNameDnsAAAARecord: p(s.EnableDnsAAAARecord),
		},
		Tags: tagsOut(s.Tags),
	}
	for _, a := range tx.subnetIpv6s(s) {
		out.Ipv6CidrBlockAssociationSet = append(out.Ipv6CidrBlockAssociationSet, *subnetIpv6AssocOut(a, a.State))
	}
	return out
}

// subnetFilters are DescribeSubnets' filters; some need the transaction.
func (tx *Tx) subnetFilters() filterSet[Subnet] {
	one := func(f func(*Subnet) string) func(*Subnet) []string {
		return func(s *Subnet) []string { return []string{f(s)} }
	}
	ipv6 := func(f func(CidrAssoc) string) func(*Subnet) []string {
		return func(s *Subnet) []string {
			var out []string
			for _, a := range tx.subnetIpv6s(s) {
				out = append(out, f(a))
			}
			return out
		}
	}
	none := func(*Subnet) []string { return nil }
	cidr := func(s *Subnet) []string {
		if s.CidrBlock == "" {
			return nil
		}
		return []string{s.CidrBlock}
	}
	az := one(func(s *Subnet) string { return s.AZ })
	def := one(func(s *Subnet) string { return bstr(s.DefaultForAz) })
	return filterSet[Subnet]{
		"subnet-id":                  one(func(s *Subnet) string { return s.ID }),
		"vpc-id":                     one(func(s *Subnet) string { return s.VpcID }),
		"owner-id":                   one(func(s *Subnet) string { return s.Owner }),
		"state":                      one(func(s *Subnet) string { return "available" }),
		"subnet-arn":                 one(tx.subnetArn),
		"cidr-block":                 cidr,
		"cidr":                       cidr,
		"cidrBlock":                  cidr,
		"availability-zone":          az,
		"availabilityZone":           az,
		"availability-zone-id":       one(func(s *Subnet) string { return tx.zoneID(s.AZ) }),
		"availabilityZoneId":         one(func(s *Subnet) string { return tx.zoneID(s.AZ) }),
		"vpcId":                      one(func(s *Subnet) string { return s.VpcID }),
		"available-ip-address-count": one(func(s *Subnet) string { return fmt.Sprint(tx.availableIPv4(s)) }),
		"default-for-az":             def,
		"defaultForAz":               def,
		"map-public-ip-on-launch":    one(func(s *Subnet) string { return bstr(s.MapPublicIpOnLaunch) }),
		"assign-ipv6-address-on-creation": one(func(s *Subnet) string {
			return bstr(s.AssignIpv6AddressOnCreation)
		}),
		"enable-dns64":                                     one(func(s *Subnet) string { return bstr(s.EnableDns64) }),
		"ipv6-native":                                      one(func(s *Subnet) string { return bstr(s.Ipv6Native) }),
		"map-customer-owned-ip-on-launch":                  one(func(s *Subnet) string { return "false" }),
		"customer-owned-ipv4-pool":                         none,
		"outpost-arn":                                      none,
		"enable-lni-at-device-index":                       none,
		"ipv6-cidr-block-association.ipv6-cidr-block":      ipv6(func(a CidrAssoc) string { return a.Cidr }),
		"ipv6-cidr-block-association.association-id":       ipv6(func(a CidrAssoc) string { return a.ID }),
		"ipv6-cidr-block-association.state":                ipv6(func(a CidrAssoc) string { return a.State }),
		"private-dns-name-options-on-launch.hostname-type": one(subnetHostnameType),
		"private-dns-name-options-on-launch.enable-resource-name-dns-a-record": one(func(s *Subnet) string {
			return bstr(s.EnableDnsARecord)
		}),
		"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record": one(func(s *Subnet) string {
			return bstr(s.EnableDnsAAAARecord)
		}),
	}
}

// DescribeSubnets lists subnets.
func (tx *Tx) DescribeSubnets(in *ec2wire.DescribeSubnetsInput) (*ec2wire.DescribeSubnetsOutput, error) {
	m, err := newMatcher(tx.subnetFilters(), func(s *Subnet) Tags { return s.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.SubnetIds {
		if _, err := tx.getSubnet(id); err != nil {
			return nil, err
		}
	}
	items := tx.subnets.Sorted(func(s *Subnet) bool {
		return s.Owner == tx.Account && (len(in.SubnetIds) == 0 || contains(in.SubnetIds, s.ID)) && m.match(s)
	})
	page, next, err := paginate(items, func(s *Subnet) string { return s.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeSubnetsOutput{NextToken: next}
	for _, s := range page {
		out.Subnets = append(out.Subnets, *tx.subnetOut(s))
	}
	return out, nil
}

// DeleteSubnet deletes a subnet that no network interface lives in, and its
// route table association.
func (tx *Tx) DeleteSubnet(in *ec2wire.DeleteSubnetInput) (*ec2wire.DeleteSubnetOutput, error) {
	s, err := tx.getSubnet(str(in.SubnetId))
	if err != nil {
		return nil, err
	}
	if len(tx.enisOfSubnet(s.ID)) > 0 {
		return nil, errorf(CodeDependencyViolation, "The subnet '%s' has dependencies and cannot be deleted.", s.ID)
	}
	for _, r := range tx.rtbs.Sorted(func(r *RouteTable) bool { return r.VpcID == s.VpcID }) {
		for i, a := range r.Associations {
			if a.SubnetID == s.ID {
				m := tx.rtbs.Mut(r.ID)
				m.Associations = append(m.Associations[:i:i], m.Associations[i+1:]...)
				break
			}
		}
	}
	tx.aclForgetSubnet(s.ID)
	tx.subnets.Delete(s.ID)
	return &ec2wire.DeleteSubnetOutput{Return: p(true)}, nil
}

// ModifySubnetAttribute changes one attribute of a subnet.
func (tx *Tx) ModifySubnetAttribute(in *ec2wire.ModifySubnetAttributeInput) (*ec2wire.ModifySubnetAttributeOutput, error) {
	s, err := tx.getSubnet(str(in.SubnetId))
	if err != nil {
		return nil, err
	}
	n := 0
	for _, set := range []bool{
		in.MapPublicIpOnLaunch != nil, in.AssignIpv6AddressOnCreation != nil, in.EnableDns64 != nil,
		in.EnableResourceNameDnsARecordOnLaunch != nil, in.EnableResourceNameDnsAAAARecordOnLaunch != nil,
		in.PrivateDnsHostnameTypeOnLaunch != nil, in.MapCustomerOwnedIpOnLaunch != nil || in.CustomerOwnedIpv4Pool != nil,
		in.EnableLniAtDeviceIndex != nil, in.DisableLniAtDeviceIndex != nil,
	} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, errorf(CodeMissingParameter, "The request must contain one subnet attribute to modify.")
	case n > 1:
		return nil, errorf(CodeInvalidParameterCombination, "You can only modify one subnet attribute at a time.")
	}
	if err := ipv6OnlyAttribute(s, in); err != nil {
		return nil, err
	}
	s = tx.subnets.Mut(s.ID)
	switch {
	case in.MapPublicIpOnLaunch != nil:
		s.MapPublicIpOnLaunch = boolv(in.MapPublicIpOnLaunch.Value)
	case in.AssignIpv6AddressOnCreation != nil:
		on := boolv(in.AssignIpv6AddressOnCreation.Value)
		if on && s.Ipv6CidrBlock == "" {
			return nil, errorf(CodeInvalidParameterValue, "Invalid value for parameter assignIpv6AddressOnCreation: subnet %s has no IPv6 CIDR block.", s.ID)
		}
		s.AssignIpv6AddressOnCreation = on
	case in.EnableDns64 != nil:
		s.EnableDns64 = boolv(in.EnableDns64.Value)
	case in.EnableResourceNameDnsARecordOnLaunch != nil:
		s.EnableDnsARecord = boolv(in.EnableResourceNameDnsARecordOnLaunch.Value)
	case in.EnableResourceNameDnsAAAARecordOnLaunch != nil:
		on := boolv(in.EnableResourceNameDnsAAAARecordOnLaunch.Value)
		if on && s.Ipv6CidrBlock == "" {
			return nil, errorf(CodeInvalidParameterValue, "Invalid value for parameter enableResourceNameDnsAAAARecordOnLaunch: subnet %s has no IPv6 CIDR block.", s.ID)
		}
		s.EnableDnsAAAARecord = on
	case in.PrivateDnsHostnameTypeOnLaunch != nil:
		t := *in.PrivateDnsHostnameTypeOnLaunch
		if t != "ip-name" && t != "resource-name" {
			return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter privateDnsHostnameTypeOnLaunch is invalid. Valid values are ip-name and resource-name.", t)
		}
		s.HostnameType = t
	default:
		if err := subnetOutpostAttribute(s, in); err != nil {
			return nil, err
		}
	}
	return &ec2wire.ModifySubnetAttributeOutput{Return: p(true)}, nil
}

// subnetOutpostAttribute answers the attributes of subnets in an Outpost
// (customer-owned IPv4 addresses, local network interfaces). No subnet here
// is in an Outpost: their "off" values (which every subnet has, and
// DescribeSubnets shows) are accepted, turning one on is refused.
func subnetOutpostAttribute(s *Subnet, in *ec2wire.ModifySubnetAttributeInput) error {
	notOutpost := errorf(CodeInvalidParameterValue, "The attribute can only be enabled for subnets in an Outpost; subnet %s is not.", s.ID)
	switch {
	case in.MapCustomerOwnedIpOnLaunch != nil && boolv(in.MapCustomerOwnedIpOnLaunch.Value) && in.CustomerOwnedIpv4Pool == nil:
		return errorf(CodeInvalidParameterCombination, "customerOwnedIpv4Pool must be specified when mapCustomerOwnedIpOnLaunch is true.")
	case in.MapCustomerOwnedIpOnLaunch != nil && boolv(in.MapCustomerOwnedIpOnLaunch.Value), in.CustomerOwnedIpv4Pool != nil:
		return notOutpost
	case in.EnableLniAtDeviceIndex != nil:
		return notOutpost
	}
	return nil // MapCustomerOwnedIpOnLaunch false, DisableLniAtDeviceIndex: already so
}
