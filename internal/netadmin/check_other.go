//go:build !linux

package netadmin

import "fmt"

// Check returns why this process cannot run the data plane: it is Linux's
// (network namespaces, netlink, nftables), and this is not Linux.
func Check() error {
	return fmt.Errorf("%w: the data plane needs Linux (network namespaces)", ErrNoPrivilege)
}

// Capable is Check.
func Capable() error { return Check() }
