package dataplane

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
)

// TestRealisedPasses: passes that each change a few entries of the last pass's Realised
// (as the plane's patched passes do) hold what a plain map would, every Realised already
// answered stays as it was, and the overlay a pass copies stays within 2√n entries.
func TestRealisedPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 2000
	base := map[string]string{}
	for i := range n {
		base[fmt.Sprintf("eni-%d", i)] = fmt.Sprintf("i-%d", i%50)
	}
	cur, want := RealisedOf(maps.Clone(base)), maps.Clone(base)
	type answered struct {
		r    Realised[string]
		want map[string]string
	}
	var kept []answered
	for pass := range 3000 {
		own := ownNothing
		next := cur
		for range 1 + rng.IntN(3) {
			k := fmt.Sprintf("eni-%d", rng.IntN(n+200)) // some not there yet
			switch rng.IntN(4) {
			case 0:
				next.set(&own, k, "", true)
				delete(want, k)
			case 1:
				next.set(&own, k, want[k], false) // no change when there: nothing copied
				if _, ok := want[k]; !ok {
					want[k] = ""
				}
			default:
				v := fmt.Sprintf("i-%d", rng.IntN(50))
				next.set(&own, k, v, false)
				want[k] = v
			}
		}
		if len(next.over)*len(next.over) > 4*len(next.base) && len(next.over) > 9 {
			t.Fatalf("pass %d: overlay of %d over a base of %d", pass, len(next.over), len(next.base))
		}
		if pass%100 == 0 {
			kept = append(kept, answered{cur, maps.Clone(mapOf(cur))})
		}
		cur = next
		if got := mapOf(cur); !maps.Equal(got, want) || cur.Len() != len(want) {
			t.Fatalf("pass %d: %d entries (Len %d), want %d", pass, len(got), cur.Len(), len(want))
		}
	}
	for i, a := range kept {
		if got := mapOf(a.r); !maps.Equal(got, a.want) || a.r.Len() != len(a.want) {
			t.Fatalf("Realised answered by pass %d changed since", i*100)
		}
	}
	if !cur.Equal(RealisedOf(want)) || cur.Equal(RealisedOf(base)) {
		t.Fatal("Equal")
	}
}

// TestRealisedOwnAll: a Realised a pass made itself takes its entries in place (a full
// pass sets thousands: no overlay to fold), then is shared like any other.
func TestRealisedOwnAll(t *testing.T) {
	r, own := newRealised[bool](0), ownAll
	for i := range 5000 {
		r.set(&own, fmt.Sprint(i), true, false)
	}
	if r.over != nil || r.Len() != 5000 || !r.Get("4999") {
		t.Fatalf("over %d, len %d", len(r.over), r.Len())
	}
	answered, own2 := r, ownNothing
	r.set(&own2, "1", false, true)
	r.set(&own2, "x", true, false)
	if _, ok := answered.Lookup("1"); !ok || answered.Get("x") || answered.Len() != 5000 {
		t.Fatal("a shared Realised changed")
	}
	if _, ok := r.Lookup("1"); ok || !r.Get("x") || r.Len() != 5000 || len(r.over) != 2 {
		t.Fatalf("over %v, len %d", r.over, r.Len())
	}
	var zero Realised[string]
	if zero.Len() != 0 || zero.Get("a") != "" || fmt.Sprint(zero) != "map[]" {
		t.Fatal("zero Realised")
	}
}

func mapOf[V comparable](r Realised[V]) map[string]V {
	m := map[string]V{}
	for k, v := range r.All() {
		if _, dup := m[k]; dup {
			panic("All yielded " + k + " twice")
		}
		m[k] = v
	}
	return m
}
