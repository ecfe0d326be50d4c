package core

// hostEgressOnlyIPv6 reports whether the subnet's route table sends ::/0 to an
// egress-only internet gateway that exists (the route is active).
func (tx *Tx) hostEgressOnlyIPv6(subnetID string) bool {
	rt := tx.SubnetRouteTable(subnetID)
	if rt == nil {
		return false
	}
	for _, r := range rt.Routes {
		if r.DestinationIpv6CidrBlock == "::/0" && r.EgressOnlyIGWID != "" && tx.RouteState(rt, r) == "active" {
			return true
		}
	}
	return false
}
