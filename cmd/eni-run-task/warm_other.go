//go:build !linux

package main

// warmHeap is Linux's (warm_linux.go).
func warmHeap() {}
