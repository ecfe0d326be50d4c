// Package pidlock is a lock a process holds for its life on a file that
// names it: flock(2) on the file, the holder's pid inside. The kernel drops
// the lock when the holder dies, however it dies, so a stale file locks
// nothing. eni serve holds one on its data directory and one on its data
// plane prefix; a second server, and eni cleanup, ask who holds them.
package pidlock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// HeldError says another live process holds the lock.
type HeldError struct {
	Path string
	PID  int // 0: the holder wrote no pid (yet)
}

func (e *HeldError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s is locked by another process", e.Path)
	}
	return fmt.Sprintf("%s is locked by process %d", e.Path, e.PID)
}

// Lock is a held lock.
type Lock struct{ f *os.File }

// Acquire takes the lock on path (created if need be, 0644) without waiting
// and writes this process's pid in it; a *HeldError if another process
// holds it.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close() // nothing written
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &HeldError{Path: path, PID: readPID(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err != nil {
		_ = f.Close() // the lock goes with it
		return nil, err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		_ = f.Close() // the lock goes with it
		return nil, err
	}
	return &Lock{f: f}, nil
}

// Holder says whether a live process holds the lock on path, and its pid
// (0 if it wrote none). A missing file is held by no one.
func Holder(path string) (held bool, pid int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	defer f.Close()
	switch err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); {
	case errors.Is(err, unix.EWOULDBLOCK):
		return true, readPID(path), nil
	case err != nil:
		return false, 0, fmt.Errorf("lock %s: %w", path, err)
	}
	return false, 0, nil // closing f drops the shared lock just taken
}

// Release empties the file and drops the lock. The file stays: removing it
// would race with a process that has just opened it to lock it.
func (l *Lock) Release() error {
	_ = l.f.Truncate(0) // best effort: an unlocked file names no one anyway
	return l.f.Close()
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}
