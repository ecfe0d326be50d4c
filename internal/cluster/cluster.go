// Package cluster keeps the hosts of a cluster (issue 13) in etcd: each host's
// agent (`eni agent`) holds one key on a lease of its own, with the host's
// zone, underlay address and capacity and what it has realised; the API
// replicas and the other agents watch those keys. A host whose agent stops
// renewing its lease (killed, cut off from etcd, its machine gone) disappears
// from the watch once the lease runs out: its instances are then reported
// impaired and nothing new is placed on it.
//
// Host keys live beside the model's records, under the store's prefix:
// <prefix>hosts/<region>/<name>. They are not records (the store and its
// followers skip them): they are leased, and no change set writes them.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Host is what a host's agent publishes about it.
type Host struct {
	Name     string `json:"name"`
	Region   string `json:"region"`
	AZ       string `json:"az"`
	Underlay string `json:"underlay"` // the host's underlay IPv4: its VXLAN endpoint
	Capacity int    `json:"capacity"` // instances it may hold; 0: no limit
	// Realised are the instances (and tasks, NAT gateways, endpoints) whose
	// namespaces the agent brought up, ENIs the ENIs it realised in them.
	Realised []string          `json:"realised,omitempty"`
	ENIs     map[string]string `json:"enis,omitempty"`
	Agent    string            `json:"agent,omitempty"` // the agent's version
}

// Key is the etcd key of a host.
func Key(prefix, region, name string) string { return prefix + "hosts/" + region + "/" + name }

func hostsPrefix(prefix string) string { return prefix + "hosts/" }

// addrKey keeps a host's underlay address without a lease: an agent that
// starts while another host's agent is gone still knows where that host's
// instances are (they go on forwarding without their agent).
func addrKey(prefix, region, name string) string { return prefix + "hostaddr/" + region + "/" + name }

// Addresses are the underlay addresses of every host that ever registered in
// region, by name.
func Addresses(ctx context.Context, cli *clientv3.Client, prefix, region string) (map[string]string, error) {
	p := prefix + "hostaddr/" + region + "/"
	resp, err := cli.Get(ctx, p, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("cluster: the hosts' addresses: %w", err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), p)] = string(kv.Value)
	}
	return out, nil
}

// ValidName reports whether s can name a host: 1–63 characters of
// [a-z0-9-], as a DNS label.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// Registration is a host's key on its lease, kept by its agent.
type Registration struct {
	cli *clientv3.Client
	key string
	ttl int64
	log *slog.Logger

	mu    sync.Mutex
	host  Host
	lease clientv3.LeaseID
	dirty bool
	kick  chan struct{}
	done  chan struct{}
}

// Register publishes h on a lease of ttl seconds and keeps it (renewing the
// lease, and taking a new one if etcd lost it) until ctx ends or Close. A key
// left by an earlier agent of the same host (killed before its lease ran
// out) is taken over.
func Register(ctx context.Context, cli *clientv3.Client, prefix string, h Host, ttl int, log *slog.Logger) (*Registration, error) {
	if !ValidName(h.Name) {
		return nil, fmt.Errorf("host name %q: 1-63 characters of a-z, 0-9 and -", h.Name)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registration{cli: cli, key: Key(prefix, h.Region, h.Name), ttl: int64(max(ttl, 1)), log: log, host: h,
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := cli.Put(pctx, addrKey(prefix, h.Region, h.Name), h.Underlay)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("cluster: publish host %s's address: %w", h.Name, err)
	}
	if err := r.publish(ctx); err != nil {
		return nil, err
	}
	go r.keep(ctx)
	return r, nil
}

// publish takes a lease and puts the host on it.
func (r *Registration) publish(ctx context.Context) error {
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	lg, err := r.cli.Grant(gctx, r.ttl)
	if err != nil {
		return fmt.Errorf("cluster: lease for host %s: %w", r.host.Name, err)
	}
	r.mu.Lock()
	r.lease = lg.ID
	r.dirty = true
	r.mu.Unlock()
	return r.put(ctx)
}

// put writes the host as it is now on the current lease.
func (r *Registration) put(ctx context.Context) error {
	r.mu.Lock()
	val, err := json.Marshal(r.host)
	lease := r.lease
	r.dirty = false
	r.mu.Unlock()
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := r.cli.Put(pctx, r.key, string(val), clientv3.WithLease(lease)); err != nil {
		r.mu.Lock()
		r.dirty = true
		r.mu.Unlock()
		return fmt.Errorf("cluster: publish host %s: %w", r.host.Name, err)
	}
	return nil
}

// keep renews the lease and writes reports until ctx ends; a lost lease (etcd
// unreachable for longer than its TTL) is replaced.
func (r *Registration) keep(ctx context.Context) {
	defer close(r.done)
	for backoff := 100 * time.Millisecond; ctx.Err() == nil; {
		r.mu.Lock()
		lease := r.lease
		r.mu.Unlock()
		ka, err := r.cli.KeepAlive(ctx, lease)
		if err == nil {
			err = r.serve(ctx, ka)
		}
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("cluster: the host's lease is lost; registering again", "host", r.host.Name, "err", err)
		for ctx.Err() == nil {
			if err := r.publish(ctx); err == nil {
				break
			}
			sleep(ctx, backoff)
			backoff = min(2*backoff, 5*time.Second)
		}
		backoff = 100 * time.Millisecond
	}
}

var errLeaseGone = errors.New("lease keep-alive ended")

// serve drains the keep-alive replies and writes pending reports until the
// lease is gone or ctx ends.
func (r *Registration) serve(ctx context.Context, ka <-chan *clientv3.LeaseKeepAliveResponse) error {
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-ka:
			if !ok {
				return errLeaseGone
			}
		case <-r.kick:
		case <-retry.C:
		}
		r.mu.Lock()
		dirty := r.dirty
		r.mu.Unlock()
		if dirty {
			if err := r.put(ctx); err != nil {
				r.log.Warn("cluster: report not written; retrying", "err", err)
				retry.Reset(time.Second)
			}
		}
	}
}

// sameENIs reports whether enis holds exactly m's entries.
func sameENIs(enis iter.Seq2[string, string], m map[string]string) bool {
	n := 0
	for id, inst := range enis {
		if v, ok := m[id]; !ok || v != inst {
			return false
		}
		n++
	}
	return n == len(m)
}

// Report records what the host realised; it is written soon (a report equal
// to the last one writes nothing).
func (r *Registration) Report(realised iter.Seq2[string, bool], enis iter.Seq2[string, string]) {
	var ids []string
	for id, up := range realised {
		if up {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	r.mu.Lock()
	if slices.Equal(ids, r.host.Realised) && sameENIs(enis, r.host.ENIs) {
		r.mu.Unlock()
		return
	}
	r.host.Realised, r.host.ENIs = ids, maps.Collect(enis)
	r.dirty = true
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Close revokes the lease: the host is gone at once (a clean stop).
func (r *Registration) Close() error {
	r.mu.Lock()
	lease := r.lease
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := r.cli.Revoke(ctx, lease)
	return err
}

// Watch calls fn with the live hosts of every region (region → hosts by
// name) now and after every change, until ctx ends. It reloads after a
// broken watch, so fn always sees what etcd holds.
func Watch(ctx context.Context, cli *clientv3.Client, prefix string, log *slog.Logger, fn func(map[string][]Host)) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	known := map[string]bool{} // regions reported before: one whose last host went is reported empty
	report := func(hosts map[string]Host) {
		regions := byRegion(hosts)
		for r := range known {
			if _, ok := regions[r]; !ok {
				regions[r] = nil
			}
		}
		for r := range regions {
			known[r] = true
		}
		fn(regions)
	}
	for backoff := 100 * time.Millisecond; ctx.Err() == nil; {
		err := watchOnce(ctx, cli, prefix, report)
		if ctx.Err() != nil {
			return
		}
		log.Warn("cluster: the hosts' watch ended; watching again", "err", err, "retry_in", backoff.String())
		sleep(ctx, backoff)
		backoff = min(2*backoff, 5*time.Second)
	}
}

func watchOnce(ctx context.Context, cli *clientv3.Client, prefix string, report func(map[string]Host)) error {
	p := hostsPrefix(prefix)
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	resp, err := cli.Get(gctx, p, clientv3.WithPrefix())
	cancel()
	if err != nil {
		return err
	}
	hosts := map[string]Host{} // key → host
	for _, kv := range resp.Kvs {
		if h, ok := decode(kv.Value); ok {
			hosts[string(kv.Key)] = h
		}
	}
	report(hosts)
	wctx, stop := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer stop()
	for wr := range cli.Watch(wctx, p, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1)) {
		if err := wr.Err(); err != nil {
			return err
		}
		for _, ev := range wr.Events {
			delete(hosts, string(ev.Kv.Key))
			if h, ok := decode(ev.Kv.Value); ok && ev.Type == mvccpb.PUT {
				hosts[string(ev.Kv.Key)] = h
			}
		}
		if len(wr.Events) > 0 {
			report(hosts)
		}
	}
	return errors.New("watch closed")
}

func decode(v []byte) (Host, bool) {
	var h Host
	if err := json.Unmarshal(v, &h); err != nil || h.Name == "" || h.Region == "" {
		return Host{}, false
	}
	return h, true
}

// byRegion groups hosts by region, each region's sorted by name.
func byRegion(hosts map[string]Host) map[string][]Host {
	out := map[string][]Host{}
	for _, h := range hosts {
		out[h.Region] = append(out[h.Region], h)
	}
	for _, hs := range out {
		slices.SortFunc(hs, func(a, b Host) int { return strings.Compare(a.Name, b.Name) })
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
