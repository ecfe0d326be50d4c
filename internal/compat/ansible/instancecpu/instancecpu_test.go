// Package instancecpu runs amazon.aws's own ec2_instance_cpu_options target (see package
// ansible). Its own package, so that its target has its own go test timeout on a loaded
// machine.
package instancecpu

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleInstanceCPUTargets(t *testing.T) {
	ansible.RunTargets(t, ansible.Target{Name: "ec2_instance_cpu_options"})
}
