package e2e

import (
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/dataplane"
	"github.com/eni-net/eni/internal/devcluster"
	"github.com/eni-net/eni/internal/etcdtest"
)

// clusterEnv is a cluster on this machine, as eni dev-cluster makes it but with
// each process in the test's hands: an embedded etcd, one `eni serve --store
// etcd --cluster`, and N hosts — namespaces on an underlay switch — each with
// its `eni agent` process (data plane prefix PREFIX+i).
type clusterEnv struct {
	*env   // the API's client; env.plane names and enters namespaces
	ul     *devcluster.Underlay
	etcd   []string
	bin    string
	dir    string
	prefix string
	zones  int
	agents []*exec.Cmd // by host - 1
	apiCmd *exec.Cmd
	url    string
}

// clusterLease is the hosts' lease in the tests: a killed agent's host is gone
// after it.
const clusterLease = 2

// newCluster starts a cluster of n hosts spread over zones zones (host i in
// zone (i-1) % zones), and removes all of it at the end of the test.
func newCluster(t testing.TB, n, zones int) *clusterEnv {
	t.Helper()
	return newClusterServe(t, n, zones)
}

// newClusterServe is newCluster with more flags for eni serve.
func newClusterServe(t testing.TB, n, zones int, serveArgs ...string) *clusterEnv {
	t.Helper()
	requireNetAdmin(t)
	b := make([]byte, 2)
	_, _ = rand.Read(b) // crypto/rand never fails
	prefix := "k"
	for _, x := range b {
		prefix += string(prefixLetters[int(x)%len(prefixLetters)])
	}
	bin := eniBinary(t) // before the underlay: a failed build leaves nothing behind
	ec := etcdtest.Start(t, 1)
	ul, err := devcluster.New(prefix, n)
	if err != nil {
		t.Fatal(err)
	}
	c := &clusterEnv{ul: ul, etcd: ec.Endpoints, bin: bin, dir: t.TempDir(), prefix: prefix, zones: zones, agents: make([]*exec.Cmd, n)}
	t.Cleanup(c.close(t))
	addr := freeAddr(t)
	c.url = "http://" + addr
	c.apiCmd = c.start(t, append([]string{"serve", "--store", "etcd", "--cluster", "--listen", addr, "--data", filepath.Join(c.dir, "api")}, serveArgs...)...)
	waitHTTP(t, c.url+"/healthz", "writer")                              // elected: it takes writes
	plane, err := dataplane.New(dataplane.Options{Prefix: prefix + "1"}) // names and namespaces only
	if err != nil {
		t.Fatal(err)
	}
	c.env = &env{t: t, ec2: apitest.NewClient(c.url, "us-east-1", "test", "test"), plane: plane, prefix: prefix + "1"}
	for i := 1; i <= n; i++ {
		c.startAgent(i)
	}
	return c
}

// start runs `eni args...` with the cluster's etcd flags.
func (c *clusterEnv) start(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	args = append(args, "--etcd-endpoints", strings.Join(c.etcd, ","), "--etcd-max-txn-ops", fmt.Sprint(etcdtest.MaxTxnOps), "--log-level", clusterLogLevel())
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = &testLogWriter{t: t}, &testLogWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// hostPrefix is host i's data plane prefix.
func (c *clusterEnv) hostPrefix(i int) string { return fmt.Sprintf("%s%d", c.prefix, i) }

// zone is host i's zone.
func (c *clusterEnv) zone(i int) string { return "us-east-1" + string(rune('a'+(i-1)%c.zones)) }

// startAgent starts host i's agent and waits until it serves /healthz.
func (c *clusterEnv) startAgent(i int) {
	c.t.Helper()
	addr := freeAddr(c.t)
	c.agents[i-1] = c.start(c.t, "agent", "--host", fmt.Sprintf("h%d", i), "--az", c.zone(i), "--underlay-ip", c.ul.HostIP(i).String(),
		"--underlay-netns", c.ul.HostNSPath(i), "--dataplane-prefix", c.hostPrefix(i), "--listen", addr,
		"--lease", fmt.Sprint(clusterLease))
	waitHTTP(c.t, "http://"+addr+"/healthz", "ok")
}

// killAgent ends host i's agent with SIGKILL.
func (c *clusterEnv) killAgent(i int) {
	if a := c.agents[i-1]; a != nil && a.Process != nil {
		_ = a.Process.Kill()
		_ = a.Wait()
		c.agents[i-1] = nil
	}
}

func (c *clusterEnv) close(t testing.TB) func() {
	return func() {
		for i := range c.agents {
			if a := c.agents[i]; a != nil {
				_ = a.Process.Signal(syscall.SIGTERM)
				_ = a.Wait()
			}
		}
		if c.apiCmd != nil {
			_ = c.apiCmd.Process.Kill()
			_ = c.apiCmd.Wait()
		}
		for i := 1; i <= c.ul.Hosts; i++ {
			if out, err := exec.Command(c.bin, "cleanup", "--prefix", c.hostPrefix(i), "--force").CombinedOutput(); err != nil {
				t.Errorf("eni cleanup: %v: %s", err, out)
			}
		}
		if err := c.ul.Close(); err != nil {
			t.Errorf("underlay: %v", err)
		}
		ents, _ := os.ReadDir(netnsDir)
		for _, d := range ents {
			if strings.HasPrefix(d.Name(), c.prefix) {
				t.Errorf("namespace %s left behind", d.Name())
			}
		}
	}
}

// hostOf is the host whose namespaces hold the instance (0: none).
func (c *clusterEnv) hostOf(id string) int {
	for i := 1; i <= c.ul.Hosts; i++ {
		if _, err := os.Stat(filepath.Join(netnsDir, c.hostPrefix(i)+"-"+id)); err == nil {
			return i
		}
	}
	return 0
}

// ns is the instance's namespace, on whichever host holds it.
func (c *clusterEnv) ns(id string) string {
	c.t.Helper()
	h := c.hostOf(id)
	if h == 0 {
		c.t.Fatalf("%s is on no host", id)
	}
	return c.hostPrefix(h) + "-" + id
}

// launchIn runs one instance in subnet and waits until it is running.
func (c *clusterEnv) launchIn(subnet string, groups ...string) string {
	c.t.Helper()
	id := c.launch(subnet, groups...)
	c.waitRunning(id)
	return id
}

// status is the instance's DescribeInstanceStatus system and instance status.
func (c *clusterEnv) status(id string) string {
	c.t.Helper()
	out, err := c.ec2.DescribeInstanceStatus(ctx(), &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
	c.must(err)
	if len(out.InstanceStatuses) != 1 {
		return "none"
	}
	s := out.InstanceStatuses[0]
	return string(s.SystemStatus.Status) + "/" + string(s.InstanceStatus.Status)
}

// healthy: both status checks ok, or initializing (an instance's first
// core.StatusCheckDelay).
func healthy(st string) bool { return st == "ok/ok" || st == "initializing/initializing" }

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHTTP waits until url answers 200 with a line want.
func waitHTTP(t testing.TB, url, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && slices.Contains(strings.Split(string(body), "\n"), want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy within 60s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterAcrossHosts: two hosts in one zone; instances of one subnet are
// placed on both (least loaded first) and talk over the VXLAN underlay,
// security groups enforced on the receiving host; routed traffic between
// subnets crosses hosts; an ENI moved from an instance on host 1 to one on
// host 2 takes its traffic with it.
func TestClusterAcrossHosts(t *testing.T) {
	c := newCluster(t, 2, 1)
	vpc := c.vpc("10.71.0.0/16")
	s1 := c.subnet(vpc, "10.71.1.0/24")
	s2 := c.subnet(vpc, "10.71.2.0/24")
	web := c.sg(vpc, "web", 7000, "10.71.0.0/16")
	a, b := c.launchIn(s1, web), c.launchIn(s1, web)
	if ha, hb := c.hostOf(a), c.hostOf(b); ha == hb || ha == 0 || hb == 0 {
		t.Fatalf("placement: %s on host %d, %s on host %d; want one on each", a, ha, b, hb)
	}
	for _, id := range []string{a, b} {
		if az := aws.ToString(c.instance(id).Placement.AvailabilityZone); az != "us-east-1a" {
			t.Errorf("%s Placement.AvailabilityZone %q", id, az)
		}
	}
	ipB := *c.primaryENI(b).PrivateIpAddress
	c.serve(c.ns(b), 7000, "b")
	c.serve(c.ns(b), 7001, "b-closed")
	c.reach(c.ns(a), net.JoinHostPort(ipB, "7000"), "b")
	c.noReach(c.ns(a), net.JoinHostPort(ipB, "7001")) // the group opens 7000 only, enforced on b's host

	// Across subnets: the host of the s1 instance not beside it routes to s2.
	other := c.launchIn(s2, web)
	far := a
	if c.hostOf(other) == c.hostOf(a) {
		far = b
	}
	c.serve(c.ns(other), 7000, "other")
	c.reach(c.ns(far), net.JoinHostPort(*c.primaryENI(other).PrivateIpAddress, "7000"), "other")

	// A move between hosts: the ENI answers from wherever it is attached.
	e := c.createENI(s1, web)
	ip := net.JoinHostPort(*e.PrivateIpAddress, "7000")
	c.serve(c.ns(a), 7000, a)
	att := c.attach(*e.NetworkInterfaceId, a, 1)
	c.reach(c.ns(other), ip, a)
	c.detach(att)
	c.waitFor("detached", func() (bool, string) {
		n, _ := c.eni(*e.NetworkInterfaceId)
		return n.Status == types.NetworkInterfaceStatusAvailable, string(n.Status)
	})
	start := time.Now()
	c.attach(*e.NetworkInterfaceId, b, 1)
	c.reach(c.ns(other), ip, "b") // b's listener on 7000 answers "b"
	t.Logf("moved from host %d to host %d: answered there %v after the attach reply", c.hostOf(a), c.hostOf(b), time.Since(start).Round(time.Millisecond))
	for _, id := range []string{a, b, other} {
		if st := c.status(id); !healthy(st) {
			t.Errorf("%s status %s, want ok (or initializing, its first %v)", id, st, core.StatusCheckDelay)
		}
	}
}

// TestClusterAgentKill9: killing a host's agent with SIGKILL leaves its
// instances forwarding (an established connection across hosts goes on);
// once its lease runs out the API reports them impaired; the other host's
// agent restarting meanwhile keeps forwarding to it; the restarted agent
// takes the host back (status ok) without breaking the connection.
func TestClusterAgentKill9(t *testing.T) {
	c := newCluster(t, 2, 1)
	vpc := c.vpc("10.72.0.0/16")
	s := c.subnet(vpc, "10.72.1.0/24")
	open := c.sgOpen(vpc, "open", "10.72.0.0/16")
	a, b := c.launchIn(s, open), c.launchIn(s, open)
	hb := c.hostOf(b)
	echoTCP(t, c.plane, c.ns(b), 9000)
	// Running says b's host has made b; a's host learns of it from etcd, on a pass of
	// its own that may come later (CI once dialled before it, once, and failed).
	var conn net.Conn
	c.waitFor(a+" connected to "+b+" across hosts", func() (bool, string) {
		var err error
		conn, err = c.dialIn(c.ns(a), net.JoinHostPort(*c.primaryENI(b).PrivateIpAddress, "9000"))
		return err == nil, fmt.Sprint(err)
	})
	defer conn.Close()
	echo := lineEcho(t, conn, "the connection across hosts")
	echo("before")
	c.killAgent(hb)
	echo("agent killed")
	c.waitFor(b+" impaired once its host's lease ran out", func() (bool, string) {
		st := c.status(b)
		return st == "impaired/impaired", st
	})
	if st := c.status(a); !healthy(st) {
		t.Errorf("%s on the live host: %s", a, st)
	}
	echo("host gone from the API")
	// The other host's agent restarts meanwhile: it still knows where b's host is
	// (the hosts' addresses outlive their leases) and keeps forwarding to it.
	ha := c.hostOf(a)
	c.killAgent(ha)
	c.startAgent(ha)
	echo("the other host's agent restarted while this one is gone")
	c.startAgent(hb)
	c.waitFor(b+" ok again", func() (bool, string) {
		st := c.status(b)
		return healthy(st), st
	})
	// The restarted agent has made its passes once an instance launched after it is
	// reachable from the other host.
	probe := c.launchIn(s, open)
	c.serve(c.ns(probe), 80, "probe")
	c.reach(c.ns(a), net.JoinHostPort(*c.primaryENI(probe).PrivateIpAddress, "80"), "probe")
	echo("after the restart")
}

// TestClusterUnderlayCut: a host whose underlay link is cut keeps its own
// instances talking to each other, instances on other hosts get no answer
// from it (no error either: the packets are lost, as with a pulled cable),
// and everything answers again once the link is back. Its agent still
// reaches etcd (here over loopback), so the API reports its instances ok:
// the API knows hosts by their leases, not by the data path.
func TestClusterUnderlayCut(t *testing.T) {
	c := newCluster(t, 2, 1)
	vpc := c.vpc("10.73.0.0/16")
	s := c.subnet(vpc, "10.73.1.0/24")
	open := c.sgOpen(vpc, "open", "10.73.0.0/16")
	var ids []string
	for range 4 { // least loaded first: two on each host
		ids = append(ids, c.launchIn(s, open))
	}
	byHost := map[int][]string{}
	for _, id := range ids {
		byHost[c.hostOf(id)] = append(byHost[c.hostOf(id)], id)
		c.serve(c.ns(id), 7000, id)
	}
	if len(byHost[1]) != 2 || len(byHost[2]) != 2 {
		t.Fatalf("placement %v, want two on each host", byHost)
	}
	addr := func(id string) string { return net.JoinHostPort(*c.primaryENI(id).PrivateIpAddress, "7000") }
	h1, h2 := byHost[1], byHost[2]
	c.reach(c.ns(h1[0]), addr(h2[0]), h2[0])
	if err := c.ul.Cut(2, true); err != nil {
		t.Fatal(err)
	}
	c.noReach(c.ns(h1[0]), addr(h2[0]))
	c.noReach(c.ns(h2[1]), addr(h1[1]))
	c.reach(c.ns(h2[0]), addr(h2[1]), h2[1]) // on the cut host, among themselves
	c.reach(c.ns(h1[0]), addr(h1[1]), h1[1])
	if st := c.status(h2[0]); !healthy(st) {
		t.Errorf("%s on the cut host: %s (its agent still holds its lease)", h2[0], st)
	}
	if err := c.ul.Cut(2, false); err != nil {
		t.Fatal(err)
	}
	c.reach(c.ns(h1[0]), addr(h2[0]), h2[0])
	c.reach(c.ns(h2[1]), addr(h1[1]), h1[1])
}

// TestClusterIPv6: instances of an IPv6 subnet on two hosts reach each other by
// their IPv6 addresses (neighbour solicitations answered by the VXLAN port from
// state), in the subnet and across subnets.
func TestClusterIPv6(t *testing.T) {
	c := newCluster(t, 2, 1)
	out, err := c.ec2.CreateVpc(ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.75.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	c.must(err)
	vpc := *out.Vpc.VpcId
	block := netip.MustParsePrefix(*out.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock)
	var subnets []string
	for k := range 2 {
		b := block.Addr().As16()
		b[7] = byte(k)
		sn, err := c.ec2.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(fmt.Sprintf("10.75.%d.0/24", k+1)),
			Ipv6CidrBlock: aws.String(netip.PrefixFrom(netip.AddrFrom16(b), 64).String()), AvailabilityZone: aws.String("us-east-1a")})
		c.must(err)
		subnets = append(subnets, *sn.Subnet.SubnetId)
	}
	open := c.sgOpen(vpc, "open", "10.75.0.0/16")
	_, err = c.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(open),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String(block.String())}}}}})
	c.must(err)
	launch6 := func(subnet string) string {
		ri, err := c.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{open}, Ipv6AddressCount: aws.Int32(1)})
		c.must(err)
		id := *ri.Instances[0].InstanceId
		c.waitRunning(id)
		return id
	}
	a, b := launch6(subnets[0]), launch6(subnets[0])
	if c.hostOf(a) == c.hostOf(b) {
		t.Fatalf("%s and %s on one host", a, b)
	}
	other := launch6(subnets[1])
	far := a
	if c.hostOf(other) == c.hostOf(a) {
		far = b
	}
	ip6 := func(id string) string { return *c.primaryENI(id).Ipv6Addresses[0].Ipv6Address }
	c.serve(c.ns(b), 7000, "b")
	c.serve(c.ns(other), 7000, "other")
	c.reach(c.ns(a), net.JoinHostPort(ip6(b), "7000"), "b")
	c.reach(c.ns(far), net.JoinHostPort(ip6(other), "7000"), "other")
}

// TestClusterElasticIPFollowsMove: an ENI with an Elastic IP answers at that
// address from the simulated internet of every host (the hosts' internet
// namespaces are joined by a VXLAN segment; the 1:1 NAT is done by the VPC
// router of the host the ENI is on), before and after a move to an instance
// on the other host.
func TestClusterElasticIPFollowsMove(t *testing.T) {
	c := newCluster(t, 2, 1)
	vpc := c.vpc("10.76.0.0/16")
	s := c.subnet(vpc, "10.76.1.0/24")
	c.publicRoutes(vpc, s, c.igw(vpc))
	web := c.sg(vpc, "web", 7000, "0.0.0.0/0")
	a, b := c.launchIn(s, web), c.launchIn(s, web)
	ha, hb := c.hostOf(a), c.hostOf(b)
	if ha == hb {
		t.Fatalf("%s and %s on one host", a, b)
	}
	e := c.createENI(s, web)
	alloc, err := c.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	c.must(err)
	_, err = c.ec2.AssociateAddress(ctx(), &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, NetworkInterfaceId: e.NetworkInterfaceId})
	c.must(err)
	eip := net.JoinHostPort(*alloc.PublicIp, "7000")
	inet := func(h int) string { return c.hostPrefix(h) + "-inet" }
	c.serve(c.ns(a), 7000, "a")
	c.serve(c.ns(b), 7000, "b")
	att := c.attach(*e.NetworkInterfaceId, a, 1)
	c.reach(inet(ha), eip, "a")
	c.reach(inet(hb), eip, "a")
	c.detach(att)
	c.waitFor("detached", func() (bool, string) {
		n, _ := c.eni(*e.NetworkInterfaceId)
		return n.Status == types.NetworkInterfaceStatusAvailable, string(n.Status)
	})
	c.attach(*e.NetworkInterfaceId, b, 1)
	c.reach(inet(hb), eip, "b")
	c.reach(inet(ha), eip, "b")
}

// TestDevClusterCommand runs the README's `eni dev-cluster`: its API answers,
// an instance launched through it comes up on one of its hosts, and Ctrl-C
// (SIGINT) stops everything and removes every namespace it made.
func TestDevClusterCommand(t *testing.T) {
	requireNetAdmin(t)
	b := make([]byte, 2)
	_, _ = rand.Read(b) // crypto/rand never fails
	prefix := "d"
	for _, x := range b {
		prefix += string(prefixLetters[int(x)%len(prefixLetters)])
	}
	addr := freeAddr(t)
	cmd := exec.Command(eniBinary(t), "dev-cluster", "--hosts", "2", "--prefix", prefix, "--listen", addr)
	ready := &lineWatch{want: "dev-cluster: ready", seen: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &testLogWriter{t: t}, io.MultiWriter(&testLogWriter{t: t}, ready)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		for i := 1; i <= 2; i++ {
			_ = exec.Command(eniBinary(t), "cleanup", "--prefix", fmt.Sprintf("%s%d", prefix, i), "--force").Run()
		}
		_ = (&devcluster.Underlay{Prefix: prefix, Hosts: 2}).Close()
	})
	select { // the API elected, every host registered and through its first pass
	case <-ready.seen:
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("dev-cluster exited: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("dev-cluster not ready within 90s")
	}
	plane, err := dataplane.New(dataplane.Options{Prefix: prefix + "1"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ec2: apitest.NewClient("http://"+addr, "us-east-1", "test", "test"), plane: plane, prefix: prefix + "1"}
	vpc := e.vpc("10.77.0.0/16")
	id := e.launch(e.subnet(vpc, "10.77.1.0/24"))
	e.waitRunning(id)
	found := false
	for i := 1; i <= 2; i++ {
		if _, err := os.Stat(filepath.Join(netnsDir, fmt.Sprintf("%s%d-%s", prefix, i, id))); err == nil {
			found = true
		}
	}
	if !found {
		t.Fatalf("%s is running but on no host of the dev cluster", id)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		done <- err // for the cleanup
		if err != nil {
			t.Errorf("dev-cluster after Ctrl-C: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("dev-cluster did not stop within 60s of Ctrl-C")
	}
	ents, _ := os.ReadDir(netnsDir)
	for _, d := range ents {
		if strings.HasPrefix(d.Name(), prefix) {
			t.Errorf("namespace %s left after dev-cluster stopped", d.Name())
		}
	}
}

// clusterLogLevel is the processes' --log-level: $ENI_TEST_LOG (info shows each
// agent's passes and their duration), else warn.
func clusterLogLevel() string {
	if v := os.Getenv("ENI_TEST_LOG"); v != "" {
		return v
	}
	return "warn"
}

// lineWatch closes seen once a write holds want.
type lineWatch struct {
	want string
	seen chan struct{}
	buf  []byte
	once sync.Once
}

func (w *lineWatch) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	if strings.Contains(string(w.buf), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	if len(w.buf) > 4096 {
		w.buf = w.buf[len(w.buf)-len(w.want):]
	}
	return len(b), nil
}
