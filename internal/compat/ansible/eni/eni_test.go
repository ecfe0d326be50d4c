// Package eni runs amazon.aws's own ec2_eni target (with ec2_eni_info; see package
// ansible). Its own package, so that its target has its own go test timeout on a loaded
// machine.
package eni

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleENITargets(t *testing.T) {
	ansible.RunTargets(t, ansible.Target{Name: "ec2_eni"})
}
