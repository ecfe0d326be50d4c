// Package instancelaunch runs amazon.aws's own ec2_instance targets about launching
// several instances at once, and without waiting (see package ansible). Its own
// package, so that its targets have their own go test timeout on a loaded machine.
package instancelaunch

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleInstanceLaunchTargets(t *testing.T) {
	ansible.RunTargets(t,
		ansible.Target{Name: "ec2_instance_instance_multiple"},
		ansible.Target{Name: "ec2_instance_instance_no_wait"},
	)
}
