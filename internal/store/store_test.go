package store

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eni-net/eni/internal/core"
)

// suite runs the same checks against every Store implementation.
func suite(t *testing.T, open func(t *testing.T) Store, reopen func(t *testing.T, s Store) Store) {
	s := open(t)
	commit := func(cs core.ChangeSet) {
		wait, err := s.Commit(cs)
		if err != nil {
			t.Fatal(err)
		}
		if wait != nil {
			if err := wait(); err != nil {
				t.Fatal(err)
			}
		}
	}
	commit(core.ChangeSet{Changes: []core.Change{
		{Kind: "eni", Key: "us-east-1/eni-1", Value: []byte(`{"id":"eni-1"}`)},
		{Kind: "eni", Key: "us-east-1/eni-2", Value: []byte(`{"id":"eni-2"}`)},
	}})
	commit(core.ChangeSet{Changes: []core.Change{
		{Kind: "eni", Key: "us-east-1/eni-1"}, // delete
		{Kind: "vpc", Key: "us-east-1/vpc-1", Value: []byte(`{"id":"vpc-1"}`)},
	}})
	// Concurrent commits all become durable.
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			wait, err := s.Commit(core.ChangeSet{Changes: []core.Change{{Kind: "subnet", Key: fmt.Sprintf("r/subnet-%d", i), Value: []byte("{}")}}})
			if err != nil {
				t.Error(err)
				return
			}
			if wait != nil {
				if err := wait(); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
	s = reopen(t, s)
	got := map[string]string{}
	if err := s.Load(func(kind, key string, val []byte) error {
		got[kind+"/"+key] = string(val)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["eni/us-east-1/eni-1"]; ok {
		t.Error("deleted record came back")
	}
	if got["eni/us-east-1/eni-2"] != `{"id":"eni-2"}` || got["vpc/us-east-1/vpc-1"] != `{"id":"vpc-1"}` {
		t.Errorf("records = %v", got)
	}
	n := 0
	for k := range got {
		if len(k) > 7 && k[:7] == "subnet/" {
			n++
		}
	}
	if n != 50 {
		t.Errorf("%d concurrent commits survived, want 50", n)
	}
	// Clear empties the store, durably, after what was committed before it;
	// commits after it are kept.
	wait, err := s.Commit(core.ChangeSet{Changes: []core.Change{{Kind: "eni", Key: "us-east-1/eni-3", Value: []byte("{}")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(); err != nil {
		t.Fatal(err)
	}
	if wait != nil {
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	}
	commit(core.ChangeSet{Changes: []core.Change{{Kind: "vpc", Key: "us-east-1/vpc-2", Value: []byte("{}")}}})
	s = reopen(t, s)
	got = map[string]string{}
	if err := s.Load(func(kind, key string, val []byte) error {
		got[kind+"/"+key] = string(val)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["vpc/us-east-1/vpc-2"] != "{}" {
		t.Errorf("after Clear and one commit: %v", got)
	}
	s.Close()
}

func TestMemory(t *testing.T) {
	suite(t, func(t *testing.T) Store { return NewMemory() }, func(t *testing.T, s Store) Store { return s })
}

func TestBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eni.db")
	open := func(t *testing.T) Store {
		b, err := OpenBolt(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	suite(t, open, func(t *testing.T, s Store) Store {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return open(t)
	})
}

func TestBoltCommitAfterClose(t *testing.T) {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "eni.db"))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := b.Commit(core.ChangeSet{}); err != ErrClosed {
		t.Fatalf("commit after close: %v", err)
	}
}

func BenchmarkBoltCommit(b *testing.B) {
	s, err := OpenBolt(filepath.Join(b.TempDir(), "eni.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := make([]byte, 600)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			wait, err := s.Commit(core.ChangeSet{Changes: []core.Change{{Kind: "eni", Key: fmt.Sprintf("r/%p-%d", pb, i), Value: val}}})
			if err != nil {
				b.Fatal(err)
			}
			if err := wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An error that names the path already is not wrapped in another that
// names it again ("open X: open X: is a directory").
func TestOpenBoltErrorNamesThePathOnce(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenBolt(dir)
	if err == nil || strings.Count(err.Error(), dir) != 1 {
		t.Fatalf("got %v, want one mention of %s", err, dir)
	}
}
