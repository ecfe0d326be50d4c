package store

import (
	"errors"
	"fmt"
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
// it may be stored (it may build on the failed change sets) until the
// caller has reloaded its model and Reset the store.
func suiteFailedBatch(t *testing.T, im impl) {
	b := im.open(t)
	defer func() { b.Close() }()
	put := func(key string) core.ChangeSet {
		return core.ChangeSet{Changes: []core.Change{{Kind: "vpc", Key: "us-east-1/" + key, Value: []byte("{}")}}}
	}
	mustCommit(t, b, put("vpc-before"))
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
	if got, want := loadKeys(t, b), []string{"us-east-1/vpc-before"}; !slices.Equal(got, []string{"vpc/" + want[0]}) {
		t.Fatalf("stored: %v, want vpc/%v", got, want)
	}
	if err := b.Reset(); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, b, put("vpc-reset"))
	b = im.reopen(t, b)
	if got, want := loadKeys(t, b), []string{"vpc/us-east-1/vpc-before", "vpc/us-east-1/vpc-reset"}; !slices.Equal(got, want) {
		t.Fatalf("after reopening: %v, want %v", got, want)
	}
}
