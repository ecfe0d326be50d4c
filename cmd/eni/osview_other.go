//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

const nsInitCmd = "__ns-init"

var errNoOSView = errors.New("the OS view of an instance needs Linux")

// osView is Linux's.
func osView(cmd *exec.Cmd, _ string, _ etcFiles) (*exec.Cmd, error) { return cmd, nil }

// nsInit is Linux's.
func nsInit([]string) error { return errNoOSView }

// primaryIPv4 is Linux's.
func primaryIPv4() (string, error) { return "", errNoOSView }
