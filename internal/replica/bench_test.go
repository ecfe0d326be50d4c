package replica_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/etcdtest"
)

// A write acknowledged by the writer, to visible on the other replica: the
// watch's lag (the follower's model has the commit's revision) and a read
// through the follower's API (its barrier included), p50/p99 in ms.
func BenchmarkReplicaStaleness(b *testing.B) {
	cl := etcdtest.Start(b, 1)
	a := startNode(b, cl, "/eni-stale/")
	waitLeader(b, a)
	f := startNode(b, cl, "/eni-stale/")
	waitLeader(b, a, f)
	ca, cf := a.client(), f.client()
	vpc, err := ca.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		b.Fatal(err)
	}
	sub, err := ca.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.0.0/16"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		b.Fatal(err)
	}
	var lag, read []time.Duration
	b.ResetTimer()
	for range b.N {
		out, err := ca.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId})
		if err != nil {
			b.Fatal(err)
		}
		acked, rev := time.Now(), a.st.Revision()
		for f.rep.Applied() < rev {
			time.Sleep(20 * time.Microsecond)
		}
		lag = append(lag, time.Since(acked))
		b.StopTimer()
		out2, err := ca.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		got, err := cf.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{*out2.NetworkInterface.NetworkInterfaceId}})
		if err != nil || len(got.NetworkInterfaces) != 1 {
			b.Fatalf("the follower does not see %s: %v", *out.NetworkInterface.NetworkInterfaceId, err)
		}
		read = append(read, time.Since(t0))
	}
	b.StopTimer()
	report := func(d []time.Duration, name string) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2])/1e6, name+"-p50-ms")
		b.ReportMetric(float64(d[min(len(d)-1, len(d)*99/100)])/1e6, name+"-p99-ms")
	}
	report(lag, "watch-lag")
	report(read, "follower-read")
}

// CreateNetworkInterface through the writer and through a replica that forwards it
// (one client, one call at a time), in one run: what the forward costs.
func BenchmarkReplicaWrite(b *testing.B) {
	cl := etcdtest.Start(b, 1)
	a := startNode(b, cl, "/eni-fwd/")
	waitLeader(b, a)
	f := startNode(b, cl, "/eni-fwd/")
	waitLeader(b, a, f)
	ca := a.client()
	vpc, err := ca.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		b.Fatal(err)
	}
	sub, err := ca.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.0.0/16"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		b.Fatal(err)
	}
	for _, via := range []struct {
		name string
		n    *node
	}{{"writer", a}, {"forwarded", f}} {
		b.Run(via.name, func(b *testing.B) {
			c := via.n.client()
			var ds []time.Duration
			for range b.N {
				t0 := time.Now()
				if _, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId}); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2])/1e6, "p50-ms")
			b.ReportMetric(float64(ds[min(len(ds)-1, len(ds)*99/100)])/1e6, "p99-ms")
		})
	}
}
