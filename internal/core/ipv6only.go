package core

import (
	"net/netip"

	"github.com/eni-net/eni/internal/ec2wire"
)

// IPv6-only subnets (CreateSubnet with Ipv6Native): an IPv6 /64 and no IPv4
// block. Interfaces in them get IPv6 addresses only (one at least, as
// AssignIpv6AddressOnCreation is always on there), no private or public
// IPv4 address, and hostnames by resource name. The Linux data plane does
// not realise them: a server with one refuses to create them.

// errNoIPv4 is the error for an IPv4 address asked of an IPv6-only subnet.
func errNoIPv4(s *Subnet) error {
	return errorf(CodeInvalidParameterValue, "Subnet %s is an IPv6-only subnet: it has no IPv4 addresses.", s.ID)
}

// ipv6OnlySubnet checks CreateSubnet's request for an IPv6-only subnet and
// returns its block.
func (tx *Tx) ipv6OnlySubnet(v *VPC, in *ec2wire.CreateSubnetInput) (netip.Prefix, error) {
	switch {
	case tx.cfg.DataPlane:
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "IPv6-only subnets are not supported by this server's data plane.")
	case in.CidrBlock != nil:
		return netip.Prefix{}, errorf(CodeInvalidParameterCombination, "An IPv6-only subnet (ipv6Native) cannot have an IPv4 CIDR block (cidrBlock).")
	case in.Ipv6CidrBlock == nil:
		return netip.Prefix{}, errorf(CodeMissingParameter, "The request must contain the parameter ipv6CidrBlock for an IPv6-only subnet.")
	}
	return tx.subnetCheckIpv6(v, *in.Ipv6CidrBlock)
}

// ipv6OnlyAttribute checks a ModifySubnetAttribute change of an IPv6-only
// subnet: nothing that needs IPv4, and IPv6 addresses and resource names
// stay on.
func ipv6OnlyAttribute(s *Subnet, in *ec2wire.ModifySubnetAttributeInput) error {
	if !s.Ipv6Native {
		return nil
	}
	on := func(a *ec2wire.AttributeBooleanValue) bool { return a != nil && boolv(a.Value) }
	off := func(a *ec2wire.AttributeBooleanValue) bool { return a != nil && !boolv(a.Value) }
	switch {
	case on(in.MapPublicIpOnLaunch), on(in.EnableResourceNameDnsARecordOnLaunch), on(in.MapCustomerOwnedIpOnLaunch):
		return errNoIPv4(s)
	case off(in.AssignIpv6AddressOnCreation):
		return errorf(CodeInvalidParameterValue, "assignIpv6AddressOnCreation cannot be disabled for IPv6-only subnet %s.", s.ID)
	case in.PrivateDnsHostnameTypeOnLaunch != nil && *in.PrivateDnsHostnameTypeOnLaunch != "resource-name":
		return errorf(CodeInvalidParameterValue, "The hostname type of IPv6-only subnet %s must be resource-name.", s.ID)
	}
	return nil
}

// InstanceDNSNames are an instance's hostname options (AWS's
// PrivateDnsNameOptions): taken from its subnet's options on launch, or
// from RunInstances' PrivateDnsNameOptions.
type InstanceDNSNames struct {
	HostnameType string `json:"hostnameType,omitempty"` // "" = ip-name
	ARecord      bool   `json:"aRecord,omitempty"`
	AAAARecord   bool   `json:"aaaaRecord,omitempty"`
}

func (d InstanceDNSNames) out() *ec2wire.PrivateDnsNameOptionsResponse {
	t := d.HostnameType
	if t == "" {
		t = "ip-name"
	}
	return &ec2wire.PrivateDnsNameOptionsResponse{HostnameType: p(t), EnableResourceNameDnsARecord: p(d.ARecord), EnableResourceNameDnsAAAARecord: p(d.AAAARecord)}
}

// instanceDNSNames gives a launched instance its hostname options: its
// subnet's, overridden by the launch's, with the rules of the subnet.
func (tx *Tx) instanceDNSNames(inst *Instance, req *ec2wire.PrivateDnsNameOptionsRequest) error {
	s := tx.subnets.Get(inst.SubnetID)
	if s == nil {
		return nil
	}
	d := InstanceDNSNames{HostnameType: subnetHostnameType(s), ARecord: s.EnableDnsARecord, AAAARecord: s.EnableDnsAAAARecord}
	if req != nil {
		d = d.with(req.HostnameType, req.EnableResourceNameDnsARecord, req.EnableResourceNameDnsAAAARecord)
	}
	if err := checkDNSNames(s, d); err != nil {
		return err
	}
	inst.DNSNames = d
	return nil
}

// with is d with the options given (nil: unchanged).
func (d InstanceDNSNames) with(hostnameType *string, aRecord, aaaaRecord *bool) InstanceDNSNames {
	if hostnameType != nil {
		d.HostnameType = *hostnameType
	}
	if aRecord != nil {
		d.ARecord = *aRecord
	}
	if aaaaRecord != nil {
		d.AAAARecord = *aaaaRecord
	}
	return d
}

// checkDNSNames checks hostname options against the rules of the subnet:
// an IPv6-only subnet has resource names and no A record; an AAAA record
// needs an IPv6 block.
func checkDNSNames(s *Subnet, d InstanceDNSNames) error {
	switch {
	case d.HostnameType != "ip-name" && d.HostnameType != "resource-name":
		return errorf(CodeInvalidParameterValue, "Value (%s) for parameter privateDnsNameOptions.hostnameType is invalid. Valid values are ip-name and resource-name.", d.HostnameType)
	case s.Ipv6Native && d.HostnameType != "resource-name":
		return errorf(CodeInvalidParameterValue, "The hostname type of instances in IPv6-only subnet %s must be resource-name.", s.ID)
	case s.Ipv6Native && d.ARecord:
		return errNoIPv4(s)
	case d.AAAARecord && s.Ipv6CidrBlock == "":
		return errorf(CodeInvalidParameterValue, "Invalid value for parameter privateDnsNameOptions.enableResourceNameDnsAAAARecord: subnet %s has no IPv6 CIDR block.", s.ID)
	}
	return nil
}

// instanceResourceDNS is an instance's resource name: i-….ec2.internal in
// us-east-1, i-….<region>.compute.internal elsewhere.
func (tx *Tx) instanceResourceDNS(id string) string {
	return id + "." + dhcpDomainName(tx.Region)
}

// checkIpv6Only checks that an IPv6-only subnet has an IPv6 block and no
// IPv4 one, and that its interfaces hold no IPv4 address or prefix.
func (d *db) checkIpv6Only(bad func(string, ...any)) {
	for _, s := range d.subnets.rows {
		if s.Ipv6Native && (s.CidrBlock != "" || s.Ipv6CidrBlock == "") || !s.Ipv6Native && s.CidrBlock == "" {
			bad("subnet %s: ipv6Native %v with IPv4 block %q and IPv6 block %q", s.ID, s.Ipv6Native, s.CidrBlock, s.Ipv6CidrBlock)
		}
	}
	for _, e := range d.enis.rows {
		if s := d.subnets.rows[e.SubnetID]; s != nil && s.Ipv6Native && (len(e.PrivateIPs) > 0 || len(e.IPv4Prefixes) > 0 || e.PublicIP != "") {
			bad("ENI %s has IPv4 addresses in IPv6-only subnet %s", e.ID, s.ID)
		}
	}
}
