package taskrun

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The endpoints eni-run-task dials itself (else it hands the task to eni run-task):
// http:// to an IP address literal or localhost.
func TestDialsItself(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:4566": true, "http://127.0.0.1": true, "http://[::1]:4566/": true, "http://localhost:4566": true,
		"http://LocalHost:1": true, "http://10.1.2.3:80": true, "http://[::ffff:127.0.0.1]:1": true,
		"https://127.0.0.1:4566": false, "http://eni.example:4566": false, "http://[fe80::1%25eth0]:1": false,
		"http://127.0.0.1:99999": true, "bogus": false, "http://": false, "ftp://127.0.0.1": false,
	} {
		if got := DialsItself(u); got != want {
			t.Errorf("DialsItself(%q) = %v, want %v", u, got, want)
		}
	}
}

// The client's own sockets reach an IPv4 and an IPv6 loopback server, and localhost
// on either; a refused port is an error that says so; a host name goes to its Dial,
// or is refused without one.
func TestDialDirect(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	ln4, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln4.Close()
	port := ln4.Addr().(*net.TCPAddr).Port
	c := NewClient("t", "us-east-1", nil)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		serveOnce(ln4, ok)
		if err := c.Call("GET", "http://"+net.JoinHostPort(host, itoa(port))+"/", nil, nil); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if ln6, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Logf("no IPv6 loopback here (%v): its dials not tried", err)
	} else {
		defer ln6.Close()
		p6 := itoa(ln6.Addr().(*net.TCPAddr).Port)
		serveOnce(ln6, ok)
		if err := c.Call("GET", "http://[::1]:"+p6+"/", nil, nil); err != nil {
			t.Errorf("[::1]: %v", err)
		}
		if probe, err := net.Listen("tcp", "127.0.0.1:"+p6); err == nil { // nothing on 127.0.0.1 at that port: localhost falls back to ::1
			probe.Close()
			serveOnce(ln6, ok)
			if err := c.Call("GET", "http://localhost:"+p6+"/", nil, nil); err != nil {
				t.Errorf("localhost on ::1 alone: %v", err)
			}
		}
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/"
	closed.Close()
	if err := c.Call("GET", closedURL, nil, nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("a closed port: %v", err)
	}
	closedPort := closedURL[strings.LastIndex(closedURL, ":")+1 : len(closedURL)-1]
	if err := c.Call("GET", "http://localhost:"+closedPort+"/", nil, nil); err == nil || !strings.Contains(err.Error(), "127.0.0.1:"+closedPort+": connect: connection refused") {
		t.Errorf("localhost, nothing listening: %v (want the first address's error)", err)
	}
	if err := c.Call("GET", "http://127.0.0.1:99999/", nil, nil); err == nil || !strings.Contains(err.Error(), "invalid port") {
		t.Errorf("port 99999: %v", err)
	}
	if err := c.Call("GET", "http://eni.example:4566/", nil, nil); err == nil || !strings.Contains(err.Error(), "needs eni run-task") {
		t.Errorf("a host name without a Dial: %v", err)
	}
	var dialled []string
	c.Dial = func(_ context.Context, scheme, addr, host string) (Conn, error) {
		dialled = append(dialled, scheme+" "+addr+" "+host)
		serveOnce(ln4, ok)
		return net.Dial("tcp", ln4.Addr().String())
	}
	if err := c.Call("GET", "http://eni.example:4566/", nil, nil); err != nil || len(dialled) != 1 || dialled[0] != "http eni.example:4566 eni.example" {
		t.Errorf("a host name with a Dial: %v, dialled %q", err, dialled)
	}
}

// The context's deadline holds on the client's own socket: a server that accepts and
// never answers ends the round trip with an error, not a hang.
func TestDialDirectDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	conn, ok, err := dialDirect(ctx, "127.0.0.1", itoa(ln.Addr().(*net.TCPAddr).Port))
	if !ok || err != nil {
		t.Fatalf("dial: %v %v", ok, err)
	}
	defer conn.Close()
	done := make(chan error, 1)
	go func() {
		_, _, err := roundTrip(ctx, conn, "GET", mustURL(t, "http://127.0.0.1/"), [][2]string{{"host", "127.0.0.1"}}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline") && !strings.Contains(err.Error(), "timeout") {
			t.Errorf("a server that never answers: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the round trip outlived its deadline by 30 s")
	}
	if c := <-accepted; c != nil {
		c.Close()
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
