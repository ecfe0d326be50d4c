//go:build !linux

package main

import (
	"errors"
	"os/exec"

	"github.com/eni-net/eni/internal/dataplane"
)

var errNoOSView = errors.New("the OS view of an instance needs Linux")

// startOSView is Linux's.
func startOSView(*dataplane.Plane, string, *exec.Cmd, func() (string, etcFiles)) (func(), error) {
	return nil, errNoOSView
}

// primaryIPv4 is Linux's.
func primaryIPv4() (string, error) { return "", errNoOSView }
