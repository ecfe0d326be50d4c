package taskrun

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/sigv4"
)

// readReply reads what servers send: a body by its length, chunked (with extensions
// and a trailer), or up to the connection's end; a HEAD's none; a 100 Continue
// before the reply; and refuses what is not HTTP.
func TestReadReply(t *testing.T) {
	for _, c := range []struct{ name, method, raw, body string }{
		{"length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloextra", "hello"},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: 1\r\n\r\n", "hello world"},
		{"close", "GET", "HTTP/1.0 200 OK\r\n\r\nto the end", "to the end"},
		{"head", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", ""},
		{"continue", "POST", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno", "no"},
	} {
		status, body, err := readReply(strings.NewReader(c.raw), c.method)
		if err != nil || string(body) != c.body || status < 200 {
			t.Errorf("%s: %d %q %v, want %q", c.name, status, body, err, c.body)
		}
	}
	if status, body, err := readReply(strings.NewReader("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"), "GET"); err != nil || status != 200 || string(body) != "ok" {
		t.Errorf("no reason phrase: %d %q %v", status, body, err)
	}
	for _, raw := range []string{"SSH-2.0-OpenSSH\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
		"HTTP/1.1 +200 OK\r\nContent-Length: 2\r\n\r\nok", "HTTP/1.1 20000 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1x 200 OK\r\nContent-Length: 2\r\n\r\nok", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"} {
		if _, _, err := readReply(strings.NewReader(raw), "GET"); err == nil {
			t.Errorf("%q: read as a reply", raw)
		}
	}
}

// A hostile or broken server cannot make the client panic or read without bound: a
// chunk size near 2^63 (its bound's sum overflowed, and the chunk's allocation
// panicked, leaving the task undeleted), a 32 MiB header, endless interim replies, a
// body longer than 4 MiB to the connection's end (it was cut without an error).
func TestHostileReplies(t *testing.T) {
	for name, raw := range map[string]string{
		"huge chunk":  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n7fffffffffffffff\r\n",
		"huge header": "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 32<<20) + "\r\nContent-Length: 2\r\n\r\nok",
		"interims":    strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 100_000) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"long body":   "HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("x", maxReply+10),
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		serveOnce(ln, raw)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: the client panicked: %v", name, p)
				}
			}()
			if err := NewClient("t", "us-east-1", nil).Call("GET", "http://"+ln.Addr().String()+"/", nil, nil); err == nil {
				t.Errorf("%s: taken for a reply", name)
			}
		}()
		ln.Close()
	}
	// 101 is a final status: what follows it is not read as the reply.
	if status, _, err := readReply(strings.NewReader("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), "GET"); err != nil || status != 101 {
		t.Errorf("101: %d %v", status, err)
	}
}

// A signed call with a session token reaches the server's verifier whole: its token
// signed and checked, its query and JSON body as sent, and a long reply (chunked by
// Go's server) read in full.
func TestSignedCallWithSessionToken(t *testing.T) {
	keys, err := sigv4.Parse(strings.NewReader("AKIAALICE0000000001 alice-secret 111111111111\n"))
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Keys: keys, Now: time.Now, Session: func(id, token string) (sigv4.Key, error) {
		if id != "ASIATEMP" || token != "the-token" {
			return sigv4.Key{}, &core.Error{Code: "AuthFailure", Message: "bad token " + token}
		}
		return sigv4.Key{AccessKeyID: id, SecretAccessKey: "temp-secret", Account: "111111111111"}, nil
	}}
	long := strings.Repeat("x", 100_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := v.Verify(r, body); err != nil {
			w.WriteHeader(403)
			fmt.Fprintf(w, `{"Code":"AuthFailure","Message":%q}`, err.Error())
			return
		}
		fmt.Fprintf(w, `{"query":%q,"body":%q,"long":%q}`, r.URL.RawQuery, body, long)
	}))
	defer srv.Close()
	c := NewClient("test", "us-east-1", func(context.Context) (Keys, error) {
		return Keys{ID: "ASIATEMP", Secret: "temp-secret", Token: "the-token"}, nil
	})
	var out struct{ Query, Body, Long string }
	if err := c.Call("POST", srv.URL+"/eni/v1/tasks?region=us-east-1&wait=0.5", []byte(`{"a":"b c"}`), &out); err != nil {
		t.Fatal(err)
	}
	if out.Query != "region=us-east-1&wait=0.5" || out.Body != `{"a":"b c"}` || out.Long != long {
		t.Errorf("the server got %q %q, and %d of %d bytes back", out.Query, out.Body, len(out.Long), len(long))
	}
	c.Creds = func(context.Context) (Keys, error) {
		return Keys{ID: "ASIATEMP", Secret: "temp-secret", Token: "another"}, nil
	}
	if err := c.Call("GET", srv.URL+"/", nil, nil); err == nil || !strings.Contains(err.Error(), "AuthFailure") {
		t.Errorf("a wrong token: %v", err)
	}
	if err := c.Call("GET", strings.Replace(srv.URL, "http:", "https:", 1)+"/", nil, nil); err == nil || !strings.Contains(err.Error(), "https:// needs eni run-task") {
		t.Errorf("https without a dialer: %v", err)
	}
	// The verifier takes what the client signs of awkward paths and queries.
	c.Creds = func(context.Context) (Keys, error) {
		return Keys{ID: "AKIAALICE0000000001", Secret: "alice-secret"}, nil
	}
	for _, p := range []string{"/", "", "/a b/c", "/a%2Fb", "/~x/y*z", "/ü", "/a;b", "/?x=a+b&x=%20&y=~&z=*&w", "/?a=1;b=2",
		"/?a=%zz&b=1", "/?e=&e=", "/?%E2%82%AC=1", "/?q=a%26b"} {
		if err := c.Call("GET", srv.URL+p, []byte("body  x"), nil); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
}

// Header fields the way servers write them: any case, spaces around the value; a
// folded field or a line without a colon is not a reply.
func TestReadReplyHeaders(t *testing.T) {
	status, body, err := readReply(strings.NewReader("HTTP/1.1 200 OK\r\ncontent-LENGTH:   2 \r\nX-Other:\r\n\r\nok"), "GET")
	if err != nil || status != 200 || string(body) != "ok" {
		t.Errorf("lower-case, padded: %d %q %v", status, body, err)
	}
	for _, raw := range []string{"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nno colon\r\nContent-Length: 2\r\n\r\nok", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: 2"} {
		if _, _, err := readReply(strings.NewReader(raw), "GET"); err == nil {
			t.Errorf("%q: read as a reply", raw)
		}
	}
	if got := canonicalKey("x-amz-security-token"); got != "X-Amz-Security-Token" {
		t.Errorf("canonicalKey: %q", got)
	}
}

// serveOnce answers one request on ln with reply, then closes the connection.
func serveOnce(ln net.Listener, reply string) {
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Read(make([]byte, 4096))
		_, _ = io.WriteString(c, reply)
	}()
}
