package imds_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/iamcreds"
	"github.com/eni-net/eni/internal/imds"
	"github.com/eni-net/eni/internal/sigv4"
)

const (
	iamTestKey    = "AKIAOWNER00000000001"
	iamTestSecret = "owner-secret"
	iamTestAcct   = "333333333333"
)

// newIAMFixture is newFixture under --auth sigv4, with the server's
// credential issuer in both the metadata service and the API's verifier.
func newIAMFixture(t *testing.T) *fixture {
	f := &fixture{t: t}
	now := time.Now()
	f.now.Store(&now)
	clock := func() time.Time { return *f.now.Load() }
	issuer := &iamcreds.Issuer{Key: []byte("0123456789abcdef0123456789abcdef")}
	keys, err := sigv4.Parse(strings.NewReader(iamTestKey + " " + iamTestSecret + " " + iamTestAcct + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	f.auth.Store(&sigv4.Verifier{Keys: keys, Now: time.Now, Session: issuer.Session(clock)})
	verify := func(r *http.Request, body []byte) (string, error) { return f.auth.Load().Verify(r, body) }
	f.api = apitest.New(t, apitest.Options{Authenticate: verify, SessionIdentity: issuer.Identity(clock)})
	f.ec2 = apitest.NewClient(f.api.Server.URL, "us-east-1", iamTestKey, iamTestSecret)
	f.srv = imds.New(imds.Options{
		Lookup:      func(eni string) (core.MetadataView, bool) { return f.api.Core.InstanceMetadataOf("us-east-1", eni) },
		Credentials: issuer, Now: clock,
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
	vpc, err := f.ec2.CreateVpc(context.Background(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	f.vpc = *vpc.Vpc.VpcId
	sn, err := f.ec2.CreateSubnet(context.Background(), &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	f.subnet = *sn.Subnet.SubnetId
	return f
}

func (f *fixture) iamProfile(name string, withRole bool) {
	f.t.Helper()
	ctx := context.Background()
	c := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.api.Server.URL),
		Credentials: credentials.NewStaticCredentialsProvider(iamTestKey, iamTestSecret, ""), RetryMaxAttempts: 1})
	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil {
		f.t.Fatal(err)
	}
	if !withRole {
		return
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name + "-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name + "-role")}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) callerArn(creds aws.CredentialsProvider) (string, error) {
	c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.api.Server.URL), Credentials: creds, RetryMaxAttempts: 1})
	out, err := c.GetCallerIdentity(context.Background(), nil)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Arn), nil
}

// TestInstanceCredentials: the SDK's EC2 role credential provider, asking the
// metadata service as an instance launched with an instance profile, gets
// credentials that the API accepts under SigV4 as the instance's account and
// role (sts GetCallerIdentity, ec2 DescribeNetworkInterfaces); they rotate
// every hour, stay good until they expire (after a disassociation too, as on
// AWS), and nothing forged or tampered with is accepted.
func TestInstanceCredentials(t *testing.T) {
	f := newIAMFixture(t)
	ctx := context.Background()
	f.iamProfile("web", true)
	id, eni := f.launch(&ec2.RunInstancesInput{IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")}})
	f.as(*eni.NetworkInterfaceId)

	c := f.client(aws.FalseTernary)
	if got := f.get(c, "iam/security-credentials/"); got != "web-role" {
		t.Fatalf("security-credentials/ = %q", got)
	}
	if got := f.get(c, "iam/"); got != "info\nsecurity-credentials/" {
		t.Fatalf("iam/ = %q", got)
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(f.get(c, "iam/info")), &info); err != nil {
		t.Fatal(err)
	}
	if info["Code"] != "Success" || info["InstanceProfileArn"] != "arn:aws:iam::"+iamTestAcct+":instance-profile/web" || !strings.HasPrefix(info["InstanceProfileId"], "AIPA") {
		t.Fatalf("iam/info = %v", info)
	}
	var doc map[string]string
	if err := json.Unmarshal([]byte(f.get(c, "iam/security-credentials/web-role")), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["Code"] != "Success" || doc["Type"] != "AWS-HMAC" || !strings.HasPrefix(doc["AccessKeyId"], "ASIA") || doc["Token"] == "" {
		t.Fatalf("credentials document = %v", doc)
	}

	// The SDK's provider, as the default credential chain uses it on EC2.
	provider := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = c })
	creds, err := provider.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The document's Expiration is hours away; the SDK refreshes within the hour whatever it says.
	exp, err := time.Parse(time.RFC3339, doc["Expiration"])
	if err != nil || exp.Sub(*f.now.Load()) < iamcreds.Lifetime-iamcreds.Rotation {
		t.Fatalf("Expiration %q: %v", doc["Expiration"], err)
	}
	if !creds.CanExpire || time.Until(creds.Expires) < 30*time.Minute || creds.AccessKeyID != doc["AccessKeyId"] {
		t.Fatalf("retrieved %+v", creds)
	}
	static := credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	arn, err := f.callerArn(static)
	if err != nil || arn != "arn:aws:sts::"+iamTestAcct+":assumed-role/web-role/"+id {
		t.Fatalf("GetCallerIdentity = %q, %v", arn, err)
	}
	ec2c := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.api.Server.URL), Credentials: static, RetryMaxAttempts: 1})
	enis, err := ec2c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{*eni.NetworkInterfaceId}})
	if err != nil || len(enis.NetworkInterfaces) != 1 {
		t.Fatalf("DescribeNetworkInterfaces with instance credentials = %+v, %v", enis, err)
	}

	// Attacks: a tampered token, the secret of another session, credentials
	// made with another server's key.
	for name, p := range map[string]aws.CredentialsProvider{
		"tampered token": credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken[:len(creds.SessionToken)-2]+"AA"),
		"no token":       credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
		"forged": func() aws.CredentialsProvider {
			fc := (&iamcreds.Issuer{Key: []byte("attacker-key-attacker-key-attack")}).For(iamcreds.Claims{Account: iamTestAcct, Role: "web-role", Session: id}, time.Now())
			return credentials.NewStaticCredentialsProvider(fc.AccessKeyID, fc.SecretAccessKey, fc.Token)
		}(),
	} {
		if _, err := f.callerArn(p); apitest.Code(err) != "AuthFailure" {
			t.Errorf("%s: %v, want AuthFailure", name, err)
		}
	}
	wrongSecret := credentials.NewStaticCredentialsProvider(creds.AccessKeyID, strings.Repeat("x", 40), creds.SessionToken)
	_, err = f.callerArn(wrongSecret)
	apitest.WantCode(t, err, "SignatureDoesNotMatch")

	// An hour later: new credentials; the old ones still work.
	later := f.now.Load().Add(iamcreds.Rotation)
	f.now.Store(&later)
	fresh, err := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = f.client(aws.FalseTernary) }).Retrieve(ctx)
	if err != nil || fresh.AccessKeyID == creds.AccessKeyID {
		t.Fatalf("rotation: %+v, %v", fresh, err)
	}
	if _, err := f.callerArn(static); err != nil {
		t.Fatalf("old credentials after rotation: %v", err)
	}

	// Disassociated: the metadata service has no iam/ any more, credentials
	// handed out stay good until they expire, then fail.
	assoc, err := f.ec2.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}}})
	if err != nil || len(assoc.IamInstanceProfileAssociations) != 1 {
		t.Fatalf("associations %+v, %v", assoc, err)
	}
	if _, err := f.ec2.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: assoc.IamInstanceProfileAssociations[0].AssociationId}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := f.raw("GET", "/latest/meta-data/iam/info", nil); status != 404 {
		t.Fatalf("iam/info after disassociation: %d", status)
	}
	if _, err := f.callerArn(static); err != nil {
		t.Fatalf("credentials after disassociation: %v", err)
	}
	expired := exp.Add(time.Second)
	f.now.Store(&expired)
	_, err = f.callerArn(static)
	apitest.WantCode(t, err, "RequestExpired")
}

// An instance profile without a role: iam/info, no credentials.
func TestInstanceProfileWithoutRole(t *testing.T) {
	f := newIAMFixture(t)
	f.iamProfile("bare", false)
	_, eni := f.launch(&ec2.RunInstancesInput{IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("bare")}})
	f.as(*eni.NetworkInterfaceId)
	if got := f.get(f.client(aws.FalseTernary), "iam/"); got != "info" {
		t.Fatalf("iam/ = %q", got)
	}
	if status, _, _ := f.raw("GET", "/latest/meta-data/iam/security-credentials/", nil); status != 404 {
		t.Fatalf("security-credentials/ without a role: %d", status)
	}
	// An instance without a profile has no iam/ at all.
	_, plain := f.launch(&ec2.RunInstancesInput{})
	f.as(*plain.NetworkInterfaceId)
	if status, _, _ := f.raw("GET", "/latest/meta-data/iam/", nil); status != 404 {
		t.Fatalf("iam/ without a profile: %d", status)
	}
}

// TestAttackCredentialsOfRemovedAccount: the operator removes an account's
// keys from the credentials file (and restarts eni serve) to shut the tenant
// out; root in one of its instances keeps asking the metadata service. The
// instance credentials it had, and the new ones it gets, must not act for
// the account any more (they did, hour after hour, while the instance ran).
func TestAttackCredentialsOfRemovedAccount(t *testing.T) {
	f := newIAMFixture(t)
	ctx := context.Background()
	f.iamProfile("web", true)
	_, eni := f.launch(&ec2.RunInstancesInput{IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")}})
	f.as(*eni.NetworkInterfaceId)
	retrieve := func() aws.CredentialsProvider {
		creds, err := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = f.client(aws.FalseTernary) }).Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	}
	before := retrieve()
	if _, err := f.callerArn(before); err != nil {
		t.Fatalf("instance credentials while the account has keys: %v", err)
	}
	// The credentials file now holds another account's key only.
	old := f.auth.Load()
	keys, err := sigv4.Parse(strings.NewReader("AKIAOTHER00000000001 other-secret 444444444444\n"))
	if err != nil {
		t.Fatal(err)
	}
	f.auth.Store(&sigv4.Verifier{Keys: keys, Now: old.Now, Session: old.Session})
	for name, p := range map[string]aws.CredentialsProvider{"handed out before": before, "asked for after": retrieve()} {
		if _, err := f.callerArn(p); apitest.Code(err) != "AuthFailure" {
			t.Errorf("%s, GetCallerIdentity: %v, want AuthFailure", name, err)
		}
		c := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.api.Server.URL), Credentials: p, RetryMaxAttempts: 1})
		if _, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{}); apitest.Code(err) != "AuthFailure" {
			t.Errorf("%s, DescribeNetworkInterfaces: %v, want AuthFailure", name, err)
		}
	}
}
