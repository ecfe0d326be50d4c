package core

import (
	"math/rand/v2"
	"testing"
	"time"
)

type testRand struct{ r *rand.ChaCha8 }

func (t *testRand) Read(b []byte) (int, error) { return t.r.Read(b) }

// newTestCore returns a core with a fixed clock and a seeded id source.
func newTestCore(t testing.TB) *Core {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return New(Env{Now: func() time.Time { return now }, Rand: &testRand{rand.NewChaCha8([32]byte{1})}}, DefaultConfig())
}

// testCaller is the default account in us-east-1.
var testCaller = Caller{Account: "123456789012", Region: "us-east-1"}

// mutate runs fn in a write transaction and commits it (no store).
func mutate(t testing.TB, c *Core, fn func(tx *Tx) error) error {
	t.Helper()
	return c.Write(testCaller, false, nil, fn)
}

// view runs fn in a read transaction.
func view(t testing.TB, c *Core, fn func(tx *Tx) error) error {
	t.Helper()
	return c.Read(testCaller, nil, fn)
}
