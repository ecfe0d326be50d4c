package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/sigv4/canon"
)

// The key and time of AWS's published SigV4 test suite.
const (
	testAKID    = "AKIDEXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testAccount = "123456789012"
)

var t0 = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

func testVerifier(now time.Time) *Verifier {
	return &Verifier{
		Keys: Credentials{
			testAKID:    {AccessKeyID: testAKID, SecretAccessKey: testSecret, Account: testAccount},
			"AKIDOTHER": {AccessKeyID: "AKIDOTHER", SecretAccessKey: "other-secret", Account: "210987654321"},
		},
		Now: func() time.Time { return now },
	}
}

func hashHex(b string) string {
	s := sha256.Sum256([]byte(b))
	return hex.EncodeToString(s[:])
}

// sdkSigned is a server-side request signed by the SDK's signer, with every
// header in hdr signed.
func sdkSigned(t *testing.T, method, target, body string, hdr map[string]string, akid, secret string, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, "http://eni.test:4566"+target, strings.NewReader(body))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	err := awsv4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		r, hashHex(body), "ec2", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantCode fails unless err is a *core.Error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ce *core.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v (%T), want *core.Error %s", err, err, code)
	}
	if ce.Code != code {
		t.Fatalf("got %s (%s), want %s", ce.Code, ce.Message, code)
	}
	var coded interface {
		error
		EC2Code() string
	}
	if !errors.As(err, &coded) || coded.EC2Code() != code {
		t.Fatalf("error %v does not report EC2Code %s", err, code)
	}
}

const describeBody = "Action=DescribeVpcs&Version=2016-11-15"

func TestVerifySDKHeaderSets(t *testing.T) {
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
	cases := []struct {
		name, method, target, body string
		hdr                        map[string]string
		signed                     string
	}{
		{"form post", "POST", "/", describeBody, form, "content-length;content-type;host;x-amz-date"},
		{"sdk go v2 headers", "POST", "/", describeBody, map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "Amz-Sdk-Invocation-Id": "2b8e7c9e-1f1a-4c1e-9d3f-0d3c1f2a9b77",
			"Amz-Sdk-Request": "attempt=1; max=3"}, "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date"},
		{"content sha256", "POST", "/", describeBody, map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "X-Amz-Content-Sha256": hashHex(describeBody)},
			"content-length;content-type;host;x-amz-content-sha256;x-amz-date"},
		{"get with query", "GET", "/?Version=2016-11-15&Action=DescribeVpcs&Filter.1.Name=tag%3AName&Filter.1.Value.1=a%20b*", "", nil, "host;x-amz-date"},
		{"repeated header and spaces", "POST", "/", describeBody, map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "X-Custom": "  a   b  "}, "content-length;content-type;host;x-amz-date;x-custom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sdkSigned(t, c.method, c.target, c.body, c.hdr, testAKID, testSecret, t0)
			a, err := ParseAuthorization(r.Header.Get("Authorization"))
			if err != nil {
				t.Fatal(err)
			}
			if got := a.SignedHeadersString(); got != c.signed {
				t.Fatalf("SDK signed %q, want %q", got, c.signed)
			}
			// Headers added after signing (proxies, transports) are not signed.
			r.Header.Set("User-Agent", "aws-sdk-go-v2/1.0")
			r.Header.Set("X-Forwarded-For", "10.1.2.3")
			r.Header.Set("Accept-Encoding", "gzip")
			acct, err := testVerifier(t0.Add(3*time.Minute)).Verify(r, []byte(c.body))
			if err != nil || acct != testAccount {
				t.Fatalf("Verify = %q, %v", acct, err)
			}
			// Both ways of computing the signature agree.
			v := testVerifier(t0)
			a, err = v.parse(r)
			if err != nil {
				t.Fatal(err)
			}
			ph := hashHex(c.body)
			sdk, ok := sdkSignature(r, a, testSecret, ph)
			if !ok {
				t.Fatal("the SDK path declined a set the SDK itself signed")
			}
			if man := manualSignature(r, a, testSecret, ph); man != sdk || sdk != a.Signature {
				t.Fatalf("signatures differ: sent %s, sdk %s, manual %s", a.Signature, sdk, man)
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Amz-Sdk-Invocation-Id": "id-1"}
	sign := func(akid, secret string, at time.Time) *http.Request {
		return sdkSigned(t, "POST", "/", describeBody, hdr, akid, secret, at)
	}
	v := testVerifier(t0)
	t.Run("wrong secret", func(t *testing.T) {
		_, err := v.Verify(sign(testAKID, "not-the-secret", t0), []byte(describeBody))
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := v.Verify(sign("AKIDUNKNOWN", testSecret, t0), []byte(describeBody))
		wantCode(t, err, CodeAuthFailure)
		if err.Error() != "AuthFailure: AWS was not able to validate the provided access credentials" {
			t.Fatalf("message %q", err)
		}
	})
	t.Run("other key's account", func(t *testing.T) {
		acct, err := v.Verify(sign("AKIDOTHER", "other-secret", t0), []byte(describeBody))
		if err != nil || acct != "210987654321" {
			t.Fatalf("Verify = %q, %v", acct, err)
		}
	})
	t.Run("tampered body", func(t *testing.T) {
		_, err := v.Verify(sign(testAKID, testSecret, t0), []byte("Action=DeleteVpc&Version=2016-11-15"))
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	t.Run("tampered signed header", func(t *testing.T) {
		r := sign(testAKID, testSecret, t0)
		r.Header.Set("Amz-Sdk-Invocation-Id", "id-2")
		_, err := v.Verify(r, []byte(describeBody))
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	t.Run("tampered host", func(t *testing.T) {
		r := sign(testAKID, testSecret, t0)
		r.Host = "other.test:4566"
		_, err := v.Verify(r, []byte(describeBody))
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	t.Run("tampered query", func(t *testing.T) {
		r := sign(testAKID, testSecret, t0)
		r.URL.RawQuery = "Action=DeleteVpc"
		_, err := v.Verify(r, []byte(describeBody))
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	t.Run("tampered signature", func(t *testing.T) {
		r := sign(testAKID, testSecret, t0)
		h := r.Header.Get("Authorization")
		last := h[len(h)-1]
		repl := byte('0')
		if last == '0' {
			repl = '1'
		}
		r.Header.Set("Authorization", h[:len(h)-1]+string(repl))
		_, err := v.Verify(r, []byte(describeBody))
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	t.Run("content sha256 disagrees with body", func(t *testing.T) {
		h := map[string]string{"X-Amz-Content-Sha256": hashHex("other")}
		r := sdkSigned(t, "POST", "/", describeBody, h, testAKID, testSecret, t0)
		_, err := v.Verify(r, []byte(describeBody))
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	t.Run("unsigned payload refused", func(t *testing.T) {
		r := httptest.NewRequest("POST", "http://eni.test:4566/", strings.NewReader(describeBody))
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		err := awsv4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret},
			r, "UNSIGNED-PAYLOAD", "ec2", "us-east-1", t0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(r, []byte(describeBody))
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	for _, d := range []time.Duration{16 * time.Minute, -16 * time.Minute} {
		t.Run("skew "+d.String(), func(t *testing.T) {
			_, err := v.Verify(sign(testAKID, testSecret, t0.Add(d)), []byte(describeBody))
			wantCode(t, err, CodeRequestExpired)
		})
	}
	for _, d := range []time.Duration{14 * time.Minute, -14 * time.Minute, 15 * time.Minute} {
		t.Run("within skew "+d.String(), func(t *testing.T) {
			if _, err := v.Verify(sign(testAKID, testSecret, t0.Add(d)), []byte(describeBody)); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("session token", func(t *testing.T) {
		r := httptest.NewRequest("POST", "http://eni.test:4566/", strings.NewReader(describeBody))
		err := awsv4.NewSigner().SignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: "tok"},
			r, hashHex(describeBody), "ec2", "us-east-1", t0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(r, []byte(describeBody))
		wantCode(t, err, CodeAuthFailure)
	})
	t.Run("wrong service", func(t *testing.T) {
		v := testVerifier(t0)
		v.Service = "s3"
		_, err := v.Verify(sign(testAKID, testSecret, t0), []byte(describeBody))
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
}

func TestVerifyMalformed(t *testing.T) {
	v := testVerifier(t0)
	good := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64)
	cases := []struct {
		name, auth, date, query, code string
	}{
		{"missing", "", "20150830T123600Z", "", CodeMissingAuthenticationToken},
		{"sigv2", "AWS AKIDEXAMPLE:abc", "20150830T123600Z", "", CodeIncompleteSignature},
		{"sigv4a", strings.Replace(good, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1), "20150830T123600Z", "", CodeIncompleteSignature},
		{"no signature", strings.Split(good, ", Signature=")[0], "20150830T123600Z", "", CodeIncompleteSignature},
		{"no credential", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", "20150830T123600Z", "", CodeIncompleteSignature},
		{"short scope", strings.Replace(good, "/ec2/aws4_request", "/aws4_request", 1), "20150830T123600Z", "", CodeIncompleteSignature},
		{"bad terminator", strings.Replace(good, "aws4_request", "aws5_request", 1), "20150830T123600Z", "", CodeIncompleteSignature},
		{"bad scope date", strings.Replace(good, "20150830", "2015-8-30", 1), "20150830T123600Z", "", CodeIncompleteSignature},
		{"host unsigned", strings.Replace(good, "host;x-amz-date", "x-amz-date", 1), "20150830T123600Z", "", CodeIncompleteSignature},
		{"empty signed header", strings.Replace(good, "host;x-amz-date", "host;;x-amz-date", 1), "20150830T123600Z", "", CodeIncompleteSignature},
		{"duplicate parameter", good + ", Signature=00", "20150830T123600Z", "", CodeIncompleteSignature},
		{"no date", good, "", "", CodeIncompleteSignature},
		{"bad date", good, "2015-08-30T12:36:00Z", "", CodeIncompleteSignature},
		{"scope date differs", good, "20150831T123600Z", "", CodeSignatureDoesNotMatch},
		{"two mechanisms", good, "20150830T123600Z", "X-Amz-Algorithm=AWS4-HMAC-SHA256", CodeIncompleteSignature},
		{"query missing signature", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host", CodeIncompleteSignature},
		{"query bad expires", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=604801", CodeIncompleteSignature},
		{"query only signature", "", "", "X-Amz-Signature=00", CodeIncompleteSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://eni.test/?"+c.query, nil)
			if c.auth != "" {
				r.Header.Set("Authorization", c.auth)
			}
			if c.date != "" {
				r.Header.Set("X-Amz-Date", c.date)
			}
			_, err := v.Verify(r, nil)
			wantCode(t, err, c.code)
		})
	}
}

// presigned returns a server-side request for a URL presigned by the SDK.
func presigned(t *testing.T, target string, expires time.Duration, secret string, at time.Time) *http.Request {
	t.Helper()
	if expires > 0 {
		target += "&X-Amz-Expires=" + strconv.Itoa(int(expires/time.Second))
	}
	r := httptest.NewRequest("GET", "http://eni.test:4566"+target, nil)
	u, hdr, err := awsv4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: secret},
		r, hashHex(""), "ec2", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	if len(hdr) != 1 || hdr.Get("Host") == "" {
		t.Fatalf("presign signed headers %v, want host only", hdr)
	}
	s := httptest.NewRequest("GET", u, nil)
	s.Header.Set("User-Agent", "curl/8")
	return s
}

func TestVerifyPresigned(t *testing.T) {
	const target = "/?Action=DescribeVpcs&Version=2016-11-15"
	r := presigned(t, target, 5*time.Minute, testSecret, t0)
	if r.URL.Query().Get("X-Amz-Expires") != "300" || r.URL.Query().Get("X-Amz-Signature") == "" {
		t.Fatalf("presigned URL %s", r.URL)
	}
	for _, d := range []time.Duration{0, 4 * time.Minute, 5 * time.Minute, -14 * time.Minute} {
		if acct, err := testVerifier(t0.Add(d)).Verify(r, nil); err != nil || acct != testAccount {
			t.Fatalf("at +%s: Verify = %q, %v", d, acct, err)
		}
	}
	_, err := testVerifier(t0.Add(5*time.Minute+time.Second)).Verify(r, nil)
	wantCode(t, err, CodeRequestExpired)
	_, err = testVerifier(t0.Add(-16*time.Minute)).Verify(r, nil)
	wantCode(t, err, CodeRequestExpired)

	// A presigned URL lives longer than the skew if X-Amz-Expires says so.
	long := presigned(t, target, time.Hour, testSecret, t0)
	if _, err := testVerifier(t0.Add(50*time.Minute)).Verify(long, nil); err != nil {
		t.Fatal(err)
	}
	// Without X-Amz-Expires, the usual skew applies.
	none := presigned(t, target, 0, testSecret, t0)
	if _, err := testVerifier(t0.Add(10*time.Minute)).Verify(none, nil); err != nil {
		t.Fatal(err)
	}
	_, err = testVerifier(t0.Add(16*time.Minute)).Verify(none, nil)
	wantCode(t, err, CodeRequestExpired)

	_, err = testVerifier(t0).Verify(presigned(t, target, time.Minute, "wrong", t0), nil)
	wantCode(t, err, CodeSignatureDoesNotMatch)

	tampered := presigned(t, target, time.Minute, testSecret, t0)
	q := tampered.URL.Query()
	q.Set("Action", "DeleteVpc")
	tampered.URL.RawQuery = q.Encode()
	_, err = testVerifier(t0).Verify(tampered, nil)
	wantCode(t, err, CodeSignatureDoesNotMatch)

	// Extending the expiry invalidates the signature.
	ext := presigned(t, target, time.Minute, testSecret, t0)
	q = ext.URL.Query()
	q.Set("X-Amz-Expires", "3600")
	ext.URL.RawQuery = q.Encode()
	_, err = testVerifier(t0).Verify(ext, nil)
	wantCode(t, err, CodeSignatureDoesNotMatch)

	// Both paths agree on the presigned form.
	a, err := ParseQuery(r.URL.Query())
	if err != nil {
		t.Fatal(err)
	}
	sdk, ok := sdkSignature(r, a, testSecret, hashHex(""))
	if man := manualSignature(r, a, testSecret, hashHex("")); !ok || sdk != man || sdk != a.Signature {
		t.Fatalf("sent %s, sdk %s (%v), manual %s", a.Signature, sdk, ok, man)
	}
}

// TestAWSTestSuite checks requests from AWS's published SigV4 test suite
// (aws-sig-v4-test-suite: key AKIDEXAMPLE, 20150830T123600Z, us-east-1,
// service "service") with their published signatures, through Verify and
// through both ways of computing a signature.
func TestAWSTestSuite(t *testing.T) {
	const scope = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="
	cases := []struct {
		name, method, target, body string
		hdr                        [][2]string
		signed, sig                string
	}{
		{"get-vanilla", "GET", "/", "", nil, "host;x-amz-date",
			"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1", "", nil, "host;x-amz-date",
			"b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"post-x-www-form-urlencoded", "POST", "/", "Param1=value1",
			[][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, "content-type;host;x-amz-date",
			"ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
		{"get-header-value-trim", "GET", "/", "",
			[][2]string{{"My-Header1", " value1"}, {"My-Header2", ` "a   b   c"`}}, "host;my-header1;my-header2;x-amz-date",
			"acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
	}
	v := &Verifier{Keys: Credentials{testAKID: {AccessKeyID: testAKID, SecretAccessKey: testSecret, Account: testAccount}},
		Now: func() time.Time { return t0 }}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, "http://example.amazonaws.com"+c.target, strings.NewReader(c.body))
			r.Header.Set("X-Amz-Date", "20150830T123600Z")
			for _, h := range c.hdr {
				r.Header.Add(h[0], h[1])
			}
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 "+scope+c.signed+", Signature="+c.sig)
			if acct, err := v.Verify(r, []byte(c.body)); err != nil || acct != testAccount {
				t.Fatalf("Verify = %q, %v", acct, err)
			}
			a, err := v.parse(r)
			if err != nil {
				t.Fatal(err)
			}
			sdk, ok := sdkSignature(r, a, testSecret, hashHex(c.body))
			if !ok || sdk != c.sig {
				t.Errorf("SDK path: %s (used: %v), want %s", sdk, ok, c.sig)
			}
			if man := manualSignature(r, a, testSecret, hashHex(c.body)); man != c.sig {
				t.Errorf("manual path: %s, want %s\n%s", man, c.sig, CanonicalRequest(r, a, hashHex(c.body)))
			}
		})
	}
}

// TestVerifyFallbackSets covers signed-header sets the SDK cannot sign: the
// fallback must be used and must accept them, and a change to any signed
// header (even one the SDK would ignore) must be caught.
func TestVerifyFallbackSets(t *testing.T) {
	v := testVerifier(t0)
	build := func(signed []string, hdr map[string]string, useDate bool) *http.Request {
		r := httptest.NewRequest("POST", "http://eni.test:4566/", strings.NewReader(describeBody))
		for k, val := range hdr {
			r.Header.Set(k, val)
		}
		a := &Auth{AccessKeyID: testAKID, ScopeDate: "20150830", Region: "us-east-1", Service: "ec2",
			SignedHeaders: signed, Time: t0, Date: t0.Format(amzDateLayout)}
		if useDate {
			r.Header.Set("Date", t0.Format(http.TimeFormat))
		} else {
			r.Header.Set("X-Amz-Date", a.Date)
		}
		if _, ok := sdkSignature(r, a, testSecret, hashHex(describeBody)); ok {
			t.Fatalf("SDK path accepted %v", signed)
		}
		a.Signature = manualSignature(r, a, testSecret, hashHex(describeBody))
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAKID+"/"+canon.Scope(a.ScopeDate, a.Region, a.Service)+", SignedHeaders="+a.SignedHeadersString()+", Signature="+a.Signature)
		return r
	}
	// Java v1 style: user-agent signed.
	r := build([]string{"content-type", "host", "user-agent", "x-amz-date"},
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "aws-sdk-java/1.12"}, false)
	if _, err := v.Verify(r, []byte(describeBody)); err != nil {
		t.Fatal(err)
	}
	r.Header.Set("User-Agent", "evil/1.0")
	_, err := v.Verify(r, []byte(describeBody))
	wantCode(t, err, CodeSignatureDoesNotMatch)

	// Date header instead of X-Amz-Date.
	r = build([]string{"date", "host"}, nil, true)
	if _, err := v.Verify(r, []byte(describeBody)); err != nil {
		t.Fatal(err)
	}
	// content-length not signed although the body is not empty: the SDK path
	// handles that by leaving the length out.
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	r = httptest.NewRequest("POST", "http://eni.test:4566/", strings.NewReader(describeBody))
	r.Header.Set("Content-Type", hdr["Content-Type"])
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	a := &Auth{AccessKeyID: testAKID, ScopeDate: "20150830", Region: "us-east-1", Service: "ec2",
		SignedHeaders: []string{"content-type", "host", "x-amz-date"}, Time: t0, Date: "20150830T123600Z"}
	sdk, ok := sdkSignature(r, a, testSecret, hashHex(describeBody))
	if !ok || sdk != manualSignature(r, a, testSecret, hashHex(describeBody)) {
		t.Fatalf("sdk %s (%v) differs from manual", sdk, ok)
	}
}

func TestParseCredentials(t *testing.T) {
	in := "\ufeff# ENI keys\n\nAKIAEXAMPLE1 secret/one+x 123456789012\n  # indented comment\n\ttest\ttest   000000000001  \nAKIA.x_y-z s3cr#t 999999999999\n"
	c, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Credentials{
		"AKIAEXAMPLE1": {AccessKeyID: "AKIAEXAMPLE1", SecretAccessKey: "secret/one+x", Account: "123456789012"},
		"test":         {AccessKeyID: "test", SecretAccessKey: "test", Account: "000000000001"},
		"AKIA.x_y-z":   {AccessKeyID: "AKIA.x_y-z", SecretAccessKey: "s3cr#t", Account: "999999999999"},
	}
	if len(c) != len(want) {
		t.Fatalf("got %v", c)
	}
	for k, w := range want {
		if c[k] != w {
			t.Fatalf("key %s: got %#v, want %#v", k, c[k], w)
		}
	}
	bad := []struct{ in, want string }{
		{"a b\n", "line 1: want \"ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID\", got 2 fields"},
		{"# c\n\nk s 123456789012 # trailing\n", "line 3: want"},
		{"k s 12345678901\n", `line 1: account id "12345678901": want 12 digits`},
		{"k s 12345678901x\n", `line 1: account id`},
		{"k/1 s 123456789012\n", `line 1: access key id "k/1"`},
		{"k s 123456789012\n#\nk t 123456789013\n", `line 3: access key id "k" is already defined on line 1`},
		{"k s 123456789012\n" + strings.Repeat("x", 70000) + "\n", "line 2: "},
	}
	for _, b := range bad {
		_, err := Parse(strings.NewReader(b.in))
		if err == nil || !strings.HasPrefix(err.Error(), b.want) {
			t.Errorf("Parse(%.30q) = %v, want prefix %q", b.in, err, b.want)
		}
	}
	if c, err := Parse(strings.NewReader("# nothing\n")); err != nil || len(c) != 0 {
		t.Fatalf("comments only: %v, %v", c, err)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/creds"
	if err := writeFile(p, "test test 123456789012\nbad line\n"); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(p)
	if err == nil || !strings.Contains(err.Error(), p+": line 2:") {
		t.Fatalf("got %v", err)
	}
	if _, err := LoadFile(dir + "/missing"); err == nil {
		t.Fatal("missing file loaded")
	}
}

func TestKeyStringHidesSecret(t *testing.T) {
	k := Key{AccessKeyID: "AKID", SecretAccessKey: "SECRETVALUE", Account: "123456789012"}
	for _, s := range []string{k.String(), k.GoString()} {
		if strings.Contains(s, "SECRETVALUE") || !strings.Contains(s, "AKID") {
			t.Fatalf("%q", s)
		}
	}
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }
