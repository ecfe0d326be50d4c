package dataplane

// Peering is an active VPC peering connection: a link between the two VPCs'
// routers (see peering_linux.go).
type Peering struct {
	ID   string
	VPCs [2]string
}

// PeerRoute is a subnet's route to a peering connection: traffic from the
// subnet to CIDR (IPv4) crosses the connection's link.
type PeerRoute struct {
	CIDR    string
	Peering string
}

// kindPeer names a router's end of a peering link (router namespace).
const kindPeer = 'p'
