package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The overlay between the hosts of a cluster (Desired.Overlay). Each subnet's bridge has
// one more port: a VXLAN device with the subnet's VNI, whose UDP socket lives in the
// namespace that carries the underlay (created there, then moved into the datapath).
// Nothing is learnt and nothing is flooded: for every ENI realised on another host, the
// device has a forwarding entry (its MAC → that host's address), the bridge a static
// entry (its MAC → the VXLAN port), and the device permanent neighbour entries (its
// addresses → its MAC) from which it answers ARP requests and neighbour solicitations
// itself ("proxy"), so no broadcast crosses the underlay. The bridge port does not learn:
// every host's router leg has the same MAC (the routers are one distributed gateway), and
// a frame of another host's router must not move it. Frames from the VXLAN port carry
// no ENI mark, as the router's: the sending host applied the source ENI's egress rules,
// this host applies the destination's ingress rules.

const (
	kindVXLAN      = 'v' // a subnet's VXLAN port (datapath)
	vxlanPort      = 4789
	overlayMTU     = 1450
	vxlanOverhead  = 50
	ntfSelf        = 0x02 // NTF_SELF: the device's own forwarding table
	ntfMaster      = 0x04 // NTF_MASTER: the bridge's
	bridgeFDBState = netlink.NUD_NOARP
)

// planOverlay parses the remote ENIs (r.remote, by VPC) and keeps the public mappings of
// local ENIs only: a remote ENI's are its host's.
func (r *reconciler) planOverlay(d *Desired) {
	r.overlay, r.remote, r.remoteByVPC = d.Overlay, nil, map[string][]*eniInfo{}
	if d.Overlay == nil {
		return
	}
	remote := map[string]bool{}
	for _, re := range d.Overlay.Remote {
		si := r.subnets[re.SubnetID]
		if si == nil {
			continue // an IPv6-only subnet's, or of a VPC not realised
		}
		e := re.ENI
		e.InstanceID, e.DeviceIndex = "", 0
		ei, err := parseENI(e, si)
		if err != nil {
			r.fail(err)
			continue
		}
		if _, err := netip.ParseAddr(re.Host); err != nil {
			r.fail(fmt.Errorf("eni %s: bad host address %q", re.ID, re.Host))
			continue
		}
		ei.host = re.Host // its host's underlay address (no host end here)
		r.remote = append(r.remote, ei)
		r.remoteByVPC[si.vpcID] = append(r.remoteByVPC[si.vpcID], ei)
		remote[re.ID] = true
	}
	slices.SortFunc(r.remote, func(a, b *eniInfo) int { return strings.Compare(a.ID, b.ID) })
	for vpc, ms := range r.publics {
		r.publics[vpc] = slices.DeleteFunc(ms, func(m PublicMapping) bool { return remote[m.ENIID] })
	}
}

// overlayMTU is the MTU of ENIs and router legs (0: the kernel's default).
func (r *reconciler) linkMTU() int {
	if r.overlay == nil {
		return 0
	}
	if r.overlay.MTU > 0 {
		return r.overlay.MTU
	}
	return overlayMTU
}

// ensureMTU sets l's MTU to the overlay's, when there is one.
func (r *reconciler) ensureMTU(c *nsCtx, l netlink.Link) {
	if m := r.linkMTU(); m > 0 && l != nil && l.Attrs().MTU != m {
		if err := c.h.LinkSetMTU(l, m); err != nil {
			r.fail(fmt.Errorf("%s: MTU of %s: %w", c.name, l.Attrs().Name, err))
			return
		}
		r.changes++
	}
}

// ensureOverlay gives every subnet bridge its VXLAN port with the entries of the subnet's
// remote ENIs, or removes the ports when there is no overlay.
func (r *reconciler) ensureOverlay() {
	if r.dp == nil {
		return
	}
	if r.overlay == nil {
		if r.full || len(r.c.overlay) > 0 {
			r.c.overlay = nil
			r.removeLinks(r.dp, func(l netlink.Link) bool { return l.Type() == "vxlan" && strings.HasPrefix(l.Attrs().Name, r.p.prefix) })
		}
		return
	}
	if r.c.overlay == nil {
		r.c.overlay = map[string]uint64{}
	}
	bySubnet := map[string][]*eniInfo{}
	for _, e := range r.remote {
		bySubnet[e.SubnetID] = append(bySubnet[e.SubnetID], e)
	}
	for _, s := range r.subnetSeq {
		br, ok := r.bridges[s.ID]
		if !ok {
			continue
		}
		key := overlayKey(r.overlay, s, br, bySubnet[s.ID])
		if !r.full && r.c.overlay[s.ID] == key {
			continue
		}
		delete(r.c.overlay, s.ID)
		n0 := r.nerr
		if vx := r.ensureVXLAN(s, br); vx != nil {
			r.count(ensureOverlayEntries(r.dp, vx, br, bySubnet[s.ID]))
		}
		if r.nerr == n0 {
			r.c.overlay[s.ID] = key
		}
	}
}

// overlayKey is the spec of a subnet's VXLAN port and entries.
func overlayKey(ov *Overlay, s *subnetInfo, br int, remote []*eniInfo) uint64 {
	k := newKeyHash()
	k.str(ov.Local)
	k.str(ov.UnderlayNS)
	k.int(ov.Port)
	k.int(ov.MTU)
	k.u64(uint64(s.VNI))
	k.int(br)
	for _, e := range remote {
		k.str(e.ID)
		k.str(e.mac)
		k.str(e.host)
		k.addrs(e.ips)
		k.addrs(e.ips6)
	}
	return k.sum()
}

// ensureVXLAN makes subnet s's VXLAN port, as the overlay asks, on bridge br.
func (r *reconciler) ensureVXLAN(s *subnetInfo, br int) netlink.Link {
	ov := r.overlay
	name := ifName(r.p.prefix, kindVXLAN, s.ID)
	local, err := netip.ParseAddr(ov.Local)
	if err != nil || !local.Is4() {
		r.fail(fmt.Errorf("overlay: bad local address %q", ov.Local))
		return nil
	}
	port := ov.Port
	if port == 0 {
		port = vxlanPort
	}
	l, err := r.dp.linkByName(name)
	if err != nil {
		r.fail(err)
		return nil
	}
	if vx, ok := l.(*netlink.Vxlan); l != nil && (!ok || vx.VxlanId != int(s.VNI) || vx.Port != port || !vx.SrcAddr.Equal(local.AsSlice()) || vx.Learning || !vx.Proxy) {
		r.fail(delLink(r.dp.h, l))
		r.changes++
		l = nil
	}
	if l == nil {
		if l, err = r.createVXLAN(name, int(s.VNI), local, port); err != nil {
			r.fail(err)
			return nil
		}
	}
	r.ensureMTU(r.dp, l)
	// IPv6 on (the datapath's default is off) so that it can answer neighbour
	// solicitations from its entries, without an address of its own.
	r.count(ensureSysctls(r.dp.ns, []sysctl{{"net/ipv6/conf/" + name + "/addr_gen_mode", "1"}, {"net/ipv6/conf/" + name + "/disable_ipv6", "0"}}))
	if l.Attrs().MasterIndex != br {
		if err := r.dp.h.LinkSetMasterByIndex(l, br); err != nil {
			r.fail(fmt.Errorf("%s: attach %s to its bridge: %w", r.dp.name, name, err))
			return nil
		}
		r.changes++
	}
	// Not learning, not flooding unknown unicast: the port reaches only what the
	// entries name.
	if err := r.dp.h.LinkSetLearning(l, false); err != nil {
		r.fail(err)
	}
	if err := r.dp.h.LinkSetFlood(l, false); err != nil {
		r.fail(err)
	}
	r.count(setUp(r.dp, l))
	return l
}

// createVXLAN creates the device in the underlay's namespace, where its socket stays,
// and moves it into the datapath.
func (r *reconciler) createVXLAN(name string, vni int, local netip.Addr, port int) (netlink.Link, error) {
	ul, err := r.p.underlayNS(r.overlay.UnderlayNS)
	if err != nil {
		return nil, err
	}
	defer ul.Close()
	h, err := netlink.NewHandleAt(ul)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if old, err := h.LinkByName(name); err == nil { // an earlier attempt's, not moved
		_ = h.LinkDel(old)
	}
	vx := &netlink.Vxlan{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: r.linkMTU()}, VxlanId: vni, SrcAddr: local.AsSlice(),
		Port: port, Learning: false, Proxy: true}
	if err := h.LinkAdd(vx); err != nil {
		return nil, fmt.Errorf("overlay: create %s (VNI %d): %w", name, vni, err)
	}
	l, err := h.LinkByName(name)
	if err == nil {
		err = h.LinkSetNsFd(l, int(r.dp.ns))
	}
	if err != nil {
		_ = h.LinkDel(vx)
		return nil, fmt.Errorf("overlay: move %s into the datapath: %w", name, err)
	}
	r.changes++
	l, err = r.dp.linkByName(name)
	if err == nil && l == nil {
		err = fmt.Errorf("overlay: %s vanished", name)
	}
	return l, err
}

// underlayNS opens the underlay's namespace: path, or the process's own.
func (p *Plane) underlayNS(path string) (netns.NsHandle, error) {
	if path == "" {
		path = "/proc/self/ns/net"
	}
	h, err := netns.GetFromPath(path)
	if err != nil {
		return netns.None(), fmt.Errorf("overlay: underlay namespace %s: %w", path, err)
	}
	return h, nil
}

// overlayEntry is one forwarding or neighbour entry of a VXLAN port.
type overlayEntry struct {
	family int // AF_BRIDGE (flags: self or master), AF_INET, AF_INET6
	flags  int
	mac    string
	ip     string // the remote host (self), the ENI's address (neighbour), "" (master)
}

func (o overlayEntry) String() string { return fmt.Sprint(o.family, o.flags, o.mac, o.ip) }

// ensureOverlayEntries makes the port's entries exactly those of remote.
func ensureOverlayEntries(c *nsCtx, vx netlink.Link, br int, remote []*eniInfo) (int, error) {
	idx := vx.Attrs().Index
	want := map[string]netlink.Neigh{}
	for _, e := range remote {
		mac, _ := net.ParseMAC(e.mac) // validated in plan
		host := net.ParseIP(e.host)
		add := func(n netlink.Neigh) {
			n.LinkIndex, n.HardwareAddr = idx, mac
			want[entryOf(&n).String()] = n
		}
		add(netlink.Neigh{Family: unix.AF_BRIDGE, Flags: ntfSelf, State: netlink.NUD_PERMANENT, IP: host})
		add(netlink.Neigh{Family: unix.AF_BRIDGE, Flags: ntfMaster, State: bridgeFDBState, MasterIndex: br})
		for _, a := range e.ips {
			add(netlink.Neigh{Family: unix.AF_INET, State: netlink.NUD_PERMANENT, IP: a.AsSlice()})
		}
		for _, a := range e.ips6 {
			add(netlink.Neigh{Family: unix.AF_INET6, State: netlink.NUD_PERMANENT, IP: a.AsSlice()})
		}
	}
	n := 0
	var errs []error
	have := map[string]bool{}
	for _, fam := range []int{unix.AF_BRIDGE, unix.AF_INET, unix.AF_INET6} {
		list, err := c.h.NeighList(idx, fam)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i := range list {
			h := &list[i]
			if fam == unix.AF_BRIDGE && h.LinkIndex != idx {
				continue
			}
			key := entryOf(h).String()
			if _, ok := want[key]; ok {
				have[key] = true
				continue
			}
			if !ownedEntry(h, vx) {
				continue
			}
			errs = append(errs, c.h.NeighDel(h))
			n++
		}
	}
	for key, w := range want {
		if have[key] {
			continue
		}
		w := w
		var err error
		if w.Family == unix.AF_BRIDGE && w.Flags == ntfSelf {
			err = c.h.NeighAppend(&w)
		} else {
			err = c.h.NeighSet(&w)
		}
		errs = append(errs, err)
		n++
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("%s: overlay entries of %s: %w", c.name, vx.Attrs().Name, err)
	}
	return n, nil
}

// ownedEntry reports whether an entry of the port is one ensureOverlayEntries makes (and
// so removes when it is not wanted): not the port's own address, not the kernel's.
func ownedEntry(h *netlink.Neigh, vx netlink.Link) bool {
	switch {
	case h.HardwareAddr.String() == vx.Attrs().HardwareAddr.String():
		return false
	case h.Family != unix.AF_BRIDGE:
		return h.State&netlink.NUD_PERMANENT != 0
	case h.Flags&ntfSelf != 0:
		return h.IP != nil && !h.IP.IsUnspecified()
	}
	return h.State&bridgeFDBState != 0 && h.State&netlink.NUD_PERMANENT == 0 // static, not the bridge's own
}

// entryOf is the identity of a kernel entry as ensureOverlayEntries compares them.
func entryOf(h *netlink.Neigh) overlayEntry {
	o := overlayEntry{family: h.Family, mac: h.HardwareAddr.String()}
	switch {
	case h.Family == unix.AF_BRIDGE && h.Flags&ntfSelf != 0:
		o.flags = ntfSelf
		if h.IP != nil {
			o.ip = h.IP.String()
		}
	case h.Family == unix.AF_BRIDGE:
		o.flags = ntfMaster
	default:
		if a, ok := netip.AddrFromSlice(h.IP); ok {
			o.ip = a.Unmap().String()
		}
	}
	return o
}
