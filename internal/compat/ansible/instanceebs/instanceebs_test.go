// Package instanceebs runs amazon.aws's own ec2_instance targets about block devices and
// EBS optimisation (see package ansible). Its own package, so
// that its targets have their own go test timeout on a loaded machine.
package instanceebs

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleEBSTargets(t *testing.T) {
	ansible.RunTargets(t,
		ansible.Target{Name: "ec2_instance_block_devices"},
		ansible.Target{Name: "ec2_instance_ebs_optimized"},
	)
}
