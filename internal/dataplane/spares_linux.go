package dataplane

import (
	"fmt"
	"sync"
	"time"

	"github.com/vishvananda/netns"
)

// Spare namespaces: an instance's namespace is made ahead of the pass that needs
// it (unshare, its sysctls, lo up, a route socket in it: 1–2.5 ms of a pass that
// brings one instance up, a task's start waiting on it), and that pass only names
// it (a bind mount). Spares are unnamed: the plane holds them by a descriptor and
// its route socket, so they appear nowhere (not under /run/netns, not to a restart
// or eni cleanup) and go with the process, however it ends. The spares a pass took
// are made again in the background, one at a time, once no pass has run for
// spareIdle: not while the task whose pass took one starts its command (on two
// CPUs, a namespace made then cost the task's start what the spare had saved it).

// spareNS is the plane's spare namespaces.
type spareNS struct {
	mu      sync.Mutex
	ready   []*nsCtx // unnamed, their sysctls (instanceSysctls) written and lo up
	want    int
	filling bool
	closed  bool
	timer   *time.Timer // starts fill once the passes pause
}

// spareIdle is how long the passes pause before spares are made.
const spareIdle = 50 * time.Millisecond

// take hands over a spare, or nil when there is none.
func (s *spareNS) take() *nsCtx {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ready) == 0 {
		return nil
	}
	c := s.ready[len(s.ready)-1]
	s.ready = s.ready[:len(s.ready)-1]
	return c
}

// refill has spares made in the background, one at a time, until there are want,
// each once no refill has been asked for spareIdle (they stop at the first failure:
// the next refill tries again).
func (s *spareNS) refill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = false
	if len(s.ready) >= s.want {
		return
	}
	rearm(&s.timer, spareIdle, s.fill)
}

// fill makes a spare, and has the next made after another pause while there are
// fewer than want.
func (s *spareNS) fill() {
	s.mu.Lock()
	if s.filling || s.closed || len(s.ready) >= s.want {
		s.mu.Unlock()
		return
	}
	s.filling = true
	s.mu.Unlock()
	c, err := makeSpare()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.filling = false
	switch {
	case err != nil: // the next pass's refill tries again
	case s.closed || len(s.ready) >= s.want:
		c.close()
	default:
		s.ready = append(s.ready, c)
		if len(s.ready) < s.want {
			s.timer.Reset(spareIdle)
		}
	}
}

// close lets the spares go (a refill made after takes them up again).
func (s *spareNS) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.ready {
		c.close()
	}
	s.ready = nil
}

// makeSpare makes an unnamed namespace with an instance's sysctls and lo up.
func makeSpare() (*nsCtx, error) {
	fd, err := unshareNet()
	if err != nil {
		return nil, fmt.Errorf("spare netns: %w", err)
	}
	ns := netns.NsHandle(fd)
	if err := writeSysctls(ns, instanceSysctls); err != nil {
		_ = ns.Close() // read-only fd: the namespace goes with it
		return nil, err
	}
	c, err := openCtx("spare", ns)
	if err != nil {
		return nil, err // openCtx closed ns
	}
	lo, err := c.linkByName("lo")
	if err == nil && lo != nil {
		_, err = setUp(c, lo)
	}
	if err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// nameSpare names the spare c name (bind-mounts it under /run/netns), which then
// is what createNS would have made, with its sysctls written; c is closed on error.
func nameSpare(c *nsCtx, name string) (*nsCtx, error) {
	if err := bindNS(int(c.ns), name); err != nil {
		c.close()
		return nil, err
	}
	c.name = name
	return c, nil
}
