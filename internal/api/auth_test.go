package api_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/sigv4"
)

const authCreds = `# two accounts
AKIAALICE0000000001 alice-secret/x+y 111111111111
AKIABOB000000000002 bob-secret       222222222222
`

// authEnv runs a server that checks SigV4 signatures with the keys above.
func authEnv(t *testing.T) *apitest.Env {
	t.Helper()
	keys, err := sigv4.Parse(strings.NewReader(authCreds))
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Keys: keys, Now: time.Now} // as eni serve: the API checks the service per action
	return apitest.New(t, apitest.Options{Authenticate: v.Verify})
}

func httpStatusOf(t *testing.T, err error) int {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	return re.HTTPStatusCode()
}

func TestSigV4KeysMapToAccounts(t *testing.T) {
	e := authEnv(t)
	for _, k := range []struct{ id, secret, account string }{
		{"AKIAALICE0000000001", "alice-secret/x+y", "111111111111"},
		{"AKIABOB000000000002", "bob-secret", "222222222222"},
	} {
		c := apitest.NewClient(e.Server.URL, "us-east-1", k.id, k.secret)
		out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		if err != nil {
			t.Fatalf("%s: %v", k.id, err)
		}
		if len(out.Vpcs) != 1 || aws.ToString(out.Vpcs[0].OwnerId) != k.account {
			t.Fatalf("%s: VPCs %+v, want the default VPC of %s", k.id, out.Vpcs, k.account)
		}
		// A write, with a body the signature covers, works too.
		vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
		if err != nil {
			t.Fatalf("%s: CreateVpc: %v", k.id, err)
		}
		if aws.ToString(vpc.Vpc.OwnerId) != k.account {
			t.Fatalf("%s: new VPC owned by %s", k.id, aws.ToString(vpc.Vpc.OwnerId))
		}
	}
	// Each account sees only its own VPCs.
	out, err := apitest.NewClient(e.Server.URL, "us-east-1", "AKIABOB000000000002", "bob-secret").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.Vpcs {
		if aws.ToString(v.OwnerId) != "222222222222" {
			t.Fatalf("bob sees %s's VPC %s", aws.ToString(v.OwnerId), aws.ToString(v.VpcId))
		}
	}
}

func TestSigV4Failures(t *testing.T) {
	e := authEnv(t)
	_, err := apitest.NewClient(e.Server.URL, "us-east-1", "AKIAALICE0000000001", "wrong").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	apitest.WantCode(t, err, "SignatureDoesNotMatch")
	if s := httpStatusOf(t, err); s != 403 {
		t.Fatalf("SignatureDoesNotMatch: HTTP %d, want 403", s)
	}
	_, err = apitest.NewClient(e.Server.URL, "us-east-1", "AKIAUNKNOWN", "x").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	apitest.WantCode(t, err, "AuthFailure")
	if s := httpStatusOf(t, err); s != 401 {
		t.Fatalf("AuthFailure: HTTP %d, want 401", s)
	}
	if !strings.Contains(err.Error(), "AWS was not able to validate the provided access credentials") {
		t.Fatalf("message: %v", err)
	}
	// A failed signature changes nothing.
	_, err = apitest.NewClient(e.Server.URL, "us-east-1", "AKIAALICE0000000001", "wrong").CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/16")})
	apitest.WantCode(t, err, "SignatureDoesNotMatch")
	out, err := apitest.NewClient(e.Server.URL, "us-east-1", "AKIAALICE0000000001", "alice-secret/x+y").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(out.Vpcs) != 1 {
		t.Fatalf("VPCs after a rejected CreateVpc: %v, %v", out, err)
	}
}

func TestSigV4UnsignedRequest(t *testing.T) {
	e := authEnv(t)
	resp, err := http.Post(e.Server.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=DescribeVpcs&Version=2016-11-15"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 401 || !strings.Contains(string(b), "<Code>MissingAuthenticationToken</Code>") {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
}
