package dataplane

import (
	"net"
	"sync"
)

// Connection limits of the listeners the plane opens for instances to reach the
// server (the API on the simulated internet, publicapi_linux.go; interface VPC
// endpoints, service_linux.go). Every connection an instance holds open there is a
// file descriptor and some memory of the server's process, which also serves the
// host's API, the metadata service and the VPC resolvers: without a bound, one
// instance holding idle keep-alive connections (its 16,384 tracked connections per
// ENI are plenty) runs the process out of descriptors. A source address keeps at most
// ConnsPerSource open on one listener's address (an endpoint's or the internet's: an
// instance's public IP, a NAT gateway's, an instance's private address at an
// endpoint), all of them together ConnsTotal; a connection beyond either is closed
// as soon as it is accepted, before anything is read from it. The metadata service has
// a budget of its own with the same limits, counted by the ENI a connection came in
// through (metadata_linux.go), and the VPC resolvers' TCP listeners one by source
// address in each VPC (dns_linux.go), so that no service's flood starves another.
const (
	ConnsPerSource = 64
	ConnsTotal     = 4096
)

// connBudget counts the open connections of the plane's listeners.
type connBudget struct {
	perSource, total int

	mu   sync.Mutex
	open map[string]int // scope and source address → open connections
	n    int
}

func newConnBudget(perSource, total int) *connBudget {
	return &connBudget{perSource: perSource, total: total, open: map[string]int{}}
}

// limit is ln within the budget; scope tells apart sources of different networks
// (private addresses repeat across VPCs).
func (b *connBudget) limit(ln net.Listener, scope string) net.Listener {
	return &limitListener{Listener: ln, b: b, scope: scope}
}

func (b *connBudget) take(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n >= b.total || b.open[key] >= b.perSource {
		return false
	}
	b.n++
	b.open[key]++
	return true
}

func (b *connBudget) release(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n--
	if b.open[key]--; b.open[key] <= 0 {
		delete(b.open, key)
	}
}

// limitListener is a listener that closes the connections beyond its budget.
type limitListener struct {
	net.Listener
	b     *connBudget
	scope string
}

// Accept returns the next connection within the budget.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := l.scope + " " + sourceOf(c)
		if l.b.take(key) {
			return &limitedConn{Conn: c, release: func() { l.b.release(key) }}, nil
		}
		_ = c.Close() // over the budget: nothing read, nothing said
	}
}

// sourceOf is a connection's remote address without its port.
func sourceOf(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap().String()
	}
	return c.RemoteAddr().String()
}

// limitedConn gives its place back when closed (once).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
