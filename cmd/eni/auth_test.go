package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoopbackListen(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:4566": true, "127.9.9.9:1": true, "[::1]:4566": true, "localhost:4566": true,
		":4566": false, "0.0.0.0:4566": false, "[::]:4566": false, "10.0.0.1:4566": false,
		"eni.example.com:4566": false, "127.0.0.1": false, "": false,
	} {
		if got := loopbackListen(addr); got != want {
			t.Errorf("loopbackListen(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestAuthenticatorFlags(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	if err := os.WriteFile(creds, []byte("# k\nAKIATEST test-secret 111111111111\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("# none yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		o       authOptions
		wantErr string // "" for success
		wantFn  bool
	}{
		{authOptions{Mode: "none", Listen: "127.0.0.1:4566"}, "", false},
		{authOptions{Mode: "none", Listen: "0.0.0.0:4566"}, "--auth none on 0.0.0.0:4566", false},
		{authOptions{Mode: "none", Listen: ":4566"}, "--allow-insecure-bind", false},
		{authOptions{Mode: "none", Listen: "0.0.0.0:4566", AllowInsecure: true}, "", false},
		{authOptions{Mode: "none", Listen: "127.0.0.1:4566", Credentials: creds}, "only used with --auth sigv4", false},
		{authOptions{Mode: "sigv4", Listen: "0.0.0.0:4566", Credentials: creds}, "", true},
		{authOptions{Mode: "sigv4", Listen: "0.0.0.0:4566"}, "needs --credentials", false},
		{authOptions{Mode: "sigv4", Credentials: filepath.Join(dir, "missing")}, "--credentials: credentials: open", false},
		{authOptions{Mode: "sigv4", Credentials: empty}, "no keys", false},
		{authOptions{Mode: "basic"}, `--auth "basic": want none or sigv4`, false},
	}
	for _, c := range cases {
		fn, _, err := authenticator(c.o)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%+v: %v", c.o, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%+v: got %v, want error containing %q", c.o, err, c.wantErr)
		case (fn != nil) != c.wantFn:
			t.Errorf("%+v: authenticate set = %v", c.o, fn != nil)
		}
	}
	// The sigv4 authenticator rejects an unsigned request.
	fn, _, err := authenticator(authOptions{Mode: "sigv4", Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fn(httptest.NewRequest("POST", "/", nil), nil); err == nil || !strings.Contains(err.Error(), "MissingAuthenticationToken") {
		t.Fatalf("unsigned request: %v", err)
	}
}
