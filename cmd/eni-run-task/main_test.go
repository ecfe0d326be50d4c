package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// eni-run-task hands a task whose credentials only the SDK's chain finds (here a
// profile) to the eni binary beside it, with its arguments as they were; without
// one it says what is missing. A mistake on the command line is one line and a
// pointer to --help.
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
	cmd := exec.Command(bin, "--subnet")
	cmd.Env = env
	b, err := cmd.CombinedOutput()
	if want := "eni-run-task: flag needs an argument: -subnet\nRun 'eni-run-task --help' for usage.\n"; err == nil || string(b) != want {
		t.Errorf("a mistake: %v, %q; want %q", err, b, want)
	}
}
