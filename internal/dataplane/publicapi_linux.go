package dataplane

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

// The server's API on the simulated internet. On AWS an instance reaches EC2's
// public endpoint over the internet (through its public address and the internet
// gateway); here the internet namespace has a TCP listener on port PublicAPIPort of
// all its addresses, opened by the plane inside that namespace and served by the
// server (Options.PublicAPI), so an instance with a public or Elastic IP reaches
// http://InternetIP:PublicAPIPort. Nothing of it runs in an instance, and nothing of
// the host is reachable that way: the listener is the internet namespace's. Requests
// come in from public addresses (1:1 NAT), never from loopback, so the API treats
// them as any remote client (the task API stays loopback-only). How many
// connections a source may hold open is bounded (connlimit.go).

const defaultPublicAPIPort = 4566

// publicAPI is the plane's API listener and the handle generation of the internet
// namespace it was opened in.
type publicAPI struct {
	srv  MetadataServer
	port int

	mu  sync.Mutex
	gen uint64
	ln  net.Listener
}

// ensurePublicAPI opens the listener in the internet namespace, once per handle of it.
func (r *reconciler) ensurePublicAPI() {
	a := &r.p.api
	if a.srv == nil || r.inet == nil {
		return
	}
	a.mu.Lock()
	done := a.ln != nil && a.gen == r.inet.gen
	a.mu.Unlock()
	if done {
		return
	}
	r.p.closePublicAPI()
	port := a.port
	if port == 0 {
		port = defaultPublicAPIPort
	}
	var ln net.Listener
	err := doInNS(r.inet.ns, func() error {
		var err error
		ln, err = net.Listen("tcp4", ":"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		r.fail(fmt.Errorf("%s: API listener: %w", r.inet.name, err))
		return
	}
	ln = r.p.conns.limit(ln, "internet") // connlimit.go
	a.mu.Lock()
	a.ln, a.gen = ln, r.inet.gen
	a.mu.Unlock()
	go func() { _ = a.srv.Serve(ln) }() // returns when the listener is closed
	r.changes++
}

// closePublicAPI closes the API's listener, if open.
func (p *Plane) closePublicAPI() {
	p.api.mu.Lock()
	ln := p.api.ln
	p.api.ln = nil
	p.api.mu.Unlock()
	if ln != nil {
		_ = ln.Close() // its Serve returns
	}
}
