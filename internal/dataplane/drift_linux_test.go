package dataplane

import (
	"context"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// TestRulesetDrift: a security group chain of the datapath replaced by `accept`, the
// whole datapath ruleset flushed, the VPC router's guard opened and its NAT table flushed,
// each by someone else in the namespace: WatchDrift notices each well within 2 s, and the
// pass it asks for loads the plane's tables again.
func TestRulesetDrift(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 22, "ssh")
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "web")
	serveTCP(t, p, p.RouterNS("vpc-1"), 7777, "router")
	mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22")  // 10.0.1.11 is not in web's 22 rule
	mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.1:7777") // the router answers ICMP only
	mustReach(t, p, p.InternetNS(), "198.51.100.10:80", "web")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kicks := make(chan struct{}, 1)
	go p.WatchDrift(ctx, func() {
		select {
		case kicks <- struct{}{}:
		default:
		}
	})
	prof := p.cache.nftENI["eni-web"].prof.num // its profile's chains
	sg := &nftables.Table{Name: sgShardName(p.Prefix(), prof), Family: nftables.TableFamilyINet}
	rt := &nftables.Table{Name: p.Prefix() + "rt", Family: nftables.TableFamilyINet}
	for _, tc := range []struct {
		name   string
		ns     string
		damage func(c *nftables.Conn)
		real   func() // shows the damage is real
		healed func() // shows the repair
	}{
		{"group chain replaced by accept", p.DatapathNS(), func(c *nftables.Conn) {
			_, in := profileChainNames(prof)
			ch := &nftables.Chain{Name: in, Table: sg}
			c.FlushChain(ch)
			c.AddRule(&nftables.Rule{Table: sg, Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}})
		}, func() { mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22", "ssh") },
			func() { mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22") }},
		{"ruleset flushed", p.DatapathNS(), func(c *nftables.Conn) { c.FlushRuleset() },
			func() { mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22", "ssh") },
			func() { mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:22") }},
		{"router guard opened", p.RouterNS("vpc-1"), func(c *nftables.Conn) {
			c.FlushChain(&nftables.Chain{Name: "input", Table: rt})
		}, func() { mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.1:7777", "router") },
			func() { mustNotReach(t, p, p.InstanceNS("i-b"), "10.0.1.1:7777") }},
		{"router NAT flushed", p.RouterNS("vpc-1"), func(c *nftables.Conn) {
			c.DelTable(&nftables.Table{Name: p.Prefix() + "nat", Family: nftables.TableFamilyIPv4})
		}, func() { mustNotReach(t, p, p.InternetNS(), "198.51.100.10:80") },
			func() { mustReach(t, p, p.InternetNS(), "198.51.100.10:80", "web") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			select {
			case <-kicks: // a stale kick
			default:
			}
			ns, err := openNS(tc.ns)
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
			tc.real()
			select {
			case <-kicks:
				t.Logf("drift noticed after %v", time.Since(start))
			case <-time.After(2 * time.Second):
				t.Fatal("drift not noticed within 2 s")
			}
			if st := reconcile(t, p, d); st.Changes == 0 {
				t.Fatal("the pass after the kick changed nothing")
			}
			tc.healed()
			mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:80", "web")
			if p.drifted() {
				t.Fatal("drifted after the repair")
			}
		})
	}
}
