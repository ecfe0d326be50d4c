package core

import (
	"iter"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// HostView is what the data plane must realise for one region: plain data,
// derived from the model, with every reference resolved (a rule naming a
// security group carries its members' addresses).
type HostView struct {
	VPCs      []HostVPC
	Instances []HostInstance
	ENIs      []HostENI
	Groups    []HostGroup
	PublicIPs []PublicMapping
	Peerings  []HostPeering // active VPC peering connections (vpcpeering.go)
	Services  []HostService // the server's listeners in endpoint namespaces (vpcendpointhost.go)
	// NatGateways are the pending and available NAT gateways, each
	// realised as a namespace of its own (hostnatgateway.go).
	NatGateways []HostNatGateway
	// Underlays, in a host's view of a cluster (HostViewFor), are the underlay
	// addresses of every host known, this one included, sorted.
	Underlays []string
}

// HostVPC is a VPC and its subnets.
type HostVPC struct {
	ID      string
	Subnets []HostSubnet
	// ResolverIP is the VPC resolver's address in the VPC, its primary block's
	// base + 2 (vpcdns.go).
	ResolverIP string
}

// HostSubnet is a subnet as the data plane sees it.
type HostSubnet struct {
	ID, CIDR, IPv6CIDR, RouterIP string
	VNI                          uint32          // its VXLAN network identifier between cluster hosts (cluster.go)
	Public                       bool            // its table routes 0.0.0.0/0 to an attached internet gateway
	DefaultRouteENI              string          // its table routes 0.0.0.0/0 to this ENI (a NAT instance)
	PeerRoutes                   []HostPeerRoute // its table's IPv4 routes to active peering connections
	ENIRoutes                    []HostENIRoute  // its table's narrower IPv4 routes to ENIs (hostroutes.go)

	ACL *HostACL // its network ACL (hostacl.go)
	// EgressOnlyIPv6: its table routes ::/0 to an egress-only internet gateway (hosteigw.go).
	EgressOnlyIPv6 bool
	// PublicIPv6: its table routes ::/0 to an internet gateway of its VPC (hosteigw.go).
	PublicIPv6 bool
}

// HostInstance is an instance whose namespace should exist (pending or running).
type HostInstance struct {
	ID       string
	State    string
	UserData string // base64, as given to RunInstances
}

// HostENI is an ENI; InstanceID is set when it is attached to an instance
// that should be up.
type HostENI struct {
	ID, MAC, SubnetID, VpcID string
	PrivateIPs               []string // primary first
	IPv6                     []string
	IPv4Prefixes             []string // delegated /28s
	IPv6Prefixes             []string // delegated /80s
	InstanceID               string
	DeviceIndex              int
	SourceDestCheck          bool
	Groups                   []string
	// Unfiltered: a NAT gateway's interface, which no security group
	// filters (it has none, as on AWS).
	Unfiltered bool
	// Remote, in a host's view of a cluster (HostViewFor), is the underlay
	// address of the other host it is realised on (InstanceID is then "").
	Remote string
}

// HostGroup is a security group with its rules resolved to CIDRs.
type HostGroup struct {
	ID              string
	Ingress, Egress []HostRule
}

// HostRule is one permission: protocol, ports (ICMP type/code) and peers.
type HostRule struct {
	Protocol         string
	FromPort, ToPort int
	CIDRs            []string
}

// HostView returns the region's desired data plane state. Its slices are shared with
// other views and must not be changed.
func (c *Core) HostView(regionName string) HostView {
	if !c.ServesRegion(regionName) {
		return HostView{}
	}
	r := c.region(regionName)
	r.mu.RLock()
	defer r.mu.RUnlock()
	tx := c.newTx(r, Caller{Region: regionName}, true)
	return tx.hostView()
}

// ReturnHostView says that the caller of HostView or HostViewFor is done with hv: it
// keeps nothing of it (its slices included) and will not read it again. The memory of
// its list of ENIs may then be the next view's (the agent's passes: a list of 5,000 ENIs
// made afresh a pass cost a page fault every 4 KiB whenever the heap grew). A view never
// given back is never reused.
func (c *Core) ReturnHostView(regionName string, hv HostView) {
	if !c.ServesRegion(regionName) {
		return
	}
	r := c.region(regionName)
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := &r.db.hostMemo
	m.mu.Lock()
	m.giveBack(hv.ENIs)
	m.mu.Unlock()
}

func (tx *Tx) hostView() HostView {
	var hv HostView
	in := hostENIInputs{taskOf: map[string]string{}}
	hv.Instances = tx.hostInstances()
	namespace := func(id string) { // a task's, an endpoint's, a NAT gateway's
		hv.Instances = append(hv.Instances, HostInstance{ID: id, State: "running"})
	}
	for _, t := range tx.tasks.Sorted(nil) {
		namespace(t.ID)
		in.taskOf[t.ENIID] = t.ID
	}
	endpointNS, services := tx.hostEndpoints()
	for _, id := range endpointNS {
		namespace(id)
		in.taskOf[id] = id // eth0 of its namespace, as a task's
	}
	hv.Services = services
	hv.NatGateways, in.natOf = tx.hostNatGateways() // natOf: ENI -> NAT gateway
	for _, g := range hv.NatGateways {
		namespace(g.ID)
	}
	hv.VPCs, in.ipv6Only = tx.hostVPCs()
	assignVNIs(hv.VPCs)
	v := tx.hostENIView(in)
	hv.ENIs = v.out
	hv.Groups = tx.hostGroups(v.members)
	hv.PublicIPs = v.public
	if eips := tx.eipMappings(); len(eips) > 0 {
		hv.PublicIPs = append(eips, v.public...)
		sortPublicMappings(hv.PublicIPs)
	}
	hv.Peerings = tx.hostPeerings()
	return hv
}

// hostVPCs are the VPCs with their subnets as the data plane sees them, and the
// IPv6-only subnets (not realised: the data plane needs an IPv4 block).
func (tx *Tx) hostVPCs() ([]HostVPC, map[string]bool) {
	var out []HostVPC
	subnetsByVPC := map[string][]HostSubnet{}
	ipv6Only := map[string]bool{}
	for _, s := range tx.subnets.Sorted(nil) {
		if s.Ipv6Native {
			ipv6Only[s.ID] = true
			continue
		}
		hs := HostSubnet{ID: s.ID, CIDR: s.CidrBlock, IPv6CIDR: s.Ipv6CidrBlock, RouterIP: RouterIP(s.CidrBlock).String(), Public: tx.SubnetIsPublic(s.ID)}
		hs.ACL = tx.hostACL(s.ID)
		if hs.IPv6CIDR != "" {
			hs.EgressOnlyIPv6, hs.PublicIPv6 = tx.hostIPv6Default(s.ID)
		}
		hs.DefaultRouteENI, hs.ENIRoutes = tx.hostRoutesToENIs(tx.vpcs.Get(s.VpcID), tx.SubnetRouteTable(s.ID), hs.Public)
		hs.PeerRoutes = tx.hostPeerRoutes(s.VpcID, tx.SubnetRouteTable(s.ID))
		subnetsByVPC[s.VpcID] = append(subnetsByVPC[s.VpcID], hs)
	}
	for _, v := range tx.vpcs.Sorted(nil) {
		out = append(out, HostVPC{ID: v.ID, Subnets: subnetsByVPC[v.ID], ResolverIP: VPCResolverIP(v.CidrBlock).String()})
	}
	return out, ipv6Only
}

// hostGroups are the security groups with their rules as CIDRs: a group
// reference becomes its members' addresses, a prefix list its entries.
func (tx *Tx) hostGroups(members map[string][]string) []HostGroup {
	var out []HostGroup
	for _, g := range tx.groups.Sorted(nil) {
		hg := HostGroup{ID: g.ID}
		conv := func(rules []Rule) []HostRule {
			var out []HostRule
			for _, r := range rules {
				hr := HostRule{Protocol: r.Protocol, FromPort: int(r.FromPort), ToPort: int(r.ToPort)}
				switch {
				case r.CidrIpv4 != "":
					hr.CIDRs = []string{r.CidrIpv4}
				case r.CidrIpv6 != "":
					hr.CIDRs = []string{r.CidrIpv6}
				case r.GroupID != "":
					hr.CIDRs = members[r.GroupID]
					if len(hr.CIDRs) == 0 {
						continue // a group without members admits nobody
					}
				case r.PrefixListID != "":
					hr.CIDRs = tx.PrefixListCIDRs(r.PrefixListID)
					if len(hr.CIDRs) == 0 {
						continue // an empty (or AWS-managed) list admits nobody
					}
				default:
					continue
				}
				out = append(out, hr)
			}
			return out
		}
		hg.Ingress = conv(g.Ingress)
		hg.Egress = conv(g.Egress)
		out = append(out, hg)
	}
	return out
}

// Set is a read-only view of ids and their values: what a data plane realised
// (a dataplane.Realised), or a map (SetOf).
type Set[V comparable] interface {
	All() iter.Seq2[string, V]
	Get(id string) V
}

// SetOf is m as a Set.
func SetOf[V comparable](m map[string]V) Set[V] { return mapSet[V](m) }

type mapSet[V comparable] map[string]V

func (m mapSet[V]) All() iter.Seq2[string, V] { return maps.All(m) }

func (m mapSet[V]) Get(id string) V { return m[id] }

// MarkRealised records what the data plane brought up: pending instances
// whose namespace is up become running, and attachments of ENIs realised in
// their instance become attached. It returns whether anything changed.
func (tx *Tx) MarkRealised(instances Set[bool], enis Set[string]) bool {
	changed := false
	for _, i := range tx.instances.Pick(slices.Collect(maps.Keys(tx.db.idx.pending)), func(i *Instance) bool {
		return i.State == "pending" && instances.Get(i.ID)
	}) {
		tx.instances.Mut(i.ID).State = "running"
		changed = true
	}
	changed = tx.markNatRealised(instances) || changed
	for _, e := range tx.enis.Pick(slices.Collect(maps.Keys(tx.db.idx.attaching)), func(e *ENI) bool {
		a := e.Attachment
		return a != nil && a.Status == "attaching" && a.InstanceID != "" && enis.Get(e.ID) == a.InstanceID
	}) {
		tx.enis.Mut(e.ID).Attachment.Status = "attached"
		changed = true
	}
	return changed
}

// hostCIDRContains reports whether cidr holds addr (for tests and tools).
func hostCIDRContains(cidr, addr string) bool {
	p, err := netip.ParsePrefix(cidr)
	a, err2 := netip.ParseAddr(strings.TrimSpace(addr))
	return err == nil && err2 == nil && p.Contains(a)
}
