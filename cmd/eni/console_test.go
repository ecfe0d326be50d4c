package main

import (
	"net"
	"testing"

	"github.com/eni-net/eni/internal/apitest"
)

// Under --auth none the console asks for no token; under --auth sigv4 it
// asks for one (random unless given) and its URL carries it.
func TestConsoleModes(t *testing.T) {
	e := apitest.New(t)
	if c := newConsole(consoleOptions{Enabled: false}, e.Core, e.API); c != nil {
		t.Fatal("--console=false serves a console")
	}
	if c := newConsole(consoleOptions{Enabled: true, AuthMode: "none"}, e.Core, e.API); c.Token() != "" {
		t.Fatalf("--auth none: token %q", c.Token())
	}
	a := newConsole(consoleOptions{Enabled: true, AuthMode: "sigv4"}, e.Core, e.API)
	b := newConsole(consoleOptions{Enabled: true, AuthMode: "sigv4"}, e.Core, e.API)
	if len(a.Token()) != 32 || a.Token() == b.Token() {
		t.Fatalf("--auth sigv4: tokens %q and %q, want two random ones", a.Token(), b.Token())
	}
	if c := newConsole(consoleOptions{Enabled: true, AuthMode: "sigv4", Token: "mine"}, e.Core, e.API); c.Token() != "mine" {
		t.Fatalf("--console-token: %q", c.Token())
	}
	for addr, want := range map[string]string{
		"127.0.0.1:4566": "http://127.0.0.1:4566/",
		"0.0.0.0:4566":   "http://127.0.0.1:4566/console/login?token=a+b",
		"[::1]:80":       "http://[::1]:80/",
	} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		tok := ""
		if addr == "0.0.0.0:4566" {
			tok = "a b"
		}
		if got := consoleURL(tcp, tok); got != want {
			t.Errorf("consoleURL(%s) = %s, want %s", addr, got, want)
		}
	}
}
