package dataplane

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// A Linux bridge holds at most 1,023 ports, and a subnet may hold more ENIs than that on
// one host. So a subnet's bridge (the one with its router leg and VXLAN port) is joined,
// once it is full, by segments: further bridges, each tied to the subnet's bridge by a
// veth pair (a patch), in a star. An ENI's port goes on the subnet's bridge while it has
// room, else on the first segment with room; it stays there (a move makes the new pair
// on the same bridge), so that a host with fewer ENIs per subnet than a bridge holds
// never has a segment, and its frames cross one bridge as before.
//
// Why segments and not one datapath device per host: the bridge table's chains, the
// connection tracking of bridged frames (br_netfilter) and the learning of MACs stay
// as they are, and a segment costs two links per 250 ENIs. What a frame between two
// bridges of its subnet costs: it crosses two or three bridges, and on each the
// datapath's hooks (dpBase). Its source ENI is set on the first bridge (from_<N>) and
// kept across the patch (same namespace: the mark survives, the tracked connection is
// looked up again in the subnet's zone, dpZoneMap); on a bridge it leaves through a
// patch, its destination is markTransit, which neither sets the connection's ct mark
// nor names an ENI whose ingress rules apply; the bridge where it leaves through the
// destination's port sets the destination (to_<N>), the ct mark and applies its ingress rules.

const (
	// bridgePorts is how many ENI ports the plane puts on one bridge. A bridge holds at
	// most 1,023 ports (the kernel says EXFULL to the next), and the subnet's bridge also
	// has its router leg, its VXLAN port, a patch per segment and, for a moment, the old
	// pairs of moved ENIs (more go on a segment). But the kernel's work on a port grows
	// with its bridge: taking a port down walks the bridge's whole forwarding table and
	// chooses its root port again, 0.65 ms on a bridge of 900 ports against 0.25 on one
	// of 250, and a move takes one down and deletes one. With 900 a bridge, a server's
	// move pass at 5,000 instances took p50 6.2 ms, with 250 3.7 ms (BenchmarkAgentMove).
	bridgePorts = 250
	// maxSegments is how many segments a subnet may have: with its bridge, they hold the
	// 65,534 ENIs a host may hold. (Each is an element of the datapath's zone map.)
	maxSegments = 262
)

// segBridgeName is the name of segment k (1…maxSegments) of a subnet.
func segBridgeName(prefix, subnet string, k int) string {
	return ifName(prefix, kindSegment, fmt.Sprintf("%s#%d", subnet, k))
}

// segPatchNames are the names of segment k's patch: its end on the subnet's bridge, and
// its end on the segment.
func segPatchNames(prefix, subnet string, k int) (hub, seg string) {
	id := fmt.Sprintf("%s#%d", subnet, k)
	return ifName(prefix, kindPatchHub, id), ifName(prefix, kindPatchSeg, id)
}

// portBudget is how many ENI ports go on one bridge.
func (p *Plane) portBudget() int {
	if p.bridgePorts > 0 {
		return p.bridgePorts
	}
	return bridgePorts
}

// ensureSegments, in a full pass, finds (and repairs) each subnet's segments; segments
// are made when a port needs one (portBridge) and removed with their subnet.
func (r *reconciler) ensureSegments() {
	if !r.full { // those of subnets that went are removed with them (removeSegments)
		return
	}
	for _, s := range r.subnetSeq {
		if _, ok := r.bridges[s.ID]; !ok {
			continue
		}
		var segs []int
		for k := 1; k <= maxSegments; k++ {
			idx, err := r.ensureSegment(s, k, false)
			if err != nil {
				r.fail(err)
			}
			if idx == 0 {
				break
			}
			segs = append(segs, idx)
		}
		r.c.segs[s.ID] = segs
	}
}

// ensureSegment makes segment k of s (when create; else only an existing one is checked)
// with its patch to the subnet's bridge; it returns its ifindex (0: none).
func (r *reconciler) ensureSegment(s *subnetInfo, k int, create bool) (int, error) {
	name := segBridgeName(r.p.prefix, s.ID, k)
	l, err := r.dp.linkByName(name)
	if err != nil {
		return 0, err
	}
	if l != nil && l.Type() != "bridge" {
		if err := delLink(r.dp.h, l); err != nil {
			return 0, err
		}
		r.changes++
		l = nil
	}
	if l == nil {
		if !create {
			return 0, nil
		}
		if err := bridgeRequest(r.dp.ns, name, 0, true); err != nil {
			return 0, fmt.Errorf("create bridge %s: %w", name, err)
		}
		r.changes++
		if l, err = r.dp.linkByName(name); err != nil || l == nil {
			return 0, fmt.Errorf("bridge %s vanished: %v", name, err)
		}
	} else if ok, err := bridgeNFCall(r.dp.ns, l.Attrs().Index); err != nil || !ok {
		if err == nil {
			err = bridgeRequest(r.dp.ns, name, l.Attrs().Index, false)
			r.changes++
		}
		if err != nil {
			return 0, err
		}
	}
	idx := l.Attrs().Index
	r.count(ensureMTU(r.dp, l, r.mtu))
	r.count(setUp(r.dp, l))
	hub, seg := segPatchNames(r.p.prefix, s.ID, k)
	n0 := r.nerr
	end := r.ensurePair(r.dp, seg, nil, r.dp, hub, r.bridges[s.ID])
	if end != nil && end.Attrs().MasterIndex != idx {
		if err := r.dp.h.LinkSetMasterByIndex(end, idx); err != nil {
			return 0, fmt.Errorf("attach %s to %s: %w", seg, name, err)
		}
		r.changes++
	}
	if end != nil {
		r.count(ensureMTU(r.dp, end, r.mtu))
		r.count(ensureStaticFDB(r.dp, end, deterministicMAC(s.ID))) // the router's MAC is across the patch
		if h, err := r.dp.linkByName(hub); err == nil && h != nil {
			r.count(ensureMTU(r.dp, h, r.mtu))
		}
	}
	if r.nerr != n0 {
		return 0, fmt.Errorf("segment %s of subnet %s: no patch", name, s.ID)
	}
	return idx, nil
}

// subnetBridge reports whether the bridge idx is one of subnet's (its bridge or a segment).
func (r *reconciler) subnetBridge(subnet string, idx int) bool {
	return idx > 0 && (r.bridges[subnet] == idx || slices.Contains(r.c.segs[subnet], idx))
}

// countPorts counts, once a pass, the ENI ports the plane put on each bridge (the
// cache keeps the count: counting them was a walk of every ENI at every move).
func (r *reconciler) countPorts() {
	if r.ports == nil {
		r.ports = maps.Clone(r.c.ports)
	}
}

// portBridge chooses the bridge of a new port of e's: want (the bridge it is on) while it
// has room, else the first of its subnet's bridges with room, making a segment when all
// are full.
func (r *reconciler) portBridge(e *eniInfo, want int) (int, error) {
	r.countPorts()
	own := r.c.enis[e.ID].bridge // the bridge e is counted on (a move: its old pair's)
	room := func(idx int) bool {
		n := r.ports[idx]
		if idx == own {
			n--
		}
		return n < r.p.portBudget() && !r.fullBridge[idx]
	}
	if r.subnetBridge(e.SubnetID, want) && room(want) {
		return want, nil
	}
	if br := r.bridges[e.SubnetID]; room(br) {
		return br, nil
	}
	for k := 1; k <= maxSegments; k++ {
		segs := r.c.segs[e.SubnetID]
		if k <= len(segs) {
			if room(segs[k-1]) {
				return segs[k-1], nil
			}
			continue
		}
		idx, err := r.ensureSegment(e.subnet, k, true)
		if err != nil {
			return 0, err
		}
		r.c.segs[e.SubnetID] = append(segs, idx)
		if room(idx) {
			return idx, nil
		}
	}
	return 0, fmt.Errorf("subnet %s: its %d bridges are full", e.SubnetID, maxSegments+1)
}

// createENIPort makes e's new pair on a bridge of its subnet with room (want first): a
// bridge the kernel finds full (its ports also hold old pairs still being deleted) is
// passed over. It returns the instance end's ifindex and the bridge.
func (r *reconciler) createENIPort(e *eniInfo, inst *nsCtx, want int, create func(br int) (int, error)) (int, int, error) {
	for range maxSegments + 1 {
		br, err := r.portBridge(e, want)
		if err != nil {
			return 0, 0, err
		}
		peer, err := create(br)
		if errors.Is(err, unix.EXFULL) {
			r.fullBridge[br] = true
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		if br != r.c.enis[e.ID].bridge {
			r.ports[br]++
		}
		return peer, br, nil
	}
	return 0, 0, fmt.Errorf("eni %s: every bridge of subnet %s is full", e.ID, e.SubnetID)
}

// removeSegments deletes the segments of a subnet that went (and their patches).
func (r *reconciler) removeSegments(subnet string) {
	for k := 1; k <= len(r.c.segs[subnet]); k++ {
		hub, _ := segPatchNames(r.p.prefix, subnet, k)
		for _, n := range []string{hub, segBridgeName(r.p.prefix, subnet, k)} {
			if l, err := r.dp.linkByName(n); err != nil {
				r.fail(err)
			} else if l != nil {
				r.fail(delLink(r.dp.h, l))
				r.changes++
			}
		}
	}
	delete(r.c.segs, subnet)
}

// segmentNames are the names of a subnet's segments and patches that exist.
func (r *reconciler) segmentNames(subnet string) []string {
	var out []string
	for k := 1; k <= len(r.c.segs[subnet]); k++ {
		hub, seg := segPatchNames(r.p.prefix, subnet, k)
		out = append(out, segBridgeName(r.p.prefix, subnet, k), hub, seg)
	}
	return out
}

// firstLink is the first of ls that is not nil.
func firstLink(ls ...netlink.Link) netlink.Link {
	for _, l := range ls {
		if l != nil {
			return l
		}
	}
	return nil
}
