package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"
)

// hub passes change notifications to the open event streams. A stream that
// has not sent the last ones yet gathers the regions of the next: a burst of
// commits costs one event per stream, never a queue.
type hub struct {
	mu     sync.Mutex
	subs   map[*sub]struct{}
	max    int
	closed chan struct{}
	once   sync.Once
}

type sub struct {
	wake    chan struct{} // 1-buffered: something is pending
	mu      sync.Mutex
	pending []string // regions changed since the last event
}

func newHub(max int) *hub {
	return &hub{subs: map[*sub]struct{}{}, max: max, closed: make(chan struct{})}
}

// subscribe returns a new stream's subscription, or nil when max streams
// are open.
func (h *hub) subscribe() *sub {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= h.max {
		return nil
	}
	s := &sub{wake: make(chan struct{}, 1)}
	h.subs[s] = struct{}{}
	return s
}

func (h *hub) unsubscribe(s *sub) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

func (h *hub) notify(regions []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		for _, r := range regions {
			if !slices.Contains(s.pending, r) {
				s.pending = append(s.pending, r)
			}
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default: // already woken
		}
	}
}

func (h *hub) close() { h.once.Do(func() { close(h.closed) }) }

// take returns and clears the pending regions, sorted.
func (s *sub) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.pending
	s.pending = nil
	slices.Sort(out)
	return out
}

// Stream pacing: events at most every minGap (a burst of commits becomes
// one), a comment every keepAlive so that proxies and the browser keep the
// connection and a dead client is noticed.
const (
	minGap    = 50 * time.Millisecond
	keepAlive = 20 * time.Second
)

// events answers GET /console/api/events with server-sent events:
//
//	event: hello   data: {"time": …}            on connect
//	event: change  data: {"regions": ["us-east-1"]}  after durable change sets
//
// The page refetches the state of its region on a change of it (and on
// hello, which follows every reconnection, so nothing missed meanwhile is
// lost).
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	s := c.hub.subscribe()
	if s == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "too many console event streams are open")
		return
	}
	defer c.hub.unsubscribe(s)
	// The server's write timeout is for replies, not streams: it would cut
	// this one (its read timeout does not: net/http clears the deadline for
	// its background read). Unsupported only by test recorders.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if !c.send(w, rc, "hello", map[string]any{"time": time.Now().UTC()}) {
		return
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.hub.closed:
			return
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		case <-s.wake:
			if regions := s.take(); len(regions) > 0 && !c.send(w, rc, "change", map[string]any{"regions": regions}) {
				return
			}
			select { // pace: what arrives meanwhile goes in the next event
			case <-time.After(minGap):
			case <-r.Context().Done():
				return
			case <-c.hub.closed:
				return
			}
		}
	}
}

// send writes one event; false if the client is gone.
func (c *Console) send(w http.ResponseWriter, rc *http.ResponseController, event string, data any) bool {
	b, _ := json.Marshal(data) // maps of strings and times: Marshal does not fail
	if _, err := w.Write([]byte("event: " + event + "\ndata: " + string(b) + "\n\n")); err != nil {
		return false
	}
	return rc.Flush() == nil
}
