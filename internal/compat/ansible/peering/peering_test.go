// Package peering runs community.aws 5.5.0's own VPC peering integration
// target (ec2_vpc_peer, with ec2_vpc_peering_info; see package ansible).
package peering

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsiblePeeringTarget(t *testing.T) {
	ansible.RunTargets(t, ansible.Target{Name: "ec2_vpc_peer"})
}
