package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/eni-net/eni/internal/agent"
	"github.com/eni-net/eni/internal/dataplane"
)

// passLog wraps the agent's plane and records every pass: when it began and
// ended, and where it wanted and realised one watched ENI.
type passLog struct {
	inner agent.Realiser
	eni   string

	mu     sync.Mutex
	passes []passRec
}

type passRec struct {
	begin, end time.Time
	full       bool
	want, got  string // the watched ENI's instance in the Desired and in the Status
	changes    int
	err        error
}

func (l *passLog) Reconcile(ctx context.Context, d dataplane.Desired) (dataplane.Status, error) {
	return l.record(ctx, d, false)
}

func (l *passLog) Verify(ctx context.Context, d dataplane.Desired) (dataplane.Status, error) {
	return l.record(ctx, d, true)
}

func (l *passLog) record(ctx context.Context, d dataplane.Desired, full bool) (dataplane.Status, error) {
	rec := passRec{begin: time.Now(), full: full}
	for _, e := range d.ENIs {
		if e.ID == l.eni {
			rec.want = e.InstanceID
		}
	}
	realise := l.inner.Reconcile
	if v, ok := l.inner.(agent.Verifier); ok && full {
		realise = v.Verify
	}
	st, err := realise(ctx, d)
	rec.end, rec.got, rec.changes, rec.err = time.Now(), st.ENIs.Get(l.eni), st.Changes, err
	l.mu.Lock()
	l.passes = append(l.passes, rec)
	l.mu.Unlock()
	return st, err
}

// realisedAt is the end of the first pass that began after since and realised
// the ENI in inst.
func (l *passLog) realisedAt(since time.Time, inst string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.passes {
		if p.begin.After(since) && p.got == inst {
			return p.end, true
		}
	}
	return time.Time{}, false
}

// since describes the passes that ended after t, relative to t.
func (l *passLog) since(t time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, p := range l.passes {
		if p.end.Before(t) {
			continue
		}
		fmt.Fprintf(&b, "\n  pass %+.1f..%+.1f ms full=%v want=%q got=%q changes=%d err=%v",
			ms(p.begin.Sub(t)), ms(p.end.Sub(t)), p.full, p.want, p.got, p.changes, p.err)
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// udpProber sends a datagram to a target every millisecond from one socket
// (one flow, as a client's would be) and records when each responder answered.
type udpProber struct {
	conn *net.UDPConn
	to   *net.UDPAddr
	stop chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	first map[string]time.Time // since the last reset
	last  map[string]time.Time
}

func (e *env) startUDPProber(nsname, addr string) *udpProber {
	e.t.Helper()
	pr := &udpProber{stop: make(chan struct{}), first: map[string]time.Time{}, last: map[string]time.Time{}}
	var err error
	pr.to, err = net.ResolveUDPAddr("udp", addr)
	e.must(err)
	e.must(e.plane.Do(nsname, func() error {
		var err error
		pr.conn, err = net.ListenUDP("udp", &net.UDPAddr{})
		return err
	}))
	pr.wg.Add(2)
	go func() {
		defer pr.wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-pr.stop:
				return
			case <-tick.C:
				_, _ = pr.conn.WriteToUDP([]byte("?"), pr.to) // a lost probe is what is measured
			}
		}
	}()
	go func() {
		defer pr.wg.Done()
		buf := make([]byte, 64)
		for {
			n, _, err := pr.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			now, name := time.Now(), string(buf[:n])
			pr.mu.Lock()
			if _, ok := pr.first[name]; !ok {
				pr.first[name] = now
			}
			pr.last[name] = now
			pr.mu.Unlock()
		}
	}()
	e.t.Cleanup(func() {
		close(pr.stop)
		_ = pr.conn.Close()
		pr.wg.Wait()
	})
	return pr
}

func (pr *udpProber) reset() {
	pr.mu.Lock()
	pr.first = map[string]time.Time{}
	pr.mu.Unlock()
}

func (pr *udpProber) firstSeen(name string) (time.Time, bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	t, ok := pr.first[name]
	return t, ok
}

func (pr *udpProber) lastSeen(name string) time.Time {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.last[name]
}

// echoUDP answers every datagram to addr with name; it binds before the
// address exists in the namespace (IP_FREEBIND), so it answers as soon as the
// address arrives.
func (e *env) echoUDP(nsname, addr, name string) {
	e.t.Helper()
	var c net.PacketConn
	e.must(e.plane.Do(nsname, func() error {
		lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
			})
			return errors.Join(err, serr)
		}}
		var err error
		c, err = lc.ListenPacket(context.Background(), "udp4", addr)
		return err
	}))
	e.t.Cleanup(func() { _ = c.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			_, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteTo([]byte(name), from)
		}
	}()
}

// launchMany launches n instances with one RunInstances call and waits until
// every one is running; it returns their ids, sorted.
func (e *env) launchMany(subnet string, n int, groups ...string) []string {
	e.t.Helper()
	out, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)), SubnetId: aws.String(subnet), SecurityGroupIds: groups})
	e.must(err)
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, *i.InstanceId)
	}
	slices.Sort(ids)
	e.waitFor(fmt.Sprintf("%d instances running", n), func() (bool, string) {
		out, err := e.ec2.DescribeInstances(ctx(), &ec2.DescribeInstancesInput{Filters: []types.Filter{
			{Name: aws.String("instance-state-name"), Values: []string{"pending"}}}})
		e.must(err)
		pending := 0
		for _, r := range out.Reservations {
			pending += len(r.Instances)
		}
		return pending == 0, fmt.Sprintf("%d pending", pending)
	})
	return ids
}

// moveState describes what the kernel holds about a moving ENI: the bridge's
// forwarding entries for its MAC, the datapath's host ends, the instance ends
// in its old and new owner, the peer's and the router's neighbour entries for
// its address, and the datapath's tracked connections to or from it.
func (e *env) moveState(mac, ip, vpc string, insts ...string) string {
	var b strings.Builder
	in := func(nsname string, fn func(h *netlink.Handle)) {
		h, err := netlinkNS(nsname)
		if err != nil {
			fmt.Fprintf(&b, "\n  %s: %v", nsname, err)
			return
		}
		defer h.Close()
		fn(h)
	}
	in(e.plane.DatapathNS(), func(h *netlink.Handle) {
		links, _ := h.LinkList()
		names := map[int]string{}
		for _, l := range links {
			a := l.Attrs()
			names[a.Index] = a.Name
			if strings.HasPrefix(a.Name, e.prefix+"e") || strings.HasPrefix(a.Name, e.prefix+"f") || strings.HasPrefix(a.Name, e.prefix+"x") {
				fmt.Fprintf(&b, "\n  datapath link %s idx %d master %d %s oper %s", a.Name, a.Index, a.MasterIndex, a.Flags, a.OperState)
			}
		}
		fdb, err := h.NeighList(0, unix.AF_BRIDGE)
		if err != nil {
			fmt.Fprintf(&b, "\n  fdb: %v", err)
		}
		for _, n := range fdb {
			if strings.EqualFold(n.HardwareAddr.String(), mac) {
				fmt.Fprintf(&b, "\n  fdb %s on %s (idx %d) state %#x flags %#x", n.HardwareAddr, names[n.LinkIndex], n.LinkIndex, n.State, n.Flags)
			}
		}
		flows, err := h.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET)
		if err != nil {
			fmt.Fprintf(&b, "\n  conntrack: %v", err)
		}
		for _, f := range flows {
			if f.Forward.SrcIP.String() == ip || f.Forward.DstIP.String() == ip {
				fmt.Fprintf(&b, "\n  conntrack %s mark %#x", f, f.Mark)
			}
		}
	})
	for _, id := range insts {
		in(e.plane.InstanceNS(id), func(h *netlink.Handle) {
			links, _ := h.LinkList()
			for _, l := range links {
				a := l.Attrs()
				if l.Type() != "veth" {
					continue
				}
				addrs, _ := h.AddrList(l, netlink.FAMILY_V4)
				fmt.Fprintf(&b, "\n  %s: %s idx %d peer %d %s oper %s mac %s addrs %v", id, a.Name, a.Index, a.ParentIndex, a.Flags, a.OperState, a.HardwareAddr, addrs)
			}
			neighs, _ := h.NeighList(0, unix.AF_INET)
			for _, n := range neighs {
				if n.IP.String() == ip {
					fmt.Fprintf(&b, "\n  %s: neighbour %s lladdr %s state %#x", id, n.IP, n.HardwareAddr, n.State)
				}
			}
		})
	}
	in(e.plane.RouterNS(vpc), func(h *netlink.Handle) {
		neighs, _ := h.NeighList(0, unix.AF_INET)
		for _, n := range neighs {
			if n.IP.String() == ip {
				fmt.Fprintf(&b, "\n  router: neighbour %s lladdr %s state %#x", n.IP, n.HardwareAddr, n.State)
			}
		}
	})
	return b.String()
}

// netlinkNS returns a netlink handle bound to the named namespace.
func netlinkNS(nsname string) (*netlink.Handle, error) {
	ns, err := netns.GetFromPath(netnsDir + "/" + nsname)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	return netlink.NewHandleAt(ns)
}

// kernelTrace polls, every few milliseconds while a move is made, the two
// things a move must change in the datapath: which bridge port the ENI's MAC is
// learnt on, and the ct mark of the flows to its address (bits 0-15 the
// source ENI's number, 16-31 the destination's: 0 is the VPC router). It
// keeps the transitions, so that a failure shows how the state got there.
type kernelTrace struct {
	stop chan struct{}
	done chan struct{}
	log  []string
}

func (e *env) traceMove(mac, ip string, since time.Time) *kernelTrace {
	kt := &kernelTrace{stop: make(chan struct{}), done: make(chan struct{})}
	h, err := netlinkNS(e.plane.DatapathNS())
	if err != nil {
		kt.log = append(kt.log, err.Error())
		close(kt.done)
		return kt
	}
	go func() {
		defer close(kt.done)
		defer h.Close()
		last := ""
		for {
			var b strings.Builder
			names := map[int]string{}
			if links, err := h.LinkList(); err == nil {
				for _, l := range links {
					names[l.Attrs().Index] = l.Attrs().Name
				}
			}
			if fdb, err := h.NeighList(0, unix.AF_BRIDGE); err == nil {
				for _, n := range fdb {
					if strings.EqualFold(n.HardwareAddr.String(), mac) {
						fmt.Fprintf(&b, " fdb→%s", names[n.LinkIndex])
					}
				}
			}
			if flows, err := h.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET); err == nil {
				for _, f := range flows {
					if f.Forward.DstIP.String() == ip {
						fmt.Fprintf(&b, " ct %s:%d→%d mark %#x", f.Forward.SrcIP, f.Forward.SrcPort, f.Forward.DstPort, f.Mark)
					}
				}
			}
			if cur := b.String(); cur != last {
				kt.log = append(kt.log, fmt.Sprintf("%+.1f ms:%s", ms(time.Since(since)), cur))
				last = cur
			}
			select {
			case <-kt.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return kt
}

// end stops the trace and returns its transitions, relative to the attach reply.
func (kt *kernelTrace) end(attached, since time.Time) string {
	select {
	case <-kt.stop:
	default:
		close(kt.stop)
	}
	<-kt.done
	off := since.Sub(attached)
	var b strings.Builder
	for _, l := range kt.log {
		b.WriteString("\n  ")
		var t float64
		if _, err := fmt.Sscanf(l, "%f ms:", &t); err == nil {
			_, rest, _ := strings.Cut(l, ":")
			fmt.Fprintf(&b, "%+.1f ms:%s", t+ms(off), rest)
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// TestENIMovesLand: an ENI moved between two of many instances through the
// API (DetachNetworkInterface, then AttachNetworkInterface to the other) is
// answered by its new owner every time, probed from a third instance by one
// UDP flow every millisecond. Each move is timed from the attach reply to the
// pass that realised it and to the new owner's first answer; a move not
// answered fails the test with what the kernel holds about the ENI and how it
// changed during the move (one slower than 2 s, the measure, is logged so).
// ENI_MOVES_INSTANCES (default 20; the issue measured 300) instances are
// launched by one RunInstances; ENI_MOVES (default 20) moves are made.
func TestENIMovesLand(t *testing.T) {
	n := envInt("ENI_MOVES_INSTANCES", 20)
	moves := envInt("ENI_MOVES", 20)
	e := newEnv(t)
	log := &passLog{}
	e.stopAgent()
	e.startAgent(e.plane, func(r agent.Realiser) agent.Realiser { log.inner = r; return log })
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.0.0/20")
	open := e.sgOpen(vpc, "open", "10.0.0.0/16")
	ids := e.launchMany(subnet, n, open)
	a, b, peer := ids[0], ids[1], ids[2]
	x := e.createENI(subnet, open)
	id, ip, mac := *x.NetworkInterfaceId, *x.PrivateIpAddress, *x.MacAddress
	log.mu.Lock()
	log.eni = id
	log.mu.Unlock()
	e.echoUDP(e.plane.InstanceNS(a), ip+":7", a)
	e.echoUDP(e.plane.InstanceNS(b), ip+":7", b)
	att := e.attach(id, a, 1)
	pr := e.startUDPProber(e.plane.InstanceNS(peer), ip+":7")
	e.waitFor("the first owner answers", func() (bool, string) { _, ok := pr.firstSeen(a); return ok, "" })

	var toAnswer, toPass []time.Duration
	owner := a
	for i := range moves {
		to := b
		if owner == b {
			to = a
		}
		pr.reset()
		traceStart := time.Now()
		kt := e.traceMove(mac, ip, traceStart)
		e.detach(att)
		detached := time.Now()
		att = e.attach(id, to, 1)
		attached := time.Now()
		var answered time.Time
		for time.Since(attached) < eventually {
			if t, ok := pr.firstSeen(to); ok {
				answered = t
				break
			}
			time.Sleep(time.Millisecond)
		}
		if answered.IsZero() {
			t.Fatalf("move %d (%s → %s): no answer from the new owner within %s of the attach reply\n"+
				"detach reply at %+.1f ms; old owner last answered at %+.1f ms; state now:%s\npasses:%s\ndatapath, from the detach:%s",
				i, owner, to, eventually, ms(detached.Sub(attached)), ms(pr.lastSeen(owner).Sub(attached)),
				e.moveState(mac, ip, vpc, owner, to, peer), log.since(detached), kt.end(attached, traceStart))
		}
		if took := answered.Sub(attached); took > 2*time.Second {
			t.Logf("move %d (%s → %s): answered only after %.1f ms; datapath, from the detach:%s", i, owner, to, ms(took), kt.end(attached, traceStart))
		}
		kt.end(attached, traceStart)
		toAnswer = append(toAnswer, answered.Sub(attached))
		realised := "not seen"
		if r, ok := log.realisedAt(detached, to); ok {
			toPass = append(toPass, r.Sub(attached))
			realised = fmt.Sprintf("%+.1f ms", ms(r.Sub(attached)))
		}
		t.Logf("move %d: from the attach reply: detach reply %+.1f ms, pass realised it %s, new owner answered %+.1f ms; passes:%s",
			i, ms(detached.Sub(attached)), realised, ms(answered.Sub(attached)), log.since(detached))
		if last := pr.lastSeen(owner); last.After(attached) {
			t.Logf("move %d: the old owner %s answered %.1f ms after the attach reply", i, owner, ms(last.Sub(attached)))
		}
		owner = to
	}
	t.Logf("%d instances, %d moves: attach reply → pass realised it p50 %.1f ms max %.1f ms; → new owner's first answer p50 %.1f ms p90 %.1f ms max %.1f ms",
		n, moves, pct(toPass, 0.5), pct(toPass, 1), pct(toAnswer, 0.5), pct(toAnswer, 0.9), pct(toAnswer, 1))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func pct(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return -1
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return ms(s[int(q*float64(len(s)-1))])
}
