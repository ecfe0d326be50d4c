package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Table and rule numbers inside the namespaces the plane owns.
const (
	rtInternet     = 100   // router: default route to the internet
	rtPrioRouter   = 33000 // router: `from <subnet> lookup …` (after main, which has no default)
	rtInstanceBase = 100   // instance: table 100+device index holds the ENI's routes
	rtPrioInstLo   = 1000  // instance: `from <ip> lookup 100+N` at 1000+N
	rtPrioInstHi   = 1999
	uplinkRouterIP = "100.64.0.2"
)

// Plane realises Desired states on this host. Its methods are safe for concurrent use;
// Reconcile calls are serialised.
type Plane struct {
	prefix string
	inetIP netip.Addr
	upIP   netip.Addr

	mu sync.Mutex // serialises Reconcile and Teardown

	bg         sync.WaitGroup // background deletions
	pendMu     sync.Mutex
	pending    map[string]bool // trash interface names (datapath) being deleted
	pendingIdx map[int]bool    // and their ifindexes
	// deferred: the pair each ENI left last, shut and kept in case it comes back
	// (retire); guarded by mu.
	deferred   map[string]deferredPair
	deferTimer *time.Timer
	keepIdle   time.Duration // deferIdle (tests may keep them longer)
	keepFor    time.Duration // deferMax
	// stampDue: an incremental change left the datapath ruleset without its stamp, written
	// once the passes pause for keepIdle, or keepFor after it became due (dueSince) if they
	// do not (writeStamp); markersDue: a router's guard marker is to be renamed then
	// (writeMarkers). idleOff: Close or Teardown stopped the idle writes (a timer's that
	// fired meanwhile, waiting for mu, writes nothing) until a pass ends again. Guarded by mu.
	stampDue   bool
	markersDue bool
	idleOff    bool
	dueSince   time.Time
	idleTimer  *time.Timer
	lastPass   time.Time // when the last pass ended (armDeferred)
	dumpAt     int       // dumpLinksAt (tests: lower)
	trashSeq   atomic.Uint32

	fullEvery time.Duration
	cache     *planeCache // what the plane last realised (guarded by mu)
	spares    spareNS     // instance namespaces made ahead (spares_linux.go)

	// dpGen is 1 + the nftables generation of the datapath namespace that the plane's
	// own last change of its ruleset produced (0: not known). See drift_linux.go.
	dpGen atomic.Uint64
	// routerGens: for each router namespace's name, 1 + the nftables generation the
	// plane's last change of its tables (guard, NAT) left.
	routerGens sync.Map
	// routerDeltas counts routers brought up to date by their ENIs' changes alone
	// (routerDelta), for tests.
	routerDeltas atomic.Int64
	// routerIncrs counts those brought up to date by the changed ENIs alone, without a
	// look at the others (routerIncr); for tests.
	routerIncrs atomic.Int64
	// stampWrites counts the stamps written in a batch of their own (writeStamp), and
	// pairRetries the pairs made again with their host names looked up after the kernel
	// refused one made without (ensureENI); for tests.
	stampWrites, pairRetries atomic.Int64
	// retireFailed: a background deletion of old pairs failed since the last full pass, so
	// links of ENIs the plane forgot may be left (holdsNothingOf).
	retireFailed atomic.Bool
	// routingReads counts the instances whose routes and rules a pass read back
	// (instanceRoutes); for tests.
	routingReads atomic.Int64
	driftMu      sync.Mutex
	genSocks     genSockets // the drift check's sockets (drift_linux.go)

	metadata MetadataServer
	md       mdState // metadata numbers and listeners (metadata_linux.go)
	dns      DNSServer
	dnsl     dnsState  // resolver sockets (dns_linux.go)
	api      publicAPI // the API's listener on the internet (publicapi_linux.go)
	endpoint EndpointServer
	svc      svcState    // endpoint listeners (service_linux.go)
	conns    *connBudget // connections open on api's and svc's listeners (connlimit.go)
	mdConns  *connBudget // metadata connections open, by ENI (connlimit.go)
	dnsConns *connBudget // resolver TCP connections open (connlimit.go)

	bridgePorts int // Options.BridgePorts (segments_linux.go)

	// Who new ENIs' announcements are for (announce_linux.go); guarded by mu.
	announceAll bool
	released    map[addrKey]bool

	// stepTime, if set (benchmarks), is told how long each step of a pass took.
	stepTime func(step string, took time.Duration)

	// lastDelta: the last pass knew what changed (delta_linux.go); for tests.
	lastDelta bool

	// retireStarts, if set (tests), is called by the background deletion of old pairs
	// before it deletes them.
	retireStarts func()
	// linksMade, if set (tests), is called in each pass once the ENIs' links are made,
	// before they are announced.
	linksMade func()

	// walkStarts, if set (tests), is called in the background as each walk that forgets
	// released marks' connections starts (forgetReleased).
	walkStarts func(marks []uint32)

	// selfNS is the network namespace the process was in when the plane was created: the
	// underlay of an overlay whose UnderlayNS is "" (overlay_linux.go).
	selfNS netns.NsHandle
}

// New returns a Plane. It does not touch the system until the first Reconcile.
func New(opts Options) (*Plane, error) {
	if opts.Prefix == "" {
		opts.Prefix = "eni"
	}
	if err := validPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if opts.InternetIP == "" {
		opts.InternetIP = "100.64.0.1"
	}
	ip, err := netip.ParseAddr(opts.InternetIP)
	if err != nil || !ip.Is4() {
		return nil, fmt.Errorf("dataplane: bad internet IP %q", opts.InternetIP)
	}
	if opts.BridgePorts < 0 || opts.BridgePorts > bridgePorts {
		return nil, fmt.Errorf("dataplane: bridge ports %d: want 1-%d (0: %d)", opts.BridgePorts, bridgePorts, bridgePorts)
	}
	up := netip.MustParseAddr(uplinkRouterIP)
	if ip == up {
		up = netip.MustParseAddr("100.64.0.3")
	}
	p := &Plane{prefix: opts.Prefix, inetIP: ip, upIP: up, pending: map[string]bool{}, pendingIdx: map[int]bool{}, deferred: map[string]deferredPair{}, released: map[addrKey]bool{},
		fullEvery: opts.FullEvery, bridgePorts: opts.BridgePorts, cache: newPlaneCache(), metadata: opts.Metadata, md: newMDState(),
		dns: opts.DNS, dnsl: dnsState{routers: map[string]*dnsRouter{}},
		api:      publicAPI{srv: opts.PublicAPI, port: opts.PublicAPIPort},
		endpoint: opts.Endpoint, svc: svcState{open: map[string]*svcListeners{}}, conns: newConnBudget(ConnsPerSource, ConnsTotal),
		mdConns: newConnBudget(ConnsPerSource, ConnsTotal), dnsConns: newConnBudget(ConnsPerSource, ConnsTotal)}
	p.trashSeq.Store(uint32(time.Now().UnixNano()))
	p.keepIdle, p.keepFor, p.dumpAt = deferIdle, deferMax, dumpLinksAt
	p.selfNS = currentNS()
	p.spares.want = opts.Spares
	if opts.Spares == 0 {
		p.spares.want = defaultSpares
	}
	return p, nil
}

// Prefix is the prefix of everything the plane owns.
func (p *Plane) Prefix() string { return p.prefix }

// InternetIP is the address of the simulated internet namespace.
func (p *Plane) InternetIP() netip.Addr { return p.inetIP }

// DatapathNS, InternetNS, RouterNS and InstanceNS name the plane's namespaces.
func (p *Plane) DatapathNS() string                  { return nsName(p.prefix, "dp") }
func (p *Plane) InternetNS() string                  { return nsName(p.prefix, "inet") }
func (p *Plane) RouterNS(vpcID string) string        { return nsName(p.prefix, vpcID) }
func (p *Plane) InstanceNS(instanceID string) string { return nsName(p.prefix, instanceID) }

// Do runs fn on an OS thread inside the named namespace of the plane (see InstanceNS).
// Sockets fn opens belong to that namespace.
func (p *Plane) Do(nsname string, fn func() error) error {
	ns, err := openNS(nsname)
	if err != nil {
		return err
	}
	defer ns.Close()
	return doInNS(ns, fn)
}

// Join switches the calling goroutine's OS thread into the named namespace of the plane
// for good. The caller must have locked the thread (runtime.LockOSThread) and must never
// unlock it: the thread, which may change more of its namespaces, ends with its goroutine.
func (p *Plane) Join(nsname string) error {
	ns, err := openNS(nsname)
	if err != nil {
		return err
	}
	defer ns.Close()
	return netns.Set(ns)
}

// DoInstance runs fn inside the instance's namespace.
func (p *Plane) DoInstance(instanceID string, fn func() error) error {
	return p.Do(p.InstanceNS(instanceID), fn)
}

// Start starts cmd inside the instance's namespace; the caller waits for
// it. The agent starts user data with it (agent.Starter).
func (p *Plane) Start(instanceID string, cmd *exec.Cmd) error {
	return p.DoInstance(instanceID, cmd.Start)
}

// Exec runs cmd inside the instance's namespace and waits for it.
func (p *Plane) Exec(instanceID string, cmd *exec.Cmd) error {
	if err := p.Start(instanceID, cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// Close closes the plane's sockets (the metadata service's, the resolver's, the API's and
// the VPC endpoints' listeners) and leaves every namespace as it is, as the server's exit
// does: a new Plane with the same prefix takes them over (its first pass opens the
// sockets again).
func (p *Plane) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLocked()
}

// closeLocked is Close, called with mu held.
func (p *Plane) closeLocked() {
	p.cache.memo, p.cache.lastPlan = nil, nil // the next pass opens them again
	p.writeStamp()                            // the next plane trusts the ruleset (a router it makes whole)
	p.dropIdle()
	p.dropDeferred()
	p.spares.close()
	p.closeAllMetadata()
	p.closeAllDNS()
	p.closePublicAPI()
	p.closeAllServices()
}

// Teardown removes everything the plane owns (every namespace with its prefix) and waits
// for background deletions.
func (p *Plane) Teardown(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropIdle()
	p.dropDeferred()
	p.bg.Wait()
	p.spares.close()
	p.closeAllMetadata()
	p.closeAllDNS()
	p.closePublicAPI()
	p.closeAllServices()
	p.cache.closeAll()
	p.cache = newPlaneCache()
	names, err := listNS(p.prefix)
	if err != nil {
		return err
	}
	var errs error
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return errors.Join(errs, err)
		}
		errs = errors.Join(errs, deleteNS(n))
	}
	return errs
}

// stepNames name the steps of a pass, in their order (Plane.stepTime).
var stepNames = []string{"infra", "bridges", "instances", "datapath-rules", "enis", "overlay", "instance-routing",
	"service-listeners", "nat-gateways", "routers", "peerings", "egress-only", "acls", "leftovers", "forget-released"}

// reconciler is the state of one Reconcile.
type reconciler struct {
	p       *Plane
	c       *planeCache
	full    bool // read everything from the kernel (else: only objects whose spec changed)
	changes int
	errs    error
	nerr    int // number of errors so far (to tell whether one object failed)

	vpcs      []VPC
	subnets   map[string]*subnetInfo
	subnetSeq []*subnetInfo // sorted by id
	running   map[string]bool
	enis      []*eniInfo    // realised, sorted by id
	used      map[slot]bool // the instances' device indexes that r.enis take
	last      *planMemo     // the last clean pass's plan, while this pass patches it (planincr_linux.go)
	byInst    instIndex     // r.enis by instance, once a patched pass needs it (enisOf)
	sorted    []ENI         // d.ENIs sorted by id
	delta     *delta        // what changed since the last clean pass (delta_linux.go); nil: unknown
	groups    map[string]Group
	publics   map[string][]PublicMapping // by VPC
	peerings  []Peering
	services  []ServiceListener
	natgws    []NATGateway

	dp, inet    *nsCtx
	routers     map[string]*nsCtx
	insts       map[string]*nsCtx
	bridges     map[string]int            // subnet id → bridge ifindex
	ports       map[int]int               // bridge ifindex → ENI ports on it (countPorts)
	fullBridge  map[int]bool              // bridges the kernel found full this pass
	retirees    []retiree                 // datapath links to delete in the background
	dpLinks     map[string]netlink.Link   // ensureENIs: the datapath's links by name, when it read them all
	cuts        []cut                     // instance ends of old pairs to take down first
	eniLink     map[string]int            // ENI id → ifindex of its instance end
	garps       map[string][]func() error // instance id → announcements of its recreated ENIs
	known       map[string]bool           // ENIs recreated with the IPv4 addresses they had (a move): announced to the router only
	status      Status
	enforced    map[string]bool // ENIs whose chains are in the datapath ruleset (this pass): see isEnforced
	enforcedAll bool            // and those the delta does not name (patching, planincr_linux.go)
	// instOwn, eniOwn: what of status.Instances, status.ENIs the pass may change in place
	// (patching, they start as the last Status's: its caller's and the memo's; Realised.set).
	instOwn, eniOwn owner
	enisPatched     bool            // ensureENIs looked at the delta's ENIs alone (enisToEnsure)
	touched         map[string]bool // instances whose ENIs' links this pass made or changed
	made            map[string]bool // the namespaces (by name) this pass made: nothing of the plane's in them then but lo

	ov          *overlayPlan // the overlay (overlay_linux.go); nil: a single host
	mtu         int          // of the ENIs and router legs
	dpUntrusted bool         // the datapath ruleset was not what the plane's last change left
	dpPending   func()       // the datapath's batch, sent while ensureENIs runs: waits for it (joinDatapath)
	segRoutes   []route      // the internet namespace's routes over the internet segment
}

func (r *reconciler) fail(err error) {
	if err != nil {
		r.errs = errors.Join(r.errs, err)
		r.nerr++
	}
}

func (r *reconciler) failAll(errs []error) {
	for _, err := range errs {
		r.fail(err)
	}
}

func (r *reconciler) count(n int, err error) {
	r.changes += n
	r.fail(err)
}

// Reconcile converges the host to d: it creates what is missing, fixes what differs and
// removes what the plane owns but d does not contain, and a second call with the same d
// makes no change (Status.Changes == 0). Errors of single objects do not stop the others;
// they are joined in the returned error, and the failed objects are retried next time.
//
// Reconcile is incremental: it touches only the objects whose desired spec differs from
// what the plane last realised (new, changed or removed ones) and trusts its memory of the
// others. The first Reconcile of a Plane, and one every Options.FullEvery, is a full pass
// (see Verify) that reads the actual state of everything and so repairs damage done behind
// the plane's back.
func (p *Plane) Reconcile(ctx context.Context, d Desired) (Status, error) {
	return p.reconcile(ctx, d, false)
}

func (p *Plane) reconcile(ctx context.Context, d Desired, full bool) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.spares.refill() // the spares this pass took, made again after it
	defer p.passEnded()     // the pairs the ENIs left, deleted once the passes pause
	c := p.cache
	if !c.valid || (p.fullEvery > 0 && time.Since(c.lastFull) >= p.fullEvery) {
		full = true
	}
	if full {
		p.writeMarkers()            // a full pass checks each router's guard by its marker
		p.retireFailed.Store(false) // and reads every link: it removes what a failed deletion left
	}
	start := time.Now()
	if !full && c.memo != nil && desiredEqualButGroups(c.memo, &d) { // compared once: tens of ns an ENI
		if eqFunc(c.memo.Groups, d.Groups, groupEqual) {
			if st, ok := p.asLeft(&d); ok {
				return st, nil
			}
		} else if st, ok := p.regroup(&d); ok {
			return st, nil
		}
	}
	prev := c.memo
	c.memo = nil
	last := c.lastPlan
	c.lastPlan = nil
	r := &reconciler{p: p, c: c, full: full, routers: map[string]*nsCtx{}, insts: map[string]*nsCtx{},
		bridges: map[string]int{}, fullBridge: map[int]bool{}, eniLink: map[string]int{}, known: map[string]bool{}, garps: map[string][]func() error{}, touched: map[string]bool{}, made: map[string]bool{},
		last: last, instOwn: ownAll, eniOwn: ownAll}
	t := time.Now()
	r.plan(&d, prev)
	if took := time.Since(t); took >= time.Millisecond {
		r.status.Slow = append(r.status.Slow, Step{"plan", took})
	}
	if p.stepTime != nil {
		p.stepTime("plan", time.Since(t))
	}
	// Moves and launches first: an ENI's link, addresses, routing and announcement depend
	// only on its bridge, its instance namespace and its chains in the datapath ruleset,
	// which are in before its link is counted realised or announced (a port carries
	// nothing without them: an incremental pass sends their batch while ensureENIs
	// makes the links, and waits for it at the step's end, joinDatapath); the
	// routers come after. A moved ENI keeps its chains: they cover all its host names.
	steps := []func(){r.infra, r.ensureBridges, r.ensureInstances, r.ensureDatapathRules, r.ensureENIs,
		r.ensureOverlay, r.ensureInstanceRouting, r.ensureServiceListeners, r.ensureNATGateways, r.ensureRouters, r.ensurePeerings, r.ensureEgressOnly, r.ensureACLs, r.removeLeftovers, r.forgetReleased}
	for i, step := range steps {
		if err := ctx.Err(); err != nil {
			r.fail(err)
			break
		}
		t := time.Now()
		step()
		took := time.Since(t)
		if p.stepTime != nil {
			p.stepTime(stepNames[i], took)
		}
		if took >= time.Millisecond {
			r.status.Slow = append(r.status.Slow, Step{stepNames[i], took})
		}
	}
	r.expireDeferred(p.keepFor)
	r.startRetire()
	p.lastDelta = r.delta != nil
	if r.incr() {
		for id := range r.delta.enis {
			if !r.delta.planned[id] {
				p.forgetMetadataID(id)
			}
		}
	} else {
		realised := make(map[string]bool, len(r.enis))
		for _, e := range r.enis {
			realised[e.ID] = true
		}
		p.forgetMetadataIDs(realised)
	}
	if full && ctx.Err() == nil {
		c.valid = true
		c.lastFull = start
	}
	r.status.Changes = r.changes
	if r.errs == nil && ctx.Err() == nil {
		var changed map[string]bool
		if r.delta != nil {
			changed = r.delta.enis
		}
		m := cloneDesiredSharing(&d, prev, changed)
		// The memo and the caller share the status's maps (read-only: the next pass copies
		// them before it changes them).
		c.memo, c.memoStatus = &m, Status{Instances: r.status.Instances, ENIs: r.status.ENIs}
		c.lastPlan = r.memoPlan()
	}
	return r.status, r.errs
}

// asLeft answers the last Status when d, equal to the last Desired realised without an
// error, finds the rulesets of the datapath and of every VPC router still at the
// generation the plane's own last change left (see drift_linux.go): nothing to do.
func (p *Plane) asLeft(d *Desired) (Status, bool) {
	c := p.cache
	if c.memo == nil || c.dp == nil {
		return Status{}, false
	}
	if _, ok := p.rulesetsAsLeft(d); !ok {
		return Status{}, false
	}
	return Status{Instances: c.memoStatus.Instances, ENIs: c.memoStatus.ENIs}, true
}

// rulesetsAsLeft reports whether the datapath's ruleset (at generation gen) and the
// routers' of d's VPCs are as the plane's last change left them: nobody changed them.
func (p *Plane) rulesetsAsLeft(d *Desired) (gen uint32, ok bool) {
	c := p.cache
	want := p.dpGen.Load()
	if g, err := c.dp.nftGen(); want == 0 || err != nil || uint64(g)+1 != want {
		return 0, false
	} else {
		gen = g
	}
	for _, v := range d.VPCs {
		ent, ok := c.routers[v.ID]
		x := c.routerNS[v.ID]
		if !ok || x == nil {
			return 0, false
		}
		if g, err := x.nftGen(); err != nil || g != ent.gen {
			return 0, false
		}
	}
	return gen, true
}

// plan indexes and validates d (and finds what changed since prev, the last clean pass's).
func (r *reconciler) plan(d *Desired, prev *Desired) {
	if !r.reusePlanned(d, prev) {
		r.planSubnets(d)
	}
	if r.running == nil {
		r.running = make(map[string]bool, len(d.Instances))
		for _, in := range d.Instances {
			if in.Running {
				r.running[in.ID] = true
			}
		}
	}
	r.groups = map[string]Group{}
	for _, g := range d.Groups {
		r.groups[g.ID] = g
	}
	r.delta = r.diff(prev, d)
	r.noteReleases(prev, d)
	if r.last == nil || r.delta == nil || !r.planDelta(d) {
		r.last = nil
		r.planENIs(d)
	}
	r.planRest(d)
}

// planSubnets parses d's VPCs' subnets.
func (r *reconciler) planSubnets(d *Desired) {
	r.subnets = map[string]*subnetInfo{}
	r.vpcs = slices.Clone(d.VPCs)
	slices.SortFunc(r.vpcs, func(a, b VPC) int { return strings.Compare(a.ID, b.ID) })
	for _, v := range r.vpcs {
		for _, s := range v.Subnets {
			si, err := parseSubnet(v.ID, s)
			if err != nil {
				r.fail(err)
				continue
			}
			si.bridge = ifName(r.p.prefix, kindBridge, s.ID)
			si.legDP = ifName(r.p.prefix, kindRouterDP, s.ID)
			si.legRT = ifName(r.p.prefix, kindRouterNS, s.ID)
			si.routeTbl = 0x1000 + int(hash32(s.ID)&0xffff)
			si.resolver, _ = netip.ParseAddr(v.ResolverIP) // invalid when not given
			r.subnets[s.ID] = si
			r.subnetSeq = append(r.subnetSeq, si)
		}
	}
	slices.SortFunc(r.subnetSeq, func(a, b *subnetInfo) int { return strings.Compare(a.ID, b.ID) })
	for i, s := range r.subnetSeq {
		s.ordinal = i + 1
	}
}

// planRest plans the overlay, peerings, services, NAT gateways and public addresses.
func (r *reconciler) planRest(d *Desired) {
	r.planOverlay(d.Overlay)
	r.peerings = d.Peerings
	r.services = d.Services
	r.natgws = d.NATGateways
	r.publics = map[string][]PublicMapping{}
	for _, m := range d.PublicIPs {
		if r.ov != nil && r.ov.ids[m.ENIID] != nil { // the other host's business (and its internet's)
			r.ov.publics = append(r.ov.publics, m)
			continue
		}
		r.publics[m.VPCID] = append(r.publics[m.VPCID], m)
	}
	for _, ms := range r.publics {
		slices.SortFunc(ms, func(a, b PublicMapping) int { return strings.Compare(a.Public, b.Public) })
	}
}

// planENIs parses and validates the ENIs of d that this host realises (those of its
// running instances) into r.enis, in id order.
func (r *reconciler) planENIs(d *Desired) {
	if r.c.parsed == nil {
		r.c.parsed = map[string]*parsedENI{}
	}
	used := make(map[slot]bool, len(d.ENIs))
	r.used, r.byInst = used, nil
	r.enis = make([]*eniInfo, 0, len(d.ENIs))
	r.sorted = sortedENIs(d.ENIs)
	slab := make([]eniInfo, 0, len(r.sorted)) // one allocation for the pass's ENIs
	for _, e := range r.sorted {
		if e.InstanceID == "" || !r.running[e.InstanceID] {
			continue
		}
		si := r.subnets[e.SubnetID]
		if si == nil {
			r.fail(errUnknownSubnet(e))
			continue
		}
		slab = slab[:len(slab)+1]
		ei := &slab[len(slab)-1]
		if err := r.parse(ei, e, si); err != nil {
			slab = slab[:len(slab)-1]
			r.fail(err)
			continue
		}
		key := slot{e.InstanceID, e.DeviceIndex}
		if used[key] {
			r.fail(fmt.Errorf("eni %s: device index %d of %s is taken", e.ID, e.DeviceIndex, e.InstanceID))
			continue
		}
		used[key] = true
		ei.mark = uint32(len(r.enis) + 1)
		r.enis = append(r.enis, ei)
		if r.delta != nil && r.delta.enis[e.ID] {
			r.delta.planned[e.ID] = true
		}
	}
	r.pruneParsed()
}

// pruneParsed forgets the parses of ENIs long gone.
func (r *reconciler) pruneParsed() {
	if len(r.c.parsed) > 2*len(r.enis)+64 {
		keep := make(map[string]*parsedENI, len(r.enis))
		for _, e := range r.enis {
			if x := r.c.parsed[e.ID]; x != nil {
				keep[e.ID] = x
			}
		}
		r.c.parsed = keep
	}
}

func errUnknownSubnet(e ENI) error { return fmt.Errorf("eni %s: unknown subnet %s", e.ID, e.SubnetID) }

// planned is the ENI of this pass with id (r.enis is in id order, as r.sorted), or nil.
func (r *reconciler) planned(id string) *eniInfo {
	i, ok := findInfo(r.enis, id)
	if !ok {
		return nil
	}
	return r.enis[i]
}

// findENI looks an ENI of the Desired up by id: one of this host's, or one realised on
// another host (the overlay's), where a route to it (a NAT gateway, an instance) leads
// just as well.
func (r *reconciler) findENI(id string) (ENI, bool) {
	e, ok := findSorted(r.sorted, id)
	if !ok && r.ov != nil && r.ov.ids[id] != nil {
		return r.ov.ids[id].ENI, true
	}
	return e, ok
}

// ensureNS opens (creating it if needed) a namespace with lo up and the given sysctls.
// cached is the plane's open handle of the namespace, if any: an incremental pass trusts
// it; a full pass checks that the name still leads to it and re-checks lo and the sysctls.
// On error, cached is closed; the caller forgets it.
//
// An instance's sysctls (instanceSysctls) are defaults of its own, set when its namespace
// is made and not looked at again on full passes (root in the instance may change them);
// a namespace a former plane made has them when its lo is up (lo comes up after them).
// Reading /proc/sys in a namespace costs in proportion to the host's namespaces (each has
// its own dentries of the same names, in the same hash chains): a full pass over 2,000
// instances spent 4.9 of its 3.0 + restart's 5.0 s there.
func (r *reconciler) ensureNS(name string, sysctls []sysctl, cached *nsCtx) (*nsCtx, error) {
	own := len(sysctls) > 0 && &sysctls[0] == &instanceSysctls[0]
	if cached != nil {
		if !r.full {
			return cached, nil
		}
		if sameNS(name, cached) {
			if own {
				sysctls = nil
			}
			r.nsBasics(cached, sysctls)
			return cached, nil
		}
		cached.close() // deleted (and maybe recreated) behind our back
	}
	return r.adoptNS(openOrCreateNS(name, sysctls, &r.p.spares), sysctls)
}

// nsOpened is a namespace opened, or made (then its sysctls are written), by
// openOrCreateNS.
type nsOpened struct {
	c     *nsCtx
	fresh bool
	spare bool // fresh, from the spares: its sysctls written and lo up
	err   error
}

// openOrCreateNS opens the namespace name, or makes it and writes its sysctls (no need to
// read them first); an instance's is a spare when there is one (spares_linux.go). It
// touches nothing of the plane's but the spares: namespaces are made in parallel
// (openInstances).
func openOrCreateNS(name string, sysctls []sysctl, spares *spareNS) nsOpened {
	ns, err := openNS(name)
	fresh := errors.Is(err, os.ErrNotExist)
	if fresh && len(sysctls) > 0 && &sysctls[0] == &instanceSysctls[0] {
		if c := spares.take(); c != nil {
			c, err := nameSpare(c, name)
			return nsOpened{c: c, fresh: true, spare: true, err: err}
		}
	}
	if fresh {
		ns, err = createNS(name)
	}
	if err != nil {
		return nsOpened{err: err}
	}
	c, err := openCtx(name, ns)
	if err != nil {
		return nsOpened{err: err}
	}
	if fresh {
		if err := writeSysctls(c.ns, sysctls); err != nil {
			c.close() // lo stays down: the next pass sets them
			return nsOpened{err: err, fresh: true}
		}
	}
	return nsOpened{c: c, fresh: fresh}
}

// adoptNS takes the namespace o opened or made into the plane: its generation, the
// changes, its sysctls when the plane did not make it, lo up (a spare's is), and
// whether the pass made it (r.made).
func (r *reconciler) adoptNS(o nsOpened, sysctls []sysctl) (*nsCtx, error) {
	if o.fresh {
		r.changes++
	} else if o.err == nil {
		r.p.announceAll = true // a namespace the plane did not make (announce_linux.go)
	}
	if o.err != nil {
		return nil, o.err
	}
	c := r.p.stamp(o.c)
	if o.fresh {
		r.made[c.name] = true
	}
	own := len(sysctls) > 0 && &sysctls[0] == &instanceSysctls[0]
	switch {
	case o.fresh:
		r.changes += len(sysctls)
		if o.spare {
			return c, nil // and lo is up (makeSpare)
		}
		sysctls = nil
	case own:
		if lo, err := c.linkByName("lo"); err == nil && lo != nil && lo.Attrs().Flags&net.FlagUp != 0 {
			sysctls = nil // set by the plane that made it
		}
	}
	r.nsBasics(c, sysctls)
	return c, nil
}

// nsBasics sets the sysctls and then brings lo up (not when they failed: an instance's lo
// up says they are set, see ensureNS).
func (r *reconciler) nsBasics(c *nsCtx, sysctls []sysctl) {
	if len(sysctls) > 0 {
		n, err := ensureSysctls(c.ns, sysctls)
		r.count(n, err)
		if err != nil {
			return
		}
	}
	lo, err := c.linkByName("lo")
	if err == nil && lo != nil {
		r.count(setUp(c, lo))
	}
	r.fail(err)
}

var (
	dpSysctls = []sysctl{
		{"net/bridge/bridge-nf-call-iptables", "0"},
		{"net/bridge/bridge-nf-call-ip6tables", "0"},
		{"net/bridge/bridge-nf-call-arptables", "0"},
		// No IPv6 stack on the bridges (no link-local address an instance could reach,
		// no RS, DAD or MLD of their own).
		{"net/ipv6/conf/all/disable_ipv6", "1"},
		{"net/ipv6/conf/default/disable_ipv6", "1"},
	}
	routerSysctls = []sysctl{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv6/conf/all/forwarding", "1"},
		{"net/ipv4/conf/all/rp_filter", "0"},
		{"net/ipv4/conf/default/rp_filter", "0"},
		{"net/ipv4/conf/all/send_redirects", "0"},
		{"net/ipv4/conf/default/send_redirects", "0"},
		// An accepted connection's socket carries its SYN's mark: the metadata
		// listener reads the asking ENI from it (metadata_linux.go).
		{"net/ipv4/tcp_fwmark_accept", "1"},
	}
	inetSysctls = []sysctl{
		{"net/ipv4/conf/all/rp_filter", "0"},
		{"net/ipv4/conf/default/rp_filter", "0"},
	}
	instanceSysctls = []sysctl{
		{"net/ipv4/conf/all/rp_filter", "0"},
		{"net/ipv4/conf/default/rp_filter", "0"},
		{"net/ipv4/conf/all/arp_ignore", "1"},
		{"net/ipv4/conf/all/arp_announce", "2"},
		{"net/ipv6/conf/default/accept_ra", "0"},
		// No duplicate address detection on the ENIs: their addresses are the VPC's to give
		// (the plane adds them with IFA_F_NODAD) and their link-local ones are EUI-64 of
		// MACs unique in the VPC, so there is nothing to detect, and without it the
		// link-local address is usable at once instead of after DAD's timers, which a busy
		// host delays: in CI an instance's was still tentative (or failed) 15 s after its
		// launch, while another test launched 1,030 instances in one subnet.
		{"net/ipv6/conf/default/accept_dad", "0"},
	}
)

// infra: the datapath and internet namespaces.
func (r *reconciler) infra() {
	var err error
	r.dp, err = r.ensureNS(r.p.DatapathNS(), dpSysctls, r.c.dp)
	r.fail(err)
	if r.dp != r.c.dp { // new handle: everything in the datapath must be looked at again
		r.c.dp = r.dp
		clear(r.c.bridges)
		clear(r.c.segs)
		clear(r.c.enis)
		clear(r.c.ports) // the ports of r.c.enis (setENI), counted again as they are made
		clear(r.c.vxlans)
		r.c.nftBase = 0
		r.c.ovNFT = 0
		// The connection-tracking sockets of the old namespace keep it (its bridges,
		// its ruleset) alive: closed unless a walk is still on them (forgetReleased
		// replaces them then, once the walks have ended).
		r.c.forgot(false)
		if len(r.c.walks) == 0 && r.c.ct != nil {
			r.c.ct.Close()
			r.c.ct = nil
		}
	}
	r.inet, err = r.ensureNS(r.p.InternetNS(), inetSysctls, r.c.inet)
	r.fail(err)
	if r.inet != r.c.inet {
		r.c.inet = r.inet
		r.c.inetKey = 0
		r.c.inetSeg = nil
		clear(r.c.routers)
	}
	r.ensurePublicAPI()
}

// ensureBridges: one bridge per subnet in the datapath, with br_netfilter on.
func (r *reconciler) ensureBridges() {
	if r.dp == nil {
		return
	}
	for _, s := range r.subnetSeq {
		if idx, ok := r.c.bridges[s.ID]; ok && !r.full {
			r.bridges[s.ID] = idx
			continue
		}
		delete(r.c.bridges, s.ID)
		n0 := r.nerr
		l, err := r.dp.linkByName(s.bridge)
		if err != nil {
			r.fail(err)
			continue
		}
		if l != nil && l.Type() != "bridge" {
			r.fail(delLink(r.dp.h, l))
			r.changes++
			l = nil
		}
		if l == nil {
			if err := bridgeRequest(r.dp.ns, s.bridge, 0, true); err != nil {
				r.fail(fmt.Errorf("create bridge %s: %w", s.bridge, err))
				continue
			}
			r.changes++
			if l, err = r.dp.linkByName(s.bridge); err != nil || l == nil {
				r.fail(fmt.Errorf("bridge %s vanished: %v", s.bridge, err))
				continue
			}
		} else if ok, err := bridgeNFCall(r.dp.ns, l.Attrs().Index); err != nil || !ok {
			r.fail(err)
			if err == nil {
				r.fail(bridgeRequest(r.dp.ns, s.bridge, l.Attrs().Index, false))
				r.changes++
			}
		}
		r.count(setUp(r.dp, l))
		r.bridges[s.ID] = l.Attrs().Index
		if r.nerr == n0 {
			r.c.bridges[s.ID] = l.Attrs().Index
		}
	}
	r.ensureSegments()
}

// ensurePair makes a (in ca) and b (in cb) the two ends of one veth, both up, b on master
// (if > 0), a with MAC aMAC (if set). It returns a's link.
func (r *reconciler) ensurePair(ca *nsCtx, aName string, aMAC net.HardwareAddr, cb *nsCtx, bName string, master int) netlink.Link {
	la, err1 := ca.linkByName(aName)
	lb, err2 := cb.linkByName(bName)
	if err := errors.Join(err1, err2); err != nil {
		r.fail(err)
		return nil
	}
	if !isPair(ca, la, cb, lb) {
		if la != nil {
			r.fail(delLink(ca.h, la))
		}
		if lb != nil {
			r.fail(delLink(cb.h, lb))
		}
		v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: aName, HardwareAddr: aMAC, NumTxQueues: vethQueues, NumRxQueues: vethQueues}, PeerName: bName,
			PeerNamespace: netlink.NsFd(int(cb.ns))}
		if err := ca.h.LinkAdd(v); err != nil {
			r.fail(fmt.Errorf("%s: create veth %s/%s: %w", ca.name, aName, bName, err))
			return nil
		}
		r.changes++
		la, err1 = ca.linkByName(aName)
		lb, err2 = cb.linkByName(bName)
		if la == nil || lb == nil {
			r.fail(fmt.Errorf("veth %s/%s vanished: %v", aName, bName, errors.Join(err1, err2)))
			return nil
		}
	}
	if aMAC != nil && la.Attrs().HardwareAddr.String() != aMAC.String() {
		if err := ca.h.LinkSetHardwareAddr(la, aMAC); err != nil {
			r.fail(err)
		} else {
			r.changes++
		}
	}
	if master > 0 && lb.Attrs().MasterIndex != master {
		if err := cb.h.LinkSetMasterByIndex(lb, master); err != nil {
			r.fail(fmt.Errorf("%s: attach %s to bridge: %w", cb.name, bName, err))
		} else {
			r.changes++
		}
	}
	r.count(setUp(ca, la))
	r.count(setUp(cb, lb))
	return la
}

// ensureRouters: a router namespace per VPC, its uplink to the internet, a leg per subnet,
// policy routing for public / NAT-instance subnets, 1:1 NAT.
func (r *reconciler) ensureRouters() {
	if r.dp == nil || r.inet == nil {
		return
	}
	var inetRoutes []route
	var byVPC map[string][]*eniInfo // made when a router needs it
	for _, v := range r.vpcs {
		cached := r.c.routerNS[v.ID]
		c, err := r.ensureNS(r.p.RouterNS(v.ID), routerSysctls, cached)
		if err != nil {
			delete(r.c.routerNS, v.ID)
			delete(r.c.routers, v.ID)
			r.fail(err)
			continue
		}
		r.c.routerNS[v.ID] = c
		r.routers[v.ID] = c
		r.ensureMetadataListeners(v.ID, c)
		r.ensureDNSListeners(v, c)
		ent, ok := r.c.routers[v.ID]
		// A marker due (writeMarkers) does not name what the guard holds: made whole, the
		// guard is replaced whatever its marker says.
		due := ok && ent.st != nil && ent.st.due != ""
		gen, genErr := c.nftGen()
		trusted := ok && genErr == nil && gen == ent.gen      // nobody else changed its tables
		if ok && trusted && r.incr() && !r.delta.vpcs[v.ID] { // none of its ENIs changed for it
			inetRoutes = append(inetRoutes, ent.inetRoutes...)
			continue
		}
		upName := ifName(r.p.prefix, kindUplink, v.ID)
		if ok && trusted && !r.full && r.incr() && r.routerIncr(v, c, &ent, gen, upName) {
			inetRoutes = append(inetRoutes, ent.inetRoutes...)
			continue
		}
		if byVPC == nil {
			byVPC = r.enisByVPC()
		}
		nbrs, pfx6 := routerNeighbours(slices.Concat(byVPC[v.ID], r.ov.enisOf(v.ID)))
		md := r.p.metadataIDs(v.ID, byVPC[v.ID])
		parts := routerParts(byVPC[v.ID], r.ov.enisOf(v.ID), md)
		static, pfx6Key := r.routerKey(v, c), neighboursKey(nil, pfx6)
		key := static ^ neighboursKey(nbrs, pfx6) ^ mdKey(md)
		if ok && trusted && !r.full && (ent.key == key || r.routerDeltaPass(v, c, &ent, gen, key, static, pfx6Key, upName, nbrs, md, parts)) {
			inetRoutes = append(inetRoutes, ent.inetRoutes...)
			continue
		}
		delete(r.c.routers, v.ID)
		n0, nInet := r.nerr, len(inetRoutes)
		up, routes, inet := r.routerUplink(v, c, upName)
		inetRoutes = append(inetRoutes, inet...)
		legs := r.routerLegs(v, c)
		more, rules := r.routerSubnetRouting(v, up, legs)
		routes = append(routes, more...)
		for _, p := range pfx6 {
			if leg := legs[p.subnet]; leg != nil {
				routes = append(routes, route{dst: p.pfx, gw: p.via, link: leg.Attrs().Index, table: unix.RT_TABLE_MAIN})
			}
		}
		r.count(ensureNeighbours(c, legs, nbrs))
		var st *routerState
		if r.ensureRouterGuard(c, upName, v.ResolverIP, nbrs, md, !trusted || due) {
			st = newRouterState(static, pfx6Key, legs, upName, v.ResolverIP, nbrs, md, parts)
		}
		tables := []int{rtInternet, unix.RT_TABLE_MAIN}
		for _, s := range r.subnetSeq {
			if s.vpcID == v.ID {
				tables = append(tables, s.routeTbl)
			}
		}
		// The 1:1 NAT before the routes: a flow routed out before its mapping would be
		// tracked untranslated (natTable's guard drops such packets besides).
		r.ensureNAT(c, upName, r.publics[v.ID], !trusted)
		r.count(ensureRoutes(c, tables, routes))
		r.count(ensureRules(c, rtPrioRouter, rtPrioRouter, rules))
		if r.nerr == n0 {
			if after, err := c.nftGen(); err == nil {
				r.c.routersMade++
				r.c.routers[v.ID] = routerEntry{key: key, inetRoutes: slices.Clone(inetRoutes[nInet:]), gen: after, st: st, made: r.c.routersMade}
				r.ownRouterChange(v.ID, c, gen, after, trusted)
			}
		}
	}
	inetRoutes = append(inetRoutes, r.segRoutes...)
	key := specKey(fmt.Sprint(inetRoutes))
	if key == r.c.inetKey && !r.full {
		return
	}
	r.c.inetKey = 0
	n0 := r.nerr
	r.count(ensureRoutes(r.inet, []int{254}, inetRoutes))
	if r.nerr == n0 {
		r.c.inetKey = key
	}
}

// routerDeltaPass brings a router whose static part (routerKey) and delegated IPv6
// routes are what its last pass made up to date by its ENIs' changes alone (routerDelta),
// and records it. It reports whether it did; if not, the caller makes the router whole.
func (r *reconciler) routerDeltaPass(v VPC, c *nsCtx, ent *routerEntry, gen uint32, key, static, pfx6Key uint64, upName string, nbrs []neighbour, md []mdEntry, parts map[string]routerPart) bool {
	if ent.st == nil || ent.st.static != static || ent.st.pfx6 != pfx6Key {
		return false
	}
	if !r.routerDelta(c, ent.st, upName, v.ResolverIP, nbrs, md, parts) {
		ent.st = nil // what the kernel holds is unknown: the full pass makes it whole
		return false
	}
	after, err := c.nftGen()
	if err != nil {
		ent.st = nil
		return false
	}
	ent.key, ent.gen = key, after
	r.c.routers[v.ID] = *ent
	r.p.routerDeltas.Add(1)
	r.ownRouterChange(v.ID, c, gen, after, true)
	return true
}

// ownRouterChange records that the router's nftables generation went from gen to after
// by the plane's own change: the ACL table is still what its last pass left.
func (r *reconciler) ownRouterChange(vpcID string, c *nsCtx, gen, after uint32, trusted bool) {
	r.p.routerGens.Store(c.name, uint64(after)+1)
	if st, ok := r.c.acls[vpcID]; ok && trusted && st.gen == gen {
		st.gen = after
		r.c.acls[vpcID] = st
	}
}

// routerUplink makes the router's link to the internet namespace and returns
// it (nil when it could not), the router's default route out of it, and the
// internet's routes back for the VPC's public addresses.
func (r *reconciler) routerUplink(v VPC, c *nsCtx, upName string) (netlink.Link, []route, []route) {
	gName := ifName(r.p.prefix, kindInetLeg, v.ID)
	up := r.ensurePair(c, upName, nil, r.inet, gName, 0)
	if up == nil {
		return nil, nil, nil
	}
	var routes, inet []route
	r.count(ensureAddrs(c, up, []netip.Prefix{netip.PrefixFrom(r.p.upIP, 32)}))
	routes = append(routes, route{dst: anyIPv4, gw: r.p.inetIP, link: up.Attrs().Index, table: rtInternet})
	if g, err := r.inet.linkByName(gName); err == nil && g != nil {
		r.count(ensureAddrs(r.inet, g, []netip.Prefix{netip.PrefixFrom(r.p.inetIP, 32)}))
		for _, m := range r.publics[v.ID] {
			if a, err := netip.ParseAddr(m.Public); err == nil && a.Is4() {
				inet = append(inet, route{dst: netip.PrefixFrom(a, 32), gw: r.p.upIP, link: g.Attrs().Index, table: 254})
			}
		}
	}
	return up, routes, inet
}

// routerLegs makes the router's leg on each subnet's bridge, with the
// subnet's router addresses, and returns them by subnet.
func (r *reconciler) routerLegs(v VPC, c *nsCtx) map[string]netlink.Link {
	legs := map[string]netlink.Link{}
	for _, s := range v.Subnets {
		si := r.subnets[s.ID]
		br, ok := r.bridges[s.ID]
		if si == nil || !ok {
			continue
		}
		leg := r.ensurePair(c, si.legRT, deterministicMAC(si.ID), r.dp, si.legDP, br)
		if leg == nil {
			continue
		}
		legs[s.ID] = leg
		r.count(ensureMTU(c, leg, r.mtu))
		if l, err := r.dp.linkByName(si.legDP); err != nil {
			r.fail(err)
		} else if l != nil {
			r.count(ensureMTU(r.dp, l, r.mtu))
			if l.Attrs().MasterIndex != 0 { // on the bridge (else ensurePair said why not)
				r.count(ensureStaticFDB(r.dp, l, deterministicMAC(si.ID)))
			}
		}
		want := []netip.Prefix{netip.PrefixFrom(si.router, si.prefix.Bits())}
		if si.prefix6.IsValid() {
			want = append(want, netip.PrefixFrom(si.router6, si.prefix6.Bits()))
		}
		r.count(ensureAddrs(c, leg, want))
	}
	return legs
}

// routerSubnetRouting is where each subnet's IPv4 goes by default: a public
// subnet to the internet, one routed to an ENI (a NAT instance or gateway)
// by a table of its own to that ENI.
func (r *reconciler) routerSubnetRouting(v VPC, up netlink.Link, legs map[string]netlink.Link) ([]route, []policy) {
	var routes []route
	var rules []policy
	for _, s := range v.Subnets {
		si := r.subnets[s.ID]
		if si == nil {
			continue
		}
		switch {
		case si.Public && up != nil:
			rules = append(rules, policy{prio: rtPrioRouter, src: si.prefix, table: rtInternet})
		case si.DefaultRouteENI != "":
			e, ok := r.findENI(si.DefaultRouteENI)
			gw, err := netip.ParseAddr(e.PrimaryIP)
			leg := legs[e.SubnetID]
			if !ok || err != nil || leg == nil {
				continue
			}
			rules = append(rules, policy{prio: rtPrioRouter, src: si.prefix, table: si.routeTbl})
			routes = append(routes, route{dst: anyIPv4, gw: gw, link: leg.Attrs().Index, table: si.routeTbl})
		}
	}
	return routes, rules
}

// ensureNAT replaces the router's NAT table unless it holds what maps ask for (always
// when force: its generation says someone else changed it).
func (r *reconciler) ensureNAT(c *nsCtx, uplink string, maps []PublicMapping, force bool) {
	t := natTable(r.p.prefix, uplink, maps)
	conn, err := c.nft()
	if err != nil {
		r.fail(fmt.Errorf("%s: nftables: %w", c.name, err))
		return
	}
	defer c.nftDone(r, r.nerr)
	digest := nftDigest(t)
	if !force {
		ok, err := nftCurrent(conn, digest, t)
		if err != nil || ok {
			r.fail(err)
			return
		}
	}
	if err := nftReplace(conn, digest, t); err != nil {
		r.fail(fmt.Errorf("%s: %w", c.name, err))
		return
	}
	r.changes++
}

// ensureInstances: a namespace per running instance.
func (r *reconciler) ensureInstances() {
	// An incremental pass trusts the open handle of every instance the delta does not
	// name (as ensureNS would) without sorting them all.
	ids := r.instancesToOpen()
	slices.Sort(ids)
	opened := r.openInstances(ids)
	for _, id := range ids {
		var c *nsCtx
		var err error
		if o, ok := opened[id]; ok {
			c, err = r.adoptNS(o, instanceSysctls)
		} else {
			c, err = r.ensureNS(r.p.InstanceNS(id), instanceSysctls, r.c.instNS[id])
		}
		if err != nil {
			delete(r.c.instNS, id)
			delete(r.c.routing, id)
			delete(r.c.routed, id)
			r.status.Instances.set(&r.instOwn, id, false, true)
			r.fail(err)
			continue
		}
		if c != r.c.instNS[id] {
			delete(r.c.routing, id)
			delete(r.c.routed, id)
			if r.made[c.name] { // no route or rule of the plane's in it to read back
				r.c.routed[id] = routedState{gen: c.gen}
			}
		}
		r.c.instNS[id] = c
		r.insts[id] = c
		r.status.Instances.set(&r.instOwn, id, true, false)
	}
}

// instancesToOpen are the running instances whose namespaces ensureInstances opens (or
// makes): all of them, or with a delta only those it names (the others' handles are
// trusted, as ensureNS would, and go straight into r.insts).
func (r *reconciler) instancesToOpen() []string {
	var ids []string
	if r.patched() {
		r.insts = r.last.insts // theirs, the memo's gone
		r.status.Instances, r.instOwn = r.c.memoStatus.Instances, ownNothing
		for id := range r.delta.insts {
			delete(r.insts, id)
			if r.running[id] {
				ids = append(ids, id)
			} else {
				r.status.Instances.set(&r.instOwn, id, false, true)
			}
		}
		return ids
	}
	incr := r.incr()
	r.insts, r.status.Instances, r.instOwn = make(map[string]*nsCtx, len(r.running)), newRealised[bool](len(r.running)), ownAll
	for id := range r.running {
		if c := r.c.instNS[id]; incr && c != nil && !r.delta.insts[id] {
			r.insts[id] = c
			r.status.Instances.set(&r.instOwn, id, true, false)
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

// openInstances opens or makes, in parallel (a worker per CPU), the namespaces of the
// instances of ids that have none open: making one is mostly the kernel's work, much of
// it outside any lock that serialises them.
func (r *reconciler) openInstances(ids []string) map[string]nsOpened {
	var todo []string
	for _, id := range ids {
		if r.c.instNS[id] == nil {
			todo = append(todo, id)
		}
	}
	if len(todo) < 2 || ensureNetnsMountOnce() != nil { // made once, before the workers race to
		return nil
	}
	out := make([]nsOpened, len(todo))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(todo); i = int(next.Add(1) - 1) {
				out[i] = openOrCreateNS(r.p.InstanceNS(todo[i]), instanceSysctls, &r.p.spares)
			}
		}()
	}
	wg.Wait()
	m := make(map[string]nsOpened, len(todo))
	for i, id := range todo {
		m[id] = out[i]
	}
	return m
}

// ensureENIs: a veth per realised ENI, eth<N> in the instance, host end on the bridge.
func (r *reconciler) ensureENIs() {
	if r.dp == nil {
		return
	}
	list := r.enisToEnsure()
	if len(list) >= r.p.dumpAt {
		r.dpLinks = r.dp.linksByName()
		defer func() { r.dpLinks = nil }()
	}
	for _, e := range list {
		if peer, ok := r.ensureENILink(e); ok {
			r.eniLink[e.ID] = peer
			r.status.ENIs.set(&r.eniOwn, e.ID, e.InstanceID, false)
		} else {
			delete(r.eniLink, e.ID)
			r.status.ENIs.set(&r.eniOwn, e.ID, "", true)
		}
	}
	r.joinDatapath()
	r.unrealised()
	if r.p.linksMade != nil {
		r.p.linksMade()
	}
}

// ensureENILink realises e's link (ensureENI) unless it is as the plane left it, and
// returns the ifindex of its instance end; ok is false when it is not realised.
func (r *reconciler) ensureENILink(e *eniInfo) (peer int, ok bool) {
	ent, cached := r.c.enis[e.ID]
	// The delta says it is as the last clean pass left it: its instance, bridge and
	// chains are there (else an error came first, and the pass is not incremental).
	if cached && ent.key != 0 && ent.instance == e.InstanceID && r.incr() && !r.delta.enis[e.ID] && !r.delta.insts[e.InstanceID] {
		return ent.peer, true
	}
	inst := r.insts[e.InstanceID]
	br, ok := r.bridges[e.SubnetID]
	if inst == nil || !ok {
		r.fail(fmt.Errorf("eni %s: instance namespace or bridge missing", e.ID))
		return 0, false
	}
	if !r.isEnforced(e.ID) {
		return 0, false // its chains failed (that error is reported): no port without them
	}
	if cached && r.subnetBridge(e.SubnetID, ent.bridge) {
		br = ent.bridge // where its port is (segments_linux.go)
	}
	key := eniKey(e, br, inst, r.mtu)
	if cached && ent.key == key && !r.full {
		return ent.peer, true
	}
	r.touched[e.InstanceID] = true
	r.known[e.ID] = cached && ent.ips == ipsKey(e)
	if cached { // invalid until realised again; still remembered, for removal
		ent.key = 0
		r.c.setENI(e.ID, ent)
		r.touched[ent.instance] = true
		if ent.instance != e.InstanceID || ent.eth != e.eth {
			r.cuts = append(r.cuts, cut{ent.instance, ent.peer}) // it moves
		}
	}
	n0 := r.nerr
	peer, br, err := r.ensureENI(e, inst, br)
	if err != nil {
		r.fail(fmt.Errorf("eni %s: %w", e.ID, err))
		return 0, false
	}
	if r.nerr == n0 {
		r.c.setENI(e.ID, eniEntry{key: eniKey(e, br, inst, r.mtu), instance: e.InstanceID, eth: e.eth, peer: peer, bridge: br, ips: ipsKey(e)})
	} else {
		r.c.setENI(e.ID, eniEntry{instance: e.InstanceID, eth: e.eth, peer: peer, bridge: br, ips: ipsKey(e)})
	}
	return peer, true
}

// dumpLinksAt is how many ENIs a pass ensures from which it reads the datapath's links
// at once (dpLinks) rather than each ENI's host names one by one: three lookups an ENI
// cost more than one dump at a few dozen.
const dumpLinksAt = 64

// dpLink is the datapath link of that name, or nil. A name the pass's dump of the links
// (ensureENIs) does not have is none: an ENI's host names are made only as that ENI is
// ensured. One it has is looked up again: the link may have gone since (deleted in the
// background, or with its peer).
func (r *reconciler) dpLink(name string) (netlink.Link, error) {
	if r.dpLinks != nil {
		if _, ok := r.dpLinks[name]; !ok {
			return nil, nil
		}
	}
	return r.dp.linkByName(name)
}

// ensureENI realises e's veth in inst on a bridge of its subnet, br while it has room
// (segments_linux.go); it returns the instance end's ifindex and the bridge. An ENI the
// plane holds nothing of (holdsNothingOf) gets its pair without its host names looked up
// first (three round trips to the kernel); should one be taken after all, the kernel
// refuses the new pair (EEXIST), and they are looked up then.
func (r *reconciler) ensureENI(e *eniInfo, inst *nsCtx, br int) (int, int, error) {
	if r.holdsNothingOf(e, inst) {
		peer, b, err := r.ensureENIWith(e, inst, br, make([]netlink.Link, len(e.hostNames())))
		if !errors.Is(err, unix.EEXIST) {
			return peer, b, err
		}
		r.p.pairRetries.Add(1)
	}
	var hosts []netlink.Link
	for _, name := range e.hostNames() {
		l, err := r.dpLink(name)
		if err != nil {
			return 0, 0, err
		}
		hosts = append(hosts, l)
	}
	return r.ensureENIWith(e, inst, br, hosts)
}

// holdsNothingOf reports whether the plane made no link of e's that may still be there,
// as far as an incremental pass knows (a full one reads them all), for e in inst, a
// namespace this pass made (a launch's, a task's: nothing holds e's eth<N> there): it has
// not realised e (no entry), keeps no pair e left (deferred), no deletion of old pairs
// failed since the last full pass (retireFailed), and it reads the links one by one
// (dpLinks: with a dump, a lookup costs nothing). A pair of e's being deleted in the
// background may still hold a host name: the kernel's EEXIST says so.
func (r *reconciler) holdsNothingOf(e *eniInfo, inst *nsCtx) bool {
	_, cached := r.c.enis[e.ID]
	_, kept := r.p.deferred[e.ID]
	return r.incr() && r.made[inst.name] && r.dpLinks == nil && !cached && !kept && !r.p.retireFailed.Load()
}

// ensureENIWith is ensureENI with the datapath links of e's host names (nil: none).
func (r *reconciler) ensureENIWith(e *eniInfo, inst *nsCtx, br int, hosts []netlink.Link) (int, int, error) {
	mac, _ := net.ParseMAC(e.mac) // validated in plan
	var peer netlink.Link
	var err error
	if !r.made[inst.name] { // else no link holds eth<N> there: it has lo alone but what this pass adds
		if peer, err = inst.linkByName(e.eth); err != nil {
			return 0, 0, err
		}
	}
	addrs := eniAddrs(e)
	// A pair being deleted in the background (the ENI moved away and back quickly) is not
	// the ENI's, nor is a shut one (one it left, or an old pair whose deletion a restart
	// cut short) unless the plane opens it again (reopen).
	pending := func(l netlink.Link) bool { return l != nil && r.p.isPending("", l.Attrs().Index) }
	ours := func(l netlink.Link) bool { return !pending(l) && !isShut(l) && isPair(r.dp, l, inst, peer) }
	var host netlink.Link
	reopened := false
	if i := slices.IndexFunc(hosts, ours); i >= 0 {
		host = hosts[i]
	} else {
		if host, peer, err = r.reopen(e, inst, hosts, peer); err != nil {
			return 0, 0, err
		}
		reopened = host != nil
	}
	if host == nil {
		// Recreate (also how an ENI moves): a new pair with the same MAC under a free one
		// of the ENI's host names (the ruleset covers them all) answers within
		// milliseconds; the old pair is shut, and kept a while or deleted in the
		// background after the announcement (retire).
		name, err := r.freeENISlot(e, inst, hosts, peer, pending)
		if err != nil {
			return 0, 0, err
		}
		h := firstLink(hosts...) // the pair it leaves first
		if i := slices.IndexFunc(hosts, func(h netlink.Link) bool { return h != nil && !isShut(h) && !pending(h) }); i >= 0 {
			h = hosts[i]
		}
		if h != nil && r.subnetBridge(e.SubnetID, h.Attrs().MasterIndex) {
			br = h.Attrs().MasterIndex // a move: the new pair goes where the old one is
		}
		return r.createENIPort(e, inst, br, func(br int) (int, error) { return r.createENIPair(e, inst, br, name, mac, addrs) })
	}
	kept := r.p.deferred[e.ID].idx
	for _, other := range hosts {
		// A pair it left (but not the one kept: a pass that finds the ENI where it is
		// changes nothing).
		if other != nil && other.Attrs().Index != host.Attrs().Index && other.Attrs().Index != kept && !pending(other) {
			r.retire(e.ID, other, true)
			r.changes++
		}
	}
	if peer.Attrs().HardwareAddr.String() != mac.String() {
		if err := inst.h.LinkSetHardwareAddr(peer, mac); err != nil {
			return 0, 0, err
		}
		r.changes++
	}
	if master := host.Attrs().MasterIndex; r.subnetBridge(e.SubnetID, master) {
		br = master // its port stays where it is
	} else {
		if br, err = r.portBridge(e, br); err != nil {
			return 0, 0, err
		}
		if err := r.dp.h.LinkSetMasterByIndex(host, br); err != nil {
			return 0, 0, err
		}
		r.ports[br]++
		r.changes++
	}
	r.count(ensureMTU(r.dp, host, r.mtu))
	r.count(ensureMTU(inst, peer, r.mtu))
	r.count(setUp(r.dp, host))
	r.count(setUp(inst, peer))
	n, err := ensureAddrs(inst, peer, addrs, append(slices.Clone(e.pfx4), e.pfx6...)...) // addresses in delegated prefixes are the instance's to set
	r.count(n, err)
	if reopened || n > 0 && !r.known[e.ID] { // back (the bridges learn where), or its addresses changed: one may have been another ENI's
		r.announce(e, inst, peer.Attrs().Index, host.Attrs().Name, br)
	}
	return peer.Attrs().Index, br, nil
}

// eniAddrs are the ENI's addresses with its subnet's prefix lengths.
func eniAddrs(e *eniInfo) []netip.Prefix {
	si := e.subnet
	var addrs []netip.Prefix
	for _, a := range e.ips {
		addrs = append(addrs, netip.PrefixFrom(a, si.prefix.Bits()))
	}
	for _, a := range e.ips6 {
		bits := 64
		if si.prefix6.IsValid() {
			bits = si.prefix6.Bits()
		}
		addrs = append(addrs, netip.PrefixFrom(a, bits))
	}
	return addrs
}

// freeENISlot clears the way for e's new pair: whatever holds eth<N> in inst goes
// (set aside when it is the ENI's own old pair being deleted), the oldest of its host
// names is freed if all are taken, the pairs it left are retired; it returns the host
// name to use.
func (r *reconciler) freeENISlot(e *eniInfo, inst *nsCtx, hosts []netlink.Link, peer netlink.Link, pending func(netlink.Link) bool) (string, error) {
	hosts = slices.Clone(hosts)
	if peer != nil { // something else holds eth<N> in this instance
		i := slices.IndexFunc(hosts, func(h netlink.Link) bool { return isPair(r.dp, h, inst, peer) })
		if i >= 0 && pending(hosts[i]) {
			// The old pair of this ENI (it moved away and back quickly), being deleted in
			// the background: deleting it here would wait for that (tens of ms); moving
			// it out of the way takes a rename.
			if err := r.setAside(inst, peer); err != nil {
				return "", err
			}
		} else {
			if i >= 0 {
				r.forgetKept(e.ID, hosts[i])
				hosts[i] = nil // goes with its peer
			}
			if err := delLink(inst.h, peer); err != nil {
				return "", err
			}
		}
		r.changes++
	}
	names := e.hostNames()
	free := slices.IndexFunc(hosts, func(h netlink.Link) bool { return h == nil })
	if free < 0 { // all taken (moves in quick succession): free one now, a pending one first
		if free = slices.IndexFunc(hosts, pending); free < 0 {
			free = max(slices.IndexFunc(hosts, isShut), 0)
		}
		r.forgetKept(e.ID, hosts[free])
		r.trash(hosts[free])
		r.changes++
		hosts[free] = nil
	}
	for _, old := range hosts {
		if old != nil && !pending(old) {
			r.retire(e.ID, old, true)
			r.changes++
		}
	}
	return names[free], nil
}

// createENIPair makes e's veth: name on bridge br, eth<N> with the ENI's MAC
// and addresses in inst, up; its announcement goes once the instance's
// routing is in place (r.garps). It returns the instance end's ifindex.
func (r *reconciler) createENIPair(e *eniInfo, inst *nsCtx, br int, name string, mac net.HardwareAddr, addrs []netip.Prefix) (int, error) {
	idx, err := vethCreate(r.dp, veth{name: name, master: br, mtu: r.mtu, peer: e.eth, peerMAC: mac, peerNS: inst.ns})
	if err != nil {
		return 0, fmt.Errorf("create veth %s/%s: %w", name, e.eth, err)
	}
	r.changes++
	// Fresh: the MAC, master and host-end state are as created; only the instance end
	// needs to come up and get its addresses (there are none to remove). Its index is
	// the kernel's echo's, else looked up.
	var peer netlink.Link = &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Index: idx, Name: e.eth}}
	if idx == 0 {
		if peer, err = inst.linkByName(e.eth); err != nil || peer == nil {
			return 0, fmt.Errorf("veth %s vanished: %v", e.eth, err)
		}
		idx = peer.Attrs().Index
	}
	if err := inst.h.LinkSetUp(peer); err != nil {
		return 0, fmt.Errorf("%s: set %s up: %w", inst.name, e.eth, err)
	}
	for _, p := range addrs {
		a := &netlink.Addr{IPNet: ipNet(p)}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		if err := inst.h.AddrReplace(peer, a); err != nil {
			r.fail(fmt.Errorf("%s: add address %s to %s: %w", inst.name, p, e.eth, err))
			continue
		}
		r.changes++
	}
	// The announcement teaches the bridges where the ENI's MAC is now, and the subnet's
	// instances which MAC its addresses have. An ENI moved with the addresses it had
	// (its MAC goes with it) needs only the first: the announcement goes to the router
	// alone, not flooded to every port of the subnet (a flood costs the sender's pass
	// about 10 µs a port here); so does a new one's, unless it tells someone something
	// (announce_linux.go).
	r.announce(e, inst, idx, name, br)
	return idx, nil
}

// instanceRoutes makes an instance's plane routes and rules: from what the plane last
// made them in an incremental pass (routed), else read back and repaired.
func (r *reconciler) instanceRoutes(id string, c *nsCtx, key uint64, tables []int, routes []route, rules []policy) {
	prev, known := r.c.routed[id]
	delete(r.c.routing, id)
	delete(r.c.routed, id)
	n0 := r.nerr
	if known && !r.full && prev.gen == c.gen {
		r.count(changeRoutes(c, prev.routes, routes))
		r.count(changeRules(c, prev.rules, rules))
	} else {
		r.p.routingReads.Add(1)
		r.count(ensureRoutes(c, tables, routes))
		r.count(ensureRules(c, rtPrioInstLo, rtPrioInstHi, rules))
	}
	if r.nerr == n0 {
		r.c.routing[id] = key
		r.c.routed[id] = routedState{gen: c.gen, routes: routes, rules: rules}
	}
}

// ensureInstanceRouting: default routes via eth0 and per-ENI tables and rules, so that
// replies leave by the ENI they came in on. Instances with recreated (moved, new) ENIs go
// first, and each announces its ENIs (gratuitous ARP) as soon as its routing is in place.
func (r *reconciler) ensureInstanceRouting() {
	// With a delta: only the instances that changed, whose ENIs' links changed, or whose
	// routing the plane does not know.
	ids, byInst := r.routingDirty()
	an := newAnnouncer(runtime.GOMAXPROCS(0))
	defer func() { r.failAll(an.wait()) }()
	slices.SortFunc(ids, func(a, b string) int {
		fa, fb := len(r.garps[a]) > 0, len(r.garps[b]) > 0
		if fa != fb {
			if fa {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, id := range ids {
		c := r.insts[id]
		var routes []route
		var rules []policy
		tables := []int{254}
		for _, e := range byInst[id] {
			if _, ok := r.status.ENIs.Lookup(e.ID); !ok {
				continue
			}
			idx := r.eniLink[e.ID]
			tbl := rtInstanceBase + e.DeviceIndex
			si := e.subnet
			tables = append(tables, tbl)
			if e.DeviceIndex == 0 {
				routes = append(routes, route{dst: anyIPv4, gw: si.router, link: idx, table: 254})
				if si.prefix6.IsValid() && len(e.ips6)+len(e.pfx6) > 0 {
					routes = append(routes, route{dst: anyIPv6, gw: si.router6, link: idx, table: 254})
				}
			}
			routes = append(routes,
				route{dst: si.prefix, link: idx, src: e.ips[0], table: tbl},
				route{dst: anyIPv4, gw: si.router, link: idx, table: tbl})
			prio := rtPrioInstLo + e.DeviceIndex
			if prio > rtPrioInstHi {
				prio = rtPrioInstHi
			}
			for _, a := range e.ips {
				rules = append(rules, policy{prio: prio, src: netip.PrefixFrom(a, 32), table: tbl})
			}
			for _, p := range e.pfx4 {
				rules = append(rules, policy{prio: prio, src: p, table: tbl})
			}
			if si.prefix6.IsValid() && len(e.ips6)+len(e.pfx6) > 0 { // an IPv6 prefix alone is IPv6 too
				routes = append(routes,
					route{dst: si.prefix6, link: idx, table: tbl},
					route{dst: anyIPv6, gw: si.router6, link: idx, table: tbl})
				for _, a := range e.ips6 {
					rules = append(rules, policy{prio: prio, src: netip.PrefixFrom(a, 128), table: tbl})
				}
				for _, p := range e.pfx6 {
					rules = append(rules, policy{prio: prio, src: p, table: tbl})
				}
			}
		}
		key := routingKey(c.gen, tables, routes, rules)
		if k, ok := r.c.routing[id]; !ok || k != key || r.full || len(r.garps[id]) > 0 {
			r.instanceRoutes(id, c, key, tables, routes, rules)
		}
		if len(r.garps[id]) > 0 {
			an.send(r.garps[id])
			continue
		}
		r.failAll(an.wait())
		r.startRetire() // the moves are done and announced: old pairs go now
	}
}

// routingDirty are the instances whose routing ensureInstanceRouting looks at, and their
// ENIs: all of them, or with a delta those it names, whose ENIs' links changed, or whose
// routing the plane does not know. When patching, the last are among the others: the
// last clean pass knew every instance's.
func (r *reconciler) routingDirty() ([]string, map[string][]*eniInfo) {
	incr := r.incr()
	dirty := func(id string) bool {
		if !incr || r.delta.insts[id] || r.touched[id] {
			return true
		}
		_, ok := r.c.routing[id]
		return !ok
	}
	var ids []string
	if r.patched() {
		for _, m := range []map[string]bool{r.delta.insts, r.touched} {
			for id := range m {
				if r.insts[id] != nil && !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		dirty = func(id string) bool { return r.delta.insts[id] || r.touched[id] }
	} else {
		for id := range r.insts {
			if dirty(id) {
				ids = append(ids, id)
			}
		}
	}
	byInst := map[string][]*eniInfo{}
	if r.patched() { // the few the delta names, looked up
		for _, id := range ids {
			if l := r.enisOf(id); len(l) > 0 {
				byInst[id] = l
			}
		}
		return ids, byInst
	}
	for _, e := range r.enis {
		if dirty(e.InstanceID) {
			byInst[e.InstanceID] = append(byInst[e.InstanceID], e)
		}
	}
	return ids, byInst
}

// ensureDatapathRules: the datapath ruleset, for the ENIs ensureENIs realises next (those
// whose instance namespace and bridge are there). A full pass checks it and reloads it
// whole in one atomic batch when it differs, before their links exist; an incremental
// pass changes only the parts of the ENIs that are new, changed or gone, in one atomic
// batch. Either reloads it whole when someone else changed it (drift_linux.go). The ENIs
// whose chains are in place are r.enforced.
//
// The incremental batch is sent while ensureENIs makes the links (on two CPUs, 0.1-0.2 ms
// off the pass that brings an instance up: BenchmarkInstanceUpPass), which waits for it
// before it counts any of them realised (joinDatapath). A link made before its ENI's
// elements are in carries nothing: the shared chains drop what a port without them sends
// or would be sent (bridgeFrom, bridgeTo); TestENIPortEnforcedWhileItExists checks from
// the end of ensureENIs that the port's rules are in.
func (r *reconciler) ensureDatapathRules() {
	r.enforced = map[string]bool{}
	if r.dp == nil {
		return
	}
	c := r.c
	d := &dpPass{r: r}
	if c.nextMark == 0 { // a new plane: the marks the kernel's ruleset holds are the ENIs'
		r.adoptMarks()
	}
	incr := r.incr()
	base := dpBaseKey(r.p.prefix, r.subnetSeq)
	d.checkGen(base)
	// Patching the last clean pass's plan, and changing the ruleset in part: the ENIs the
	// delta does not name are enforced as they were (r.enforcedAll), unlisted.
	partial := r.patched() && !r.full && c.nftBase == base
	fresh := d.list(partial)
	r.forgetConnections()
	if !incr {
		c.rekeyProfiles(nil, r.groups)
		d.rekeyed = true
	} else if len(r.delta.groups) > 0 {
		c.rekeyProfiles(r.delta.groups, r.groups)
		d.rekeyed = true
	}
	for _, e := range fresh {
		e.prof = c.profile(e, r.groups)
		d.keys[e] = dpENIKey(e)
	}
	release := func() { // marks of ENIs whose chains are gone
		if incr && r.nerr == 0 {
			for id := range r.delta.enis {
				if _, ok := c.nftENI[id]; !ok && !r.isEnforced(id) {
					c.releaseMark(id)
				}
			}
			return
		}
		for id := range c.marks {
			if _, ok := c.nftENI[id]; !ok && !r.isEnforced(id) {
				c.releaseMark(id)
			}
		}
	}
	d.base = base
	if !r.full && c.nftBase == base {
		d.incremental()
	} else {
		d.whole(base)
	}
	if wait := r.dpPending; wait != nil {
		r.dpPending = func() { wait(); release() }
		return
	}
	release()
}

// joinDatapath waits for the datapath's batch that ensureDatapathRules sent (if any) and
// takes its outcome: the ENIs of a batch that failed are not enforced, nor realised (their
// new ports carry nothing: the shared chains drop what a port without its ENI's elements
// sends or would receive).
func (r *reconciler) joinDatapath() {
	if wait := r.dpPending; wait != nil {
		r.dpPending = nil
		wait()
	}
}

// isEnforced reports whether the ENI id's chains are in the datapath ruleset (this pass).
func (r *reconciler) isEnforced(id string) bool {
	return r.enforced[id] || (r.enforcedAll && !r.delta.enis[id] && r.planned(id) != nil)
}

// list lists the ENIs of the pass in d, with their marks (r.enforced), and returns those
// whose keys (and profiles) are to be computed. partial: only those the delta names; the
// others are enforced as the last clean pass left them.
func (d *dpPass) list(partial bool) (fresh []*eniInfo) {
	r, c := d.r, d.r.c
	enis := r.enis
	if partial {
		r.enforcedAll = true
		enis = r.deltaPlanned()
	} else {
		r.enforced = make(map[string]bool, len(r.enis))
	}
	d.keys, d.enis = make(map[*eniInfo]uint64, len(enis)), make([]*eniInfo, 0, len(enis))
	incr := r.incr()
	for _, e := range enis {
		// An ENI the delta does not name has the spec it had (its list of groups and its
		// subnet are unchanged too: its profile), its mark, and its instance and bridge
		// (else an error came first).
		if old, ok := c.nftENI[e.ID]; incr && ok && !r.delta.enis[e.ID] {
			if m := c.marks[e.ID]; m == old.mark {
				e.mark, e.prof = m, old.prof
				d.enis = append(d.enis, e)
				d.keys[e] = old.key
				r.enforced[e.ID] = true
				continue
			}
		}
		if _, ok := r.bridges[e.SubnetID]; !ok || r.insts[e.InstanceID] == nil {
			continue
		}
		m, err := c.mark(e.ID)
		if err != nil {
			r.fail(err)
			continue
		}
		e.mark = m
		d.enis = append(d.enis, e)
		r.enforced[e.ID] = true
		fresh = append(fresh, e)
	}
	return fresh
}

// checkGen reads the datapath ruleset's generation: whether it is the one the plane's
// last change left (else it is loaded whole).
func (d *dpPass) checkGen(base uint64) {
	r, c := d.r, d.r.c
	d.gen, d.genErr = r.dp.nftGen()
	d.trusted = d.genErr == nil && uint64(d.gen)+1 == r.p.dpGen.Load()
	if !d.trusted && d.genErr == nil && r.dpStamped(d.gen, base) {
		// The last change was a plane's (a former one's: a restart), with the base chains
		// wanted now, and nobody changed the ruleset since: what whole finds (its chains
		// name the specs of its ENIs) it need not load again.
		d.trusted = true
		r.p.dpGen.Store(uint64(d.gen) + 1)
	}
	if !d.trusted {
		r.dpUntrusted = true
		// Not the generation the plane's last change left: someone else changed the
		// ruleset (or this plane never wrote it): load it again whole.
		c.nftBase = 0
	}
}

// adoptMarks gives the ENIs of the datapath ruleset a plane left behind (a restart) the
// marks they had, from its marker chains: a tracked connection's ct mark names the ENIs it
// is between, so an ENI given another mark would cut every connection it had. Those of
// ENIs no longer wanted are released at the end of the pass, as any gone ENI's.
func (r *reconciler) adoptMarks() {
	conn, err := r.dp.nft()
	if err != nil {
		return // the pass reports the datapath's nftables error itself
	}
	chains, err := conn.ListChainsOfTableFamily(nftables.TableFamilyBridge)
	if err != nil {
		r.dp.nftKeep(false)
		return
	}
	c := r.c
	for _, ch := range chains {
		if ch.Table == nil || ch.Table.Name != r.p.prefix {
			continue
		}
		if m, eni, ok := parseENIMarker(ch.Name); ok {
			c.marks[eni] = m
			c.nextMark = max(c.nextMark, m)
		}
		if n, id, ok := parseProfileMarker(ch.Name); ok {
			c.adoptedProfs[id] = n
			c.nextProf = max(c.nextProf, n)
		}
	}
}

// forgetConnections deletes the tracked connections of the ENIs whose marks were released
// or given to other ENIs, before the new ENIs' chains go in: a connection's ct mark names
// the ENIs it is between, and must not name the new owner of a mark (nor an old mark of
// an ENI that comes back with another).
func (r *reconciler) forgetConnections() {
	if len(r.c.reused) == 0 {
		return
	}
	if r.forgetMarks(r.c.reused) {
		r.c.reused = nil
	}
}

// forgetReleased, at the end of a pass, starts forgetting the connections of the ENIs
// whose marks were released, in the background: the kernel deletes them, two deletions
// a mark that each pass over its whole table (0.15 ms here), or one walk reads the table
// for many marks (about 4 ms for both families: conntrack_linux.go), and the next pass
// must not wait for either. The marks are clean once it has ended
// (planeCache.forgot); until then they are given to no ENI.
//
// A walk under way does not hold the marks back until a later pass: the next one starts
// when it ends, on its handle. Held back, a moved ENI's connections would name its old
// mark for as long as no pass came, and a flow that kept its connection alive would
// never reach the new owner (CI: an ENI moved again while the walk of its previous move
// was under way went unanswered for 15 s).
func (r *reconciler) forgetReleased() {
	c := r.c
	c.forgot(false)
	if len(c.released) == 0 || r.dp == nil {
		return
	}
	var prev *ctWalk
	if n := len(c.walks); n > 0 {
		if last := c.walks[n-1]; last.h == c.ct && c.ctGen == r.dp.gen {
			prev = last // after it, on its sockets
		} else {
			// Its sockets are of a datapath namespace made again since (or closed
			// after a failed walk): ctHandle replaces them once the walks on them end.
			c.forgot(true)
		}
	}
	w := &ctWalk{prev: prev, done: make(chan struct{})}
	if prev != nil {
		w.h = prev.h
	} else {
		h, err := c.ctHandle(r.dp)
		if err != nil {
			r.fail(err)
			return
		}
		w.h = h
	}
	w.marks = c.released // with those of the walks that failed meanwhile
	c.released = nil
	c.walks = append(c.walks, w)
	starts := r.p.walkStarts
	r.p.bg.Add(1)
	go func() {
		defer r.p.bg.Done()
		w.run(starts)
	}()
}

// ctWalk is one walk of the datapath's connection tracking that forgets the connections
// of marks.
type ctWalk struct {
	marks []uint32
	h     *ctConn       // the plane's (planeCache.ctHandle)
	prev  *ctWalk       // the walk before it on h, if under way when it was made
	done  chan struct{} // closed when it has ended
	err   error         // its result, once done is closed
}

// run waits for the walk before it, then walks; after a failed walk the sockets may hold
// the rest of its answers, so the walks after it fail too (their marks are released
// again, for the next pass, which opens new ones).
func (w *ctWalk) run(starts func([]uint32)) {
	defer close(w.done)
	if w.prev != nil {
		<-w.prev.done
		if w.err = w.prev.err; w.err != nil {
			return
		}
	}
	if starts != nil {
		starts(w.marks)
	}
	w.err = forgetMarksWith(w.h, w.marks)
}

// forgot collects the walks that have ended, in order (wait: waits for every one): their
// marks are clean, or released again if they failed.
func (c *planeCache) forgot(wait bool) {
	for len(c.walks) > 0 {
		w := c.walks[0]
		if !wait {
			select {
			case <-w.done:
			default:
				return
			}
		}
		<-w.done
		c.walks = c.walks[1:]
		if w.err == nil {
			c.cleanMarks = append(c.cleanMarks, w.marks...)
			continue
		}
		c.released = append(c.released, w.marks...)
		if c.ct == w.h { // it may hold the rest of the failed walk's answers
			c.ct.Close()
			c.ct = nil
		}
	}
}

// forgetMarks deletes the datapath's tracked connections whose mark names one of
// marks, and says whether it did.
func (r *reconciler) forgetMarks(marks []uint32) bool {
	r.c.forgot(true) // the handle is the background walk's
	h, err := r.c.ctHandle(r.dp)
	if err != nil {
		r.fail(err)
		return false
	}
	if err := forgetMarksWith(h, marks); err != nil {
		h.Close()
		r.c.ct = nil
		r.fail(err)
		return false
	}
	return true
}

// dpPass is one pass's work on the datapath ruleset.
type dpPass struct {
	r       *reconciler
	enis    []*eniInfo
	keys    map[*eniInfo]uint64
	gen     uint32 // the ruleset's generation before the pass
	genErr  error
	base    uint64 // dpBaseKey
	trusted bool   // gen is the one the plane's last change left
	rekeyed bool   // the profiles' keys were computed again: their groups may have changed
}

// stamp queues, in the batch of the pass's change to the ruleset, the stamp of the
// generation it makes (dpStamp).
func (d *dpPass) stamp(conn *nftables.Conn) {
	if d.genErr == nil {
		queueDPStamp(conn, d.r.p.prefix, d.gen+1, d.base)
	}
}

// wrote records that the plane's change made the generation after d.gen.
func (d *dpPass) wrote() {
	if d.genErr != nil {
		d.r.p.dpGen.Store(0)
		return
	}
	d.r.p.dpGen.Store(uint64(d.gen+1) + 1)
}

func (d *dpPass) entries() map[string]nftEntry {
	m := make(map[string]nftEntry, len(d.enis))
	for _, e := range d.enis {
		m[e.ID] = nftEntry{mark: e.mark, key: d.keys[e], prof: e.prof, elems: dpENIElems(e)}
	}
	return m
}

// notLoaded: the chains of es may not be as wanted; those of the ENIs among them that
// the plane last loaded as they are still are.
func (d *dpPass) notLoaded(es []*eniInfo) {
	for _, e := range es {
		if old, ok := d.r.c.nftENI[e.ID]; !ok || old.key != d.keys[e] {
			delete(d.r.enforced, e.ID)
		}
	}
}

// candidates are the ENIs of d whose parts may have changed: with a delta, those it
// names (in id order, as d.enis), else all.
func (d *dpPass) candidates() []*eniInfo {
	r := d.r
	if !r.incr() {
		return d.enis
	}
	var out []*eniInfo
	for id := range r.delta.enis {
		if e := r.planned(id); e != nil && r.isEnforced(id) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *eniInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// incremental changes the parts of the ENIs that are new, changed or gone, and the
// profiles whose rules changed or that ENIs came to use or no longer use.
func (d *dpPass) incremental() {
	r, c := d.r, d.r.c
	add, change, gone, goneIDs, oldKey := d.eniChanges()
	refs := map[*profEntry]int{} // how many more loaded ENIs use each profile
	for _, e := range add {
		refs[e.prof]++
	}
	for _, ch := range change {
		refs[c.nftENI[ch.e.ID].prof]--
		refs[ch.e.prof]++
	}
	for _, id := range goneIDs {
		refs[c.nftENI[id].prof]--
	}
	pc := c.profPlan(refs, d.rekeyed)
	changed := slices.Clone(add) // below, what was added or changed either way
	for _, ch := range change {
		changed = append(changed, ch.e)
	}
	if len(changed)+len(gone) == 0 && pc.empty() {
		return
	}
	conn, err := r.dp.nft()
	if err != nil {
		r.fail(fmt.Errorf("datapath nftables: %w", err))
		d.notLoaded(changed)
		return
	}
	// The batch carries no stamp: it is written once the passes pause (writeStamp).
	// The batch goes while ensureENIs makes the new ENIs' ports (joinDatapath waits for
	// it): a port carries nothing until its ENI's elements are in (bridgeFrom, bridgeTo).
	groups, prefix, keys := r.groups, r.p.prefix, d.keys
	join := goPass(func() error { return dpApply(conn, prefix, add, change, keys, oldKey, gone, pc, groups) })
	r.dpPending = func() { d.applied(join(), changed, goneIDs, pc, refs) }
}

// goPass runs f on a goroutine of its own for a pass, and returns what waits for its
// error. A panic of f's panics the pass's own goroutine when it waits (the agent
// recovers a pass's panic: one on another goroutine would end the server).
func goPass(f func() error) (join func() error) {
	type panicked struct {
		v     any
		stack []byte
	}
	done := make(chan any, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- panicked{v, debug.Stack()}
			}
		}()
		done <- f()
	}()
	return func() error {
		switch v := (<-done).(type) {
		case panicked:
			panic(fmt.Sprintf("%v\n\n(on the pass's goroutine of:)\n%s", v.v, v.stack))
		case error:
			return v
		}
		return nil
	}
}

// applied takes the outcome of the incremental batch that changed the ENIs changed and
// removed those of goneIDs.
func (d *dpPass) applied(err error, changed []*eniInfo, goneIDs []string, pc profChanges, refs map[*profEntry]int) {
	r, c := d.r, d.r.c
	r.dp.nftKeep(err == nil)
	if err != nil {
		r.fail(fmt.Errorf("datapath: %w", err))
		c.nftBase = 0 // reload it all next time
		for _, e := range changed {
			delete(r.enforced, e.ID) // not enforced: not attached
			if _, ok := r.eniLink[e.ID]; ok {
				delete(r.eniLink, e.ID)
				r.status.ENIs.set(&r.eniOwn, e.ID, "", true)
			}
		}
		return
	}
	d.wrote()
	if d.genErr == nil {
		r.p.stampLater()
	}
	for _, e := range changed {
		c.nftENI[e.ID] = nftEntry{mark: e.mark, key: d.keys[e], prof: e.prof, elems: dpENIElems(e)}
	}
	for _, id := range goneIDs {
		delete(c.nftENI, id)
	}
	c.profApplied(pc, refs)
	r.changes += len(changed) + len(goneIDs) + len(pc.add) + len(pc.refill) + len(pc.gone)
}

// eniChanges are the ENIs whose parts are new, changed (with their old markers' keys by
// mark) or gone.
func (d *dpPass) eniChanges() (add []*eniInfo, change []dpChange, gone []dpGone, goneIDs []string, oldKey map[uint32]uint64) {
	r, c := d.r, d.r.c
	oldKey = map[uint32]uint64{}
	for _, e := range d.candidates() {
		old, ok := c.nftENI[e.ID]
		switch {
		case !ok:
			add = append(add, e)
		case old.key != d.keys[e]:
			change = append(change, dpChange{e: e, elems: old.elems})
			oldKey[e.mark] = old.key
		}
	}
	// With a delta, the ENIs it does not name are as they were; the gone ones are among
	// those it names.
	goneOne := func(id string, old nftEntry) {
		if !r.isEnforced(id) {
			gone = append(gone, dpGone{id: id, mark: old.mark, key: old.key, elems: old.elems})
			goneIDs = append(goneIDs, id)
		}
	}
	if r.incr() {
		for id := range r.delta.enis {
			if old, ok := c.nftENI[id]; ok {
				goneOne(id, old)
			}
		}
	} else {
		for id, old := range c.nftENI {
			goneOne(id, old)
		}
	}
	return add, change, gone, goneIDs, oldKey
}

// whole checks the ruleset and loads it whole when it is not the plane's.
func (d *dpPass) whole(base uint64) {
	r, c := d.r, d.r.c
	var profs []*profEntry // the pass's profiles, each once, by number
	seen := map[*profEntry]bool{}
	for _, e := range d.enis {
		if !seen[e.prof] {
			seen[e.prof] = true
			profs = append(profs, e.prof)
		}
	}
	slices.SortFunc(profs, func(a, b *profEntry) int { return int(a.num) - int(b.num) })
	ts := dpTables(r.p.prefix, r.subnetSeq, d.enis, d.keys, profs, r.groups)
	conn, err := r.dp.nft()
	if err != nil {
		r.fail(fmt.Errorf("datapath nftables: %w", err))
		d.notLoaded(d.enis)
		return
	}
	defer r.dp.nftDone(r, r.nerr)
	c.nftBase = 0
	ok, err := dpCurrent(conn, ts...)
	if err != nil {
		r.fail(err)
		d.notLoaded(d.enis)
		return
	}
	if !ok || !d.trusted {
		d.stamp(conn)
		if err := nftReplace(conn, "", ts...); err != nil {
			r.fail(fmt.Errorf("datapath: %w", err))
			for _, e := range d.enis { // not enforced: not attached
				delete(r.enforced, e.ID)
			}
			return
		}
		d.wrote()
		if d.genErr == nil {
			r.p.stampDue = false // the stamp went with the change (an incremental one's stays due: dueSince holds)
		}
		r.changes++
	}
	c.nftBase = base
	c.nftENI = d.entries()
	c.profWhole(c.nftENI)
}

// trash takes a datapath link out of service and deletes it in the background.
func (r *reconciler) trash(l netlink.Link) {
	p := r.p
	_ = r.dp.h.LinkSetDown(l) // best effort: deleted below anyway
	name := fmt.Sprintf("%s%c%08x", p.prefix, kindTrash, p.trashSeq.Add(1))
	if err := r.dp.h.LinkSetName(l, name); err != nil {
		r.fail(delLink(r.dp.h, l))
		return
	}
	idx := l.Attrs().Index
	p.pendMu.Lock()
	p.pending[name] = true
	p.pendingIdx[idx] = true
	p.pendMu.Unlock()
	dpName := r.dp.name
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		defer func() {
			p.pendMu.Lock()
			delete(p.pending, name)
			delete(p.pendingIdx, idx)
			p.pendMu.Unlock()
		}()
		ns, err := openNS(dpName)
		if err != nil {
			return // the datapath is gone, and the link with it
		}
		c, err := openCtx(dpName, ns)
		if err != nil {
			return
		}
		defer c.close()
		if l, err := c.linkByName(name); err == nil && l != nil {
			_ = delLink(c.h, l) // a leftover is removed by the next Reconcile
		}
	}()
}

// setAside renames a link that is about to be deleted in the background (so its name is
// free at once); a link that is already gone is fine.
func (r *reconciler) setAside(c *nsCtx, l netlink.Link) error {
	_ = c.h.LinkSetDown(l) // renaming needs it down; gone is fine
	name := fmt.Sprintf("%s%c%08x", r.p.prefix, kindTrash, r.p.trashSeq.Add(1))
	if err := c.h.LinkSetName(l, name); err != nil && !errors.Is(err, unix.ENODEV) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%s: set %s aside: %w", c.name, l.Attrs().Name, err)
	}
	return nil
}

// retire takes a datapath link (a pair an ENI left, or a gone ENI's) out of service. The
// pair an ENI leaves now (mapped, not yet shut) is shut (portShut): until it is deleted,
// its port still maps to the ENI in the datapath, and the old instance's root, who holds
// the other end, could give it the ENI's addresses again and send as the ENI
// (TestAttackOldOwnerAfterMove); a shut port brings nothing in and gets nothing. (Taking
// it down would too, but waits for an RCU grace period under the RTNL lock: milliseconds
// of the move's pass on a busy host.) That pair is kept (Plane.deferred) until the ENI
// comes back to that instance (reopen), leaves another, or the passes pause (deferIdle),
// or for deferMax; any other goes now: deleted in the background once the moves of this
// pass are announced (startRetire), so that the deletion does not compete with them for
// the kernel's RTNL lock. (A deletion takes the lock for grace periods of its own; with a
// move every few milliseconds several ran at once, and the passes waited for them.)
func (r *reconciler) retire(eni string, l netlink.Link, mapped bool) {
	idx := l.Attrs().Index
	keep := mapped && !isShut(l)
	if keep {
		if err := portShut(r.dp, l); err != nil && !errors.Is(err, unix.ENODEV) {
			r.fail(fmt.Errorf("retire %s: %w", l.Attrs().Name, err))
			keep = false
		}
	}
	p := r.p
	if d, ok := p.deferred[eni]; ok && (keep || d.idx == idx) {
		delete(p.deferred, eni)
		if d.idx != idx {
			r.retireNow(retiree{idx: d.idx, hold: d.hold}) // displaced by the newer one
		}
	}
	if keep {
		p.deferred[eni] = deferredPair{retiree: retiree{idx: idx, hold: p.retireStarts}, since: time.Now()}
		return
	}
	r.retireNow(retiree{idx: idx, hold: p.retireStarts})
}

// retireNow has the link deleted in the background (startRetire).
func (r *reconciler) retireNow(x retiree) {
	r.p.pendMu.Lock()
	r.p.pendingIdx[x.idx] = true
	r.p.pendMu.Unlock()
	r.retirees = append(r.retirees, x)
}

// retiree is a datapath link to delete in the background: its ifindex, and the tests'
// hold when it was retired (Plane.retireStarts).
type retiree struct {
	idx  int
	hold func()
}

// deferredPair is the pair an ENI left last, shut and kept (retire).
type deferredPair struct {
	retiree
	since time.Time
}

const (
	deferIdle = 50 * time.Millisecond // the passes pause this long: the kept pairs go
	deferMax  = 2 * time.Second       // a kept pair goes after this at the latest
)

// reopen opens the pair e left in inst again, as e comes back there while the pair is
// kept (retire): no new pair to make, and none to delete (the other pairs are retired by
// the caller). It returns the pair's host end, or nil and the instance's eth<N> as it is
// now when there is none to open.
func (r *reconciler) reopen(e *eniInfo, inst *nsCtx, hosts []netlink.Link, peer netlink.Link) (netlink.Link, netlink.Link, error) {
	d, ok := r.p.deferred[e.ID]
	i := slices.IndexFunc(hosts, func(h netlink.Link) bool { return h != nil && h.Attrs().Index == d.idx })
	if !ok || i < 0 || !isShut(hosts[i]) || !isPair(r.dp, hosts[i], inst, peer) {
		return nil, peer, nil
	}
	delete(r.p.deferred, e.ID)
	if err := portOpen(r.dp, hosts[i]); err != nil {
		if !errors.Is(err, unix.ENODEV) {
			r.fail(fmt.Errorf("eni %s: open %s again: %w", e.ID, hosts[i].Attrs().Name, err))
			return nil, peer, nil // a new pair, this one's instance end deleted (freeENISlot)
		}
		peer, err = inst.linkByName(e.eth) // deleted meanwhile (by the instance), with its pair
		return nil, peer, err
	}
	r.changes++
	return hosts[i], peer, nil
}

// expireDeferred retires the kept pairs kept for maxAge or longer.
func (r *reconciler) expireDeferred(maxAge time.Duration) {
	for eni, d := range r.p.deferred {
		if time.Since(d.since) >= maxAge {
			delete(r.p.deferred, eni)
			r.retireNow(d.retiree)
		}
	}
}

// forgetKept drops e's kept pair when it is l (about to be deleted otherwise).
func (r *reconciler) forgetKept(eni string, l netlink.Link) {
	if d, ok := r.p.deferred[eni]; ok && l != nil && d.idx == l.Attrs().Index {
		delete(r.p.deferred, eni)
	}
}

// passEnded notes a pass's end, and arms the kept pairs' timer. Called with mu held.
func (p *Plane) passEnded() {
	p.lastPass = time.Now()
	p.idleOff = false
	p.armDeferred()
	p.armIdle()
}

// The datapath ruleset's stamp (queueDPStamp) tells a restarted plane that the ruleset
// is its former self's last change, untouched since (checkGen), so that it need not load
// it again. The batch of an incremental change does not carry it: replacing the stamp's
// table in the batch that brings an instance's ENI up cost that pass 0.2-0.4 ms here (the
// old table's objects are freed after an RCU grace period, and on this machine every one
// is expedited: it interrupts the other CPU, which is making the ENI's pair meanwhile).
// It is written once the passes pause for keepIdle (or keepFor after it became due, if
// they do not), and at Close. A process killed before that leaves an older stamp: its
// successor loads the ruleset whole, as one does without a stamp. Routers' guard markers
// are renamed at the same moments but for Close (a new plane makes its routers whole).

// stampLater records that the ruleset's stamp is due. Called with mu held.
func (p *Plane) stampLater() {
	p.noteDue()
	p.stampDue = true
}

// noteDue notes when something first became due since the last idle write. Called with
// mu held, before the flag is set.
func (p *Plane) noteDue() {
	if !p.stampDue && !p.markersDue {
		p.dueSince = time.Now()
	}
}

// idleWait is how long the idle writes wait now: until the passes have paused for
// keepIdle, or keepFor has passed since they became due.
func (p *Plane) idleWait() time.Duration {
	return min(p.keepIdle-time.Since(p.lastPass), p.keepFor-time.Since(p.dueSince))
}

// armIdle has the due stamp and markers written once the passes pause for keepIdle.
// Called with mu held.
func (p *Plane) armIdle() {
	if !p.stampDue && !p.markersDue {
		return
	}
	rearm(&p.idleTimer, max(p.idleWait(), 0), p.idleWrite)
}

// rearm has f run after d by *t, made at the first call.
func rearm(t **time.Timer, d time.Duration, f func()) {
	if *t == nil {
		*t = time.AfterFunc(d, f)
		return
	}
	(*t).Reset(d)
}

// idleWrite writes what is due if the passes have paused for keepIdle, or it has been
// due for keepFor (else waits on).
func (p *Plane) idleWrite() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idleOff {
		return
	}
	if wait := p.idleWait(); wait > 0 {
		if p.stampDue || p.markersDue {
			p.idleTimer.Reset(wait)
		}
		return
	}
	p.writeIdle()
}

// writeIdle writes the due stamp and markers. Called with mu held.
func (p *Plane) writeIdle() {
	p.writeMarkers()
	p.writeStamp()
}

// writeMarkers renames the routers' guard markers that are due (routerApply), each in a
// batch of its own, where the router's tables are still the plane's last change (else the
// next pass finds someone else's and makes the router whole). Called with mu held.
func (p *Plane) writeMarkers() {
	if !p.markersDue {
		return
	}
	p.markersDue = false
	r := &reconciler{p: p, c: p.cache}
	for id, ent := range p.cache.routers {
		st, c := ent.st, p.cache.routerNS[id]
		if st == nil || st.due == "" || c == nil {
			continue
		}
		if !r.renameMarker(id, c, ent) {
			delete(p.cache.routers, id) // unknown: the next pass makes it whole
		}
	}
}

// renameMarker renames router id's guard marker to its due name (its tables in c, ent
// its entry) and records the change as the plane's own. It reports whether the router's
// tables are as ent's state says.
func (r *reconciler) renameMarker(id string, c *nsCtx, ent routerEntry) bool {
	st := ent.st
	gen, err := c.nftGen()
	if err != nil || gen != ent.gen {
		return false
	}
	if err := guardChange(c, r.p.prefix+"rt", st.marker, st.due, nil, nil, nil, nil); err != nil {
		return false
	}
	after, err := c.nftGen()
	if err != nil || after != gen+1 { // another change came between: not known to be the plane's
		return false
	}
	st.marker, st.due = st.due, ""
	ent.gen = after
	r.c.routers[id] = ent
	r.ownRouterChange(id, c, gen, after, true)
	return true
}

// writeStamp writes the due stamp (of the base chains the ruleset was last loaded with,
// nftBase), in a batch of its own, if the ruleset is still the plane's last change (else
// the next pass finds someone else's and loads it whole). Called with mu held.
func (p *Plane) writeStamp() {
	dp, base := p.cache.dp, p.cache.nftBase
	if !p.stampDue || dp == nil {
		return
	}
	p.stampDue = false
	if base == 0 { // to be loaded whole: that batch carries the stamp
		return
	}
	gen, err := dp.nftGen()
	if err != nil || uint64(gen)+1 != p.dpGen.Load() {
		return
	}
	conn, err := dp.nft()
	if err != nil {
		return
	}
	queueDPStamp(conn, p.prefix, gen+1, base)
	err = conn.Flush()
	dp.nftKeep(err == nil)
	if err != nil {
		p.dpGen.Store(0) // the generation may have moved: the next pass checks it all
		return
	}
	p.dpGen.Store(uint64(gen+1) + 1)
	p.stampWrites.Add(1)
}

// dropIdle stops the idle writes, one whose timer fired already too (idleOff), and forgets
// the due stamp (as a killed process does; the markers due are the cache's routers',
// renamed if a pass runs again). Called with mu held.
func (p *Plane) dropIdle() {
	if p.idleTimer != nil {
		p.idleTimer.Stop()
	}
	p.idleOff = true
	p.stampDue = false
}

// armDeferred has the kept pairs deleted once the passes pause for keepIdle, and each
// once kept for keepFor even if they do not (passes with nothing to do return before
// expireDeferred). Called with mu held.
func (p *Plane) armDeferred() {
	if len(p.deferred) == 0 {
		return
	}
	wait := p.keepIdle
	for _, d := range p.deferred {
		wait = min(wait, max(p.keepFor-time.Since(d.since), 0))
	}
	rearm(&p.deferTimer, wait, p.flushDeferred)
}

// flushDeferred deletes in the background the kept pairs whose time is up: all of them
// once the passes paused for keepIdle, else those kept for keepFor (and arms the timer
// for the others). It waits for a pass that runs.
func (p *Plane) flushDeferred() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.deferred) == 0 || p.cache.dp == nil {
		return
	}
	r := &reconciler{p: p, c: p.cache, dp: p.cache.dp}
	if time.Since(p.lastPass) >= p.keepIdle {
		r.expireDeferred(0)
	} else {
		r.expireDeferred(p.keepFor)
	}
	r.startRetire()
	if len(p.deferred) > 0 {
		p.armDeferred()
	}
}

// dropDeferred forgets the kept pairs (they are left as they are, shut, as a restart
// leaves them: a pass retires them when it meets them). Called with mu held.
func (p *Plane) dropDeferred() {
	if p.deferTimer != nil {
		p.deferTimer.Stop()
	}
	clear(p.deferred)
}

// cut is the instance end of an ENI's old pair: instance id, ifindex.
type cut struct {
	instance string
	index    int
}

// startRetire removes the addresses of the instance ends of old pairs (so that the old
// instance no longer has the ENI's addresses when the pass returns) and starts the
// background deletion of the old pairs.
func (r *reconciler) startRetire() {
	for _, x := range r.cuts {
		c := r.c.instNS[x.instance]
		if c == nil || x.index <= 0 {
			continue
		}
		l, err := c.h.LinkByIndex(x.index)
		if err != nil || l.Type() != "veth" {
			continue // gone already
		}
		// Its addresses go at once (taking it down would not: the addresses of a down
		// interface stay local, and would cost an RCU grace period).
		n, err := ensureAddrs(c, l, nil)
		r.count(n, err)
	}
	r.cuts = nil
	if len(r.retirees) == 0 || r.dp == nil {
		return
	}
	p, dpName, xs := r.p, r.dp.name, r.retirees
	r.retirees = nil
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		for _, x := range xs {
			if x.hold != nil {
				x.hold()
			}
		}
		defer func() {
			p.pendMu.Lock()
			for _, x := range xs {
				delete(p.pendingIdx, x.idx)
			}
			p.pendMu.Unlock()
		}()
		ns, err := openNS(dpName)
		if err != nil {
			return // the datapath is gone, and the links with it
		}
		c, err := openCtx(dpName, ns)
		if err != nil {
			p.retireFailed.Store(true)
			return
		}
		defer c.close()
		for _, x := range xs {
			// By index: the name may already belong to a new pair. A leftover is removed by
			// the next full pass.
			if err := delLink(c.h, &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: x.idx}}); err != nil {
				p.retireFailed.Store(true)
			}
		}
	}()
}

func (p *Plane) isPending(name string, idx int) bool {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	return p.pending[name] || (idx > 0 && p.pendingIdx[idx])
}

// removeLeftovers deletes namespaces and interfaces with the plane's prefix that d does not
// contain.
func (r *reconciler) removeLeftovers() {
	r.pruneCache()
	if !r.full {
		return
	}
	p := r.p
	wantNS := map[string]bool{p.DatapathNS(): true, p.InternetNS(): true}
	for id := range r.routers {
		wantNS[p.RouterNS(id)] = true
	}
	for _, v := range r.vpcs {
		wantNS[p.RouterNS(v.ID)] = true
	}
	for id := range r.running {
		wantNS[p.InstanceNS(id)] = true
	}
	names, err := listNS(p.prefix)
	r.fail(err)
	for _, n := range names {
		if !wantNS[n] {
			r.fail(deleteNS(n))
			r.changes++
		}
	}

	// Datapath: bridges, ENI host ends, router legs.
	if r.dp != nil {
		want := map[string]bool{}
		for _, s := range r.subnetSeq {
			want[s.bridge], want[s.legDP] = true, true
			for _, n := range r.segmentNames(s.ID) {
				want[n] = true
			}
			if r.ov != nil {
				want[ifName(p.prefix, kindVXLAN, s.ID)] = true
			}
		}
		for _, e := range r.enis {
			for _, h := range e.hostNames() {
				want[h] = true
			}
		}
		r.removeLinks(r.dp, func(l netlink.Link) bool {
			n := l.Attrs().Name
			return strings.HasPrefix(n, p.prefix) && !want[n] && !p.isPending(n, l.Attrs().Index)
		})
	}
	if r.inet != nil {
		want := map[string]bool{}
		for _, v := range r.vpcs {
			want[ifName(p.prefix, kindInetLeg, v.ID)] = true
		}
		if r.ov != nil {
			want[segName(p.prefix)] = true
		}
		r.removeLinks(r.inet, func(l netlink.Link) bool {
			return strings.HasPrefix(l.Attrs().Name, p.prefix) && !want[l.Attrs().Name]
		})
	}
	for _, v := range r.vpcs {
		c := r.routers[v.ID]
		if c == nil {
			continue
		}
		want := map[string]bool{ifName(p.prefix, kindUplink, v.ID): true}
		for _, s := range v.Subnets {
			want[ifName(p.prefix, kindRouterNS, s.ID)] = true
		}
		for _, n := range r.peerLinkNames(v.ID) {
			want[n] = true
		}
		r.removeLinks(c, func(l netlink.Link) bool {
			return strings.HasPrefix(l.Attrs().Name, p.prefix) && !want[l.Attrs().Name]
		})
	}
	// Instances: veths that are not a realised ENI of the instance.
	want := map[string]bool{}
	for _, e := range r.enis {
		want[e.InstanceID+"/"+e.eth] = true
	}
	kept := map[int]bool{} // the pairs ENIs left, kept a while (retire)
	for _, d := range p.deferred {
		kept[d.idx] = true
	}
	for id, c := range r.insts {
		r.removeLinks(c, func(l netlink.Link) bool {
			peer := l.Attrs().ParentIndex
			return l.Type() == "veth" && !want[id+"/"+l.Attrs().Name] && !p.isPending("", peer) && !kept[peer]
		})
	}
}

// pruneCache removes what the plane remembers realising and d no longer contains: ENIs
// (their old pair goes in the background), instance and router namespaces, subnets.
func (r *reconciler) pruneCache() {
	p, c := r.p, r.c
	// With a delta, the ENIs and instances that went away are among those it names.
	incr := r.incr()
	var want map[string]bool
	enis, insts := c.enis, c.instNS
	if incr {
		want = r.delta.planned
		enis, insts = map[string]eniEntry{}, map[string]*nsCtx{}
		for id := range r.delta.enis {
			if ent, ok := c.enis[id]; ok {
				enis[id] = ent
			}
		}
		for id := range r.delta.insts {
			if x, ok := c.instNS[id]; ok {
				insts[id] = x
			}
		}
	} else {
		want = make(map[string]bool, len(r.enis))
		for _, e := range r.enis {
			want[e.ID] = true
		}
	}
	for id, ent := range enis {
		if want[id] {
			continue
		}
		c.delENI(id)
		r.cuts = append(r.cuts, cut{ent.instance, ent.peer})
		if r.dp == nil {
			continue
		}
		// The host end (and with it the instance end) goes in the background.
		for _, k := range eniHostKinds {
			if l, err := r.dp.linkByName(ifName(p.prefix, k, id)); err != nil {
				r.fail(err)
			} else if l != nil && !p.isPending("", l.Attrs().Index) {
				r.retire(id, l, false)
				r.changes++
			}
		}
	}
	for id, x := range insts {
		if r.running[id] {
			continue
		}
		x.close()
		delete(c.instNS, id)
		delete(c.routing, id)
		delete(c.routed, id)
		r.fail(deleteNS(p.InstanceNS(id)))
		r.changes++
	}
	if !incr {
		for id := range c.routing {
			if c.instNS[id] == nil {
				delete(c.routing, id)
			}
		}
		for id := range c.routed {
			if c.instNS[id] == nil {
				delete(c.routed, id)
			}
		}
	}
	vpcs := map[string]bool{}
	for _, v := range r.vpcs {
		vpcs[v.ID] = true
	}
	for id, x := range c.routerNS {
		if vpcs[id] {
			continue
		}
		p.routerGens.Delete(x.name)
		x.close()
		p.closeMetadata(id)
		p.closeDNS(id)
		delete(c.routerNS, id)
		delete(c.routers, id)
		r.fail(deleteNS(p.RouterNS(id)))
		r.changes++
	}
	for id := range c.bridges {
		if _, ok := r.subnets[id]; ok {
			continue
		}
		delete(c.bridges, id)
		if r.dp == nil {
			continue
		}
		delete(c.vxlans, id)
		r.removeSegments(id)
		for _, n := range []string{ifName(p.prefix, kindBridge, id), ifName(p.prefix, kindRouterDP, id), ifName(p.prefix, kindVXLAN, id)} {
			if l, err := r.dp.linkByName(n); err != nil {
				r.fail(err)
			} else if l != nil {
				r.fail(delLink(r.dp.h, l))
				r.changes++
			}
		}
	}
}

func (r *reconciler) removeLinks(c *nsCtx, drop func(netlink.Link) bool) {
	links, err := c.h.LinkList()
	if err != nil {
		r.fail(fmt.Errorf("%s: list links: %w", c.name, err))
		return
	}
	for _, l := range links {
		if drop(l) {
			r.fail(delLink(c.h, l))
			r.changes++
		}
	}
}

// routingKey is the spec of an instance's routes and policy rules: what
// ensureInstanceRouting realises for it.
func routingKey(gen uint64, tables []int, routes []route, rules []policy) uint64 {
	k := newKeyHash()
	k.u64(gen)
	k.int(len(tables))
	for _, t := range tables {
		k.int(t)
	}
	k.int(len(routes))
	for _, rt := range routes {
		k.prefix(rt.dst)
		k.addr(rt.gw)
		k.int(rt.link)
		k.addr(rt.src)
		k.int(rt.table)
	}
	k.int(len(rules))
	for _, p := range rules {
		k.int(p.prio)
		k.prefix(p.src)
		k.int(p.table)
	}
	return k.sum()
}

// slot is a device index of an instance.
type slot struct {
	instance string
	index    int
}

var (
	anyIPv4 = netip.MustParsePrefix("0.0.0.0/0")
	anyIPv6 = netip.MustParsePrefix("::/0")
)
