// Package netadmin tells whether this process may create network namespaces
// (CAP_NET_ADMIN), for the server's --dataplane auto and for tests.
package netadmin

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// Check tries to create a network namespace on a throwaway thread and
// returns why it cannot, or nil.
func Check() error {
	errc := make(chan error, 1)
	go func() {
		// The thread stays locked: it ends with the goroutine, in its
		// throwaway namespace, and never runs other code.
		runtime.LockOSThread()
		errc <- unix.Unshare(unix.CLONE_NEWNET)
	}()
	return <-errc
}

// Require skips the test when namespaces cannot be created, saying how to
// run it (as root: sudo go test ./PKG), and fails it instead under CI=true,
// where these tests must run.
func Require(tb testing.TB, pkg string) {
	tb.Helper()
	if err := Check(); err != nil {
		msg := fmt.Sprintf("these tests need CAP_NET_ADMIN: run as root (sudo go test %s): %v", pkg, err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
}
