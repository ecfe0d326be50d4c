package core

import (
	"maps"
	"strings"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// disk is a store for tests: change sets reach it only while it is up.
type disk struct {
	recs map[string][]byte // kind/region/id
	down bool
}

func (d *disk) commit(cs ChangeSet) (func() error, error) {
	if d.down {
		return nil, nil // queued, never to be durable: the failed batch
	}
	for _, c := range cs.Changes {
		if c.Value == nil {
			delete(d.recs, c.Kind+"/"+c.Key)
		} else {
			d.recs[c.Kind+"/"+c.Key] = c.Value
		}
	}
	return nil, nil
}

func (d *disk) load(fn func(kind, key string, val []byte) error) error {
	for k, v := range d.recs {
		kind, key, _ := strings.Cut(k, "/")
		if err := fn(kind, key, v); err != nil {
			return err
		}
	}
	return nil
}

// Issue 9: after a failed commit the model is reloaded from what is on disk:
// what never got there is gone, from every region, indexes included.
func TestReloadDiscardsWhatIsNotOnDisk(t *testing.T) {
	c := newTestCore(t)
	d := &disk{recs: map[string][]byte{}}
	vpc := func(who Caller, cidr string) string {
		t.Helper()
		var id string
		if err := c.Write(who, false, d.commit, func(tx *Tx) error {
			out, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p(cidr)})
			if err == nil {
				id = *out.Vpc.VpcId
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	kept := vpc(testCaller, "10.1.0.0/16")
	onDisk := c.Dump()
	d.down = true
	lost := vpc(testCaller, "10.2.0.0/16")
	vpc(Caller{Account: "123456789012", Region: "eu-west-1"}, "10.3.0.0/16") // a region that never reached the disk
	d.down = false
	n, err := c.Reload(d.load)
	if err != nil || n != len(d.recs) {
		t.Fatalf("reload: %d records, %v; want %d", n, err, len(d.recs))
	}
	if got := c.Dump(); !maps.Equal(got, onDisk) {
		t.Fatalf("after reload the model is not the disk:\n got %d records\nwant %d", len(got), len(onDisk))
	}
	if errs := c.Check(); len(errs) > 0 {
		t.Fatalf("invariants: %v", errs)
	}
	_ = view(t, c, func(tx *Tx) error {
		if tx.vpcs.Get(kept) == nil || tx.vpcs.Get(lost) != nil {
			t.Fatalf("kept %v, lost %v", tx.vpcs.Get(kept) != nil, tx.vpcs.Get(lost) != nil)
		}
		return nil
	})
	// Writes go on from the disk's state; the emptied region starts again.
	vpc(testCaller, "10.2.0.0/16")
	vpc(Caller{Account: "123456789012", Region: "eu-west-1"}, "10.3.0.0/16")
}
