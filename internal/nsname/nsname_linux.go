package nsname

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// nsfsMagic is the file system type of a namespace file.
const nsfsMagic = 0x6e736673

// Open opens the named namespace (a read-only, close-on-exec descriptor). A
// missing (or stale, unmounted) name is os.ErrNotExist.
func Open(name string) (int, error) {
	fd, err := unix.Open(Path(name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, fmt.Errorf("netns %s: %w", name, os.ErrNotExist)
		}
		return -1, fmt.Errorf("netns %s: %w", name, err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != nsfsMagic {
		_ = unix.Close(fd) // read-only fd
		return -1, fmt.Errorf("netns %s: not mounted: %w", name, os.ErrNotExist)
	}
	return fd, nil
}

// Join moves the calling thread (locked to its goroutine by the caller) into the
// named namespace.
func Join(name string) error {
	fd, err := Open(name)
	if err != nil {
		return err
	}
	defer unix.Close(fd) // read-only fd
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("netns %s: join: %w", name, err)
	}
	return nil
}
