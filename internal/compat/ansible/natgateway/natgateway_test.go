// Package natgateway runs a NAT gateway playbook written with amazon.aws 5.5.1's
// ec2_vpc_nat_gateway and ec2_vpc_nat_gateway_info (see package ansible).
package natgateway

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

// TestAnsibleNatGateway: tests/compat/ansible/playbooks/natgateway.yml passes whole and
// leaves nothing behind.
func TestAnsibleNatGateway(t *testing.T) { ansible.RunPlaybook(t, "natgateway.yml") }
