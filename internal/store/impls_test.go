package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The shared suite (store_test.go) against every implementation.

func TestMemory(t *testing.T) {
	runSuite(t, func(t *testing.T) impl {
		return impl{open: func(t *testing.T) Store { return NewMemory() }, reopen: func(t *testing.T, s Store) Store { return s }}
	})
}

func TestBolt(t *testing.T) {
	runSuite(t, func(t *testing.T) impl {
		path := filepath.Join(t.TempDir(), "eni.db")
		open := func(t *testing.T) Store {
			b, err := OpenBolt(path)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		return impl{open: open, reopen: func(t *testing.T, s Store) Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t)
		}, failing: true}
	})
}

// TestEtcd runs the suite on one embedded etcd member, each check under a
// key prefix of its own, loading 7 records a page.
func TestEtcd(t *testing.T) {
	c := etcdtest.Start(t, 1)
	var n atomic.Int64
	runSuite(t, func(t *testing.T) impl {
		cfg := testEtcdConfig(c, fmt.Sprintf("/eni-test-%d/", n.Add(1)))
		open := func(t *testing.T) Store {
			e, err := OpenEtcd(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		return impl{open: open, reopen: func(t *testing.T, s Store) Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t)
		}, failing: true}
	})
}

func testEtcdConfig(c *etcdtest.Cluster, prefix string) EtcdConfig {
	cfg := EtcdConfig{Prefix: prefix, PageSize: 7, MaxTxnOps: etcdtest.MaxTxnOps}
	cfg.Client3.Endpoints = c.Endpoints
	return cfg
}

// Two stores on one prefix, as two replicas: a commit by one whose model
// has not seen the other's commit fails (ErrConflict) and leaves nothing;
// after a Load and Reset it commits again.
func TestEtcdConflict(t *testing.T) {
	c := etcdtest.Start(t, 1)
	cfg := testEtcdConfig(c, "/eni-conflict/")
	a, err := OpenEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	put := func(key string) core.ChangeSet {
		return core.ChangeSet{Changes: []core.Change{{Kind: "vpc", Key: "r/" + key, Value: []byte("{}")}}}
	}
	loadKeys(t, a)
	loadKeys(t, b)
	mustCommit(t, a, put("vpc-a"))
	wait, err := b.Commit(put("vpc-b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); !errors.Is(err, ErrConflict) {
		t.Fatalf("commit on a stale model: %v, want ErrConflict", err)
	}
	if _, err := b.Commit(put("vpc-b2")); !errors.Is(err, ErrFailed) {
		t.Fatalf("commit before Reset: %v", err)
	}
	if got := loadKeys(t, b); !slices.Equal(got, []string{"vpc/r/vpc-a"}) {
		t.Fatalf("stored: %v", got)
	}
	if err := b.Reset(); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, b, put("vpc-b3"))
	wait, err = a.Commit(put("vpc-a2")) // a has not seen vpc-b3
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); !errors.Is(err, ErrConflict) {
		t.Fatalf("a after b: %v, want ErrConflict", err)
	}
	if got := loadKeys(t, a); !slices.Equal(got, []string{"vpc/r/vpc-a", "vpc/r/vpc-b3"}) {
		t.Fatalf("stored: %v", got)
	}
}

// A transaction whose reply was lost is settled: found in if it landed;
// fenced out if not, so that it cannot land later.
func TestEtcdSettleLostReply(t *testing.T) {
	c := etcdtest.Start(t, 1)
	e, err := OpenEtcd(testEtcdConfig(c, "/eni-settle/"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	guard, err := e.readGuard()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// It landed (the reply was lost on the way back).
	if _, err := e.cli.Txn(ctx).If(e.markerIs(guard)).Then(clientv3.OpPut(e.recordKey("vpc", "r/vpc-1"), "{}"), clientv3.OpPut(e.marker, "w:1")).Commit(); err != nil {
		t.Fatal(err)
	}
	if in, err := e.settle(guard, "w:1"); !in || err != nil {
		t.Fatalf("a landed transaction: in=%v err=%v", in, err)
	}
	// It has not landed yet: fenced, and when it arrives it fails.
	guard, _ = e.readGuard()
	if in, err := e.settle(guard, "w:2"); in || err != nil {
		t.Fatalf("a transaction still on its way: in=%v err=%v", in, err)
	}
	late, err := e.cli.Txn(ctx).If(e.markerIs(guard)).Then(clientv3.OpPut(e.recordKey("vpc", "r/vpc-2"), "{}"), clientv3.OpPut(e.marker, "w:2")).Commit()
	if err != nil || late.Succeeded {
		t.Fatalf("the late transaction landed after it was fenced: %v %v", late, err)
	}
	if got := loadKeys(t, e); !slices.Equal(got, []string{"vpc/r/vpc-1"}) {
		t.Fatalf("stored: %v", got)
	}
}

// A change set larger than one etcd transaction is refused before anything
// is queued: the store takes commits after it.
func TestEtcdChangeSetTooLarge(t *testing.T) {
	c := etcdtest.Start(t, 1)
	cfg := testEtcdConfig(c, "/eni-large/")
	cfg.MaxTxnOps = 10
	e, err := OpenEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var cs core.ChangeSet
	for i := range 10 {
		cs.Changes = append(cs.Changes, core.Change{Kind: "vpc", Key: fmt.Sprintf("r/vpc-%d", i), Value: []byte("{}")})
	}
	if _, err := e.Commit(cs); err == nil || errors.Is(err, ErrFailed) {
		t.Fatalf("too large: %v", err)
	}
	cs.Changes = cs.Changes[:9]
	mustCommit(t, e, cs)
	if got := loadKeys(t, e); len(got) != 9 {
		t.Fatalf("stored: %v", got)
	}
}

// TestEtcdSecret: two stores on one prefix (two replicas, or a replica and a host's
// agent) get the same secret, whoever asked first; Clear leaves it.
func TestEtcdSecret(t *testing.T) {
	c := etcdtest.Start(t, 1)
	a, err := OpenEtcd(testEtcdConfig(c, "/s/"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenEtcd(testEtcdConfig(c, "/s/"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	first, err := a.Secret(ctx, "k", func() ([]byte, error) { return []byte("from a"), nil })
	if err != nil || string(first) != "from a" {
		t.Fatalf("first: %q, %v", first, err)
	}
	second, err := b.Secret(ctx, "k", func() ([]byte, error) { return []byte("from b"), nil })
	if err != nil || string(second) != "from a" {
		t.Fatalf("second: %q, %v; want a's", second, err)
	}
	if err := b.Clear(); err != nil {
		t.Fatal(err)
	}
	again, err := b.Secret(ctx, "k", func() ([]byte, error) { return nil, errors.New("asked to create") })
	if err != nil || string(again) != "from a" {
		t.Fatalf("after Clear: %q, %v", again, err)
	}
}
