package sigv4

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/sigv4/canon"
)

// This file is the fallback for signed-header sets the SDK's signer cannot
// reproduce (see the package doc): the specification's arithmetic (internal/sigv4/canon)
// over the request as the client sent it.

// manualSignature computes the signature from the canonical request.
func manualSignature(r *http.Request, a *Auth, secret, payloadHash string) string {
	return canon.Signature(canonRequest(r, a, payloadHash), a.Time, secret, a.ScopeDate, a.Region, a.Service)
}

// CanonicalRequest is the canonical request of r for the signed headers in a.
func CanonicalRequest(r *http.Request, a *Auth, payloadHash string) string {
	return canonRequest(r, a, payloadHash).Canonical()
}

func canonRequest(r *http.Request, a *Auth, payloadHash string) canon.Request {
	return canon.Request{Method: r.Method, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Presigned: a.Presigned, SignedHeaders: a.SignedHeaders, PayloadHash: payloadHash,
		Value: func(h string) string { return headerValue(r, strings.ToLower(h)) }}
}

// headerValue is the canonical value of r's header h (lower case): Go's server
// keeps Host, Content-Length and Transfer-Encoding out of r.Header.
func headerValue(r *http.Request, h string) string {
	switch h {
	case "host":
		return requestHost(r)
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return v
		}
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
		return ""
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return strings.Join(r.TransferEncoding, ",")
		}
	}
	return canon.HeaderValue(r.Header.Values(h))
}
