// Package netadmin tells whether this process may run the data plane: it
// needs CAP_NET_ADMIN (links, addresses, routes, nftables) and CAP_SYS_ADMIN
// (creating and entering network namespaces, and the bind mounts that name
// them), and a kernel that lets it create a network namespace. The server's
// --dataplane and the root tests (netadmin/nettest) ask it. It must not import
// testing: cmd/eni links it.
package netadmin

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNoPrivilege is what Check's error wraps when a capability is missing.
var ErrNoPrivilege = errors.New("not privileged")

// capability is one capability the data plane needs, and what for.
type capability struct {
	bit  uint
	name string
}

var needed = []capability{
	{unix.CAP_NET_ADMIN, "CAP_NET_ADMIN"},
	{unix.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
}

// Check returns why this process cannot run the data plane, or nil: first
// the capabilities missing from its effective set, then whether a network
// namespace can be created (a seccomp filter or a user namespace may forbid
// it even so).
func Check() error {
	eff, err := effective()
	if err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	if missing := Missing(eff); len(missing) > 0 {
		return fmt.Errorf("%w: %s missing (run as root)", ErrNoPrivilege, strings.Join(missing, " and "))
	}
	errc := make(chan error, 1)
	go func() {
		// The thread stays locked: it ends with the goroutine, in its
		// throwaway namespace, and never runs other code.
		runtime.LockOSThread()
		errc <- unix.Unshare(unix.CLONE_NEWNET)
	}()
	if err := <-errc; err != nil {
		return fmt.Errorf("create a network namespace: %w", err)
	}
	return nil
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

// effective returns this thread's effective capabilities.
func effective() (uint64, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, err
	}
	return uint64(data[0].Effective) | uint64(data[1].Effective)<<32, nil
}
