package core

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Cluster mode (issue 13): hosts, each with an agent holding a lease in etcd,
// realise the region together. The live hosts are not records: the edge
// feeds them from the leases (SetHosts). With Config.Cluster, RunInstances
// places every instance on a live host of its subnet's zone (Instance.Host),
// each host's agent realises its share (HostViewFor), and the writer settles
// what the hosts report (SettleHosts).

// Host is a live host of a cluster, as its agent publishes it.
type Host struct {
	Name, AZ string
	Underlay string // the host's underlay IPv4: its VXLAN endpoint
	Capacity int    // instances it may hold; 0: no limit
	// Realised are the namespaces (instances, tasks, NAT gateways,
	// endpoints) its agent brought up, ENIs the ENIs it realised in them.
	Realised map[string]bool
	ENIs     map[string]string
}

// HostInfo is a host as a listing shows it.
type HostInfo struct {
	Name, AZ, Underlay string
	Capacity, Placed   int  // Placed: pending and running instances on it
	Live               bool // false: instances are placed on it but its lease is gone
}

// SetHosts replaces the region's live hosts.
func (c *Core) SetHosts(regionName string, hosts []Host) {
	m := make(map[string]Host, len(hosts))
	for _, h := range hosts {
		m[h.Name] = h
	}
	r := c.region(regionName)
	r.mu.Lock()
	r.hosts = m
	known := maps.Clone(r.known) // Tx holds the old one without the lock
	if known == nil {
		known = map[string]string{}
	}
	for _, h := range hosts {
		known[h.Name] = h.Underlay
	}
	r.known = known
	r.mu.Unlock()
}

// AddKnownHosts adds underlay addresses of hosts (name → address) that may not
// be live, as an agent learns them at start: their instances' ENIs stay remote
// at that address. A live host's own address wins.
func (c *Core) AddKnownHosts(regionName string, addrs map[string]string) {
	r := c.region(regionName)
	r.mu.Lock()
	defer r.mu.Unlock()
	known := maps.Clone(r.known)
	if known == nil {
		known = map[string]string{}
	}
	for name, a := range addrs {
		if _, live := r.hosts[name]; !live {
			known[name] = a
		}
	}
	r.known = known
}

// Hosts lists the region's live hosts and the hosts instances are placed on.
func (c *Core) Hosts(regionName string) []HostInfo {
	r := c.region(regionName)
	r.mu.RLock()
	defer r.mu.RUnlock()
	tx := c.newTx(r, Caller{Region: regionName}, true)
	load := tx.hostLoad()
	var out []HostInfo
	for _, h := range tx.hosts {
		out = append(out, HostInfo{Name: h.Name, AZ: h.AZ, Underlay: h.Underlay, Capacity: h.Capacity, Placed: load[h.Name], Live: true})
	}
	for name, n := range load {
		if _, ok := tx.hosts[name]; !ok {
			out = append(out, HostInfo{Name: name, Placed: n})
		}
	}
	slices.SortFunc(out, func(a, b HostInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// hostLoad counts the pending and running instances placed on each host.
func (tx *Tx) hostLoad() map[string]int {
	load := map[string]int{}
	for _, i := range tx.instances.Sorted(nil) {
		if i.Host != "" && instanceLive(i) {
			load[i.Host]++
		}
	}
	return load
}

// placeInstances picks a live host of az for each of up to count instances
// of type typ: among those with room the least loaded, ties by name. Fewer
// than minCount placed is AWS's InsufficientInstanceCapacity.
func (tx *Tx) placeInstances(az, typ string, minCount, count int32) ([]string, error) {
	load := tx.hostLoad()
	var cands []Host
	for _, h := range tx.hosts {
		if h.AZ == az {
			cands = append(cands, h)
		}
	}
	slices.SortFunc(cands, func(a, b Host) int { return strings.Compare(a.Name, b.Name) })
	var placed []string
	for range count {
		best := -1
		for k, h := range cands {
			if h.Capacity > 0 && load[h.Name] >= h.Capacity {
				continue
			}
			if best < 0 || load[h.Name] < load[cands[best].Name] {
				best = k
			}
		}
		if best < 0 {
			break
		}
		placed = append(placed, cands[best].Name)
		load[cands[best].Name]++
	}
	if int32(len(placed)) < minCount {
		return nil, tx.insufficientCapacity(az, typ)
	}
	return placed, nil
}

// insufficientCapacity is AWS's error for a zone without room, naming the
// zones that have some.
func (tx *Tx) insufficientCapacity(az, typ string) error {
	load := tx.hostLoad()
	var others []string
	for _, h := range tx.hosts {
		if h.AZ != az && (h.Capacity == 0 || load[h.Name] < h.Capacity) && !slices.Contains(others, h.AZ) {
			others = append(others, h.AZ)
		}
	}
	sort.Strings(others)
	msg := fmt.Sprintf("We currently do not have sufficient %s capacity in the Availability Zone you requested (%s). Our system will be working on provisioning additional capacity.", typ, az)
	if len(others) > 0 {
		msg += fmt.Sprintf(" You can currently get %s capacity by not specifying an Availability Zone in your request or choosing %s.", typ, strings.Join(others, ", "))
	}
	return errorf(CodeInsufficientInstanceCapacity, "%s", msg)
}

// startPlacement re-places a stopped instance being started whose host is
// gone (or that was never placed).
func (tx *Tx) startPlacement(inst *Instance) error {
	if !tx.cfg.Cluster {
		return nil
	}
	if _, ok := tx.hosts[inst.Host]; ok {
		return nil
	}
	hosts, err := tx.placeInstances(inst.AZ, inst.InstanceType, 1, 1)
	if err != nil {
		return err
	}
	tx.instances.Mut(inst.ID).Host = hosts[0]
	return nil
}

// hostImpaired reports whether a cluster instance's host is gone.
func (tx *Tx) hostImpaired(i *Instance) bool {
	if !tx.cfg.Cluster {
		return false
	}
	_, live := tx.hosts[i.Host]
	return !live
}

// defaultHost is the live host that realises what has no placement of its
// own (NAT gateways, tasks, interface endpoints' namespaces) in zone az: the
// lowest-named of the zone's, else of all; "" with no live host.
func (tx *Tx) defaultHost(az string) string {
	best, bestAny := "", ""
	for name, h := range tx.hosts {
		if bestAny == "" || name < bestAny {
			bestAny = name
		}
		if h.AZ == az && (best == "" || name < best) {
			best = name
		}
	}
	if best == "" {
		return bestAny
	}
	return best
}

// HostViewFor is the part of the region's view that host realises: its
// instances (and the namespaces defaultHost gives it), ENIs realised on other
// hosts as remote (Remote: that host's underlay address), everything else as
// HostView. host "" is HostView. A host whose lease is gone keeps its
// instances' ENIs remote, at its last known address: its agent may be dead
// while its instances still forward (they are reported impaired, not gone).
func (c *Core) HostViewFor(regionName, host string) HostView {
	if host == "" || !c.ServesRegion(regionName) {
		return c.HostView(regionName)
	}
	r := c.region(regionName)
	r.mu.RLock()
	defer r.mu.RUnlock()
	tx := c.newTx(r, Caller{Region: regionName}, true)
	return tx.hostFilter(tx.hostView(), host)
}

// hostOf is the host a namespace of the view is realised on: an instance's
// placement, else defaultHost of the zone of its eth0's subnet.
func (tx *Tx) hostOf(hv *HostView) func(nsID string) string {
	eth0 := map[string]string{} // namespace -> its eth0's subnet
	for _, e := range hv.ENIs {
		if e.InstanceID != "" && e.DeviceIndex == 0 {
			eth0[e.InstanceID] = e.SubnetID
		}
	}
	return func(id string) string {
		if i := tx.instances.Get(id); i != nil {
			return i.Host
		}
		az := ""
		if s := tx.subnets.Get(eth0[id]); s != nil {
			az = s.AZ
		}
		return tx.defaultHost(az)
	}
}

// hostFilter keeps what host realises of hv.
func (tx *Tx) hostFilter(hv HostView, host string) HostView {
	on := tx.hostOf(&hv)
	var insts []HostInstance
	for _, i := range hv.Instances {
		if on(i.ID) == host {
			insts = append(insts, i)
		}
	}
	hv.Instances = insts
	hv.ENIs = slices.Clone(hv.ENIs) // shared with other views
	for k, e := range hv.ENIs {
		if e.InstanceID == "" {
			continue
		}
		if h := on(e.InstanceID); h != host {
			hv.ENIs[k].InstanceID, hv.ENIs[k].DeviceIndex = "", 0
			hv.ENIs[k].Remote = tx.known[h] // "": a host not seen since this process started
		}
	}
	var gws []HostNatGateway
	for _, g := range hv.NatGateways {
		if on(g.ID) == host {
			gws = append(gws, g)
		}
	}
	hv.NatGateways = gws
	var svcs []HostService
	for _, s := range hv.Services {
		if on(s.Namespace) == host {
			svcs = append(svcs, s)
		}
	}
	hv.Services = svcs
	for _, u := range tx.known {
		if u != "" && !slices.Contains(hv.Underlays, u) {
			hv.Underlays = append(hv.Underlays, u)
		}
	}
	slices.Sort(hv.Underlays)
	return hv
}

// assignVNIs gives each subnet of the view its VXLAN network identifier: a
// hash of its id into 1..vniMax, the next free one on a collision, in
// subnet id order, so every host computes the same.
func assignVNIs(vpcs []HostVPC) {
	var refs []*HostSubnet
	for v := range vpcs {
		for s := range vpcs[v].Subnets {
			refs = append(refs, &vpcs[v].Subnets[s])
		}
	}
	slices.SortFunc(refs, func(a, b *HostSubnet) int { return strings.Compare(a.ID, b.ID) })
	used := map[uint32]bool{}
	for _, s := range refs {
		h := fnv.New32a()
		h.Write([]byte(s.ID))
		vni := h.Sum32()%vniMax + 1
		for used[vni] {
			vni = vni%vniMax + 1
		}
		used[vni] = true
		s.VNI = vni
	}
}

// vniMax is the highest subnet VNI; those above are reserved (the internet's
// segment between hosts).
const vniMax = 0xFFFFF0

// SettleHosts commits what the live hosts report they realised: their
// pending instances become running and their attaching ENIs attached (only
// what is placed on the host that reports it).
func (c *Core) SettleHosts(who Caller, commit Committer) error {
	return c.Write(who, false, commit, func(tx *Tx) error {
		tx.adoptUnplaced()
		insts, enis := map[string]bool{}, map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(tx.hosts)) {
			tx.hostReport(tx.hosts[name], insts, enis)
		}
		// once for all hosts: a deleting NAT gateway is gone when no host reports it
		tx.MarkRealised(SetOf(insts), SetOf(enis))
		return nil
	})
}

// adoptUnplaced places the pending and running instances that have no host
// (a store written without --cluster, now served with it) on live hosts of
// their zones, as RunInstances places new ones. One that finds no room stays
// unplaced (impaired) until a host of its zone has some.
func (tx *Tx) adoptUnplaced() {
	unplaced := tx.instances.Sorted(func(i *Instance) bool {
		return i.Host == "" && instanceLive(i)
	})
	for _, i := range unplaced {
		if hosts, err := tx.placeInstances(i.AZ, i.InstanceType, 1, 1); err == nil {
			tx.instances.Mut(i.ID).Host = hosts[0]
		}
	}
}

// hostReport adds to insts and enis what h reports of its own.
func (tx *Tx) hostReport(h Host, insts map[string]bool, enis map[string]string) {
	mine := func(id string) bool {
		i := tx.instances.Get(id)
		return i == nil || i.Host == h.Name // a task, gateway or endpoint: wherever it is reported
	}
	for id, up := range h.Realised {
		if up && mine(id) {
			insts[id] = true
		}
	}
	for eni, inst := range h.ENIs {
		if mine(inst) {
			enis[eni] = inst
		}
	}
}
