package taskrun

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

const releaseHelperEnv = "TASKRUN_RELEASE_HELPER"

func init() {
	if os.Getenv(releaseHelperEnv) == "" {
		return
	}
	// The helper: a SIGINT caught (CatchSignals), then released: it must end this
	// process as SIGINT does, not be lost.
	_, notified := CatchSignals()
	<-notified
	_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
	for deadline := time.Now().Add(10 * time.Second); len(caught.sigs) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			os.Exit(3) // never caught
		}
	}
	ReleaseSignals()
	time.Sleep(10 * time.Second)
	os.Exit(0) // the signal was lost
}

// TestReleaseSignalsSendsACaughtSignalAgain: a process that caught signals and then
// hands over (eni-run-task executing eni run-task) ends by a SIGINT it caught
// meanwhile, as it would have without catching it.
func TestReleaseSignalsSendsACaughtSignalAgain(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run", "^$")
	cmd.Env = append(os.Environ(), releaseHelperEnv+"=1")
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the helper: %v, want killed by SIGINT", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("the helper: %v, want killed by SIGINT", err)
	}
}
