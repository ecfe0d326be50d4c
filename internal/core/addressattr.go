package core

import (
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// The one attribute of an Elastic IP: its reverse DNS (PTR) record,
// domain-name. AWS answers a change as PENDING while it updates its DNS and
// applies it later; ENI has no DNS to update, so the change is applied at
// once: the reply of ModifyAddressAttribute and ResetAddressAttribute says
// PENDING as AWS's does, and every later DescribeAddressesAttribute shows
// the record applied, with no update pending that a client could wait on.

// addressAttributeName is the only attribute of an address.
const addressAttributeName = "domain-name"

// checkAddressAttribute checks an Attribute parameter.
func checkAddressAttribute(attr string) error {
	if attr != addressAttributeName {
		return errorf(CodeInvalidParameterValue, "Value (%s) for parameter attribute is invalid. Valid values are: domain-name.", attr)
	}
	return nil
}

// addressPtr is the address's reverse DNS name: its own, or AWS's default
// (the public DNS name of the address), ending with a dot as AWS writes it.
func (tx *Tx) addressPtr(a *Address) string {
	if a.PtrRecord != "" {
		return a.PtrRecord
	}
	return eniPublicDNS(tx.Region, a.PublicIP) + "."
}

// checkDomainName checks a reverse DNS name and returns it ending with a dot.
func checkDomainName(name string) (string, error) {
	bad := errorf(CodeInvalidParameterValue, "Value (%s) for parameter domainName is invalid. It is not a valid domain name.", name)
	n := strings.TrimSuffix(strings.ToLower(name), ".")
	if n == "" || len(n) > 253 {
		return "", bad
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", bad
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", bad
			}
		}
	}
	return n + ".", nil
}

// addressAttributeOut renders an address's attribute; update, if not nil, is
// a change in progress (the reply to a modify or reset).
func (tx *Tx) addressAttributeOut(a *Address, update *ec2wire.PtrUpdateStatus) ec2wire.AddressAttribute {
	return ec2wire.AddressAttribute{AllocationId: p(a.AllocationID), PublicIp: p(a.PublicIP), PtrRecord: p(tx.addressPtr(a)), PtrRecordUpdate: update}
}

// DescribeAddressesAttribute describes the reverse DNS records of the
// caller's Elastic IPs.
func (tx *Tx) DescribeAddressesAttribute(in *ec2wire.DescribeAddressesAttributeInput) (*ec2wire.DescribeAddressesAttributeOutput, error) {
	if in.Attribute != nil {
		if err := checkAddressAttribute(*in.Attribute); err != nil {
			return nil, err
		}
	}
	for _, id := range in.AllocationIds {
		if _, err := tx.getAddress(id); err != nil {
			return nil, err
		}
	}
	items := tx.addresses.Sorted(func(a *Address) bool {
		return a.Owner == tx.Account && (len(in.AllocationIds) == 0 || contains(in.AllocationIds, a.AllocationID))
	})
	page, next, err := paginate(items, func(a *Address) string { return a.AllocationID }, in.MaxResults, in.NextToken, 1, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeAddressesAttributeOutput{NextToken: next, Addresses: []ec2wire.AddressAttribute{}}
	for _, a := range page {
		out.Addresses = append(out.Addresses, tx.addressAttributeOut(a, nil))
	}
	return out, nil
}

// ModifyAddressAttribute sets an Elastic IP's reverse DNS name.
func (tx *Tx) ModifyAddressAttribute(in *ec2wire.ModifyAddressAttributeInput) (*ec2wire.ModifyAddressAttributeOutput, error) {
	a, err := tx.getAddress(str(in.AllocationId))
	if err != nil {
		return nil, err
	}
	if in.DomainName == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter DomainName")
	}
	name, err := checkDomainName(*in.DomainName)
	if err != nil {
		return nil, err
	}
	out := tx.addressAttributeOut(a, &ec2wire.PtrUpdateStatus{Value: p(name), Status: p("PENDING")})
	tx.addresses.Mut(a.AllocationID).PtrRecord = name
	return &ec2wire.ModifyAddressAttributeOutput{Address: &out}, nil
}

// ResetAddressAttribute gives an Elastic IP back AWS's default reverse DNS
// name.
func (tx *Tx) ResetAddressAttribute(in *ec2wire.ResetAddressAttributeInput) (*ec2wire.ResetAddressAttributeOutput, error) {
	a, err := tx.getAddress(str(in.AllocationId))
	if err != nil {
		return nil, err
	}
	if err := checkAddressAttribute(str(in.Attribute)); err != nil {
		return nil, err
	}
	out := tx.addressAttributeOut(a, &ec2wire.PtrUpdateStatus{Value: p(eniPublicDNS(tx.Region, a.PublicIP) + "."), Status: p("PENDING")})
	if a.PtrRecord != "" {
		tx.addresses.Mut(a.AllocationID).PtrRecord = ""
	}
	return &ec2wire.ResetAddressAttributeOutput{Address: &out}, nil
}
