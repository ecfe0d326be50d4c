package dataplane

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestLimitListener: beyond its budget (per source, then in total) a connection is
// closed unread; closing a kept one makes room for the next.
func TestLimitListener(t *testing.T) {
	raw, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	b := newConnBudget(3, 5)
	ln := b.limit(raw, "x")
	kept := make(chan net.Conn, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetWriteDeadline(time.Now().Add(time.Minute))
			_, _ = c.Write([]byte("k")) // kept: say so
			kept <- c
		}
	}()
	// dial from a source address of the loopback block: the listener says "k" on
	// a connection it keeps and closes one it refuses.
	dial := func(src string) (net.Conn, bool) {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp4", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		_, err = c.Read(make([]byte, 1))
		if err == nil {
			s := <-kept
			t.Cleanup(func() { _ = s.Close() })
			return s, true
		}
		if !errors.Is(err, io.EOF) && !isReset(err) {
			t.Fatalf("connection beyond the limits: %v, want closed", err)
		}
		return nil, false
	}
	var a []net.Conn
	for i := range 4 {
		s, ok := dial("127.0.0.2")
		if ok != (i < 3) {
			t.Fatalf("connection %d from one source kept: %v", i+1, ok)
		}
		if ok {
			a = append(a, s)
		}
	}
	for i := range 3 {
		_, ok := dial("127.0.0.3")
		if ok != (i < 2) {
			t.Fatalf("connection %d overall kept: %v", 4+i, ok)
		}
	}
	_ = a[0].Close()
	if _, ok := dial("127.0.0.4"); !ok {
		t.Fatal("a closed connection did not make room")
	}
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
