package dataplane

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// TestRulesetDrift: a security group chain of the datapath replaced by `accept`, and the
// whole ruleset flushed, by someone else in the datapath namespace: WatchDrift notices each
// at once (well within 2 s) and the pass it asks for loads the plane's ruleset again.
func TestRulesetDrift(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 22, "ssh")
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "web")
	mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22") // 10.0.1.11 is not in web's 22 rule

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kicks := make(chan struct{}, 1)
	go p.WatchDrift(ctx, func() {
		select {
		case kicks <- struct{}{}:
		default:
		}
	})
	mark := p.cache.marks["eni-web"]
	for _, tc := range []struct {
		name   string
		damage func(c *nftables.Conn)
	}{
		{"group chain replaced by accept", func(c *nftables.Conn) {
			ch := &nftables.Chain{Name: fmt.Sprint("in_", mark), Table: &nftables.Table{Name: p.Prefix() + "sg", Family: nftables.TableFamilyINet}}
			c.FlushChain(ch)
			c.AddRule(&nftables.Rule{Table: ch.Table, Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}})
		}},
		{"ruleset flushed", func(c *nftables.Conn) { c.FlushRuleset() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			select {
			case <-kicks: // a stale kick
			default:
			}
			ns, err := openNS(p.DatapathNS())
			if err != nil {
				t.Fatal(err)
			}
			defer ns.Close()
			c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(c)
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22", "ssh") // the damage is real
			select {
			case <-kicks:
				t.Logf("drift noticed after %v", time.Since(start))
			case <-time.After(2 * time.Second):
				t.Fatal("drift not noticed within 2 s")
			}
			if st := reconcile(t, p, d); st.Changes == 0 {
				t.Fatal("the pass after the kick changed nothing")
			}
			mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22")
			mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:80", "web")
			if p.drifted() {
				t.Fatal("drifted after the repair")
			}
		})
	}
}
