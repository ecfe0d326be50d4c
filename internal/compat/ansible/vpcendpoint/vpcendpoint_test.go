// Package vpcendpoint runs amazon.aws's own ec2_vpc_endpoint target (with
// ec2_vpc_endpoint_info; see package ansible). Its own package, so that its target
// has its own go test timeout on a loaded machine.
package vpcendpoint

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

// upstream is amazon.aws's "Re-enable ec2_vpc_endpoint tests" (#1167, commit
// 6446e6f416ac, in 6.0.0): 5.5.1 ships the target disabled and broken, so that it
// fails against AWS too. These are its changes of the tasks; the rest of that commit
// (a shared cleanup role that also removes the subnet and group the 5.5.1 cleanup
// leaves) is not taken.
const upstream = "amazon.aws#1167 (6446e6f416ac)"

const tasks = "ec2_vpc_endpoint/tasks/main.yml"

func TestAnsibleVpcEndpointTargets(t *testing.T) {
	ansible.RunTargets(t, ansible.Target{Name: "ec2_vpc_endpoint", Fixes: []ansible.Fix{
		{File: tasks, Why: upstream + ": purge_tags defaults to true since 5.0.0, the task means to add a tag",
			Old: "      - '{{ rtb_igw_id }}'\n      tags:\n        new_tag: ANewTag\n    register: add_tag_vpc_endpoint",
			New: "      - '{{ rtb_igw_id }}'\n      purge_tags: false\n      tags:\n        new_tag: ANewTag\n    register: add_tag_vpc_endpoint"},
		{File: tasks, Why: upstream + ": no variable vpc is registered",
			Old: `vpc_id: "{{ vpc.vpc.id }}"`, New: `vpc_id: "{{ vpc_id }}"`},
		{File: tasks, Why: upstream + ": a stray quote and parenthesis in the template",
			Old: `subnet.id') }}"`, New: `subnet.id }}"`},
		{File: tasks, Why: upstream + ": another service than the interface endpoint deleted just before, " +
			"which AWS still describes (deleted) and the module would take for this one; and wait for it",
			Old: "      service: '{{ endpoint_service_a }}'\n      vpc_endpoint_type: Interface\n      vpc_endpoint_subnets:",
			New: "      service: '{{ endpoint_service_b }}'\n      vpc_endpoint_type: Interface\n      wait: true\n      vpc_endpoint_subnets:"},
		{File: tasks, Why: upstream + ": wait for the deletion",
			Old: "      vpc_endpoint_id: \"{{ create_interface_endpoint_with_sg_subnets.result.vpc_endpoint_id }}\"\n",
			New: "      vpc_endpoint_id: \"{{ create_interface_endpoint_with_sg_subnets.result.vpc_endpoint_id }}\"\n      wait: true\n"},
	}})
}
