package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
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

// etcFiles are the contents of the instance's resolv.conf and hosts.
type etcFiles struct{ resolvConf, hosts string }

// netOfVPC is what resolv.conf is made of: the VPC's primary block and its DHCP
// options (key -> values; nil when the VPC has none, "default").
type netOfVPC struct {
	cidr string
	dhcp map[string][]string
}

// resolvConf is the resolv.conf of an instance of a VPC n in region (n zero: the
// server did not say).
func resolvConf(n netOfVPC, region string) string {
	ns := []string{"169.254.169.253"}
	search := []string{dhcpDomain(region)}
	if n.cidr != "" {
		if p, err := netip.ParsePrefix(n.cidr); err == nil {
			ns = []string{p.Masked().Addr().Next().Next().String()}
		}
		if n.dhcp != nil {
			ns = ns[:0]
			for _, s := range n.dhcp["domain-name-servers"] {
				if s == "AmazonProvidedDNS" {
					if p, err := netip.ParsePrefix(n.cidr); err == nil {
						s = p.Masked().Addr().Next().Next().String()
					}
				}
				ns = append(ns, s)
			}
			search = nil
			for _, d := range n.dhcp["domain-name"] {
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

// etcOf are the files of an instance of VPC n whose private address is ip.
func etcOf(n netOfVPC, region, ip string) etcFiles {
	return etcFiles{resolvConf: resolvConf(n, region), hosts: hostsFile(ip, privateDNSName(ip, region))}
}

// vpcNetOf asks the server at endpoint for the VPC of instance id ("i-…") or of ENI
// id ("eni-…", a task's); zero when it does not answer.
func vpcNetOf(cmd, endpoint, region, id string) netOfVPC {
	return vpcNetWith(newAPIClient(cmd, region), endpoint, id)
}

// vpcNetWith is vpcNetOf with a client already made.
func vpcNetWith(c *taskClient, endpoint, id string) netOfVPC {
	vpc, err := vpcOf(c, endpoint, id)
	if err != nil {
		return netOfVPC{}
	}
	n, err := vpcNet(c, endpoint, vpc)
	if err != nil {
		return netOfVPC{}
	}
	return n
}

// vpcOf is the VPC of an instance or ENI.
func vpcOf(c *taskClient, endpoint, id string) (string, error) {
	if strings.HasPrefix(id, "eni-") {
		var out struct {
			VPC []string `xml:"networkInterfaceSet>item>vpcId"`
		}
		if err := ec2Query(c, endpoint, url.Values{"Action": {"DescribeNetworkInterfaces"}, "NetworkInterfaceId.1": {id}}, &out); err != nil || len(out.VPC) != 1 {
			return "", fmt.Errorf("no VPC for %s: %v", id, err)
		}
		return out.VPC[0], nil
	}
	var out struct {
		VPC []string `xml:"reservationSet>item>instancesSet>item>vpcId"`
	}
	if err := ec2Query(c, endpoint, url.Values{"Action": {"DescribeInstances"}, "InstanceId.1": {id}}, &out); err != nil || len(out.VPC) != 1 {
		return "", fmt.Errorf("no VPC for %s: %v", id, err)
	}
	return out.VPC[0], nil
}

// vpcNet is a VPC's primary block and DHCP options.
func vpcNet(c *taskClient, endpoint, vpc string) (netOfVPC, error) {
	var v struct {
		CIDR []string `xml:"vpcSet>item>cidrBlock"`
		DHCP []string `xml:"vpcSet>item>dhcpOptionsId"`
	}
	if err := ec2Query(c, endpoint, url.Values{"Action": {"DescribeVpcs"}, "VpcId.1": {vpc}}, &v); err != nil || len(v.CIDR) != 1 {
		return netOfVPC{}, fmt.Errorf("VPC %s: %v", vpc, err)
	}
	n := netOfVPC{cidr: v.CIDR[0]}
	if len(v.DHCP) != 1 || v.DHCP[0] == "" || v.DHCP[0] == "default" {
		return n, nil
	}
	var d struct {
		Configs []struct {
			Key    string   `xml:"key"`
			Values []string `xml:"valueSet>item>value"`
		} `xml:"dhcpOptionsSet>item>dhcpConfigurationSet>item"`
	}
	if err := ec2Query(c, endpoint, url.Values{"Action": {"DescribeDhcpOptions"}, "DhcpOptionsId.1": {v.DHCP[0]}}, &d); err != nil {
		return n, err
	}
	n.dhcp = map[string][]string{}
	for _, cf := range d.Configs {
		n.dhcp[cf.Key] = cf.Values
	}
	return n, nil
}

// ec2Query calls an EC2 Query action on the server (signed for "ec2" when c has
// credentials) and decodes its XML reply into out.
func ec2Query(c *taskClient, endpoint string, form url.Values, out any) error {
	form.Set("Version", "2016-11-15")
	body := []byte(form.Encode())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if c.creds != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ec2", c.region, time.Now()); err != nil {
			return err
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", form.Get("Action"), resp.StatusCode)
	}
	return xml.Unmarshal(raw, out)
}
