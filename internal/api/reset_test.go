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
	"github.com/eni-net/eni/internal/store"
)

func resetPost(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// POST /moto-api/reset (and /eni/v1/reset) empties the server, on disk too,
// with moto's reply; every region starts afresh on its next request.
func TestResetEmptiesTheServer(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c, eu := e.Client(), e.Client("eu-west-1")
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eu.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(e.Server.URL + api.MotoResetPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || strings.TrimSpace(string(b)) != `{"Error":"Need to POST to reset Moto"}` {
		t.Fatalf("GET: %d %s", resp.StatusCode, b)
	}
	if _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(vpc.Vpc.VpcId)}}); err != nil {
		t.Fatalf("a GET reset removed something: %v", err)
	}
	if code, body := resetPost(t, e.Server.URL+api.MotoResetPath); code != 200 || body != `{"status":"ok"}` {
		t.Fatalf("POST: %d %s", code, body)
	}
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(vpc.Vpc.VpcId)}})
	apitest.WantCode(t, err, "InvalidVpcID.NotFound")
	for _, cl := range []*ec2.Client{c, eu} {
		out, err := cl.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Vpcs) != 1 || !aws.ToBool(out.Vpcs[0].IsDefault) {
			t.Fatalf("after reset: %d VPCs, want the default one alone", len(out.Vpcs))
		}
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	// On disk: the default VPCs made since, nothing of before.
	path := e.Path
	e.Close()
	b2, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if err := b2.Load(func(kind, key string, val []byte) error {
		if strings.Contains(string(val), aws.ToString(vpc.Vpc.VpcId)) || strings.Contains(string(val), "10.1.0.0/16") {
			t.Errorf("after reset the store still holds %s %s", kind, key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// ENI's own path answers the same; a server without AllowReset refuses.
func TestResetPathAndRefusal(t *testing.T) {
	e := apitest.New(t)
	if code, body := resetPost(t, e.Server.URL+api.ResetPath); code != 200 || body != `{"status":"ok"}` {
		t.Fatalf("POST %s: %d %s", api.ResetPath, code, body)
	}
	// A client that is not on loopback (a server in a container) may reset.
	rec0 := httptest.NewRecorder()
	e.API.ServeHTTP(rec0, httptest.NewRequest(http.MethodPost, api.MotoResetPath, nil)) // RemoteAddr 192.0.2.1
	if rec0.Code != http.StatusOK {
		t.Fatalf("from 192.0.2.1: %d %s", rec0.Code, rec0.Body)
	}
	srv := api.New(api.Options{Core: e.Core, Store: e.Store})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, api.MotoResetPath, nil))
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "--auth none") {
		t.Fatalf("without AllowReset: %d %s", rec.Code, rec.Body)
	}
}
