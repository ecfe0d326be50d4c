// Package instancestate runs amazon.aws's own integration targets for instance state: configuration updates and termination protection
// (see package ansible).
package instancestate

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleInstanceStateTargets(t *testing.T) {
	ansible.RunTargets(t,
		ansible.Target{Name: "ec2_instance_state_config_updates"},
		ansible.Target{Name: "ec2_instance_termination_protection"},
	)
}
