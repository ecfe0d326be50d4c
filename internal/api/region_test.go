package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// storeRecords counts what the store holds.
func storeRecords(t *testing.T, e *apitest.Env) int {
	t.Helper()
	n := 0
	if err := e.Store.Load(func(kind, key string, val []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantUnknownRegion checks an SDK error is AWS's answer to a credential
// scoped to a region that is not served.
func wantUnknownRegion(t *testing.T, err error, region string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("region %.40s: got %v, want SignatureDoesNotMatch", region, err)
	}
	want := "Credential should be scoped to a valid region, not '" + region + "'."
	if ae.ErrorCode() != "SignatureDoesNotMatch" || ae.ErrorMessage() != want {
		t.Fatalf("region %.40s: got %s %q, want SignatureDoesNotMatch %q", region, ae.ErrorCode(), ae.ErrorMessage(), want)
	}
	if st := httpStatusOf(t, err); st != 403 {
		t.Fatalf("region %.40s: status %d, want 403", region, st)
	}
}

// Issue 9: any well-formed region name in the credential scope created a
// whole region (default VPC, subnets, group, gateway) in memory and on disk.
// 2,000 requests naming made-up regions, reads and writes, EC2 and STS, must
// create nothing.
func TestMadeUpRegionsCreateNothing(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	if _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	regions, records, before := e.Core.Regions(), storeRecords(t, e), e.Core.Dump()
	st := sts.New(sts.Options{BaseEndpoint: aws.String(e.Server.URL), Credentials: c.Options().Credentials,
		HTTPClient: apitest.HTTPClient(), RetryMaxAttempts: 1})
	const n, workers = 2000, 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				region := fmt.Sprintf("zz-%s-%d", strings.Repeat("made", 1+i%3), i)
				in := func(o *ec2.Options) { o.Region = region }
				var err error
				switch i % 4 {
				case 0:
					_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}, in)
				case 1:
					_, err = c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}, in)
				case 2:
					_, err = c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}, in)
				case 3:
					_, err = st.GetCallerIdentity(ctx, nil, func(o *sts.Options) { o.Region = region })
				}
				var ae smithy.APIError
				want := "Credential should be scoped to a valid region, not '" + region + "'."
				if !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" || ae.ErrorMessage() != want {
					errs <- fmt.Errorf("region %s: %v", region, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := e.Core.Regions(); !reflect.DeepEqual(got, regions) {
		t.Fatalf("regions in memory: %v, were %v", got, regions)
	}
	if got := storeRecords(t, e); got != records {
		t.Fatalf("store records: %d, were %d", got, records)
	}
	if after := e.Core.Dump(); !reflect.DeepEqual(after, before) {
		badDiff(t, before, after)
	}
}

// A 3,000-character region name is refused (it was accepted), with a
// bounded message. The SDK will not send one, so the request is signed with
// its signer directly.
func TestLongRegionRefused(t *testing.T) {
	e := apitest.New(t)
	region := "zz-" + strings.Repeat("a", 2994) + "-1"
	body := "Action=CreateVpc&CidrBlock=10.0.0.0%2F16&Version=2016-11-15"
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ec2", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	status, reply := do(t, req)
	if status != 403 || !strings.Contains(reply, "<Code>SignatureDoesNotMatch</Code>") || len(reply) > 1000 {
		t.Fatalf("3,000-character region: %d %s", status, reply)
	}
	// Nor is a name echoed raw: bytes that XML cannot carry.
	req, _ = http.NewRequest(http.MethodPost, e.Server.URL, strings.NewReader("Action=DescribeVpcs&Version=2016-11-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/zz\xff\xfe../ec2/aws4_request, SignedHeaders=host, Signature=00")
	status, reply = do(t, req)
	if status != 403 || !strings.Contains(reply, "<Code>SignatureDoesNotMatch</Code>") || !utf8.ValidString(reply) {
		t.Fatalf("%d %q", status, reply)
	}
	if got := e.Core.Regions(); len(got) != 0 {
		t.Fatalf("regions: %v", got)
	}
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eni serve --regions: AWS's regions named serve only those, +NAME adds one
// of one's own; DescribeRegions lists what is served.
func TestRegionsSetting(t *testing.T) {
	regions, err := core.ParseRegions("us-east-1, +my-lab-1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := core.DefaultConfig()
	cfg.Regions = regions
	e := apitest.New(t, apitest.Options{Config: &cfg})
	lab := e.Client("my-lab-1")
	azs, err := lab.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(azs.AvailabilityZones) != 3 || aws.ToString(azs.AvailabilityZones[0].ZoneName) != "my-lab-1a" {
		t.Fatalf("zones of my-lab-1: %+v", azs.AvailabilityZones)
	}
	if _, err := lab.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.Client("eu-west-1").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	wantUnknownRegion(t, err, "eu-west-1")
	for _, all := range []bool{false, true} {
		out, err := e.Client().DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(all)})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range out.Regions {
			names = append(names, aws.ToString(r.RegionName))
		}
		if !slices.Equal(names, []string{"my-lab-1", "us-east-1"}) {
			t.Fatalf("DescribeRegions (all %v): %v", all, names)
		}
	}
	_, err = e.Client().DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1"}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	if got := e.Core.Regions(); len(got) != 2 {
		t.Fatalf("regions with state: %v", got)
	}
}
