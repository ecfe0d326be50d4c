package core

import (
	"slices"
	"time"
)

// Disassociated VPC CIDR blocks. DisassociateVpcCidrBlock answers
// "disassociating"; AWS then shows the block as "disassociated" in the
// VPC's association sets for a while before it disappears, and tools wait
// for exactly that (Ansible's ec2_vpc_net waits until every Amazon IPv6
// block it saw is "disassociated", and would wait forever on an empty set).
// ENI settles at once: a disassociated block leaves the VPC's active blocks
// in the same change (routes, subnets and the data plane no longer see it),
// and is shown as "disassociated" for CidrGoneRetention after, computed from
// the transaction's time, then no more.

// CidrGoneRetention is how long a disassociated block stays visible.
const CidrGoneRetention = time.Hour

// cidrGoneVisible returns the blocks of gone still visible at now.
func cidrGoneVisible(gone []CidrAssoc, now time.Time) []CidrAssoc {
	var out []CidrAssoc
	for _, a := range gone {
		if now.Before(a.GoneAt.Add(CidrGoneRetention)) {
			out = append(out, a)
		}
	}
	return out
}

// vpcCidrs are the VPC's IPv4 associations as DescribeVpcs shows them.
func (tx *Tx) vpcCidrs(v *VPC) []CidrAssoc {
	return append(slices.Clone(v.CidrAssocs), cidrGoneVisible(v.CidrGone, tx.now)...)
}

// vpcIpv6s are the VPC's IPv6 associations as DescribeVpcs shows them: in the order
// they were made, as AWS lists them, so the blocks disassociated (which were made before
// any block associated since) come first — a VPC whose block was removed and another
// added shows [disassociated, associated] (amazon.aws's ec2_vpc_net test asserts it).
func (tx *Tx) vpcIpv6s(v *VPC) []CidrAssoc {
	return append(cidrGoneVisible(v.Ipv6Gone, tx.now), v.Ipv6Assocs...)
}

// cidrGone records a block leaving a VPC (v is the transaction's copy), and
// forgets those no longer shown.
func (tx *Tx) cidrGone(v *VPC, a CidrAssoc, ipv6 bool) {
	a.State, a.GoneAt = "disassociated", tx.now
	if ipv6 {
		v.Ipv6Gone = append(cidrGoneVisible(v.Ipv6Gone, tx.now), a)
	} else {
		v.CidrGone = append(cidrGoneVisible(v.CidrGone, tx.now), a)
	}
}
