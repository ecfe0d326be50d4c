package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/netadmin"
)

// eni-run-task hands a task whose credentials only the SDK's chain finds (here a
// profile), or whose endpoint is named by a host name, to the eni binary beside
// it, with its arguments as they were; without one it says what is missing. A
// mistake on the command line is one line and a pointer to --help.
func TestHandsOverToEni(t *testing.T) {
	bin, dir := buildRunTask(t)
	env := []string{"HOME=" + t.TempDir(), "PATH=/nonexistent", "AWS_PROFILE=dev"}
	run := func() (string, error) {
		cmd := exec.Command(bin, "--subnet", "subnet-1", "--", "echo", "a b")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err == nil || !strings.Contains(out, "there is no eni beside") {
		t.Errorf("no eni anywhere: %v, %q", err, out)
	}
	fake := "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\n"
	if err := os.WriteFile(filepath.Join(dir, "eni"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err = run()
	if want := "[run-task][--subnet][subnet-1][--][echo][a b]"; err != nil || out != want {
		t.Errorf("handed over: %v, %q; want %q", err, out, want)
	}
	// An endpoint named by a host name (not localhost) is eni run-task's too, keys or not:
	// eni-run-task dials only addresses and localhost (it does not link net's resolver).
	cmd := exec.Command(bin, "--endpoint", "http://eni.example:4566", "--subnet", "subnet-1", "--", "true")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/nonexistent", "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=s"}
	if b, err := cmd.CombinedOutput(); err != nil || string(b) != "[run-task][--endpoint][http://eni.example:4566][--subnet][subnet-1][--][true]" {
		t.Errorf("a host name: %v, %q", err, b)
	}
	cmd = exec.Command(bin, "--subnet")
	cmd.Env = env
	b, err := cmd.CombinedOutput()
	if want := "eni-run-task: flag needs an argument: -subnet\nRun 'eni-run-task --help' for usage.\n"; err == nil || string(b) != want {
		t.Errorf("a mistake: %v, %q; want %q", err, b, want)
	}
}

// A signal while the create waits for the task (two seconds here) deletes the task
// the create made: run-task catches signals from its start (CatchSignals; that
// takes a millisecond, in the background, which the create does not wait for:
// the signal comes half a second after the create, by when it has long been done).
func TestSignalDuringCreateDeletesTheTask(t *testing.T) {
	if err := netadmin.Capable(); err != nil && os.Getenv("CI") != "true" {
		t.Skipf("run-task refuses before its create: %v", err)
	}
	srv := newTaskServer(t, 2*time.Second)
	bin, dir := buildRunTask(t)
	cmd := exec.Command(bin, "--endpoint", srv.URL, "--subnet", "subnet-1", "--", "true")
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=x"}
	var out strings.Builder
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if len(srv.methods()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no create within 10 s")
		}
	}
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if got := strings.Join(srv.methods(), " "); got != "POST DELETE" || err == nil || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("calls %q, exit %v, stderr %q; want POST DELETE and interrupted", got, err, out.String())
	}
}

// A command that is not on $PATH makes no task: run-task looks it up first.
func TestCommandNotFoundMakesNoTask(t *testing.T) {
	if err := netadmin.Capable(); err != nil && os.Getenv("CI") != "true" {
		t.Skipf("run-task refuses before it looks for the command: %v", err)
	}
	srv := newTaskServer(t, 0)
	bin, dir := buildRunTask(t)
	cmd := exec.Command(bin, "--endpoint", srv.URL, "--subnet", "subnet-1", "--", "eni-no-such-command")
	cmd.Env = []string{"HOME=" + dir, "PATH=" + dir, "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=x"}
	out, err := cmd.CombinedOutput()
	if calls := srv.methods(); err == nil || !strings.Contains(string(out), `"eni-no-such-command": executable file not found`) || len(calls) != 0 {
		t.Errorf("exit %v, output %q, calls %q; want a failure that names the command, and no call", err, out, calls)
	}
}

// taskServer is a fake task API that records the methods it is called with.
type taskServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string
}

// newTaskServer starts a taskServer whose create answers after postDelay (the
// server's wait for the task to be up), with a task.
func newTaskServer(t *testing.T, postDelay time.Duration) *taskServer {
	s := &taskServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls = append(s.calls, r.Method)
		s.mu.Unlock()
		if r.Method == http.MethodPost {
			time.Sleep(postDelay)
		}
		fmt.Fprint(w, `{"taskId":"task-0123456789abcdef0","networkInterfaceId":"eni-1","leaseSeconds":30}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// methods are the methods the server was called with, in order.
func (s *taskServer) methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// buildRunTask builds eni-run-task into a directory of its own.
func buildRunTask(t *testing.T) (bin, dir string) {
	dir = t.TempDir()
	bin = filepath.Join(dir, "eni-run-task")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin, dir
}
