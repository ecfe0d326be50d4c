package core

// Interface endpoints on the data plane: each endpoint network interface is
// eth0 of a namespace of its own (named after the interface, as a task's is
// after the task), and an endpoint of a service this server answers (its EC2
// API, and STS's GetCallerIdentity) gets the server's listeners on the
// interface's address (HostView.Services).

import (
	"net/netip"
	"slices"
	"strings"
)

// HostService is a listener the server serves in a namespace: its API for
// Service ("ec2" or "sts") on Addr's ports 80 and 443, for an interface
// endpoint of com.amazonaws.<region>.<Service>.
type HostService struct {
	Namespace, ENIID, Addr, Service string
}

// endpointServed are the services whose interface endpoints this server
// answers itself.
var endpointServed = []string{"ec2", "sts"}

// hostEndpoints returns the available interface endpoints' network
// interfaces, each the namespace of the same id, and the listeners of the
// services served.
func (tx *Tx) hostEndpoints() ([]string, []HostService) {
	var ns []string
	var svcs []HostService
	for _, e := range tx.vpces.Sorted(nil) {
		if e.State != vpceAvailable || e.Type != vpceInterface {
			continue
		}
		short := strings.TrimPrefix(e.ServiceName, "com.amazonaws."+tx.Region+".")
		served := slices.Contains(endpointServed, short)
		for _, id := range e.ENIIDs {
			n := tx.enis.Get(id)
			if n == nil {
				continue
			}
			ns = append(ns, id)
			if served && n.PrimaryIP() != "" {
				svcs = append(svcs, HostService{Namespace: id, ENIID: id, Addr: n.PrimaryIP(), Service: short})
			}
		}
	}
	return ns, svcs
}

func init() { AddVPCDNSSource(vpceDNSSource) }

// vpceDNSSource answers the VPC resolver for the names of the VPC's interface
// endpoints (EndpointDNSNames): the endpoint's own names, and with private DNS
// the service's name (a wildcard such as S3's *.s3.<region>.amazonaws.com
// covers the names under it).
func vpceDNSSource(tx *Tx, vpcID, name string) (DNSAnswer, bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, n := range tx.EndpointDNSNames() {
		if n.VpcID != vpcID {
			continue
		}
		wild, isWild := strings.CutPrefix(n.Name, "*")
		if n.Name != name && !(isWild && strings.HasSuffix(name, wild)) {
			continue
		}
		a := DNSAnswer{Exists: true}
		for _, ip := range n.IPs {
			if addr, err := netip.ParseAddr(ip); err == nil {
				a.A = append(a.A, addr)
			}
		}
		return a, true
	}
	return DNSAnswer{}, false
}
