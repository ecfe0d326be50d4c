package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eni-net/eni/internal/pidlock"
	"github.com/eni-net/eni/internal/store"
)

// runDir holds the data plane prefix locks (a tmpfs: they go with a reboot,
// as the namespaces do). A variable for the tests.
var runDir = "/run/eni"

// prefixLockPath is the lock eni serve holds on its --dataplane-prefix while
// it runs, and eni cleanup asks about.
func prefixLockPath(prefix string) string {
	return filepath.Join(runDir, "dataplane-"+prefix+".pid")
}

// lockPrefix takes the data plane prefix for this server: two servers
// reconciling the same namespaces would undo each other's work.
func lockPrefix(prefix string) (*pidlock.Lock, error) {
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, err
	}
	l, err := pidlock.Acquire(prefixLockPath(prefix))
	var held *pidlock.HeldError
	if errors.As(err, &held) {
		return nil, fmt.Errorf("the data plane prefix %q is in use by another eni serve (%s): stop it, or give this one another --dataplane-prefix", prefix, holder(held.PID))
	}
	return l, err
}

// openStore opens the store in dir ("" keeps nothing), holding the directory
// for this server: a second server on it is told who has it rather than
// waiting for bbolt's file lock. The returned close releases both.
func openStore(dir string) (store.Store, func(), error) {
	if dir == "" {
		m := store.NewMemory()
		return m, func() { _ = m.Close() }, nil // Memory's Close does nothing
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("--data: %w", err)
	}
	l, err := pidlock.Acquire(filepath.Join(dir, "eni.pid"))
	var held *pidlock.HeldError
	if errors.As(err, &held) {
		return nil, nil, fmt.Errorf("the data directory %s is in use by another eni serve (%s): stop it, or give this one its own --data DIR (--data '' keeps nothing)", dir, holder(held.PID))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--data: %w", err)
	}
	b, err := store.OpenBolt(filepath.Join(dir, "eni.db"))
	if err != nil {
		_ = l.Release() // nothing was opened
		return nil, nil, err
	}
	return b, func() {
		_ = b.Close() // errors of a closing store are the log's (none to report here)
		_ = l.Release()
	}, nil
}

func holder(pid int) string {
	if pid <= 0 {
		return "pid unknown"
	}
	return fmt.Sprintf("pid %d", pid)
}
