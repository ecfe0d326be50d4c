package imds_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsimds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sys/unix"

	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/imds"
	"github.com/eni-net/eni/internal/sigv4"
)

// askerListener hands out connections that ask as the ENI its test sets: what the
// data plane's listener does with the ENI a connection came in through.
type askerListener struct {
	net.Listener
	eni   atomic.Pointer[string]
	mu    sync.Mutex
	conns []net.Conn
}

type askerConn struct {
	*net.TCPConn
	eni string
	ttl atomic.Int32 // the socket's IP TTL when it was closed (0: open)
}

func (c *askerConn) Close() error {
	if raw, err := c.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			if v, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TTL); err == nil {
				c.ttl.Store(int32(v))
			}
		})
	}
	return c.TCPConn.Close()
}

func (c *askerConn) MetadataAsker() string { return c.eni }

func (l *askerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ac := &askerConn{TCPConn: c.(*net.TCPConn), eni: *l.eni.Load()}
	l.mu.Lock()
	l.conns = append(l.conns, ac)
	l.mu.Unlock()
	return ac, nil
}

type fixture struct {
	t      *testing.T
	api    *apitest.Env
	ec2    *ec2.Client
	srv    *imds.Server
	ln     *askerListener
	url    string
	key    *rsa.PrivateKey
	now    atomic.Pointer[time.Time]
	vpc    string
	subnet string
	auth   atomic.Pointer[sigv4.Verifier] // the API's, under newIAMFixture
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t}
	f.api = apitest.New(t)
	f.ec2 = f.api.Client()
	var err error
	f.key, err = imds.LoadOrCreateKey("")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f.now.Store(&now)
	f.srv = imds.New(imds.Options{
		Lookup: func(eni string) (core.MetadataView, bool) { return f.api.Core.InstanceMetadataOf("us-east-1", eni) },
		Key:    f.key, Now: func() time.Time { return *f.now.Load() },
	})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = &askerListener{Listener: ln}
	none := ""
	f.ln.eni.Store(&none)
	go func() { _ = f.srv.Serve(f.ln) }() // returns when the listener closes
	t.Cleanup(func() { _ = ln.Close() })
	f.url = "http://" + ln.Addr().String()
	ctx := context.Background()
	vpc, err := f.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	f.vpc = *vpc.Vpc.VpcId
	sn, err := f.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	f.subnet = *sn.Subnet.SubnetId
	return f
}

// launch runs an instance and returns its id and primary ENI.
func (f *fixture) launch(in *ec2.RunInstancesInput) (string, types.InstanceNetworkInterface) {
	f.t.Helper()
	in.ImageId, in.InstanceType = aws.String("ami-0abcdef1234567890"), types.InstanceTypeT3Small
	in.SubnetId, in.MinCount, in.MaxCount = aws.String(f.subnet), aws.Int32(1), aws.Int32(1)
	out, err := f.ec2.RunInstances(context.Background(), in)
	if err != nil {
		f.t.Fatal(err)
	}
	i := out.Instances[0]
	return *i.InstanceId, i.NetworkInterfaces[0]
}

// as makes the next connections ask through eni.
func (f *fixture) as(eni string) { f.ln.eni.Store(&eni) }

// client is the SDK's IMDS client on the fixture's listener, new connections each time.
func (f *fixture) client(fallback aws.Ternary) *awsimds.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return awsimds.New(awsimds.Options{Endpoint: f.url, EnableFallback: fallback, HTTPClient: &http.Client{Transport: tr}})
}

func (f *fixture) get(c *awsimds.Client, path string) string {
	f.t.Helper()
	out, err := c.GetMetadata(context.Background(), &awsimds.GetMetadataInput{Path: path})
	if err != nil {
		f.t.Fatalf("GetMetadata %s: %v", path, err)
	}
	b, _ := io.ReadAll(out.Content)
	return string(b)
}

// raw sends one request on a new connection and returns status and body.
func (f *fixture) raw(method, path string, hdr map[string]string) (int, string, http.Header) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.url+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestMetadataTree: what the SDK's IMDS client reads for a two-ENI instance with an
// Elastic IP, a key pair and user data is the model's, and changes show at once.
func TestMetadataTree(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.ec2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	id, eni0 := f.launch(&ec2.RunInstancesInput{KeyName: aws.String("ops"),
		UserData:        aws.String(base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n"))),
		MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateOptional}})
	f.as(*eni0.NetworkInterfaceId)
	c := f.client(aws.FalseTernary)
	for path, want := range map[string]string{
		"instance-id": id, "instance-type": "t3.small", "ami-id": "ami-0abcdef1234567890",
		"local-ipv4": *eni0.PrivateIpAddress, "mac": *eni0.MacAddress,
		"local-hostname":              "ip-" + strings.ReplaceAll(*eni0.PrivateIpAddress, ".", "-") + ".ec2.internal",
		"placement/availability-zone": "us-east-1a", "placement/availability-zone-id": "use1-az1",
		"placement/region": "us-east-1", "security-groups": "default",
		"network/interfaces/macs/" + *eni0.MacAddress + "/device-number":          "0",
		"network/interfaces/macs/" + *eni0.MacAddress + "/interface-id":           *eni0.NetworkInterfaceId,
		"network/interfaces/macs/" + *eni0.MacAddress + "/subnet-id":              f.subnet,
		"network/interfaces/macs/" + *eni0.MacAddress + "/vpc-id":                 f.vpc,
		"network/interfaces/macs/" + *eni0.MacAddress + "/subnet-ipv4-cidr-block": "10.0.1.0/24",
		"network/interfaces/macs/" + *eni0.MacAddress + "/vpc-ipv4-cidr-blocks":   "10.0.0.0/16",
		"public-keys/":              "0=ops",
		"public-keys/0/openssh-key": f.publicKey("ops") + " ops",
	} {
		if got := f.get(c, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	idx := f.get(c, "")
	for _, want := range []string{"ami-id", "instance-id", "local-ipv4", "mac", "network/", "placement/", "public-keys/", "security-groups"} {
		if !slices.Contains(strings.Split(idx, "\n"), want) {
			t.Errorf("meta-data/ lists %q, missing %s", idx, want)
		}
	}
	if slices.Contains(strings.Split(idx, "\n"), "public-ipv4") {
		t.Errorf("meta-data/ lists public-ipv4 for an instance without one: %q", idx)
	}
	ud, err := c.GetUserData(ctx, &awsimds.GetUserDataInput{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(ud.Content); string(b) != "#!/bin/sh\necho hi\n" {
		t.Errorf("user-data %q", b)
	}
	doc, err := c.GetInstanceIdentityDocument(ctx, &awsimds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.InstanceID != id || doc.AccountID != "123456789012" || doc.Region != "us-east-1" || doc.PrivateIP != *eni0.PrivateIpAddress ||
		doc.AvailabilityZone != "us-east-1a" || doc.InstanceType != "t3.small" || doc.Version != "2017-09-30" {
		t.Errorf("identity document %+v", doc.InstanceIdentityDocument)
	}
	f.checkSignature(c)

	// A second ENI and an Elastic IP: in the tree as soon as the API has answered.
	ni, err := f.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(f.subnet), SecondaryPrivateIpAddressCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	eni1 := ni.NetworkInterface
	if _, err := f.ec2.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: eni1.NetworkInterfaceId, InstanceId: &id, DeviceIndex: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	alloc, err := f.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	igw, _ := f.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if _, err := f.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: &f.vpc}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, NetworkInterfaceId: eni1.NetworkInterfaceId}); err != nil {
		t.Fatal(err)
	}
	macs := f.get(c, "network/interfaces/macs/")
	if want := []string{*eni0.MacAddress + "/", *eni1.MacAddress + "/"}; !sameSet(strings.Split(macs, "\n"), want) {
		t.Errorf("macs/ = %q, want %q", macs, want)
	}
	dir := "network/interfaces/macs/" + *eni1.MacAddress + "/"
	ips := []string{*eni1.PrivateIpAddress, *eni1.PrivateIpAddresses[1].PrivateIpAddress}
	for path, want := range map[string]string{
		"device-number": "1", "interface-id": *eni1.NetworkInterfaceId, "local-ipv4s": strings.Join(ips, "\n"),
		"public-ipv4s": *alloc.PublicIp, "ipv4-associations/" + *alloc.PublicIp: ips[0], "ipv4-associations/": *alloc.PublicIp,
		"owner-id": "123456789012", "network-card": "0",
	} {
		if got := f.get(c, dir+path); got != want {
			t.Errorf("%s = %q, want %q", dir+path, got, want)
		}
	}
	// Detached: gone from the tree.
	if _, err := f.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{PublicIp: alloc.PublicIp}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := f.raw("GET", "/latest/meta-data/"+dir+"public-ipv4s", nil); st != 404 {
		t.Errorf("public-ipv4s after disassociation: %d, want 404", st)
	}
}

func (f *fixture) publicKey(name string) string {
	out, err := f.ec2.DescribeKeyPairs(context.Background(), &ec2.DescribeKeyPairsInput{KeyNames: []string{name}, IncludePublicKey: aws.Bool(true)})
	if err != nil {
		f.t.Fatal(err)
	}
	fs := strings.Fields(*out.KeyPairs[0].PublicKey)
	return fs[0] + " " + fs[1]
}

// checkSignature verifies the identity document's signature with the public key of
// the certificate the server publishes.
func (f *fixture) checkSignature(c *awsimds.Client) {
	f.t.Helper()
	ctx := context.Background()
	get := func(p string) []byte {
		out, err := c.GetDynamicData(ctx, &awsimds.GetDynamicDataInput{Path: p})
		if err != nil {
			f.t.Fatalf("%s: %v", p, err)
		}
		b, _ := io.ReadAll(out.Content)
		return b
	}
	doc, sig64 := get("instance-identity/document"), get("instance-identity/signature")
	sig, err := base64.StdEncoding.DecodeString(string(sig64))
	if err != nil {
		f.t.Fatal(err)
	}
	certPEM, err := imds.Certificate(f.key)
	if err != nil {
		f.t.Fatal(err)
	}
	blk, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		f.t.Fatal(err)
	}
	h := sha256.Sum256(doc)
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, h[:], sig); err != nil {
		f.t.Errorf("identity document signature: %v", err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestSessions: IMDSv2 as AWS answers it — token TTLs, 401 without a token when
// tokens are required and for a bad, expired or other instance's token, 403 through a
// proxy and when the endpoint is disabled, 400 for a bad TTL, IMDSv1 while optional,
// and the PUT's reply sent with the hop limit as its TTL.
func TestSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, eniA := f.launch(&ec2.RunInstancesInput{MetadataOptions: &types.InstanceMetadataOptionsRequest{
		HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(3)}})
	_, eniB := f.launch(&ec2.RunInstancesInput{MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateOptional}})

	f.as(*eniA.NetworkInterfaceId)
	if st, body, _ := f.raw("GET", "/latest/meta-data/instance-id", nil); st != 401 || !strings.Contains(body, "401 - Unauthorized") {
		t.Errorf("IMDSv1 with tokens required: %d %q, want 401", st, body)
	}
	for _, ttl := range []string{"", "0", "21601", "-1", "x", "1.5"} {
		hdr := map[string]string{}
		if ttl != "" {
			hdr[imds.TokenTTLHeader] = ttl
		}
		if st, _, _ := f.raw("PUT", "/latest/api/token", hdr); st != 400 {
			t.Errorf("PUT token TTL %q: %d, want 400", ttl, st)
		}
	}
	if st, _, _ := f.raw("PUT", "/latest/api/token", map[string]string{imds.TokenTTLHeader: "60", "X-Forwarded-For": "10.0.0.9"}); st != 403 {
		t.Errorf("PUT token through a proxy: %d, want 403", st)
	}
	st, tok, hdr := f.raw("PUT", "/latest/api/token", map[string]string{imds.TokenTTLHeader: "21600"})
	if st != 200 || hdr.Get(imds.TokenTTLHeader) != "21600" {
		t.Fatalf("PUT token: %d %q ttl %q", st, tok, hdr.Get(imds.TokenTTLHeader))
	}
	if ttl := f.lastTTL(); ttl != 3 {
		t.Errorf("token reply sent with TTL %d, want the hop limit 3", ttl)
	}
	if st, body, _ := f.raw("GET", "/latest/meta-data/instance-id", map[string]string{imds.TokenHeader: tok}); st != 200 || body != a {
		t.Errorf("GET with token: %d %q", st, body)
	}
	if st, _, _ := f.raw("GET", "/latest/meta-data/instance-id", map[string]string{imds.TokenHeader: tok + "x"}); st != 401 {
		t.Errorf("GET with a bad token: %d, want 401", st)
	}
	// The SDK's client (IMDSv2 only) works.
	if got := f.get(f.client(aws.FalseTernary), "instance-id"); got != a {
		t.Errorf("SDK: instance-id %q", got)
	}

	// B: tokens optional, IMDSv1 works, A's token does not.
	f.as(*eniB.NetworkInterfaceId)
	if st, _, _ := f.raw("GET", "/latest/meta-data/instance-id", nil); st != 200 {
		t.Errorf("IMDSv1 with tokens optional: %d", st)
	}
	if st, body, _ := f.raw("GET", "/latest/meta-data/instance-id", map[string]string{imds.TokenHeader: tok}); st != 401 {
		t.Errorf("B with A's token: %d %q, want 401", st, body)
	}
	if ttl := f.lastTTL(); ttl == 3 {
		t.Errorf("B's GET sent with A's hop limit")
	}

	// A's token expires.
	f.as(*eniA.NetworkInterfaceId)
	later := time.Now().Add(21601 * time.Second)
	f.now.Store(&later)
	if st, _, _ := f.raw("GET", "/latest/meta-data/instance-id", map[string]string{imds.TokenHeader: tok}); st != 401 {
		t.Errorf("expired token: %d, want 401", st)
	}

	// Endpoint disabled: 403 for everything.
	if _, err := f.ec2.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: &a, HttpEndpoint: types.InstanceMetadataEndpointStateDisabled}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"GET", "PUT"} {
		if st, _, _ := f.raw(m, "/latest/api/token", map[string]string{imds.TokenTTLHeader: "60"}); st != 403 && m == "PUT" {
			t.Errorf("PUT token with the endpoint disabled: %d, want 403", st)
		}
	}
	if st, _, _ := f.raw("GET", "/latest/meta-data/instance-id", nil); st != 403 {
		t.Errorf("GET with the endpoint disabled: %d, want 403", st)
	}
	// An ENI no instance holds asks nothing.
	f.as("eni-0000000000000000")
	if st, _, _ := f.raw("GET", "/latest/meta-data/instance-id", nil); st != 404 {
		t.Errorf("unknown ENI: %d, want 404", st)
	}
}

// lastTTL is the IP TTL of the last connection the server accepted, once it closed.
func (f *fixture) lastTTL() int {
	f.ln.mu.Lock()
	c := f.ln.conns[len(f.ln.conns)-1].(*askerConn)
	f.ln.mu.Unlock()
	for range 200 {
		if v := c.ttl.Load(); v != 0 {
			return int(v)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatal("the server did not close the connection")
	return 0
}
