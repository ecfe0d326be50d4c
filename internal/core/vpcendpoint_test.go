package core

import (
	"errors"
	"regexp"
	"testing"
	"time"
)

// Deleted endpoints are seen for an hour, by their owner only.
func TestVpceVisibility(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		state, who string
		after      time.Duration
		want       bool
	}{
		{vpceAvailable, "111111111111", 400 * 24 * time.Hour, true},
		{vpceAvailable, "222222222222", 0, false},
		{vpceDeleted, "111111111111", 59 * time.Minute, true},
		{vpceDeleted, "111111111111", 61 * time.Minute, false},
	} {
		e := &VpcEndpoint{ID: "vpce-1", Owner: "111111111111", State: c.state, DeletedAt: t0}
		tx := &Tx{Caller: Caller{Account: c.who}, now: t0.Add(c.after)}
		if got := tx.vpceVisible(e); got != c.want {
			t.Errorf("%s seen by %s after %v: %v, want %v", c.state, c.who, c.after, got, c.want)
		}
	}
}

// Service lookups: unknown names, types the service lacks, and AWS's words.
func TestVpceFindService(t *testing.T) {
	tx := &Tx{Caller: Caller{Region: "eu-west-1"}}
	for _, c := range []struct{ name, typ, code string }{
		{"com.amazonaws.eu-west-1.s3", vpceGateway, ""},
		{"com.amazonaws.eu-west-1.s3", vpceInterface, ""},
		{"com.amazonaws.eu-west-1.dynamodb", vpceInterface, CodeInvalidParameter},
		{"com.amazonaws.eu-west-1.ec2", vpceGWLB, CodeInvalidParameter},
		{"com.amazonaws.us-east-1.ec2", vpceInterface, CodeInvalidServiceName}, // another region's
		{"com.amazonaws.eu-west-1.lambda", vpceInterface, CodeInvalidServiceName},
	} {
		_, err := tx.vpceFindService(c.name, c.typ)
		if got := errCodeOf(err); got != c.code {
			t.Errorf("%s %s: %q, want %q (%v)", c.name, c.typ, got, c.code, err)
		}
	}
}

// DNS names have AWS's shape and are stable for an endpoint.
func TestVpceDNSName(t *testing.T) {
	tx := &Tx{Caller: Caller{Region: "us-east-1"}}
	e := &VpcEndpoint{ID: "vpce-0123456789abcdef0", ServiceName: "com.amazonaws.us-east-1.ec2", Type: vpceInterface}
	re := regexp.MustCompile(`^vpce-0123456789abcdef0-[a-z0-9]{8}(-us-east-1b)?\.ec2\.us-east-1\.vpce\.amazonaws\.com$`)
	for _, az := range []string{"", "us-east-1b"} {
		if n := tx.vpceDNSName(e, az); !re.MatchString(n) || n != tx.vpceDNSName(e, az) {
			t.Errorf("%q: %s", az, n)
		}
	}
	if n := tx.vpcePrivateName(e); n != "ec2.us-east-1.amazonaws.com" {
		t.Errorf("private name %s", n)
	}
}

func TestVpcePolicy(t *testing.T) {
	if d, err := vpcePolicy(nil); err != nil || d != vpceDefaultPolicy {
		t.Fatal(d, err)
	}
	bad := "{"
	if _, err := vpcePolicy(&bad); errCodeOf(err) != CodeInvalidParameter {
		t.Fatal(err)
	}
}

func errCodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
