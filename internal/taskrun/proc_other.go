//go:build !linux

package taskrun

import "syscall"

// Proc is Linux's (a command runs in an OS view, which is Linux's).
type Proc struct {
	Path      string
	Args, Env []string
}

func (p *Proc) start() error { return ErrNoOSView }

// Wait is Linux's.
func (p *Proc) Wait() (syscall.WaitStatus, error) { return 0, ErrNoOSView }

// Signal is Linux's.
func (p *Proc) Signal(syscall.Signal) error { return ErrNoOSView }
