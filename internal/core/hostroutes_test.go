package core

import (
	"slices"
	"testing"
)

// hostRoutesToENIs: 0.0.0.0/0 to an ENI is the default route (not for a public
// subnet); narrower IPv4 routes to ENIs are kept, masked; those inside one of the
// VPC's blocks (primary or secondary) are the local route's, and other targets
// and IPv6 routes are not routes to ENIs.
func TestHostRoutesToENIs(t *testing.T) {
	c := newTestCore(t)
	vpc := &VPC{CidrBlock: "10.0.0.0/16", CidrAssocs: []CidrAssoc{{Cidr: "10.0.0.0/16", State: "associated"}, {Cidr: "10.9.0.0/16", State: "associated"}}}
	rt := &RouteTable{Routes: []Route{
		{DestinationCidrBlock: "10.0.0.0/16", GatewayID: "local"},
		{DestinationCidrBlock: "0.0.0.0/0", NetworkInterfaceID: "eni-nat"},
		{DestinationCidrBlock: "192.168.7.1/16", NetworkInterfaceID: "eni-app"},
		{DestinationCidrBlock: "10.9.3.0/24", NetworkInterfaceID: "eni-app"},
		{DestinationCidrBlock: "10.0.0.0/8", NetworkInterfaceID: "eni-app"},
		{DestinationCidrBlock: "203.0.113.0/24", GatewayID: "igw-1"},
		{DestinationIpv6CidrBlock: "2001:db8::/32", NetworkInterfaceID: "eni-app"},
	}}
	if err := mutate(t, c, func(tx *Tx) error {
		def, routes := tx.hostRoutesToENIs(vpc, rt, false)
		if want := []HostENIRoute{{Dest: "192.168.0.0/16", ENI: "eni-app"}}; def != "eni-nat" || !slices.Equal(routes, want) {
			t.Errorf("private: %q %v, want eni-nat %v", def, routes, want)
		}
		if def, routes := tx.hostRoutesToENIs(vpc, rt, true); def != "" || len(routes) != 1 {
			t.Errorf("public: %q %v, want no default route and the narrower one", def, routes)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
