package core

import "strings"

// hostIPv6Default reports whether the subnet's route table sends ::/0, by an
// active route, to an egress-only internet gateway (egressOnly) or to an
// internet gateway attached to its VPC (public: the internet may start
// connections to its IPv6 addresses, as far as security groups allow).
func (tx *Tx) hostIPv6Default(subnetID string) (egressOnly, public bool) {
	rt := tx.SubnetRouteTable(subnetID)
	if rt == nil {
		return false, false
	}
	for _, r := range rt.Routes {
		if r.DestinationIpv6CidrBlock != "::/0" || tx.RouteState(rt, r) != "active" {
			continue
		}
		switch {
		case r.EgressOnlyIGWID != "":
			egressOnly = true
		case strings.HasPrefix(r.GatewayID, "igw-"):
			public = true
		}
	}
	return egressOnly, public
}
