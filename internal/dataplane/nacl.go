package dataplane

// NetworkACL is the network ACL a subnet is associated with: stateless rules evaluated at
// the subnet's boundary (its leg on the VPC router), each direction in order of rule
// number, the first match deciding; a packet that matches no entry is dropped (AWS's "*"
// rule). A subnet without one (nil) is not filtered.
type NetworkACL struct {
	Inbound  []ACLEntry // packets entering the subnet: CIDR matches their source
	Outbound []ACLEntry // packets leaving the subnet: CIDR matches their destination
}

// ACLEntry is one numbered rule of a network ACL.
type ACLEntry struct {
	RuleNumber int
	Protocol   string // "-1" or a protocol number ("6", "17", "1", "58", …)
	Allow      bool
	CIDR       string // one IPv4 or IPv6 block
	// FromPort–ToPort: destination port range for TCP and UDP (-1: all ports).
	FromPort, ToPort int
	// ICMPType and ICMPCode for ICMP and ICMPv6 (-1: all).
	ICMPType, ICMPCode int
}
