package e2e

import (
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestManagementNetwork is the data plane issue's first use case, built only
// through the EC2 API: a web server reachable from the internet on port 80
// through its Elastic IP, and a management ENI (SSH only from the VPN's
// subnet) that moves to a standby instance and takes its address with it.
func TestManagementNetwork(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	igw := e.igw(vpc)
	public := e.subnet(vpc, "10.0.1.0/24")
	e.publicRoutes(vpc, public, igw)
	mgmtSubnet := e.subnet(vpc, "10.0.2.0/24") // the main route table: no route to the igw
	web := e.sg(vpc, "web", 80, "0.0.0.0/0")
	mgmt := e.sg(vpc, "mgmt", 22, "10.0.2.0/24")

	webI := e.launch(public, web)
	standby := e.launch(public, web)
	vpn := e.launch(mgmtSubnet) // the VPC's default group: egress anywhere
	e.waitRunning(webI, standby, vpn)

	eip, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	_, err = e.ec2.AssociateAddress(ctx(), &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: aws.String(webI)})
	e.must(err)
	publicIP := *eip.PublicIp

	m := e.createENI(mgmtSubnet, mgmt)
	mgmtIP := *m.PrivateIpAddress
	att := e.attach(*m.NetworkInterfaceId, webI, 1)
	webIP := *e.primaryENI(webI).PrivateIpAddress
	vpnIP := *e.primaryENI(vpn).PrivateIpAddress
	if !strings.HasPrefix(vpnIP, "10.0.2.") || !strings.HasPrefix(mgmtIP, "10.0.2.") {
		t.Fatalf("VPN %s and management ENI %s should be in 10.0.2.0/24", vpnIP, mgmtIP)
	}

	webNS, standbyNS, vpnNS, inet := e.plane.InstanceNS(webI), e.plane.InstanceNS(standby), e.plane.InstanceNS(vpn), e.plane.InternetNS()
	// Listeners on every address of the instances: only the data plane decides who gets in.
	e.serve(webNS, 80, "web")
	e.serve(webNS, 22, "web-ssh")
	e.serve(standbyNS, 22, "standby-ssh")

	// The management ENI is eth1 of the web instance, with its MAC and address.
	e.waitFor("eth1 in the web instance", func() (bool, string) {
		l, ok := e.ifaceIn(webNS, "eth1")
		return ok && l.MAC == *m.MacAddress && strings.Join(l.Addrs, ",") == mgmtIP, "eth1 " + l.MAC + " " + strings.Join(l.Addrs, ",")
	})

	// Port 80 from the internet through the Elastic IP.
	got := e.reach(inet, net.JoinHostPort(publicIP, "80"), "web")
	if !strings.Contains(got, e.plane.InternetIP().String()+":") {
		t.Errorf("web saw %q, want the internet's address as the source", got)
	}
	// SSH on the management address from the VPN instance's subnet.
	got = e.reach(vpnNS, net.JoinHostPort(mgmtIP, "22"), "web-ssh")
	if !strings.Contains(got, vpnIP+":") {
		t.Errorf("web saw %q, want the VPN instance %s as the source", got, vpnIP)
	}
	e.reach(vpnNS, net.JoinHostPort(webIP, "80"), "web") // eth0 answers the VPN on 80 ...
	e.settle()
	e.noReach(vpnNS, net.JoinHostPort(webIP, "22"))      // ... but not on 22: sg web has no SSH
	e.noReach(inet, net.JoinHostPort(publicIP, "22"))    // the internet gets no SSH through the EIP
	e.noReach(inet, net.JoinHostPort(mgmtIP, "22"))      // nor to the private address
	e.noReach(standbyNS, net.JoinHostPort(mgmtIP, "22")) // the public subnet is not 10.0.2.0/24

	// Fail over: the management ENI moves to the standby, address and MAC with it.
	e.detach(att)
	e.attach(*m.NetworkInterfaceId, standby, 1)
	got = e.reach(vpnNS, net.JoinHostPort(mgmtIP, "22"), "standby-ssh")
	if !strings.Contains(got, vpnIP+":") {
		t.Errorf("standby saw %q, want the VPN instance %s as the source", got, vpnIP)
	}
	e.waitFor("eth1 gone from the web instance", func() (bool, string) {
		_, ok := e.ifaceIn(webNS, "eth1")
		return !ok, ""
	})
	l, ok := e.ifaceIn(standbyNS, "eth1")
	if !ok || l.MAC != *m.MacAddress || strings.Join(l.Addrs, ",") != mgmtIP {
		t.Fatalf("standby eth1 = %+v (present %v), want MAC %s and address %s", l, ok, *m.MacAddress, mgmtIP)
	}
	e.settle()
	for range 3 { // every connection goes to the standby now
		if got := e.reach(vpnNS, net.JoinHostPort(mgmtIP, "22"), "standby-ssh"); strings.HasPrefix(got, "web") {
			t.Fatalf("the web instance still answers on %s: %q", mgmtIP, got)
		}
	}
	e.noReach(standbyNS, net.JoinHostPort(webIP, "22")) // and web's own eth0 still has no SSH
	e.noReach(inet, net.JoinHostPort(mgmtIP, "22"))
	e.reach(inet, net.JoinHostPort(publicIP, "80"), "web") // the web server is untouched
}
