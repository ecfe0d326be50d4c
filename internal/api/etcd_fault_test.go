package api_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/etcdtest"
)

// A 3-member etcd loses its leader while four clients (the SDK's standard
// retries) create ENIs as fast as they can: the service goes on (a call of
// the election may fail, with a 5xx, after its retries; each client then
// succeeds again), and a new server on the two members left finds every ENI
// that was acknowledged, with its address and MAC, none held twice, and the
// model's invariants hold.
func TestEtcdLosesMemberUnderWriteLoad(t *testing.T) {
	cl := etcdtest.Start(t, 3)
	open := etcdOpener(cl, "/eni-fault/")
	e := apitest.New(t, apitest.Options{Open: open})
	c := e.Client()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.8.0.0/20"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}

	// Clients as users run them: the SDK's standard retries (3 attempts).
	load := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.Server.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: apitest.HTTPClient()})
	const workers, killAt, after = 4, 40, 10 // the leader goes after killAt acknowledgements; each worker goes on to `after` more
	var (
		mu       sync.Mutex
		acked    = map[string]types.NetworkInterface{}
		failed   []error
		gone     = -1
		deadline = time.Now().Add(60 * time.Second)
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			since := 0 // successes after the leader went
			for since < after && time.Now().Before(deadline) {
				out, err := load.CreateNetworkInterface(context.Background(), &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId})
				mu.Lock()
				if err != nil {
					failed = append(failed, err)
				} else {
					acked[aws.ToString(out.NetworkInterface.NetworkInterfaceId)] = *out.NetworkInterface
					if gone >= 0 {
						since++
					}
					if len(acked) == killAt {
						gone = killLeader(t, cl)
					}
				}
				mu.Unlock()
			}
			if since < after {
				t.Errorf("a client had %d successful calls in 60 s after the leader went, want %d: the service did not go on", since, after)
			}
		}()
	}
	wg.Wait()
	// What failed, failed as a server's transient failure (the SDK retried it), never as the client's mistake.
	for _, err := range failed {
		var re *smithyhttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() < 500 {
			t.Errorf("a call during the election failed with %v, want a 5xx", err)
		}
	}
	t.Logf("leader m%d closed after %d acknowledgements: %d acknowledged, %d failed after the SDK's retries", gone, killAt, len(acked), len(failed))
	e.Close()

	left := &etcdtest.Cluster{}
	for i, m := range cl.Members {
		if i != gone {
			left.Members = append(left.Members, m)
			left.Endpoints = append(left.Endpoints, cl.Endpoints[i])
		}
	}
	e2 := apitest.New(t, apitest.Options{Open: etcdOpener(left, "/eni-fault/")})
	d, err := e2.Client().DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("subnet-id"), Values: []string{aws.ToString(sub.Subnet.SubnetId)}}}})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]types.NetworkInterface{}
	ips, macs := map[string]bool{}, map[string]bool{}
	for _, n := range d.NetworkInterfaces {
		have[aws.ToString(n.NetworkInterfaceId)] = n
		if ips[aws.ToString(n.PrivateIpAddress)] || macs[aws.ToString(n.MacAddress)] {
			t.Errorf("%s: address %s or MAC %s held twice", aws.ToString(n.NetworkInterfaceId), aws.ToString(n.PrivateIpAddress), aws.ToString(n.MacAddress))
		}
		ips[aws.ToString(n.PrivateIpAddress)], macs[aws.ToString(n.MacAddress)] = true, true
	}
	for id, a := range acked {
		n, ok := have[id]
		if !ok {
			t.Errorf("acknowledged %s is lost", id)
			continue
		}
		if aws.ToString(n.PrivateIpAddress) != aws.ToString(a.PrivateIpAddress) || aws.ToString(n.MacAddress) != aws.ToString(a.MacAddress) {
			t.Errorf("%s: %s %s, acknowledged with %s %s", id, aws.ToString(n.PrivateIpAddress), aws.ToString(n.MacAddress),
				aws.ToString(a.PrivateIpAddress), aws.ToString(a.MacAddress))
		}
	}
	if errs := e2.Core.Check(); len(errs) > 0 {
		t.Fatalf("invariants: %v", errs)
	}
}

// killLeader closes the cluster's leader and returns its index.
func killLeader(t *testing.T, cl *etcdtest.Cluster) int {
	t.Helper()
	for i, m := range cl.Members {
		if m.Server.Leader() == m.Server.MemberID() {
			cl.Stop(i)
			return i
		}
	}
	cl.Stop(0) // no leader known: any member
	return 0
}
