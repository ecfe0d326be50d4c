package api

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/store"
)

// What a failed commit does (issue 9). A change set is applied to the
// in-memory model when it is handed to the store, before it is durable, so
// that the next writer builds on it while a group commit gathers many. If
// the store then fails a batch:
//
//   - every request whose change set was in it, or behind it, fails with
//     InternalError (500): the store fails everything queued behind a failed
//     batch unwritten, since it may build on it;
//   - from then on every request that touches the model is refused with
//     ServiceUnavailable (503, which the SDKs retry), and /healthz answers
//     503;
//   - meanwhile the model is reloaded from the store (core.Reload), the
//     store is reset and the server serves again: the failed requests leave
//     no trace, in memory or on disk. The reload is retried with a backoff
//     if it fails (the store cannot be read): the server stays unavailable,
//     and unhealthy, rather than exit.
//
// Readers do not see what is not durable: a read waits, before it answers,
// until every change set handed to the store before it ended is durable (one
// fsync at most, and only while writes are in flight; see
// BenchmarkReadBesideWrites for what it costs). A write needs no such wait:
// it waits for its own change set, which is behind everything it saw.

// errUnavailable is EC2's answer while the model is being reloaded.
var errUnavailable = &core.Error{Code: "ServiceUnavailable", Message: "The request has failed due to a temporary failure of the server."}

// durability tracks which change sets are durable, in the order the store
// makes them so, and whether the model is ahead of the disk. Change sets are
// numbered from 1 in the order they are handed to the store, across reloads.
type durability struct {
	mu      sync.Mutex
	changed *sync.Cond // durable, failed or epoch changed
	queued  uint64     // change sets handed to the store
	durable uint64     // every change set up to this one is durable
	failed  bool       // a commit failed: the model is being reloaded
	epoch   uint64     // reloads so far
	kept    []uint64   // per epoch that ended in a reload: the last change set kept
	dirty   bool       // reads do not wait for durability (benchmarks)
}

// mark is what a transaction may have seen: every change set up to seq,
// in epoch.
type mark struct {
	seq, epoch uint64
	set        bool
}

func (d *durability) init() { d.changed = sync.NewCond(&d.mu) }

// commit hands a change set to the store (with the region locked, so in the
// order it is applied) and returns what waits for it to be durable.
func (s *Server) commit(cs core.ChangeSet) (func() error, error) {
	d := &s.dur
	d.mu.Lock()
	if d.failed {
		d.mu.Unlock()
		return nil, errUnavailable
	}
	epoch := d.epoch
	wait, err := s.opt.Store.Commit(cs)
	if err != nil {
		d.mu.Unlock()
		if errors.Is(err, store.ErrNotLeader) {
			return nil, errForward // nothing applied: the writer serves it
		}
		if errors.Is(err, store.ErrFailed) {
			s.storeFailed(err, epoch)
			return nil, errUnavailable // nothing applied: refused, like any write now
		}
		return nil, fmt.Errorf("store commit: %w", err)
	}
	d.queued++
	seq := d.queued
	if wait == nil { // durable already
		d.markDurable(seq)
	}
	d.mu.Unlock()
	if wait == nil && s.opt.OnCommit == nil && s.opt.OnChange == nil {
		return nil, nil
	}
	return func() error {
		if wait != nil {
			if err := wait(); err != nil {
				s.storeFailed(err, epoch)
				return fmt.Errorf("store commit: %w", err)
			}
			d.mu.Lock()
			d.markDurable(seq)
			d.mu.Unlock()
		}
		if s.opt.OnCommit != nil {
			s.opt.OnCommit()
		}
		if s.opt.OnChange != nil {
			s.opt.OnChange(changedRegions(cs))
		}
		return nil
	}, nil
}

// markDurable records that change set seq, and so every one before it, is
// durable. d.mu is held.
func (d *durability) markDurable(seq uint64) {
	if seq > d.durable {
		d.durable = seq
		d.changed.Broadcast()
	}
}

// seen returns what a transaction may see: called in it (with its region
// locked), every change set it sees has been handed to the store already.
func (s *Server) seen() mark {
	d := &s.dur
	d.mu.Lock()
	defer d.mu.Unlock()
	return mark{d.queued, d.epoch, true}
}

// awaitDurable waits until what a transaction saw (m) is durable. It fails
// with ServiceUnavailable if that is not to be: a commit failed (and the
// model is being reloaded), or the model was reloaded since, dropping some
// of what it saw.
func (s *Server) awaitDurable(m mark) error {
	if !m.set {
		return nil // it saw nothing
	}
	d := &s.dur
	d.mu.Lock()
	defer d.mu.Unlock()
	for m.epoch == d.epoch && !d.failed && !d.dirty && d.durable < m.seq {
		d.changed.Wait()
	}
	switch {
	case m.epoch < d.epoch:
		if m.seq > d.kept[m.epoch] {
			return errUnavailable
		}
		return nil
	case d.durable >= m.seq, d.dirty && !d.failed:
		return nil
	}
	return errUnavailable
}

// settled returns err once what the request that ended with it saw (need,
// from seen) is durable, or ServiceUnavailable if the model is being
// reloaded instead. An internal error (its commit failed) has nothing to
// wait for.
func (s *Server) settled(err error, need mark) error {
	var ce *core.Error
	if err != nil && (!errors.As(err, &ce) || ce == errUnavailable) {
		return err
	}
	if werr := s.awaitDurable(need); werr != nil {
		return werr
	}
	return err
}

// storeFailed makes the server refuse requests and reload its model from
// the store, once per failure: a late waiter of an earlier epoch's failed
// batch is no new failure.
func (s *Server) storeFailed(err error, epoch uint64) {
	d := &s.dur
	d.mu.Lock()
	if d.failed || d.epoch != epoch {
		d.mu.Unlock()
		return
	}
	d.failed = true
	d.changed.Broadcast()
	d.mu.Unlock()
	s.healthy.Store(false)
	s.log.Error("store commit failed: refusing requests until the model is reloaded from disk", "err", err)
	go s.recoverModel()
}

// recoverModel reloads the model from the store until it succeeds, then
// serves again.
func (s *Server) recoverModel() {
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		n, err := s.core.Reload(s.opt.Store.Load)
		if err == nil {
			err = s.opt.Store.Reset()
		}
		if err == nil {
			d := &s.dur
			d.mu.Lock()
			d.kept = append(d.kept, d.durable)
			d.failed = false
			d.epoch++
			d.durable = d.queued // all before is durable or discarded
			d.changed.Broadcast()
			d.mu.Unlock()
			s.healthy.Store(true)
			s.log.Warn("model reloaded from disk after a failed commit: serving again", "records", n, "took", time.Since(start).String())
			if s.opt.OnCommit != nil {
				s.opt.OnCommit() // the data plane follows the reloaded model
			}
			return
		}
		if errors.Is(err, store.ErrClosed) {
			return // shutting down
		}
		s.log.Error("reloading the model from disk", "err", err, "retry_in", backoff.String())
		time.Sleep(backoff)
		backoff = min(2*backoff, 30*time.Second)
	}
}
