package dataplane

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listeners of interface VPC endpoints (service.go). The plane opens them inside the
// endpoint's namespace, where its network interface is eth0, so the endpoint's security
// groups apply to them as to any ENI (the datapath's per-ENI chains), and hands them to
// Options.Endpoint. They bind with IP_FREEBIND: the address need not be up yet.

type svcState struct {
	mu   sync.Mutex
	open map[string]*svcListeners // instance id → its listeners
}

type svcListeners struct {
	gen  uint64
	spec ServiceListener
	lns  []net.Listener
}

// ensureServiceListeners opens the desired listeners (once per namespace handle and
// address) and closes the others.
func (r *reconciler) ensureServiceListeners() {
	p := r.p
	if p.endpoint == nil {
		return
	}
	want := map[string]ServiceListener{}
	for _, s := range r.services {
		want[s.Instance] = s
	}
	p.svc.mu.Lock()
	var stale []string
	for id, cur := range p.svc.open {
		c := r.insts[id]
		if want[id] != cur.spec || c == nil || c.gen != cur.gen {
			stale = append(stale, id)
		}
	}
	p.svc.mu.Unlock()
	for _, id := range stale {
		p.closeService(id)
	}
	for _, s := range r.services {
		c := r.insts[s.Instance]
		p.svc.mu.Lock()
		cur := p.svc.open[s.Instance]
		p.svc.mu.Unlock()
		if c == nil || cur != nil {
			continue
		}
		if err := r.openService(s, c); err != nil {
			r.fail(err)
		}
	}
}

func (r *reconciler) openService(s ServiceListener, c *nsCtx) error {
	p := r.p
	addr, err := netip.ParseAddr(s.Addr)
	if err != nil {
		return fmt.Errorf("endpoint %s: address %q: %w", s.Instance, s.Addr, err)
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1) }); err != nil {
			return err
		}
		return serr
	}}
	var lns []net.Listener
	err = doInNS(c.ns, func() error {
		for _, port := range []uint16{endpointHTTP, endpointHTTPS} {
			ln, err := lc.Listen(context.Background(), "tcp", netip.AddrPortFrom(addr, port).String())
			if err != nil {
				return err
			}
			lns = append(lns, p.conns.limit(ln, s.Instance)) // connlimit.go
		}
		return nil
	})
	if err != nil {
		for _, ln := range lns {
			_ = ln.Close() // not served yet
		}
		return fmt.Errorf("%s: endpoint listeners: %w", c.name, err)
	}
	p.svc.mu.Lock()
	p.svc.open[s.Instance] = &svcListeners{gen: c.gen, spec: s, lns: lns}
	p.svc.mu.Unlock()
	go func() { _ = p.endpoint.ServeEndpoint(lns[0], s.Service, false) }() // returns when the listener is closed
	go func() { _ = p.endpoint.ServeEndpoint(lns[1], s.Service, true) }()
	r.changes++
	return nil
}

// closeService closes an endpoint's listeners.
func (p *Plane) closeService(id string) {
	p.svc.mu.Lock()
	cur := p.svc.open[id]
	delete(p.svc.open, id)
	p.svc.mu.Unlock()
	if cur == nil {
		return
	}
	for _, ln := range cur.lns {
		_ = ln.Close() // its Serve returns
	}
}

// closeAllServices closes every endpoint listener.
func (p *Plane) closeAllServices() {
	p.svc.mu.Lock()
	ids := make([]string, 0, len(p.svc.open))
	for id := range p.svc.open {
		ids = append(ids, id)
	}
	p.svc.mu.Unlock()
	for _, id := range ids {
		p.closeService(id)
	}
}
