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

// Close does nothing on this OS.
func (*Plane) Close() {}

// Teardown does nothing on this OS.
func (*Plane) Teardown(context.Context) error { return nil }

// Prefix is empty on this OS: there is no plane.
func (p *Plane) Prefix() string { return "" }

// DatapathNS, InternetNS, RouterNS and InstanceNS name namespaces no plane makes here.
func (p *Plane) DatapathNS() string                  { return nsName(p.Prefix(), "dp") }
func (p *Plane) InternetNS() string                  { return nsName(p.Prefix(), "inet") }
func (p *Plane) RouterNS(vpcID string) string        { return nsName(p.Prefix(), vpcID) }
func (p *Plane) InstanceNS(instanceID string) string { return nsName(p.Prefix(), instanceID) }

// Namespaces fails on this OS.
func (*Plane) Namespaces() ([]string, error) { return nil, ErrUnsupported }

// Do fails on this OS.
func (*Plane) Do(string, func() error) error { return ErrUnsupported }

// Join fails on this OS.
func (*Plane) Join(string) error { return ErrUnsupported }

// DoInstance fails on this OS.
func (*Plane) DoInstance(string, func() error) error { return ErrUnsupported }

// Start fails on this OS.
func (*Plane) Start(string, *exec.Cmd) error { return ErrUnsupported }
