package core

// The AWS services VPC endpoints reach: the catalogue DescribeVpcEndpointServices
// lists, and the DNS names AWS gives an interface endpoint.

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// VPC endpoint types.
const (
	vpceGateway   = "Gateway"
	vpceInterface = "Interface"
	vpceGWLB      = "GatewayLoadBalancer"
)

// vpceService is one AWS service endpoint type this server knows: its short
// name (com.amazonaws.<region>.<short>), type, and the private DNS name an
// interface endpoint of it may take over ("" for none).
type vpceService struct {
	short, typ, privateDNS string
}

var vpceServices = []vpceService{
	{"dynamodb", vpceGateway, ""},
	{"ec2", vpceInterface, "ec2.{region}.amazonaws.com"},
	{"s3", vpceGateway, ""},
	{"s3", vpceInterface, "*.s3.{region}.amazonaws.com"},
	{"sts", vpceInterface, "sts.{region}.amazonaws.com"},
}

// vpceRequesterID is the requester AWS shows on interface endpoints' ENIs.
const vpceRequesterID = "727180483921"

// vpceDefaultPolicy is the policy an endpoint has unless given one: full access.
const vpceDefaultPolicy = `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`

// vpceHostedZones are the regions' hosted zone ids of *.vpce.amazonaws.com
// names (others get a stable made-up one).
var vpceHostedZones = map[string]string{
	"us-east-1": "Z7HUB22UULQXV", "us-east-2": "ZC8PG0KIFKBRI", "us-west-1": "Z12I86A8N7VCZO",
	"us-west-2": "Z1YSA3EXCYUU9Z", "eu-west-1": "Z38GZ743OKFT7T", "eu-central-1": "Z273ZU8SZ5RJPC",
}

func (tx *Tx) serviceName(short string) string { return "com.amazonaws." + tx.Region + "." + short }

// vpceServicesOf returns the catalogue's entries for a service name.
func (tx *Tx) vpceServicesOf(name string) []vpceService {
	var out []vpceService
	for _, s := range vpceServices {
		if tx.serviceName(s.short) == name {
			out = append(out, s)
		}
	}
	return out
}

// vpceFindService checks that service name has an endpoint of type typ.
func (tx *Tx) vpceFindService(name, typ string) (vpceService, error) {
	svcs := tx.vpceServicesOf(name)
	if len(svcs) == 0 {
		return vpceService{}, errorf(CodeInvalidServiceName, "The Vpc Endpoint Service '%s' does not exist", name)
	}
	var types []string
	for _, s := range svcs {
		if s.typ == typ {
			return s, nil
		}
		types = append(types, s.typ)
	}
	return vpceService{}, errorf(CodeInvalidParameter, "Endpoint type (%s) does not match available service types ([%s]).", typ, strings.Join(types, ", "))
}

// vpceHash is a stable hash of parts, for names AWS makes up.
func vpceHash(parts ...string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(strings.Join(parts, "\x00")))
	return h.Sum64()
}

// vpceServiceID is the service's stable vpce-svc- id in the region.
func (tx *Tx) vpceServiceID(s vpceService) string {
	return fmt.Sprintf("vpce-svc-%017x", vpceHash(tx.Region, s.short, s.typ))[:26]
}

func (tx *Tx) vpceZone() string {
	if z := vpceHostedZones[tx.Region]; z != "" {
		return z
	}
	return fmt.Sprintf("Z%012X", vpceHash("zone", tx.Region)&0xffffffffffff)
}

// vpceDNSName is an interface endpoint's name in AWS's form:
// vpce-<id>-<8 chars>[-<az>].<service>.<region>.vpce.amazonaws.com.
func (tx *Tx) vpceDNSName(e *VpcEndpoint, az string) string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
	h := vpceHash(e.ID, "dns")
	var sfx [8]byte
	for i := range sfx {
		sfx[i] = alpha[h%36]
		h /= 36
	}
	name := e.ID + "-" + string(sfx[:])
	if az != "" {
		name += "-" + az
	}
	short := strings.TrimPrefix(e.ServiceName, "com.amazonaws."+tx.Region+".")
	return name + "." + short + "." + tx.Region + ".vpce.amazonaws.com"
}

// vpcePrivateName is the service's own name an endpoint with private DNS
// takes over in its VPC ("" for none).
func (tx *Tx) vpcePrivateName(e *VpcEndpoint) string {
	for _, s := range tx.vpceServicesOf(e.ServiceName) {
		if s.typ == e.Type {
			return strings.ReplaceAll(s.privateDNS, "{region}", tx.Region)
		}
	}
	return ""
}

// vpceDNSEntries are an interface endpoint's DNS entries as AWS lists them:
// the regional name, one per zone of its subnets, then the private name.
func (tx *Tx) vpceDNSEntries(e *VpcEndpoint) []ec2wire.DnsEntry {
	if e.Type != vpceInterface {
		return nil
	}
	zone := tx.vpceZone()
	out := []ec2wire.DnsEntry{{DnsName: p(tx.vpceDNSName(e, "")), HostedZoneId: p(zone)}}
	for _, sid := range e.SubnetIDs {
		if s := tx.subnets.Get(sid); s != nil {
			out = append(out, ec2wire.DnsEntry{DnsName: p(tx.vpceDNSName(e, s.AZ)), HostedZoneId: p(zone)})
		}
	}
	if name := tx.vpcePrivateName(e); e.PrivateDNS && name != "" {
		out = append(out, ec2wire.DnsEntry{DnsName: p(name), HostedZoneId: p(fmt.Sprintf("Z%020X", vpceHash(e.ID, "phz"))[:21])})
	}
	return out
}

// EndpointDNSName is one DNS name of an interface endpoint and the addresses
// it resolves to in the endpoint's VPC (for the VPC resolver).
type EndpointDNSName struct {
	VpcID, Name string
	IPs         []string
}

// EndpointDNSNames lists the names of the region's available interface
// endpoints (regional, per zone, and the service's own name where private
// DNS is on) with the addresses of their network interfaces.
func (tx *Tx) EndpointDNSNames() []EndpointDNSName {
	var out []EndpointDNSName
	for _, e := range tx.vpces.Sorted(nil) {
		if e.State != vpceAvailable || e.Type != vpceInterface {
			continue
		}
		var all []string
		for i, eid := range e.ENIIDs {
			n := tx.enis.Get(eid)
			s := tx.subnets.Get(e.SubnetIDs[i])
			if n == nil || s == nil {
				continue
			}
			all = append(all, n.PrimaryIP())
			out = append(out, EndpointDNSName{VpcID: e.VpcID, Name: tx.vpceDNSName(e, s.AZ), IPs: []string{n.PrimaryIP()}})
		}
		out = append(out, EndpointDNSName{VpcID: e.VpcID, Name: tx.vpceDNSName(e, ""), IPs: all})
		if name := tx.vpcePrivateName(e); e.PrivateDNS && name != "" {
			out = append(out, EndpointDNSName{VpcID: e.VpcID, Name: name, IPs: all})
		}
	}
	return out
}

func (tx *Tx) vpceServiceOut(s vpceService) ec2wire.ServiceDetail {
	name := tx.serviceName(s.short)
	o := ec2wire.ServiceDetail{ServiceName: p(name), ServiceId: p(tx.vpceServiceID(s)), Owner: p("amazon"),
		ServiceType: []ec2wire.ServiceTypeDetail{{ServiceType: p(s.typ)}}, AcceptanceRequired: p(false),
		ManagesVpcEndpoints: p(false), VpcEndpointPolicySupported: p(true), SupportedIpAddressTypes: []string{"ipv4"}}
	for _, z := range tx.AZs() {
		o.AvailabilityZones = append(o.AvailabilityZones, z.Name)
	}
	if s.typ == vpceGateway {
		o.BaseEndpointDnsNames = []string{s.short + "." + tx.Region + ".amazonaws.com"}
		return o
	}
	o.BaseEndpointDnsNames = []string{s.short + "." + tx.Region + ".vpce.amazonaws.com"}
	if s.privateDNS != "" {
		pd := strings.ReplaceAll(s.privateDNS, "{region}", tx.Region)
		o.PrivateDnsName, o.PrivateDnsNameVerificationState = p(pd), p("verified")
		o.PrivateDnsNames = []ec2wire.PrivateDnsDetails{{PrivateDnsName: p(pd)}}
	}
	return o
}

type vpceSvcView struct {
	svc  vpceService
	name string
}

var vpceSvcFilters = filterSet[vpceSvcView]{
	"service-name": func(v *vpceSvcView) []string { return []string{v.name} },
	"service-type": func(v *vpceSvcView) []string { return []string{v.svc.typ} },
	"owner":        func(v *vpceSvcView) []string { return []string{"amazon"} },
}

// DescribeVpcEndpointServices lists the AWS services endpoints reach here.
func (tx *Tx) DescribeVpcEndpointServices(in *ec2wire.DescribeVpcEndpointServicesInput) (*ec2wire.DescribeVpcEndpointServicesOutput, error) {
	m, err := newMatcher(vpceSvcFilters, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, n := range in.ServiceNames {
		if len(tx.vpceServicesOf(n)) == 0 {
			return nil, errorf(CodeInvalidServiceName, "The Vpc Endpoint Service '%s' does not exist", n)
		}
	}
	var all []*vpceSvcView
	for _, s := range vpceServices {
		v := &vpceSvcView{svc: s, name: tx.serviceName(s.short)}
		if (len(in.ServiceNames) == 0 || slices.Contains(in.ServiceNames, v.name)) && m.match(v) {
			all = append(all, v)
		}
	}
	page, next, err := paginate(all, func(v *vpceSvcView) string { return v.name + "/" + v.svc.typ }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeVpcEndpointServicesOutput{NextToken: next}
	for _, v := range page {
		out.ServiceDetails = append(out.ServiceDetails, tx.vpceServiceOut(v.svc))
		if !slices.Contains(out.ServiceNames, v.name) {
			out.ServiceNames = append(out.ServiceNames, v.name)
		}
	}
	return out, nil
}
