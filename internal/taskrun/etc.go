package taskrun

import (
	"fmt"
	"net/netip"
	"net/url"
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

// VPCNetOf asks the server at endpoint for the VPC of instance id ("i-…") or of ENI
// id ("eni-…", a task's); zero when it does not answer.
func VPCNetOf(c *Client, endpoint, id string) VPCNet {
	vpc, err := vpcOf(c, endpoint, id)
	if err != nil {
		return VPCNet{}
	}
	n, err := vpcNet(c, endpoint, vpc)
	if err != nil {
		return VPCNet{}
	}
	return n
}

// vpcOf is the VPC of an instance or ENI.
func vpcOf(c *Client, endpoint, id string) (string, error) {
	if strings.HasPrefix(id, "eni-") {
		var out struct {
			VPC []string `xml:"networkInterfaceSet>item>vpcId"`
		}
		if err := c.ec2Action(endpoint, url.Values{"Action": {"DescribeNetworkInterfaces"}, "NetworkInterfaceId.1": {id}}, &out); err != nil || len(out.VPC) != 1 {
			return "", fmt.Errorf("no VPC for %s: %v", id, err)
		}
		return out.VPC[0], nil
	}
	var out struct {
		VPC []string `xml:"reservationSet>item>instancesSet>item>vpcId"`
	}
	if err := c.ec2Action(endpoint, url.Values{"Action": {"DescribeInstances"}, "InstanceId.1": {id}}, &out); err != nil || len(out.VPC) != 1 {
		return "", fmt.Errorf("no VPC for %s: %v", id, err)
	}
	return out.VPC[0], nil
}

// vpcNet is a VPC's primary block and DHCP options.
func vpcNet(c *Client, endpoint, vpc string) (VPCNet, error) {
	var v struct {
		CIDR []string `xml:"vpcSet>item>cidrBlock"`
		DHCP []string `xml:"vpcSet>item>dhcpOptionsId"`
	}
	if err := c.ec2Action(endpoint, url.Values{"Action": {"DescribeVpcs"}, "VpcId.1": {vpc}}, &v); err != nil || len(v.CIDR) != 1 {
		return VPCNet{}, fmt.Errorf("VPC %s: %v", vpc, err)
	}
	n := VPCNet{CIDR: v.CIDR[0]}
	if len(v.DHCP) != 1 || v.DHCP[0] == "" || v.DHCP[0] == "default" {
		return n, nil
	}
	var d struct {
		Configs []struct {
			Key    string   `xml:"key"`
			Values []string `xml:"valueSet>item>value"`
		} `xml:"dhcpOptionsSet>item>dhcpConfigurationSet>item"`
	}
	if err := c.ec2Action(endpoint, url.Values{"Action": {"DescribeDhcpOptions"}, "DhcpOptionsId.1": {v.DHCP[0]}}, &d); err != nil {
		return n, err
	}
	n.DHCP = map[string][]string{}
	for _, cf := range d.Configs {
		n.DHCP[cf.Key] = cf.Values
	}
	return n, nil
}

// ec2Action is EC2Query with an error for a reply other than 200.
func (c *Client) ec2Action(endpoint string, form url.Values, out any) error {
	status, err := c.EC2Query(endpoint, form, out)
	if err == nil && status != 200 {
		err = fmt.Errorf("%s: HTTP %d", form.Get("Action"), status)
	}
	return err
}

// PrivateDNSName is AWS's private DNS name of an address in region.
func PrivateDNSName(ip, region string) string {
	name := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return name + ".ec2.internal"
	}
	return name + "." + region + ".compute.internal"
}
