//go:build !linux

package dataplane

import (
	"context"
	"errors"
	"os/exec"
)

// ErrUnsupported: the data plane needs Linux.
var ErrUnsupported = errors.New("dataplane: only supported on Linux")

// Plane is unavailable on this OS.
type Plane struct{}

// New fails on this OS.
func New(Options) (*Plane, error) { return nil, ErrUnsupported }

// Reconcile fails on this OS.
func (*Plane) Reconcile(context.Context, Desired) (Status, error) { return Status{}, ErrUnsupported }

// Verify fails on this OS.
func (*Plane) Verify(context.Context, Desired) (Status, error) { return Status{}, ErrUnsupported }

// Exec fails on this OS.
func (*Plane) Exec(string, *exec.Cmd) error { return ErrUnsupported }

// Teardown does nothing on this OS.
func (*Plane) Teardown(context.Context) error { return nil }
