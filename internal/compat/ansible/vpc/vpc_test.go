// Package vpc runs amazon.aws's own VPC integration targets (see package ansible); one
// package per group of targets, so that each group has its own go test timeout.
package vpc

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleVPCTargets(t *testing.T) {
	ansible.RunTargets(t,
		ansible.Target{Name: "ec2_vpc_net"},
		ansible.Target{Name: "ec2_vpc_subnet"},
		ansible.Target{Name: "ec2_vpc_igw"},
	)
}
