package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsimds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/vishvananda/netlink"

	"github.com/eni-net/eni/internal/imds"
)

// askLog records the ENIs the metadata service was asked through.
type askLog struct {
	mu   sync.Mutex
	enis []string
}

func (l *askLog) add(eni string) {
	l.mu.Lock()
	l.enis = append(l.enis, eni)
	l.mu.Unlock()
}

func (l *askLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.enis[n:])
}

func (l *askLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.enis)
}

// httpIn is an HTTP client whose connections are opened inside the namespace (from
// local, if set).
func (e *env) httpIn(nsname string, local net.Addr, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: local, Timeout: timeout}
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := e.plane.Do(nsname, func() error {
			var err error
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// imdsIn is the SDK's IMDS client (IMDSv2, no fallback) inside the instance.
func (e *env) imdsIn(inst string, mode awsimds.EndpointModeState) *awsimds.Client {
	return awsimds.New(awsimds.Options{EndpointMode: mode, EnableFallback: aws.FalseTernary,
		HTTPClient: e.httpIn(e.plane.InstanceNS(inst), nil, 3*time.Second)})
}

func (e *env) imdsGet(c *awsimds.Client, path string) (string, error) {
	out, err := c.GetMetadata(ctx(), &awsimds.GetMetadataInput{Path: path})
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(out.Content)
	return string(b), err
}

// mustIMDS is path's content, waited for until it is want (the agent realises the
// router's listeners and rules asynchronously).
func (e *env) mustIMDS(c *awsimds.Client, path, want string) {
	e.t.Helper()
	e.waitFor(path+" = "+want, func() (bool, string) {
		got, err := e.imdsGet(c, path)
		if err != nil {
			return false, err.Error()
		}
		return got == want, got
	})
}

// rawIMDS sends one request from inside the namespace (from local, if set).
func (e *env) rawIMDS(nsname string, local net.Addr, method, url string, hdr map[string]string, timeout time.Duration) (int, string, error) {
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.httpIn(nsname, local, timeout).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

const imdsURL = "http://169.254.169.254/latest/"

// TestMetadataService: every instance reaches 169.254.169.254 with the SDK's IMDS
// client and curl and reads its own metadata (a security group without egress rules
// does not stop it, as on AWS); an ENI attached shows at once, and a request through
// a secondary ENI is answered for the same instance.
func TestMetadataService(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	closed := e.sg(vpc, "closed", 0)
	_, err := e.ec2.RevokeSecurityGroupEgress(ctx(), &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(closed),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	e.must(err)
	a, b := e.launch(subnet, closed), e.launch(subnet)
	e.waitRunning(a, b)
	ca, cb := e.imdsIn(a, awsimds.EndpointModeStateIPv4), e.imdsIn(b, awsimds.EndpointModeStateIPv4)
	e.mustIMDS(ca, "instance-id", a)
	e.mustIMDS(cb, "instance-id", b)
	eniA := e.primaryENI(a)
	e.mustIMDS(ca, "network/interfaces/macs/", *eniA.MacAddress+"/")
	e.mustIMDS(ca, "local-ipv4", *eniA.PrivateIpAddress)

	if _, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command("ip", "netns", "exec", e.plane.InstanceNS(b), "curl", "-sS", "--max-time", "5", imdsURL+"meta-data/instance-id").CombinedOutput()
		if err != nil || string(out) != b {
			t.Errorf("curl in %s: %q %v", b, out, err)
		}
	} else {
		t.Log("curl not installed: only the SDK's client asked")
	}

	// Hot-plug: the MAC is listed as soon as AttachNetworkInterface has answered.
	eth1 := e.createENI(subnet)
	e.attach(*eth1.NetworkInterfaceId, a, 1)
	got, err := e.imdsGet(ca, "network/interfaces/macs/")
	if err != nil || !slices.Contains(strings.Split(got, "\n"), *eth1.MacAddress+"/") {
		t.Errorf("macs/ right after the attach: %q %v, want %s listed", got, err, *eth1.MacAddress)
	}
	// A request through eth1 (its address as source: policy routing sends it out eth1)
	// is answered for the same instance, as through eth0.
	e.waitFor("eth1 in "+a, func() (bool, string) { _, ok := e.ifaceIn(e.plane.InstanceNS(a), "eth1"); return ok, "" })
	n0 := e.asked.len()
	local := &net.TCPAddr{IP: net.ParseIP(*eth1.PrivateIpAddress)}
	e.waitFor("instance-id through eth1", func() (bool, string) {
		st, body, err := e.rawIMDS(e.plane.InstanceNS(a), local, "GET", imdsURL+"meta-data/instance-id", nil, 2*time.Second)
		return err == nil && st == 200 && body == a, body
	})
	if asked := e.asked.since(n0); !slices.Contains(asked, *eth1.NetworkInterfaceId) {
		t.Errorf("asked through %v, want eth1's %s among them", asked, *eth1.NetworkInterfaceId)
	}
}

// TestAttackMetadataSpoofing: root in instance A, whose source/dest check is off, asks
// the metadata service as B (B's address as source, then B's MAC as well, then with
// B's session token): A never gets anything of B's, and the service is never asked
// through B's ENI.
func TestAttackMetadataSpoofing(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	a, b := e.launch(subnet), e.launch(subnet)
	e.waitRunning(a, b)
	eniA, eniB := e.primaryENI(a), e.primaryENI(b)
	_, err := e.ec2.ModifyNetworkInterfaceAttribute(ctx(), &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: eniA.NetworkInterfaceId, SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
	e.must(err)
	nsA, nsB := e.plane.InstanceNS(a), e.plane.InstanceNS(b)
	ca, cb := e.imdsIn(a, awsimds.EndpointModeStateIPv4), e.imdsIn(b, awsimds.EndpointModeStateIPv4)
	e.mustIMDS(ca, "instance-id", a)
	e.mustIMDS(cb, "instance-id", b)
	e.settle()
	bIP := netip.MustParseAddr(*eniB.PrivateIpAddress)
	sniff := e.sniff(nsA, "eth0", func(p pkt) bool { return strings.Contains(string(p.raw), b) })

	// B's address on A's eth0, used as the source of a request.
	e.must(e.plane.DoInstance(a, func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: bIP.AsSlice(), Mask: net.CIDRMask(32, 32)}})
	}))
	n0 := e.asked.len()
	fromB := &net.TCPAddr{IP: bIP.AsSlice()}
	if st, body, err := e.rawIMDS(nsA, fromB, "GET", imdsURL+"meta-data/instance-id", nil, failTimeout); err == nil {
		t.Errorf("A asking from B's address got %d %q", st, body)
	}

	// B's MAC as well.
	e.must(e.plane.DoInstance(a, func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.LinkSetHardwareAddr(l, mustMAC(*eniB.MacAddress))
	}))
	if st, body, err := e.rawIMDS(nsA, fromB, "GET", imdsURL+"meta-data/instance-id", nil, failTimeout); err == nil {
		t.Errorf("A asking with B's MAC and address got %d %q", st, body)
	}
	if st, body, err := e.rawIMDS(nsA, nil, "GET", imdsURL+"meta-data/instance-id", nil, failTimeout); err == nil {
		t.Errorf("A asking with B's MAC got %d %q", st, body)
	}
	if asked := e.asked.since(n0); slices.Contains(asked, *eniB.NetworkInterfaceId) {
		t.Errorf("the metadata service was asked through B's ENI during A's attempts: %v", asked)
	}
	e.fullPass() // A's MAC back
	e.mustIMDS(ca, "instance-id", a)

	// B's session token is no good in A.
	st, tok, err := e.rawIMDS(nsB, nil, "PUT", imdsURL+"api/token", map[string]string{imds.TokenTTLHeader: "60"}, 3*time.Second)
	if err != nil || st != 200 {
		t.Fatalf("B's token: %d %v", st, err)
	}
	if st, body, err := e.rawIMDS(nsA, nil, "GET", imdsURL+"meta-data/instance-id", map[string]string{imds.TokenHeader: tok}, 3*time.Second); err != nil || st != 401 {
		t.Errorf("A with B's token: %d %q %v, want 401", st, body, err)
	}
	if got := sniff.all(); len(got) > 0 {
		t.Errorf("A received %d packets holding B's instance id, first %v", len(got), got[0])
	}
}

// TestMetadataIPv6 reaches [fd00:ec2::254] from an IPv6 ENI whose instance has the
// IPv6 endpoint enabled; with it disabled, nothing answers there.
func TestMetadataIPv6(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	assoc, err := e.ec2.AssociateVpcCidrBlock(ctx(), &ec2.AssociateVpcCidrBlockInput{VpcId: aws.String(vpc), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	e.must(err)
	block := *assoc.Ipv6CidrBlockAssociation.Ipv6CidrBlock
	sub64 := subnet64(t, block, 1)
	out, err := e.ec2.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.1.0/24"),
		Ipv6CidrBlock: aws.String(sub64), AvailabilityZone: aws.String(testAZ)})
	e.must(err)
	launch := func(v6 types.InstanceMetadataProtocolState) string {
		r, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: out.Subnet.SubnetId, Ipv6AddressCount: aws.Int32(1),
			MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpProtocolIpv6: v6}})
		e.must(err)
		return *r.Instances[0].InstanceId
	}
	on, off := launch(types.InstanceMetadataProtocolStateEnabled), launch(types.InstanceMetadataProtocolStateDisabled)
	e.waitRunning(on, off)
	e.mustIMDS(e.imdsIn(on, awsimds.EndpointModeStateIPv6), "instance-id", on)
	e.mustIMDS(e.imdsIn(off, awsimds.EndpointModeStateIPv4), "instance-id", off)
	st, body, err := e.rawIMDS(e.plane.InstanceNS(off), nil, "GET", "http://[fd00:ec2::254]/latest/meta-data/instance-id", nil, failTimeout)
	if err == nil {
		t.Errorf("IPv6 endpoint with HttpProtocolIpv6 disabled answered %d %q", st, body)
	}
	_, err = e.ec2.ModifyInstanceMetadataOptions(ctx(), &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(off),
		HttpProtocolIpv6: types.InstanceMetadataProtocolStateEnabled})
	e.must(err)
	e.mustIMDS(e.imdsIn(off, awsimds.EndpointModeStateIPv6), "instance-id", off)
}

// BenchmarkMetadataShowsChange: the time from the API's reply to an attach, an
// address assignment, an Elastic IP association and a detach until the instance's
// metadata service shows it.
func BenchmarkMetadataShowsChange(b *testing.B) {
	e := newEnv(b)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	e.publicRoutes(vpc, subnet, e.igw(vpc))
	inst := e.launch(subnet)
	e.waitRunning(inst)
	c := e.imdsIn(inst, awsimds.EndpointModeStateIPv4)
	e.mustIMDS(c, "instance-id", inst)
	eni := e.createENI(subnet)
	alloc, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	dir := "network/interfaces/macs/" + *eni.MacAddress + "/"
	// shows polls path until cond holds and returns the time since start.
	shows := func(start time.Time, path string, cond func(string, error) bool) time.Duration {
		for time.Since(start) < eventually {
			if cond(e.imdsGet(c, path)) {
				return time.Since(start)
			}
		}
		b.Fatalf("%s: not shown within %s", path, eventually)
		return 0
	}
	var sums [4]time.Duration
	b.ResetTimer()
	for range b.N {
		att := e.attach(*eni.NetworkInterfaceId, inst, 1)
		sums[0] += shows(time.Now(), dir+"device-number", func(s string, err error) bool { return err == nil && s == "1" })
		out, err := e.ec2.AssignPrivateIpAddresses(ctx(), &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: aws.Int32(1)})
		e.must(err)
		ip := *out.AssignedPrivateIpAddresses[0].PrivateIpAddress
		sums[1] += shows(time.Now(), dir+"local-ipv4s", func(s string, err error) bool { return err == nil && strings.Contains(s, ip) })
		_, err = e.ec2.AssociateAddress(ctx(), &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId})
		e.must(err)
		sums[2] += shows(time.Now(), dir+"public-ipv4s", func(s string, err error) bool { return err == nil && s == *alloc.PublicIp })
		_, err = e.ec2.DisassociateAddress(ctx(), &ec2.DisassociateAddressInput{PublicIp: alloc.PublicIp})
		e.must(err)
		_, err = e.ec2.UnassignPrivateIpAddresses(ctx(), &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: []string{ip}})
		e.must(err)
		e.detach(att)
		sums[3] += shows(time.Now(), dir+"device-number", func(s string, err error) bool { return err != nil })
		e.waitFor("detached", func() (bool, string) {
			n, ok := e.eni(*eni.NetworkInterfaceId)
			return ok && n.Status == types.NetworkInterfaceStatusAvailable, string(n.Status)
		})
	}
	b.StopTimer()
	for i, name := range []string{"attach-ms", "assign-ms", "eip-ms", "detach-ms"} {
		b.ReportMetric(float64(sums[i].Microseconds())/1000/float64(b.N), name)
	}
}

// TestAttackMetadataMovedENI: an ENI in instance A is detached and attached to B
// through the API while the data plane has not moved its link yet (the agent is
// stopped here; on a busy host a pass takes a while). Root in A, still holding the
// link, asks the metadata service through it: it must not be answered as B (B's
// identity, B's role's credentials). Once the plane has moved the link, B is.
func TestAttackMetadataMovedENI(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	a, b := e.launch(subnet), e.launch(subnet)
	e.waitRunning(a, b)
	x := e.createENI(subnet)
	att := e.attach(*x.NetworkInterfaceId, a, 1)
	e.settle()
	nsA, local := e.plane.InstanceNS(a), &net.TCPAddr{IP: net.ParseIP(*x.PrivateIpAddress)}
	e.waitFor("instance-id through the ENI in "+a, func() (bool, string) {
		st, body, err := e.rawIMDS(nsA, local, "GET", imdsURL+"meta-data/instance-id", nil, 2*time.Second)
		return err == nil && st == 200 && body == a, body
	})

	e.stopAgent()
	e.detach(att)
	e.waitFor("the ENI available", func() (bool, string) {
		n, _ := e.eni(*x.NetworkInterfaceId)
		return n.Status == types.NetworkInterfaceStatusAvailable, string(n.Status)
	})
	e.attach(*x.NetworkInterfaceId, b, 1)
	if _, ok := e.ifaceIn(nsA, "eth1"); !ok {
		t.Fatal("the ENI's link left A without a pass")
	}
	for range 3 {
		st, body, err := e.rawIMDS(nsA, local, "GET", imdsURL+"meta-data/instance-id", nil, 2*time.Second)
		if err == nil && st == 200 {
			t.Fatalf("A, through the ENI the API moved to B, got %d %q", st, body)
		}
	}

	e.startAgent(e.plane, nil)
	e.settle()
	nsB := e.plane.InstanceNS(b)
	e.waitFor("instance-id through the moved ENI in "+b, func() (bool, string) {
		st, body, err := e.rawIMDS(nsB, local, "GET", imdsURL+"meta-data/instance-id", nil, 2*time.Second)
		return err == nil && st == 200 && body == b, body
	})
}
