package store

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eni-net/eni/internal/core"
)

// impl is one Store implementation under the shared suite: open makes a
// store (a fresh one each call, holding nothing), reopen closes s and opens
// what it stored again (Memory: s itself).
type impl struct {
	open   func(t *testing.T) Store
	reopen func(t *testing.T, s Store) Store
	// failing says whether a batch with a record of an unknown kind fails
	// (Bolt, Etcd); Memory takes anything and never fails.
	failing bool
}

// runSuite runs every check of the shared suite against one implementation.
func runSuite(t *testing.T, mk func(t *testing.T) impl) {
	t.Run("CommitLoadClear", func(t *testing.T) { suite(t, mk(t)) })
	t.Run("LoadPages", func(t *testing.T) { suiteLoadPages(t, mk(t)) })
	if mk(t).failing {
		t.Run("FailedBatch", func(t *testing.T) { suiteFailedBatch(t, mk(t)) })
	}
	t.Run("CommitAfterClose", func(t *testing.T) {
		s := mk(t).open(t)
		s.Close()
		if _, err := s.Commit(core.ChangeSet{Changes: []core.Change{{Kind: "vpc", Key: "r/vpc-1", Value: []byte("{}")}}}); err != ErrClosed && !isMemory(s) {
			t.Fatalf("commit after close: %v", err)
		}
	})
}

func isMemory(s Store) bool { _, ok := s.(*Memory); return ok }

func mustCommit(t *testing.T, s Store, cs core.ChangeSet) {
	t.Helper()
	wait, err := s.Commit(cs)
	if err == nil && wait != nil {
		err = wait()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// suite checks commits, deletes, concurrent commits, Clear and reopening.
func suite(t *testing.T, im impl) {
	s := im.open(t)
	commit := func(cs core.ChangeSet) { t.Helper(); mustCommit(t, s, cs) }
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
	// A change set that puts and deletes one record: the last change wins.
	commit(core.ChangeSet{Changes: []core.Change{
		{Kind: "sg", Key: "us-east-1/sg-1", Value: []byte(`{"v":1}`)},
		{Kind: "sg", Key: "us-east-1/sg-1"},
		{Kind: "sg", Key: "us-east-1/sg-2", Value: []byte(`{"v":1}`)},
		{Kind: "sg", Key: "us-east-1/sg-2", Value: []byte(`{"v":2}`)},
	}})
	s = im.reopen(t, s)
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
	if _, ok := got["sg/us-east-1/sg-1"]; ok || got["sg/us-east-1/sg-2"] != `{"v":2}` {
		t.Errorf("put then delete, put then put: %v", got)
	}
	n := 0
	for k := range got {
		if strings.HasPrefix(k, "subnet/") {
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
	s = im.reopen(t, s)
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

// suiteLoadPages loads more records than a page of the etcd store's test
// configuration (7), of several kinds, each once.
func suiteLoadPages(t *testing.T, im impl) {
	s := im.open(t)
	defer func() { s.Close() }()
	want := map[string]string{}
	for i := range 40 {
		kind := core.Kinds[i%len(core.Kinds)]
		key := fmt.Sprintf("eu-west-1/x-%03d", i)
		v := fmt.Sprintf(`{"i":%d}`, i)
		mustCommit(t, s, core.ChangeSet{Changes: []core.Change{{Kind: kind, Key: key, Value: []byte(v)}}})
		want[kind+"/"+key] = v
	}
	s = im.reopen(t, s)
	got := map[string]string{}
	if err := s.Load(func(kind, key string, val []byte) error {
		k := kind + "/" + key
		if _, dup := got[k]; dup {
			t.Errorf("%s loaded twice", k)
		}
		got[k] = string(val)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("loaded %d records, want %d: %v", len(got), len(want), got)
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
