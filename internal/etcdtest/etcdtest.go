// Package etcdtest starts embedded etcd members (go.etcd.io/etcd/server/v3/embed)
// on loopback ports, in a temporary directory, for tests and benchmarks.
package etcdtest

import (
	"testing"

	"github.com/eni-net/eni/internal/etcdembed"
)

// MaxTxnOps is the members' --max-txn-ops: room for the largest change
// sets of the tests (etcd's default is 128).
const MaxTxnOps = etcdembed.MaxTxnOps

// Cluster is a running embedded etcd cluster.
type Cluster = etcdembed.Cluster

// Start starts an n-member cluster in dir (t.TempDir() if empty) and stops
// it when the test ends.
func Start(tb testing.TB, n int) *Cluster {
	tb.Helper()
	var c *Cluster
	var err error
	for attempt := 0; attempt < 3; attempt++ { // a port taken between pick and bind: again
		if c, err = etcdembed.Start(tb.TempDir(), n); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatalf("embedded etcd: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}
