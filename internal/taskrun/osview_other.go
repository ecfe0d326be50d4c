//go:build !linux

package taskrun

import (
	"errors"
	"os/exec"
)

// ErrNoOSView says the OS view of an instance is Linux's.
var ErrNoOSView = errors.New("the OS view of an instance needs Linux")

// OSView is Linux's.
type OSView struct{}

// PrepareOSView is Linux's.
func PrepareOSView() *OSView { return &OSView{} }

// Abort is Linux's.
func (*OSView) Abort() {}

// Start is Linux's.
func (*OSView) Start(string, func() error, func() (string, EtcFiles)) (func(), error) {
	return nil, ErrNoOSView
}

// StartOSView is Linux's.
func StartOSView(string, *exec.Cmd, func() (string, EtcFiles)) (func(), error) {
	return nil, ErrNoOSView
}
