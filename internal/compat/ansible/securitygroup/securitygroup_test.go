// Package securitygroup runs amazon.aws's own ec2_security_group integration target (see
// package ansible).
package securitygroup

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleSecurityGroupTarget(t *testing.T) {
	ansible.RunTargets(t, ansible.Target{Name: "ec2_security_group"})
}
