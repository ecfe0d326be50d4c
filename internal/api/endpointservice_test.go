package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
)

// An interface endpoint answers its own service only: through an EC2 endpoint, EC2
// calls work and an STS call (signed for sts) is refused as AWS's EC2 refuses a
// credential scoped to another service; through an STS endpoint the other way round;
// paths other than the query API's are not found.
func TestForEndpoint(t *testing.T) {
	e := apitest.New(t)
	url := map[string]string{}
	for _, svc := range []string{"ec2", "sts"} {
		ts := httptest.NewServer(api.ForEndpoint(e.API, svc))
		t.Cleanup(ts.Close)
		url[svc] = ts.URL
	}
	ec2c := func(u string) *ec2.Client { return apitest.NewClient(u, "us-east-1", "test", "test") }
	if _, err := ec2c(url["ec2"]).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("EC2 through the EC2 endpoint: %v", err)
	}
	if out, err := stsClient(url["sts"], "test", "test").GetCallerIdentity(ctx, nil); err != nil || aws.ToString(out.Account) != "123456789012" {
		t.Fatalf("STS through the STS endpoint: %v %v", out, err)
	}
	_, err := stsClient(url["ec2"], "test", "test").GetCallerIdentity(ctx, nil)
	apitest.WantCode(t, err, "SignatureDoesNotMatch")
	if !strings.Contains(err.Error(), "Credential should be scoped to correct service: 'ec2'.") {
		t.Errorf("STS through the EC2 endpoint: %v", err)
	}
	_, err = ec2c(url["sts"]).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	apitest.WantCode(t, err, "SignatureDoesNotMatch")
	if !strings.Contains(err.Error(), "Credential should be scoped to correct service: 'sts'.") {
		t.Errorf("EC2 through the STS endpoint: %v", err)
	}
	// Unsigned (--allow-insecure-bind without --auth): by the action.
	for _, c := range []struct{ svc, body, want string }{
		{"ec2", "Action=GetCallerIdentity&Version=2011-06-15", "<Code>InvalidAction</Code><Message>The action GetCallerIdentity is not valid for this web service."},
		{"sts", "Action=DescribeVpcs&Version=2016-11-15", "<Code>InvalidAction</Code><Message>Could not find operation DescribeVpcs for version 2011-06-15"},
	} {
		resp, err := http.Post(url[c.svc], "application/x-www-form-urlencoded", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Errorf("%s through the %s endpoint: %s %s", c.body, c.svc, resp.Status, b)
		}
	}
	for _, path := range []string{"/metrics", "/healthz", api.ResetPath} {
		resp, err := http.Get(url["ec2"] + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s through the endpoint: %s", path, resp.Status)
		}
	}
}
