package dataplane

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The plane remembers what it last realised, so that a Reconcile touches only the objects
// whose desired spec changed, that are new or that went away (incremental pass). Every
// cached object carries the hash of the spec it was realised from; an object whose spec
// hash is unchanged is not read from the kernel at all. A full pass (Verify, the first
// Reconcile, or one every Options.FullEvery) reads everything, repairs drift (things
// changed or deleted by hand) and rebuilds the cache.
//
// An object whose realisation failed is not cached (or its entry is invalidated), so the
// next pass retries it.

// planeCache is the in-memory state of what the plane realised. Guarded by Plane.mu.
type planeCache struct {
	valid    bool // false: the next Reconcile is a full pass
	lastFull time.Time
	gen      uint64 // generation counter for namespace handles

	// Open namespaces (handles are kept across passes).
	dp, inet *nsCtx
	routerNS map[string]*nsCtx // VPC id
	instNS   map[string]*nsCtx // instance id

	bridges map[string]int   // subnet id → bridge ifindex
	segs    map[string][]int // subnet id → its segments' ifindexes (segments_linux.go)
	routers map[string]routerEntry
	inetKey uint64                 // spec of the internet namespace's routes
	enis    map[string]eniEntry    // through setENI and delENI
	ports   map[int]int            // bridge ifindex → the ENI ports of enis on it
	routing map[string]uint64      // instance id → spec of its routes and rules
	routed  map[string]routedState // instance id → its routes and rules as last made
	peers   map[string]uint64      // VPC id → spec of its peering links, routes and rules (peering_linux.go)

	acls  map[string]aclState // VPC id → its router's network ACL table (nacl_linux.go)
	eigw  eigwCache           // egress-only internet gateways' routes (eigw_linux.go)
	natgw map[string]uint64   // NAT gateway id → spec of its namespace's table (natgw_linux.go)

	// The datapath ruleset: the spec of its base chains (0: unknown, reload it all), the
	// ENIs it holds, and the ENIs' marks (stable while the ENI is realised).
	nftBase  uint64
	nftENI   map[string]nftEntry
	marks    map[string]uint32
	nextMark uint32
	// The security group profiles (sgprofile_linux.go) by identity, the numbers a former
	// plane's ruleset gave them (adoptMarks) not handed out yet, and the free numbers.
	profs        map[uint64]*profEntry
	adoptedProfs map[uint64]uint32
	nextProf     uint32
	freeProfs    []uint32
	// Released marks: released ones may still name connections of the ENIs that held
	// them (the pass that released them forgets those at its end, forgetReleased), clean
	// ones were forgotten since. Marks are handed out fresh first, then clean, so that no
	// pass has to forget connections before its ENIs' chains go in (the kernel passes
	// over its whole table for that: conntrack_linux.go) until every mark has been used.
	released   []uint32
	cleanMarks []uint32
	// walks are the walks of connection tracking in the background that forget released
	// marks' connections (forgetReleased), under way or ended and not yet collected
	// (forgot), oldest first.
	walks []*ctWalk
	// ct is the netfilter sockets in the datapath (of its nsCtx generation ctGen) for
	// those walks, kept open: see ctHandle.
	ct    *ctConn
	ctGen uint64
	// memo is the last Desired realised without an error, memoStatus its Status (memo.go).
	memo       *Desired
	memoStatus Status
	lastPlan   *planMemo // memo's plan (planincr_linux.go)
	// routersMade counts the routers made whole (their uplinks maybe made again): the
	// egress-only gateway's part of a router depends on that, not on its ENIs.
	routersMade uint64
	parsed      map[string]*parsedENI // ENI id → as a pass last parsed it (delta_linux.go)

	// The overlay (overlay_linux.go): the underlay namespace's handle, each subnet's VXLAN
	// port, the spec of the datapath's overlay table, the internet segment's.
	underlay     *nsCtx
	underlayPath string
	vxlans       map[string]vxlanEntry
	ovNFT        uint64
	inetSeg      *segEntry

	// reused are marks released or given again since the datapath's connection tracking
	// last forgot the connections of their former ENIs (see forgetConnections).
	reused []uint32
}

// routedState is what the plane last made of an instance's routes and rules, in its
// namespace handle of generation gen.
type routedState struct {
	gen    uint64
	routes []route
	rules  []policy
}

type nftEntry struct {
	mark  uint32
	key   uint64
	prof  *profEntry
	elems []dpElem // its elements (dpENIElems)
}

// mark returns the ENI's mark, allocating one if it has none: a mark never given, else
// a clean one, else the released ones are forgotten first (reused: forgetConnections,
// before the chains go in) and one of them is given.
func (c *planeCache) mark(id string) (uint32, error) {
	if m, ok := c.marks[id]; ok {
		return m, nil
	}
	var m uint32
	if c.nextMark < markTransit-1 { // markTransit is no ENI's
		c.nextMark++
		m = c.nextMark
	} else {
		if len(c.cleanMarks) == 0 && len(c.walks) > 0 {
			c.forgot(true) // every mark used: wait for the walks under way
		}
		if len(c.cleanMarks) == 0 {
			c.reused = append(c.reused, c.released...)
			c.cleanMarks, c.released = c.released, nil
		}
		n := len(c.cleanMarks)
		if n == 0 {
			return 0, fmt.Errorf("eni %s: more than %d ENIs on this host", id, markTransit-1)
		}
		m, c.cleanMarks = c.cleanMarks[n-1], c.cleanMarks[:n-1]
	}
	c.marks[id] = m
	return m, nil
}

// releaseMark frees the ENI's mark (once its chains are gone). Its connections are
// forgotten at the end of the pass (forgetReleased): the ENI may come back with another
// mark, and a connection that names the old one would never pass again, nor would one
// of another ENI given its address with the same ports.
func (c *planeCache) releaseMark(id string) {
	if m, ok := c.marks[id]; ok {
		delete(c.marks, id)
		c.released = append(c.released, m)
	}
}

type routerEntry struct {
	key        uint64
	inetRoutes []route      // routes this VPC contributes to the internet namespace
	gen        uint32       // the router's nftables generation after the plane's last change
	st         *routerState // its per-ENI part, for routerDelta (nil: make it whole)
	made       uint64       // which making whole of a router this one's last was (planeCache.routersMade)
}

type eniEntry struct {
	key      uint64 // 0: realisation failed, retry
	instance string
	eth      string
	peer     int    // ifindex of the instance end
	bridge   int    // ifindex of the bridge its host end is on (segments_linux.go)
	ips      uint64 // ipsKey of the IPv4 addresses it was realised with (announced)
}

// setENI remembers ent for the ENI id, and counts its port on its bridge.
func (c *planeCache) setENI(id string, ent eniEntry) {
	c.delENI(id)
	c.enis[id] = ent
	if ent.bridge > 0 {
		c.ports[ent.bridge]++
	}
}

// delENI forgets the ENI id, and its port.
func (c *planeCache) delENI(id string) {
	old, ok := c.enis[id]
	if !ok {
		return
	}
	delete(c.enis, id)
	if old.bridge > 0 {
		if c.ports[old.bridge]--; c.ports[old.bridge] <= 0 {
			delete(c.ports, old.bridge)
		}
	}
}

// ipsKey is a hash of e's IPv4 addresses.
func ipsKey(e *eniInfo) uint64 {
	k := newKeyHash()
	k.addrs(e.ips)
	return k.sum()
}

func newPlaneCache() *planeCache {
	return &planeCache{routerNS: map[string]*nsCtx{}, instNS: map[string]*nsCtx{},
		bridges: map[string]int{}, routers: map[string]routerEntry{}, enis: map[string]eniEntry{}, ports: map[int]int{},
		routing: map[string]uint64{}, routed: map[string]routedState{}, nftENI: map[string]nftEntry{}, marks: map[string]uint32{}, profs: map[uint64]*profEntry{}, adoptedProfs: map[uint64]uint32{}, vxlans: map[string]vxlanEntry{}, segs: map[string][]int{}}
}

// closeAll closes every cached handle and forgets everything.
func (c *planeCache) closeAll() {
	for _, x := range c.instNS {
		x.close()
	}
	for _, x := range c.routerNS {
		x.close()
	}
	if c.dp != nil {
		c.dp.close()
	}
	if c.inet != nil {
		c.inet.close()
	}
	if c.underlay != nil {
		c.underlay.close()
	}
	if c.ct != nil {
		c.ct.Close()
		c.ct = nil
	}
}

// ctHandle returns the netfilter sockets in the datapath dp for walks of its connection
// tracking (none may be under way). It is kept open: closing a netfilter
// socket waits for the kernel's pending ruleset destructions while holding the
// namespace's nftables lock (see nsCtx.nft). Its own handle, because the datapath's has
// only a route socket, and for any other family the library opens one in the calling
// thread's namespace (the host's).
func (c *planeCache) ctHandle(dp *nsCtx) (*ctConn, error) {
	if c.ct != nil && c.ctGen == dp.gen {
		return c.ct, nil
	}
	if c.ct != nil {
		c.ct.Close()
		c.ct = nil
	}
	h, err := openCT(dp.ns)
	if err != nil {
		return nil, fmt.Errorf("datapath: forget connections: %w", err)
	}
	c.ct, c.ctGen = h, dp.gen
	return h, nil
}

// keyHash is a 64-bit hash fed field by field, with lengths, so that distinct specs give
// distinct input; it absorbs eight bytes at a time (multiply and xor-shift). The hot spec
// keys (every ENI and instance, on every pass) use it instead of specKey's formatting: at
// 1,000 instances that formatting was most of an incremental pass. It is not meant to
// resist an adversary: the specs come from the model, not from an instance.
type keyHash uint64

func newKeyHash() keyHash { return 14695981039346656037 }

func (k *keyHash) u64(v uint64) {
	h := (uint64(*k) ^ v) * 0x9e3779b97f4a7c15
	*k = keyHash(h ^ h>>29)
}

func (k *keyHash) int(v int) { k.u64(uint64(v)) }

func (k *keyHash) bool(v bool) {
	if v {
		k.u64(1)
	} else {
		k.u64(0)
	}
}

func (k *keyHash) str(s string) {
	k.int(len(s))
	for len(s) >= 8 {
		k.u64(binary.LittleEndian.Uint64([]byte(s[:8])))
		s = s[8:]
	}
	var tail uint64
	for i := 0; i < len(s); i++ {
		tail |= uint64(s[i]) << (8 * i)
	}
	k.u64(tail)
}

func (k *keyHash) strs(ss []string) {
	k.int(len(ss))
	for _, s := range ss {
		k.str(s)
	}
}

// addr feeds the address family (0 for an invalid address) and the address.
func (k *keyHash) addr(a netip.Addr) {
	k.int(a.BitLen())
	if a.IsValid() {
		b := a.As16()
		k.u64(binary.LittleEndian.Uint64(b[:8]))
		k.u64(binary.LittleEndian.Uint64(b[8:]))
	}
}

func (k *keyHash) addrs(as []netip.Addr) {
	k.int(len(as))
	for _, a := range as {
		k.addr(a)
	}
}

func (k *keyHash) prefix(p netip.Prefix) {
	k.addr(p.Addr())
	k.int(p.Bits())
}

func (k *keyHash) prefixes(ps []netip.Prefix) {
	k.int(len(ps))
	for _, p := range ps {
		k.prefix(p)
	}
}

// sum is the key; never 0 (0 means "invalid").
func (k keyHash) sum() uint64 {
	if k == 0 {
		return 1
	}
	return uint64(k)
}

// specKey hashes the text form of parts (callers pass only values, never pointers).
func specKey(parts ...any) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	k := h.Sum64()
	if k == 0 {
		k = 1 // 0 means "invalid"
	}
	return k
}

// sameNS reports whether the named namespace is still the one c has open.
func sameNS(name string, c *nsCtx) bool {
	var a, b unix.Stat_t
	if err := unix.Stat(nsPath(name), &a); err != nil {
		return false
	}
	if err := unix.Fstat(int(c.ns), &b); err != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// Verify is a full reconcile: it reads the actual state of every object the plane owns,
// repairs whatever differs from d (including damage done by hand, which an incremental
// Reconcile does not look for), removes leftovers, and rebuilds the plane's cache.
func (p *Plane) Verify(ctx context.Context, d Desired) (Status, error) {
	return p.reconcile(ctx, d, true)
}

// eniKey is the spec of an ENI's link: what ensureENI realises.
func eniKey(e *eniInfo, bridge int, inst *nsCtx, mtu int) uint64 {
	bits6 := 64
	if e.subnet.prefix6.IsValid() {
		bits6 = e.subnet.prefix6.Bits()
	}
	k := newKeyHash()
	k.str(e.InstanceID)
	k.int(e.DeviceIndex)
	k.str(e.mac)
	k.str(e.SubnetID)
	k.addrs(e.ips)
	k.addrs(e.ips6)
	k.prefixes(e.pfx4) // ensureAddrs keeps addresses inside them
	k.prefixes(e.pfx6)
	k.int(e.subnet.prefix.Bits())
	k.int(bits6)
	k.str(e.host)
	k.str(e.eth)
	k.int(bridge)
	k.u64(inst.gen)
	k.int(mtu)
	return k.sum()
}

// routerKey is the spec of a VPC router: what ensureRouters realises for v.
func (r *reconciler) routerKey(v VPC, c *nsCtx) uint64 {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s gen %d %d %d dns %s mtu %d;", v.ID, r.p.upIP, r.p.inetIP, c.gen, r.dp.gen, r.inet.gen, v.ResolverIP, r.mtu)
	for _, s := range v.Subnets {
		si := r.subnets[s.ID]
		if si == nil {
			continue
		}
		br, ok := r.bridges[s.ID]
		fmt.Fprintf(&b, "s %s %s %s %s %s %v %d %v %d %s;", si.ID, si.prefix, si.router, si.prefix6, si.router6,
			si.Public, si.routeTbl, ok, br, si.DefaultRouteENI)
		if si.DefaultRouteENI != "" {
			e, ok := r.findENI(si.DefaultRouteENI)
			fmt.Fprintf(&b, "nat %v %s %s;", ok, e.PrimaryIP, e.SubnetID)
		}
	}
	for _, m := range r.publics[v.ID] {
		fmt.Fprintf(&b, "pub %s %s;", m.Public, m.Private)
	}
	return specKey(b.String())
}

// stamp gives c a new generation (a namespace handle opened or created anew).
func (p *Plane) stamp(c *nsCtx) *nsCtx {
	p.cache.gen++
	c.gen = p.cache.gen
	return c
}
