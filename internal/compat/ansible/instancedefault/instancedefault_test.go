// Package instancedefault runs amazon.aws's own ec2_instance targets about the default VPC and
// check mode (see package ansible). Its own package, so
// that its targets have their own go test timeout on a loaded machine.
package instancedefault

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleDefaultTargets(t *testing.T) {
	ansible.RunTargets(t,
		ansible.Target{Name: "ec2_instance_default_vpc_tests"},
		ansible.Target{Name: "ec2_instance_checkmode_tests"},
	)
}
