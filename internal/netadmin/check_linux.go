package netadmin

import (
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Check returns why this process cannot run the data plane, or nil: first
// the capabilities missing from its effective set, then whether a network
// namespace can be created (a seccomp filter or a user namespace may forbid
// it even so).
func Check() error {
	if err := Capable(); err != nil {
		return err
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

// Capable returns which capabilities this process lacks to run the data plane, or
// nil: Check without making a namespace, which takes milliseconds (what enters the
// plane's namespaces, and makes none, asks only this: eni-run-task).
func Capable() error {
	eff, err := effective()
	if err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	if missing := Missing(eff); len(missing) > 0 {
		return fmt.Errorf("%w: %s missing (run as root)", ErrNoPrivilege, strings.Join(missing, " and "))
	}
	return nil
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
