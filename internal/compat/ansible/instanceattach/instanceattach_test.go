// Package instanceattach runs amazon.aws's own ec2_instance target that attaches resources
// made outside the module (see package ansible). Its own package, so
// that its targets have their own go test timeout on a loaded machine.
package instanceattach

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleAttachTargets(t *testing.T) {
	ansible.RunTargets(t,
		ansible.Target{Name: "ec2_instance_external_resource_attach"},
	)
}
