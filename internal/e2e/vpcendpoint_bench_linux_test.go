package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/api"
)

// BenchmarkVPCEndpointCall: one EC2 call (DescribeVpcs, the SDK for Go, SigV4) from
// inside an instance through an interface endpoint of EC2, over HTTP and over HTTPS on
// kept-alive connections, and over HTTPS with a new connection (TCP and TLS handshake)
// each call; against the same call from the host to the server's own listener ("host",
// the baseline). ns/op is the call's latency, one call at a time.
func BenchmarkVPCEndpointCall(b *testing.B) {
	e := newEnvWith(b, envOptions{sigv4: true})
	vpc := e.vpc("10.64.0.0/16")
	subnet := e.subnet(vpc, "10.64.1.0/24")
	group := e.sg(vpc, "endpoint", 443, "10.64.0.0/16")
	_, err := e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &group, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("10.64.0.0/16")}}}}})
	e.must(err)
	inst := e.launch(subnet, e.sg(vpc, "client", 22))
	e.waitRunning(inst)
	cr, err := e.ec2.CreateVpcEndpoint(ctx(), &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: aws.String("com.amazonaws.us-east-1.ec2"),
		VpcEndpointType: types.VpcEndpointTypeInterface, SubnetIds: []string{subnet}, SecurityGroupIds: []string{group}, PrivateDnsEnabled: aws.Bool(false)})
	e.must(err)
	eni, ok := e.eni(cr.VpcEndpoint.NetworkInterfaceIds[0])
	if !ok {
		b.Fatal("no endpoint interface")
	}
	ip := aws.ToString(eni.PrivateIpAddress)
	ca, err := api.LoadOrCreateEndpointCA(e.endpointCADir)
	e.must(err)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	// Connections dialled inside the instance's namespace.
	inInstance := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := e.plane.DoInstance(inst, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	client := func(url string, tr *http.Transport) *ec2.Client {
		return ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), HTTPClient: &http.Client{Transport: tr},
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), RetryMaxAttempts: 1})
	}
	tlsConf := &tls.Config{RootCAs: roots, ServerName: "ec2.us-east-1.amazonaws.com"}
	for _, c := range []struct {
		name string
		c    *ec2.Client
	}{
		{"host", client(e.api.Server.URL, &http.Transport{})},
		{"endpoint-http", client("http://"+ip, &http.Transport{DialContext: inInstance})},
		{"endpoint-https", client("https://"+ip, &http.Transport{DialContext: inInstance, TLSClientConfig: tlsConf})},
		{"endpoint-https-new-conn", client("https://"+ip, &http.Transport{DialContext: inInstance, TLSClientConfig: tlsConf, DisableKeepAlives: true})},
	} {
		b.Run(c.name, func(b *testing.B) {
			e.waitFor(c.name+" answers", func() (bool, string) {
				_, err := c.c.DescribeVpcs(ctx(), &ec2.DescribeVpcsInput{})
				return err == nil, errText(err)
			})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.c.DescribeVpcs(ctx(), &ec2.DescribeVpcsInput{VpcIds: []string{vpc}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
