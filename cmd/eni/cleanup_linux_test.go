package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/eni-net/eni/internal/dataplane"
	"github.com/eni-net/eni/internal/netadmin/nettest"
)

// eni cleanup lists what it removes and refuses while a server holds the
// prefix, unless --force.
func TestCleanupListsAndRefusesWhileHeld(t *testing.T) {
	nettest.Require(t, "./cmd/eni")
	old := runDir
	runDir = t.TempDir()
	defer func() { runDir = old }()
	b := make([]byte, 2)
	_, _ = rand.Read(b) // crypto/rand never fails
	prefix := fmt.Sprintf("c%x", b)
	p, err := dataplane.New(dataplane.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Teardown(context.Background())
	if _, err := p.Reconcile(context.Background(), dataplane.Desired{}); err != nil {
		t.Fatal(err)
	}
	names, err := p.Namespaces()
	if err != nil || len(names) == 0 {
		t.Fatalf("namespaces %v, %v", names, err)
	}
	l, err := lockPrefix(prefix) // as eni serve does
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = cleanup(&out, p, prefix, false)
	if err == nil || !strings.Contains(err.Error(), "holds the data plane prefix") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("while held: %v", err)
	}
	if left, _ := p.Namespaces(); len(left) != len(names) {
		t.Fatalf("a refused cleanup removed something: %v", left)
	}
	if err := cleanup(&out, p, prefix, true); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(out.String(), "removing namespace "+n+"\n") {
			t.Errorf("output does not list %s:\n%s", n, out.String())
		}
	}
	if left, _ := p.Namespaces(); len(left) != 0 {
		t.Fatalf("left: %v", left)
	}
	_ = l.Release()
	out.Reset()
	if err := cleanup(&out, p, prefix, false); err != nil || out.String() != "nothing to remove: no namespace "+prefix+"-…\n" {
		t.Fatalf("second cleanup: %v %q", err, out.String())
	}
}
