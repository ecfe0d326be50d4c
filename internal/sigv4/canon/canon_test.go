package canon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Authorization signs as the SDK's signer does: the same header for requests with a
// query to sort and escape, a path to escape, a body, spaces to collapse and a session
// token. (The server's verifier checks it against AWS's test suite too: sigv4's tests.)
func TestAuthorizationIsTheSDKs(t *testing.T) {
	at := time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)
	for _, c := range []struct{ method, url, body, token string }{
		{"POST", "http://127.0.0.1:4566/eni/v1/tasks?region=us-east-1&wait=1", `{"subnetId":"subnet-1"}`, ""},
		{"PUT", "http://localhost:4566/eni/v1/tasks/task-1?region=eu-west-1&a-b=1&a=2", "", "FwoGZXIvYXdzE  token"},
		{"GET", "http://h:1/a%20b/c~d?x=%2F&x=%20&y", "", ""},
	} {
		req, _ := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json  ;  charset=x")
		sum := sha256.Sum256([]byte(c.body))
		hash := hex.EncodeToString(sum[:])
		creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret/x+y", SessionToken: c.token}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "eni", "eu-west-1", at); err != nil {
			t.Fatal(err)
		}
		_, signed, _ := strings.Cut(req.Header.Get("Authorization"), "SignedHeaders=")
		signed, _, _ = strings.Cut(signed, ",")
		r := Request{Method: c.method, EscapedPath: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, PayloadHash: hash,
			SignedHeaders: strings.Split(signed, ";"),
			Value: func(h string) string {
				switch h {
				case "host":
					return req.URL.Host
				case "content-length":
					return strconv.FormatInt(req.ContentLength, 10)
				}
				return HeaderValue(req.Header.Values(h))
			}}
		if got, want := Authorization(r, at, "AKID", "secret/x+y", "eu-west-1", "eni"), req.Header.Get("Authorization"); got != want {
			t.Errorf("%s %s:\n got %s\nwant %s\ncanonical:\n%s", c.method, c.url, got, want, r.Canonical())
		}
	}
}
