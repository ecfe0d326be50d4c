// Command eni-run-task is `eni run-task` in a binary of its own: a task's start
// is mostly its client's start, and this one links only what run-task needs
// (internal/taskrun), where the eni binary links the server, etcd and the SDK's
// configuration, whose initialisation alone takes tens of milliseconds.
//
// It signs with keys from the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), or not at all when there are no
// credentials anywhere, and speaks plain HTTP (to the server on its host) over
// sockets it makes itself: it links neither net/http, net nor crypto (it signs with
// internal/sigv4/sha; TestLean). Credentials only
// the SDK's chain finds (a profile, the shared files, web identity, ...),
// https:// endpoints and endpoints named by a host name other than localhost it
// leaves to `eni run-task`, which it executes in its place: the eni binary
// beside it, else on $PATH.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/eni-net/eni/internal/taskrun"
)

func main() {
	taskrun.CatchSignals() // first: it takes a millisecond, in the background
	fs, o := taskrun.Flags("eni-run-task")
	fs.SetOutput(io.Discard)
	err := fs.Parse(os.Args[1:])
	fs.SetOutput(os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return
	}
	var argv []string
	if err == nil {
		argv, err = o.Command(fs.Args())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "eni-run-task: %v\nRun 'eni-run-task --help' for usage.\n", err)
		os.Exit(2)
	}
	creds := taskrun.EnvCredentials()
	if creds == nil && taskrun.MayHaveOtherCredentials() || !taskrun.DialsItself(o.Endpoint) {
		err = execEni(os.Args[1:])
	} else {
		warmHeap()
		err = taskrun.Run(o, argv, taskrun.NewClient("run-task", o.Region, creds))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "eni-run-task:", err)
		os.Exit(1)
	}
}

// execEni replaces this process with `eni run-task args...`: the eni binary in
// this one's directory, else eni on $PATH.
func execEni(args []string) error {
	path, err := eniBinary()
	if err != nil {
		return fmt.Errorf("an https:// endpoint, one named by a host name other than localhost, or credentials other than AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a profile, ~/.aws), need eni run-task, and there is no eni beside %s or on $PATH: %w", os.Args[0], err)
	}
	taskrun.ReleaseSignals() // a Ctrl-C meanwhile ends this process, as it would have
	return syscall.Exec(path, append([]string{"eni", "run-task"}, args...), os.Environ())
}

// eniBinary is the eni binary beside this one, else eni on $PATH; not this one
// (installed as eni, say).
func eniBinary() (string, error) {
	self, err := os.Executable()
	if err == nil {
		p := filepath.Join(filepath.Dir(self), "eni")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 && !sameFile(p, self) {
			return p, nil
		}
	}
	p, err := exec.LookPath("eni")
	if err == nil && self != "" && sameFile(p, self) {
		return "", errors.New("eni on $PATH is eni-run-task itself")
	}
	return p, err
}

// sameFile says whether a and b are one file.
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
