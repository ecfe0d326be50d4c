package crashtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/etcdtest"
	"github.com/eni-net/eni/internal/replica"
	"github.com/eni-net/eni/internal/store"
)

// replicaEnv makes the test binary an API replica on etcd: the endpoints
// and the prefix, separated by a space.
const replicaEnv = "ENI_CRASHTEST_REPLICA"

// replicaLease is the children's writer lease, in seconds (about etcd's
// minimum): how long the survivor waits before it takes over.
const replicaLease = 2

// replicaChild is an API replica process, as eni serve --store etcd runs
// one: it prints its address and serves until killed.
func replicaChild(spec string) {
	eps, prefix, _ := strings.Cut(spec, " ")
	fail := func(err error) {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	cfg := store.EtcdConfig{Prefix: prefix, MaxTxnOps: etcdtest.MaxTxnOps}
	cfg.Client3.Endpoints = strings.Split(eps, ",")
	st, err := store.OpenEtcd(cfg)
	if err != nil {
		fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, core.DefaultConfig())
	var srv *api.Server
	rep := replica.New(replica.Config{Store: st, Core: c, Self: "http://" + ln.Addr().String(), LeaseTTL: replicaLease,
		OnLead: func() error { return c.SettleUsage(srv.Commit) }})
	if _, err := rep.Load(); err != nil {
		fail(err)
	}
	srv = api.New(api.Options{Core: c, Store: rep.Store(), Replica: rep})
	go rep.Run(context.Background())
	fmt.Println("ADDR", ln.Addr().String())
	_ = http.Serve(ln, srv) // runs until SIGKILL
}

func startReplica(t *testing.T, cl *etcdtest.Cluster, prefix string) *server {
	t.Helper()
	s := spawn(t, replicaEnv+"="+strings.Join(cl.Endpoints, ",")+" "+prefix)
	t.Cleanup(s.kill)
	return s
}

// role is what a replica's /healthz says of it: "writer" or "replica of URL".
func role(addr string) string {
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_, r, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(r)
}

// waitWriter waits until one of the replicas writes and the others know
// it, and returns its index.
func waitWriter(t *testing.T, srvs []*server) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		w := -1
		for i, s := range srvs {
			if role(s.addr) == "writer" {
				w = i
			}
		}
		agreed := w >= 0
		for i, s := range srvs {
			agreed = agreed && (i == w || role(s.addr) == "replica of http://"+srvs[w].addr)
		}
		if agreed {
			return w
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no writer within 30 s")
	return -1
}

// Two API replicas on one etcd, under write load through both: kill -9 the
// writer, again and again (the killed one comes back as a replica). Clients
// whose call was cut retry on the other replica; nothing acknowledged is
// lost, no address is held twice, and etcd's records, loaded by a fresh
// core, keep every invariant of the model.
func TestKillNineReplicaUnderWriteLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped in -short mode")
	}
	kills := 3
	cl := etcdtest.Start(t, 1)
	const prefix = "/eni-crash/"
	srvs := []*server{startReplica(t, cl, prefix)}
	waitWriter(t, srvs)
	srvs = append(srvs, startReplica(t, cl, prefix))
	w := waitWriter(t, srvs)
	led := &ledger{enis: map[string]bool{}, ips: map[string]string{}, vpcs: map[string]bool{}}
	subnet := setup(t, apitest.NewClient("http://"+srvs[1-w].addr, "us-east-1", "test", "test")) // through the replica that does not write
	for k := 0; k < kills; k++ {
		clients := func(first int) []*ec2.Client {
			return []*ec2.Client{
				apitest.NewClient("http://"+srvs[first].addr, "us-east-1", "test", "test"),
				apitest.NewClient("http://"+srvs[1-first].addr, "us-east-1", "test", "test"),
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				work(ctx, clients(i%2), subnet, led, mrand.New(mrand.NewPCG(uint64(k), uint64(i))))
			}(i)
		}
		time.Sleep(time.Duration(200+mrand.IntN(300)) * time.Millisecond)
		srvs[w].kill()
		before := led.count()
		// The survivor takes over within the lease; the load goes on
		// through it until it has acknowledged more.
		deadline := time.Now().Add(10*replicaLease*time.Second + 20*time.Second)
		for led.count() < before+50 && time.Now().Before(deadline) && led.failed() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		if led.bad != nil {
			t.Fatalf("round %d: a replica refused a valid call: %v", k, led.bad)
		}
		if got := led.count(); got < before+50 {
			t.Fatalf("round %d: %d calls acknowledged after the writer was killed, want 50 (did the other replica take over?)", k, got-before)
		}
		srvs[w] = startReplica(t, cl, prefix) // back, as a replica
		if nw := waitWriter(t, srvs); nw == w {
			t.Fatalf("round %d: the restarted replica writes; the survivor should", k)
		} else {
			w = nw
		}
		led.mu.Lock()
		for _, s := range srvs {
			verifyAt(t, s.addr, led, k)
		}
		led.mu.Unlock()
		etcdCheck(t, cl, prefix, k)
	}
	t.Logf("survived %d kills of the writer; %d acknowledged operations verified; %d calls with an unknown outcome", kills, led.ops, led.unknown)
}

func (l *ledger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ops
}

func (l *ledger) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bad
}

// etcdCheck loads etcd's records into a fresh core and checks every
// invariant of the model (nothing half-applied).
func etcdCheck(t *testing.T, cl *etcdtest.Cluster, prefix string, round int) {
	t.Helper()
	cfg := store.EtcdConfig{Prefix: prefix}
	cfg.Client3.Endpoints = cl.Endpoints
	st, err := store.OpenEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, core.DefaultConfig())
	if _, err := c.LoadFrom(st.Load); err != nil {
		t.Fatalf("round %d: load: %v", round, err)
	}
	for _, err := range c.Check() {
		t.Errorf("round %d: invariant: %v", round, err)
	}
}
