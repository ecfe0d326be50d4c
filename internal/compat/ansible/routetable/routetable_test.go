// Package routetable runs amazon.aws's own ec2_vpc_route_table target (with
// ec2_vpc_route_table_info, and community.aws's ec2_vpc_vgw for its gateway route
// table; see package ansible). Its own package, so that its target has its own go test
// timeout on a loaded machine.
package routetable

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleRouteTableTarget(t *testing.T) {
	ansible.RunTargets(t, ansible.Target{Name: "ec2_vpc_route_table"})
}
