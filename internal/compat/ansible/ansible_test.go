package ansible

import (
	"os"
	"strings"
	"testing"
)

func TestUntemplate(t *testing.T) {
	for in, want := range map[string]string{
		`a == '{{ b }}'`:                           `a == ('' ~ (b) ~ '')`,
		`x.tags["Name"] == "{{ p }}-vpc"`:          `x.tags["Name"] == ("" ~ (p) ~ "-vpc")`,
		`'The CIDR \'{{ c }}\' conflicts' in m`:    `('The CIDR \'' ~ (c) ~ '\' conflicts') in m`,
		`l | selectattr("id",'equalto',"{{ i }}")`: `l | selectattr("id",'equalto',("" ~ (i) ~ ""))`,
		`{{ a }} == 1`:                             `(a) == 1`,
		`a is changed`:                             `a is changed`,
	} {
		if got := untemplate(in); got != want {
			t.Errorf("untemplate(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestAnsibleTargetsNamed runs the targets ENI_ANSIBLE_TARGETS names (comma-separated),
// to try one the suite does not run yet; without it, it skips.
func TestAnsibleTargetsNamed(t *testing.T) {
	names := os.Getenv("ENI_ANSIBLE_TARGETS")
	if names == "" {
		t.Skip("ENI_ANSIBLE_TARGETS names no target")
	}
	var targets []Target
	for _, n := range strings.Split(names, ",") {
		targets = append(targets, Target{Name: n})
	}
	RunTargets(t, targets...)
}
