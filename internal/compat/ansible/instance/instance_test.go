// Package instance runs amazon.aws's own Elastic IP and minimal instance integration
// targets (see package ansible). The ec2_instance targets are spread over a few packages,
// two targets each, so that each package has its own go test timeout with room to spare
// on a loaded machine.
package instance

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleInstanceTargets(t *testing.T) {
	ansible.RunTargets(t,
		ansible.Target{Name: "ec2_eip"},
		ansible.Target{Name: "ec2_instance_instance_minimal"},
	)
}
