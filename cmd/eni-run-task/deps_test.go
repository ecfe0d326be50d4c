package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLean: eni-run-task links none of the packages whose initialisation and code a
// task's start paid for (README, "eni-run-task start"): the HTTP stack, package net,
// and the standard library's crypto (it signs with internal/sigv4/sha).
func TestLean(t *testing.T) {
	// go test puts its own go first on $PATH; the build as shipped: static, for Linux.
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "net" || pkg == "crypto" || strings.HasPrefix(pkg, "net/http") || strings.HasPrefix(pkg, "crypto/") {
			t.Errorf("eni-run-task links %s", pkg)
		}
	}
}
