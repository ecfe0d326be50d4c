package dataplane

import (
	"context"
	"fmt"
	"hash/fnv"
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

	bridges map[string]int // subnet id → bridge ifindex
	routers map[string]routerEntry
	inetKey uint64 // spec of the internet namespace's routes
	enis    map[string]eniEntry
	routing map[string]uint64 // instance id → spec of its routes and rules

	// The datapath ruleset: the spec of its base chains (0: unknown, reload it all), the
	// ENIs it holds, and the ENIs' marks (stable while the ENI is realised).
	nftBase  uint64
	nftENI   map[string]nftEntry
	marks    map[string]uint32
	freeMark []uint32
	nextMark uint32
}

type nftEntry struct {
	mark uint32
	key  uint64
	host []string
}

// mark returns the ENI's mark, allocating one if it has none.
func (c *planeCache) mark(id string) (uint32, error) {
	if m, ok := c.marks[id]; ok {
		return m, nil
	}
	var m uint32
	if n := len(c.freeMark); n > 0 {
		m, c.freeMark = c.freeMark[n-1], c.freeMark[:n-1]
	} else {
		if c.nextMark >= 0xffff {
			return 0, fmt.Errorf("eni %s: more than %d ENIs on this host", id, 0xffff)
		}
		c.nextMark++
		m = c.nextMark
	}
	c.marks[id] = m
	return m, nil
}

// releaseMark frees the ENI's mark (once its chains are gone).
func (c *planeCache) releaseMark(id string) {
	if m, ok := c.marks[id]; ok {
		delete(c.marks, id)
		c.freeMark = append(c.freeMark, m)
	}
}

type routerEntry struct {
	key        uint64
	inetRoutes []route // routes this VPC contributes to the internet namespace
}

type eniEntry struct {
	key      uint64 // 0: realisation failed, retry
	instance string
	eth      string
	peer     int // ifindex of the instance end
}

func newPlaneCache() *planeCache {
	return &planeCache{routerNS: map[string]*nsCtx{}, instNS: map[string]*nsCtx{},
		bridges: map[string]int{}, routers: map[string]routerEntry{}, enis: map[string]eniEntry{},
		routing: map[string]uint64{}, nftENI: map[string]nftEntry{}, marks: map[string]uint32{}}
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
func eniKey(e *eniInfo, bridge int, inst *nsCtx) uint64 {
	bits6 := 64
	if e.subnet.prefix6.IsValid() {
		bits6 = e.subnet.prefix6.Bits()
	}
	return specKey(e.InstanceID, e.DeviceIndex, e.mac, e.SubnetID, e.ips, e.ips6, e.subnet.prefix.Bits(), bits6,
		e.host, e.eth, bridge, inst.gen)
}

// routerKey is the spec of a VPC router: what ensureRouters realises for v.
func (r *reconciler) routerKey(v VPC, c *nsCtx) uint64 {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s gen %d %d %d;", v.ID, r.p.upIP, r.p.inetIP, c.gen, r.dp.gen, r.inet.gen)
	for _, s := range v.Subnets {
		si := r.subnets[s.ID]
		if si == nil {
			continue
		}
		br, ok := r.bridges[s.ID]
		fmt.Fprintf(&b, "s %s %s %s %s %s %v %d %v %d %s;", si.ID, si.prefix, si.router, si.prefix6, si.router6,
			si.Public, si.routeTbl, ok, br, si.DefaultRouteENI)
		if si.DefaultRouteENI != "" {
			e, ok := r.allENIs[si.DefaultRouteENI]
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
