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

// ENIRoute is a subnet's route to an ENI: traffic from the subnet to CIDR goes to
// the ENI's primary address, on its subnet's leg of the VPC router.
type ENIRoute struct {
	CIDR string
	ENI  string
}

// kindPeer names a router's end of a peering link (router namespace).
const kindPeer = 'p'
