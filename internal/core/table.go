package core

import (
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
)

// record is what every persisted resource is: it has a key and can copy itself
// deeply, so that a transaction never changes the committed state in place.
type record[T any] interface {
	*T
	key() string
	clone() *T
}

// table holds the committed records of one kind.
type table[T any, P record[T]] struct {
	kind string
	rows map[string]*T
	// sorted caches the keys of rows, in order (nil: not known). A write that adds or
	// removes a key, under the region's write lock, forgets it; a reader, under the
	// read lock, makes it: a reader sorts only after keys came or went, not on every
	// read (the agent's host view of 5,000 instances sorted them on every pass).
	sorted atomic.Pointer[[]string]
	// gen counts the writes to rows (puts and deletes). With logWrites, recent holds the
	// ids of the last of them, oldest first: a reader that remembers a gen finds what was
	// written since (changedSince) instead of reading every row (the host view, hostmemo.go).
	gen       uint64
	logWrites bool
	recent    []string
}

// recentWrites is how many writes a table's log keeps at least.
const recentWrites = 4096

// wrote counts a write of the row id.
func (t *table[T, P]) wrote(id string) {
	t.gen++
	if !t.logWrites {
		return
	}
	if len(t.recent) >= 2*recentWrites {
		t.recent = slices.Clone(t.recent[len(t.recent)-recentWrites:])
	}
	t.recent = append(t.recent, id)
}

// changedSince returns the ids of the rows written after gen (an id may repeat), or
// false when the log no longer reaches back that far (or the table logs no writes).
// Call under the region's lock; the result is valid until the next write.
func (t *table[T, P]) changedSince(gen uint64) ([]string, bool) {
	if !t.logWrites || gen > t.gen || t.gen-gen > uint64(len(t.recent)) {
		return nil, false
	}
	return t.recent[len(t.recent)-int(t.gen-gen):], true
}

// sortedKeys are the keys of rows, in order.
func (t *table[T, P]) sortedKeys() []string {
	if k := t.sorted.Load(); k != nil {
		return *k
	}
	keys := slices.Sorted(maps.Keys(t.rows))
	t.sorted.CompareAndSwap(nil, &keys)
	return keys
}

// setRow puts (v not nil) or deletes the row id, forgetting the sorted keys when
// a key comes or goes.
func (t *table[T, P]) setRow(id string, v *T) {
	if v == nil {
		if _, ok := t.rows[id]; ok {
			delete(t.rows, id)
			t.sorted.Store(nil)
			t.wrote(id)
		}
		return
	}
	if _, ok := t.rows[id]; !ok {
		t.sorted.Store(nil)
	}
	t.rows[id] = v
	t.wrote(id)
}

func newTable[T any, P record[T]](kind string) *table[T, P] {
	return &table[T, P]{kind: kind, rows: map[string]*T{}}
}

// txTable is a table seen through a transaction: reads see the transaction's
// own writes; writes go to an overlay that becomes the change set.
type txTable[T any, P record[T]] struct {
	base *table[T, P]
	over map[string]*T // nil value = deleted
}

// Get returns the record with id, or nil. The result must not be modified: use Mut.
func (t *txTable[T, P]) Get(id string) *T {
	if t.over != nil {
		if v, ok := t.over[id]; ok {
			return v
		}
	}
	return t.base.rows[id]
}

// Mut returns a private copy of the record with id, to be modified, or nil.
func (t *txTable[T, P]) Mut(id string) *T {
	if v, ok := t.over[id]; ok {
		return v
	}
	v := t.base.rows[id]
	if v == nil {
		return nil
	}
	c := P(v).clone()
	t.setOver(id, c)
	return c
}

// Put stores a new or replaced record.
func (t *txTable[T, P]) Put(v *T) { t.setOver(P(v).key(), v) }

// Delete removes the record with id.
func (t *txTable[T, P]) Delete(id string) { t.setOver(id, nil) }

func (t *txTable[T, P]) setOver(id string, v *T) {
	if t.over == nil {
		t.over = map[string]*T{}
	}
	t.over[id] = v
}

// Each calls fn for every record in the transaction's view, in no particular
// order, until fn returns false.
func (t *txTable[T, P]) Each(fn func(*T) bool) {
	for id, v := range t.base.rows {
		if _, ok := t.over[id]; ok {
			continue
		}
		if !fn(v) {
			return
		}
	}
	for _, v := range t.over {
		if v != nil && !fn(v) {
			return
		}
	}
}

// Sorted returns the records for which keep is true, sorted by key.
func (t *txTable[T, P]) Sorted(keep func(*T) bool) []*T {
	var out []*T
	if len(t.over) == 0 {
		for _, id := range t.base.sortedKeys() {
			if v := t.base.rows[id]; v != nil && (keep == nil || keep(v)) {
				out = append(out, v)
			}
		}
		return out
	}
	if keep == nil {
		out = make([]*T, 0, len(t.base.rows)+len(t.over))
	}
	t.Each(func(v *T) bool {
		if keep == nil || keep(v) {
			out = append(out, v)
		}
		return true
	})
	sortByKey[T, P](out)
	return out
}

// sortByKey sorts records by key.
func sortByKey[T any, P record[T]](vs []*T) {
	slices.SortFunc(vs, func(a, b *T) int { return strings.Compare(P(a).key(), P(b).key()) })
}

// Pick returns the transaction's view of the records with the given ids that
// keep accepts (ids from an index of the committed state), plus the records
// the transaction wrote that keep accepts; sorted by key, without duplicates.
func (t *txTable[T, P]) Pick(ids []string, keep func(*T) bool) []*T {
	seen := make(map[string]bool, len(ids))
	var out []*T
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if v := t.Get(id); v != nil && (keep == nil || keep(v)) {
			out = append(out, v)
		}
	}
	for id, v := range t.over {
		if !seen[id] && v != nil && (keep == nil || keep(v)) {
			out = append(out, v)
		}
	}
	sortByKey[T, P](out)
	return out
}

// changes appends the overlay to cs and returns the old and new values of each
// changed record, for index maintenance.
func (t *txTable[T, P]) changes(region string, cs *ChangeSet) ([]pair[T], error) {
	if len(t.over) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(t.over))
	for id := range t.over {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	pairs := make([]pair[T], 0, len(ids))
	for _, id := range ids {
		v := t.over[id]
		c := Change{Kind: t.base.kind, Key: region + "/" + id}
		if v != nil {
			b, err := encodeRecord(v)
			if err != nil {
				return nil, fmt.Errorf("encode %s %s: %w", t.base.kind, id, err)
			}
			c.Value = b
		}
		cs.Changes = append(cs.Changes, c)
		pairs = append(pairs, pair[T]{old: t.base.rows[id], new: v})
	}
	return pairs, nil
}

type pair[T any] struct{ old, new *T }

// apply makes the overlay committed.
func (t *txTable[T, P]) apply() {
	for id, v := range t.over {
		t.base.setRow(id, v)
	}
}

// loader is a table seen by the loading code: decoding may run on many
// goroutines, putting on one.
type loader interface {
	decode(id string, val []byte) (any, error)
	put(id string, v any)
}

func (t *table[T, P]) decode(id string, val []byte) (any, error) {
	v := new(T)
	if err := decodeRecord(val, v); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", t.kind, id, err)
	}
	return v, nil
}

func (t *table[T, P]) put(id string, v any) { t.setRow(id, v.(*T)) }

// ChangeSet is what one operation changes: records to put (Value set) or
// delete (Value nil), keyed by kind and region/id. The store commits it
// atomically.
type ChangeSet struct {
	Changes []Change
}

// Change is one record put or delete.
type Change struct {
	Kind  string
	Key   string
	Value []byte
}

// Records are stored as JSON, except those that have a compact binary form
// of their own (tokens: many, and mostly an opaque reply).
func encodeRecord(v any) ([]byte, error) {
	if m, ok := v.(encoding.BinaryMarshaler); ok {
		return m.MarshalBinary()
	}
	return json.Marshal(v)
}

func decodeRecord(val []byte, v any) error {
	if u, ok := v.(encoding.BinaryUnmarshaler); ok && (len(val) == 0 || val[0] != '{') {
		return u.UnmarshalBinary(val)
	}
	return json.Unmarshal(val, v)
}
