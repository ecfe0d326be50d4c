package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// A second server on the same data directory is told it is in use, and by
// whom, at once (not bbolt's "open …/eni.db: timeout" a second later).
func TestDataDirectoryInUse(t *testing.T) {
	dir := t.TempDir()
	_, closeFirst, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = openStore(dir)
	want := fmt.Sprintf("the data directory %s is in use by another eni serve (pid %d): stop it, or give this one its own --data DIR (--data '' keeps nothing)", dir, os.Getpid())
	if err == nil || err.Error() != want {
		t.Fatalf("second open: %v, want %q", err, want)
	}
	closeFirst()
	_, closeAgain, err := openStore(dir)
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	closeAgain()
	// serve says the same.
	_, closeFirst, _ = openStore(dir)
	defer closeFirst()
	err = serve([]string{"--data", dir, "--listen", "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "is in use by another eni serve (pid ") {
		t.Fatalf("serve: %v", err)
	}
}

// Two servers may not drive the same data plane prefix.
func TestDataPlanePrefixInUse(t *testing.T) {
	old := runDir
	runDir = t.TempDir()
	defer func() { runDir = old }()
	l, err := lockPrefix("zz")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	_, err = lockPrefix("zz")
	want := fmt.Sprintf("the data plane prefix \"zz\" is in use by another eni serve (pid %d): stop it, or give this one another --dataplane-prefix", os.Getpid())
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}
