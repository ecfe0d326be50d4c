// Package netadmin tells whether this process may run the data plane: it
// needs CAP_NET_ADMIN (links, addresses, routes, nftables) and CAP_SYS_ADMIN
// (creating and entering network namespaces, and the bind mounts that name
// them), and a kernel that lets it create a network namespace. The server's
// --dataplane and the root tests (netadmin/nettest) ask it. It must not import
// testing: cmd/eni links it.
package netadmin

import (
	"errors"
)

// ErrNoPrivilege is what Check's error wraps when a capability is missing.
var ErrNoPrivilege = errors.New("not privileged")

// capability is one capability the data plane needs, and what for.
type capability struct {
	bit  uint
	name string
}

var needed = []capability{
	{12, "CAP_NET_ADMIN"}, // linux/capability.h; Linux's numbers on every architecture
	{21, "CAP_SYS_ADMIN"},
}

// Missing names the needed capabilities absent from an effective set (a
// bit mask of CAP_* numbers, as /proc/PID/status's CapEff).
func Missing(effective uint64) []string {
	var missing []string
	for _, c := range needed {
		if effective&(1<<c.bit) == 0 {
			missing = append(missing, c.name)
		}
	}
	return missing
}
