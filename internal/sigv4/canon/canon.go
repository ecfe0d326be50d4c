// Package canon is Signature Version 4's arithmetic, without the HTTP stack: the
// canonical request, the string to sign, the signing key and the signature. The
// server's verifier (internal/sigv4) rebuilds with it the requests the SDK's
// signer cannot, and eni-run-task signs its requests with it (it links no
// net/http, whose initialisation is milliseconds of a task's start). Its hashes are
// internal/sigv4/sha's, for the same reason (no crypto package in eni-run-task;
// outside Go's FIPS module, then, on the verifier's fallback path too). It follows
// the specification step by step and mirrors the SDK where the specification
// leaves room: query pairs are sorted after encoding; the path is escaped once
// more, as for every service but S3; header values are trimmed and inner runs of
// spaces collapsed.
package canon

import (
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/eni-net/eni/internal/sigv4/sha"
)

// Algorithm is the signing algorithm.
const Algorithm = "AWS4-HMAC-SHA256"

// DateLayout is the ISO 8601 basic format of X-Amz-Date.
const DateLayout = "20060102T150405Z"

// Request is what a signature covers of a request.
type Request struct {
	Method      string
	EscapedPath string // as sent
	RawQuery    string
	Presigned   bool // the signature is in the query (its X-Amz-Signature is not signed)
	// SignedHeaders are the signed headers' lower-case names, in the order the
	// signature lists them; Value is a header's value as sent (its values
	// comma-joined).
	SignedHeaders []string
	Value         func(name string) string
	PayloadHash   string // hex SHA-256 of the body
}

// Canonical is r's canonical request.
func (r Request) Canonical() string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	p := r.EscapedPath
	if p == "" {
		p = "/"
	}
	b.WriteString(URIEncode(p, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.RawQuery, r.Presigned))
	b.WriteByte('\n')
	for _, h := range r.SignedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(r.Value(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(r.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(r.PayloadHash)
	return b.String()
}

// Scope is a credential scope: date (YYYYMMDD)/region/service/aws4_request.
func Scope(date, region, service string) string {
	return date + "/" + region + "/" + service + "/aws4_request"
}

// Signature is the hex signature of r, signed at t within the scope of date (YYYYMMDD),
// region and service, with secret.
func Signature(r Request, t time.Time, secret, date, region, service string) string {
	sum := sha.Sum256([]byte(r.Canonical()))
	sts := Algorithm + "\n" + t.UTC().Format(DateLayout) + "\n" + Scope(date, region, service) + "\n" + hex.EncodeToString(sum[:])
	return hex.EncodeToString(hmacSHA256(SigningKey(secret, date, region, service), []byte(sts)))
}

// Authorization is the Authorization header that signs r at t (the scope's date is
// t's) for region and service with the key id and secret.
func Authorization(r Request, t time.Time, id, secret, region, service string) string {
	date := t.UTC().Format("20060102")
	return Algorithm + " Credential=" + id + "/" + Scope(date, region, service) +
		", SignedHeaders=" + strings.Join(r.SignedHeaders, ";") +
		", Signature=" + Signature(r, t, secret, date, region, service)
}

// SigningKey is the key derived from secret for the scope of date, region and service.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	s := sha.HMAC(key, data)
	return s[:]
}

// HeaderValue is a header's canonical value of its values as sent: each trimmed, inner
// runs of spaces collapsed, comma-joined.
func HeaderValue(vals []string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.TrimSpace(stripExcessSpaces(v))
	}
	return strings.Join(out, ",")
}

func canonicalQuery(raw string, presigned bool) string {
	q, _ := url.ParseQuery(raw) // what parses is what Go's server gives the handler
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		ek := URIEncode(k, true)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, URIEncode(v, true)})
		}
	}
	// By encoded key, then value ("a=1" before "a-b=1", which sorting the
	// joined strings would get wrong).
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// URIEncode percent-encodes everything but the RFC 3986 unreserved characters
// (and '/', unless encodeSlash), with upper-case hex.
func URIEncode(s string, encodeSlash bool) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// stripExcessSpaces collapses runs of spaces into one, as the SDK does.
func stripExcessSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
