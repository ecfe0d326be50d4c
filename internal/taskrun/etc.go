package taskrun

import (
	"net/netip"
	"strings"
)

// The instance's /etc/resolv.conf and /etc/hosts, as the command of eni exec or eni
// run-task sees them (bind-mounted in its own mount namespace, osview_linux.go, as
// `ip netns exec` does with /etc/netns/NAME/; the host's files are never changed).
// resolv.conf is what an EC2 instance gets from its VPC's DHCP options set:
// domain-name-servers (AmazonProvidedDNS is the VPC resolver at the VPC's base + 2)
// and domain-name as the search list; hosts has localhost and the instance's private
// name. They are asked of the server (DescribeInstances or DescribeNetworkInterfaces,
// DescribeVpcs, DescribeDhcpOptions); without an answer, the resolver's
// subnet-independent address 169.254.169.253 and the region's domain.

// EtcFiles are the contents of the instance's resolv.conf and hosts.
type EtcFiles struct{ ResolvConf, Hosts string }

// VPCNet is what resolv.conf is made of: the VPC's primary block and its DHCP
// options (key -> values; nil when the VPC has none, "default").
type VPCNet struct {
	CIDR string
	DHCP map[string][]string
}

// resolvConf is the resolv.conf of an instance of a VPC n in region (n zero: the
// server did not say).
func resolvConf(n VPCNet, region string) string {
	ns := []string{"169.254.169.253"}
	search := []string{dhcpDomain(region)}
	if n.CIDR != "" {
		if p, err := netip.ParsePrefix(n.CIDR); err == nil {
			ns = []string{p.Masked().Addr().Next().Next().String()}
		}
		if n.DHCP != nil {
			ns = ns[:0]
			for _, s := range n.DHCP["domain-name-servers"] {
				if s == "AmazonProvidedDNS" {
					if p, err := netip.ParsePrefix(n.CIDR); err == nil {
						s = p.Masked().Addr().Next().Next().String()
					}
				}
				ns = append(ns, s)
			}
			search = nil
			for _, d := range n.DHCP["domain-name"] {
				search = append(search, strings.Fields(d)...)
			}
		}
	}
	var b strings.Builder
	b.WriteString("# the instance's, from its VPC's DHCP options (eni exec)\n")
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	for _, s := range ns {
		b.WriteString("nameserver " + s + "\n")
	}
	return b.String()
}

// hostsFile is the hosts of an instance whose private address and name are ip and
// name.
func hostsFile(ip, name string) string {
	s := "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
	if ip != "" && name != "" {
		short, _, _ := strings.Cut(name, ".")
		s += ip + " " + name + " " + short + "\n"
	}
	return s
}

// dhcpDomain is the domain name of a region's default DHCP options.
func dhcpDomain(region string) string {
	if region == "us-east-1" {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

// EtcOf are the files of an instance of VPC n whose private address is ip.
func EtcOf(n VPCNet, region, ip string) EtcFiles {
	return EtcFiles{ResolvConf: resolvConf(n, region), Hosts: hostsFile(ip, PrivateDNSName(ip, region))}
}

// PrivateDNSName is AWS's private DNS name of an address in region.
func PrivateDNSName(ip, region string) string {
	name := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return name + ".ec2.internal"
	}
	return name + "." + region + ".compute.internal"
}
