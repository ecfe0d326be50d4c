package agent

import (
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/dataplane"
)

// desiredACL translates a subnet's network ACL (nil stays nil: not filtered).
func desiredACL(a *core.HostACL) *dataplane.NetworkACL {
	if a == nil {
		return nil
	}
	conv := func(es []core.HostACLEntry) []dataplane.ACLEntry {
		out := make([]dataplane.ACLEntry, 0, len(es))
		for _, e := range es {
			out = append(out, dataplane.ACLEntry{RuleNumber: e.RuleNumber, Protocol: e.Protocol, Allow: e.Allow,
				CIDR: e.CIDR, FromPort: e.FromPort, ToPort: e.ToPort, ICMPType: e.IcmpType, ICMPCode: e.IcmpCode})
		}
		return out
	}
	return &dataplane.NetworkACL{Inbound: conv(a.Inbound), Outbound: conv(a.Outbound)}
}
