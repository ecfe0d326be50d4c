// Package sigv4 verifies AWS Signature Version 4 on incoming EC2 API
// requests, in both forms clients use: the Authorization header and the
// presigned query string (X-Amz-Signature). It owns the credentials file
// format and the mapping from access key to account; it does no I/O besides
// LoadFile, keeps no globals and reads the clock only through Verifier.Now.
//
// How a signature is checked. The signature a client sends covers exactly the
// headers it lists in SignedHeaders, and every client picks its own set
// (botocore: content-type;host;x-amz-date; aws-sdk-go-v2 adds
// amz-sdk-invocation-id, amz-sdk-request and content-length; the Java v1 SDK
// signs user-agent). Verify rebuilds the request the client signed — a clone
// holding only the listed headers, the same method, path and query, the same
// time, region and service — and re-signs it:
//
//   - with the AWS SDK's own signer (aws-sdk-go-v2/aws/signer/v4: SignHTTP, or
//     PresignHTTP for the query form) whenever the SDK can be made to sign
//     exactly the client's set. The SDK signs every header it is given except
//     a fixed ignore list (authorization, user-agent, expect,
//     transfer-encoding, x-amzn-trace-id), always signs host, and signs
//     content-length only when positive, so this covers the SDK clients, the
//     CLI and most others. The SDK's resulting SignedHeaders are compared with
//     the client's to prove the set was reproduced.
//   - otherwise (a client that signed user-agent, used the Date header instead
//     of X-Amz-Date, signed "content-length: 0", ...) with canonical.go, which
//     builds the canonical request from the client's list and derives the key
//     with internal/sigv4/canon (the specification's arithmetic, which
//     eni-run-task signs with too). The SDK exports no key-derivation helper
//     (it lives in aws/signer/internal/v4), so this fallback has to do the
//     HMAC chain itself. Tests check that both paths agree on every request the SDK can
//     sign and that both reproduce AWS's published test-suite signatures.
//
// Signatures are compared with crypto/subtle.ConstantTimeCompare.
//
// Errors are *core.Error values carrying the EC2 code (and satisfy
// interface{ error; EC2Code() string }): an unknown access key, or a session
// token that Verifier.Session does not accept, is AuthFailure, a wrong signature (wrong secret, tampered body or
// signed header) SignatureDoesNotMatch, a timestamp more than MaxSkew away
// (or a presigned URL past its X-Amz-Expires) RequestExpired, no signature at
// all MissingAuthenticationToken, and a malformed one IncompleteSignature.
//
// The payload is always authenticated: the body hash is computed here, and an
// X-Amz-Content-Sha256 header must agree with it ("UNSIGNED-PAYLOAD" is
// refused, since for the EC2 Query API the body is the request).
package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/sigv4/canon"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = canon.Algorithm

// DefaultMaxSkew is how far a request's timestamp may be from the server's
// clock, as in AWS.
const DefaultMaxSkew = 15 * time.Minute

// MaxPresignExpiry bounds X-Amz-Expires (seven days, as in AWS).
const MaxPresignExpiry = 7 * 24 * time.Hour

// amzDateLayout is the ISO 8601 basic format of X-Amz-Date.
const amzDateLayout = canon.DateLayout

// Verifier checks SigV4 signatures against a set of keys.
type Verifier struct {
	Keys Credentials
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is the tolerated clock difference; zero means DefaultMaxSkew.
	MaxSkew time.Duration
	// Service, if set, is the only service name accepted in the credential
	// scope (EC2 clients sign for "ec2").
	Service string
	// Session, if set, checks a request's session token (X-Amz-Security-Token)
	// for its access key id and returns the temporary key it stands for; its
	// errors are the request's (a *core.Error). Nil: every token is refused.
	// A temporary key acts only for an account that still has a key in Keys:
	// removing an account's lines from the credentials file ends its
	// instances' credentials too.
	Session func(accessKeyID, token string) (Key, error)
}

// Auth is a parsed SigV4 signature, from the header or the query string.
type Auth struct {
	Presigned     bool
	AccessKeyID   string
	ScopeDate     string // YYYYMMDD from the credential scope
	Region        string
	Service       string
	SignedHeaders []string // as listed by the client
	Signature     string   // lower-case hex, as sent
	// Set for presigned requests (from the query), and by Verify for the
	// header form (from X-Amz-Date or Date).
	Date    string // the timestamp as sent
	Time    time.Time
	Expires time.Duration // X-Amz-Expires; zero if absent
}

// SignedHeadersString is the SignedHeaders value as the client sent it.
func (a *Auth) SignedHeadersString() string { return strings.Join(a.SignedHeaders, ";") }

// ParseAuthorization parses an Authorization header value:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
func ParseAuthorization(h string) (*Auth, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != Algorithm {
		return nil, errIncomplete("Unsupported AWS 'algorithm': %q; only %s is accepted.", truncate(alg), Algorithm)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errIncomplete("Authorization header parameter %q is not of the form key=value.", truncate(part))
		}
		var dst *string
		var seen *bool
		switch k {
		case "Credential":
			dst, seen = &cred, &haveCred
		case "SignedHeaders":
			dst, seen = &signed, &haveSigned
		case "Signature":
			dst, seen = &sig, &haveSig
		default:
			continue // AWS ignores parameters it does not know
		}
		if *seen {
			return nil, errIncomplete("Authorization header parameter '%s' is given more than once.", k)
		}
		*dst, *seen = v, true
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if len(missing) > 0 {
		return nil, errIncomplete("%s", strings.Join(missing, " "))
	}
	a := &Auth{Signature: sig}
	if err := a.parseCredential(cred); err != nil {
		return nil, err
	}
	if err := a.parseSignedHeaders(signed); err != nil {
		return nil, err
	}
	return a, nil
}

// ParseQuery parses the presigned form's X-Amz-* query parameters.
func ParseQuery(q url.Values) (*Auth, error) {
	one := func(k string) (string, error) {
		v, ok := q[k]
		if !ok || len(v) == 0 || v[0] == "" {
			return "", errIncomplete("Query-string authentication requires the %s parameter.", k)
		}
		if len(v) > 1 {
			return "", errIncomplete("The %s parameter is given more than once.", k)
		}
		return v[0], nil
	}
	alg, err := one("X-Amz-Algorithm")
	if err != nil {
		return nil, err
	}
	if alg != Algorithm {
		return nil, errIncomplete("Unsupported X-Amz-Algorithm %q; only %s is accepted.", truncate(alg), Algorithm)
	}
	a := &Auth{Presigned: true}
	var cred, signed, date string
	for _, p := range []struct {
		k   string
		dst *string
	}{{"X-Amz-Credential", &cred}, {"X-Amz-SignedHeaders", &signed}, {"X-Amz-Signature", &a.Signature}, {"X-Amz-Date", &date}} {
		if *p.dst, err = one(p.k); err != nil {
			return nil, err
		}
	}
	if err := a.parseCredential(cred); err != nil {
		return nil, err
	}
	if err := a.parseSignedHeaders(signed); err != nil {
		return nil, err
	}
	if a.Time, err = time.Parse(amzDateLayout, date); err != nil {
		return nil, errIncomplete("X-Amz-Date %q is not of the form YYYYMMDD'T'HHMMSS'Z'.", truncate(date))
	}
	a.Date = date
	if _, ok := q["X-Amz-Expires"]; ok {
		e, err := one("X-Amz-Expires")
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil || n <= 0 || n > int64(MaxPresignExpiry/time.Second) {
			return nil, errIncomplete("X-Amz-Expires must be a number of seconds from 1 to %d.", int64(MaxPresignExpiry/time.Second))
		}
		a.Expires = time.Duration(n) * time.Second
	}
	return a, nil
}

// parseCredential reads AKID/YYYYMMDD/region/service/aws4_request.
func (a *Auth) parseCredential(cred string) error {
	p := strings.Split(cred, "/")
	if len(p) != 5 {
		return errIncomplete("Credential %q is not of the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.", truncate(cred))
	}
	if p[0] == "" || p[2] == "" || p[3] == "" {
		return errIncomplete("Credential %q has an empty access key, region or service.", truncate(cred))
	}
	if _, err := time.Parse("20060102", p[1]); err != nil || len(p[1]) != 8 {
		return errIncomplete("Credential %q: the date must be YYYYMMDD.", truncate(cred))
	}
	if p[4] != "aws4_request" {
		return errIncomplete("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", truncate(p[4]))
	}
	a.AccessKeyID, a.ScopeDate, a.Region, a.Service = p[0], p[1], p[2], p[3]
	return nil
}

func (a *Auth) parseSignedHeaders(s string) error {
	if s == "" {
		return errIncomplete("SignedHeaders must not be empty.")
	}
	a.SignedHeaders = strings.Split(s, ";")
	for _, h := range a.SignedHeaders {
		if h == "" || strings.ContainsAny(h, " \t:") {
			return errIncomplete("SignedHeaders %q contains an invalid header name.", truncate(s))
		}
	}
	if !slices.Contains(a.SignedHeaders, "host") {
		return errIncomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// truncate keeps hostile input from bloating error messages.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Verify checks r's signature (body is r's already-read body) and returns the
// account of the access key that signed it. Every error is a *core.Error.
func (v *Verifier) Verify(r *http.Request, body []byte) (account string, err error) {
	a, err := v.parse(r)
	if err != nil {
		return "", err
	}
	key, err := v.key(r, a)
	if err != nil {
		return "", err
	}
	if v.Service != "" && a.Service != v.Service {
		return "", errMismatchf("Credential should be scoped to correct service: '%s'.", v.Service)
	}
	if a.Time.Format("20060102") != a.ScopeDate {
		return "", errMismatchf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.ScopeDate, a.Time.Format("20060102"), a.Time.Format(amzDateLayout))
	}
	if err := v.checkTime(a); err != nil {
		return "", err
	}
	payload, err := payloadHash(r, a, body)
	if err != nil {
		return "", err
	}
	want := Signature(r, a, key.SecretAccessKey, payload)
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.Signature)) != 1 {
		return "", errMismatch()
	}
	return key.Account, nil
}

// key is the key that signed: a long-term key of Keys, or, with a session
// token, the temporary key Session makes of it (the instance credentials of
// the metadata service). A token without Session, or one Session refuses,
// is AuthFailure, as AWS answers a bad token.
func (v *Verifier) key(r *http.Request, a *Auth) (Key, error) {
	token := r.Header.Get("X-Amz-Security-Token")
	if token == "" {
		token = r.URL.Query().Get("X-Amz-Security-Token")
	}
	if token == "" {
		key, ok := v.Keys[a.AccessKeyID]
		if !ok {
			return Key{}, errAuthFailure()
		}
		return key, nil
	}
	if v.Session == nil {
		return Key{}, errAuthFailure()
	}
	key, err := v.Session(a.AccessKeyID, token)
	if err != nil {
		return Key{}, err
	}
	if !v.Keys.HasAccount(key.Account) {
		return Key{}, errAuthFailure()
	}
	return key, nil
}

// parse finds the signature in the header or the query, with its timestamp.
func (v *Verifier) parse(r *http.Request) (*Auth, error) {
	h := r.Header.Get("Authorization")
	q := r.URL.Query()
	_, presigned := q["X-Amz-Algorithm"]
	if _, ok := q["X-Amz-Signature"]; ok {
		presigned = true
	}
	switch {
	case h != "" && presigned:
		return nil, errIncomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case presigned:
		return ParseQuery(q)
	case h == "":
		return nil, &core.Error{Code: CodeMissingAuthenticationToken, Message: msgMissingAuth}
	}
	a, err := ParseAuthorization(h)
	if err != nil {
		return nil, err
	}
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		if a.Time, err = time.Parse(amzDateLayout, d); err != nil {
			return nil, errIncomplete("X-Amz-Date %q is not of the form YYYYMMDD'T'HHMMSS'Z'.", truncate(d))
		}
		a.Date = d
	} else if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return nil, errIncomplete("Date header %q is not an HTTP date.", truncate(d))
		}
		a.Time = t.UTC()
		a.Date = a.Time.Format(amzDateLayout)
	} else {
		return nil, errIncomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	return a, nil
}

func (v *Verifier) checkTime(a *Auth) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	signed := a.Time.Format(amzDateLayout)
	if a.Time.Sub(t) > skew {
		return errExpired(fmt.Sprintf("Signed at %s, more than %s after the server time %s.", signed, skew, t.Format(amzDateLayout)))
	}
	if a.Presigned && a.Expires > 0 {
		if t.Sub(a.Time) > a.Expires {
			return errExpired(fmt.Sprintf("The presigned URL was signed at %s and expired %s later; the server time is %s.", signed, a.Expires, t.Format(amzDateLayout)))
		}
		return nil
	}
	if t.Sub(a.Time) > skew {
		return errExpired(fmt.Sprintf("Signed at %s, more than %s before the server time %s.", signed, skew, t.Format(amzDateLayout)))
	}
	return nil
}

const unsignedPayload = "UNSIGNED-PAYLOAD"

// payloadHash is the hex SHA-256 of the body, written as the client wrote it
// in X-Amz-Content-Sha256 when it sent one (it must agree with the body).
func payloadHash(r *http.Request, a *Auth, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	claimed := r.Header.Get("X-Amz-Content-Sha256")
	if a.Presigned || claimed == "" {
		return h, nil
	}
	if claimed == unsignedPayload {
		return "", errMismatchf("The 'x-amz-content-sha256' header must be the SHA-256 of the request body; unsigned payloads are not accepted.")
	}
	if !strings.EqualFold(claimed, h) {
		return "", errMismatchf("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return claimed, nil
}

// Signature computes the hex signature of r as described by a, with the
// secret and payload hash. It uses the SDK's signer when the SDK can sign
// exactly a.SignedHeaders, and the canonical request of canonical.go when not.
func Signature(r *http.Request, a *Auth, secret, payloadHash string) string {
	if sig, ok := sdkSignature(r, a, secret, payloadHash); ok {
		return sig
	}
	return manualSignature(r, a, secret, payloadHash)
}

// sdkIgnored are the headers aws-sdk-go-v2's signer never signs
// (aws/signer/internal/v4.IgnoredHeaders).
var sdkIgnored = []string{"authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding"}

// sdkSignature re-signs a clone of r with the SDK's signer. ok is false when
// the SDK cannot reproduce the client's signed-header set.
func sdkSignature(r *http.Request, a *Auth, secret, payloadHash string) (sig string, ok bool) {
	if !slices.IsSorted(a.SignedHeaders) || a.Date != a.Time.Format(amzDateLayout) {
		return "", false
	}
	c := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		Host:   requestHost(r),
		Header: http.Header{},
	}
	if a.Presigned {
		q := r.URL.Query()
		q.Del("X-Amz-Signature")
		c.URL.RawQuery = q.Encode()
	}
	for i, h := range a.SignedHeaders {
		if i > 0 && h == a.SignedHeaders[i-1] {
			return "", false // a duplicate the SDK would merge
		}
		if h != strings.ToLower(h) || slices.Contains(sdkIgnored, h) {
			return "", false
		}
		switch h {
		case "host":
			continue
		case "content-length":
			n, err := strconv.ParseInt(headerValue(r, h), 10, 64)
			if err != nil || n <= 0 {
				return "", false
			}
			c.ContentLength = n
			continue
		}
		vals := r.Header.Values(h)
		if len(vals) == 0 {
			return "", false
		}
		// Canonical keys, so that the SDK's own X-Amz-Date replaces the
		// client's rather than adding a second value.
		c.Header[textproto.CanonicalMIMEHeaderKey(h)] = vals
	}
	creds := aws.Credentials{AccessKeyID: a.AccessKeyID, SecretAccessKey: secret}
	signer := awsv4.NewSigner()
	ctx := context.Background()
	if a.Presigned {
		u, _, err := signer.PresignHTTP(ctx, creds, c, payloadHash, a.Service, a.Region, a.Time,
			func(o *awsv4.SignerOptions) { o.DisableHeaderHoisting = true })
		if err != nil {
			return "", false
		}
		pu, err := url.Parse(u)
		if err != nil {
			return "", false
		}
		q := pu.Query()
		if q.Get("X-Amz-SignedHeaders") != a.SignedHeadersString() {
			return "", false
		}
		return q.Get("X-Amz-Signature"), true
	}
	if err := signer.SignHTTP(ctx, creds, c, payloadHash, a.Service, a.Region, a.Time); err != nil {
		return "", false
	}
	got, err := ParseAuthorization(c.Header.Get("Authorization"))
	if err != nil || got.SignedHeadersString() != a.SignedHeadersString() {
		return "", false
	}
	return got.Signature, true
}

// requestHost is the Host the client sent (a server request keeps it in
// r.Host; a client-side request may only have it in the URL).
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}
