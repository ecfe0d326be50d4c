package core

import "net/netip"

// HostENIRoute is a subnet's IPv4 route narrower than 0.0.0.0/0 to a network
// interface: traffic from the subnet to Dest goes to the ENI (a NAT instance,
// an appliance, a NAT gateway's interface), as a route to it does on AWS.
type HostENIRoute struct {
	Dest, ENI string
}

// routeENI is the ENI a route sends its traffic to: the interface it names,
// the primary interface of the instance it names, or the interface of a live
// NAT gateway it names; "" for any other target.
func (tx *Tx) routeENI(r Route) string {
	switch {
	case r.NetworkInterfaceID != "":
		return r.NetworkInterfaceID
	case r.NatGatewayID != "":
		return tx.hostNatRoute(r.NatGatewayID)
	case r.InstanceID != "":
		for _, e := range tx.enisOfInstance(r.InstanceID) {
			if e.Attachment.DeviceIndex == 0 {
				return e.ID
			}
		}
	}
	return ""
}

// hostRoutesToENIs returns, for a subnet of vpc whose table is rt, the ENI
// that 0.0.0.0/0 goes to ("" when none, or when the subnet is public) and its
// narrower IPv4 routes to ENIs. A destination inside one of the VPC's own
// blocks is left to the local route (more specific routes for traffic
// between subnets are not realised).
func (tx *Tx) hostRoutesToENIs(vpc *VPC, rt *RouteTable, public bool) (def string, routes []HostENIRoute) {
	if rt == nil {
		return "", nil
	}
	v4, _ := vpcBlocks(vpc)
	for _, r := range rt.Routes {
		eni := tx.routeENI(r)
		dst, err := netip.ParsePrefix(r.DestinationCidrBlock)
		if eni == "" || err != nil || !dst.Addr().Is4() {
			continue
		}
		if dst.Bits() == 0 {
			if !public {
				def = eni
			}
			continue
		}
		if !overlapsAny(dst, v4) {
			routes = append(routes, HostENIRoute{Dest: dst.Masked().String(), ENI: eni})
		}
	}
	return def, routes
}

// overlapsAny says whether p overlaps one of the blocks.
func overlapsAny(p netip.Prefix, blocks []string) bool {
	for _, b := range blocks {
		if q, err := netip.ParsePrefix(b); err == nil && q.Overlaps(p) {
			return true
		}
	}
	return false
}
