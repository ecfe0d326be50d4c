package dataplane

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Mount points are links of one unnamed file: two share an inode, removing them frees
// none, and once every link is gone (the file can be linked no more) a new one is made.
func TestMountPointsAreLinks(t *testing.T) {
	requireNetAdmin(t)
	if err := ensureNetnsMountOnce(); err != nil {
		t.Fatal(err)
	}
	m := mountFileLinks{fd: -1}
	defer func() { _ = unix.Close(m.fd) }()
	base := fmt.Sprintf("em%04x", uint16(time.Now().UnixNano()))
	var paths []string
	mk := func(suffix string) *syscall.Stat_t {
		t.Helper()
		p := nsPath(base + "-" + suffix)
		if err := m.create(p); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		return &st
	}
	defer func() {
		for _, p := range paths {
			_ = os.Remove(p)
		}
	}()
	a, b := mk("a"), mk("b")
	if m.off {
		noUnnamedFiles(t)
	}
	if m.fd < 0 {
		t.Fatalf("no unnamed file in %s: %v", netnsDir, unix.Access(netnsDir, unix.W_OK))
	}
	if a.Ino != b.Ino {
		t.Fatalf("two mount points are inodes %d and %d, want links of one", a.Ino, b.Ino)
	}
	if err := m.create(paths[0]); !os.IsExist(err) {
		t.Fatalf("a mount point made again: %v, want it exists", err)
	}
	for _, p := range paths {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	paths = nil
	c, d := mk("c"), mk("d")
	if c.Ino != d.Ino || d.Nlink != 2 {
		t.Fatalf("after every link was removed: inodes %d and %d, %d links, want one inode with 2", c.Ino, d.Ino, d.Nlink)
	}
}

// The plane's own namespaces are bind-mounted on links of one file too (createNS through
// mountPoint), and stay namespaces: once unmounted, their files are one inode.
func TestNamespacesOnLinks(t *testing.T) {
	requireNetAdmin(t)
	base := fmt.Sprintf("el%04x", uint16(time.Now().UnixNano()))
	var inos []uint64
	for _, n := range []string{base + "-a", base + "-b"} {
		ns, err := createNS(n)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = deleteNS(n) }()
		_ = ns.Close()
		if o, err := openNS(n); err != nil {
			t.Fatalf("%s: %v", n, err)
		} else {
			_ = o.Close()
		}
		if err := unix.Unmount(nsPath(n), unix.MNT_DETACH); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(nsPath(n), &st); err != nil {
			t.Fatal(err)
		}
		inos = append(inos, st.Ino)
	}
	if mountFiles.off {
		noUnnamedFiles(t)
	}
	if inos[0] != inos[1] {
		t.Fatalf("two namespaces' mount points are inodes %d and %d, want links of one", inos[0], inos[1])
	}
}

// noUnnamedFiles skips a test of links where netnsDir's file system makes no unnamed
// files, and fails it under CI=true, where it must run.
func noUnnamedFiles(t *testing.T) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s makes no unnamed files (O_TMPFILE): mount points are files of their own", netnsDir)
	}
	t.Skipf("%s makes no unnamed files: mount points are files of their own", netnsDir)
}
