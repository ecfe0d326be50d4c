package taskrun

import "testing"

// resolvConf follows the VPC's DHCP options as an EC2 instance's DHCP client does:
// AmazonProvidedDNS is the VPC's base + 2, other servers are listed as given, the
// domain names are the search list; a VPC with no options set ("default") has the
// resolver and the region's domain, and so does an instance whose server did not say,
// at 169.254.169.253.
func TestResolvConf(t *testing.T) {
	head := "# the instance's, from its VPC's DHCP options (eni exec)\n"
	for _, c := range []struct {
		what   string
		n      VPCNet
		region string
		want   string
	}{
		{"default options", VPCNet{CIDR: "10.0.0.0/16", DHCP: map[string][]string{"domain-name": {"ec2.internal"}, "domain-name-servers": {"AmazonProvidedDNS"}}},
			"us-east-1", "search ec2.internal\nnameserver 10.0.0.2\n"},
		{"no options set", VPCNet{CIDR: "172.31.0.0/16"}, "eu-west-1", "search eu-west-1.compute.internal\nnameserver 172.31.0.2\n"},
		{"own servers and domains", VPCNet{CIDR: "10.1.0.0/16", DHCP: map[string][]string{"domain-name": {"corp.example lab.example"},
			"domain-name-servers": {"10.1.0.53", "AmazonProvidedDNS"}}}, "us-east-1", "search corp.example lab.example\nnameserver 10.1.0.53\nnameserver 10.1.0.2\n"},
		{"the server did not say", VPCNet{}, "us-east-1", "search ec2.internal\nnameserver 169.254.169.253\n"},
	} {
		if got := resolvConf(c.n, c.region); got != head+c.want {
			t.Errorf("%s: %q, want %q", c.what, got, head+c.want)
		}
	}
	if got, want := hostsFile("10.0.1.4", "ip-10-0-1-4.ec2.internal"), "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n10.0.1.4 ip-10-0-1-4.ec2.internal ip-10-0-1-4\n"; got != want {
		t.Errorf("hosts: %q, want %q", got, want)
	}
}
