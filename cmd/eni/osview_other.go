//go:build !linux

package main

import "github.com/eni-net/eni/internal/taskrun"

// primaryIPv4 is Linux's.
func primaryIPv4() (string, error) { return "", taskrun.ErrNoOSView }
