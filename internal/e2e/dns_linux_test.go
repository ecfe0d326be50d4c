package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// requireTool skips the test when the program is not installed, and fails it
// under CI=true, whose .ci/run installs it (package: where it comes from).
func requireTool(t *testing.T, program, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(program); err != nil {
		missing(t, program+" is not installed ("+pkg+")")
	}
}

// missing skips the test for want of what msg says, and fails it under CI=true.
func missing(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// requireDig skips without dig.
func requireDig(t *testing.T) {
	t.Helper()
	requireTool(t, "dig", "Debian's bind9-dnsutils")
}

// digReply is what dig printed: the reply's status and its answer records
// ("name type value").
type digReply struct {
	status  string
	answers []string
}

// dig runs dig inside the instance (eni exec): one try, then the reply or the error.
func (e *env) dig(inst string, args ...string) (digReply, error) {
	out, err := e.eniExec(inst, append([]string{"dig", "+noall", "+comments", "+answer", "+time=2", "+tries=1"}, args...)...)
	var r digReply
	for _, l := range strings.Split(out, "\n") {
		if _, st, ok := strings.Cut(l, "status: "); ok {
			r.status, _, _ = strings.Cut(st, ",")
		}
		if f := strings.Fields(l); len(f) == 5 && !strings.HasPrefix(l, ";") {
			r.answers = append(r.answers, strings.TrimSuffix(f[0], ".")+" "+f[3]+" "+strings.TrimSuffix(f[4], "."))
		}
	}
	if err == nil && r.status == "" {
		err = errors.New("no reply: " + out)
	}
	return r, err
}

// wantDig asks until the reply is status with answers (the agent opens the
// resolver's sockets asynchronously; the model is read on each query).
func (e *env) wantDig(inst, status string, answers []string, args ...string) {
	e.t.Helper()
	e.waitFor("dig "+strings.Join(args, " ")+" in "+inst, func() (bool, string) {
		r, err := e.dig(inst, args...)
		return err == nil && r.status == status && slices.Equal(r.answers, answers), r.status + " " + strings.Join(r.answers, "; ") + errString(err)
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

func dashed(ip string) string { return strings.ReplaceAll(ip, ".", "-") }

// TestVPCResolver: dig inside instances asks the VPC resolver at the VPC's base + 2
// (from a subnet that holds it and from one that does not) and at 169.254.169.253,
// over UDP and TCP: private names (A and PTR), resource names as the subnet's options
// say, the public name of an Elastic IP (its private address inside the VPC), NXDOMAIN
// for anything else; security groups do not filter it; enableDnsHostnames and
// enableDnsSupport apply at once; Go's resolver asks it too.
func TestVPCResolver(t *testing.T) {
	requireDig(t)
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	low := e.subnet(vpc, "10.0.0.0/24") // holds 10.0.0.2
	high := e.subnet(vpc, "10.0.1.0/24")
	igw := e.igw(vpc)
	e.publicRoutes(vpc, high, igw)
	_, err := e.ec2.ModifySubnetAttribute(ctx(), &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(low),
		PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeResourceName})
	e.must(err)
	_, err = e.ec2.ModifySubnetAttribute(ctx(), &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(low),
		EnableResourceNameDnsARecordOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	e.must(err)
	closed := e.sg(vpc, "closed", 0) // no egress at all: DNS still passes
	_, err = e.ec2.RevokeSecurityGroupEgress(ctx(), &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(closed),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	e.must(err)
	a := e.launch(high, closed)
	b := e.launch(low)
	e.waitRunning(a, b)
	aIP, bIP := *e.primaryENI(a).PrivateIpAddress, *e.primaryENI(b).PrivateIpAddress
	bName := "ip-" + dashed(bIP) + ".ec2.internal"

	for _, server := range []string{"@10.0.0.2", "@169.254.169.253"} {
		e.wantDig(a, "NOERROR", []string{bName + " A " + bIP}, server, bName)
		e.wantDig(a, "NOERROR", []string{bName + " A " + bIP}, server, "+tcp", bName)
		e.wantDig(b, "NOERROR", []string{"IP-" + dashed(aIP) + ".EC2.internal A " + aIP}, server, "IP-"+dashed(aIP)+".EC2.internal")
	}
	e.wantDig(a, "NOERROR", nil, "@10.0.0.2", bName, "AAAA")
	e.wantDig(a, "NOERROR", []string{reverse(bIP) + " PTR " + bName}, "@10.0.0.2", "-x", bIP)
	e.wantDig(a, "NXDOMAIN", nil, "@10.0.0.2", "ip-10-0-1-200.ec2.internal") // no ENI has it
	e.wantDig(a, "NXDOMAIN", nil, "@10.0.0.2", "example.com")
	// b's subnet gives resource names with A records; a's does not.
	e.wantDig(a, "NOERROR", []string{b + ".ec2.internal A " + bIP}, "@10.0.0.2", b+".ec2.internal")
	e.wantDig(b, "NXDOMAIN", nil, "@10.0.0.2", a+".ec2.internal")

	// An Elastic IP on a: its public name is a's private address inside the VPC, once
	// the VPC gives DNS hostnames.
	alloc, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	_, err = e.ec2.AssociateAddress(ctx(), &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: aws.String(a)})
	e.must(err)
	pubName := "ec2-" + dashed(*alloc.PublicIp) + ".compute-1.amazonaws.com"
	e.wantDig(b, "NXDOMAIN", nil, "@10.0.0.2", pubName)
	e.vpcAttr(vpc, nil, aws.Bool(true))
	e.wantDig(b, "NOERROR", []string{pubName + " A " + aIP}, "@10.0.0.2", pubName)
	e.wantDig(b, "NOERROR", []string{reverse(*alloc.PublicIp) + " PTR " + pubName}, "@10.0.0.2", "-x", *alloc.PublicIp)

	// Go's resolver, its sockets inside a, asks the VPC's resolver (the resolver's
	// goroutines run on any thread: each dial enters the namespace).
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var c net.Conn
		err := e.plane.DoInstance(a, func() (err error) {
			c, err = (&net.Dialer{}).DialContext(ctx, network, "10.0.0.2:53")
			return err
		})
		return c, err
	}}
	e.waitFor("Go's resolver in "+a, func() (bool, string) {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		addrs, err := r.LookupHost(c, bName)
		return err == nil && slices.Equal(addrs, []string{bIP}), strings.Join(addrs, " ") + errString(err)
	})

	// enableDnsSupport off: nothing answers (as on AWS); on again: it answers.
	e.vpcAttr(vpc, nil, aws.Bool(false))
	e.vpcAttr(vpc, aws.Bool(false), nil)
	if r, err := e.dig(a, "@10.0.0.2", bName); err == nil {
		t.Errorf("with enableDnsSupport off the resolver answered: %+v", r)
	}
	e.vpcAttr(vpc, aws.Bool(true), nil)
	e.wantDig(a, "NOERROR", []string{bName + " A " + bIP}, "@10.0.0.2", bName)
}

// vpcAttr sets enableDnsSupport or enableDnsHostnames.
func (e *env) vpcAttr(vpc string, support, hostnames *bool) {
	e.t.Helper()
	in := &ec2.ModifyVpcAttributeInput{VpcId: aws.String(vpc)}
	if support != nil {
		in.EnableDnsSupport = &types.AttributeBooleanValue{Value: support}
	}
	if hostnames != nil {
		in.EnableDnsHostnames = &types.AttributeBooleanValue{Value: hostnames}
	}
	_, err := e.ec2.ModifyVpcAttribute(ctx(), in)
	e.must(err)
}

// reverse is the in-addr.arpa name of an IPv4 address.
func reverse(ip string) string {
	p := strings.Split(ip, ".")
	slices.Reverse(p)
	return strings.Join(p, ".") + ".in-addr.arpa"
}

// lookupEnv makes the test binary Go's resolver asking for a name: it prints the
// addresses net.LookupHost finds (with the pure Go resolver, from /etc/resolv.conf
// and /etc/hosts), one a line.
const lookupEnv = "ENI_E2E_LOOKUP"

func runLookup(name string) int {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := (&net.Resolver{PreferGo: true}).LookupHost(c, name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lookup:", err)
		return 2
	}
	fmt.Println(strings.Join(addrs, "\n"))
	return 0
}

// TestExecResolvConf: eni exec gives the command the instance's own /etc/resolv.conf
// (its VPC's resolver at base + 2, the search list of its DHCP options) and /etc/hosts
// (its private name), without touching the host's: glibc's getent and Go's resolver
// find another instance by its private name, and the instance's own name.
func TestExecResolvConf(t *testing.T) {
	if _, err := exec.LookPath("getent"); err != nil {
		t.Skip("getent is not installed")
	}
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	hostHosts, _ := os.ReadFile("/etc/hosts")
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	a, b := e.launch(subnet), e.launch(subnet)
	e.waitRunning(a, b)
	aIP, bIP := *e.primaryENI(a).PrivateIpAddress, *e.primaryENI(b).PrivateIpAddress
	aName, bName := "ip-"+dashed(aIP)+".ec2.internal", "ip-"+dashed(bIP)+".ec2.internal"

	out, err := e.eniExec(a, "cat", "/etc/resolv.conf")
	if err != nil || !strings.Contains(out, "\nsearch ec2.internal\nnameserver 10.0.0.2") {
		t.Errorf("resolv.conf in %s: %q %v, want search ec2.internal and nameserver 10.0.0.2", a, out, err)
	}
	out, err = e.eniExec(a, "cat", "/etc/hosts")
	if err != nil || !strings.Contains(out, aIP+" "+aName+" ip-"+dashed(aIP)) || !strings.Contains(out, "127.0.0.1 localhost") {
		t.Errorf("hosts in %s: %q %v", a, out, err)
	}
	e.waitFor("getent hosts "+bName+" in "+a, func() (bool, string) {
		out, err := e.eniExec(a, "getent", "hosts", bName)
		f := strings.Fields(out)
		return err == nil && len(f) >= 2 && f[0] == bIP && f[1] == bName, out + errString(err)
	})
	if out, err := e.eniExec(a, "getent", "hosts", "ip-"+dashed(bIP)); err != nil || !strings.HasPrefix(out, bIP+" ") {
		t.Errorf("getent hosts by the short name (search list): %q %v", out, err)
	}
	if out, err := e.eniExec(a, "getent", "hosts", aName); err != nil || !strings.HasPrefix(out, aIP+" ") {
		t.Errorf("getent hosts of its own name: %q %v", out, err)
	}
	self, err := os.Executable()
	e.must(err)
	for _, name := range []string{bName, "ip-" + dashed(bIP)} {
		out, err := e.eniExecEnv(a, []string{lookupEnv + "=" + name, "GODEBUG=netdns=go"}, self)
		if err != nil || out != bIP {
			t.Errorf("Go's resolver in %s for %s: %q %v, want %s", a, name, out, err, bIP)
		}
	}

	// The VPC's DHCP options make its search list.
	opts, err := e.ec2.CreateDhcpOptions(ctx(), &ec2.CreateDhcpOptionsInput{DhcpConfigurations: []types.NewDhcpConfiguration{
		{Key: aws.String("domain-name"), Values: []string{"corp.example"}},
		{Key: aws.String("domain-name-servers"), Values: []string{"AmazonProvidedDNS"}}}})
	e.must(err)
	_, err = e.ec2.AssociateDhcpOptions(ctx(), &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: opts.DhcpOptions.DhcpOptionsId, VpcId: aws.String(vpc)})
	e.must(err)
	if out, err := e.eniExec(b, "cat", "/etc/resolv.conf"); err != nil || !strings.Contains(out, "\nsearch corp.example\nnameserver 10.0.0.2") {
		t.Errorf("resolv.conf with the DHCP options' domain: %q %v", out, err)
	}

	if now, _ := os.ReadFile("/etc/resolv.conf"); string(now) != string(hostResolv) {
		t.Errorf("the host's /etc/resolv.conf changed: %q", now)
	}
	if now, _ := os.ReadFile("/etc/hosts"); string(now) != string(hostHosts) {
		t.Errorf("the host's /etc/hosts changed: %q", now)
	}
}

// eniExecEnv is eniExec with more environment.
func (e *env) eniExecEnv(inst string, envs []string, argv ...string) (string, error) {
	cmd := exec.Command(eniBinary(e.t), append([]string{"exec", "--prefix", e.prefix, "--endpoint", e.api.Server.URL, inst, "--"}, argv...)...)
	cmd.Env = append(append(os.Environ(), "AWS_REGION=us-east-1"), envs...)
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// routerInputDrops is what the guard of a VPC's router has dropped in its input chain
// (the sum of the chain's counters): what reached the router's own stack and was
// refused.
func (e *env) routerInputDrops(vpc string) uint64 {
	e.t.Helper()
	var n uint64
	e.must(e.plane.Do(e.plane.RouterNS(vpc), func() error {
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		c, err := nftables.New(nftables.WithNetNSFd(fd))
		if err != nil {
			return err
		}
		rules, err := c.GetRules(&nftables.Table{Name: e.prefix + "rt", Family: nftables.TableFamilyINet}, &nftables.Chain{Name: "input"})
		if err != nil {
			return err
		}
		for _, r := range rules {
			for _, x := range r.Exprs {
				if ctr, ok := x.(*expr.Counter); ok {
					n += ctr.Packets
				}
			}
		}
		return nil
	}))
	return n
}

// digRefused asks what must not be answered: dig gets no reply, the router of vpc
// drops the query (its guard's counter grows: the query did reach it), and no
// resolver is asked the name.
func (e *env) digRefused(what, from, vpc, name string, args ...string) {
	e.t.Helper()
	before := e.routerInputDrops(vpc)
	if r, err := e.dig(from, append(args, name)...); err == nil {
		e.t.Errorf("%s: answered %+v", what, r)
	}
	if after := e.routerInputDrops(vpc); after <= before {
		e.t.Errorf("%s: the query did not reach %s's router (drops %d, then %d): the test proves nothing", what, vpc, before, after)
	}
	if asked := e.dnsAsked.since(0); slices.ContainsFunc(asked, func(s string) bool { return strings.Contains(s, name) }) {
		e.t.Errorf("%s: a resolver was asked: %q", what, asked)
	}
}

// TestAttackVPCResolverFromOutside: a VPC's resolver answers its own instances only.
// A peer VPC's instance, with routes over the peering, sends queries to A's base + 2:
// they reach A's router and are dropped there, A's resolver is never asked (B's own
// resolver, at 169.254.169.253, knows nothing of A's private names). The internet, as
// root, routes A's base + 2 and 169.254.169.253 to A's router: the same.
func TestAttackVPCResolverFromOutside(t *testing.T) {
	requireDig(t)
	e := newEnv(t)
	a := e.peerVPC("10.1.0.0/16", "10.1.1.0/24")
	b := e.peerVPC("10.2.0.0/16", "10.2.1.0/24")
	e.waitRunning(a.inst, b.inst)
	pcx := e.peer(a, b)
	e.accept(pcx)
	e.routePcx(a.rtb, "10.2.0.0/16", pcx)
	e.routePcx(b.rtb, "10.1.0.0/16", pcx)
	aIP := aws.ToString(e.primaryENI(a.inst).PrivateIpAddress)
	aName := "ip-" + dashed(aIP) + ".ec2.internal"
	e.wantDig(a.inst, "NOERROR", []string{aName + " A " + aIP}, "@10.1.0.2", aName)
	e.wantDig(b.inst, "NXDOMAIN", nil, "@169.254.169.253", aName)
	e.settle()
	e.digRefused("B's instance asks A's resolver over the peering", b.inst, a.vpc, "peer-probe.example", "@10.1.0.2")
	e.digRefused("B's instance asks A's resolver over the peering (TCP)", b.inst, a.vpc, "peer-probe-tcp.example", "@10.1.0.2", "+tcp")

	e.must(e.plane.Do(e.plane.InternetNS(), func() error {
		leg, err := netlink.LinkByName(e.inetLeg(a.vpc))
		if err != nil {
			return err
		}
		for _, dst := range []net.IP{{10, 1, 0, 2}, {169, 254, 169, 253}} {
			if err := netlink.RouteAdd(&netlink.Route{LinkIndex: leg.Attrs().Index, Dst: &net.IPNet{IP: dst, Mask: net.CIDRMask(32, 32)},
				Gw: net.IP{100, 64, 0, 2}, Flags: int(netlink.FLAG_ONLINK)}); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, dst := range []string{"10.1.0.2", "169.254.169.253"} {
		e.digRefused("the internet asks A's resolver at "+dst, "internet", a.vpc, "inet-probe-"+dashed(dst)+".example", "@"+dst)
		e.digRefused("the internet asks A's resolver at "+dst+" (TCP)", "internet", a.vpc, "inet-probe-tcp-"+dashed(dst)+".example", "@"+dst, "+tcp")
	}
}

// TestVPCResolverIPv6: an IPv6 instance asks the resolver at fd00:ec2::253 (UDP and
// TCP); the resource name of an instance whose subnet gives AAAA records (and no A
// record) answers its IPv6 address, and nothing for A.
func TestVPCResolverIPv6(t *testing.T) {
	requireDig(t)
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	assoc, err := e.ec2.AssociateVpcCidrBlock(ctx(), &ec2.AssociateVpcCidrBlockInput{VpcId: aws.String(vpc), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	e.must(err)
	sub64 := subnet64(t, *assoc.Ipv6CidrBlockAssociation.Ipv6CidrBlock, 1)
	sub, err := e.ec2.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.1.0/24"),
		Ipv6CidrBlock: aws.String(sub64), AvailabilityZone: aws.String(testAZ)})
	e.must(err)
	for _, in := range []*ec2.ModifySubnetAttributeInput{
		{PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeResourceName},
		{EnableResourceNameDnsAAAARecordOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}},
	} {
		in.SubnetId = sub.Subnet.SubnetId
		_, err := e.ec2.ModifySubnetAttribute(ctx(), in)
		e.must(err)
	}
	r, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: sub.Subnet.SubnetId, Ipv6AddressCount: aws.Int32(1)})
	e.must(err)
	inst := *r.Instances[0].InstanceId
	e.waitRunning(inst)
	eni := e.primaryENI(inst)
	if len(eni.Ipv6Addresses) != 1 {
		t.Fatalf("IPv6 addresses of %s: %+v", inst, eni.Ipv6Addresses)
	}
	v6, v4 := *eni.Ipv6Addresses[0].Ipv6Address, *eni.PrivateIpAddress
	name := inst + ".ec2.internal"
	for _, proto := range []string{"+notcp", "+tcp"} {
		e.wantDig(inst, "NOERROR", []string{name + " AAAA " + v6}, "@fd00:ec2::253", proto, name, "AAAA")
	}
	e.wantDig(inst, "NOERROR", nil, "@fd00:ec2::253", name, "A")
	e.wantDig(inst, "NOERROR", []string{"ip-" + dashed(v4) + ".ec2.internal A " + v4}, "@fd00:ec2::253", "ip-"+dashed(v4)+".ec2.internal")
}
