package e2e

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/etcdtest"
)

// Two `eni serve --store etcd` processes on one etcd, as the README runs
// them: the first writes; a VPC created through the second (forwarded) is
// read back on both at once; kill -9 the writer and the second takes over
// (its /healthz says so) and serves writes, with what was acknowledged.
// API only: no data plane, no root needed.
func TestServeReplicasOnEtcd(t *testing.T) {
	cl := etcdtest.Start(t, 1)
	replica := func() *serveProc {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close() // the server takes it
		p := &serveProc{t: t, bin: eniBinary(t), url: "http://" + addr}
		p.args = []string{"serve", "--listen", addr, "--data", t.TempDir(), "--dataplane", "none", "--log-level", "warn",
			"--store", "etcd", "--etcd-endpoints", strings.Join(cl.Endpoints, ","), "--etcd-prefix", "/eni-e2e-replicas/", "--replica-lease", "2"}
		t.Cleanup(p.kill)
		p.start()
		return p
	}
	role := func(p *serveProc) string {
		resp, err := http.Get(p.url + "/healthz")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		_, r, _ := strings.Cut(string(b), "\n")
		return strings.TrimSpace(r)
	}
	waitRole := func(p *serveProc, want string) {
		t.Helper()
		deadline := time.Now().Add(eventually)
		for role(p) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: /healthz says %q, want %q", p.url, role(p), want)
			}
			time.Sleep(pollInterval)
		}
	}
	a := replica()
	waitRole(a, "writer")
	b := replica()
	waitRole(b, "replica of "+a.url)
	ca, cb := apitest.NewClient(a.url, "us-east-1", "test", "test"), apitest.NewClient(b.url, "us-east-1", "test", "test")
	vpc, err := cb.CreateVpc(ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.42.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*ec2.Client{ca, cb} {
		out, err := c.DescribeVpcs(ctx(), &ec2.DescribeVpcsInput{VpcIds: []string{*vpc.Vpc.VpcId}})
		if err != nil || len(out.Vpcs) != 1 {
			t.Fatalf("the VPC written through the replica is not read back at once: %v", err)
		}
	}
	a.kill()
	waitRole(b, "writer")
	sub, err := cb.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.42.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatalf("after the writer was killed: %v", err)
	}
	a.start() // back, as a replica of b
	waitRole(a, "replica of "+b.url)
	out, err := ca.DescribeSubnets(ctx(), &ec2.DescribeSubnetsInput{SubnetIds: []string{*sub.Subnet.SubnetId}})
	if err != nil || len(out.Subnets) != 1 {
		t.Fatalf("the restarted replica does not read the subnet written meanwhile: %v", err)
	}
}
