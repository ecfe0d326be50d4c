package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// This file is the fallback for signed-header sets the SDK's signer cannot
// reproduce (see the package doc). It follows the SigV4 specification step by
// step and mirrors the SDK where the specification leaves room (query pairs
// are sorted after encoding; the path is escaped once more, as for every
// service but S3; header values are trimmed and inner runs of spaces
// collapsed).

// manualSignature computes the signature from the canonical request.
func manualSignature(r *http.Request, a *Auth, secret, payloadHash string) string {
	creq := CanonicalRequest(r, a, payloadHash)
	sum := sha256.Sum256([]byte(creq))
	sts := Algorithm + "\n" + a.Time.Format(amzDateLayout) + "\n" + a.scope() + "\n" + hex.EncodeToString(sum[:])
	key := signingKey(secret, a.ScopeDate, a.Region, a.Service)
	return hex.EncodeToString(hmacSHA256(key, []byte(sts)))
}

// CanonicalRequest is the canonical request of r for the signed headers in a.
func CanonicalRequest(r *http.Request, a *Auth, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, a.Presigned))
	b.WriteByte('\n')
	for _, h := range a.SignedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, strings.ToLower(h)))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(a.SignedHeadersString())
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return uriEncode(p, false)
}

func canonicalQuery(raw string, presigned bool) string {
	q, _ := url.ParseQuery(raw) // what parses is what Go's server gives the handler
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		ek := uriEncode(k, true)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, uriEncode(v, true)})
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

// uriEncode percent-encodes everything but the RFC 3986 unreserved
// characters (and '/', unless encodeSlash), with upper-case hex.
func uriEncode(s string, encodeSlash bool) string {
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

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
