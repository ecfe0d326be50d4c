package api_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// One log line per request at info (action, code, status, ms, account,
// region); --log-level warn silences it.
func TestRequestLogLine(t *testing.T) {
	for _, lvl := range []slog.Level{slog.LevelInfo, slog.LevelWarn} {
		e := apitest.New(t)
		var out syncBuffer
		srv := api.New(api.Options{Core: e.Core, Store: e.Store, Logger: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: lvl}))})
		e.Server.Config.Handler = srv
		c := e.Client("eu-west-1")
		if _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatal(err)
		}
		_, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String("vpc-00000000000000000")})
		apitest.WantCode(t, err, "InvalidVpcID.NotFound")
		got := out.String()
		if lvl == slog.LevelWarn {
			if strings.Contains(got, "msg=request") {
				t.Errorf("at warn: %s", got)
			}
			continue
		}
		for _, want := range []string{
			"level=INFO msg=request action=DescribeVpcs code=OK status=200 ms=",
			"level=INFO msg=request action=DeleteVpc code=InvalidVpcID.NotFound status=400 ms=",
			"account=123456789012 region=eu-west-1 request_id=",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("log lacks %q:\n%s", want, got)
			}
		}
	}
}
