//go:build !linux

package taskrun

import (
	"errors"
	"os/exec"
)

// ErrNoOSView says the OS view of an instance is Linux's.
var ErrNoOSView = errors.New("the OS view of an instance needs Linux")

// StartOSView is Linux's.
func StartOSView(string, *exec.Cmd, func() (string, EtcFiles)) (func(), error) {
	return nil, ErrNoOSView
}
