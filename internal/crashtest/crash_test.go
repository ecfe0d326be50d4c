// Package crashtest kills a real server process with SIGKILL at random
// moments while clients mutate it, restarts it on the same file, and checks
// that every acknowledged change survived and the model's invariants hold.
package crashtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/store"
)

const childEnv = "ENI_CRASHTEST_CHILD_DATA"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		child(path)
		return
	}
	if spec := os.Getenv(replicaEnv); spec != "" {
		replicaChild(spec)
		return
	}
	os.Exit(m.Run())
}

// child is the server process: it prints its address and serves until killed.
func child(path string) {
	st, err := store.OpenBolt(path)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, core.DefaultConfig())
	if err := st.Load(c.Load); err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	c.Rebuild()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("ADDR", ln.Addr().String())
	_ = http.Serve(ln, api.New(api.Options{Core: c, Store: st})) // runs until SIGKILL
}

type server struct {
	cmd  *exec.Cmd
	addr string
}

func start(t *testing.T, path string) *server {
	t.Helper()
	return spawn(t, childEnv+"="+path)
}

// spawn runs this test binary as a child server with env set and waits for its address.
func spawn(t *testing.T, env string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q %v", line, err)
	}
	return &server{cmd: cmd, addr: strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))}
}

func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL) // the child is ours; it may already be gone
	_ = s.cmd.Wait()
}

// ledger records what the server acknowledged.
// prefixKey marks a delegated prefix among the ledger's addresses.
const prefixKey = "prefix:"

type ledger struct {
	mu      sync.Mutex
	enis    map[string]bool // id -> must exist (false: acknowledged deleted)
	ips     map[string]string
	vpcs    map[string]bool
	ops     int
	unknown int // calls whose outcome we cannot know (connection cut by the kill)
	bad     error
}

func TestKillNineKeepsAcknowledgedChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped in -short mode")
	}
	kills := 12
	if s := os.Getenv("ENI_CRASH_KILLS"); s != "" {
		fmt.Sscan(s, &kills)
	}
	path := filepath.Join(t.TempDir(), "eni.db")
	led := &ledger{enis: map[string]bool{}, ips: map[string]string{}, vpcs: map[string]bool{}}
	srv := start(t, path)
	c := apitest.NewClient("http://"+srv.addr, "us-east-1", "test", "test")
	subnet := setup(t, c)
	srv.kill()
	for k := 0; k < kills; k++ {
		srv = start(t, path)
		verify(t, srv, led, k)
		c := apitest.NewClient("http://"+srv.addr, "us-east-1", "test", "test")
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				work(ctx, []*ec2.Client{c}, subnet, led, mrand.New(mrand.NewPCG(uint64(k), uint64(w))))
			}(w)
		}
		time.Sleep(time.Duration(50+mrand.IntN(250)) * time.Millisecond)
		srv.kill()
		cancel()
		wg.Wait()
		if led.bad != nil {
			t.Fatalf("round %d: the server refused a valid call: %v", k, led.bad)
		}
		offlineCheck(t, path, k)
	}
	srv = start(t, path)
	verify(t, srv, led, kills)
	srv.kill()
	t.Logf("survived %d kills; %d acknowledged operations verified; %d in-flight calls cut by kills", kills, led.ops, led.unknown)
}

func setup(t *testing.T, c *ec2.Client) string {
	ctx := context.Background()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.0.0/16"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(sn.Subnet.SubnetId)
}

// work mutates through clients[0] until ctx ends. A call whose outcome is
// unknown (the connection cut by a kill, or ServiceUnavailable from a
// replica that could not reach the writer) ends it when there is one
// client (the server died: wait for the next round) and otherwise moves it
// to the next client (the other replica).
func work(ctx context.Context, clients []*ec2.Client, subnet string, led *ledger, r *mrand.Rand) {
	var mine []string
	cur := 0
	for ctx.Err() == nil {
		c := clients[cur]
		var err error
		switch op := r.IntN(10); {
		case op < 5 || len(mine) == 0:
			var out *ec2.CreateNetworkInterfaceOutput
			out, err = c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), SecondaryPrivateIpAddressCount: aws.Int32(int32(r.IntN(3)))})
			if err == nil {
				id := aws.ToString(out.NetworkInterface.NetworkInterfaceId)
				mine = append(mine, id)
				led.mu.Lock()
				led.enis[id] = true
				led.ops++
				led.mu.Unlock()
			}
		case op < 7:
			id := mine[r.IntN(len(mine))]
			var out *ec2.AssignPrivateIpAddressesOutput
			in := &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), SecondaryPrivateIpAddressCount: aws.Int32(1)}
			if r.IntN(2) == 0 {
				in = &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), Ipv4PrefixCount: aws.Int32(1)}
			}
			out, err = c.AssignPrivateIpAddresses(ctx, in)
			if err == nil {
				led.mu.Lock()
				for _, a := range out.AssignedPrivateIpAddresses {
					led.ips[aws.ToString(a.PrivateIpAddress)] = id
				}
				for _, a := range out.AssignedIpv4Prefixes {
					led.ips[prefixKey+aws.ToString(a.Ipv4Prefix)] = id
				}
				led.ops++
				led.mu.Unlock()
			}
		case op < 9:
			i := r.IntN(len(mine))
			id := mine[i]
			_, err = c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)})
			if err != nil && unknownOutcome(err) {
				// Cut by the kill: the delete may or may not have been
				// committed, so the ENI's fate is unknown.
				mine = append(mine[:i], mine[i+1:]...)
				led.mu.Lock()
				delete(led.enis, id)
				for ip, owner := range led.ips {
					if owner == id {
						delete(led.ips, ip)
					}
				}
				led.mu.Unlock()
			}
			if err == nil {
				mine = append(mine[:i], mine[i+1:]...)
				led.mu.Lock()
				led.enis[id] = false
				for ip, owner := range led.ips {
					if owner == id {
						delete(led.ips, ip)
					}
				}
				led.ops++
				led.mu.Unlock()
			}
		default:
			var out *ec2.CreateVpcOutput
			out, err = c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.200.0.0/16")})
			if err == nil {
				led.mu.Lock()
				led.vpcs[aws.ToString(out.Vpc.VpcId)] = true
				led.ops++
				led.mu.Unlock()
			}
		}
		if err != nil {
			switch apitest.Code(err) {
			case "", "ServiceUnavailable":
			case "PrivateIpAddressLimitExceeded", // an unattached ENI holds at most 50 addresses
				"InsufficientFreeAddressesInSubnet", "InsufficientCidrBlocks": // a long run can fill the subnet
				continue
			default:
				led.mu.Lock()
				if led.bad == nil {
					led.bad = err
				}
				led.mu.Unlock()
				return
			}
			led.mu.Lock()
			led.unknown++
			led.mu.Unlock()
			if ctx.Err() == nil && len(clients) == 1 {
				// The server died under us: stop until the next round.
				return
			}
			cur = (cur + 1) % len(clients)
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// unknownOutcome reports whether a call may or may not have taken effect.
func unknownOutcome(err error) bool {
	code := apitest.Code(err)
	return code == "" || code == "ServiceUnavailable"
}

func verify(t *testing.T, srv *server, led *ledger, round int) {
	t.Helper()
	led.mu.Lock()
	defer led.mu.Unlock()
	verifyAt(t, srv.addr, led, round)
}

// verifyAt checks, through the server at addr, that what the ledger says
// was acknowledged is there and that no address is held twice. led.mu is
// held.
func verifyAt(t *testing.T, addr string, led *ledger, round int) {
	t.Helper()
	c := apitest.NewClient("http://"+addr, "us-east-1", "test", "test")
	ctx := context.Background()
	var all []types.NetworkInterface
	p := ec2.NewDescribeNetworkInterfacesPaginator(c, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("round %d: describe: %v", round, err)
		}
		all = append(all, page.NetworkInterfaces...)
	}
	have := map[string]types.NetworkInterface{}
	for _, e := range all {
		have[aws.ToString(e.NetworkInterfaceId)] = e
	}
	for id, live := range led.enis {
		if _, ok := have[id]; live && !ok {
			t.Fatalf("round %d: acknowledged ENI %s lost", round, id)
		}
		if _, ok := have[id]; !live && ok {
			t.Fatalf("round %d: acknowledged delete of %s lost", round, id)
		}
	}
	for ip, id := range led.ips {
		e, ok := have[id]
		if !ok {
			continue
		}
		found := false
		for _, a := range e.PrivateIpAddresses {
			found = found || aws.ToString(a.PrivateIpAddress) == ip
		}
		for _, pf := range e.Ipv4Prefixes {
			found = found || prefixKey+aws.ToString(pf.Ipv4Prefix) == ip
		}
		if !found {
			t.Fatalf("round %d: acknowledged address %s of %s lost", round, ip, id)
		}
	}
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	vs := map[string]bool{}
	for _, v := range vpcs.Vpcs {
		vs[aws.ToString(v.VpcId)] = true
	}
	for id := range led.vpcs {
		if !vs[id] {
			t.Fatalf("round %d: acknowledged VPC %s lost", round, id)
		}
	}
	// No address held twice across the whole reply, nor inside a delegated prefix.
	seen := map[string]string{}
	for _, e := range all {
		var own []string
		for _, a := range e.PrivateIpAddresses {
			own = append(own, aws.ToString(a.PrivateIpAddress))
		}
		for _, pf := range e.Ipv4Prefixes {
			p := netip.MustParsePrefix(aws.ToString(pf.Ipv4Prefix))
			for a := p.Addr(); p.Contains(a); a = a.Next() {
				own = append(own, a.String())
			}
		}
		for _, ip := range own {
			if o, ok := seen[ip]; ok {
				t.Fatalf("round %d: %s held by %s and %s", round, ip, o, aws.ToString(e.NetworkInterfaceId))
			}
			seen[ip] = aws.ToString(e.NetworkInterfaceId)
		}
	}
}

// offlineCheck loads the file the killed server left into a fresh core and
// checks every invariant of the model (nothing half-applied).
func offlineCheck(t *testing.T, path string, round int) {
	t.Helper()
	st, err := store.OpenBolt(path)
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	defer st.Close()
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, core.DefaultConfig())
	if err := st.Load(c.Load); err != nil {
		t.Fatalf("round %d: load: %v", round, err)
	}
	c.Rebuild()
	for _, err := range c.Check() {
		t.Errorf("round %d: invariant: %v", round, err)
	}
}
