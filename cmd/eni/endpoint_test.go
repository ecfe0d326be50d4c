package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/eni-net/eni/internal/api"
)

// The VPC endpoints serve the API only when requests must be signed (as the API on the
// simulated internet), and their CA lives in the data directory: made once, the same
// after a restart, its key readable by the server only.
func TestEndpointServerOnlyWithAuth(t *testing.T) {
	h := func() http.Handler { return http.NotFoundHandler() }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	if s, err := endpointServer("none", false, "us-east-1", dir, h, log); s != nil || err != nil {
		t.Fatalf("--auth none: %v %v", s, err)
	}
	if _, err := os.Stat(filepath.Join(dir, api.EndpointCAFile)); !os.IsNotExist(err) {
		t.Fatalf("--auth none made a CA: %v", err)
	}
	first, err := endpointServer("sigv4", false, "us-east-1", dir, h, log)
	if err != nil || first == nil {
		t.Fatalf("--auth sigv4: %v %v", first, err)
	}
	again, err := endpointServer("none", true, "us-east-1", dir, h, log)
	if err != nil || again == nil {
		t.Fatalf("--allow-insecure-bind: %v %v", again, err)
	}
	if !first.(*api.EndpointServer).CA.Cert.Equal(again.(*api.EndpointServer).CA.Cert) {
		t.Error("a restart made another CA")
	}
	if fi, err := os.Stat(filepath.Join(dir, api.EndpointCAKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("CA key: %v %v", fi, err)
	}
}
