// Package dataplane realises one host's share of the VPC model on Linux: network namespaces
// for instances, veth pairs for ENIs, one bridge per subnet, a router namespace per VPC, a
// simulated internet, and nftables security groups and source/destination checks.
//
// The package is a library that converges Linux to a Desired state (level-based, see
// Plane.Reconcile). It owns everything whose name carries its prefix — namespaces named
// "<prefix>-…" and, inside them, interfaces named "<prefix><kind><hash>" — and never
// touches the host's own (init namespace) interfaces, routes, sysctls or firewall.
// It knows nothing about the control plane: the caller derives Desired from it.
//
// Layout on a host (prefix "eni"):
//
//	eni-dp         the datapath: a bridge per subnet (enib<h>), the host end of every ENI
//	               (enie<h>, or enif<h> after a move), the router's leg on each subnet (enir<h>) and all enforcement
//	               (nftables bridge table "<prefix>" + inet table "<prefix>sg")
//	eni-<vpc-id>   the VPC router: a leg per subnet (enis<h>) at the subnet's router address,
//	               an uplink (eniu<h>) to the internet, 1:1 NAT for public IPv4 addresses,
//	               a link (enip<h>) to the router of each VPC peered with it (peering_linux.go)
//	eni-inet       the simulated internet, InternetIP on a leg (enig<h>) to each VPC router
//	eni-<i-id>     an instance: ENIs appear as eth<DeviceIndex>
//
// In cluster mode (Desired.Overlay, overlay_linux.go) each subnet bridge also has a VXLAN
// port (eniv<h>) to the ENIs realised on other hosts, and eni-inet a VXLAN segment
// (eniw<h>) to the other hosts' internet namespaces.
package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/eni-net/eni/internal/nsname"
)

// Desired is everything one host must realise (plain data, derived from the control plane).
type Desired struct {
	VPCs      []VPC
	Instances []Instance
	ENIs      []ENI
	Groups    []Group
	PublicIPs []PublicMapping
	Peerings  []Peering         // active VPC peering connections
	Services  []ServiceListener // the server's listeners in endpoint namespaces (service.go)
	// NATGateways are NAT gateways; each is also an Instance (its namespace) whose eth0
	// is its ENI (natgw_linux.go).
	NATGateways []NATGateway
	// Overlay, if set, joins this host's share of the region to the other hosts' (cluster
	// mode, overlay_linux.go): every subnet bridge gets a VXLAN port that carries its
	// frames to the ENIs realised on other hosts. nil: a single host.
	Overlay *Overlay
}

// Overlay is how this host reaches the ENIs realised on other hosts: one VXLAN segment
// per subnet (Subnet.VNI) over an underlay network, with forwarding entries written from
// state (no flood and learn: no broadcast crosses the underlay).
type Overlay struct {
	Local string // this host's underlay IPv4 address (the VXLAN source address)
	// UnderlayNS is the path of the network namespace whose stack carries the underlay
	// (where the VXLAN devices' UDP sockets live), e.g. /run/netns/h1; "": the namespace
	// the process was in when the Plane was created.
	UnderlayNS string
	Port       int // UDP port; default 4789
	// MTU of every ENI (inside instances) and router leg while the overlay is on;
	// default 1450 (a 1500-byte underlay less the VXLAN headers).
	MTU    int
	Remote []RemoteENI // the ENIs realised on other hosts
	// Hosts are the underlay IPv4 addresses of all live hosts (this one included): the
	// internet namespaces of the hosts are joined on a segment of their own (VNI
	// InternetVNI), each with its host's address, so that an Elastic IP is reached
	// wherever its instance runs.
	Hosts []string
}

// RemoteENI is an ENI realised on another host (its InstanceID is ignored).
type RemoteENI struct {
	ENI
	Host string // the underlay IPv4 address of the host it is realised on
}

// InternetVNI is the VXLAN network identifier of the segment joining the hosts' internet
// namespaces; no subnet may use it.
const InternetVNI = 0xFFFFFF

// Overlay defaults.
const (
	DefaultOverlayPort = 4789
	DefaultOverlayMTU  = 1450
)

// NATGateway is a NAT gateway realised as the namespace of Instance ID, with ENIID as eth0.
type NATGateway struct {
	ID      string
	ENIID   string
	Sources []string // IPv4 blocks whose new connections it translates
	// SNAT: the addresses of its ENI it translates to (none: the primary), each new
	// connection to one of them by a hash of its source address and port.
	SNAT []string
}

// VPC is a VPC with its subnets.
type VPC struct {
	ID      string
	Subnets []Subnet
	// ResolverIP is the address of the VPC resolver in the VPC (its primary block's
	// base + 2), served with 169.254.169.253 and fd00:ec2::253 when Options.DNS is set.
	ResolverIP string
}

// Subnet is one L2 segment of a VPC.
type Subnet struct {
	ID       string
	CIDR     string // IPv4, e.g. "10.0.1.0/24"
	IPv6CIDR string // optional, e.g. "2001:db8:1::/64"
	RouterIP string // optional; default: the subnet's base address + 1
	// Public: the subnet's route table sends 0.0.0.0/0 to an attached internet gateway.
	Public bool
	// DefaultRouteENI: the ENI that 0.0.0.0/0 goes to when the subnet's route table routes to
	// an ENI (a NAT instance). Ignored when Public is set.
	DefaultRouteENI string
	// PeerRoutes: the subnet's route table's IPv4 routes to peering connections.
	PeerRoutes []PeerRoute
	// ENIRoutes: the subnet's route table's IPv4 routes narrower than 0.0.0.0/0 to
	// ENIs (outside the VPC's blocks), looked up with PeerRoutes, longest prefix first.
	ENIRoutes []ENIRoute
	// ACL: the subnet's network ACL (nacl.go); nil: not filtered.
	ACL *NetworkACL
	// EgressOnlyIPv6: the subnet's route table sends ::/0 to an egress-only internet
	// gateway (eigw_linux.go): its IPv6 reaches the internet, and only replies come back.
	EgressOnlyIPv6 bool
	// PublicIPv6: the subnet's route table sends ::/0 to an internet gateway: its IPv6
	// is routed like EgressOnlyIPv6's, and the internet may also start connections to
	// it (security groups decide), as on AWS.
	PublicIPv6 bool
	// VNI is the VXLAN network identifier of the subnet, the same on every host
	// (Desired.Overlay); 1 to 0xFFFFFE.
	VNI uint32
}

// Instance is an EC2 instance; only running instances have a namespace.
type Instance struct {
	ID      string
	Running bool
}

// ENI is a network interface. It is realised when it is attached to a running instance.
type ENI struct {
	ID              string
	MAC             string
	SubnetID        string
	VPCID           string
	PrimaryIP       string
	SecondaryIPs    []string
	IPv6            []string
	IPv4Prefixes    []string // delegated /28s: the instance may use any address in them
	IPv6Prefixes    []string // delegated /80s, likewise
	InstanceID      string   // "" = detached
	DeviceIndex     int
	SourceDestCheck bool
	Groups          []string
	// Unfiltered: no security group applies (a NAT gateway's ENI, which has none).
	Unfiltered bool
}

// Group is a security group with its rules.
type Group struct {
	ID      string
	Ingress []Rule
	Egress  []Rule
}

// Rule is one security group permission. A rule that references a group is given with the
// member ENIs' addresses already resolved into CIDRs.
type Rule struct {
	Protocol string // "-1", "tcp", "udp", "icmp", "icmpv6" or a protocol number
	FromPort int    // port range for tcp/udp; ICMP type for icmp/icmpv6 (-1 = all)
	ToPort   int    // port range end for tcp/udp; ICMP code for icmp/icmpv6 (-1 = all)
	CIDRs    []string
}

// PublicMapping is a 1:1 NAT at the VPC's internet gateway (Elastic IP or public IPv4).
type PublicMapping struct {
	Public  string
	Private string
	ENIID   string
	VPCID   string
}

// Options configure a Plane.
type Options struct {
	// Prefix of every namespace and interface the plane owns: 1–6 characters [a-z0-9].
	// Default "eni". Two planes with different prefixes never touch each other's objects.
	Prefix string
	// InternetIP is the address of the simulated internet namespace. Default 100.64.0.1.
	InternetIP string
	// FullEvery: a Reconcile that starts this long after the last full pass is a full pass
	// (it reads everything and repairs drift, see Plane.Verify). 0: only the first
	// Reconcile and explicit Verify calls are full passes.
	FullEvery time.Duration
	// Metadata, if set, serves the instance metadata service: the plane hands it a
	// listener on 169.254.169.254:80 and one on [fd00:ec2::254]:80 in every VPC router,
	// whose connections name the ENI they came in through (a MetadataAsker() string
	// method). An *imds.Server is one.
	Metadata MetadataServer
	// DNS, if set, serves the VPC resolver: the plane hands it a UDP socket and a TCP
	// listener on port 53 of the VPC's ResolverIP, 169.254.169.253 and fd00:ec2::253 in
	// every VPC router, with the VPC's id (dns_linux.go). A *vpcdns.Server is one.
	DNS DNSServer
	// PublicAPI, if set, serves the server's API to the instances on the simulated
	// internet: the plane hands it a listener on port PublicAPIPort (default 4566) of
	// the internet namespace, so that an instance with a public address reaches
	// http://InternetIP:PublicAPIPort as an instance on AWS reaches EC2's public
	// endpoint (publicapi_linux.go).
	PublicAPI     MetadataServer
	PublicAPIPort int
	// Endpoint, if set, serves the EC2 API on the listeners of Desired.Services
	// (service_linux.go).
	Endpoint EndpointServer
	// BridgePorts is how many ENI ports go on one bridge of a subnet before the next go
	// on a segment, a further bridge tied to it (segments_linux.go). 0: 250 (a Linux
	// bridge holds at most 1,023 ports; a port's operations cost more on a bigger
	// bridge). Lower it to have a few ENIs cross segments.
	BridgePorts int
	// Spares is how many instance namespaces the plane keeps made ahead of the passes
	// that bring instances up (spares_linux.go). 0: defaultSpares; negative: none.
	Spares int
}

// defaultSpares is Options.Spares' default: enough for the tasks and launches of one
// at a time, whose start waits on their pass (a namespace kept ready holds about 300
// KiB of the kernel's memory).
const defaultSpares = 2

// DNSServer answers the VPC resolver's queries of one VPC on the sockets the plane
// hands it, until they are closed. A *vpcdns.Server is one.
type DNSServer interface {
	ServeDNSPacket(vpcID string, pc net.PacketConn) error
	ServeDNSStream(vpcID string, ln net.Listener) error
}

// MetadataServer serves the connections of a listener until it is closed.
type MetadataServer interface {
	Serve(ln net.Listener) error
}

// Status is what a Reconcile realised.
type Status struct {
	// Changes counts the Linux objects created, changed or removed; 0 when the host already
	// matched the desired state.
	Changes int
	// Instances: instance id → its namespace is up. Shared with the next passes, which
	// make theirs over it without changing it (Realised).
	Instances Realised[bool]
	// ENIs: ENI id → id of the instance it is realised in.
	ENIs Realised[string]
	// Slow lists the steps of the pass that took a millisecond or more, in order:
	// where a pass's time went (the agent logs it).
	Slow []Step
}

// Step is one step of a pass and how long it took.
type Step struct {
	Name string
	Took time.Duration
}

// Interface kinds, the character after the prefix in an interface name.
const (
	kindBridge   = 'b' // subnet bridge (datapath)
	kindENIHost  = 'e' // host end of an ENI (datapath, bridge port)
	kindENIHost2 = 'f' // its alternate names: a move creates the new pair under a free one
	kindENIHost3 = 'd' // (the pair a move left is kept a while, in case the ENI comes back)
	kindRouterDP = 'r' // router leg, bridge side (datapath)
	kindRouterNS = 's' // router leg, router side (router namespace)
	kindUplink   = 'u' // router uplink (router namespace)
	kindInetLeg  = 'g' // internet side of an uplink (internet namespace)
	kindTrash    = 'x' // a renamed host end waiting to be deleted (datapath)
	kindVXLAN    = 'v' // a subnet's VXLAN port (datapath, bridge port; overlay_linux.go)
	kindInetSeg  = 'w' // the internet namespaces' VXLAN segment (internet namespace)
	kindSegment  = 'k' // a subnet's further bridge, when its bridge is full (datapath; segments_linux.go)
	kindPatchHub = 'h' // a segment's patch, end on the subnet's bridge (datapath)
	kindPatchSeg = 'j' // its end on the segment (datapath)
)

const maxPrefix = nsname.MaxPrefix

func validPrefix(p string) error { return nsname.ValidPrefix(p) }

// eniHostKinds are the kinds of an ENI's host end names (eniInfo.hostNames).
var eniHostKinds = []byte{kindENIHost, kindENIHost2, kindENIHost3}

// hostNames are e's host end names: its pair has one of them, a pair it left (kept a
// while: retire) another.
func (e *eniInfo) hostNames() []string { return []string{e.host, e.host2, e.host3} }

// ifName is the interface name of kind k for resource id: prefix, kind, 8 hex digits of a hash.
func ifName(prefix string, k byte, id string) string {
	v := hash32(id)
	b := make([]byte, 0, len(prefix)+9)
	b = append(b, prefix...)
	b = append(b, k)
	for i := 28; i >= 0; i -= 4 {
		b = append(b, "0123456789abcdef"[v>>i&0xf])
	}
	return string(b)
}

// nsName is the namespace name for a resource id ("vpc-…", "i-…") or a role ("dp", "inet").
func nsName(prefix, id string) string { return nsname.Of(prefix, id) }

// hash32 is a stable 32-bit hash of s.
func hash32(s string) uint32 {
	h := uint32(2166136261) // FNV-1a, as hash/fnv's New32a
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// ethName is the instance-side name of the ENI at a device index.
func ethName(deviceIndex int) string { return "eth" + strconv.Itoa(deviceIndex) }

// subnetInfo is a subnet with its addresses parsed.
type subnetInfo struct {
	Subnet
	vpcID    string
	prefix   netip.Prefix // IPv4
	router   netip.Addr   // IPv4 router address
	bcast    netip.Addr
	prefix6  netip.Prefix // invalid when the subnet has no IPv6
	router6  netip.Addr
	ordinal  int // 1-based position among the host's subnets (conntrack zone)
	bridge   string
	legDP    string
	legRT    string
	routeTbl int        // router table for DefaultRouteENI
	resolver netip.Addr // the VPC's resolver address (VPC.ResolverIP)
}

func parseSubnet(vpcID string, s Subnet) (*subnetInfo, error) {
	si := &subnetInfo{Subnet: s, vpcID: vpcID}
	p, err := netip.ParsePrefix(s.CIDR)
	if err != nil || !p.Addr().Is4() {
		return nil, fmt.Errorf("subnet %s: bad IPv4 CIDR %q", s.ID, s.CIDR)
	}
	si.prefix = p.Masked()
	if s.RouterIP != "" {
		si.router, err = netip.ParseAddr(s.RouterIP)
		if err != nil || !si.prefix.Contains(si.router) {
			return nil, fmt.Errorf("subnet %s: bad router IP %q", s.ID, s.RouterIP)
		}
	} else {
		si.router = si.prefix.Addr().Next()
	}
	si.bcast = lastAddr(si.prefix)
	if s.IPv6CIDR != "" {
		p6, err := netip.ParsePrefix(s.IPv6CIDR)
		if err != nil || !p6.Addr().Is6() {
			return nil, fmt.Errorf("subnet %s: bad IPv6 CIDR %q", s.ID, s.IPv6CIDR)
		}
		si.prefix6 = p6.Masked()
		si.router6 = si.prefix6.Addr().Next()
	}
	return si, nil
}

// lastAddr is the highest address of p (the IPv4 broadcast address).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// eniInfo is a realised ENI with its addresses parsed.
type eniInfo struct {
	ENI
	mac    string // lower-case
	subnet *subnetInfo
	ips    []netip.Addr // IPv4: primary first
	ips6   []netip.Addr
	pfx4   []netip.Prefix // delegated IPv4 prefixes
	pfx6   []netip.Prefix // delegated IPv6 prefixes
	mark   uint32         // 1-based number on this host (nftables marks)
	prof   *profEntry     // its security group profile (sgprofile_linux.go)
	host   string         // host end name (datapath)
	host2  string         // alternate host end names
	host3  string
	eth    string // instance end name
}

func parseENI(e ENI, si *subnetInfo) (*eniInfo, error) {
	ei := &eniInfo{ENI: e, subnet: si, mac: strings.ToLower(e.MAC)}
	if e.DeviceIndex < 0 || e.DeviceIndex > 9999 {
		return nil, fmt.Errorf("eni %s: bad device index %d", e.ID, e.DeviceIndex)
	}
	for _, s := range append([]string{e.PrimaryIP}, e.SecondaryIPs...) {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() || !si.prefix.Contains(a) {
			return nil, fmt.Errorf("eni %s: bad IPv4 address %q for subnet %s", e.ID, s, si.CIDR)
		}
		ei.ips = append(ei.ips, a)
	}
	for _, s := range e.IPv6 {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Is4In6() {
			return nil, fmt.Errorf("eni %s: bad IPv6 address %q", e.ID, s)
		}
		ei.ips6 = append(ei.ips6, a)
	}
	for _, s := range e.IPv4Prefixes {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() || p != p.Masked() || p.Bits() < si.prefix.Bits() || !si.prefix.Contains(p.Addr()) {
			return nil, fmt.Errorf("eni %s: bad IPv4 prefix %q for subnet %s", e.ID, s, si.CIDR)
		}
		ei.pfx4 = append(ei.pfx4, p)
	}
	for _, s := range e.IPv6Prefixes {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p != p.Masked() || !si.prefix6.IsValid() || p.Bits() < si.prefix6.Bits() || !si.prefix6.Contains(p.Addr()) {
			return nil, fmt.Errorf("eni %s: bad IPv6 prefix %q for subnet %s", e.ID, s, si.ID)
		}
		ei.pfx6 = append(ei.pfx6, p)
	}
	return ei, nil
}

var errBadProtocol = errors.New("unsupported protocol")

// protoNumber maps a security group protocol to an IP protocol number; -1 means all.
func protoNumber(p string) (int, error) {
	switch strings.ToLower(p) {
	case "-1", "all", "":
		return -1, nil
	case "tcp", "6":
		return 6, nil
	case "udp", "17":
		return 17, nil
	case "icmp", "1":
		return 1, nil
	case "icmpv6", "58":
		return 58, nil
	}
	var n int
	if _, err := fmt.Sscanf(p, "%d", &n); err == nil && n >= 0 && n <= 255 {
		return n, nil
	}
	return 0, fmt.Errorf("%w %q", errBadProtocol, p)
}
