package replica_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/etcdtest"
	"github.com/eni-net/eni/internal/replica"
	"github.com/eni-net/eni/internal/store"
)

var ctx = context.Background()

// node is one API replica in this process: its own core, etcd store and
// HTTP server.
type node struct {
	url  string
	core *core.Core
	rep  *replica.Replica
	srv  *httptest.Server
	st   *store.Etcd
	stop context.CancelFunc
	done chan struct{}
}

func startNode(t testing.TB, cl *etcdtest.Cluster, prefix string) *node {
	t.Helper()
	cfg := store.EtcdConfig{Prefix: prefix, MaxTxnOps: etcdtest.MaxTxnOps}
	cfg.Client3.Endpoints = cl.Endpoints
	st, err := store.OpenEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{st: st, core: core.New(core.Env{Now: time.Now, Rand: rand.Reader}, core.DefaultConfig()), done: make(chan struct{})}
	var h http.Handler
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	n.url = n.srv.URL
	var srv *api.Server
	n.rep = replica.New(replica.Config{Store: st, Core: n.core, Self: n.url, LeaseTTL: 2,
		OnLead: func() error { return n.core.SettleUsage(srv.Commit) }})
	if _, err := n.rep.Load(); err != nil {
		t.Fatal(err)
	}
	srv = api.New(api.Options{Core: n.core, Store: n.rep.Store(), Replica: n.rep, AllowReset: true, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	h = srv
	rctx, cancel := context.WithCancel(ctx)
	n.stop = cancel
	go func() { defer close(n.done); n.rep.Run(rctx) }()
	t.Cleanup(n.close)
	return n
}

// close stops the node: it resigns (if it writes) and stops serving.
func (n *node) close() {
	if n.stop == nil {
		return
	}
	n.stop()
	<-n.done
	n.srv.Close()
	n.st.Close()
	n.stop = nil
}

func (n *node) client() *ec2.Client { return apitest.NewClient(n.url, "us-east-1", "test", "test") }

// waitLeader waits until one of nodes writes and every other knows where.
func waitLeader(t testing.TB, nodes ...*node) *node {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var leader *node
		for _, n := range nodes {
			if n.rep.Leading() {
				leader = n
			}
		}
		agreed := leader != nil
		for _, n := range nodes {
			agreed = agreed && n.rep.LeaderURL() == leader.url
		}
		if agreed {
			return leader
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no writer elected within 20 s")
	return nil
}

// Two replicas on one etcd: writes through either land once, on the
// writer; a client reads its own writes on the replica it wrote through and
// on the other; the follower's model (fed by the watch, indexes included)
// equals the writer's record for record.
func TestTwoReplicasOneModel(t *testing.T) {
	cl := etcdtest.Start(t, 1)
	a := startNode(t, cl, "/eni-rep/")
	leader := waitLeader(t, a)
	b := startNode(t, cl, "/eni-rep/")
	if waitLeader(t, a, b) != leader {
		t.Fatal("the writer changed when a second replica joined")
	}
	ca, cb := a.client(), b.client()
	// Written through the follower (forwarded), read back on it at once.
	vpc, err := cb.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cb.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{*vpc.Vpc.VpcId}})
	if err != nil || len(got.Vpcs) != 1 {
		t.Fatalf("the follower does not read its own write: %v %v", got, err)
	}
	sub, err := ca.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent creates through both replicas: every address and MAC once.
	const perReplica = 40
	var mu sync.Mutex
	var ids []string
	ips, macs := map[string]string{}, map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 2*perReplica)
	for i := range 2 * perReplica {
		c := []*ec2.Client{ca, cb}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId,
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i % 3))}}}}})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ni := out.NetworkInterface
			ids = append(ids, *ni.NetworkInterfaceId)
			if other, dup := ips[*ni.PrivateIpAddress]; dup {
				errs <- fmt.Errorf("%s handed to %s and %s", *ni.PrivateIpAddress, other, *ni.NetworkInterfaceId)
			}
			if other, dup := macs[*ni.MacAddress]; dup {
				errs <- fmt.Errorf("MAC %s handed to %s and %s", *ni.MacAddress, other, *ni.NetworkInterfaceId)
			}
			ips[*ni.PrivateIpAddress], macs[*ni.MacAddress] = *ni.NetworkInterfaceId, *ni.NetworkInterfaceId
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Changes of every kind the follower applies: an update, a delete, an
	// Elastic IP associated (indexes of public addresses).
	if _, err := cb.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: &ids[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: &ids[1], SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	igw, err := cb.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cb.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpc.Vpc.VpcId}); err != nil {
		t.Fatal(err)
	}
	eip, err := cb.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cb.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: &ids[2]}); err != nil {
		t.Fatal(err)
	}
	// Read on the follower through its indexes: tag and public-IP filters.
	for _, c := range []*ec2.Client{ca, cb} {
		tagged, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("tag:n"), Values: []string{"0"}}}})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for i := range 2 * perReplica {
			if i%3 == 0 {
				want++
			}
		}
		if n := len(tagged.NetworkInterfaces); n != want && n != want-1 { // ids[0] (deleted) may have been tagged 0
			t.Errorf("tag:n=0 lists %d ENIs, want %d or %d", n, want, want-1)
		}
		byIP, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("association.public-ip"), Values: []string{*eip.PublicIp}}}})
		if err != nil || len(byIP.NetworkInterfaces) != 1 || *byIP.NetworkInterfaces[0].NetworkInterfaceId != ids[2] {
			t.Errorf("association.public-ip: %v, want only %s", err, ids[2])
		}
	}
	if err := b.rep.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if wa, wb := a.core.Dump(), b.core.Dump(); !maps.Equal(wa, wb) {
		t.Fatalf("the follower's model differs from the writer's: %d and %d records", len(wa), len(wb))
	}
}

// The writer stops (it resigns, or its lease runs out): the other replica
// takes over, with every acknowledged write, and hands out no address
// twice.
func TestReplicaTakesOver(t *testing.T) {
	cl := etcdtest.Start(t, 1)
	a := startNode(t, cl, "/eni-rep/")
	waitLeader(t, a)
	b := startNode(t, cl, "/eni-rep/")
	waitLeader(t, a, b)
	cb := b.client()
	vpc, err := cb.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cb.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.1.0/28"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	create := func() {
		out, err := cb.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId})
		if err != nil {
			t.Fatal(err)
		}
		if ip := *out.NetworkInterface.PrivateIpAddress; seen[ip] {
			t.Fatalf("%s handed out twice", ip)
		} else {
			seen[ip] = true
		}
	}
	for range 4 {
		create()
	}
	a.close()
	if waitLeader(t, b) != b {
		t.Fatal("b did not take over")
	}
	for range 4 {
		create()
	}
	out, err := cb.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil || len(out.NetworkInterfaces) != 8 {
		t.Fatalf("after the take-over: %d ENIs (%v), want 8", len(out.NetworkInterfaces), err)
	}
}
