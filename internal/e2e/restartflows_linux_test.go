package e2e

import (
	"bufio"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/dataplane"
)

// TestFlowsSurviveKill9: an established TCP connection between two instances of eni
// serve (the Linux data plane) goes on while the server is killed with SIGKILL, and after
// it starts again: the new server's plane gives every ENI the mark the old one gave it
// (a connection's tracked state names its two ENIs' marks), although a fresh numbering
// would differ here — an instance terminated before the kill left a gap.
func TestFlowsSurviveKill9(t *testing.T) {
	requireNetAdmin(t)
	srv := newServeProc(t, "f", filepath.Join(t.TempDir(), "data"))
	srv.start()
	plane, err := dataplane.New(dataplane.Options{Prefix: srv.prefix}) // names and namespaces only
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ec2: apitest.NewClient(srv.url, "us-east-1", "test", "test"), plane: plane, prefix: srv.prefix}
	vpc := e.vpc("10.67.0.0/16")
	subnet := e.subnet(vpc, "10.67.1.0/24")
	sg := e.sgOpen(vpc, "open", "10.67.0.0/16")
	var ids []string
	for range 3 { // one at a time: marks 1, 2, 3 in this order
		id := e.launch(subnet, sg)
		e.waitRunning(id)
		ids = append(ids, id)
	}
	_, err = e.ec2.TerminateInstances(ctx(), &ec2.TerminateInstancesInput{InstanceIds: []string{ids[1]}})
	e.must(err)
	e.waitFor(ids[1]+" gone from the host", func() (bool, string) { return !e.hasNS(plane.InstanceNS(ids[1])), "still there" })
	last := e.launch(subnet, sg) // mark 4; a fresh numbering of three ENIs stops at 3
	e.waitRunning(last)
	server := *e.primaryENI(ids[0]).PrivateIpAddress
	echoTCP(t, plane, plane.InstanceNS(ids[0]), 9000)
	conn, err := e.dialIn(plane.InstanceNS(last), net.JoinHostPort(server, "9000"))
	e.must(err)
	defer conn.Close()
	echo := lineEcho(t, conn, "the connection established before")
	echo("before")
	srv.kill()
	echo("while the server is down")
	srv.start()
	// The new server's plane has made its passes once an instance launched after the
	// start is running and reachable.
	probe := e.launch(subnet, sg)
	e.waitRunning(probe)
	e.serve(plane.InstanceNS(probe), 80, "probe")
	e.reach(plane.InstanceNS(ids[0]), net.JoinHostPort(*e.primaryENI(probe).PrivateIpAddress, "80"), "probe")
	echo("after the restart")
}

// lineEcho returns a check that sends a line on conn (to an echoTCP server) and
// fails the test unless the same line comes back within 5 s; desc names the
// connection in the failure.
func lineEcho(t *testing.T, conn net.Conn, desc string) func(what string) {
	r := bufio.NewReader(conn)
	return func(what string) {
		t.Helper()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(what + "\n")); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if line, err := r.ReadString('\n'); err != nil || line != what+"\n" {
			t.Fatalf("%s: %s: %q, %v", what, desc, line, err)
		}
	}
}

// echoTCP serves lines back on every connection to port in the namespace.
func echoTCP(t *testing.T, plane *dataplane.Plane, nsname string, port int) {
	t.Helper()
	var ln net.Listener
	if err := plane.Do(nsname, func() error {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
}
