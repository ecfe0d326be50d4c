package dataplane

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
)

// newACLPlane is newTestPlane with a prefix of the ACL tests' own ("na…").
func newACLPlane(tb testing.TB) *Plane {
	tb.Helper()
	requireNetAdmin(tb)
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	prefix := "na"
	for _, c := range b {
		prefix += string(chars[int(c)%len(chars)])
	}
	p, err := New(Options{Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Teardown(context.Background()); err != nil {
			tb.Errorf("teardown: %v", err)
		}
		if left, _ := listNS(prefix); len(left) > 0 {
			tb.Errorf("namespaces left after teardown: %v", left)
		}
	})
	return p
}

func aclAllowAll() []ACLEntry {
	return []ACLEntry{
		{RuleNumber: 100, Protocol: "-1", Allow: true, CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1, ICMPType: -1, ICMPCode: -1},
		{RuleNumber: 101, Protocol: "-1", Allow: true, CIDR: "::/0", FromPort: -1, ToPort: -1, ICMPType: -1, ICMPCode: -1},
	}
}

func aclTCP(n int, allow bool, cidr string, from, to int) ACLEntry {
	return ACLEntry{RuleNumber: n, Protocol: "6", Allow: allow, CIDR: cidr, FromPort: from, ToPort: to, ICMPType: -1, ICMPCode: -1}
}

// aclDesired is baseDesired with the default ACL (allow all) on both subnets.
func aclDesired() Desired {
	d := baseDesired()
	for i := range d.VPCs[0].Subnets {
		d.VPCs[0].Subnets[i].ACL = &NetworkACL{Inbound: aclAllowAll(), Outbound: aclAllowAll()}
	}
	return d
}

func setACL(d *Desired, subnet string, in, out []ACLEntry) {
	for i, s := range d.VPCs[0].Subnets {
		if s.ID == subnet {
			d.VPCs[0].Subnets[i].ACL = &NetworkACL{Inbound: in, Outbound: out}
		}
	}
}

// reconcileACL applies a change of one subnet's ACL and checks that the pass changed
// that and nothing else (the router's other tables and links stay; nothing looks drifted).
func reconcileACL(t *testing.T, p *Plane, d Desired) {
	t.Helper()
	if st := reconcile(t, p, d); st.Changes != 1 {
		t.Fatalf("ACL change made %d changes, want 1 (the ACL table only)", st.Changes)
	}
	if p.drifted() {
		t.Fatal("the plane's own ACL change looks like drift")
	}
}

// TestNetworkACL: a subnet's ACL filters what enters and leaves it through the VPC router,
// stateless, in rule-number order, first match deciding, everything else denied; traffic
// within the subnet is not filtered; a change rewrites the ACL table only; a table deleted
// behind the plane's back is noticed and loaded again.
func TestNetworkACL(t *testing.T) {
	p := newACLPlane(t)
	d := aclDesired()
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "web")
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80", "web") // default ACL: all allowed

	// Deny TCP 80 from subnet B into A at 90, before the allow-all at 100.
	setACL(&d, "subnet-a", append([]ACLEntry{aclTCP(90, false, "10.0.2.0/24", 80, 80)}, aclAllowAll()...), aclAllowAll())
	reconcileACL(t, p, d)
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.10:80", "web") // within subnet A: not filtered

	// The same deny numbered 110, after the allow-all: the allow matches first.
	setACL(&d, "subnet-a", append(aclAllowAll(), aclTCP(110, false, "10.0.2.0/24", 80, 80)), aclAllowAll())
	reconcileACL(t, p, d)
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80", "web")

	// Stateless: A's outbound must allow the replies, to the client's ephemeral port.
	setACL(&d, "subnet-a", aclAllowAll(), []ACLEntry{aclTCP(100, true, "10.0.2.0/24", 1024, 65535)})
	reconcileACL(t, p, d)
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80", "web")
	setACL(&d, "subnet-a", aclAllowAll(), []ACLEntry{aclTCP(100, true, "10.0.2.0/24", 80, 80)})
	reconcileACL(t, p, d)
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80")

	// B's outbound applies too (the packet leaves B): an ACL with no entries denies all.
	setACL(&d, "subnet-a", aclAllowAll(), aclAllowAll())
	setACL(&d, "subnet-b", aclAllowAll(), nil)
	if st := reconcile(t, p, d); st.Changes != 1 {
		t.Fatalf("two subnets' ACL change made %d changes, want 1 batch", st.Changes)
	}
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80")
	if vs := verify(t, p, d); vs.Changes != 0 {
		t.Fatalf("verify after ACL changes made %d changes, want 0", vs.Changes)
	}

	// Someone deletes the ACL table by hand: noticed, loaded again.
	withNFT(t, p.RouterNS("vpc-1"), func(c *nftables.Conn) {
		c.DelTable(&nftables.Table{Name: aclTableName(p.Prefix()), Family: nftables.TableFamilyINet})
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	})
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80", "web")
	if !p.drifted() {
		t.Fatal("deleting the ACL table is not seen as drift")
	}
	reconcile(t, p, d)
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80")

	// No ACL on B any more: not filtered.
	for i := range d.VPCs[0].Subnets {
		if d.VPCs[0].Subnets[i].ID == "subnet-b" {
			d.VPCs[0].Subnets[i].ACL = nil
		}
	}
	reconcileStable(t, p, d)
	mustReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80", "web")
}

func withNFT(t *testing.T, nsname string, fn func(c *nftables.Conn)) {
	t.Helper()
	ns, err := openNS(nsname)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		t.Fatal(err)
	}
	fn(c)
}

// tcpEcho serves, in the namespace, connections that echo every line.
func tcpEcho(t *testing.T, p *Plane, nsname string, port int) {
	t.Helper()
	var ln net.Listener
	if err := p.Do(nsname, func() (err error) { ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port)); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(l)); err != nil {
						return
					}
				}
			}()
		}
	}()
}

// TestNetworkACLExistingFlow: a deny applies to the next packet of a connection that is
// already open (nothing is stateful), and an allow lets it go on.
func TestNetworkACLExistingFlow(t *testing.T) {
	p := newACLPlane(t)
	d := aclDesired()
	reconcileStable(t, p, d)
	tcpEcho(t, p, p.InstanceNS("i-web"), 22) // sg-web admits 22 from subnet B
	var c net.Conn
	if err := p.Do(p.InstanceNS("i-c"), func() (err error) {
		c, err = net.DialTimeout("tcp", "10.0.1.10:22", passTimeout)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	seq := 0
	echo := func(wait time.Duration) error {
		seq++
		want := fmt.Sprintf("%d\n", seq)
		if _, err := c.Write([]byte(want)); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		for {
			got, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if got == want {
				return nil
			}
		}
	}
	for i := 0; i < 5; i++ {
		if err := echo(passTimeout); err != nil {
			t.Fatalf("echo before the change: %v", err)
		}
	}
	deny := aclTCP(90, false, "10.0.2.0/24", 22, 22)
	setACL(&d, "subnet-a", slices.Insert(aclAllowAll(), 0, deny), aclAllowAll())
	reconcileACL(t, p, d)
	if err := echo(failTimeout * 2); err == nil {
		t.Fatal("the open connection still echoes after the deny")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("echo after the deny: %v, want a timeout", err)
	}
	setACL(&d, "subnet-a", aclAllowAll(), aclAllowAll())
	reconcileACL(t, p, d)
	// TCP retransmits what was lost (with back-off): the echo arrives.
	if err := echo(20 * time.Second); err != nil && !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("echo after the allow: %v", err)
	} else if err != nil {
		t.Fatal("the connection did not resume after the allow")
	}
}

// TestNetworkACLAfterRestart: a new plane (a restarted server) on the namespaces of the old
// one enforces the ACLs from its first pass and changes them incrementally after it.
func TestNetworkACLAfterRestart(t *testing.T) {
	p := newACLPlane(t)
	d := aclDesired()
	setACL(&d, "subnet-a", append([]ACLEntry{aclTCP(90, false, "10.0.2.0/24", 80, 80)}, aclAllowAll()...), aclAllowAll())
	reconcileStable(t, p, d)
	serveTCP(t, p, p.InstanceNS("i-web"), 80, "web")
	mustNotReach(t, p, p.InstanceNS("i-c"), "10.0.1.10:80")

	p2, err := New(Options{Prefix: p.Prefix()})
	if err != nil {
		t.Fatal(err)
	}
	reconcileStable(t, p2, d)
	mustNotReach(t, p2, p2.InstanceNS("i-c"), "10.0.1.10:80")
	setACL(&d, "subnet-a", aclAllowAll(), aclAllowAll())
	reconcileACL(t, p2, d)
	mustReach(t, p2, p2.InstanceNS("i-c"), "10.0.1.10:80", "web")
}
