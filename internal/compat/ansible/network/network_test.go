// Package network runs the seed's network playbook through Ansible (see package ansible).
package network

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

// TestAnsibleNetwork: tests/compat/ansible/playbooks/network.yml applied, applied again
// (changed=0), the floating ENI moved, applied again (changed=0), torn down.
func TestAnsibleNetwork(t *testing.T) { ansible.RunNetwork(t) }
