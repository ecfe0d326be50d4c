package cluster

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// hostsSeen records what Watch reports.
type hostsSeen struct {
	mu   sync.Mutex
	last map[string][]Host
	ch   chan struct{}
}

func (s *hostsSeen) fn(m map[string][]Host) {
	s.mu.Lock()
	s.last = m
	s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// waitFor waits until the report satisfies ok.
func (s *hostsSeen) waitFor(t *testing.T, what string, d time.Duration, ok func(map[string][]Host) bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		s.mu.Lock()
		m := s.last
		s.mu.Unlock()
		if m != nil && ok(m) {
			return
		}
		select {
		case <-s.ch:
		case <-deadline:
			t.Fatalf("%s: not seen within %v; last report %+v", what, d, m)
		}
	}
}

func TestRegisterReportExpire(t *testing.T) {
	ec := etcdtest.Start(t, 1)
	cli, err := clientv3.New(clientv3.Config{Endpoints: ec.Endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := &hostsSeen{ch: make(chan struct{}, 1)}
	go Watch(ctx, cli, "/t/", nil, seen.fn)

	if _, err := Register(ctx, cli, "/t/", Host{Name: "Bad_Name", Region: "us-east-1"}, 2, nil); err == nil {
		t.Fatal("an invalid host name was registered")
	}
	actx, stopAgent := context.WithCancel(ctx) // the agent's life: cancel = killed (no revoke)
	h1, err := Register(actx, cli, "/t/", Host{Name: "h1", Region: "us-east-1", AZ: "us-east-1a", Underlay: "10.9.0.1", Capacity: 4}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := Register(ctx, cli, "/t/", Host{Name: "h2", Region: "us-east-1", AZ: "us-east-1b", Underlay: "10.9.0.2"}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen.waitFor(t, "two hosts", 5*time.Second, func(m map[string][]Host) bool {
		hs := m["us-east-1"]
		return len(hs) == 2 && hs[0].Name == "h1" && hs[0].Underlay == "10.9.0.1" && hs[0].Capacity == 4 && hs[1].AZ == "us-east-1b"
	})
	h1.Report(maps.All(map[string]bool{"i-2": true, "i-1": true, "i-3": false}), maps.All(map[string]string{"eni-1": "i-1"}))
	seen.waitFor(t, "h1's report", 5*time.Second, func(m map[string][]Host) bool {
		hs := m["us-east-1"]
		return len(hs) == 2 && len(hs[0].Realised) == 2 && hs[0].Realised[0] == "i-1" && hs[0].Realised[1] == "i-2" && hs[0].ENIs["eni-1"] == "i-1"
	})
	// Its lease keeps it beyond the TTL while the agent lives.
	time.Sleep(3 * time.Second)
	seen.waitFor(t, "h1 alive past its TTL", time.Second, func(m map[string][]Host) bool { return len(m["us-east-1"]) == 2 })

	// Killed: the key goes when the lease runs out (TTL 2 s; etcd's minimum may round it up).
	stopAgent()
	start := time.Now()
	seen.waitFor(t, "h1 gone after its lease", 15*time.Second, func(m map[string][]Host) bool {
		hs := m["us-east-1"]
		return len(hs) == 1 && hs[0].Name == "h2"
	})
	t.Logf("h1 gone %v after its agent stopped", time.Since(start).Round(100*time.Millisecond))

	// A restarted agent of h1 takes its name again.
	if _, err := Register(ctx, cli, "/t/", Host{Name: "h1", Region: "us-east-1", AZ: "us-east-1a", Underlay: "10.9.0.1"}, 2, nil); err != nil {
		t.Fatal(err)
	}
	seen.waitFor(t, "h1 back", 5*time.Second, func(m map[string][]Host) bool { return len(m["us-east-1"]) == 2 })
	if addrs, err := Addresses(ctx, cli, "/t/", "us-east-1"); err != nil || len(addrs) != 2 || addrs["h1"] != "10.9.0.1" || addrs["h2"] != "10.9.0.2" {
		t.Errorf("addresses %v, %v", addrs, err)
	}

	// A clean stop (revoke) removes the host at once; the region's last host gone is
	// reported as an empty region.
	if err := h2.Close(); err != nil {
		t.Fatal(err)
	}
	seen.waitFor(t, "h2 gone at once", 2*time.Second, func(m map[string][]Host) bool { return len(m["us-east-1"]) == 1 })
}
