package core

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// newClusterCore is a core in cluster mode with a VPC and one subnet in
// us-east-1a and one in us-east-1b.
func newClusterCore(t *testing.T) (c *Core, subA, subB string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Cluster = true
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c = New(Env{Now: func() time.Time { return now }, Rand: &testRand{rand.NewChaCha8([32]byte{2})}}, cfg)
	if err := mutate(t, c, func(tx *Tx) error {
		v, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p("10.0.0.0/16")})
		if err != nil {
			return err
		}
		a, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: p("10.0.1.0/24"), AvailabilityZone: p("us-east-1a")})
		if err != nil {
			return err
		}
		b, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: p("10.0.2.0/24"), AvailabilityZone: p("us-east-1b")})
		subA, subB = *a.Subnet.SubnetId, *b.Subnet.SubnetId
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c, subA, subB
}

// runIn launches between min and max instances in subnet; it returns their ids.
func runIn(t *testing.T, c *Core, subnet string, minCount, maxCount int32) ([]string, error) {
	t.Helper()
	var ids []string
	err := mutate(t, c, func(tx *Tx) error {
		res, err := tx.RunInstances(&ec2wire.RunInstancesInput{ImageId: p("ami-12345678"), MinCount: p(minCount), MaxCount: p(maxCount), SubnetId: p(subnet)})
		if err != nil {
			return err
		}
		for _, i := range res.Instances {
			ids = append(ids, *i.InstanceId)
		}
		return nil
	})
	return ids, err
}

func hostsOf(t *testing.T, c *Core, ids []string) []string {
	t.Helper()
	var out []string
	_ = view(t, c, func(tx *Tx) error {
		for _, id := range ids {
			out = append(out, tx.instances.Get(id).Host)
		}
		return nil
	})
	return out
}

func TestClusterPlacement(t *testing.T) {
	c, subA, subB := newClusterCore(t)
	// No live host: AWS's capacity error, nothing launched.
	if _, err := runIn(t, c, subA, 1, 1); !isCode(err, CodeInsufficientInstanceCapacity) {
		t.Fatalf("no hosts: %v", err)
	}
	c.SetHosts("us-east-1", []Host{
		{Name: "h2", AZ: "us-east-1a", Underlay: "10.9.0.2"},
		{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1", Capacity: 2},
		{Name: "h3", AZ: "us-east-1b", Underlay: "10.9.0.3", Capacity: 1},
	})
	ids, err := runIn(t, c, subA, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	// least loaded, ties by name: h1, h2, h1
	if got := strings.Join(hostsOf(t, c, ids), ","); got != "h1,h2,h1" {
		t.Errorf("placement %s, want h1,h2,h1", got)
	}
	// h1 is full (2): the rest go to h2 only, in 1a.
	ids, err = runIn(t, c, subA, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(hostsOf(t, c, ids), ","); got != "h2,h2" {
		t.Errorf("placement %s, want h2,h2", got)
	}
	// Zone b holds one: MinCount 2 fails whole, leaving no trace; 1..5 launches one.
	before := len(c.Hosts("us-east-1"))
	if _, err := runIn(t, c, subB, 2, 2); !isCode(err, CodeInsufficientInstanceCapacity) || !strings.Contains(err.Error(), "(us-east-1b)") || !strings.Contains(err.Error(), "us-east-1a") {
		t.Fatalf("zone b over capacity: %v", err)
	}
	if ids, err = runIn(t, c, subB, 1, 5); err != nil || len(ids) != 1 || hostsOf(t, c, ids)[0] != "h3" {
		t.Fatalf("1..5 in zone b: %v, %v", ids, err)
	}
	var infos []string
	for _, h := range c.Hosts("us-east-1") {
		infos = append(infos, h.Name+":"+string(rune('0'+h.Placed)))
	}
	if got := strings.Join(infos, " "); got != "h1:2 h2:3 h3:1" || before != 3 {
		t.Errorf("hosts %s", got)
	}
	// A host gone: its instances are listed under it, not live, and impaired.
	c.SetHosts("us-east-1", []Host{{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1", Capacity: 2}, {Name: "h2", AZ: "us-east-1a"}})
	var h3 HostInfo
	for _, h := range c.Hosts("us-east-1") {
		if h.Name == "h3" {
			h3 = h
		}
	}
	if h3.Live || h3.Placed != 1 {
		t.Errorf("gone host listed as %+v", h3)
	}
}

func isCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// TestClusterHostView: each host's view holds its own instances; an ENI of an
// instance on another live host is remote (that host's underlay address),
// on a gone host not realised; running is settled only from the placed host.
func TestClusterHostView(t *testing.T) {
	c, subA, _ := newClusterCore(t)
	c.SetHosts("us-east-1", []Host{{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1"}, {Name: "h2", AZ: "us-east-1a", Underlay: "10.9.0.2"}})
	ids, err := runIn(t, c, subA, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	v1 := c.HostViewFor("us-east-1", "h1")
	if len(v1.Instances) != 1 || v1.Instances[0].ID != ids[0] || v1.Instances[0].State != "pending" {
		t.Fatalf("h1's instances %+v", v1.Instances)
	}
	local, remote := 0, 0
	for _, e := range v1.ENIs {
		switch {
		case e.InstanceID == ids[0] && e.Remote == "":
			local++
		case e.InstanceID == "" && e.Remote == "10.9.0.2":
			remote++
		default:
			t.Errorf("h1's view of %s: instance %q remote %q", e.ID, e.InstanceID, e.Remote)
		}
	}
	if local != 1 || remote != 1 {
		t.Errorf("h1's ENIs: %d local, %d remote", local, remote)
	}
	if u := strings.Join(v1.Underlays, ","); u != "10.9.0.1,10.9.0.2" {
		t.Errorf("h1's view of the hosts' underlays: %s", u)
	}
	if all := c.HostViewFor("us-east-1", ""); len(all.Instances) != 2 {
		t.Errorf("the whole view has %d instances", len(all.Instances))
	}
	// h2 claims both: only its own is settled.
	c.SetHosts("us-east-1", []Host{{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1"},
		{Name: "h2", AZ: "us-east-1a", Underlay: "10.9.0.2", Realised: map[string]bool{ids[0]: true, ids[1]: true}}})
	if err := c.SettleHosts(testCaller, nil); err != nil {
		t.Fatal(err)
	}
	_ = view(t, c, func(tx *Tx) error {
		if a, b := tx.instances.Get(ids[0]).State, tx.instances.Get(ids[1]).State; a != "pending" || b != "running" {
			t.Errorf("after h2's report: %s %s, want pending running", a, b)
		}
		return nil
	})
	// A fresh core (an agent restarted while h2's agent is gone) learns h2's address
	// from the hosts' addresses.
	fresh, _, _ := newClusterCore(t)
	fresh.AddKnownHosts("us-east-1", map[string]string{"h2": "10.9.0.2"})
	fresh.SetHosts("us-east-1", []Host{{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1"}})
	_ = view(t, fresh, func(tx *Tx) error {
		if tx.known["h2"] != "10.9.0.2" || tx.known["h1"] != "10.9.0.1" {
			t.Errorf("known after AddKnownHosts and SetHosts: %v", tx.known)
		}
		return nil
	})
	// h2's lease gone: its instance is impaired, and its ENI stays remote at h2's last
	// address (its agent may be dead while the instance forwards).
	c.SetHosts("us-east-1", []Host{{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1"}})
	for _, e := range c.HostViewFor("us-east-1", "h1").ENIs {
		if e.InstanceID != ids[0] && (e.InstanceID != "" || e.Remote != "10.9.0.2") {
			t.Errorf("with h2 gone, h1 sees %s at %q/%q", e.ID, e.InstanceID, e.Remote)
		}
	}
	_ = view(t, c, func(tx *Tx) error {
		if st, r := tx.instanceCheck(tx.instances.Get(ids[1])); st != "impaired" || r != "failed" {
			t.Errorf("instance on a gone host: %s/%s", st, r)
		}
		return nil
	})
}

func TestAssignVNIs(t *testing.T) {
	vpcs := []HostVPC{{Subnets: []HostSubnet{{ID: "subnet-b"}, {ID: "subnet-a"}}}, {Subnets: []HostSubnet{{ID: "subnet-c"}}}}
	assignVNIs(vpcs)
	seen := map[uint32]bool{}
	for _, v := range vpcs {
		for _, s := range v.Subnets {
			if s.VNI == 0 || s.VNI > vniMax || seen[s.VNI] {
				t.Errorf("%s: VNI %d", s.ID, s.VNI)
			}
			seen[s.VNI] = true
		}
	}
	// A collision: find a second id hashing to subnet-a's VNI; the later id in order probes on.
	var a uint32
	for _, s := range vpcs[0].Subnets {
		if s.ID == "subnet-a" {
			a = s.VNI
		}
	}
	for n := 0; n < 50_000_000; n++ {
		id := "subnet-z" + strings.Repeat("x", n%3) + strconv.Itoa(n)
		one := []HostVPC{{Subnets: []HostSubnet{{ID: id}}}}
		assignVNIs(one)
		if one[0].Subnets[0].VNI != a {
			continue
		}
		two := []HostVPC{{Subnets: []HostSubnet{{ID: id}, {ID: "subnet-a"}}}}
		assignVNIs(two)
		if two[0].Subnets[1].VNI != a || two[0].Subnets[0].VNI != a%vniMax+1 {
			t.Errorf("collision of %s with subnet-a: %d, %d (subnet-a %d)", id, two[0].Subnets[0].VNI, two[0].Subnets[1].VNI, a)
		}
		return
	}
	t.Skip("no colliding id found")
}

// TestClusterAdoptsUnplaced: instances of a store written without --cluster
// have no host; once it is served in cluster mode, the writer's settling
// places each on a live host of its zone (impaired until then), and one whose
// zone has no host waits for one.
func TestClusterAdoptsUnplaced(t *testing.T) {
	c, subA, subB := newClusterCore(t)
	c.cfg.Cluster = false // the store as a single host wrote it
	a, err := runIn(t, c, subA, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := runIn(t, c, subB, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	c.cfg.Cluster = true
	impaired := func(id string) bool {
		var bad bool
		_ = view(t, c, func(tx *Tx) error {
			bad = tx.hostImpaired(tx.instances.Get(id))
			return nil
		})
		return bad
	}
	if !impaired(a[0]) {
		t.Fatalf("%s has no host but is not impaired", a[0])
	}
	c.SetHosts("us-east-1", []Host{{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1"}, {Name: "h2", AZ: "us-east-1a", Underlay: "10.9.0.2"}})
	if err := c.SettleHosts(testCaller, nil); err != nil {
		t.Fatal(err)
	}
	if got := hostsOf(t, c, a); !slices.Contains(got, "h1") || !slices.Contains(got, "h2") {
		t.Fatalf("us-east-1a's instances placed on %v, want one on h1 and one on h2 (least loaded first)", got)
	}
	if got := hostsOf(t, c, b); got[0] != "" {
		t.Fatalf("%s placed on %q, with no host in its zone", b[0], got[0])
	}
	if impaired(a[0]) || !impaired(b[0]) {
		t.Fatalf("impaired: %s %v (placed), %s %v (not)", a[0], impaired(a[0]), b[0], impaired(b[0]))
	}
	c.SetHosts("us-east-1", []Host{{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1"}, {Name: "h2", AZ: "us-east-1a", Underlay: "10.9.0.2"},
		{Name: "h3", AZ: "us-east-1b", Underlay: "10.9.0.3"}})
	if err := c.SettleHosts(testCaller, nil); err != nil {
		t.Fatal(err)
	}
	if got := hostsOf(t, c, b); got[0] != "h3" {
		t.Fatalf("%s placed on %q, want h3 (a host came to us-east-1b)", b[0], got[0])
	}
}

// A NAT gateway in a cluster is pending until a host has it up, and deleting
// until its namespace is gone; with no live host nothing would settle either,
// so it is available, and deleted, at once (a host that comes realises it).
func TestClusterNatGatewaySettles(t *testing.T) {
	c, subA, _ := newClusterCore(t)
	create := func() (id, state string) {
		_ = mutate(t, c, func(tx *Tx) error {
			g, err := tx.CreateNatGateway(&ec2wire.CreateNatGatewayInput{SubnetId: p(subA), ConnectivityType: p("private")})
			if err != nil {
				t.Fatal(err)
			}
			id = *g.NatGateway.NatGatewayId
			state = tx.nats.Get(id).State
			return nil
		})
		return id, state
	}
	remove := func(id string) (state string) {
		_ = mutate(t, c, func(tx *Tx) error {
			if _, err := tx.DeleteNatGateway(&ec2wire.DeleteNatGatewayInput{NatGatewayId: p(id)}); err != nil {
				t.Fatal(err)
			}
			state = tx.nats.Get(id).State
			return nil
		})
		return state
	}
	if id, st := create(); st != "available" {
		t.Fatalf("no live host: %s stored %s, want available", id, st)
	} else if st := remove(id); st != "deleted" {
		t.Fatalf("no live host: deleted %s is %s, want deleted", id, st)
	}
	c.SetHosts("us-east-1", []Host{{Name: "h1", AZ: "us-east-1a", Underlay: "10.9.0.1"}})
	if id, st := create(); st != "pending" {
		t.Fatalf("a live host: %s stored %s, want pending", id, st)
	} else if st := remove(id); st != "deleting" {
		t.Fatalf("a live host: deleted %s is %s, want deleting", id, st)
	}
}
