// Package instanceiam runs amazon.aws's own ec2_instance_iam_instance_role target (see
// package ansible), with community.aws's iam_role against this server's IAM. Its own
// package, so that its target has its own go test timeout on a loaded machine.
package instanceiam

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleInstanceIAMTargets(t *testing.T) {
	ansible.RunTargets(t, ansible.Target{Name: "ec2_instance_iam_instance_role"})
}
