// Package nettest is for the root tests of the data plane: it skips them
// (fails them under CI=true) when the process is not privileged, and makes
// the skips visible in `go test ./...`, which otherwise shows nothing of a
// passing package but its "ok" line.
package nettest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/netadmin"
)

// check asks once: the answer does not change while the tests run.
var check = sync.OnceValue(netadmin.Check)

var (
	mu      sync.Mutex
	skipped int
	reason  error
	// mainFile is the file of the package's TestMain (see uncache).
	mainFile string
)

// Require skips the test when the process may not run the data plane,
// saying how to run it (as root: sudo go test ./PKG), and fails it instead
// under CI=true, where these tests must run.
func Require(tb testing.TB, pkg string) {
	tb.Helper()
	err := check()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("this test needs the data plane's privileges: %v (sudo go test %s)", err, pkg)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	mu.Lock()
	skipped++
	reason = err
	if skipped == 1 && mainFile != "" {
		uncache(mainFile) // while the tests run: go test records only what they read
	}
	mu.Unlock()
	tb.Skip(msg)
}

// Main runs the package's tests and then, if Require skipped any, prints
// one line that says how many and why where `go test ./...` shows it (see
// summaryWriter). A package's TestMain calls it: os.Exit(nettest.Main(m, "./internal/dataplane")).
func Main(m *testing.M, pkg string) int {
	if _, file, _, ok := runtime.Caller(1); ok {
		mu.Lock()
		mainFile = file
		mu.Unlock()
	}
	code := m.Run()
	mu.Lock()
	n, why := skipped, reason
	mu.Unlock()
	if n > 0 {
		w, closeW := summaryWriter()
		fmt.Fprintf(w, "%s: %d tests skipped: %v (sudo go test %s)\n", strings.TrimPrefix(pkg, "./"), n, why, pkg)
		closeW()
	}
	return code
}

// uncache keeps go test from caching a run that skipped tests for want of
// privileges: a later run with them would otherwise print the cached "ok"
// without running them (and a later run without them, no summary). go test
// caches no result of a test that read (while its tests ran) a file of the
// module modified less than two seconds before; file is the package's
// TestMain's, touched and read.
// Where it cannot be (a read-only tree, a -trimpath build), the result is
// cached as before.
func uncache(file string) {
	now := time.Now()
	if os.Chtimes(file, now, now) != nil {
		return
	}
	if f, err := os.Open(file); err == nil {
		_ = f.Close() // opened only to be recorded by go test's test log
	}
}

// summaryWriter is where the skip summary goes. go test shows a passing
// package's output only with -v: without it, the test binary's stdout and
// stderr are buffered and dropped. Then the line goes to the go command's
// own stderr (the test binary is its child), opened for appending so that
// a log file it writes to is not overwritten. Opening that file also keeps
// go test from caching the package's result, so the line shows on every run.
func summaryWriter() (io.Writer, func()) {
	if testing.Verbose() {
		return os.Stdout, func() {}
	}
	ppid := os.Getppid()
	exe, err := os.Readlink("/proc/" + strconv.Itoa(ppid) + "/exe")
	if err != nil || strings.TrimSuffix(filepath.Base(exe), " (deleted)") != "go" {
		return os.Stdout, func() {}
	}
	f, err := os.OpenFile("/proc/"+strconv.Itoa(ppid)+"/fd/2", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return os.Stdout, func() {}
	}
	return f, func() { _ = f.Close() } // a line written, nothing to flush
}
