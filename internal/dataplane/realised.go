package dataplane

import (
	"fmt"
	"iter"
	"maps"
)

// Realised maps ids to what a pass realised for them (a Status's Instances and ENIs). It
// is read-only and shared with the passes after the one that answered it: a pass that
// changes a few entries (a move changes one) makes a new Realised over the last one's
// without copying its map. It is a base map and an overlay of changes to it; the overlay
// is folded into a new base once it outgrows twice the square root of the base, so that a
// pass copies O(√n) entries and a fold's O(n) is paid once per O(√n) changes. The zero
// Realised is empty.
type Realised[V comparable] struct {
	base map[string]V
	over map[string]overlaid[V] // changes to base; never changed once answered
	n    int
}

// overlaid is an entry of the overlay: a value, or the key deleted.
type overlaid[V comparable] struct {
	v   V
	del bool
}

// RealisedOf is a Realised holding m's entries; it takes m, which must not change after.
func RealisedOf[V comparable](m map[string]V) Realised[V] {
	return Realised[V]{base: m, n: len(m)}
}

// Lookup returns k's value and whether k is there.
func (r Realised[V]) Lookup(k string) (V, bool) {
	if o, ok := r.over[k]; ok {
		return o.v, !o.del
	}
	v, ok := r.base[k]
	return v, ok
}

// Get returns k's value (the zero value when k is not there).
func (r Realised[V]) Get(k string) V {
	v, _ := r.Lookup(k)
	return v
}

// Len is the number of entries.
func (r Realised[V]) Len() int { return r.n }

// All yields every entry, in no order.
func (r Realised[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for k, o := range r.over {
			if !o.del && !yield(k, o.v) {
				return
			}
		}
		for k, v := range r.base {
			if _, ok := r.over[k]; !ok && !yield(k, v) {
				return
			}
		}
	}
}

// Map returns the entries in a new map.
func (r Realised[V]) Map() map[string]V {
	m := make(map[string]V, r.n)
	for k, v := range r.All() {
		m[k] = v
	}
	return m
}

// Equal reports whether r and o hold the same entries.
func (r Realised[V]) Equal(o Realised[V]) bool {
	if r.n != o.n {
		return false
	}
	for k, v := range r.All() {
		if w, ok := o.Lookup(k); !ok || w != v {
			return false
		}
	}
	return true
}

// owner says what of a Realised a pass may change in place: nothing (it is a Status
// already answered, or the memo's), its overlay (copied), or all of it (made by the pass).
type owner int

const (
	ownNothing owner = iota
	ownOverlay
	ownAll
)

// newRealised is an empty Realised for n entries, all the pass's (ownAll).
func newRealised[V comparable](n int) Realised[V] {
	return Realised[V]{base: make(map[string]V, n)}
}

// set sets k to v, or deletes k (del), in *r, of which the pass owns *own: its overlay is
// copied before the pass first changes it, never its base, unless the base is the pass's
// own. A change that changes nothing copies nothing.
func (r *Realised[V]) set(own *owner, k string, v V, del bool) {
	old, had := r.Lookup(k)
	if (del && !had) || (!del && had && old == v) {
		return
	}
	switch {
	case del:
		r.n--
	case !had:
		r.n++
	}
	if *own == ownAll && len(r.over) == 0 {
		if r.base == nil {
			r.base = map[string]V{}
		}
		if del {
			delete(r.base, k)
		} else {
			r.base[k] = v
		}
		return
	}
	if *own == ownNothing {
		r.over, *own = maps.Clone(r.over), ownOverlay
		if r.over == nil {
			r.over = map[string]overlaid[V]{}
		}
	}
	if b, inBase := r.base[k]; (del && !inBase) || (!del && inBase && b == v) {
		delete(r.over, k) // back to the base's
	} else {
		r.over[k] = overlaid[V]{v: v, del: del}
	}
	if len(r.over) > 8 && len(r.over)*len(r.over) > 4*len(r.base) {
		r.fold()
		*own = ownAll
	}
}

// fold makes a new base of r's entries and drops its overlay.
func (r *Realised[V]) fold() {
	base := make(map[string]V, r.n)
	maps.Copy(base, r.base)
	for k, o := range r.over {
		if o.del {
			delete(base, k)
		} else {
			base[k] = o.v
		}
	}
	r.base, r.over = base, nil
}

// String prints the entries as a map does, sorted.
func (r Realised[V]) String() string { return fmt.Sprint(r.Map()) }
