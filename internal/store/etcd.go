package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eni-net/eni/internal/core"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Etcd is a Store in an etcd cluster: the records of kind K under
// Prefix+"r/K/<region>/<id>", and one marker key, Prefix+"commit", that
// every commit rewrites. Each batch of change sets (group commit, as Bolt)
// is one etcd transaction that commits only if the marker is still what
// this store last saw: a writer whose model is behind (another replica
// wrote meanwhile) fails instead of overwriting what it has not seen, and
// a commit whose outcome the client did not learn (a timeout) is settled
// by fencing the marker, so that it either is known to be in or can never
// land. A change set is acknowledged once its transaction is committed in
// etcd (a majority of members has it on disk).
type Etcd struct {
	cli       *clientv3.Client
	ownClient bool
	prefix    string
	marker    string // prefix + "commit"
	writer    string // this store's id in the marker's value
	maxOps    int
	pageSize  int64
	timeout   time.Duration

	mu       sync.Mutex
	queue    []*pending
	wake     chan struct{}
	closed   bool
	failed   error
	done     chan struct{}
	guard    int64 // the marker's ModRevision the model reflects (-1: unknown)
	loaded   int64 // the marker's ModRevision as of the last Load
	revision int64 // etcd revision of the last Load or commit of this store
	seq      uint64
	batches  atomic.Int64
}

// EtcdConfig says how to reach etcd and where the records live.
type EtcdConfig struct {
	Client *clientv3.Client // used as is (and not closed) when set
	// Otherwise a client of its own, from these:
	Client3 clientv3.Config
	// Prefix of every key (default "/eni/").
	Prefix string
	// MaxTxnOps is the most operations one etcd transaction may hold: the
	// server's --max-txn-ops (etcd's default 128). A batch stops short of
	// it; a change set that alone exceeds it is refused, changing nothing.
	MaxTxnOps int
	// PageSize is how many records one range request of Load reads
	// (default 1000).
	PageSize int64
	// Timeout bounds one etcd request (default 10s).
	Timeout time.Duration
}

// ErrConflict is the error of a commit made on a model that is behind etcd:
// another writer committed since this store last loaded or wrote.
var ErrConflict = errors.New("store: etcd holds commits this model has not seen")

// OpenEtcd connects to etcd (checking that it answers) and returns the store.
func OpenEtcd(cfg EtcdConfig) (*Etcd, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "/eni/"
	}
	if cfg.MaxTxnOps <= 0 {
		cfg.MaxTxnOps = 128
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 1000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	cli, own := cfg.Client, false
	if cli == nil {
		if cfg.Client3.DialTimeout == 0 {
			cfg.Client3.DialTimeout = 5 * time.Second
		}
		var err error
		if cli, err = clientv3.New(cfg.Client3); err != nil {
			return nil, fmt.Errorf("etcd: %w", err)
		}
		own = true
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	e := &Etcd{cli: cli, ownClient: own, prefix: cfg.Prefix, marker: cfg.Prefix + "commit", writer: hex.EncodeToString(id[:]),
		maxOps: cfg.MaxTxnOps, pageSize: cfg.PageSize, timeout: cfg.Timeout,
		wake: make(chan struct{}, 1), done: make(chan struct{}), guard: -1}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	if _, err := cli.Get(ctx, e.marker); err != nil {
		if own {
			cli.Close()
		}
		return nil, fmt.Errorf("etcd %v: %w", cli.Endpoints(), err)
	}
	go e.loop()
	return e, nil
}

// Client returns the store's etcd client.
func (e *Etcd) Client() *clientv3.Client { return e.cli }

// Prefix returns the prefix of the store's keys.
func (e *Etcd) Prefix() string { return e.prefix }

// Batches returns how many etcd transactions have committed change sets.
func (e *Etcd) Batches() int64 { return e.batches.Load() }

// Revision returns the etcd revision of the store's last Load or commit.
func (e *Etcd) Revision() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.revision
}

func (e *Etcd) recordKey(kind, key string) string { return e.prefix + "r/" + kind + "/" + key }

// RecordOf splits a record's etcd key into kind and key; ok is false for
// keys that are not records (the marker, an election's).
func (e *Etcd) RecordOf(k []byte) (kind, key string, ok bool) {
	p := e.prefix + "r/"
	if len(k) <= len(p) || string(k[:len(p)]) != p {
		return "", "", false
	}
	rest := string(k[len(p):])
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			return rest[:i], rest[i+1:], true
		}
	}
	return "", "", false
}

// Commit queues cs for the next batch. A change set too large for one etcd
// transaction is refused at once, with nothing queued.
func (e *Etcd) Commit(cs core.ChangeSet) (func() error, error) {
	if len(cs.Changes)+1 > e.maxOps {
		return nil, fmt.Errorf("store: a change set of %d records exceeds one etcd transaction (--etcd-max-txn-ops %d, which etcd's --max-txn-ops must allow)", len(cs.Changes), e.maxOps)
	}
	return e.enqueue(&pending{cs: cs, done: make(chan error, 1)})
}

// Clear deletes every record, after what was committed before it.
func (e *Etcd) Clear() error {
	wait, err := e.enqueue(&pending{clear: true, done: make(chan error, 1)})
	if err != nil {
		return err
	}
	return wait()
}

func (e *Etcd) enqueue(p *pending) (func() error, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	if e.failed != nil {
		err := fmt.Errorf("%w: %w", ErrFailed, e.failed)
		e.mu.Unlock()
		return nil, err
	}
	e.queue = append(e.queue, p)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return func() error { return <-p.done }, nil
}

// loop writes what is queued, a batch (one etcd transaction) at a time.
func (e *Etcd) loop() {
	defer close(e.done)
	for {
		<-e.wake
		for {
			e.mu.Lock()
			batch := e.take()
			closed, failed := e.closed, e.failed
			e.mu.Unlock()
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
			var err error
			if failed != nil {
				err = fmt.Errorf("%w: %w", ErrFailed, failed)
			} else if err = e.write(batch); err != nil {
				e.mu.Lock()
				e.failed = err
				e.mu.Unlock()
			}
			for _, p := range batch {
				p.done <- err
			}
		}
	}
}

// take removes from the queue the change sets of the next transaction: as
// many as fit in maxOps, a Clear alone. e.mu is held.
func (e *Etcd) take() []*pending {
	n, ops := 0, 1 // the marker
	for n < len(e.queue) {
		p := e.queue[n]
		if p.clear {
			if n == 0 {
				n = 1
			}
			break
		}
		if ops+len(p.cs.Changes) > e.maxOps && n > 0 {
			break
		}
		ops += len(p.cs.Changes)
		n++
	}
	batch := slices.Clone(e.queue[:n])
	e.queue = e.queue[n:]
	return batch
}

// ops turns a batch into etcd operations: the last change of each record
// wins (a transaction may name a key once).
func (e *Etcd) ops(batch []*pending) ([]clientv3.Op, error) {
	if len(batch) == 1 && batch[0].clear {
		return []clientv3.Op{clientv3.OpDelete(e.prefix+"r/", clientv3.WithPrefix())}, nil
	}
	last := map[string]int{}
	var changes []core.Change
	for _, p := range batch {
		for _, c := range p.cs.Changes {
			if !slices.Contains(core.Kinds, c.Kind) {
				return nil, fmt.Errorf("store: unknown kind %q", c.Kind)
			}
			k := e.recordKey(c.Kind, c.Key)
			if i, ok := last[k]; ok {
				changes[i] = c
				continue
			}
			last[k] = len(changes)
			changes = append(changes, c)
		}
	}
	ops := make([]clientv3.Op, 0, len(changes)+1)
	for _, c := range changes {
		k := e.recordKey(c.Kind, c.Key)
		if c.Value == nil {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(c.Value)))
		}
	}
	return ops, nil
}

// write commits a batch in one transaction guarded by the marker.
func (e *Etcd) write(batch []*pending) error {
	ops, err := e.ops(batch)
	if err != nil {
		return err
	}
	e.mu.Lock()
	guard := e.guard
	e.mu.Unlock()
	if guard < 0 { // never loaded: a writer that builds on nothing it read
		if guard, err = e.readGuard(); err != nil {
			return err
		}
	}
	e.seq++
	mark := e.writer + ":" + strconv.FormatUint(e.seq, 10)
	ops = append(ops, clientv3.OpPut(e.marker, mark))
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	resp, err := e.cli.Txn(ctx).If(e.markerIs(guard)).Then(ops...).Commit()
	cancel()
	switch {
	case err == nil && resp.Succeeded:
		e.committed(resp.Header.Revision)
		e.batches.Add(1)
		return nil
	case err == nil:
		return ErrConflict
	}
	// The outcome is unknown: the transaction may be in or still land.
	committed, rerr := e.settle(guard, mark)
	if committed {
		e.batches.Add(1)
		return nil
	}
	return errors.Join(fmt.Errorf("store: etcd transaction: %w", err), rerr)
}

func (e *Etcd) markerIs(rev int64) clientv3.Cmp {
	return clientv3.Compare(clientv3.ModRevision(e.marker), "=", rev)
}

// committed records that the marker was last written at rev, by this store.
func (e *Etcd) committed(rev int64) {
	e.mu.Lock()
	e.guard, e.revision = rev, rev
	e.mu.Unlock()
}

func (e *Etcd) readGuard() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	resp, err := e.cli.Get(ctx, e.marker)
	if err != nil {
		return 0, fmt.Errorf("store: etcd: %w", err)
	}
	if len(resp.Kvs) == 1 {
		return resp.Kvs[0].ModRevision, nil
	}
	return 0, nil
}

// settle learns whether a transaction whose reply was lost (marked mark)
// committed: it rewrites the marker if it still is what the transaction
// compared against (then the transaction can never land), or reads it.
// It retries until etcd answers or the store is closed.
func (e *Etcd) settle(guard int64, mark string) (bool, error) {
	fence := mark + ":fenced"
	for backoff := 50 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		resp, err := e.cli.Txn(ctx).If(e.markerIs(guard)).Then(clientv3.OpPut(e.marker, fence)).Else(clientv3.OpGet(e.marker)).Commit()
		cancel()
		if err == nil && resp.Succeeded {
			e.committed(resp.Header.Revision) // nothing of the batch is in, and never will be
			return false, nil
		}
		if err == nil {
			kvs := resp.Responses[0].GetResponseRange().Kvs
			if len(kvs) == 1 && string(kvs[0].Value) == mark {
				e.committed(kvs[0].ModRevision)
				return true, nil
			}
			return false, ErrConflict
		}
		e.mu.Lock()
		closed := e.closed
		e.mu.Unlock()
		if closed {
			return false, fmt.Errorf("store: closed before etcd said whether a commit landed: %w", err)
		}
		time.Sleep(backoff)
	}
}

// Reset takes commits again after a failed batch; the caller has loaded
// its model again (Load), and the next commit is guarded by what that read.
func (e *Etcd) Reset() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.failed = nil
	e.guard = e.loaded
	return nil
}

// Load calls fn for every record, as of one etcd revision, a page at a
// time. The first Load of a store that has committed nothing sets what its
// commits are guarded by (Reset does after a failure).
func (e *Etcd) Load(fn func(kind, key string, val []byte) error) error {
	_, err := e.LoadAt(fn)
	return err
}

// LoadAt is Load, returning the etcd revision the records are read at.
func (e *Etcd) LoadAt(fn func(kind, key string, val []byte) error) (int64, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	resp, err := e.cli.Get(ctx, e.marker)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("store: etcd: %w", err)
	}
	rev, markRev := resp.Header.Revision, int64(0)
	if len(resp.Kvs) == 1 {
		markRev = resp.Kvs[0].ModRevision
	}
	if err := e.pages(rev, fn); err != nil {
		return 0, err
	}
	e.mu.Lock()
	e.loaded = markRev
	if e.guard < 0 {
		e.guard, e.revision = markRev, rev
	}
	if e.failed != nil || len(e.queue) == 0 {
		e.revision = max(e.revision, rev)
	}
	e.mu.Unlock()
	return rev, nil
}

// pages reads the records at revision rev, pageSize at a time.
func (e *Etcd) pages(rev int64, fn func(kind, key string, val []byte) error) error {
	from, end := e.prefix+"r/", clientv3.GetPrefixRangeEnd(e.prefix+"r/")
	for {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		resp, err := e.cli.Get(ctx, from, clientv3.WithRange(end), clientv3.WithRev(rev), clientv3.WithLimit(e.pageSize))
		cancel()
		if err != nil {
			return fmt.Errorf("store: etcd load: %w", err)
		}
		for _, kv := range resp.Kvs {
			kind, key, ok := e.RecordOf(kv.Key)
			if !ok {
				return fmt.Errorf("store: etcd load: bad key %q", kv.Key)
			}
			if err := fn(kind, key, kv.Value); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Close writes what is queued and closes the client (if the store made it).
func (e *Etcd) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	<-e.done
	if e.ownClient {
		return e.cli.Close()
	}
	return nil
}

// ErrNotLeader is the error of a commit on a replica that is not the
// writer (internal/replica): the request is the writer's to serve.
var ErrNotLeader = errors.New("store: this replica is not the writer")

// CommitRevision returns the etcd revision of the last commit of any writer
// (the marker's), read linearizably: a replica whose model reflects it has
// every change acknowledged before the call.
func (e *Etcd) CommitRevision(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	resp, err := e.cli.Get(ctx, e.marker)
	if err != nil {
		return 0, fmt.Errorf("store: etcd: %w", err)
	}
	if len(resp.Kvs) == 1 {
		return resp.Kvs[0].ModRevision, nil
	}
	return 0, nil
}

// IsMarker reports whether k is the commit marker's key.
func (e *Etcd) IsMarker(k []byte) bool { return string(k) == e.marker }

// Secret returns the secret stored under <prefix>keys/<name>, storing
// create's result first if there is none: every API replica and agent of one
// deployment gets the same one (the instance credentials' and identity
// documents' signing keys), whoever asked first.
func (e *Etcd) Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	key := e.prefix + "keys/" + name
	resp, err := e.cli.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("etcd: read %s: %w", key, err)
	}
	if len(resp.Kvs) == 1 {
		return resp.Kvs[0].Value, nil
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	txn, err := e.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(v))).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return nil, fmt.Errorf("etcd: write %s: %w", key, err)
	}
	if txn.Succeeded {
		return v, nil
	}
	kvs := txn.Responses[0].GetResponseRange().Kvs
	if len(kvs) != 1 {
		return nil, fmt.Errorf("etcd: %s vanished while it was read", key)
	}
	return kvs[0].Value, nil // someone else's, stored first
}
