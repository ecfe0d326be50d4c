package pidlock

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const helperEnv = "PIDLOCK_TEST_HOLD"

// TestMain is also the helper process: it takes the lock, says so, and
// holds it until it is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		if _, err := Acquire(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Hour)
	}
	os.Exit(m.Run())
}

// Another process holds the lock: Acquire says who, Holder too; once it is
// gone (killed, not released), the lock is free and the file stale.
func TestHeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	if held, _, err := Holder(path); held || err != nil {
		t.Fatalf("missing file: held %v, %v", held, err)
	}
	// This test binary holds the lock in a child process, as a first server would.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("child: %q %v", buf, err)
	}
	childPID := cmd.Process.Pid
	_, err = Acquire(path)
	var he *HeldError
	if !errors.As(err, &he) || he.PID != childPID || he.Path != path {
		t.Fatalf("Acquire: %v, want held by %d", err, childPID)
	}
	if want := path + " is locked by process " + strconv.Itoa(childPID); err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if held, pid, err := Holder(path); !held || pid != childPID || err != nil {
		t.Fatalf("Holder: %v %d %v", held, pid, err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		held, _, err := Holder(path)
		if err != nil {
			t.Fatal(err)
		}
		if !held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock outlived its holder")
		}
		time.Sleep(10 * time.Millisecond)
	}
	l, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("file holds %q, want this pid", b)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if held, _, _ := Holder(path); held {
		t.Error("held after Release")
	}
}
