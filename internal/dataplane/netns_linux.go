package dataplane

import (
	"errors"
	"fmt"
	mdnetlink "github.com/mdlayher/netlink"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/eni-net/eni/internal/nsname"
)

// netnsDir is where named namespaces are bind-mounted (the iproute2 convention).
const netnsDir = nsname.Dir

func nsPath(name string) string { return nsname.Path(name) }

// openNS opens the named namespace. A missing (or stale, unmounted) name is os.ErrNotExist.
func openNS(name string) (netns.NsHandle, error) {
	fd, err := nsname.Open(name)
	if err != nil {
		return netns.None(), err
	}
	return netns.NsHandle(fd), nil
}

// createNS creates a named network namespace without changing the caller's namespace.
func createNS(name string) (netns.NsHandle, error) {
	fd, err := unshareNet()
	if err != nil {
		return netns.None(), fmt.Errorf("create netns %s: %w", name, err)
	}
	err = bindNS(fd, name)
	_ = unix.Close(fd) // read-only fd; the mount keeps the namespace
	if err != nil {
		return netns.None(), err
	}
	return openNS(name)
}

// unshareNet makes a network namespace and returns a read-only descriptor of it,
// which alone keeps it, without changing the caller's namespace.
func unshareNet() (int, error) {
	type made struct {
		fd  int
		err error
	}
	mc := make(chan made, 1)
	go func() {
		// The thread stays locked: it ends with this goroutine and never runs other code
		// in the new namespace.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			mc <- made{-1, err}
			return
		}
		fd, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		mc <- made{fd, err}
	}()
	m := <-mc
	return m.fd, m.err
}

// bindNS names the namespace of descriptor fd name (bind-mounts it under /run/netns).
func bindNS(fd int, name string) error {
	p, err := mountPoint(name)
	if err == nil {
		if err = unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), p, "none", unix.MS_BIND, ""); err != nil {
			_ = os.Remove(p) // undo the mount point
		}
	}
	if err != nil {
		return fmt.Errorf("create netns %s: %w", name, err)
	}
	return nil
}

// mountPoint makes the empty file a namespace name is bind-mounted on (a stale one,
// not a mount, is replaced) and returns its path. A name that is free (a launch's) takes
// one open: the checks and removals for a stale one, and os's for a file to poll, were
// nine more system calls of every instance's pass.
func mountPoint(name string) (string, error) {
	p := nsPath(name)
	if netnsShared.Load() && mountFiles.create(p) == nil {
		return p, nil
	}
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return "", err
	}
	if err := ensureNetnsMountOnce(); err != nil {
		return "", err
	}
	// A stale file (not a mount) would make the bind mount fail: remove it.
	_ = unix.Unmount(p, unix.MNT_DETACH) // not mounted is fine
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return p, mountFiles.create(p)
}

// mountFiles makes the plane's mount points (mountFileLinks).
var mountFiles = mountFileLinks{fd: -1}

// mountFileLinks makes mount points as hard links of one unnamed file in netnsDir (an
// O_TMPFILE the process holds): a link is a directory entry, where a file of its own is
// an inode to allocate, and where /run is a disk file system that can cost more than the
// namespace. Without a journal, ext4 passes over each inode deleted in the last 60 s (360
// s while its block is unwritten) to find a free one: with namespaces churning, each new
// file read hundreds of inode blocks, here 0.57 ms a file after 1,000 deletions against 7
// µs a link. Removing a link frees no inode either. Where there is no O_TMPFILE (or
// linking fails otherwise), a mount point is a file of its own (createEmpty).
type mountFileLinks struct {
	mu  sync.Mutex
	fd  int  // the unnamed file; -1: none open
	off bool // the file system makes no unnamed files
}

// create makes the empty file p, which must not exist.
func (m *mountFileLinks) create(p string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for try := 0; try < 2 && !m.off; try++ {
		if m.fd < 0 {
			fd, err := unix.Open(netnsDir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o444)
			if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
				m.off = true
			}
			if err != nil {
				break
			}
			m.fd = fd
		}
		// By its /proc name, which needs no CAP_DAC_READ_SEARCH (AT_EMPTY_PATH would).
		err := unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", m.fd), unix.AT_FDCWD, p, unix.AT_SYMLINK_FOLLOW)
		if err == nil {
			return nil
		}
		if errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "link", Path: p, Err: err}
		}
		// Its last link was removed (an unnamed file once linked cannot be again: ENOENT),
		// it has as many links as the file system allows (EMLINK), or netnsDir is not the
		// mount it was made in (EXDEV): a new one. Another error (no space, a file system
		// or security module refusing links) would refuse a new one's too: a file instead.
		if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EMLINK) && !errors.Is(err, unix.EXDEV) {
			break
		}
		_ = unix.Close(m.fd)
		m.fd = -1
	}
	return createEmpty(p)
}

// createEmpty creates the empty file p, which must not exist.
func createEmpty(p string) error {
	fd, err := unix.Open(p, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY|unix.O_CLOEXEC, 0o444)
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	return unix.Close(fd)
}

// netnsShared: ensureNetnsMount succeeded in this process.
var netnsShared atomic.Bool

// ensureNetnsMountOnce is ensureNetnsMount, once: the namespaces' mounts made in a shared
// mount are shared too, and making it shared again (MS_REC) walks every mount under it,
// holding the kernel's lock of the mount namespace: with 5,000 namespaces, a launch's
// creations waited on each other there.
func ensureNetnsMountOnce() error {
	if netnsShared.Load() {
		return nil
	}
	err := ensureNetnsMount()
	if err == nil {
		netnsShared.Store(true)
	}
	return err
}

// ensureNetnsMount makes /run/netns a shared mount point of its own, as
// iproute2 does on its first `ip netns add`. Without it, a later `ip netns
// add` by anyone bind-mounts the directory over itself and hides the
// namespaces already mounted there, which then can no longer be deleted.
// Done already (by us or by iproute2), it changes nothing.
func ensureNetnsMount() error {
	err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) { // EINVAL: not a mount point yet
		return fmt.Errorf("make %s shared: %w", netnsDir, err)
	}
	if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", netnsDir, err)
	}
	if err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make %s shared: %w", netnsDir, err)
	}
	return nil
}

// deleteNS removes a named namespace; the kernel frees it when its last user goes away.
func deleteNS(name string) error {
	p := nsPath(name)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete netns %s: %w", name, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete netns %s: %w", name, err)
	}
	return nil
}

// listNS lists the named namespaces whose names start with prefix+"-".
func listNS(prefix string) ([]string, error) {
	ents, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// doInNS runs fn on an OS thread switched into ns. Sockets fn opens belong to ns; processes
// it starts inherit ns. A thread that cannot be switched back is discarded.
func doInNS(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, err) // thread stays locked and dies with the goroutine
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// sysctl is one /proc/sys key (with slashes) and its wanted value.
type sysctl struct{ key, val string }

// ensureSysctls sets the keys inside ns; it returns how many it had to change.
func ensureSysctls(ns netns.NsHandle, kvs []sysctl) (int, error) {
	n := 0
	err := procSys.do(ns, func(root int) error {
		var errs error
		for _, kv := range kvs {
			cur, err := readAt(root, "sys/"+kv.key)
			if err != nil {
				errs = errors.Join(errs, fmt.Errorf("sysctl %s: %w", kv.key, err))
				continue
			}
			if strings.TrimSpace(string(cur)) == kv.val {
				continue
			}
			if err := writeAt(root, "sys/"+kv.key, kv.val); err != nil {
				errs = errors.Join(errs, fmt.Errorf("sysctl %s: %w", kv.key, err))
				continue
			}
			n++
		}
		return errs
	})
	return n, err
}

// writeSysctls sets the sysctls in ns without reading them (a namespace just made).
func writeSysctls(ns netns.NsHandle, kvs []sysctl) error {
	return procSys.do(ns, func(root int) error {
		var errs error
		for _, kv := range kvs {
			if err := writeAt(root, "sys/"+kv.key, kv.val); err != nil {
				errs = errors.Join(errs, fmt.Errorf("sysctl %s: %w", kv.key, err))
			}
		}
		return errs
	})
}

// procSys is where the plane opens a namespace's sysctls: an instance of procfs of its
// own, mounted nowhere (fsopen, fsmount), replaced by a new one every procSysUses
// namespaces. Not the host's /proc/sys: every network namespace has its own entries under
// the same names, and the kernel keeps a dentry of /proc/sys/net for each namespace that
// ever looked there, all in one hash chain (one parent, one name), which the first lookup
// of each new namespace walks, several times: writing a new instance's sysctls through
// /proc/sys took 0.19 ms with no other namespace on the host and 3.3 ms with 2,000 (61 %
// of the CPU of a launch of 5,000, perf). An instance of its own keeps that chain as short
// as the namespaces it served, and those dentries go with it; the host's /proc/sys stays
// as it was, for everyone else on the host.
var procSys sysctlRoot

const procSysUses = 64

type sysctlRoot struct {
	mu   sync.Mutex
	fd   int // the instance's root directory, valid while open
	open bool
	uses int
}

// do runs fn on a thread in ns with the root of the plane's procfs.
func (s *sysctlRoot) do(ns netns.NsHandle, fn func(root int) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open && s.uses >= procSysUses {
		_ = unix.Close(s.fd) // the instance goes with its last descriptor
		s.open = false
	}
	if !s.open {
		fd, err := mountProc()
		if err != nil {
			return err
		}
		s.fd, s.open, s.uses = fd, true, 0
	}
	s.uses++
	return doInNS(ns, func() error { return fn(s.fd) })
}

// mountProc makes a procfs instance attached nowhere and returns its root; where the
// kernel cannot (no new mount API, or not allowed), the host's /proc.
func mountProc() (int, error) {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err == nil {
		defer unix.Close(fs) // the configuration; the mount lives on
		if err = unix.FsconfigCreate(fs); err == nil {
			var m int
			if m, err = unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, 0); err == nil {
				return m, nil
			}
		}
	}
	fd, err2 := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err2 != nil {
		return 0, fmt.Errorf("procfs: %w", errors.Join(err, err2))
	}
	return fd, nil
}

func readAt(dir int, path string) ([]byte, error) {
	fd, err := unix.Openat(dir, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	return io.ReadAll(f)
}

func writeAt(dir int, path, val string) error {
	fd, err := unix.Openat(dir, path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), path)
	_, err = f.WriteString(val)
	return errors.Join(err, f.Close())
}

// dialNetfilter opens a netfilter netlink socket in ns. It does not use the netlink
// package's own namespace option: mdlayher/socket v0.5.0 drops the error of a socket that
// could not be made there (EMFILE, say) and returns no socket and no error, which panics
// later (found at 5,000 instances, with two planes' descriptors open).
func dialNetfilter(ns netns.NsHandle) (*mdnetlink.Conn, error) {
	var c *mdnetlink.Conn
	err := doInNS(ns, func() error {
		var err error
		c, err = mdnetlink.Dial(unix.NETLINK_NETFILTER, nil)
		return err
	})
	if err == nil && c == nil {
		err = errors.New("netfilter socket: none made")
	}
	return c, err
}
