package e2e

import "testing"

// testBridgePorts, when set, is the data plane's Options.BridgePorts in the harness.
var testBridgePorts int

// TestAttacksAcrossSegments runs the attacks on the datapath again with one ENI port per
// bridge: every ENI of a subnet but its first is on a segment of its own
// (internal/dataplane/segments_linux.go), so attacker and victim are on different bridges
// and every frame between them crosses a patch or two.
func TestAttacksAcrossSegments(t *testing.T) {
	testBridgePorts = 1
	defer func() { testBridgePorts = 0 }()
	for _, a := range []struct {
		name string
		test func(*testing.T)
	}{
		{"ConntrackPlanting", TestAttackConntrackPlanting},
		{"SpoofedIPv6Source", TestAttackSpoofedIPv6Source},
		{"NDPPoisoning", TestAttackNDPPoisoning},
		{"RogueICMPv6", TestAttackRogueICMPv6},
		{"DHCPServerReplies", TestAttackDHCPServerReplies},
		{"VLANTags", TestAttackVLANTags},
		{"ConntrackTableShare", TestAttackConntrackTableShare},
		{"MetadataSpoofing", TestAttackMetadataSpoofing},
		{"MetadataMovedENI", TestAttackMetadataMovedENI},
		{"ENIMovesLand", TestENIMovesLand},
		{"ForgedResets", TestAttackForgedResets},
	} {
		t.Run(a.name, a.test)
	}
}
