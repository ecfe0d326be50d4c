package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/eni-net/eni/internal/core"
)

func loadKeys(t *testing.T, s Store) []string {
	t.Helper()
	var keys []string
	if err := s.Load(func(kind, key string, _ []byte) error { keys = append(keys, kind+"/"+key); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// Issue 9: a failed batch must leave no trace, and nothing committed after
// it may reach the disk (it may build on the failed change sets) until the
// caller has reloaded its model and Reset the store.
func TestBoltFailedBatchStopsLaterCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eni.db")
	b, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	put := func(key string) core.ChangeSet {
		return core.ChangeSet{Changes: []core.Change{{Kind: "vpc", Key: "us-east-1/" + key, Value: []byte("{}")}}}
	}
	mustCommit := func(cs core.ChangeSet) {
		t.Helper()
		wait, err := b.Commit(cs)
		if err == nil {
			err = wait()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	mustCommit(put("vpc-before"))
	// A batch that fails (a record of no known kind), and 20 change sets
	// committed behind it, before its failure is known.
	bad := put("vpc-bad")
	bad.Changes = append(bad.Changes, core.Change{Kind: "no-such-kind", Key: "us-east-1/x", Value: []byte("{}")})
	waitBad, err := b.Commit(bad)
	if err != nil {
		t.Fatal(err)
	}
	var waits []func() error
	for i := range 20 {
		w, err := b.Commit(put(fmt.Sprintf("vpc-after-%d", i)))
		if err != nil {
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("commit after the failure: %v", err)
			}
			continue
		}
		waits = append(waits, w)
	}
	if err := waitBad(); err == nil {
		t.Fatal("the bad batch committed")
	}
	for _, w := range waits {
		if err := w(); err == nil {
			t.Fatal("a change set queued behind a failed batch was written")
		}
	}
	if _, err := b.Commit(put("vpc-refused")); !errors.Is(err, ErrFailed) {
		t.Fatalf("commit before Reset: %v, want ErrFailed", err)
	}
	if got, want := loadKeys(t, b), []string{"vpc/us-east-1/vpc-before"}; !slices.Equal(got, want) {
		t.Fatalf("on disk: %v, want %v", got, want)
	}
	if err := b.Reset(); err != nil {
		t.Fatal(err)
	}
	mustCommit(put("vpc-reset"))
	b.Close()
	b2, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if got, want := loadKeys(t, b2), []string{"vpc/us-east-1/vpc-before", "vpc/us-east-1/vpc-reset"}; !slices.Equal(got, want) {
		t.Fatalf("after reopening: %v, want %v", got, want)
	}
}
