package core

import (
	"slices"
	"strings"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Interface endpoints on the host: each endpoint ENI is the namespace of its own id, only
// endpoints of EC2 and STS get the server's listeners (on their ENI's address), and the VPC
// resolver answers the endpoint's names in its VPC, the service's name only with private
// DNS.
func TestVpceHostView(t *testing.T) {
	w := newDNSWorld(t)
	w.attr(t, w.vpcA, ec2wire.ModifyVpcAttributeInput{EnableDnsHostnames: on(true)})
	var ec2EP, stsEP, s3EP *ec2wire.VpcEndpoint
	if err := mutate(t, w.c, func(tx *Tx) error {
		for _, s := range []struct {
			name string
			out  **ec2wire.VpcEndpoint
		}{{"ec2", &ec2EP}, {"sts", &stsEP}, {"s3", &s3EP}} {
			out, err := tx.CreateVpcEndpoint(&ec2wire.CreateVpcEndpointInput{VpcId: p(w.vpcA), ServiceName: p("com.amazonaws.us-east-1." + s.name),
				VpcEndpointType: p(vpceInterface), SubnetIds: []string{*w.a1.SubnetId}, PrivateDnsEnabled: p(s.name == "ec2")})
			if err != nil {
				return err
			}
			*s.out = out.VpcEndpoint
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	hv := w.c.HostView("us-east-1")
	ec2ENI, stsENI, s3ENI := ec2EP.NetworkInterfaceIds[0], stsEP.NetworkInterfaceIds[0], s3EP.NetworkInterfaceIds[0]
	ips := map[string]string{}
	for _, e := range hv.ENIs {
		ips[e.ID] = e.PrivateIPs[0]
	}
	ip := ips[ec2ENI]
	for _, id := range []string{ec2ENI, stsENI, s3ENI} {
		if !slices.ContainsFunc(hv.Instances, func(i HostInstance) bool { return i.ID == id }) {
			t.Errorf("%s has no namespace: %+v", id, hv.Instances)
		}
	}
	want := []HostService{{Namespace: ec2ENI, ENIID: ec2ENI, Addr: ip, Service: "ec2"}, {Namespace: stsENI, ENIID: stsENI, Addr: ips[stsENI], Service: "sts"}}
	got := slices.SortedFunc(slices.Values(hv.Services), func(a, b HostService) int { return strings.Compare(a.Service, b.Service) })
	if ip == "" || !slices.Equal(got, want) {
		t.Errorf("services %+v, want %+v", got, want)
	}

	ask := func(vpc, n string) DNSAnswer { return w.c.ResolveVPCDNS("us-east-1", vpc, n) }
	regional := *ec2EP.DnsEntries[0].DnsName
	for _, c := range []struct {
		what, vpc, name string
		want            DNSAnswer
	}{
		{"the service's name with private DNS", w.vpcA, "EC2.us-east-1.amazonaws.com.", dnsA(ip)},
		{"the endpoint's regional name", w.vpcA, regional, dnsA(ip)},
		{"the service's name in another VPC", w.vpcB, "ec2.us-east-1.amazonaws.com", DNSAnswer{}},
		{"the endpoint's name in another VPC", w.vpcB, regional, DNSAnswer{}},
		{"sts without private DNS", w.vpcA, "sts.us-east-1.amazonaws.com", DNSAnswer{}},
	} {
		if got := ask(c.vpc, c.name); !sameAnswer(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.what, got, c.want)
		}
	}
	if err := mutate(t, w.c, func(tx *Tx) error {
		_, err := tx.ModifyVpcEndpoint(&ec2wire.ModifyVpcEndpointInput{VpcEndpointId: ec2EP.VpcEndpointId, PrivateDnsEnabled: p(false)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := ask(w.vpcA, "ec2.us-east-1.amazonaws.com"); !sameAnswer(got, DNSAnswer{}) {
		t.Errorf("the service's name without private DNS: %+v", got)
	}
	if got := ask(w.vpcA, regional); !sameAnswer(got, dnsA(ip)) {
		t.Errorf("the endpoint's name without private DNS: %+v", got)
	}
}

// An endpoint in two zones: a listener on each interface, the regional and private names
// answer both addresses, each zonal name its own.
func TestVpceHostViewTwoZones(t *testing.T) {
	w := newDNSWorld(t)
	w.attr(t, w.vpcA, ec2wire.ModifyVpcAttributeInput{EnableDnsHostnames: on(true)})
	var ep *ec2wire.VpcEndpoint
	if err := mutate(t, w.c, func(tx *Tx) error {
		out, err := tx.CreateVpcEndpoint(&ec2wire.CreateVpcEndpointInput{VpcId: p(w.vpcA), ServiceName: p("com.amazonaws.us-east-1.ec2"),
			VpcEndpointType: p(vpceInterface), SubnetIds: []string{*w.a1.SubnetId}})
		if err != nil {
			return err
		}
		sb, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: p(w.vpcA), CidrBlock: p("10.0.3.0/24"), AvailabilityZone: p("us-east-1b")})
		if err != nil {
			return err
		}
		if _, err := tx.ModifyVpcEndpoint(&ec2wire.ModifyVpcEndpointInput{VpcEndpointId: out.VpcEndpoint.VpcEndpointId, AddSubnetIds: []string{*sb.Subnet.SubnetId}}); err != nil {
			return err
		}
		d, err := tx.DescribeVpcEndpoints(&ec2wire.DescribeVpcEndpointsInput{VpcEndpointIds: []string{*out.VpcEndpoint.VpcEndpointId}})
		if err != nil {
			return err
		}
		ep = &d.VpcEndpoints[0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	hv := w.c.HostView("us-east-1")
	ips := map[string]string{}
	for _, e := range hv.ENIs {
		ips[e.ID] = e.PrivateIPs[0]
	}
	if len(ep.NetworkInterfaceIds) != 2 || len(hv.Services) != 2 {
		t.Fatalf("interfaces %v, services %+v", ep.NetworkInterfaceIds, hv.Services)
	}
	var all []string
	for _, s := range hv.Services {
		if !slices.Contains(ep.NetworkInterfaceIds, s.ENIID) || s.Addr != ips[s.ENIID] || s.Service != "ec2" {
			t.Errorf("service %+v", s)
		}
		all = append(all, s.Addr)
	}
	ask := func(n string) DNSAnswer { return w.c.ResolveVPCDNS("us-east-1", w.vpcA, n) }
	for _, n := range []string{*ep.DnsEntries[0].DnsName, "ec2.us-east-1.amazonaws.com"} {
		got := ask(n)
		var addrs []string
		for _, a := range got.A {
			addrs = append(addrs, a.String())
		}
		slices.Sort(addrs)
		slices.Sort(all)
		if !slices.Equal(addrs, all) {
			t.Errorf("%s: %v, want %v", n, addrs, all)
		}
	}
	zonal := 0
	for _, d := range ep.DnsEntries[1:] {
		n := *d.DnsName
		if !strings.Contains(n, "-us-east-1a.") && !strings.Contains(n, "-us-east-1b.") {
			continue
		}
		zonal++
		if got := ask(n); len(got.A) != 1 || !slices.Contains(all, got.A[0].String()) {
			t.Errorf("zonal %s: %+v", n, got)
		}
	}
	if zonal != 2 {
		t.Errorf("zonal names: %d of %+v", zonal, ep.DnsEntries)
	}
}
