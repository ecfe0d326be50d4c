// Package instance runs amazon.aws's own Elastic IP and instance integration targets (see
// package ansible).
package instance

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleInstanceTargets(t *testing.T) {
	ansible.RunTargets(t,
		ansible.Target{Name: "ec2_eip"},
		ansible.Target{Name: "ec2_instance_instance_minimal"},
		ansible.Target{Name: "ec2_instance_tags_and_vpc_settings"},
		ansible.Target{Name: "ec2_instance_security_group"},
		ansible.Target{Name: "ec2_instance_state_config_updates"},
		ansible.Target{Name: "ec2_instance_termination_protection"},
	)
}
