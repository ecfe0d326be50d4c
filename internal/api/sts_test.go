package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/eni-net/eni/internal/apitest"
)

func stsClient(url, key, secret string) *sts.Client {
	return sts.New(sts.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:  apitest.HTTPClient(), RetryMaxAttempts: 1,
	})
}

func TestGetCallerIdentity(t *testing.T) {
	// Dev mode: the default account.
	e := apitest.New(t)
	out, err := stsClient(e.Server.URL, "test", "test").GetCallerIdentity(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != "123456789012" || aws.ToString(out.Arn) != "arn:aws:iam::123456789012:root" {
		t.Fatalf("identity = %+v", out)
	}
	// With SigV4: the key's account, and a bad secret is refused in STS's
	// error format.
	ae := authEnv(t)
	out, err = stsClient(ae.Server.URL, "AKIABOB000000000002", "bob-secret").GetCallerIdentity(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != "222222222222" || aws.ToString(out.UserId) != "AKIABOB000000000002" {
		t.Fatalf("identity = %+v", out)
	}
	_, err = stsClient(ae.Server.URL, "AKIABOB000000000002", "wrong").GetCallerIdentity(ctx, nil)
	apitest.WantCode(t, err, "SignatureDoesNotMatch")
	_, err = stsClient(ae.Server.URL, "AKIAUNKNOWN", "x").GetCallerIdentity(ctx, nil)
	apitest.WantCode(t, err, "AuthFailure")
	// A signature scoped to sts does not open EC2.
	body := "Action=DescribeVpcs&Version=2016-11-15"
	req, _ := http.NewRequest(http.MethodPost, ae.Server.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "AKIABOB000000000002", SecretAccessKey: "bob-secret"}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("EC2 call signed for sts: %d %s", resp.StatusCode, b)
	}
}
