package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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
	dir := t.TempDir()
	bin := filepath.Join(dir, "eni-run-task")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method)
		mu.Unlock()
		if r.Method == http.MethodPost {
			time.Sleep(2 * time.Second) // the server's wait for the task to be up
		}
		fmt.Fprint(w, `{"taskId":"task-0123456789abcdef0","networkInterfaceId":"eni-1","leaseSeconds":30}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	bin := filepath.Join(dir, "eni-run-task")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--endpoint", srv.URL, "--subnet", "subnet-1", "--", "true")
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=x"}
	var out strings.Builder
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(calls)
		mu.Unlock()
		if n > 0 {
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
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(calls, " "); got != "POST DELETE" || err == nil || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("calls %q, exit %v, stderr %q; want POST DELETE and interrupted", got, err, out.String())
	}
}

// A command that is not on $PATH makes no task: run-task looks it up first.
func TestCommandNotFoundMakesNoTask(t *testing.T) {
	if err := netadmin.Capable(); err != nil && os.Getenv("CI") != "true" {
		t.Skipf("run-task refuses before it looks for the command: %v", err)
	}
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method)
		mu.Unlock()
		fmt.Fprint(w, `{"taskId":"task-0123456789abcdef0","networkInterfaceId":"eni-1","leaseSeconds":30}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	bin := filepath.Join(dir, "eni-run-task")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--endpoint", srv.URL, "--subnet", "subnet-1", "--", "eni-no-such-command")
	cmd.Env = []string{"HOME=" + dir, "PATH=" + dir, "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=x"}
	out, err := cmd.CombinedOutput()
	mu.Lock()
	defer mu.Unlock()
	if err == nil || !strings.Contains(string(out), `"eni-no-such-command": executable file not found`) || len(calls) != 0 {
		t.Errorf("exit %v, output %q, calls %q; want a failure that names the command, and no call", err, out, calls)
	}
}
