package core

// HostACL is a subnet's network ACL as the data plane enforces it: each direction's
// entries ordered by rule number, the catch-all denies included.
type HostACL struct {
	ID                string
	Inbound, Outbound []HostACLEntry
}

// HostACLEntry is one entry: Protocol "-1" or a number; FromPort/ToPort the TCP and UDP
// destination ports and IcmpType/IcmpCode those of ICMP and ICMPv6 (-1: all).
type HostACLEntry struct {
	RuleNumber         int
	Protocol           string
	Allow              bool
	CIDR               string
	FromPort, ToPort   int
	IcmpType, IcmpCode int
}

// hostACL is the network ACL the subnet is associated with (explicitly, or the VPC's
// default), nil when there is none.
func (tx *Tx) hostACL(subnetID string) *HostACL {
	a, _ := tx.SubnetNetworkACL(subnetID)
	if a == nil {
		return nil
	}
	h := &HostACL{ID: a.ID}
	for _, e := range aclSortedEntries(a.Entries) {
		he := HostACLEntry{RuleNumber: int(e.RuleNumber), Protocol: e.Protocol, Allow: e.Action == "allow",
			CIDR: e.CidrBlock, FromPort: -1, ToPort: -1, IcmpType: -1, IcmpCode: -1}
		if e.Ipv6CidrBlock != "" {
			he.CIDR = e.Ipv6CidrBlock
		}
		if e.Ports != nil {
			he.FromPort, he.ToPort = int(e.Ports.From), int(e.Ports.To)
		}
		if e.Icmp != nil {
			he.IcmpType, he.IcmpCode = int(e.Icmp.Type), int(e.Icmp.Code)
		}
		if e.Egress {
			h.Outbound = append(h.Outbound, he)
		} else {
			h.Inbound = append(h.Inbound, he)
		}
	}
	return h
}
