package core

import (
	"net/netip"
	"strings"
	"sync"
)

// The VPC resolver (the Amazon-provided DNS server, Route 53 Resolver) as the
// instances of a VPC query it at the VPC's base + 2 and at 169.254.169.253: what a
// name is, read from the model on each query, so that a launch, an address or an
// Elastic IP resolves as soon as the API has answered. internal/vpcdns turns an
// answer into DNS messages; the data plane's listeners live in the VPC's router.
//
// It answers, when the VPC's enableDnsSupport is on (else nothing answers):
//   - the private names of the addresses of the VPC's ENIs, ip-10-0-1-4.ec2.internal
//     (ip-….<region>.compute.internal outside us-east-1), A and PTR, always;
//   - the resource names of its instances, i-….ec2.internal, A and AAAA as the
//     instance's EnableResourceNameDnsARecord / AAAARecord say (from the subnet's
//     …OnLaunch attributes or the launch);
//   - the public names of public and Elastic IPv4 addresses of the region
//     (ec2-54-1-2-3.compute-1.amazonaws.com) when the owning VPC has enableDnsHostnames:
//     the private address from inside that VPC, the public one from elsewhere (split
//     horizon, as AWS); PTR of a public address is its public name;
//   - what the sources added with AddVPCDNSSource answer;
//
// and NXDOMAIN for everything else: it forwards nothing (there is no outside).

// DNSAnswer is what the resolver says of one name.
type DNSAnswer struct {
	// Refused: the resolver does not answer this VPC (no such VPC, or its
	// enableDnsSupport is off).
	Refused bool
	// Exists: the name is known (NOERROR; an answer of another type is empty).
	Exists bool
	A      []netip.Addr // IPv4 addresses
	AAAA   []netip.Addr // IPv6 addresses
	PTR    string       // for a reverse name (…in-addr.arpa): the name, without the final dot
}

// VPCDNSSource answers names the resolver does not know by itself, for the VPC
// vpcID, read inside the query's read transaction: ok is false when the name is not
// its. It is the hook for records other families add (the private DNS names of
// interface VPC endpoints, the API's own endpoint name): write one, and give it to
// AddVPCDNSSource. A source must only read.
type VPCDNSSource func(tx *Tx, vpcID, name string) (DNSAnswer, bool)

var dnsSources struct {
	mu   sync.RWMutex
	list []VPCDNSSource
}

// AddVPCDNSSource adds a source of names to every VPC resolver of the process,
// asked (in the order added) for the names the resolver does not know by itself.
func AddVPCDNSSource(src VPCDNSSource) {
	dnsSources.mu.Lock()
	defer dnsSources.mu.Unlock()
	dnsSources.list = append(dnsSources.list, src)
}

func vpcDNSSources() []VPCDNSSource {
	dnsSources.mu.RLock()
	defer dnsSources.mu.RUnlock()
	return dnsSources.list
}

// Resolver addresses every VPC has besides its base + 2 (VPCResolverIP).
var (
	ResolverIPv4 = netip.MustParseAddr("169.254.169.253")
	ResolverIPv6 = netip.MustParseAddr("fd00:ec2::253")
)

// VPCResolverIP is the address of the resolver of a VPC whose primary block is
// cidr: its base plus two (10.0.0.2 for 10.0.0.0/16).
func VPCResolverIP(cidr string) netip.Addr {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Addr{}
	}
	return addrAdd(p.Masked().Addr(), 2)
}

// ResolveVPCDNS is what the resolver of VPC vpcID in region answers for name (any
// case, with or without the final dot).
func (c *Core) ResolveVPCDNS(regionName, vpcID, name string) DNSAnswer {
	if !c.ServesRegion(regionName) {
		return DNSAnswer{Refused: true}
	}
	r := c.region(regionName)
	r.mu.RLock()
	defer r.mu.RUnlock()
	tx := c.newTx(r, Caller{Region: regionName}, true)
	return tx.resolveVPCDNS(vpcID, name)
}

func (tx *Tx) resolveVPCDNS(vpcID, name string) DNSAnswer {
	vpc := tx.vpcs.Get(vpcID)
	if vpc == nil || !vpc.EnableDnsSupport {
		return DNSAnswer{Refused: true}
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, f := range []func(*VPC, string) (DNSAnswer, bool){tx.dnsPrivateName, tx.dnsResourceName, tx.dnsPublicName, tx.dnsReverse} {
		if a, ok := f(vpc, name); ok {
			return a
		}
	}
	for _, src := range vpcDNSSources() {
		if a, ok := src(tx, vpcID, name); ok {
			return a
		}
	}
	return DNSAnswer{}
}

// dnsPrivateName answers ip-a-b-c-d.<domain> for an address of an ENI of the VPC.
func (tx *Tx) dnsPrivateName(vpc *VPC, name string) (DNSAnswer, bool) {
	host, ok := strings.CutSuffix(name, "."+dhcpDomainName(tx.Region))
	if !ok {
		return DNSAnswer{}, false
	}
	host, ok = strings.CutPrefix(host, "ip-")
	if !ok {
		return DNSAnswer{}, false
	}
	a, err := netip.ParseAddr(strings.ReplaceAll(host, "-", "."))
	if err != nil || !a.Is4() || tx.vpcENIOf(vpc, a) == nil {
		return DNSAnswer{}, false
	}
	return DNSAnswer{Exists: true, A: []netip.Addr{a}}, true
}

// vpcENIOf is the ENI of the VPC that holds the private IPv4 address a, or nil.
func (tx *Tx) vpcENIOf(vpc *VPC, a netip.Addr) *ENI {
	var out *ENI
	tx.subnets.Each(func(s *Subnet) bool {
		if s.VpcID != vpc.ID {
			return true
		}
		if p, err := netip.ParsePrefix(s.CidrBlock); err != nil || !p.Contains(a) {
			return true
		}
		out = tx.enis.Get(tx.ipv4AddrOwner(s.ID, a))
		return false
	})
	return out
}

// dnsResourceName answers i-….<domain> for an instance of the VPC, with the
// records its resource-name options enable.
func (tx *Tx) dnsResourceName(vpc *VPC, name string) (DNSAnswer, bool) {
	id, ok := strings.CutSuffix(name, "."+dhcpDomainName(tx.Region))
	if !ok || !strings.HasPrefix(id, "i-") {
		return DNSAnswer{}, false
	}
	inst := tx.instances.Get(id)
	if inst == nil || inst.State == "terminated" {
		return DNSAnswer{}, false
	}
	prim := tx.instancePrimaryENI(tx.enisOfInstance(id))
	if prim == nil || prim.VpcID != vpc.ID {
		return DNSAnswer{}, false
	}
	var ans DNSAnswer
	if a, err := netip.ParseAddr(prim.PrimaryIP()); err == nil && inst.DNSNames.ARecord {
		ans.A = []netip.Addr{a}
	}
	if len(prim.IPv6) > 0 && inst.DNSNames.AAAARecord {
		if a, err := netip.ParseAddr(prim.IPv6[0]); err == nil {
			ans.AAAA = []netip.Addr{a}
		}
	}
	ans.Exists = len(ans.A)+len(ans.AAAA) > 0
	return ans, ans.Exists
}

// dnsPublicName answers ec2-a-b-c-d.<public domain> for a public or Elastic IPv4
// address of the region whose VPC has DNS hostnames: the private address inside
// that VPC, the public one elsewhere.
func (tx *Tx) dnsPublicName(vpc *VPC, name string) (DNSAnswer, bool) {
	host, ok := strings.CutSuffix(name, publicDNSDomain(tx.Region))
	if !ok {
		return DNSAnswer{}, false
	}
	host, ok = strings.CutPrefix(host, "ec2-")
	if !ok {
		return DNSAnswer{}, false
	}
	pub, err := netip.ParseAddr(strings.ReplaceAll(host, "-", "."))
	if err != nil || !pub.Is4() {
		return DNSAnswer{}, false
	}
	owner, private, _, ok := tx.publicAddressOwner(pub)
	if !ok {
		return DNSAnswer{}, false
	}
	if owner == vpc.ID || tx.pcxDNSFrom(owner, vpc.ID) { // a peer's AllowDnsResolutionFromRemoteVpc (vpcpeering.go)
		return DNSAnswer{Exists: true, A: []netip.Addr{private}}, true
	}
	return DNSAnswer{Exists: true, A: []netip.Addr{pub}}, true
}

// publicAddressOwner is the VPC and private address a public IPv4 address maps to,
// when it maps to one and that VPC gives DNS hostnames, with the address's reverse
// name (an Elastic IP's own record, ModifyAddressAttribute, or its public name).
func (tx *Tx) publicAddressOwner(pub netip.Addr) (vpcID string, private netip.Addr, ptr string, ok bool) {
	var eni *ENI
	var priv string
	id := tx.publicOwner(pub)
	ptr = eniPublicDNS(tx.Region, pub.String())
	if ad := tx.addresses.Get(id); ad != nil {
		eni, priv, ptr = tx.enis.Get(ad.ENIID), ad.PrivateIP, strings.TrimSuffix(tx.addressPtr(ad), ".")
	} else if e := tx.enis.Get(id); e != nil {
		eni, priv = e, e.PrimaryIP()
	}
	if eni == nil {
		return "", netip.Addr{}, "", false
	}
	v := tx.vpcs.Get(eni.VpcID)
	a, err := netip.ParseAddr(priv)
	if v == nil || !v.EnableDnsHostnames || err != nil {
		return "", netip.Addr{}, "", false
	}
	return v.ID, a, ptr, true
}

// publicDNSDomain is the domain of public DNS names in region, with its leading dot.
func publicDNSDomain(region string) string {
	if region == "us-east-1" {
		return ".compute-1.amazonaws.com"
	}
	return "." + region + ".compute.amazonaws.com"
}

// dnsReverse answers d.c.b.a.in-addr.arpa: the private name of an address of the
// VPC's ENIs, the reverse name of a public address (an Elastic IP's own record, or its
// public name).
func (tx *Tx) dnsReverse(vpc *VPC, name string) (DNSAnswer, bool) {
	rev, ok := strings.CutSuffix(name, ".in-addr.arpa")
	if !ok {
		return DNSAnswer{}, false
	}
	parts := strings.Split(rev, ".")
	if len(parts) != 4 {
		return DNSAnswer{}, false
	}
	for i, j := 0, 3; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	a, err := netip.ParseAddr(strings.Join(parts, "."))
	if err != nil || !a.Is4() {
		return DNSAnswer{}, false
	}
	if tx.vpcENIOf(vpc, a) != nil {
		return DNSAnswer{Exists: true, PTR: tx.instancePrivateDNS(a.String())}, true
	}
	if _, _, ptr, ok := tx.publicAddressOwner(a); ok {
		return DNSAnswer{Exists: true, PTR: ptr}, true
	}
	return DNSAnswer{}, false
}
