package core

// Interface endpoints on the data plane: each endpoint network interface is
// eth0 of a namespace of its own (named after the interface, as a task's is
// after the task), and an endpoint of this server's own EC2 API gets the
// server's listeners on the interface's address (HostView.Services).

import (
	"net/netip"
	"strings"
)

// HostService is a listener the server serves in a namespace: the EC2 API
// on Addr's ports 80 and 443, for an interface endpoint of
// com.amazonaws.<region>.ec2.
type HostService struct {
	Namespace, ENIID, Addr string
}

// hostEndpoints returns the available interface endpoints' network
// interfaces, each the namespace of the same id, and the EC2 API listeners.
func (tx *Tx) hostEndpoints() ([]string, []HostService) {
	var ns []string
	var svcs []HostService
	for _, e := range tx.vpces.Sorted(nil) {
		if e.State != vpceAvailable || e.Type != vpceInterface {
			continue
		}
		for _, id := range e.ENIIDs {
			n := tx.enis.Get(id)
			if n == nil {
				continue
			}
			ns = append(ns, id)
			if e.ServiceName == tx.serviceName("ec2") && n.PrimaryIP() != "" {
				svcs = append(svcs, HostService{Namespace: id, ENIID: id, Addr: n.PrimaryIP()})
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
