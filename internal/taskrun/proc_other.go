//go:build !linux

package taskrun

import (
	"os/exec"
	"syscall"
)

// Proc is Linux's (a command runs in an OS view, which is Linux's).
type Proc struct {
	Path      string
	Args, Env []string
}

// NewProc is Linux's.
func NewProc(argv, env []string) (*Proc, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, err
	}
	return &Proc{Path: path, Args: argv, Env: env}, nil
}

func (p *Proc) start() error { return ErrNoOSView }

// Wait is Linux's.
func (p *Proc) Wait() (syscall.WaitStatus, error) { return 0, ErrNoOSView }

// Signal is Linux's.
func (p *Proc) Signal(syscall.Signal) error { return ErrNoOSView }
