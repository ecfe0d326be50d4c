package e2e

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/vishvananda/netlink"
)

// TestInstanceLifecycle drives an instance through the EC2 API and checks
// the host follows: pending then running with eth0 carrying the ENI's MAC and
// address; stop takes the namespace down; start brings it back with the same
// address and MAC; a hot-attached ENI appears as eth1 and goes on detach; an
// assigned secondary address is live on eth0 and goes when unassigned; an address the
// instance takes from a delegated prefix is reachable until the prefix is unassigned;
// terminate removes the namespace and the ENI.
func TestInstanceLifecycle(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	open := e.sgOpen(vpc, "open", "10.0.0.0/16")
	inst := e.launch(subnet, open) // checks RunInstances said pending
	client := e.launch(subnet, open)
	e.waitRunning(inst, client)
	ns, clientNS := e.plane.InstanceNS(inst), e.plane.InstanceNS(client)
	eth0 := e.primaryENI(inst)
	ip, mac := *eth0.PrivateIpAddress, *eth0.MacAddress

	checkEth0 := func(when string) {
		t.Helper()
		l, ok := e.ifaceIn(ns, "eth0")
		if !ok || l.MAC != mac || !slices.Equal(l.Addrs, []string{ip}) {
			t.Fatalf("%s: eth0 = %+v (present %v), want MAC %s and address %s", when, l, ok, mac, ip)
		}
	}
	checkEth0("launched")
	e.serve(ns, 80, "inst")
	e.reach(clientNS, net.JoinHostPort(ip, "80"), "inst")

	// Stop: the namespace (and the ENI in it) goes down; the ENI stays attached.
	_, err := e.ec2.StopInstances(ctx(), &ec2.StopInstancesInput{InstanceIds: []string{inst}})
	e.must(err)
	e.waitFor("the stopped instance's namespace removed", func() (bool, string) { return !e.hasNS(ns), "" })
	if st := e.instance(inst).State.Name; st != types.InstanceStateNameStopped {
		t.Fatalf("after StopInstances: %s, want stopped", st)
	}
	e.settle()
	e.noReach(clientNS, net.JoinHostPort(ip, "80"))
	if n, _ := e.eni(*eth0.NetworkInterfaceId); n.Attachment == nil || aws.ToString(n.Attachment.InstanceId) != inst {
		t.Fatalf("eth0's ENI after stop: attachment %+v, want still attached", n.Attachment)
	}

	// Start: pending, then running with the same address and MAC.
	out, err := e.ec2.StartInstances(ctx(), &ec2.StartInstancesInput{InstanceIds: []string{inst}})
	e.must(err)
	if st := out.StartingInstances[0].CurrentState.Name; st != types.InstanceStateNamePending {
		t.Fatalf("StartInstances: %s, want pending", st)
	}
	e.waitRunning(inst)
	checkEth0("restarted")
	e.serve(ns, 80, "inst") // a new namespace: the old listener went with the old one
	e.reach(clientNS, net.JoinHostPort(ip, "80"), "inst")

	// Hot attach: eth1 with the ENI's MAC and address; detach removes it.
	x := e.createENI(subnet, open)
	att := e.attach(*x.NetworkInterfaceId, inst, 1)
	e.waitFor("eth1 in the instance", func() (bool, string) {
		l, ok := e.ifaceIn(ns, "eth1")
		return ok && l.MAC == *x.MacAddress && slices.Equal(l.Addrs, []string{*x.PrivateIpAddress}), "eth1 " + l.MAC + " " + strings.Join(l.Addrs, ",")
	})
	e.reach(clientNS, net.JoinHostPort(*x.PrivateIpAddress, "80"), "inst")
	e.detach(att)
	e.waitFor("eth1 gone", func() (bool, string) {
		_, ok := e.ifaceIn(ns, "eth1")
		return !ok, ""
	})
	e.settle()
	e.noReach(clientNS, net.JoinHostPort(*x.PrivateIpAddress, "80"))

	// A secondary address assigned through the API is live on eth0.
	as, err := e.ec2.AssignPrivateIpAddresses(ctx(), &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: eth0.NetworkInterfaceId,
		SecondaryPrivateIpAddressCount: aws.Int32(1)})
	e.must(err)
	second := *as.AssignedPrivateIpAddresses[0].PrivateIpAddress
	e.waitFor("the secondary address on eth0", func() (bool, string) {
		l, _ := e.ifaceIn(ns, "eth0")
		return slices.Contains(l.Addrs, second), strings.Join(l.Addrs, ",")
	})
	got := e.reach(clientNS, net.JoinHostPort(second, "80"), "inst")
	t.Logf("secondary %s answered: %s", second, got)
	_, err = e.ec2.UnassignPrivateIpAddresses(ctx(), &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: eth0.NetworkInterfaceId,
		PrivateIpAddresses: []string{second}})
	e.must(err)
	e.waitFor("the secondary address removed from eth0", func() (bool, string) {
		l, _ := e.ifaceIn(ns, "eth0")
		return slices.Equal(l.Addrs, []string{ip}), strings.Join(l.Addrs, ",")
	})

	// A delegated /28: the instance gives itself an address of it (as a CNI gives one to a
	// pod) and is reached on it; once the prefix is unassigned, it is not.
	ap, err := e.ec2.AssignPrivateIpAddresses(ctx(), &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: eth0.NetworkInterfaceId,
		Ipv4PrefixCount: aws.Int32(1)})
	e.must(err)
	pfx := netip.MustParsePrefix(*ap.AssignedIpv4Prefixes[0].Ipv4Prefix)
	podIP := pfx.Addr().Next().String()
	e.settle()
	e.must(e.plane.Do(ns, func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP(podIP).To4(), Mask: net.CIDRMask(32, 32)}})
	}))
	e.reach(clientNS, net.JoinHostPort(podIP, "80"), "inst")
	_, err = e.ec2.UnassignPrivateIpAddresses(ctx(), &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: eth0.NetworkInterfaceId,
		Ipv4Prefixes: []string{pfx.String()}})
	e.must(err)
	e.settle()
	e.noReach(clientNS, net.JoinHostPort(podIP, "80"))

	// Terminate: the namespace goes, and eth0's ENI with the instance.
	_, err = e.ec2.TerminateInstances(ctx(), &ec2.TerminateInstancesInput{InstanceIds: []string{inst}})
	e.must(err)
	e.waitFor("the terminated instance's namespace removed", func() (bool, string) { return !e.hasNS(ns), "" })
	if _, ok := e.eni(*eth0.NetworkInterfaceId); ok {
		t.Errorf("eth0's ENI %s still exists after termination", *eth0.NetworkInterfaceId)
	}
	e.settle()
	if got, want := strings.Join(e.namespaces(), " "), strings.Join(e.wantNamespaces(), " "); got != want {
		t.Errorf("namespaces %s, want %s", got, want)
	}
}
