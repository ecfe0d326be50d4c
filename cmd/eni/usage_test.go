package main

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/eni-net/eni/internal/apitest"
)

// eni usage --data reads a stopped server's store: the same report the
// server gives; a store in use is refused with a hint.
func TestUsageFromStore(t *testing.T) {
	env := apitest.New(t, apitest.Options{Durable: true})
	alloc, err := env.Client().AllocateAddress(context.Background(), &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(env.Path)
	var buf bytes.Buffer
	if err := usageFromStore(&buf, dir, "us-east-1", "", url.Values{}, false, "csv"); err == nil || !strings.Contains(err.Error(), "drop --data") {
		t.Fatalf("a store in use: %v", err)
	}
	env.Close()
	if err := usageFromStore(&buf, dir, "us-east-1", "", url.Values{}, false, "csv"); err != nil {
		t.Fatal(err)
	}
	want := "us-east-1,123456789012,USE1-PublicIPv4:IdleAddress," + *alloc.PublicIp + "," + *alloc.AllocationId + ","
	if !strings.Contains(buf.String(), want) || !strings.HasPrefix(buf.String(), "region,account,usage_type,public_ip,resource_id,hours,cost_usd,billed_now\n") {
		t.Fatalf("report:\n%s\nwant a line starting %s", buf.String(), want)
	}
	buf.Reset()
	if err := usageFromStore(&buf, dir, "us-east-1", "", url.Values{}, true, "table"); err != nil || !strings.Contains(buf.String(), *alloc.AllocationId) {
		t.Fatalf("billed now: %v\n%s", err, buf.String())
	}
}
