package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/dataplane"
)

// TestAttackPublicAPIConnectionFlood: root in instance A opens more connections to
// the API on the simulated internet than a source may hold, each with a request
// (so each stays open, idle, between requests). Every connection held there is a
// descriptor of the server's process, which also serves the host's API, the
// metadata service and the resolvers: the listener keeps at most
// dataplane.ConnsPerSource of A's and closes the others unanswered. While A holds
// its share, instance B (another public address) is answered; once A lets go, A is
// again.
func TestAttackPublicAPIConnectionFlood(t *testing.T) {
	e := newEnvWith(t, envOptions{sigv4: true})
	vpc := e.vpc("10.62.0.0/16")
	sn := e.subnet(vpc, "10.62.1.0/24")
	e.publicRoutes(vpc, sn, e.igw(vpc))
	a, b := e.launchPublic(sn), e.launchPublic(sn)
	e.waitRunning(a, b)
	e.settle()
	addr := net.JoinHostPort(e.plane.InternetIP().String(), "4566")
	nsA, nsB := e.plane.InstanceNS(a), e.plane.InstanceNS(b)
	e.waitFor("the API answering A", func() (bool, string) {
		ok, err := e.answers(nsA, addr, httpGet)
		return ok, fmt.Sprint(err)
	})

	e.flood(nsA, nsB, addr, httpGet)
}

// TestAttackVPCEndpointConnectionFlood: the same flood at an interface VPC endpoint
// of EC2 (its port 80), from instance A of the VPC; B, in the same VPC, is answered
// while A holds its share.
func TestAttackVPCEndpointConnectionFlood(t *testing.T) {
	e := newEnvWith(t, envOptions{sigv4: true})
	vpc := e.vpc("10.63.0.0/16")
	sn := e.subnet(vpc, "10.63.1.0/24")
	plain := e.sg(vpc, "endpoint-http", 80, "10.63.0.0/16")
	a, b := e.launch(sn), e.launch(sn)
	e.waitRunning(a, b)
	cr, err := e.ec2.CreateVpcEndpoint(ctx(), &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: aws.String("com.amazonaws.us-east-1.ec2"),
		VpcEndpointType: types.VpcEndpointTypeInterface, SubnetIds: []string{sn}, SecurityGroupIds: []string{plain}, PrivateDnsEnabled: aws.Bool(false)})
	e.must(err)
	n, ok := e.eni(cr.VpcEndpoint.NetworkInterfaceIds[0])
	if !ok {
		t.Fatal("the endpoint's ENI is not described")
	}
	e.settle()
	addr := net.JoinHostPort(aws.ToString(n.PrivateIpAddress), "80")
	nsA, nsB := e.plane.InstanceNS(a), e.plane.InstanceNS(b)
	e.waitFor("the endpoint answering A", func() (bool, string) {
		ok, err := e.answers(nsA, addr, httpGet)
		return ok, fmt.Sprint(err)
	})
	e.flood(nsA, nsB, addr, httpGet)
}

// TestAttackMetadataConnectionFlood: the same flood at the metadata service (a
// descriptor of the server's process per connection too), from instance A; B, in the
// same VPC, is answered while A holds its share (counted by the ENI a connection
// comes in through, whatever A's addresses).
func TestAttackMetadataConnectionFlood(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.64.0.0/16")
	sn := e.subnet(vpc, "10.64.1.0/24")
	a, b := e.launch(sn), e.launch(sn)
	e.waitRunning(a, b)
	e.settle()
	addr := "169.254.169.254:80"
	nsA, nsB := e.plane.InstanceNS(a), e.plane.InstanceNS(b)
	e.waitFor("the metadata service answering A", func() (bool, string) {
		ok, err := e.answers(nsA, addr, httpGet)
		return ok, fmt.Sprint(err)
	})
	e.flood(nsA, nsB, addr, httpGet)
}

// TestAttackVPCResolverConnectionFlood: the same flood at the VPC resolver over TCP
// (DNS queries, one per connection, each connection kept open), from instance A;
// B, in the same VPC, is answered while A holds its share.
func TestAttackVPCResolverConnectionFlood(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.65.0.0/16")
	sn := e.subnet(vpc, "10.65.1.0/24")
	a, b := e.launch(sn), e.launch(sn)
	e.waitRunning(a, b)
	e.settle()
	addr := "10.65.0.2:53"
	nsA, nsB := e.plane.InstanceNS(a), e.plane.InstanceNS(b)
	e.waitFor("the resolver answering A over TCP", func() (bool, string) {
		ok, err := e.answers(nsA, addr, dnsQuery)
		return ok, fmt.Sprint(err)
	})
	e.flood(nsA, nsB, addr, dnsQuery)
}

// flood opens more connections from namespace nsA to addr than a source may hold,
// each with a request, and wants at most dataplane.ConnsPerSource answered, nsB
// answered meanwhile, and nsA again once it lets go.
func (e *env) flood(nsA, nsB, addr string, p floodProto) {
	t := e.t
	t.Helper()
	n := dataplane.ConnsPerSource + 36
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range n {
		c, err := e.dialIn(nsA, addr)
		if err != nil {
			t.Fatalf("connection %d from A: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		_, _ = c.Write(p.request) // a refused one may be closed already
	}
	served := 0
	for _, c := range conns {
		if p.answered(c) {
			served++
		}
	}
	if served > dataplane.ConnsPerSource || served == 0 {
		t.Fatalf("A holds %d of %d connections answered, want 1..%d", served, n, dataplane.ConnsPerSource)
	}
	t.Logf("A: %d of %d connections answered", served, n)
	if ok, err := e.answers(nsB, addr, p); !ok {
		t.Fatalf("B, while A holds its connections: %v", err)
	}
	for _, c := range conns {
		_ = c.Close()
	}
	conns = nil
	e.waitFor("A answered again", func() (bool, string) {
		ok, err := e.answers(nsA, addr, p)
		return ok, fmt.Sprint(err)
	})
}

// launchPublic runs an instance with a public IP in subnet.
func (e *env) launchPublic(subnet string) string {
	e.t.Helper()
	out, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnet), AssociatePublicIpAddress: aws.Bool(true)}}})
	e.must(err)
	return aws.ToString(out.Instances[0].InstanceId)
}

// dialIn opens a TCP connection from inside the namespace.
func (e *env) dialIn(nsname, addr string) (net.Conn, error) {
	var c net.Conn
	err := e.plane.Do(nsname, func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr, dialTimeout)
		return err
	})
	return c, err
}

// answers sends one request from inside the namespace and tells whether a
// response came back.
func (e *env) answers(nsname, addr string, p floodProto) (bool, error) {
	c, err := e.dialIn(nsname, addr)
	if err != nil {
		return false, err
	}
	defer c.Close()
	if _, err := c.Write(p.request); err != nil {
		return false, err
	}
	return p.answered(c), nil
}

// floodProto is a request of a service and how to tell its response came.
type floodProto struct {
	request  []byte
	answered func(c net.Conn) bool
}

var (
	httpGet = floodProto{[]byte("GET / HTTP/1.1\r\nHost: api\r\n\r\n"), answered}
	// dnsQuery: an A query for example.com over TCP (RFC 7766: each message after
	// its two-byte length).
	dnsQuery = floodProto{append([]byte{0, 29, 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0},
		append([]byte("\x07example\x03com\x00"), 0, 1, 0, 1)...), dnsAnswered}
)

// dnsAnswered reads one DNS message over TCP from c.
func dnsAnswered(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return false
	}
	msg := make([]byte, int(l[0])<<8|int(l[1]))
	_, err := io.ReadFull(c, msg)
	return err == nil && len(msg) >= 12 && msg[0] == 0x12 && msg[1] == 0x34
}

// answered reads an HTTP response from c (false: the connection was closed or
// reset without one).
func answered(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return true
}

// TestAttackPublicAPIHostPaths: root in an instance asks the API on the simulated
// internet for the host's own paths: the metrics (every account's calls counted by
// action), health, the task API and reset. None is found there; the query API is
// (unsigned: refused as AWS refuses it, which shows the request reached it).
func TestAttackPublicAPIHostPaths(t *testing.T) {
	e := newEnvWith(t, envOptions{sigv4: true})
	vpc := e.vpc("10.66.0.0/16")
	sn := e.subnet(vpc, "10.66.1.0/24")
	e.publicRoutes(vpc, sn, e.igw(vpc))
	a := e.launchPublic(sn)
	e.waitRunning(a)
	e.settle()
	addr := net.JoinHostPort(e.plane.InternetIP().String(), "4566")
	nsA := e.plane.InstanceNS(a)
	status := func(method, path string) (int, error) {
		c, err := e.dialIn(nsA, addr)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		body := "Action=DescribeVpcs&Version=2016-11-15"
		if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: api\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
			method, path, len(body), body); err != nil {
			return 0, err
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}
	e.waitFor("the query API answering A", func() (bool, string) {
		st, err := status("POST", "/")
		return err == nil && st != http.StatusNotFound, fmt.Sprint(st, err)
	})
	for _, r := range [][2]string{{"GET", "/metrics"}, {"GET", "/healthz"}, {"POST", api.ResetPath}, {"POST", api.MotoResetPath}, {"GET", api.TasksPath}} {
		st, err := status(r[0], r[1])
		if err != nil || st != http.StatusNotFound {
			t.Errorf("%s %s from inside an instance: %d %v, want 404", r[0], r[1], st, err)
		}
	}
}
