package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Cluster mode (Desired.Overlay): several hosts realise one region, each with its own
// Plane, and an instance on one host talks to one on another in the same subnet as if on
// one L2 segment.
//
// Every subnet bridge gets a VXLAN port (<prefix>v<hash>) with the subnet's VNI. It is
// created in the underlay's namespace (where its UDP socket stays) and moved into the
// datapath; it neither learns nor floods: its forwarding entries are written from state.
// For each ENI realised on another host (Overlay.Remote) the port holds
//
//	a VXLAN FDB entry   MAC dst <its host> self permanent
//	a bridge FDB entry  MAC master static sticky (the bridge sends that MAC there only)
//	neighbour entries   its IPv4 and IPv6 addresses → MAC (permanent)
//
// and the device answers ARP requests and IPv6 neighbour solicitations from those
// neighbour entries itself (VXLAN "proxy"): no broadcast crosses the underlay, and any
// frame for a MAC it has no entry for is dropped. Bridge-port learning is off on it: every
// host's router leg has the same MAC (deterministicMAC of the subnet).
//
// Every host realises every VPC's router with the same addresses and MACs (a distributed
// gateway): an instance's router is always on its own host, since the VXLAN port answers
// ARP only for remote ENIs. The routers know remote ENIs as they know local ones
// (permanent neighbours, next-hop sets); the 1:1 NAT of a public address is done on the
// host its ENI is realised on.
//
// Security groups are unchanged: frames from the VXLAN port carry no ENI's number in the
// low mark bits (as the VPC router's), so the sender's host applies the source ENI's egress
// rules and the receiver's host the destination ENI's ingress rules. The datapath tracks
// only flows with a local end: a frame from a router leg to a remote ENI's MAC (routed
// here, delivered on the other host) is not tracked (the datapath's overlay table,
// <prefix>ov), since its replies come back through the other host's router.

// overlayPlan is a pass's overlay, parsed.
type overlayPlan struct {
	local    netip.Addr
	port     int
	mtu      int
	nsPath   string // "": the plane's own namespace
	hosts    []netip.Addr
	remote   []*remoteInfo          // sorted by id
	ids      map[string]*remoteInfo // by ENI id
	bySubnet map[string][]*remoteInfo
	byVPC    map[string][]*eniInfo
	publics  []PublicMapping // of remote ENIs
}

// remoteInfo is an ENI realised on another host.
type remoteInfo struct {
	*eniInfo
	host netip.Addr
}

// enisOf are the remote ENIs of a VPC (none when the overlay is off).
func (o *overlayPlan) enisOf(vpcID string) []*eniInfo {
	if o == nil {
		return nil
	}
	return o.byVPC[vpcID]
}

// currentNS opens the network namespace of the calling goroutine's thread (the
// process's, as threads the package switches are switched back or discarded).
func currentNS() netns.NsHandle {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ns, err := netns.Get()
	if err != nil {
		return netns.None()
	}
	return ns
}

// planOverlay parses the overlay (after the local ENIs: an ENI realised here is not
// remote, whatever the overlay says).
func (r *reconciler) planOverlay(o *Overlay) {
	r.mtu = 1500
	if o == nil {
		return
	}
	ov := &overlayPlan{port: o.Port, mtu: o.MTU, nsPath: o.UnderlayNS, ids: map[string]*remoteInfo{},
		bySubnet: map[string][]*remoteInfo{}, byVPC: map[string][]*eniInfo{}}
	if ov.port == 0 {
		ov.port = DefaultOverlayPort
	}
	if ov.mtu == 0 {
		ov.mtu = DefaultOverlayMTU
	}
	var err error
	if ov.local, err = netip.ParseAddr(o.Local); err != nil || !ov.local.Is4() {
		r.fail(fmt.Errorf("overlay: bad local address %q", o.Local))
		return
	}
	if ov.port < 1 || ov.port > 65535 || ov.mtu < 1280 || ov.mtu > 65000 {
		r.fail(fmt.Errorf("overlay: bad port %d or MTU %d", ov.port, ov.mtu))
		return
	}
	for _, h := range o.Hosts {
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is4() {
			r.fail(fmt.Errorf("overlay: bad host address %q", h))
			continue
		}
		ov.hosts = append(ov.hosts, a)
	}
	slices.SortFunc(ov.hosts, netip.Addr.Compare)
	ov.hosts = slices.Compact(ov.hosts)
	local := make(map[string]bool, len(r.enis))
	for _, e := range r.enis {
		local[e.ID] = true
	}
	for _, re := range o.Remote {
		if local[re.ID] || ov.ids[re.ID] != nil {
			continue
		}
		si := r.subnets[re.SubnetID]
		if si == nil {
			r.fail(fmt.Errorf("remote eni %s: unknown subnet %s", re.ID, re.SubnetID))
			continue
		}
		host, err := netip.ParseAddr(re.Host)
		if err != nil || !host.Is4() {
			r.fail(fmt.Errorf("remote eni %s: bad host %q", re.ID, re.Host))
			continue
		}
		e := re.ENI
		e.DeviceIndex = 0 // not this host's to check
		ei, err := parseENI(e, si)
		if err == nil {
			_, err = parseMAC(ei.mac)
		}
		if err != nil {
			r.fail(fmt.Errorf("remote %w", err))
			continue
		}
		ri := &remoteInfo{eniInfo: ei, host: host}
		ov.remote = append(ov.remote, ri)
		ov.ids[e.ID] = ri
		ov.bySubnet[si.ID] = append(ov.bySubnet[si.ID], ri)
		ov.byVPC[si.vpcID] = append(ov.byVPC[si.vpcID], ei)
	}
	slices.SortFunc(ov.remote, func(a, b *remoteInfo) int { return strings.Compare(a.ID, b.ID) })
	r.ov, r.mtu = ov, ov.mtu
}

// vxlanEntry is what the plane last made of a subnet's VXLAN port.
type vxlanEntry struct {
	key uint64    // spec of the device
	idx int       // its ifindex
	st  *fwdState // its forwarding entries (nil: read them from the kernel)
}

// fwdState is a VXLAN port's forwarding entries: MAC → remote host, address → MAC.
type fwdState struct {
	fdb  map[string]netip.Addr
	nbrs map[netip.Addr]string
}

// fwdOf are the forwarding entries of remote ENIs.
func fwdOf(rs []*remoteInfo) *fwdState {
	st := &fwdState{fdb: map[string]netip.Addr{}, nbrs: map[netip.Addr]string{}}
	for _, e := range rs {
		st.fdb[e.mac] = e.host
		for _, a := range e.ips {
			st.nbrs[a] = e.mac
		}
		for _, p := range e.pfx4 {
			for a := p.Masked().Addr(); p.Contains(a); a = a.Next() {
				st.nbrs[a] = e.mac
			}
		}
		for _, a := range e.ips6 {
			st.nbrs[a] = e.mac
		}
		if e.subnet.prefix6.IsValid() {
			mac, _ := parseMAC(e.mac) // validated in plan
			st.nbrs[linkLocal(mac)] = e.mac
		}
	}
	return st
}

// ensureOverlay: the VXLAN ports and their forwarding entries, the datapath's overlay
// table and the internet namespaces' segment. Runs after the ENIs' links are made and
// before they are announced: a moved-in ENI's MAC no longer points to the VXLAN port
// when its announcement teaches the bridge where it is.
func (r *reconciler) ensureOverlay() {
	if r.dp == nil {
		return
	}
	if r.ov == nil {
		r.overlayOff()
		return
	}
	u, err := r.underlay()
	if err != nil {
		r.fail(err)
		return
	}
	var rmacs []string
	for _, e := range r.ov.remote {
		rmacs = append(rmacs, e.mac)
	}
	for _, s := range r.subnetSeq {
		br, ok := r.bridges[s.ID]
		if !ok {
			continue
		}
		if s.VNI == 0 || s.VNI >= InternetVNI {
			r.fail(fmt.Errorf("subnet %s: bad VNI %d", s.ID, s.VNI))
			continue
		}
		name := ifName(r.p.prefix, kindVXLAN, s.ID)
		key := specKey(name, s.VNI, r.ov.local, r.ov.port, r.ov.mtu, br, r.dp.gen, u.gen)
		ent, cached := r.c.vxlans[s.ID]
		if cached && ent.key == key && !r.full && ent.st != nil && r.incr() && !r.delta.remote {
			continue // nothing of it changed
		}
		delete(r.c.vxlans, s.ID)
		n0 := r.nerr
		if !cached || ent.key != key || r.full {
			idx, err := r.ensureVXLAN(u, s, name, br)
			if err != nil {
				r.fail(fmt.Errorf("subnet %s: vxlan: %w", s.ID, err))
				continue
			}
			ent = vxlanEntry{key: key, idx: idx}
		}
		want := fwdOf(r.ov.bySubnet[s.ID])
		if ent.st == nil || r.full {
			r.count(fwdWhole(r.dp, ent.idx, want, true))
		} else {
			r.count(fwdDelta(r.dp, ent.idx, ent.st, want))
		}
		if r.nerr == n0 {
			ent.st = want
			r.c.vxlans[s.ID] = ent
		}
	}
	r.ensureOverlayTable(rmacs)
	r.ensureInetSegment(u)
}

// underlay opens (once) the namespace of the underlay.
func (r *reconciler) underlay() (*nsCtx, error) {
	path := r.ov.nsPath
	if c := r.c.underlay; c != nil {
		if r.c.underlayPath == path && (!r.full || path == "" || samePath(path, c)) {
			return c, nil
		}
		c.close()
		r.c.underlay = nil
		clear(r.c.vxlans)
		r.c.inetSeg = nil
	}
	var ns netns.NsHandle
	if path == "" {
		if !r.p.selfNS.IsOpen() {
			return nil, errors.New("overlay: the plane's own namespace is unknown")
		}
		fd, err := unix.Dup(int(r.p.selfNS))
		if err != nil {
			return nil, fmt.Errorf("overlay: %w", err)
		}
		unix.CloseOnExec(fd)
		ns = netns.NsHandle(fd)
	} else {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("overlay: underlay namespace %s: %w", path, err)
		}
		ns = netns.NsHandle(fd)
	}
	name := path
	if name == "" {
		name = "underlay"
	}
	c, err := openCtx(name, ns)
	if err != nil {
		return nil, err
	}
	r.p.stamp(c)
	r.c.underlay, r.c.underlayPath = c, path
	return c, nil
}

// samePath reports whether path still leads to the namespace c has open.
func samePath(path string, c *nsCtx) bool {
	var a, b unix.Stat_t
	if unix.Stat(path, &a) != nil || unix.Fstat(int(c.ns), &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// vxlanOK reports whether l (in c) is the VXLAN device wanted, with its socket in u.
func (r *reconciler) vxlanOK(c *nsCtx, l netlink.Link, u *nsCtx, vni uint32) bool {
	v, ok := l.(*netlink.Vxlan)
	if !ok || v.VxlanId != int(vni) || v.Port != r.ov.port || v.Learning || !v.Proxy || v.VtepDevIndex != 0 ||
		v.Group != nil && !v.Group.IsUnspecified() {
		return false
	}
	src, ok := netip.AddrFromSlice(v.SrcAddr)
	if !ok || src.Unmap() != r.ov.local {
		return false
	}
	id := c.nsid(u)
	return id >= 0 && v.NetNsID == id
}

// makeVXLAN makes the VXLAN device name with VNI vni in c, created in the underlay's
// namespace u (its socket stays there) right into c, with the overlay's MTU (and MAC mac,
// if set), up. It reports whether it created it.
func (r *reconciler) makeVXLAN(u, c *nsCtx, name string, vni uint32, mac net.HardwareAddr) (netlink.Link, bool, error) {
	l, err := c.linkByName(name)
	if err != nil {
		return nil, false, err
	}
	if l != nil && !r.vxlanOK(c, l, u, vni) {
		if err := delLink(c.h, l); err != nil {
			return nil, false, err
		}
		r.changes++
		l = nil
	}
	fresh := l == nil
	if fresh {
		v := &netlink.Vxlan{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: r.ov.mtu, HardwareAddr: mac, Namespace: netlink.NsFd(int(c.ns))},
			VxlanId: int(vni), SrcAddr: net.IP(r.ov.local.AsSlice()), Port: r.ov.port, Learning: false, Proxy: true}
		if err := u.h.LinkAdd(v); err != nil {
			return nil, false, fmt.Errorf("create %s: %w", name, err)
		}
		r.changes++
		if l, err = c.linkByName(name); err != nil || l == nil {
			return nil, false, fmt.Errorf("%s vanished: %v", name, err)
		}
	}
	if mac != nil && l.Attrs().HardwareAddr.String() != mac.String() {
		if err := c.h.LinkSetHardwareAddr(l, mac); err != nil {
			return nil, false, err
		}
		r.changes++
	}
	r.count(ensureMTU(c, l, r.ov.mtu))
	return l, fresh, nil
}

// ensureVXLAN makes a subnet's VXLAN port: created in the underlay's namespace u (its
// socket stays there) right into the datapath, on bridge br, without learning, with IPv6
// on (for the neighbour entries of the IPv6 proxy) but no address of its own. It returns
// its ifindex.
func (r *reconciler) ensureVXLAN(u *nsCtx, s *subnetInfo, name string, br int) (int, error) {
	l, fresh, err := r.makeVXLAN(u, r.dp, name, s.VNI, nil)
	if err != nil {
		return 0, err
	}
	// IPv6 on, no address generated.
	r.count(ensureSysctls(r.dp.ns, []sysctl{{"net/ipv6/conf/" + name + "/addr_gen_mode", "1"},
		{"net/ipv6/conf/" + name + "/disable_ipv6", "0"}}))
	if l.Attrs().MasterIndex != br {
		if err := r.dp.h.LinkSetMasterByIndex(l, br); err != nil {
			return 0, fmt.Errorf("attach %s to bridge: %w", name, err)
		}
		r.changes++
		fresh = true
	}
	learning := true
	if !fresh {
		pi, err := r.dp.h.LinkGetProtinfo(l)
		if err != nil {
			return 0, fmt.Errorf("%s: bridge port: %w", name, err)
		}
		learning = pi.Learning
	}
	if learning {
		if err := r.dp.h.LinkSetLearning(l, false); err != nil {
			return 0, fmt.Errorf("%s: learning off: %w", name, err)
		}
		r.changes++
	}
	r.count(setUp(r.dp, l))
	return l.Attrs().Index, nil
}

const ntfSticky = 0x40 // NTF_STICKY: bridge learning does not move the entry

func fdbSelf(idx int, mac string, host netip.Addr) *netlink.Neigh {
	hw, _ := net.ParseMAC(mac)
	return &netlink.Neigh{LinkIndex: idx, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF, State: netlink.NUD_PERMANENT,
		HardwareAddr: hw, IP: net.IP(host.AsSlice())}
}

func fdbMaster(idx int, mac string) *netlink.Neigh {
	hw, _ := net.ParseMAC(mac)
	return &netlink.Neigh{LinkIndex: idx, Family: unix.AF_BRIDGE, Flags: netlink.NTF_MASTER | ntfSticky, State: netlink.NUD_NOARP,
		HardwareAddr: hw}
}

func proxyNeigh(idx int, a netip.Addr, mac string) *netlink.Neigh {
	hw, _ := net.ParseMAC(mac)
	fam := netlink.FAMILY_V4
	if a.Is6() {
		fam = netlink.FAMILY_V6
	}
	return &netlink.Neigh{LinkIndex: idx, Family: fam, State: netlink.NUD_PERMANENT, IP: net.IP(a.AsSlice()), HardwareAddr: hw}
}

// fwdWhole makes the VXLAN port's forwarding entries exactly want, reading what it holds.
func fwdWhole(c *nsCtx, idx int, want *fwdState, bridged bool) (int, error) {
	n := 0
	var errs []error
	fdb, err := c.h.NeighList(idx, unix.AF_BRIDGE)
	if err != nil {
		return 0, fmt.Errorf("%s: fdb: %w", c.name, err)
	}
	self, master := map[string]bool{}, map[string]bool{}
	for _, f := range fdb {
		if f.LinkIndex != idx {
			continue
		}
		mac := f.HardwareAddr.String()
		host, ok := want.fdb[mac]
		if f.Flags&netlink.NTF_SELF == 0 { // the bridge's (its dump names the master instead of NTF_MASTER)
			if f.State&netlink.NUD_PERMANENT != 0 {
				continue // the port's own address
			}
			if ok && f.State&netlink.NUD_NOARP != 0 && f.Flags&ntfSticky != 0 && !master[mac] {
				master[mac] = true
				continue
			}
			f = *fdbMaster(idx, mac)
		} else {
			ip, _ := netip.AddrFromSlice(f.IP)
			if ok && ip.Unmap() == host && f.State&netlink.NUD_PERMANENT != 0 && !self[mac] {
				self[mac] = true
				continue
			}
		}
		if err := c.h.NeighDel(&f); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("delete fdb %+v: %w", f, err))
		}
		n++
	}
	for mac, host := range want.fdb {
		if !self[mac] {
			errs = append(errs, c.h.NeighSet(fdbSelf(idx, mac, host)))
			n++
		}
		if !master[mac] && bridged {
			errs = append(errs, c.h.NeighSet(fdbMaster(idx, mac)))
			n++
		}
	}
	have := map[netip.Addr]bool{}
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		ns, err := c.h.NeighList(idx, fam)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, nb := range ns {
			a, ok := netip.AddrFromSlice(nb.IP)
			if !ok || nb.LinkIndex != idx || nb.State&netlink.NUD_PERMANENT == 0 {
				continue
			}
			a = a.Unmap()
			if mac, ok := want.nbrs[a]; ok && nb.HardwareAddr.String() == mac {
				have[a] = true
				continue
			}
			if err := c.h.NeighDel(&nb); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, err)
			}
			n++
		}
	}
	for a, mac := range want.nbrs {
		if !have[a] {
			errs = append(errs, c.h.NeighSet(proxyNeigh(idx, a, mac)))
			n++
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("%s: vxlan forwarding entries: %w", c.name, err)
	}
	return n, nil
}

// fwdDelta changes the VXLAN port's forwarding entries from st (what the plane last made)
// to want.
func fwdDelta(c *nsCtx, idx int, st, want *fwdState) (int, error) {
	n := 0
	var errs []error
	gone := func(err error) error {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	// Gone first: a MAC that moved here leaves the port before it is announced.
	for mac, host := range st.fdb {
		if _, ok := want.fdb[mac]; !ok {
			errs = append(errs, gone(c.h.NeighDel(fdbMaster(idx, mac))), gone(c.h.NeighDel(fdbSelf(idx, mac, host))))
			n += 2
		}
	}
	for a, mac := range st.nbrs {
		if _, ok := want.nbrs[a]; !ok {
			errs = append(errs, gone(c.h.NeighDel(proxyNeigh(idx, a, mac))))
			n++
		}
	}
	for mac, host := range want.fdb {
		if old, ok := st.fdb[mac]; !ok || old != host {
			errs = append(errs, c.h.NeighSet(fdbSelf(idx, mac, host)), c.h.NeighSet(fdbMaster(idx, mac)))
			n += 2
		}
	}
	for a, mac := range want.nbrs {
		if st.nbrs[a] != mac {
			errs = append(errs, c.h.NeighSet(proxyNeigh(idx, a, mac)))
			n++
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("%s: vxlan forwarding entries: %w", c.name, err)
	}
	return n, nil
}

// The datapath's overlay table: a bridge table of its own (so that the remote ENIs'
// changes never touch the main ruleset), whose prerouting chain runs after the main one
// and before br_netfilter's hooks (conntrack).
const ovTablePrio = -190

func ovTableName(prefix string) string { return prefix + "ov" }

// ensureOverlayTable makes the datapath's overlay table: frames from a router leg to a
// remote ENI's MAC are not tracked (see the package's cluster mode). It keeps the plane's
// record of the datapath's nftables generation (drift_linux.go) when it writes.
func (r *reconciler) ensureOverlayTable(rmacs []string) {
	slices.Sort(rmacs)
	key := specKey(nftVersion, r.p.prefix, strings.Join(rmacs, ","))
	if !r.full && !r.dpUntrusted && r.c.ovNFT == key {
		return
	}
	r.c.ovNFT = 0
	conn, err := r.dp.nft()
	if err != nil {
		r.fail(fmt.Errorf("datapath nftables: %w", err))
		return
	}
	defer r.dp.nftDone(r, r.nerr)
	tab := &nftables.Table{Name: ovTableName(r.p.prefix), Family: nftables.TableFamilyBridge}
	marker := fmt.Sprintf("v%016x", key)
	chains, err := conn.ListChainsOfTableFamily(tab.Family)
	if err != nil {
		r.fail(fmt.Errorf("datapath: list nftables chains: %w", err))
		return
	}
	n, marked := 0, false
	for _, ch := range chains {
		if ch.Table != nil && ch.Table.Name == tab.Name {
			n++
			marked = marked || ch.Name == marker
		}
	}
	if marked && n == 2 {
		r.c.ovNFT = key
		return
	}
	gen, genErr := r.dp.nftGen()
	trusted := genErr == nil && uint64(gen)+1 == r.p.dpGen.Load()
	if genErr == nil {
		queueDPStamp(conn, r.p.prefix, gen+1, r.c.nftBase)
	}
	conn.AddTable(tab)
	conn.DelTable(tab)
	conn.AddTable(tab)
	conn.AddChain(&nftables.Chain{Name: marker, Table: tab})
	set := &nftables.Set{Table: tab, Name: "rmacs", KeyType: nftables.TypeEtherAddr}
	var elems []nftables.SetElement
	for _, m := range rmacs {
		b, _ := parseMAC(m) // validated in plan
		elems = append(elems, nftables.SetElement{Key: b})
	}
	if err := addSet(conn, set, elems); err != nil {
		r.fail(fmt.Errorf("datapath: overlay table: %w", err))
		return
	}
	accept := nftables.ChainPolicyAccept
	pre := conn.AddChain(&nftables.Chain{Name: "pre", Table: tab, Hooknum: nftables.ChainHookPrerouting,
		Priority: nftables.ChainPriorityRef(ovTablePrio), Type: nftables.ChainTypeFilter, Policy: &accept})
	conn.AddRule(&nftables.Rule{Table: tab, Chain: pre, Exprs: []expr.Any{
		meta(expr.MetaKeyIIFNAME), cmpEq([]byte(r.p.prefix + string(kindRouterDP))), // a prefix match: every leg
		load(expr.PayloadBaseLLHeader, 0, 6),
		&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
		&expr.Notrack{}}})
	if err := conn.Flush(); err != nil {
		r.fail(fmt.Errorf("datapath: overlay table: %w", err))
		return
	}
	r.changes++
	r.ownDPChange(gen, trusted)
	r.c.ovNFT = key
}

// ownDPChange records that the plane's own change moved the datapath's nftables
// generation on from gen (when the plane knew the ruleset was its own before it).
func (r *reconciler) ownDPChange(gen uint32, trusted bool) {
	if !trusted {
		return
	}
	if after, err := r.dp.nftGen(); err == nil && after == gen+1 {
		r.p.dpGen.Store(uint64(after) + 1)
	} else {
		r.p.dpGen.Store(0)
	}
}

// overlayOff removes the overlay's objects from a plane whose Desired has none: the
// VXLAN ports (a full pass's removeLeftovers also finds them), the overlay table and the
// internet segment.
func (r *reconciler) overlayOff() {
	for id, ent := range r.c.vxlans {
		delete(r.c.vxlans, id)
		if l, err := r.dp.h.LinkByIndex(ent.idx); err == nil && l.Type() == "vxlan" &&
			strings.HasPrefix(l.Attrs().Name, r.p.prefix+string(kindVXLAN)) {
			r.fail(delLink(r.dp.h, l))
			r.changes++
		}
	}
	if r.c.underlay != nil {
		r.c.underlay.close()
		r.c.underlay = nil
	}
	if r.c.ovNFT != 0 || r.full {
		r.c.ovNFT = 0
		r.dropOverlayTable()
	}
	r.inetSegmentOff()
}

// dropOverlayTable deletes the datapath's overlay table if it is there.
func (r *reconciler) dropOverlayTable() {
	conn, err := r.dp.nft()
	if err != nil {
		r.fail(fmt.Errorf("datapath nftables: %w", err))
		return
	}
	defer r.dp.nftDone(r, r.nerr)
	tabs, err := conn.ListTablesOfFamily(nftables.TableFamilyBridge)
	if err != nil {
		r.fail(fmt.Errorf("datapath: list nftables tables: %w", err))
		return
	}
	if !slices.ContainsFunc(tabs, func(t *nftables.Table) bool { return t.Name == ovTableName(r.p.prefix) }) {
		return
	}
	gen, genErr := r.dp.nftGen()
	trusted := genErr == nil && uint64(gen)+1 == r.p.dpGen.Load()
	if genErr == nil {
		queueDPStamp(conn, r.p.prefix, gen+1, r.c.nftBase)
	}
	conn.DelTable(&nftables.Table{Name: ovTableName(r.p.prefix), Family: nftables.TableFamilyBridge})
	if err := conn.Flush(); err != nil {
		r.fail(fmt.Errorf("datapath: delete overlay table: %w", err))
		return
	}
	r.changes++
	r.ownDPChange(gen, trusted)
}

// The internet across hosts: each host's internet namespace has its host's underlay
// address on a VXLAN segment of its own (VNI InternetVNI, <prefix>w<hash>), with a
// permanent neighbour and forwarding entry for every other host (MAC: hostMAC) and a
// route to it; the public address of a remote ENI is routed to the host it is realised
// on, whose internet namespace forwards it to the VPC router that translates it. So "the
// internet" of any host reaches an Elastic IP wherever its instance runs (from the host's
// underlay address), and follows a move.

// segEntry is what the plane last made of the internet segment.
type segEntry struct {
	key uint64
	idx int
}

// hostMAC is the MAC of a host's internet segment device.
func hostMAC(a netip.Addr) net.HardwareAddr { return deterministicMAC("host:" + a.String()) }

func segName(prefix string) string { return ifName(prefix, kindInetSeg, "inet") }

// ensureInetSegment makes the internet segment and its entries; its routes go in with the
// internet namespace's others (r.segRoutes, ensureRouters).
func (r *reconciler) ensureInetSegment(u *nsCtx) {
	r.segRoutes = nil
	if r.inet == nil {
		return
	}
	peers := map[netip.Addr]bool{}
	for _, h := range r.ov.hosts {
		peers[h] = true
	}
	var pubs []route
	for _, m := range r.ov.publics {
		a, err := netip.ParseAddr(m.Public)
		if err != nil || !a.Is4() {
			continue
		}
		host := r.ov.ids[m.ENIID].host
		peers[host] = true
		pubs = append(pubs, route{dst: netip.PrefixFrom(a, 32), gw: host})
	}
	delete(peers, r.ov.local)
	hosts := slices.SortedFunc(func(yield func(netip.Addr) bool) {
		for h := range peers {
			if !yield(h) {
				return
			}
		}
	}, netip.Addr.Compare)
	name := segName(r.p.prefix)
	key := specKey(name, r.ov.local, r.ov.port, r.ov.mtu, fmt.Sprint(hosts), r.inet.gen, u.gen)
	ent := r.c.inetSeg
	if ent == nil || ent.key != key || r.full {
		r.c.inetSeg = nil
		n0 := r.nerr
		l, _, err := r.makeVXLAN(u, r.inet, name, InternetVNI, hostMAC(r.ov.local))
		if err != nil {
			r.fail(fmt.Errorf("internet segment: %w", err))
			return
		}
		r.count(ensureSysctls(r.inet.ns, []sysctl{{"net/ipv4/ip_forward", "1"}}))
		r.count(ensureAddrs(r.inet, l, []netip.Prefix{netip.PrefixFrom(r.ov.local, 32)}))
		want := &fwdState{fdb: map[string]netip.Addr{}, nbrs: map[netip.Addr]string{}}
		for _, h := range hosts {
			want.fdb[hostMAC(h).String()] = h
			want.nbrs[h] = hostMAC(h).String()
		}
		r.count(fwdWhole(r.inet, l.Attrs().Index, want, false))
		r.count(setUp(r.inet, l))
		ent = &segEntry{idx: l.Attrs().Index}
		if r.nerr == n0 {
			ent.key = key
			r.c.inetSeg = ent
		}
	}
	for _, h := range hosts {
		r.segRoutes = append(r.segRoutes, route{dst: netip.PrefixFrom(h, 32), link: ent.idx, table: 254})
	}
	for _, rt := range pubs {
		rt.link, rt.table = ent.idx, 254
		r.segRoutes = append(r.segRoutes, rt)
	}
}

// inetSegmentOff removes the internet segment.
func (r *reconciler) inetSegmentOff() {
	if r.c.inetSeg == nil || r.inet == nil {
		return
	}
	r.c.inetSeg = nil
	if l, err := r.inet.linkByName(segName(r.p.prefix)); err != nil {
		r.fail(err)
	} else if l != nil {
		r.fail(delLink(r.inet.h, l))
		r.changes++
	}
}
