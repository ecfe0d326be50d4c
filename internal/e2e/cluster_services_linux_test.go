package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/eni-net/eni/internal/api"
)

// TestClusterNatGateway: a NAT gateway is realised on one host of its zone (the
// lowest-named live one); private instances on every host reach the internet
// through it, seen from the gateway's Elastic IP, and nothing the internet starts
// reaches them. The gateway's namespace is on one host only, and deleting it
// removes it there.
func TestClusterNatGateway(t *testing.T) {
	c := newCluster(t, 2, 1)
	vpc := c.vpc("10.77.0.0/16")
	public := c.subnet(vpc, "10.77.1.0/24")
	private := c.subnet(vpc, "10.77.2.0/24")
	c.publicRoutes(vpc, public, c.igw(vpc))
	open := c.sgOpen(vpc, "open", "0.0.0.0/0")
	a, b := c.launchIn(private, open), c.launchIn(private, open)
	if c.hostOf(a) == c.hostOf(b) {
		t.Fatalf("%s and %s on one host", a, b)
	}
	inet := func(h int) string { return c.hostPrefix(h) + "-inet" }
	for h := 1; h <= 2; h++ {
		c.serve(inet(h), 80, "internet")
	}
	for _, id := range []string{a, b} {
		c.serve(c.ns(id), 8080, "instance")
	}
	eip, err := c.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	c.must(err)
	out, err := c.ec2.CreateNatGateway(ctx(), &ec2.CreateNatGatewayInput{SubnetId: aws.String(public), AllocationId: eip.AllocationId})
	c.must(err)
	nat := *out.NatGateway.NatGatewayId
	c.must(ec2.NewNatGatewayAvailableWaiter(c.ec2, func(o *ec2.NatGatewayAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	}).Wait(ctx(), &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{nat}}, 2*eventually))
	if h := c.hostOf(nat); h != 1 {
		ents, _ := os.ReadDir(netnsDir)
		var names []string
		for _, d := range ents {
			names = append(names, d.Name())
		}
		t.Fatalf("NAT gateway %s realised on host %d, want h1 (the zone's lowest-named); namespaces: %v", nat, h, names)
	}
	if _, err := os.Stat(filepath.Join(netnsDir, c.hostPrefix(2)+"-"+nat)); err == nil {
		t.Fatalf("NAT gateway %s realised on h2 too", nat)
	}
	c.natRoute(natSetup{vpc: vpc, private: private}, nat)
	target := net.JoinHostPort(c.plane.InternetIP().String(), "80")
	for _, id := range []string{a, b} {
		got := c.reach(c.ns(id), target, "internet")
		if !strings.Contains(got, " "+*eip.PublicIp+":") {
			t.Fatalf("from %s (host %d): the internet saw %q, want the gateway's Elastic IP %s", id, c.hostOf(id), got, *eip.PublicIp)
		}
	}
	for h := 1; h <= 2; h++ {
		c.noReach(inet(h), net.JoinHostPort(*eip.PublicIp, "8080"))
	}
	_, err = c.ec2.DeleteNatGateway(ctx(), &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String(nat)})
	c.must(err)
	c.must(ec2.NewNatGatewayDeletedWaiter(c.ec2, func(o *ec2.NatGatewayDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	}).Wait(ctx(), &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{nat}}, 2*eventually))
	c.waitFor("the gateway's namespace gone", func() (bool, string) {
		h := c.hostOf(nat)
		return h == 0, fmt.Sprintf("still on host %d", h)
	})
	c.noReach(c.ns(b), target)
}

// TestClusterVPCEndpoint: an interface endpoint of EC2 is realised on one host
// (its namespace), and instances on every host call EC2 through it with the
// SDK for Go: the host's agent forwards the requests to the API with the
// cluster's agent token, and the API serves them as its endpoint's (EC2
// only). Over HTTP, and over HTTPS with the cluster's endpoint CA, which eni
// serve writes to its data directory. Headers an instance forges are not the agent's,
// and a request to the API with a wrong token is refused.
func TestClusterVPCEndpoint(t *testing.T) {
	c := newClusterServe(t, 2, 1, "--allow-insecure-bind")
	vpc := c.vpc("10.78.0.0/16")
	s := c.subnet(vpc, "10.78.1.0/24")
	open := c.sgOpen(vpc, "open", "10.78.0.0/16")
	a, b := c.launchIn(s, open), c.launchIn(s, open)
	if c.hostOf(a) == c.hostOf(b) {
		t.Fatalf("%s and %s on one host", a, b)
	}
	cr, err := c.ec2.CreateVpcEndpoint(ctx(), &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: aws.String("com.amazonaws.us-east-1.ec2"),
		VpcEndpointType: types.VpcEndpointTypeInterface, SubnetIds: []string{s}, SecurityGroupIds: []string{open}, PrivateDnsEnabled: aws.Bool(false)})
	c.must(err)
	vpce := aws.ToString(cr.VpcEndpoint.VpcEndpointId)
	dnsName := aws.ToString(cr.VpcEndpoint.DnsEntries[0].DnsName)
	caBundle := "AWS_CA_BUNDLE=" + filepath.Join(c.dir, "api", api.EndpointCAFile)
	for _, inst := range []string{a, b} {
		for _, envs := range [][]string{{"AWS_ENDPOINT_URL=http://" + dnsName}, {"AWS_ENDPOINT_URL=https://" + dnsName, caBundle}} {
			var got string
			c.waitFor(fmt.Sprintf("%s (host %d): the SDK at %s", inst, c.hostOf(inst), envs[0]), func() (bool, string) {
				var err error
				got, err = c.inInstance(inst, append(envs, sdkEndpointEnv+"=1", "ENI_E2E_TIMEOUT=20s",
					"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1"), os.Args[0])
				return err == nil, fmt.Sprint(err)
			})
			if want := "EnvConfigCredentials - " + vpce; got != want {
				t.Fatalf("%s, %s: %q, want %q", inst, envs[0], got, want)
			}
		}
	}
	// From inside an instance, headers forged to pass the EC2 endpoint off as STS's (and
	// a token of its own): the agent sends its token and the endpoint's service, so STS's
	// action through the EC2 endpoint is refused, as AWS refuses it.
	for _, inst := range []string{a, b} {
		got, err := c.inInstance(inst, nil, "curl", "-s", "--max-time", "10", "-H", api.AgentEndpointHeader+": sts",
			"-H", api.AgentTokenHeader+": forged", "-d", "Action=GetCallerIdentity&Version=2011-06-15", "http://"+dnsName+"/")
		if err != nil || !strings.Contains(got, "InvalidAction") || strings.Contains(got, "GetCallerIdentityResult") {
			t.Fatalf("%s: STS through the EC2 endpoint with forged headers: %q, %v; want InvalidAction", inst, got, err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, c.url+"/", strings.NewReader("Action=DescribeVpcs&Version=2016-11-15"))
	c.must(err)
	req.Header.Set(api.AgentTokenHeader, "forged")
	req.Header.Set(api.AgentEndpointHeader, "ec2")
	res, err := http.DefaultClient.Do(req)
	c.must(err)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a request with a forged agent token: %s, want 403", res.Status)
	}
}

// inInstance is env.inInstance on whichever host holds inst.
func (c *clusterEnv) inInstance(inst string, envs []string, argv ...string) (string, error) {
	return execIn(c.t, c.bin, c.hostPrefix(c.hostOf(inst)), c.url, inst, envs, argv...)
}
