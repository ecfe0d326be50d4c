package e2e

import (
	"crypto/rand"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// serveProc is `eni serve` itself, a process this test starts on a data
// directory and kills with SIGKILL by pid, as an operator's crash would.
type serveProc struct {
	t      testing.TB
	bin    string
	args   []string
	url    string
	prefix string
	cmd    *exec.Cmd
}

// newServeProc picks a loopback address and a data-plane prefix of its own
// (kind, then random letters), and registers a cleanup that kills the server
// and runs `eni cleanup` on the prefix. extra are more flags for serve.
func newServeProc(t testing.TB, kind, dataDir string, extra ...string) *serveProc {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand never fails
	prefix := kind
	for _, c := range b {
		prefix += string(prefixLetters[int(c)%len(prefixLetters)])
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // the server takes it
	p := &serveProc{t: t, bin: eniBinary(t), url: "http://" + addr, prefix: prefix}
	p.args = append([]string{"serve", "--listen", addr, "--data", dataDir, "--dataplane", "linux",
		"--dataplane-prefix", prefix, "--log-level", "warn"}, extra...)
	t.Cleanup(func() {
		p.kill()
		if out, err := exec.Command(p.bin, "cleanup", "--prefix", prefix, "--force").CombinedOutput(); err != nil {
			t.Errorf("eni cleanup: %v: %s", err, out)
		}
	})
	return p
}

// start runs the server and waits for /healthz.
func (p *serveProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = &testLogWriter{t: p.t}, &testLogWriter{t: p.t}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(eventually)
	for {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("eni serve not healthy within %s: %v", eventually, err)
		}
		time.Sleep(pollInterval)
	}
}

// kill ends the server with SIGKILL (nothing of it runs after).
func (p *serveProc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill() // SIGKILL
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}
