package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
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
	trashSeq   atomic.Uint32
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
	up := netip.MustParseAddr(uplinkRouterIP)
	if ip == up {
		up = netip.MustParseAddr("100.64.0.3")
	}
	p := &Plane{prefix: opts.Prefix, inetIP: ip, upIP: up, pending: map[string]bool{}, pendingIdx: map[int]bool{}}
	p.trashSeq.Store(uint32(time.Now().UnixNano()))
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

// DoInstance runs fn inside the instance's namespace.
func (p *Plane) DoInstance(instanceID string, fn func() error) error {
	return p.Do(p.InstanceNS(instanceID), fn)
}

// Start starts cmd inside the instance's namespace; the caller waits for it.
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

// Teardown removes everything the plane owns (every namespace with its prefix) and waits
// for background deletions.
func (p *Plane) Teardown(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bg.Wait()
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

// reconciler is the state of one Reconcile.
type reconciler struct {
	p       *Plane
	changes int
	errs    error

	vpcs      []VPC
	subnets   map[string]*subnetInfo
	subnetSeq []*subnetInfo // sorted by id
	running   map[string]bool
	enis      []*eniInfo // realised, sorted by id
	allENIs   map[string]ENI
	groups    map[string]Group
	publics   map[string][]PublicMapping // by VPC

	dp, inet *nsCtx
	routers  map[string]*nsCtx
	insts    map[string]*nsCtx
	bridges  map[string]int // subnet id → bridge ifindex
	garps    []func() error // announcements of recreated ENIs, once their routing is in place
	status   Status
}

func (r *reconciler) fail(err error) {
	if err != nil {
		r.errs = errors.Join(r.errs, err)
	}
}

func (r *reconciler) count(n int, err error) {
	r.changes += n
	r.fail(err)
}

// Reconcile converges the host to d: it creates what is missing, fixes what differs and
// removes what the plane owns but d does not contain. It is level-based: it reads the
// actual state every time, so it repairs damage, and a second call with the same d makes no
// change (Status.Changes == 0). Errors of single objects do not stop the others; they are
// joined in the returned error.
func (p *Plane) Reconcile(ctx context.Context, d Desired) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &reconciler{p: p, routers: map[string]*nsCtx{}, insts: map[string]*nsCtx{}, bridges: map[string]int{},
		status: Status{Instances: map[string]bool{}, ENIs: map[string]string{}}}
	defer r.closeAll()
	r.plan(d)
	steps := []func(){r.infra, r.ensureBridges, r.ensureRouters, r.ensureInstances, r.ensureENIs,
		r.ensureInstanceRouting, r.announce, r.ensureDatapathRules, r.removeLeftovers}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			r.fail(err)
			break
		}
		step()
	}
	r.status.Changes = r.changes
	return r.status, r.errs
}

func (r *reconciler) closeAll() {
	for _, c := range r.insts {
		c.close()
	}
	for _, c := range r.routers {
		c.close()
	}
	if r.dp != nil {
		r.dp.close()
	}
	if r.inet != nil {
		r.inet.close()
	}
}

// plan indexes and validates d.
func (r *reconciler) plan(d Desired) {
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
			r.subnets[s.ID] = si
			r.subnetSeq = append(r.subnetSeq, si)
		}
	}
	slices.SortFunc(r.subnetSeq, func(a, b *subnetInfo) int { return strings.Compare(a.ID, b.ID) })
	for i, s := range r.subnetSeq {
		s.ordinal = i + 1
	}
	r.running = map[string]bool{}
	for _, in := range d.Instances {
		if in.Running {
			r.running[in.ID] = true
		}
	}
	r.groups = map[string]Group{}
	for _, g := range d.Groups {
		r.groups[g.ID] = g
	}
	r.allENIs = map[string]ENI{}
	used := map[string]bool{} // instance/device index
	sorted := slices.Clone(d.ENIs)
	slices.SortFunc(sorted, func(a, b ENI) int { return strings.Compare(a.ID, b.ID) })
	for _, e := range sorted {
		r.allENIs[e.ID] = e
		if e.InstanceID == "" || !r.running[e.InstanceID] {
			continue
		}
		si := r.subnets[e.SubnetID]
		if si == nil {
			r.fail(fmt.Errorf("eni %s: unknown subnet %s", e.ID, e.SubnetID))
			continue
		}
		ei, err := parseENI(e, si)
		if err == nil {
			_, err = parseMAC(ei.mac)
			if err != nil {
				err = fmt.Errorf("eni %s: %w", e.ID, err)
			}
		}
		if err != nil {
			r.fail(err)
			continue
		}
		key := fmt.Sprintf("%s/%d", e.InstanceID, e.DeviceIndex)
		if used[key] {
			r.fail(fmt.Errorf("eni %s: device index %d of %s is taken", e.ID, e.DeviceIndex, e.InstanceID))
			continue
		}
		used[key] = true
		ei.host = ifName(r.p.prefix, kindENIHost, e.ID)
		ei.eth = ethName(e.DeviceIndex)
		ei.mark = uint32(len(r.enis) + 1)
		r.enis = append(r.enis, ei)
	}
	r.publics = map[string][]PublicMapping{}
	for _, m := range d.PublicIPs {
		r.publics[m.VPCID] = append(r.publics[m.VPCID], m)
	}
	for _, ms := range r.publics {
		slices.SortFunc(ms, func(a, b PublicMapping) int { return strings.Compare(a.Public, b.Public) })
	}
}

// ensureNS opens (creating it if needed) a namespace with lo up and the given sysctls.
func (r *reconciler) ensureNS(name string, sysctls []sysctl) (*nsCtx, error) {
	ns, err := openNS(name)
	if errors.Is(err, os.ErrNotExist) {
		ns, err = createNS(name)
		if err == nil {
			r.changes++
		}
	}
	if err != nil {
		return nil, err
	}
	c, err := openCtx(name, ns)
	if err != nil {
		return nil, err
	}
	lo, err := c.linkByName("lo")
	if err == nil && lo != nil {
		r.count(setUp(c, lo))
	}
	r.fail(err)
	r.count(ensureSysctls(ns, sysctls))
	return c, nil
}

var (
	dpSysctls = []sysctl{
		{"net/bridge/bridge-nf-call-iptables", "0"},
		{"net/bridge/bridge-nf-call-ip6tables", "0"},
		{"net/bridge/bridge-nf-call-arptables", "0"},
	}
	routerSysctls = []sysctl{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv6/conf/all/forwarding", "1"},
		{"net/ipv4/conf/all/rp_filter", "0"},
		{"net/ipv4/conf/default/rp_filter", "0"},
		{"net/ipv4/conf/all/send_redirects", "0"},
		{"net/ipv4/conf/default/send_redirects", "0"},
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
	}
)

// infra: the datapath and internet namespaces.
func (r *reconciler) infra() {
	var err error
	r.dp, err = r.ensureNS(r.p.DatapathNS(), dpSysctls)
	r.fail(err)
	r.inet, err = r.ensureNS(r.p.InternetNS(), inetSysctls)
	r.fail(err)
}

// ensureBridges: one bridge per subnet in the datapath, with br_netfilter on.
func (r *reconciler) ensureBridges() {
	if r.dp == nil {
		return
	}
	for _, s := range r.subnetSeq {
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
	}
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
		v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: aName, HardwareAddr: aMAC}, PeerName: bName,
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
	for _, v := range r.vpcs {
		c, err := r.ensureNS(r.p.RouterNS(v.ID), routerSysctls)
		if err != nil {
			r.fail(err)
			continue
		}
		r.routers[v.ID] = c
		upName := ifName(r.p.prefix, kindUplink, v.ID)
		gName := ifName(r.p.prefix, kindInetLeg, v.ID)
		up := r.ensurePair(c, upName, nil, r.inet, gName, 0)
		var routes []route
		var rules []policy
		if up != nil {
			r.count(ensureAddrs(c, up, []netip.Prefix{netip.PrefixFrom(r.p.upIP, 32)}))
			routes = append(routes, route{dst: netip.MustParsePrefix("0.0.0.0/0"), gw: r.p.inetIP,
				link: up.Attrs().Index, table: rtInternet})
			if g, err := r.inet.linkByName(gName); err == nil && g != nil {
				r.count(ensureAddrs(r.inet, g, []netip.Prefix{netip.PrefixFrom(r.p.inetIP, 32)}))
				for _, m := range r.publics[v.ID] {
					if a, err := netip.ParseAddr(m.Public); err == nil && a.Is4() {
						inetRoutes = append(inetRoutes, route{dst: netip.PrefixFrom(a, 32), gw: r.p.upIP,
							link: g.Attrs().Index, table: 254})
					}
				}
			}
		}
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
			want := []netip.Prefix{netip.PrefixFrom(si.router, si.prefix.Bits())}
			if si.prefix6.IsValid() {
				want = append(want, netip.PrefixFrom(si.router6, si.prefix6.Bits()))
			}
			r.count(ensureAddrs(c, leg, want))
		}
		for _, s := range v.Subnets {
			si := r.subnets[s.ID]
			if si == nil {
				continue
			}
			switch {
			case si.Public && up != nil:
				rules = append(rules, policy{prio: rtPrioRouter, src: si.prefix, table: rtInternet})
			case si.DefaultRouteENI != "":
				e, ok := r.allENIs[si.DefaultRouteENI]
				gw, err := netip.ParseAddr(e.PrimaryIP)
				leg := legs[e.SubnetID]
				if !ok || err != nil || leg == nil {
					continue
				}
				rules = append(rules, policy{prio: rtPrioRouter, src: si.prefix, table: si.routeTbl})
				routes = append(routes, route{dst: netip.MustParsePrefix("0.0.0.0/0"), gw: gw,
					link: leg.Attrs().Index, table: si.routeTbl})
			}
		}
		tables := []int{rtInternet}
		for _, s := range r.subnetSeq {
			if s.vpcID == v.ID {
				tables = append(tables, s.routeTbl)
			}
		}
		r.count(ensureRoutes(c, tables, routes))
		r.count(ensureRules(c, rtPrioRouter, rtPrioRouter, rules))
		r.ensureNAT(c, upName, r.publics[v.ID])
	}
	r.count(ensureRoutes(r.inet, []int{254}, inetRoutes))
}

func (r *reconciler) ensureNAT(c *nsCtx, uplink string, maps []PublicMapping) {
	t := natTable(r.p.prefix, uplink, maps)
	conn, err := newNFT(int(c.ns))
	if err != nil {
		r.fail(fmt.Errorf("%s: nftables: %w", c.name, err))
		return
	}
	defer conn.CloseLasting()
	digest := nftDigest(t)
	ok, err := nftCurrent(conn, digest, t)
	if err != nil || ok {
		r.fail(err)
		return
	}
	if err := nftReplace(conn, digest, t); err != nil {
		r.fail(fmt.Errorf("%s: %w", c.name, err))
		return
	}
	r.changes++
}

// ensureInstances: a namespace per running instance.
func (r *reconciler) ensureInstances() {
	ids := make([]string, 0, len(r.running))
	for id := range r.running {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c, err := r.ensureNS(r.p.InstanceNS(id), instanceSysctls)
		if err != nil {
			r.fail(err)
			continue
		}
		r.insts[id] = c
		r.status.Instances[id] = true
	}
}

// ensureENIs: a veth per realised ENI, eth<N> in the instance, host end on the bridge.
func (r *reconciler) ensureENIs() {
	if r.dp == nil {
		return
	}
	for _, e := range r.enis {
		if err := r.ensureENI(e); err != nil {
			r.fail(fmt.Errorf("eni %s: %w", e.ID, err))
			continue
		}
		r.status.ENIs[e.ID] = e.InstanceID
	}
}

func (r *reconciler) ensureENI(e *eniInfo) error {
	inst := r.insts[e.InstanceID]
	br, ok := r.bridges[e.SubnetID]
	if inst == nil || !ok {
		return errors.New("instance namespace or bridge missing")
	}
	mac, _ := net.ParseMAC(e.mac) // validated in plan
	host, err := r.dp.linkByName(e.host)
	if err != nil {
		return err
	}
	peer, err := inst.linkByName(e.eth)
	if err != nil {
		return err
	}
	fresh := false
	if !isPair(r.dp, host, inst, peer) {
		// Recreate (also how an ENI moves): take the old pair off the bridge under another
		// name and delete it in the background; a new pair with the same MAC and host name
		// answers within milliseconds.
		if host != nil {
			r.trash(host)
			r.changes++
		}
		if peer != nil {
			if err := delLink(inst.h, peer); err != nil {
				return err
			}
			r.changes++
		}
		v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: e.host, MasterIndex: br, Flags: net.FlagUp},
			PeerName: e.eth, PeerHardwareAddr: mac, PeerNamespace: netlink.NsFd(int(inst.ns))}
		if err := r.dp.h.LinkAdd(v); err != nil {
			return fmt.Errorf("create veth %s/%s: %w", e.host, e.eth, err)
		}
		r.changes++
		fresh = true
		if host, err = r.dp.linkByName(e.host); err != nil || host == nil {
			return fmt.Errorf("veth %s vanished: %v", e.host, err)
		}
		if peer, err = inst.linkByName(e.eth); err != nil || peer == nil {
			return fmt.Errorf("veth %s vanished: %v", e.eth, err)
		}
	}
	if peer.Attrs().HardwareAddr.String() != mac.String() {
		if err := inst.h.LinkSetHardwareAddr(peer, mac); err != nil {
			return err
		}
		r.changes++
	}
	if host.Attrs().MasterIndex != br {
		if err := r.dp.h.LinkSetMasterByIndex(host, br); err != nil {
			return err
		}
		r.changes++
	}
	r.count(setUp(r.dp, host))
	r.count(setUp(inst, peer))

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
	r.count(ensureAddrs(inst, peer, addrs))
	if fresh {
		ns, idx := inst.ns, peer.Attrs().Index
		r.garps = append(r.garps, func() error { return r.p.sendGARP(ns, idx, mac, e.ips) })
	}
	return nil
}

// announce sends the gratuitous ARPs of recreated (moved) ENIs.
func (r *reconciler) announce() {
	for _, g := range r.garps {
		r.fail(g())
	}
}

// ensureInstanceRouting: default routes via eth0 and per-ENI tables and rules, so that
// replies leave by the ENI they came in on.
func (r *reconciler) ensureInstanceRouting() {
	byInst := map[string][]*eniInfo{}
	for _, e := range r.enis {
		byInst[e.InstanceID] = append(byInst[e.InstanceID], e)
	}
	for id, c := range r.insts {
		var routes []route
		var rules []policy
		tables := []int{254}
		for _, e := range byInst[id] {
			if _, ok := r.status.ENIs[e.ID]; !ok {
				continue
			}
			l, err := c.linkByName(e.eth)
			if err != nil || l == nil {
				r.fail(err)
				continue
			}
			idx := l.Attrs().Index
			tbl := rtInstanceBase + e.DeviceIndex
			si := e.subnet
			tables = append(tables, tbl)
			if e.DeviceIndex == 0 {
				routes = append(routes, route{dst: netip.MustParsePrefix("0.0.0.0/0"), gw: si.router, link: idx, table: 254})
				if si.prefix6.IsValid() && len(e.ips6) > 0 {
					routes = append(routes, route{dst: netip.MustParsePrefix("::/0"), gw: si.router6, link: idx, table: 254})
				}
			}
			routes = append(routes,
				route{dst: si.prefix, link: idx, src: e.ips[0], table: tbl},
				route{dst: netip.MustParsePrefix("0.0.0.0/0"), gw: si.router, link: idx, table: tbl})
			prio := rtPrioInstLo + e.DeviceIndex
			if prio > rtPrioInstHi {
				prio = rtPrioInstHi
			}
			for _, a := range e.ips {
				rules = append(rules, policy{prio: prio, src: netip.PrefixFrom(a, 32), table: tbl})
			}
			if si.prefix6.IsValid() && len(e.ips6) > 0 {
				routes = append(routes,
					route{dst: si.prefix6, link: idx, table: tbl},
					route{dst: netip.MustParsePrefix("::/0"), gw: si.router6, link: idx, table: tbl})
				for _, a := range e.ips6 {
					rules = append(rules, policy{prio: prio, src: netip.PrefixFrom(a, 128), table: tbl})
				}
			}
		}
		r.count(ensureRoutes(c, tables, routes))
		r.count(ensureRules(c, rtPrioInstLo, rtPrioInstHi, rules))
	}
}

// ensureDatapathRules: the whole datapath ruleset, replaced in one atomic batch when it
// differs from the desired one.
func (r *reconciler) ensureDatapathRules() {
	if r.dp == nil {
		return
	}
	var enis []*eniInfo
	for _, e := range r.enis {
		if _, ok := r.status.ENIs[e.ID]; ok {
			enis = append(enis, e)
		}
	}
	ts := dpTables(r.p.prefix, r.subnetSeq, enis, r.groups)
	conn, err := newNFT(int(r.dp.ns))
	if err != nil {
		r.fail(fmt.Errorf("datapath nftables: %w", err))
		return
	}
	defer conn.CloseLasting()
	digest := nftDigest(ts...)
	ok, err := nftCurrent(conn, digest, ts...)
	if err != nil || ok {
		r.fail(err)
		return
	}
	if err := nftReplace(conn, digest, ts...); err != nil {
		r.fail(fmt.Errorf("datapath: %w", err))
		for _, e := range enis { // not enforced: not attached
			delete(r.status.ENIs, e.ID)
		}
		return
	}
	r.changes++
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

func (p *Plane) isPending(name string, idx int) bool {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	return p.pending[name] || (idx > 0 && p.pendingIdx[idx])
}

// removeLeftovers deletes namespaces and interfaces with the plane's prefix that d does not
// contain.
func (r *reconciler) removeLeftovers() {
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
		}
		for _, e := range r.enis {
			want[e.host] = true
		}
		r.removeLinks(r.dp, func(l netlink.Link) bool {
			n := l.Attrs().Name
			return strings.HasPrefix(n, p.prefix) && !want[n] && !p.isPending(n, 0)
		})
	}
	if r.inet != nil {
		want := map[string]bool{}
		for _, v := range r.vpcs {
			want[ifName(p.prefix, kindInetLeg, v.ID)] = true
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
		r.removeLinks(c, func(l netlink.Link) bool {
			return strings.HasPrefix(l.Attrs().Name, p.prefix) && !want[l.Attrs().Name]
		})
	}
	// Instances: veths that are not a realised ENI of the instance.
	want := map[string]bool{}
	for _, e := range r.enis {
		want[e.InstanceID+"/"+e.eth] = true
	}
	for id, c := range r.insts {
		r.removeLinks(c, func(l netlink.Link) bool {
			return l.Type() == "veth" && !want[id+"/"+l.Attrs().Name] && !p.isPending("", l.Attrs().ParentIndex)
		})
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
