package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/eni-net/eni/internal/core"
)

var verifyCodes = []string{CodeAuthFailure, CodeSignatureDoesNotMatch, CodeRequestExpired, CodeMissingAuthenticationToken, CodeIncompleteSignature}

// FuzzParseAuthorization: any header value parses or fails with
// IncompleteSignature, never panics; what parses is well-formed.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	f.Add("AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request,SignedHeaders=host,Signature=")
	f.Add("AWS4-HMAC-SHA256 Credential=//////, SignedHeaders=;;, Signature==")
	f.Add("AWS AKID:sig")
	f.Add("AWS4-HMAC-SHA256")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			var ce *core.Error
			if !errors.As(err, &ce) || ce.Code != CodeIncompleteSignature {
				t.Fatalf("ParseAuthorization(%q) = %v", h, err)
			}
			return
		}
		if a.AccessKeyID == "" || a.Region == "" || a.Service == "" || len(a.ScopeDate) != 8 ||
			!slices.Contains(a.SignedHeaders, "host") || slices.Contains(a.SignedHeaders, "") {
			t.Fatalf("ParseAuthorization(%q) = %+v", h, a)
		}
		if !strings.Contains(h, "SignedHeaders="+a.SignedHeadersString()) {
			t.Fatalf("SignedHeaders %q not taken from %q", a.SignedHeadersString(), h)
		}
	})
}

// FuzzVerify: arbitrary requests (method, target, headers, body) never make
// Verify panic, every failure is one of its documented codes, and a request
// that was not signed with a known secret never verifies.
func FuzzVerify(f *testing.F) {
	good := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	f.Add("GET", "/", "example.amazonaws.com", good, "20150830T123600Z", "", "", []byte(nil))
	f.Add("POST", "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=60",
		"h", "", "", "", "", []byte("Action=DescribeVpcs"))
	f.Add("GET", "/a%2Fb/../c?x=1&x=2&y", "h:1", strings.Replace(good, "host;x-amz-date", "content-length;date;host;user-agent;transfer-encoding", 1), "", "Sun, 30 Aug 2015 12:36:00 GMT", "UNSIGNED-PAYLOAD", []byte("x"))
	f.Fuzz(func(t *testing.T, method, target, host, auth, amzDate, date, contentSHA string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{Method: method, URL: u, Host: host, Header: http.Header{}, ContentLength: int64(len(body))}
		set := func(k, v string) {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		set("Authorization", auth)
		set("X-Amz-Date", amzDate)
		set("Date", date)
		set("X-Amz-Content-Sha256", contentSHA)
		set("User-Agent", "fuzz")
		acct, err := testVerifier(t0).Verify(r, body)
		if err == nil {
			// Only the published get-vanilla request is signed with a known key.
			if acct != testAccount || method != "GET" || u.Path != "/" || u.RawQuery != "" || host != "example.amazonaws.com" {
				t.Fatalf("verified %s %s host %q auth %q as %q", method, target, host, auth, acct)
			}
			return
		}
		var ce *core.Error
		if !errors.As(err, &ce) || !slices.Contains(verifyCodes, ce.Code) {
			t.Fatalf("Verify error %v (%T)", err, err)
		}
	})
}

// FuzzSignatureAgreement signs random requests with the SDK and checks that
// Verify accepts them, that the fallback canonical request computes the same
// signature as the SDK, and that changing the body is caught.
func FuzzSignatureAgreement(f *testing.F) {
	f.Add("/", "Action=DescribeVpcs&Version=2016-11-15", "application/x-www-form-urlencoded", "attempt=1; max=3", []byte("Filter.1.Name=tag%3AName"), false)
	f.Add("/a b/%2F/é", "a=&=b&c&a=1&a-b=2&%zz", "", "  two  spaces  ", []byte{}, true)
	f.Add("//x/./y/../", "Param2=value2&Param1=value1&X-Amz-Expires=30", "text/plain", "\"a   b   c\"", []byte("\x00\xff"), true)
	f.Fuzz(func(t *testing.T, path, query, ctype, custom string, body []byte, presign bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		u, err := url.Parse("http://eni.test:4566" + path + "?" + query)
		if err != nil || u.Path == "" {
			return
		}
		for _, v := range []string{ctype, custom} {
			if strings.ContainsAny(v, "\r\n\x00") {
				return // not a value an HTTP server would deliver
			}
		}
		r := &http.Request{Method: "POST", URL: u, Host: u.Host, Header: http.Header{}, ContentLength: int64(len(body))}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if custom != "" {
			r.Header.Set("Amz-Sdk-Request", custom)
		}
		creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
		ph := hashHex(string(body))
		s := awsv4.NewSigner()
		if presign {
			if _, has := u.Query()["X-Amz-Signature"]; has {
				return
			}
			signed, _, err := s.PresignHTTP(context.Background(), creds, r, ph, "ec2", "us-east-1", t0)
			if err != nil {
				t.Skip(err)
			}
			su, err := url.Parse(signed)
			if err != nil {
				t.Fatalf("SDK presigned an unparsable URL %q", signed)
			}
			r = &http.Request{Method: "POST", URL: &url.URL{Path: su.Path, RawPath: su.RawPath, RawQuery: su.RawQuery}, Host: u.Host, Header: r.Header, ContentLength: r.ContentLength}
			if exp := su.Query().Get("X-Amz-Expires"); exp != "" {
				if _, err := ParseQuery(su.Query()); err != nil {
					return // an X-Amz-Expires Verify refuses (not a number, too long)
				}
			}
		} else {
			if _, has := u.Query()["X-Amz-Algorithm"]; has {
				return
			}
			if _, has := u.Query()["X-Amz-Signature"]; has {
				return
			}
			if err := s.SignHTTP(context.Background(), creds, r, ph, "ec2", "us-east-1", t0); err != nil {
				t.Skip(err)
			}
		}
		v := testVerifier(t0)
		a, err := v.parse(r)
		if err != nil {
			t.Fatalf("parse of an SDK-signed request: %v", err)
		}
		sdk, ok := sdkSignature(r, a, testSecret, ph)
		man := manualSignature(r, a, testSecret, ph)
		if !ok || sdk != a.Signature || man != sdk {
			t.Fatalf("signatures: sent %s, sdk %s (%v), manual %s\ncanonical request:\n%s", a.Signature, sdk, ok, man, CanonicalRequest(r, a, ph))
		}
		if _, err := v.Verify(r, body); err != nil {
			t.Fatalf("Verify of an SDK-signed request: %v", err)
		}
		tampered := append(slices.Clone(body), 'x')
		if _, err := v.Verify(r, tampered); err == nil {
			t.Fatal("a changed body verified")
		}
	})
}
