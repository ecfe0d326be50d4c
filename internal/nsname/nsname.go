// Package nsname names the data plane's network namespaces and opens them: what
// the plane (internal/dataplane) and the commands that enter its namespaces
// (eni exec, eni-run-task) share. It links nothing but the system calls, so that
// eni-run-task stays small (taskrun).
package nsname

import (
	"fmt"
	"path/filepath"
)

// Dir is where named namespaces are bind-mounted (the iproute2 convention).
const Dir = "/run/netns"

// MaxPrefix is the longest prefix: 6 + an interface kind + 8 hex digits are 15
// bytes, the kernel's limit of an interface name.
const MaxPrefix = 6

// ValidPrefix says what is wrong with a data plane prefix, if anything.
func ValidPrefix(p string) error {
	if p == "" || len(p) > MaxPrefix {
		return fmt.Errorf("dataplane: prefix %q must be 1-%d characters", p, MaxPrefix)
	}
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return fmt.Errorf("dataplane: prefix %q may hold only [a-z0-9]", p)
		}
	}
	return nil
}

// Of is the namespace name of a resource id ("vpc-…", "i-…", "task-…") or a role
// ("dp", "inet") under prefix.
func Of(prefix, id string) string { return prefix + "-" + id }

// Path is where the namespace name is mounted.
func Path(name string) string { return filepath.Join(Dir, name) }
