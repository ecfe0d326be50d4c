package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/netadmin/nettest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/agent"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/dataplane"
	"github.com/eni-net/eni/internal/imds"
	"github.com/eni-net/eni/internal/vpcdns"
)

// Timeouts of probes. A probe that must pass is retried (the agent realises
// changes asynchronously); one that must fail is made once, after the agent
// has settled.
const (
	dialTimeout   = 500 * time.Millisecond
	failTimeout   = 400 * time.Millisecond
	eventually    = 15 * time.Second // bound of every wait for a condition
	pollInterval  = 10 * time.Millisecond
	testAZ        = "us-east-1a"
	testImage     = "ami-0abcdef1234567890"
	testInstType  = types.InstanceTypeT3Small
	helperEnv     = "ENI_E2E_HELPER"
	netnsDir      = "/run/netns"
	prefixLetters = "abcdefghijklmnopqrstuvwxyz0123456789"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		os.Exit(runHelper(spec))
	}
	if name := os.Getenv(lookupEnv); name != "" {
		os.Exit(runLookup(name))
	}
	if os.Getenv(sdkEndpointEnv) != "" {
		os.Exit(runSDKEndpoint())
	}
	if os.Getenv(sdkCredsEnv) != "" {
		os.Exit(runSDKCreds()) // iam_linux_test.go
	}
	code := nettest.Main(m, "./internal/e2e")
	if binDir != "" {
		_ = os.RemoveAll(binDir) // a temporary build directory
	}
	os.Exit(code)
}

// runHelper is the command the task tests run inside a task's namespace:
// spec "name:port,port" listens on each port (all addresses), prints
// "listening" on stdout, answers each connection with "name remote-addr\n",
// and exits when its stdin closes.
func runHelper(spec string) int {
	name, ports, _ := strings.Cut(spec, ":")
	for _, port := range strings.Split(ports, ",") {
		ln, err := net.Listen("tcp", ":"+port)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 3
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				fmt.Fprintf(c, "%s %s\n", name, c.RemoteAddr())
				_ = c.Close() // one line per connection
			}
		}()
	}
	fmt.Println("listening")
	_, _ = io.Copy(io.Discard, os.Stdin) // until run-task's stdin closes
	return 0
}

// requireNetAdmin skips (fails under CI=true) when the process cannot create
// network namespaces.
func requireNetAdmin(tb testing.TB) { tb.Helper(); nettest.Require(tb, "./internal/e2e") }

// env is a server with a real data plane, driven through its EC2 API.
type env struct {
	t      testing.TB
	api    *apitest.Env
	ec2    *ec2.Client
	plane  *dataplane.Plane
	prefix string
	md     *imds.Server
	asked  askLog // the ENIs the metadata service was asked through
	// dnsAsked are the queries the VPC resolver was asked ("vpc-… name").
	dnsAsked askLog
	// planeOpts are the plane's options (a restarted plane takes them again).
	planeOpts dataplane.Options
	// endpointCADir holds the CA of the EC2 API's VPC endpoints, under sigv4
	// (vpcendpoint_linux_test.go).
	endpointCADir string

	agent atomic.Pointer[agent.Agent]
	stop  func() // stops the running agent
}

// taskLease is the tests' task lease: short, so that a killed run-task's
// task goes quickly, and long enough that a live one renews it in time
// (every second) even when a loaded machine delays a renewal by two.
const taskLease = 3 * time.Second

// newEnv starts the server (data plane mode), a plane with a unique prefix
// and an agent kicked after every commit. Cleanup stops the agent and tears
// the plane down, and fails if a namespace with the prefix is left.
func newEnv(t testing.TB) *env { t.Helper(); return newEnvWith(t, envOptions{}) }

// envOptions are the server options a test may ask of newEnvWith.
type envOptions struct {
	// sigv4: --auth sigv4 with the key "test test 123456789012" (the one
	// apitest's clients sign with), instance credentials in the metadata
	// service, and the API on the simulated internet (iam_linux_test.go).
	sigv4 bool
}

func newEnvWith(t testing.TB, o envOptions) *env {
	t.Helper()
	requireNetAdmin(t)
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand never fails
	prefix := "e"
	for _, c := range b {
		prefix += string(prefixLetters[int(c)%len(prefixLetters)])
	}
	e := &env{t: t, prefix: prefix}
	cfg := core.DefaultConfig()
	cfg.DataPlane = true
	sec := iamOptions(t, o.sigv4)
	e.api = apitest.New(t, apitest.Options{
		Config: &cfg, Authenticate: sec.authenticate, SessionIdentity: sec.identity,
		OnCommit: func() {
			if a := e.agent.Load(); a != nil {
				a.Kick()
			}
		},
		Tasks: func(id string) bool {
			a := e.agent.Load()
			return a != nil && a.Realised(id)
		},
		TaskWait: func(ctx context.Context, id string) bool {
			a := e.agent.Load()
			return a != nil && a.WaitRealised(ctx, id)
		},
		TaskLease: taskLease,
		Settle: func(ctx context.Context) error {
			if a := e.agent.Load(); a != nil {
				return a.Settle(ctx)
			}
			return nil
		},
	})
	e.ec2 = e.api.Client()
	reapCtx, stopReaper := context.WithCancel(context.Background())
	t.Cleanup(stopReaper)
	go e.api.API.ReapTasks(reapCtx, taskLease/5)
	var err error
	e.md = imds.New(imds.Options{Lookup: func(eni string) (core.MetadataView, bool) {
		e.asked.add(eni)
		return e.api.Core.InstanceMetadataOf("us-east-1", eni)
	}, Credentials: sec.issuer})
	resolver := vpcdns.New(vpcdns.Options{Resolve: func(vpc, name string) core.DNSAnswer {
		e.dnsAsked.add(vpc + " " + name)
		return e.api.Core.ResolveVPCDNS("us-east-1", vpc, name)
	}})
	e.planeOpts = dataplane.Options{Prefix: prefix, BridgePorts: testBridgePorts, Metadata: e.md, DNS: resolver, PublicAPI: sec.publicAPI(e), Endpoint: sec.endpoint(e)}
	e.plane, err = dataplane.New(e.planeOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if e.stop != nil {
			e.stop()
		}
		if err := e.plane.Teardown(context.Background()); err != nil {
			t.Errorf("teardown: %v", err)
		}
		if left := e.namespaces(); len(left) > 0 {
			t.Errorf("namespaces left after teardown: %v", left)
		}
	})
	e.startAgent(e.plane, nil)
	return e
}

// startAgent runs a new agent on plane (wrapped by wrap, if set) until the
// next stopAgent or the end of the test.
func (e *env) startAgent(plane agent.Realiser, wrap func(agent.Realiser) agent.Realiser) {
	e.t.Helper()
	if e.stop != nil {
		e.t.Fatal("startAgent: an agent is running")
	}
	if wrap != nil {
		plane = wrap(plane)
	}
	a := agent.New(agent.Options{
		Core: e.api.Core, Plane: plane, Region: "us-east-1", Account: e.api.Core.Config().DefaultAccount,
		Commit: e.api.API.Commit, Logger: slog.New(slog.NewTextHandler(&testLogWriter{t: e.t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		// Passes happen on kicks (every commit, or the test's): no drift pass
		// repairs what a test damaged before the test looks.
		Resync: time.Hour,
		// As eni serve --user-data: instances launched with user data run it.
		UserData: true,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	e.agent.Store(a)
	e.stop = func() {
		cancel()
		<-done
		e.agent.Store(nil)
		e.stop = nil
	}
}

// stopAgent stops the running agent (as a killed server would stop it).
func (e *env) stopAgent() {
	if e.stop != nil {
		e.stop()
	}
}

// testLogWriter sends the agent's warnings to the test log, and to the file
// $ENI_TEST_LOG_FILE if it is set (a benchmark's log is cut short).
type testLogWriter struct {
	t  testing.TB
	mu sync.Mutex
}

func (w *testLogWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimSpace(string(b)))
	if name := os.Getenv("ENI_TEST_LOG_FILE"); name != "" {
		if f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			_, _ = f.Write(b)
			_ = f.Close()
		}
	}
	return len(b), nil
}

// settle waits until a reconcile pass that started after the call has
// completed without error and without changes: the host matches the model.
func (e *env) settle() {
	e.t.Helper()
	deadline := time.Now().Add(eventually)
	var st dataplane.Status
	var err error
	for time.Now().Before(deadline) {
		a := e.agent.Load()
		if a == nil {
			e.t.Fatal("settle: no agent")
		}
		_, n0, _ := a.Status()
		for i := 1; i <= 2; i++ { // the pass n0+2 started after this call
			a.Kick()
			for {
				var n int
				st, n, err = a.Status()
				if n >= n0+i || time.Now().After(deadline) {
					break
				}
				time.Sleep(pollInterval)
			}
		}
		if err == nil && st.Changes == 0 {
			return
		}
	}
	e.t.Fatalf("the data plane did not settle within %s: last pass %d changes, err %v", eventually, st.Changes, err)
}

// fullPass runs the agent's drift pass by hand: the plane checks the whole
// host against the model (Verify, when it has an incremental Reconcile),
// repairing drift such as an interface changed by hand; then it settles.
func (e *env) fullPass() {
	e.t.Helper()
	d := agent.Desired(e.api.Core.HostView("us-east-1"))
	full := e.plane.Reconcile
	if v, ok := any(e.plane).(agent.Verifier); ok {
		full = v.Verify
	}
	if _, err := full(context.Background(), d); err != nil {
		e.t.Fatalf("full pass: %v", err)
	}
	e.settle()
}

// waitFor polls cond until it holds, or fails the test after `eventually`.
func (e *env) waitFor(what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(eventually)
	last := ""
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if detail != "" {
			last = detail
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within %s (last: %s)", what, eventually, last)
		}
		time.Sleep(pollInterval)
	}
}

// namespaces lists the named namespaces with the test's prefix.
func (e *env) namespaces() []string {
	ents, err := os.ReadDir(netnsDir)
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	var out []string
	for _, d := range ents {
		if strings.HasPrefix(d.Name(), e.prefix+"-") {
			out = append(out, d.Name())
		}
	}
	sort.Strings(out)
	return out
}

func (e *env) hasNS(name string) bool {
	_, err := os.Stat(filepath.Join(netnsDir, name))
	return err == nil
}

// --- traffic ---

// serve listens on port (all addresses) inside the namespace and answers each
// connection with "name remote-addr".
func (e *env) serve(nsname string, port int, name string) {
	e.t.Helper()
	var ln net.Listener
	err := e.plane.Do(nsname, func() error {
		var err error
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		e.t.Fatalf("listen on %d in %s: %v", port, nsname, err)
	}
	e.t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s %s\n", name, c.RemoteAddr())
			_ = c.Close() // one line per connection
		}
	}()
}

// dial connects from inside the namespace and returns the first line sent.
func (e *env) dial(nsname, addr string, timeout time.Duration) (string, error) {
	var c net.Conn
	err := e.plane.Do(nsname, func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr, timeout)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// reach retries a connection until it is answered by a server whose name
// starts with want, and returns the answer.
func (e *env) reach(from, addr, want string) string {
	e.t.Helper()
	var got string
	e.waitFor(fmt.Sprintf("%s → %s answered by %q", from, addr, want), func() (bool, string) {
		var err error
		got, err = e.dial(from, addr, dialTimeout)
		if err != nil {
			return false, err.Error()
		}
		return strings.HasPrefix(got, want+" "), "answered " + got
	})
	return got
}

// noReach makes one connection attempt and fails the test if it is answered.
// Call it after settle, and with a listener on the target, or it proves nothing.
func (e *env) noReach(from, addr string) {
	e.t.Helper()
	if got, err := e.dial(from, addr, failTimeout); err == nil {
		e.t.Fatalf("%s → %s answered %q, want no connection", from, addr, got)
	}
}

// link describes an interface inside a namespace.
type link struct {
	MAC   string
	Addrs []string // IPv4 addresses without prefix length, sorted
}

// ifaceIn returns the interface name inside the namespace, or ok=false.
func (e *env) ifaceIn(nsname, name string) (link, bool) {
	var l link
	var found bool
	err := e.plane.Do(nsname, func() error {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return nil // absent
		}
		found = true
		l.MAC = ifi.HardwareAddr.String()
		addrs, err := ifi.Addrs()
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				l.Addrs = append(l.Addrs, ipn.IP.String())
			}
		}
		sort.Strings(l.Addrs)
		return nil
	})
	if err != nil {
		return link{}, false
	}
	return l, found
}

// --- EC2 API ---

func ctx() context.Context { return context.Background() }

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) vpc(cidr string) string {
	e.t.Helper()
	out, err := e.ec2.CreateVpc(ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	e.must(err)
	return *out.Vpc.VpcId
}

func (e *env) subnet(vpc, cidr string) string {
	e.t.Helper()
	out, err := e.ec2.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr),
		AvailabilityZone: aws.String(testAZ)})
	e.must(err)
	return *out.Subnet.SubnetId
}

// igw creates an internet gateway, attaches it to vpc and returns its id.
func (e *env) igw(vpc string) string {
	e.t.Helper()
	out, err := e.ec2.CreateInternetGateway(ctx(), &ec2.CreateInternetGatewayInput{})
	e.must(err)
	id := *out.InternetGateway.InternetGatewayId
	_, err = e.ec2.AttachInternetGateway(ctx(), &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(id), VpcId: aws.String(vpc)})
	e.must(err)
	return id
}

// publicRoutes gives subnet a route table of its own with 0.0.0.0/0 → igw.
func (e *env) publicRoutes(vpc, subnet, igw string) {
	e.t.Helper()
	rt, err := e.ec2.CreateRouteTable(ctx(), &ec2.CreateRouteTableInput{VpcId: aws.String(vpc)})
	e.must(err)
	id := rt.RouteTable.RouteTableId
	_, err = e.ec2.CreateRoute(ctx(), &ec2.CreateRouteInput{RouteTableId: id, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igw)})
	e.must(err)
	_, err = e.ec2.AssociateRouteTable(ctx(), &ec2.AssociateRouteTableInput{RouteTableId: id, SubnetId: aws.String(subnet)})
	e.must(err)
}

// sg creates a security group allowing TCP port from each CIDR (the default
// egress rule allows everything out).
func (e *env) sg(vpc, name string, port int32, cidrs ...string) string {
	e.t.Helper()
	out, err := e.ec2.CreateSecurityGroup(ctx(), &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpc),
		GroupName: aws.String(name), Description: aws.String(name)})
	e.must(err)
	id := *out.GroupId
	if len(cidrs) > 0 {
		var ranges []types.IpRange
		for _, c := range cidrs {
			ranges = append(ranges, types.IpRange{CidrIp: aws.String(c)})
		}
		_, err = e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
			IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port), IpRanges: ranges}}})
		e.must(err)
	}
	return id
}

// launch runs one instance with eth0 in subnet and the groups, and returns
// its id; it checks that RunInstances reports it pending.
func (e *env) launch(subnet string, groups ...string) string {
	e.t.Helper()
	out, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: groups})
	e.must(err)
	i := out.Instances[0]
	if i.State == nil || i.State.Name != types.InstanceStateNamePending {
		e.t.Fatalf("RunInstances: state %+v, want pending", i.State)
	}
	return *i.InstanceId
}

func (e *env) instance(id string) types.Instance {
	e.t.Helper()
	out, err := e.ec2.DescribeInstances(ctx(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	e.must(err)
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		e.t.Fatalf("DescribeInstances %s: %+v", id, out.Reservations)
	}
	return out.Reservations[0].Instances[0]
}

// waitRunning polls DescribeInstances until the instance is running.
func (e *env) waitRunning(ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		e.waitFor(id+" running", func() (bool, string) {
			st := e.instance(id).State.Name
			return st == types.InstanceStateNameRunning, string(st)
		})
	}
}

func (e *env) eni(id string) (types.NetworkInterface, bool) {
	e.t.Helper()
	out, err := e.ec2.DescribeNetworkInterfaces(ctx(), &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String("network-interface-id"), Values: []string{id}}}})
	e.must(err)
	if len(out.NetworkInterfaces) == 0 {
		return types.NetworkInterface{}, false
	}
	return out.NetworkInterfaces[0], true
}

// primaryENI returns the instance's eth0.
func (e *env) primaryENI(inst string) types.NetworkInterface {
	e.t.Helper()
	for _, n := range e.instance(inst).NetworkInterfaces {
		if n.Attachment != nil && aws.ToInt32(n.Attachment.DeviceIndex) == 0 {
			ni, ok := e.eni(*n.NetworkInterfaceId)
			if !ok {
				e.t.Fatalf("eth0 of %s vanished", inst)
			}
			return ni
		}
	}
	e.t.Fatalf("%s has no eth0", inst)
	return types.NetworkInterface{}
}

func (e *env) createENI(subnet string, groups ...string) types.NetworkInterface {
	e.t.Helper()
	out, err := e.ec2.CreateNetworkInterface(ctx(), &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), Groups: groups})
	e.must(err)
	return *out.NetworkInterface
}

func (e *env) attach(eni, inst string, index int32) string {
	e.t.Helper()
	out, err := e.ec2.AttachNetworkInterface(ctx(), &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eni),
		InstanceId: aws.String(inst), DeviceIndex: aws.Int32(index)})
	e.must(err)
	return *out.AttachmentId
}

func (e *env) detach(attachment string) {
	e.t.Helper()
	_, err := e.ec2.DetachNetworkInterface(ctx(), &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(attachment)})
	e.must(err)
}

// vpcIDs lists every VPC of the region (the default VPC's router is realised too).
func (e *env) vpcIDs() []string {
	e.t.Helper()
	out, err := e.ec2.DescribeVpcs(ctx(), &ec2.DescribeVpcsInput{})
	e.must(err)
	var ids []string
	for _, v := range out.Vpcs {
		ids = append(ids, *v.VpcId)
	}
	return ids
}

// wantNamespaces is the namespace set the model calls for: the datapath,
// the internet, a router per VPC and a namespace per pending or running
// instance (and per extra id, e.g. tasks).
func (e *env) wantNamespaces(extra ...string) []string {
	e.t.Helper()
	want := []string{e.plane.DatapathNS(), e.plane.InternetNS()}
	for _, v := range e.vpcIDs() {
		want = append(want, e.plane.RouterNS(v))
	}
	out, err := e.ec2.DescribeInstances(ctx(), &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}}})
	e.must(err)
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			want = append(want, e.plane.InstanceNS(*i.InstanceId))
		}
	}
	for _, id := range extra {
		want = append(want, e.plane.InstanceNS(id))
	}
	sort.Strings(want)
	return slices.Compact(want)
}

// --- the eni binary ---

var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

// eniBinary builds cmd/eni once per test binary run.
func eniBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binError = os.MkdirTemp("", "eni-e2e-")
		if binError != nil {
			return
		}
		binPath = filepath.Join(binDir, "eni")
		out, err := exec.Command("go", "build", "-o", binPath+".link", "github.com/eni-net/eni/cmd/eni").CombinedOutput()
		if err != nil {
			binError = fmt.Errorf("go build ./cmd/eni: %v\n%s", err, out)
			return
		}
		if binError = buildCopy(binPath+".link", binPath); binError != nil {
			return
		}
		// eni-run-task beside eni, where it finds eni when it hands a task over; built
		// as the README says, static (CGO_ENABLED=0).
		lean := filepath.Join(binDir, "eni-run-task")
		cmd := exec.Command("go", "build", "-o", lean+".link", "github.com/eni-net/eni/cmd/eni-run-task")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binError = fmt.Errorf("CGO_ENABLED=0 go build ./cmd/eni-run-task: %v\n%s", err, out)
			return
		}
		binError = buildCopy(lean+".link", lean)
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// installCopy writes a copy of the executable src to dst with cp(1), a process of its
// own (one of this process's, forked meanwhile, would hold the file open for writing
// and make starting it fail: golang/go#22315). Started from the file the linker wrote,
// eni-run-task took 0.3-1.2 ms longer to a shell's first line than from copies of it
// (150 and 250 starts each, in turn; why, this machine does not show), so the benchmarks
// start copies, each build's alike (BenchmarkRunTaskStart).
func installCopy(src, dst string) error {
	if out, err := exec.Command("cp", "--", src, dst).CombinedOutput(); err != nil {
		_ = os.Remove(dst)
		return fmt.Errorf("cp %s %s: %v: %s", src, dst, err, out)
	}
	return nil
}

// buildCopy installs the linker's output link as dst (installCopy), and removes it.
func buildCopy(link, dst string) error {
	if err := installCopy(link, dst); err != nil {
		return err
	}
	return os.Remove(link)
}

// runTaskBinary is eni-run-task, built with eni (eniBinary).
func runTaskBinary(t testing.TB) string {
	return filepath.Join(filepath.Dir(eniBinary(t)), "eni-run-task")
}

// sgOpen creates a security group allowing all traffic from cidr.
func (e *env) sgOpen(vpc, name, cidr string) string {
	e.t.Helper()
	id := e.sg(vpc, name, 0)
	_, err := e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String(cidr)}}}}})
	e.must(err)
	return id
}

// subnet64 is the n-th /64 of a VPC's /56 IPv6 block. (The tests took the block's text
// with its "00::/56" made "01::/64": a block whose fourth group is 0 is written
// "x:y:z::/56", and the subnet was asked for with the /56, one run in 256.)
func subnet64(tb testing.TB, block string, n byte) string {
	tb.Helper()
	p, err := netip.ParsePrefix(block)
	if err != nil || p.Bits() != 56 {
		tb.Fatalf("a VPC's IPv6 block %q: %v, want a /56", block, err)
	}
	a := p.Addr().As16()
	a[7] = n
	return netip.PrefixFrom(netip.AddrFrom16(a), 64).String()
}
