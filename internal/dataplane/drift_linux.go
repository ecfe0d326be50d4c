package dataplane

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	mdnetlink "github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Drift of the plane's nftables tables. What the plane enforces lives in two tables of
// the datapath namespace and, per VPC, in the router namespace's guard and NAT tables,
// which only the host's root can reach. Should anyone change them there (an
// administrator's `nft flush ruleset`, a firewall manager, a chain edited by hand), the
// plane notices within driftPoll and loads them again whole:
//
//   - the kernel counts every committed change of a namespace's ruleset (the nftables
//     generation id); the plane records the generation its own last change produced;
//   - every pass compares the namespace's generation with it (one netlink round trip) and
//     replaces the ruleset when another writer changed anything;
//   - WatchDrift listens to the datapath namespace's nftables notifications (as `nft
//     monitor` does) and polls every generation (datapath and routers) every driftPoll
//     besides, and asks for a pass (kick) as soon as one is not the plane's; a router
//     whose generation moved is rebuilt in that pass (guard and NAT tables replaced).
//
// (nftables' table flag `owner` would refuse such changes outright, but it binds the table
// to one netlink socket, and google/nftables v0.3.0 cannot set table flags.)

// driftPoll is how often WatchDrift reads the generation when no notification came.
const driftPoll = 500 * time.Millisecond

// endsTransaction reports whether m is the notification of a committed nftables
// transaction's end (NFT_MSG_NEWGEN).
func endsTransaction(m mdnetlink.Message) bool {
	return m.Header.Type == mdnetlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_NEWGEN)
}

// nftGenOn reads the nftables ruleset generation of the namespace c's socket is in.
func nftGenOn(c *mdnetlink.Conn) (uint32, error) {
	msgs, err := c.Execute(mdnetlink.Message{
		Header: mdnetlink.Header{Type: mdnetlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETGEN),
			Flags: mdnetlink.Request},
		Data: []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, 0},
	})
	if err != nil {
		return 0, fmt.Errorf("nftables generation: %w", err)
	}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := mdnetlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return 0, err
		}
		for ad.Next() {
			if ad.Type() == unix.NFTA_GEN_ID && len(ad.Bytes()) == 4 {
				return binary.BigEndian.Uint32(ad.Bytes()), nil
			}
		}
	}
	return 0, errors.New("nftables generation: no NFTA_GEN_ID in the reply")
}

// WatchDrift calls kick whenever the datapath ruleset was changed by anyone but the plane,
// until ctx ends: at once at the end of an nftables transaction there, and at the latest
// after driftPoll.
func (p *Plane) WatchDrift(ctx context.Context, kick func()) {
	notes := make(chan struct{}, 1)
	go p.listenRulesets(ctx, notes)
	t := time.NewTicker(driftPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-notes:
		}
		if p.drifted() {
			kick()
		}
	}
}

// drifted reports whether the datapath ruleset's generation, or a VPC router's, is not
// the one the plane's last change left (false when the plane has not written it yet, or
// it cannot be read: the pass itself then finds out).
func (p *Plane) drifted() bool {
	p.driftMu.Lock()
	defer p.driftMu.Unlock()
	if p.genSocks == nil {
		p.genSocks = genSockets{}
	}
	seen := map[string]bool{p.DatapathNS(): true}
	moved := p.genSocks.moved(p.DatapathNS(), p.dpGen.Load())
	p.routerGens.Range(func(name, want any) bool {
		seen[name.(string)] = true
		moved = moved || p.genSocks.moved(name.(string), want.(uint64))
		return true
	})
	for name := range p.genSocks {
		if !seen[name] {
			p.genSocks.drop(name)
		}
	}
	return moved
}

// genSockets are the drift check's netfilter sockets, one per namespace name, kept open
// between checks. Closing a netfilter socket makes the kernel finish every pending
// destruction of deleted ruleset objects (an RCU grace period: 10–30 ms on this machine
// kind) while it holds that namespace's nftables lock; a check that opened and closed a
// socket per namespace after each of the plane's changes (their notifications wake it)
// made the plane's next change wait for that.
type genSockets map[string]*genSocket

type genSocket struct {
	ino uint64 // the namespace's inode: a name given to a new namespace gets a new socket
	c   *mdnetlink.Conn
}

// moved reports whether the nftables generation of the named namespace is not want-1
// (want 0: not known; false when it cannot be read).
func (s genSockets) moved(name string, want uint64) bool {
	if want == 0 {
		return false
	}
	g, err := s.get(name)
	if err != nil {
		return false
	}
	n, err := nftGenOn(g.c)
	if err != nil {
		s.drop(name)
		return false
	}
	return uint64(n) != want-1
}

// get returns the socket of the namespace that has the name now.
func (s genSockets) get(name string) (*genSocket, error) {
	var st unix.Stat_t
	if err := unix.Stat(nsPath(name), &st); err != nil {
		s.drop(name)
		return nil, err
	}
	if g := s[name]; g != nil && g.ino == st.Ino {
		return g, nil
	}
	s.drop(name)
	ns, err := openNS(name)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	if err := unix.Fstat(int(ns), &st); err != nil {
		return nil, err
	}
	c, err := dialNetfilter(ns)
	if err != nil {
		return nil, err
	}
	g := &genSocket{ino: st.Ino, c: c}
	s[name] = g
	return g, nil
}

func (s genSockets) drop(name string) {
	if g := s[name]; g != nil {
		_ = g.c.Close()
		delete(s, name)
	}
}

// listenRulesets forwards the datapath namespace's nftables transactions to notes, once
// each (the subscription is made again whenever it fails, e.g. because the namespace is
// new). A transaction notifies each object it adds or deletes, then its end, with the
// generation it made (NFT_MSG_NEWGEN): only the end is forwarded, or the plane's own
// batches, which add a dozen objects an ENI, would have the drift check read every
// generation a dozen times, while the pass that made them runs.
func (p *Plane) listenRulesets(ctx context.Context, notes chan<- struct{}) {
	for ctx.Err() == nil {
		if err := p.listenOnce(ctx, notes); err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(driftPoll):
			}
		}
	}
}

func (p *Plane) listenOnce(ctx context.Context, notes chan<- struct{}) error {
	ns, err := openNS(p.DatapathNS())
	if err != nil {
		return err
	}
	c, err := dialNetfilter(ns)
	_ = ns.Close()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	defer c.Close()
	if err := c.JoinGroup(unix.NFNLGRP_NFTABLES); err != nil {
		return err
	}
	for {
		msgs, err := c.Receive()
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(msgs, endsTransaction) {
			continue // a transaction's objects: its end comes
		}
		select {
		case notes <- struct{}{}:
		default:
		}
	}
}
