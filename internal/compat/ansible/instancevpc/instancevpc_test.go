// Package instancevpc runs amazon.aws's own integration targets for instance settings in a VPC: tags, subnets, security groups
// (see package ansible).
package instancevpc

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleInstanceVPCTargets(t *testing.T) {
	ansible.RunTargets(t,
		ansible.Target{Name: "ec2_instance_tags_and_vpc_settings"},
		ansible.Target{Name: "ec2_instance_security_group"},
	)
}
