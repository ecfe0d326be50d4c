// Package store keeps the model's change sets durable. Bolt is the embedded
// default: one bbolt file, change sets committed in order with group commit
// (many change sets per fsync), each acknowledged only once it is on disk.
package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eni-net/eni/internal/core"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrClosed is returned by Commit after Close.
var ErrClosed = errors.New("store: closed")

// ErrFailed is the error of every change set committed after one that
// failed, until Reset.
var ErrFailed = errors.New("store: an earlier commit failed")

// Store persists change sets and loads them back.
type Store interface {
	// Commit queues cs and returns a function that waits until it is durable.
	// Change sets become durable in the order of their Commit calls. Once
	// one fails, every later one fails too (ErrFailed), without being
	// written, until Reset: it may build on the one that failed.
	Commit(cs core.ChangeSet) (wait func() error, err error)
	// Load calls fn for every stored record.
	Load(fn func(kind, key string, val []byte) error) error
	// Reset makes a store whose commit failed take commits again; the
	// caller has first brought its model back to what Load yields.
	Reset() error
	// Clear deletes every record, durably, after every change set
	// committed before it (the server's reset: an empty store).
	Clear() error
	Close() error
}

// Bolt is a Store in a bbolt file.
type Bolt struct {
	db *bolt.DB

	mu      sync.Mutex
	queue   []*pending
	wake    chan struct{}
	closed  bool
	failed  error // the first error of a batch, until Reset
	done    chan struct{}
	maxWait time.Duration
	batches atomic.Int64 // bbolt transactions written, for benchmarks
}

// Batches returns how many bbolt transactions (fsyncs) have committed
// change sets so far.
func (b *Bolt) Batches() int64 { return b.batches.Load() }

type pending struct {
	cs    core.ChangeSet
	clear bool // delete every record instead (Clear)
	done  chan error
}

// OpenBolt opens (or creates) the bbolt file at path.
func OpenBolt(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: time.Second,
		// The options etcd uses: a map freelist that is not synced to disk.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%s is locked by another process (another eni serve?)", path)
	case errors.As(err, new(*fs.PathError)):
		return nil, err // it names the path already
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, k := range core.Kinds {
			if _, err := tx.CreateBucketIfNotExists([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("init %s: %w", path, err)
	}
	b := &Bolt{db: db, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go b.loop()
	return b, nil
}

// Commit queues cs for the next batch.
func (b *Bolt) Commit(cs core.ChangeSet) (func() error, error) {
	return b.enqueue(&pending{cs: cs, done: make(chan error, 1)})
}

// Clear deletes every record, in the order of the queue: after what was
// committed before, in the same bbolt transaction as what is batched with it.
func (b *Bolt) Clear() error {
	wait, err := b.enqueue(&pending{clear: true, done: make(chan error, 1)})
	if err != nil {
		return err
	}
	return wait()
}

func (b *Bolt) enqueue(p *pending) (func() error, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	if b.failed != nil {
		err := fmt.Errorf("%w: %w", ErrFailed, b.failed)
		b.mu.Unlock()
		return nil, err
	}
	b.queue = append(b.queue, p)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return func() error { return <-p.done }, nil
}

// loop writes queued change sets, as many as are waiting, in one bbolt
// transaction (one fsync) at a time. After a batch fails, those queued
// behind it fail unwritten, until Reset.
func (b *Bolt) loop() {
	defer close(b.done)
	for {
		<-b.wake
		for {
			b.mu.Lock()
			batch := b.queue
			b.queue = nil
			closed, failed := b.closed, b.failed
			b.mu.Unlock()
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
			var err error
			if failed != nil {
				err = fmt.Errorf("%w: %w", ErrFailed, failed)
			} else if err = b.write(batch); err != nil {
				b.mu.Lock()
				b.failed = err
				b.mu.Unlock()
			}
			for _, p := range batch {
				p.done <- err
			}
		}
	}
}

// write commits a batch in one bbolt transaction.
func (b *Bolt) write(batch []*pending) error {
	defer b.batches.Add(1)
	return b.db.Update(func(tx *bolt.Tx) error {
		for _, p := range batch {
			if p.clear {
				if err := clearBuckets(tx); err != nil {
					return err
				}
				continue
			}
			for _, c := range p.cs.Changes {
				bk := tx.Bucket([]byte(c.Kind))
				if bk == nil {
					return fmt.Errorf("store: unknown kind %q", c.Kind)
				}
				var err error
				if c.Value == nil {
					err = bk.Delete([]byte(c.Key))
				} else {
					err = bk.Put([]byte(c.Key), c.Value)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// clearBuckets empties the file: every bucket goes (those of kinds this
// version does not know too), the model's come back empty.
func clearBuckets(tx *bolt.Tx) error {
	var names [][]byte
	if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		names = append(names, bytes.Clone(name))
		return nil
	}); err != nil {
		return err
	}
	for _, n := range names {
		if err := tx.DeleteBucket(n); err != nil {
			return err
		}
	}
	for _, k := range core.Kinds {
		if _, err := tx.CreateBucket([]byte(k)); err != nil {
			return err
		}
	}
	return nil
}

// Reset takes commits again after a failed batch. A bbolt transaction that
// fails is rolled back whole, so the file holds what was acknowledged (but
// after an fsync error the kernel may have dropped pages it reported
// written: what the file holds then is what a restart would load anyway).
func (b *Bolt) Reset() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.failed = nil
	return nil
}

// Load calls fn for every record.
func (b *Bolt) Load(fn func(kind, key string, val []byte) error) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return b.db.View(func(tx *bolt.Tx) error {
		for _, k := range core.Kinds {
			bk := tx.Bucket([]byte(k))
			if bk == nil {
				continue
			}
			if err := bk.ForEach(func(key, val []byte) error { return fn(k, string(key), val) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close writes what is queued and closes the file.
func (b *Bolt) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	<-b.done
	return b.db.Close()
}

// Memory is a Store that keeps nothing across restarts (tests, --data "").
type Memory struct {
	mu   sync.Mutex
	data map[string]map[string][]byte
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{data: map[string]map[string][]byte{}} }

// Commit applies cs at once.
func (m *Memory) Commit(cs core.ChangeSet) (func() error, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cs.Changes {
		bk := m.data[c.Kind]
		if bk == nil {
			bk = map[string][]byte{}
			m.data[c.Kind] = bk
		}
		if c.Value == nil {
			delete(bk, c.Key)
		} else {
			bk[c.Key] = c.Value
		}
	}
	return nil, nil
}

// Load calls fn for every record.
func (m *Memory) Load(fn func(kind, key string, val []byte) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, bk := range m.data {
		for key, v := range bk {
			if err := fn(k, key, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Clear deletes every record.
func (m *Memory) Clear() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data = map[string]map[string][]byte{}
	return nil
}

// Reset does nothing: Memory's commits do not fail.
func (m *Memory) Reset() error { return nil }

// Close does nothing.
func (m *Memory) Close() error { return nil }
