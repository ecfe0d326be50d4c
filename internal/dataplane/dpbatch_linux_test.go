package dataplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
)

// TestDatapathBatchRefused: a pass whose batch of the datapath's elements the kernel
// refuses (the pass sends it while it makes the new ENI's port) reports the error and
// leaves the ENI out of its Status, however far its port got; the next pass loads the
// ruleset whole and realises the ENI, which is then reached.
func TestDatapathBatchRefused(t *testing.T) {
	p := newTestPlane(t)
	base := baseDesired()
	reconcileStable(t, p, base)
	up := base
	up.Instances = append(slices.Clone(base.Instances), Instance{ID: "i-x", Running: true})
	up.ENIs = append(slices.Clone(base.ENIs), ENI{ID: "eni-x", MAC: "02:00:00:00:01:99", SubnetID: "subnet-a",
		VPCID: "vpc-1", PrimaryIP: "10.0.1.99", InstanceID: "i-x", SourceDestCheck: true, Groups: []string{"sg-open"}})

	// The bridge table deleted behind the plane's back, and the plane made to take the
	// ruleset's generation for its own (else it would load the ruleset whole): the
	// pass's batch adds to a table that is not there.
	withNFT(t, p.DatapathNS(), func(c *nftables.Conn) {
		c.DelTable(&nftables.Table{Name: p.Prefix(), Family: nftables.TableFamilyBridge})
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	})
	p.mu.Lock()
	gen, err := p.cache.dp.nftGen()
	p.dpGen.Store(uint64(gen) + 1)
	p.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

	st, err := p.Reconcile(context.Background(), up)
	if err == nil || !strings.Contains(err.Error(), "datapath") {
		t.Fatalf("the pass whose datapath batch was refused: %v, want the datapath's error", err)
	}
	if _, ok := st.ENIs.Lookup("eni-x"); ok {
		t.Fatal("eni-x realised, its elements not loaded")
	}
	if st = reconcile(t, p, up); st.ENIs.Get("eni-x") != "i-x" {
		t.Fatalf("the next pass: eni-x realised in %q, want i-x", st.ENIs.Get("eni-x"))
	}
	reconcileStable(t, p, up)
	serveTCP(t, p, p.InstanceNS("i-x"), 80, "x")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.99:80", "x")
}

// TestGoPass: what goPass runs hands its error to join, and its panic to join's caller
// (the pass's goroutine, whose panics the agent recovers).
func TestGoPass(t *testing.T) {
	if err := goPass(func() error { return nil })(); err != nil {
		t.Fatalf("nil: %v", err)
	}
	want := errors.New("refused")
	if err := goPass(func() error { return want })(); err != want {
		t.Fatalf("an error: %v, want %v", err, want)
	}
	defer func() {
		if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "boom") {
			t.Fatalf("join's panic: %v, want boom's", v)
		}
	}()
	join := goPass(func() error { panic("boom") })
	_ = join()
	t.Fatal("join did not panic")
}
