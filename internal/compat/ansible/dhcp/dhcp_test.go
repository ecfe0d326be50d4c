// Package dhcp runs amazon.aws's own ec2_vpc_dhcp_option target (with
// ec2_vpc_dhcp_option_info; see package ansible). Its own package, so that its target has
// its own go test timeout on a loaded machine.
package dhcp

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleDHCPOptionTargets(t *testing.T) {
	ansible.RunTargets(t, ansible.Target{Name: "ec2_vpc_dhcp_option"})
}
