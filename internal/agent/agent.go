// Package agent makes the model real on this host: it derives the desired
// data plane state from the core (core.HostView), has the data plane converge
// Linux to it, and writes back what came up (pending instances become
// running). It is level-based: every pass starts from the whole desired
// state, so a missed change, a crash or someone deleting an interface by hand
// is repaired by the next pass. One loop owns retries and backoff.
package agent

import (
	"context"
	"fmt"
	"strings"

	"encoding/base64"
	"log/slog"
	"os/exec"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/dataplane"
)

// Realiser is what the agent drives (dataplane.Plane on Linux; a fake in tests).
// Reconcile and Verify must not keep d's lists of ENIs and instances after they return:
// the agent makes the next pass's in the same memory (dataplane.Plane keeps a deep copy).
type Realiser interface {
	Reconcile(ctx context.Context, d dataplane.Desired) (dataplane.Status, error)
}

// Verifier is a Realiser with a full pass: Reconcile is then incremental (it
// touches only what changed) and Verify reads everything and repairs drift.
type Verifier interface {
	Verify(ctx context.Context, d dataplane.Desired) (dataplane.Status, error)
}

// Options configure an Agent.
type Options struct {
	Core   *core.Core
	Plane  Realiser
	Region string // the region this host realises
	// Account is the caller used for status write-backs (the default account).
	Account string
	// Commit persists the write-backs (the server's store).
	Commit core.Committer
	Logger *slog.Logger
	// Resync is the period of the drift pass (default 10s): a full pass (Verify)
	// when the Plane is a Verifier; kicks run an incremental Reconcile.
	Resync time.Duration
	// Registry, if set, receives the agent's metrics.
	Registry prometheus.Registerer
	// UserData runs each instance's user data once, as its start script,
	// when the instance first comes up (the Plane must be a Starter).
	UserData bool
	// Host, in a cluster (`eni agent`), is this host's name: the agent
	// realises what is placed on it (core.HostViewFor), the ENIs realised
	// on other hosts through Overlay, and hands what it realised to Report
	// instead of committing it (the API's writer settles it).
	Host    string
	Overlay *dataplane.Overlay // Local, UnderlayNS, Port, MTU; Remote is filled each pass
	Report  func(dataplane.Status)
}

// DriftWatcher is a Realiser that notices changes made behind its back: WatchDrift
// calls kick (until ctx ends) whenever what it realised was changed by someone else.
type DriftWatcher interface {
	WatchDrift(ctx context.Context, kick func())
}

// Starter starts a command inside an instance's namespace.
type Starter interface {
	Start(instanceID string, cmd *exec.Cmd) error
}

// The data plane must stay a Starter: runUserData finds it by a type
// assertion, so losing the method would silently stop user data.
var _ Starter = (*dataplane.Plane)(nil)

// Agent is the reconcile loop.
type Agent struct {
	opt  Options
	kick chan struct{}

	passes  *prometheus.CounterVec
	took    prometheus.Histogram
	changes prometheus.Counter

	mu      sync.Mutex
	last    dataplane.Status
	err     error
	runs    int
	started map[string]bool // instances whose user data ran
	begun   uint64          // passes begun (Settle)
	ended   uint64          // passes ended, however
	endErr  error           // the last pass's error, write-back included
	passed  chan struct{}   // closed (and replaced) when a pass ends
	// realised is closed (and replaced) when a pass has realised its model, before its
	// write-back: WaitRealised's waiters need not wait for that commit.
	realised chan struct{}
	// buf is the memory of the last pass's Desired, for the next (nil while a pass
	// has it): at 5,000 instances, 1.3 MB a pass made afresh cost a page fault every
	// 4 KiB of it whenever the heap grew, 3.5–4 ms of a move's pass.
	buf *desiredBuf
}

// desiredBuf is the memory of a Desired's lists.
type desiredBuf struct {
	enis  []dataplane.ENI
	insts []dataplane.Instance
}

// takeBuf is the memory for a pass's Desired (empty: another pass has it).
func (a *Agent) takeBuf() *desiredBuf {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.buf
	a.buf = nil
	if b == nil {
		b = &desiredBuf{}
	}
	return b
}

// putBuf gives the memory of d's lists back to the next pass, once d's pass is done.
func (a *Agent) putBuf(d *dataplane.Desired) {
	a.mu.Lock()
	a.buf = &desiredBuf{enis: d.ENIs[:0], insts: d.Instances[:0]}
	a.mu.Unlock()
}

// New returns an agent; Run starts it.
func New(opt Options) *Agent {
	if opt.Resync == 0 {
		opt.Resync = 10 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if _, ok := opt.Plane.(Starter); opt.UserData && !ok {
		opt.Logger.Warn("user data will not run: this data plane cannot start commands in an instance")
	}
	a := &Agent{opt: opt, kick: make(chan struct{}, 1), passed: make(chan struct{}), realised: make(chan struct{})}
	a.passes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eni_agent_reconciles_total", Help: "Data plane reconcile passes by kind (incremental, full) and result (ok, error).",
	}, []string{"kind", "result"})
	a.took = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "eni_agent_reconcile_seconds", Help: "Duration of data plane reconcile passes.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	})
	a.changes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "eni_agent_changes_total", Help: "Linux objects created, changed or removed by the data plane.",
	})
	if opt.Registry != nil {
		opt.Registry.MustRegister(a.passes, a.took, a.changes)
	}
	return a
}

// Kick asks for a reconcile soon; it never blocks.
func (a *Agent) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Run reconciles until ctx ends: after each Kick, every Resync, and with
// exponential backoff (up to 5s) after a failure; a Plane that is a
// DriftWatcher kicks it when its work is changed behind its back.
func (a *Agent) Run(ctx context.Context) {
	if w, ok := a.opt.Plane.(DriftWatcher); ok {
		go w.WatchDrift(ctx, a.Kick)
	}
	backoff := time.Duration(0)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		full := false
		select {
		case <-ctx.Done():
			return
		case <-a.kick:
		case <-timer.C:
			full = true // periodic resync, first pass, retry after a failure
		}
		err := a.pass(ctx, full)
		next := a.opt.Resync
		if err != nil {
			if backoff == 0 {
				backoff = 50 * time.Millisecond
			} else if backoff < 5*time.Second {
				backoff *= 2
			}
			next = backoff
			a.opt.Logger.Warn("reconcile failed", "err", err, "retry_in", backoff)
		} else {
			backoff = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// Once runs one reconcile pass and writes back what it realised.
func (a *Agent) Once(ctx context.Context) error { return a.pass(ctx, false) }

// pass runs one reconcile pass (full: Verify, when the Plane has it) and writes
// back what it realised.
func (a *Agent) pass(ctx context.Context, full bool) (err error) {
	defer func() {
		if r := recover(); r != nil { // a bug in one pass must not kill the server
			a.opt.Logger.Error("reconcile panicked", "panic", r)
			err = errPanic
		}
		a.mu.Lock()
		a.ended++
		a.endErr = err
		close(a.passed)
		a.passed = make(chan struct{})
		a.mu.Unlock()
	}()
	a.mu.Lock()
	a.begun++
	a.mu.Unlock()
	start := time.Now()
	hv := a.opt.Core.HostViewFor(a.opt.Region, a.opt.Host)
	defer a.opt.Core.ReturnHostView(a.opt.Region, hv) // its memory, the next pass's view's
	realise := a.opt.Plane.Reconcile
	if v, ok := a.opt.Plane.(Verifier); ok && full {
		realise = v.Verify
	}
	d := desiredOn(hv, a.opt.Overlay, a.takeBuf())
	st, err := realise(ctx, d)
	a.putBuf(&d)
	kind, result := "incremental", "ok"
	if full {
		kind = "full"
	}
	if err != nil {
		result = "error"
	}
	a.passes.WithLabelValues(kind, result).Inc()
	a.took.Observe(time.Since(start).Seconds())
	a.changes.Add(float64(st.Changes))
	a.mu.Lock()
	a.runs++
	a.err = err
	if err == nil {
		a.last = st
		close(a.realised)
		a.realised = make(chan struct{})
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	if st.Changes > 0 {
		a.opt.Logger.Info("reconciled", "changes", st.Changes, "instances", st.Instances.Len(), "enis", st.ENIs.Len(), "took", time.Since(start).String(), "slow", slowSteps(st.Slow))
	}
	if a.opt.Report != nil {
		a.opt.Report(st)
	} else if err := a.writeBack(st); err != nil {
		return err
	}
	if a.opt.UserData {
		a.runUserData(hv, st)
	}
	return nil
}

// writeBack commits what a pass realised (a single host: pending instances
// become running, attaching ENIs attached).
func (a *Agent) writeBack(st dataplane.Status) error {
	who := core.Caller{Account: a.opt.Account, Region: a.opt.Region}
	return a.opt.Core.Write(who, false, a.opt.Commit, func(tx *core.Tx) error {
		tx.MarkRealised(st.Instances, st.ENIs)
		return nil
	})
}

// runUserData starts the user data of instances that came up for the first
// time (as cloud-init does by default: once per instance, not per boot).
// It is remembered in memory only: after a server restart a running
// instance's script is not run again, since its namespace survived.
func (a *Agent) runUserData(hv core.HostView, st dataplane.Status) {
	starter, ok := a.opt.Plane.(Starter)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started == nil {
		a.started = map[string]bool{}
	}
	for _, i := range hv.Instances {
		if i.UserData == "" || a.started[i.ID] || !st.Instances.Get(i.ID) || i.State != "pending" {
			continue
		}
		a.started[i.ID] = true
		script, err := base64.StdEncoding.DecodeString(i.UserData)
		if err != nil {
			script = []byte(i.UserData) // the CLI sends it encoded; some clients do not
		}
		cmd := exec.Command("/bin/sh", "-c", string(script))
		log := a.opt.Logger.With("instance", i.ID)
		if err := starter.Start(i.ID, cmd); err != nil {
			log.Warn("user data did not start", "err", err)
			continue
		}
		log.Info("user data started", "pid", cmd.Process.Pid)
		go func() {
			err := cmd.Wait()
			log.Info("user data finished", "err", err)
		}()
	}
}

// Settle kicks a pass and waits until one that began after the call has
// ended (the model as it is now realised, or failed to be: its error), or ctx
// ends. The server's reset waits on it. Run must be running.
func (a *Agent) Settle(ctx context.Context) error {
	a.mu.Lock()
	want := a.begun + 1
	a.mu.Unlock()
	a.Kick()
	for {
		a.mu.Lock()
		ended, passed, err := a.ended, a.passed, a.endErr
		a.mu.Unlock()
		if ended >= want {
			return err
		}
		select {
		case <-passed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitRealised waits until a pass has brought the instance (or task) up, or
// ctx ends, and says whether one has. It answers once the pass has realised
// it, without waiting for the pass's write-back.
func (a *Agent) WaitRealised(ctx context.Context, id string) bool {
	for {
		a.mu.Lock()
		up, realised := a.last.Instances.Get(id), a.realised
		a.mu.Unlock()
		if up {
			return true
		}
		select {
		case <-realised:
		case <-ctx.Done():
			return false
		}
	}
}

// Realised reports whether the last pass brought the instance (or task) up.
func (a *Agent) Realised(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last.Instances.Get(id)
}

type panicError struct{}

func (panicError) Error() string { return "agent: reconcile panicked" }

var errPanic error = panicError{}

// Status returns the last realised status and the last error.
func (a *Agent) Status() (dataplane.Status, int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last, a.runs, a.err
}

// DesiredOn is Desired on a host of a cluster: ENIs realised on other hosts
// go to the overlay (a copy of ov with its Remote filled); ov nil: Desired.
func DesiredOn(hv core.HostView, ov *dataplane.Overlay) dataplane.Desired {
	return desiredOn(hv, ov, &desiredBuf{})
}

// desiredOn is DesiredOn, its lists of ENIs and instances made in buf's memory.
func desiredOn(hv core.HostView, ov *dataplane.Overlay, buf *desiredBuf) dataplane.Desired {
	d := desired(hv, buf)
	if ov == nil {
		return d
	}
	o := *ov
	o.Remote, o.Hosts = nil, hv.Underlays
	local := d.ENIs[:0]
	for i, e := range d.ENIs {
		if r := hv.ENIs[i].Remote; r != "" {
			o.Remote = append(o.Remote, dataplane.RemoteENI{ENI: e, Host: r})
			continue
		}
		local = append(local, e)
	}
	d.ENIs = local
	d.Overlay = &o
	return d
}

// Desired translates the model's host view into the data plane's input.
func Desired(hv core.HostView) dataplane.Desired { return desired(hv, &desiredBuf{}) }

// desired is Desired, its lists of ENIs and instances made in buf's memory.
func desired(hv core.HostView, buf *desiredBuf) dataplane.Desired {
	var d dataplane.Desired
	for _, v := range hv.VPCs {
		dv := dataplane.VPC{ID: v.ID, ResolverIP: v.ResolverIP}
		for _, s := range v.Subnets {
			ds := dataplane.Subnet{ID: s.ID, VNI: s.VNI, CIDR: s.CIDR, IPv6CIDR: s.IPv6CIDR, RouterIP: s.RouterIP, Public: s.Public, DefaultRouteENI: s.DefaultRouteENI, ACL: desiredACL(s.ACL), EgressOnlyIPv6: s.EgressOnlyIPv6, PublicIPv6: s.PublicIPv6}
			for _, pr := range s.PeerRoutes {
				ds.PeerRoutes = append(ds.PeerRoutes, dataplane.PeerRoute{CIDR: pr.Dest, Peering: pr.PeeringID})
			}
			for _, er := range s.ENIRoutes {
				ds.ENIRoutes = append(ds.ENIRoutes, dataplane.ENIRoute{CIDR: er.Dest, ENI: er.ENI})
			}
			dv.Subnets = append(dv.Subnets, ds)
		}
		d.VPCs = append(d.VPCs, dv)
	}
	for _, pc := range hv.Peerings {
		d.Peerings = append(d.Peerings, dataplane.Peering{ID: pc.ID, VPCs: pc.VPCs})
	}
	d.Instances = grown(buf.insts, len(hv.Instances))
	for _, i := range hv.Instances {
		d.Instances = append(d.Instances, dataplane.Instance{ID: i.ID, Running: true})
	}
	for _, s := range hv.Services {
		d.Services = append(d.Services, dataplane.ServiceListener{Instance: s.Namespace, Addr: s.Addr, Service: s.Service})
	}
	d.ENIs = grown(buf.enis, len(hv.ENIs))
	for _, e := range hv.ENIs {
		de := dataplane.ENI{ID: e.ID, MAC: e.MAC, SubnetID: e.SubnetID, VPCID: e.VpcID, IPv6: e.IPv6, IPv4Prefixes: e.IPv4Prefixes, IPv6Prefixes: e.IPv6Prefixes,
			InstanceID: e.InstanceID, DeviceIndex: e.DeviceIndex, SourceDestCheck: e.SourceDestCheck, Groups: e.Groups, Unfiltered: e.Unfiltered}
		if len(e.PrivateIPs) > 0 {
			de.PrimaryIP = e.PrivateIPs[0]
			de.SecondaryIPs = e.PrivateIPs[1:]
		}
		d.ENIs = append(d.ENIs, de)
	}
	for _, g := range hv.Groups {
		dg := dataplane.Group{ID: g.ID}
		conv := func(rs []core.HostRule) []dataplane.Rule {
			out := make([]dataplane.Rule, 0, len(rs))
			for _, r := range rs {
				out = append(out, dataplane.Rule{Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort, CIDRs: r.CIDRs})
			}
			return out
		}
		dg.Ingress, dg.Egress = conv(g.Ingress), conv(g.Egress)
		d.Groups = append(d.Groups, dg)
	}
	for _, g := range hv.NatGateways {
		d.NATGateways = append(d.NATGateways, dataplane.NATGateway{ID: g.ID, ENIID: g.ENIID, Sources: g.Sources, SNAT: g.SNAT})
	}
	for _, m := range hv.PublicIPs {
		d.PublicIPs = append(d.PublicIPs, dataplane.PublicMapping{Public: m.Public, Private: m.Private, ENIID: m.ENIID, VPCID: m.VpcID})
	}
	return d
}

// grown is s emptied, with room for the n elements the caller appends (s's memory when
// it has; what lies beyond them cleared, so that it holds on to nothing of the last
// pass's).
func grown[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	clear(s[n:cap(s)])
	return s[:0]
}

// slowSteps formats a pass's slow steps for its log line ("enis=3.1ms overlay=1.2ms").
func slowSteps(steps []dataplane.Step) string {
	var b strings.Builder
	for i, s := range steps {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%.1fms", s.Name, float64(s.Took.Microseconds())/1000)
	}
	return b.String()
}
