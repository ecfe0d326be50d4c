package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// POST /moto-api/reset empties the server and, before it answers, the data
// plane removes every instance's namespace and every VPC's router.
func TestResetRemovesTheNetwork(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	sub := e.subnet(vpc, "10.0.1.0/24")
	a, b := e.launch(sub), e.launch(sub)
	e.waitRunning(a, b)
	for _, ns := range []string{e.plane.InstanceNS(a), e.plane.InstanceNS(b), e.plane.RouterNS(vpc)} {
		if !e.hasNS(ns) {
			t.Fatalf("%s missing before the reset", ns)
		}
	}
	resp, err := http.Post(e.api.Server.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Fatalf("reset: %d %s", resp.StatusCode, body)
	}
	for _, ns := range []string{e.plane.InstanceNS(a), e.plane.InstanceNS(b), e.plane.RouterNS(vpc)} {
		if e.hasNS(ns) {
			t.Errorf("%s left after the reset answered", ns)
		}
	}
	// The region starts afresh (its default VPC) and the data plane follows.
	e.settle()
	if got, want := e.namespaces(), e.wantNamespaces(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("namespaces %v, want %v", got, want)
	}
}
