// Package replica runs one of several `eni serve` processes on one etcd
// cluster (issue 13, API replicas). They elect one writer with etcd's
// election recipe (a key on a lease: a writer that dies or loses etcd is
// replaced once its lease runs out). The writer serves every request from
// its model and commits each change set in a transaction guarded by the
// commit marker (internal/store), as a single server does. The others keep
// their model in step with an etcd watch of the records, answer what only
// reads after a barrier that makes them see every commit acknowledged
// before the request arrived (a client reads its own writes on any
// replica), and forward a request that would write, whole, to the writer
// (internal/api): one writer, so no address or MAC is handed out twice and
// no update is lost, and the marker fences a deposed writer that has not
// noticed yet.
package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/store"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Config says what a replica replicates and how it is reached.
type Config struct {
	Store *store.Etcd
	Core  *core.Core
	// Self is the URL other replicas forward writes to (--advertise-url).
	Self string
	// LeaseTTL is the writer's lease, in seconds: how long the others wait
	// for a writer that stopped answering etcd before one takes over (etcd
	// rounds it up to its minimum, about 2 s).
	LeaseTTL int
	Logger   *slog.Logger
	// OnApply, if set, is told which regions a followed change set (or a
	// reload) touched: the console's live updates, the data plane's kick.
	OnApply func(regions []string)
	// OnLead, if set, runs once this replica has become the writer, before
	// it serves writes' replies (usage intervals are settled there).
	OnLead func() error
}

// Replica is one API replica's part in the election and its follower.
type Replica struct {
	cfg     Config
	log     *slog.Logger
	leading atomic.Bool
	leader  atomic.Pointer[string] // the writer's URL, as the election says

	mu      sync.Mutex
	applied int64         // etcd revision the model reflects while following; -1: reload first
	moved   chan struct{} // closed (and replaced) whenever applied moves
}

// New returns a replica; Load it, then Run it.
func New(cfg Config) *Replica {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 5
	}
	return &Replica{cfg: cfg, log: cfg.Logger, applied: -1, moved: make(chan struct{})}
}

// Load loads the model from etcd (into an empty core) and returns the
// number of records; the follower goes on from the revision it read.
func (r *Replica) Load() (int, error) {
	var rev int64
	n, err := r.cfg.Core.LoadFrom(func(fn func(kind, key string, val []byte) error) error {
		var err error
		rev, err = r.cfg.Store.LoadAt(fn)
		return err
	})
	if err == nil {
		r.setApplied(rev)
	}
	return n, err
}

// reload replaces the model with what etcd holds now.
func (r *Replica) reload() error {
	var rev int64
	_, err := r.cfg.Core.Reload(func(fn func(kind, key string, val []byte) error) error {
		var err error
		rev, err = r.cfg.Store.LoadAt(fn)
		return err
	})
	if err != nil {
		return err
	}
	r.setApplied(rev)
	if r.cfg.OnApply != nil {
		r.cfg.OnApply(r.cfg.Core.Regions())
	}
	return nil
}

func (r *Replica) setApplied(rev int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rev < 0 || rev > r.applied {
		r.applied = rev
		close(r.moved)
		r.moved = make(chan struct{})
	}
}

func (r *Replica) appliedRev() (int64, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied, r.moved
}

// Applied returns the etcd revision the model reflects while following (-1
// while it must reload; the revision of the last reload while it writes).
func (r *Replica) Applied() int64 {
	rev, _ := r.appliedRev()
	return rev
}

// Leading reports whether this replica is the writer now.
func (r *Replica) Leading() bool { return r.leading.Load() }

// LeaderURL returns the writer's URL as the election last said ("" while
// there is none).
func (r *Replica) LeaderURL() string {
	if p := r.leader.Load(); p != nil {
		return *p
	}
	return ""
}

// Self returns this replica's URL.
func (r *Replica) Self() string { return r.cfg.Self }

// Barrier waits until the model reflects every commit acknowledged before
// the call (nothing to wait for on the writer, whose model is etcd's).
func (r *Replica) Barrier(ctx context.Context) error {
	if r.Leading() {
		return nil
	}
	want, err := r.cfg.Store.CommitRevision(ctx)
	if err != nil {
		return err
	}
	for {
		have, moved := r.appliedRev()
		if have >= want {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return fmt.Errorf("replica: the model is at etcd revision %d, behind %d: %w", have, want, ctx.Err())
		}
	}
}

// Store is the store the API server commits to: the etcd store while this
// replica is the writer; otherwise every commit fails with
// store.ErrNotLeader, changing nothing, and the server forwards the request.
func (r *Replica) Store() store.Store { return gate{r} }

type gate struct{ r *Replica }

func (g gate) Commit(cs core.ChangeSet) (func() error, error) {
	if !g.r.Leading() {
		return nil, store.ErrNotLeader
	}
	return g.r.cfg.Store.Commit(cs)
}

func (g gate) Load(fn func(kind, key string, val []byte) error) error {
	return g.r.cfg.Store.Load(fn)
}

func (g gate) Reset() error { return g.r.cfg.Store.Reset() }

func (g gate) Clear() error {
	if !g.r.Leading() {
		return store.ErrNotLeader
	}
	return g.r.cfg.Store.Clear()
}

func (g gate) Close() error { return g.r.cfg.Store.Close() }

// Run takes part in the election until ctx ends: a term per etcd session,
// following while it campaigns and writing once elected, until the session
// (its lease) ends.
func (r *Replica) Run(ctx context.Context) {
	for backoff := 100 * time.Millisecond; ctx.Err() == nil; {
		sess, err := concurrency.NewSession(r.cfg.Store.Client(), concurrency.WithTTL(r.cfg.LeaseTTL), concurrency.WithContext(ctx))
		if err != nil {
			r.log.Error("replica: no etcd session; following meanwhile", "err", err, "retry_in", backoff.String())
			r.followFor(ctx, backoff)
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		r.term(ctx, sess)
		_ = sess.Close() // resigns, if the lease is still there
	}
}

// Etcd is the store the replica follows.
func (r *Replica) Etcd() *store.Etcd { return r.cfg.Store }

// Follow keeps the model in step with etcd until ctx ends, without ever
// campaigning: what an agent (`eni agent`) runs, which realises the model
// and never writes it.
func (r *Replica) Follow(ctx context.Context) { r.follow(ctx) }

// followFor follows for d (or until ctx ends).
func (r *Replica) followFor(ctx context.Context, d time.Duration) {
	fctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	r.follow(fctx)
}

// term is one session: follow while campaigning, then lead until the
// session ends.
func (r *Replica) term(ctx context.Context, sess *concurrency.Session) {
	tctx, end := context.WithCancel(ctx)
	defer end()
	go func() { // the session's lease lost (etcd unreachable beyond the TTL) ends the term
		select {
		case <-sess.Done():
			end()
		case <-tctx.Done():
		}
	}()
	el := concurrency.NewElection(sess, r.cfg.Store.Prefix()+"leader")
	go r.observe(tctx, el)
	fctx, stopFollowing := context.WithCancel(tctx)
	followed := make(chan struct{})
	go func() { defer close(followed); r.follow(fctx) }()
	err := el.Campaign(tctx, r.cfg.Self)
	stopFollowing()
	<-followed
	if err != nil {
		if tctx.Err() == nil {
			r.log.Error("replica: campaign failed", "err", err)
		}
		return
	}
	if err := r.lead(tctx); err != nil {
		r.log.Error("replica: could not take over as the writer; resigning", "err", err)
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = el.Resign(rctx)
		cancel()
		return
	}
	<-tctx.Done()
	r.leading.Store(false)
	r.setApplied(-1) // the next term reloads before it follows
	if ctx.Err() == nil {
		r.log.Error("replica: lost the writer's lease (etcd unreachable?): following again")
	}
}

// lead makes this replica the writer: its model is etcd's (reloaded after
// the watch stopped), its commits are guarded by what it loaded, and then
// OnLead runs.
func (r *Replica) lead(ctx context.Context) error {
	start := time.Now()
	if err := r.reload(); err != nil {
		return err
	}
	if err := r.cfg.Store.Reset(); err != nil {
		return err
	}
	r.leading.Store(true)
	if r.cfg.OnLead != nil {
		if err := r.cfg.OnLead(); err != nil {
			r.leading.Store(false)
			return err
		}
	}
	r.log.Info("replica: this replica is the writer", "self", r.cfg.Self, "took", time.Since(start).String())
	return ctx.Err()
}

// observe keeps LeaderURL current.
func (r *Replica) observe(ctx context.Context, el *concurrency.Election) {
	for resp := range el.Observe(ctx) {
		if len(resp.Kvs) > 0 {
			u := string(resp.Kvs[0].Value)
			if old := r.LeaderURL(); old != u {
				r.log.Info("replica: the writer is", "url", u)
			}
			r.leader.Store(&u)
		}
	}
}

// follow keeps the model in step with etcd until ctx ends: a watch of the
// prefix from the revision after the model's, each etcd transaction applied
// whole and in order; a reload first when the model's revision is unknown or
// etcd compacted what the watch needs.
func (r *Replica) follow(ctx context.Context) {
	for backoff := 100 * time.Millisecond; ctx.Err() == nil; {
		if rev, _ := r.appliedRev(); rev < 0 {
			if err := r.reload(); err != nil {
				r.log.Error("replica: reloading the model from etcd", "err", err, "retry_in", backoff.String())
				sleep(ctx, backoff)
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
		}
		backoff = 100 * time.Millisecond
		if err := r.watch(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("replica: watch ended", "err", err)
			sleep(ctx, backoff)
		}
	}
}

// watch applies what etcd says changed after the model's revision, until
// the watch fails or ctx ends.
func (r *Replica) watch(ctx context.Context) error {
	from, _ := r.appliedRev()
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := r.cfg.Store.Client().Watch(wctx, r.cfg.Store.Prefix(), clientv3.WithPrefix(), clientv3.WithRev(from+1), clientv3.WithProgressNotify())
	for resp := range wch {
		if err := resp.Err(); err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				r.setApplied(-1)
			}
			return err
		}
		if err := r.apply(resp.Events); err != nil {
			r.setApplied(-1) // the model may hold part of it: reload
			return err
		}
		if resp.IsProgressNotify() {
			r.setApplied(resp.Header.Revision)
		}
	}
	return ctx.Err()
}

// apply applies events, one etcd transaction (revision) at a time.
func (r *Replica) apply(events []*clientv3.Event) error {
	for i := 0; i < len(events); {
		rev := events[i].Kv.ModRevision
		var changes []core.Change
		regions := map[string]bool{}
		for ; i < len(events) && events[i].Kv.ModRevision == rev; i++ {
			ev := events[i]
			kind, key, ok := r.cfg.Store.RecordOf(ev.Kv.Key)
			if !ok {
				continue // the marker, the election's keys
			}
			c := core.Change{Kind: kind, Key: key}
			if ev.Type == mvccpb.PUT {
				c.Value = ev.Kv.Value
			}
			changes = append(changes, c)
			if reg, _, ok := strings.Cut(key, "/"); ok {
				regions[reg] = true
			}
		}
		if len(changes) > 0 {
			if err := r.cfg.Core.Apply(changes); err != nil {
				return fmt.Errorf("replica: apply revision %d: %w", rev, err)
			}
		}
		r.setApplied(rev)
		if len(regions) > 0 && r.cfg.OnApply != nil {
			names := make([]string, 0, len(regions))
			for n := range regions {
				names = append(names, n)
			}
			r.cfg.OnApply(names)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
