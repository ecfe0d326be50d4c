package imds

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/iamcreds"
)

// Asker is a connection whose transport knows through which ENI it came in. Server
// answers only such connections, for the instance that ENI is attached to.
type Asker interface {
	MetadataAsker() string // ENI id
}

// InstanceAsker is an Asker whose transport also knows which instance holds that ENI
// on the host (the data plane may lag the API after a move): the server answers only
// when the model agrees.
type InstanceAsker interface {
	MetadataInstance() string // instance id
}

// Options configure a Server.
type Options struct {
	// Lookup returns the metadata of the instance the ENI is attached to (the core's
	// InstanceMetadataOf, for the data plane's region).
	Lookup func(eniID string) (core.MetadataView, bool)
	// Key signs instance identity documents (see LoadOrCreateKey). Nil: no signature.
	Key *rsa.PrivateKey
	// Secret keys the session tokens' MACs (default: random, so tokens do not
	// outlive the server, as AWS's do not outlive a stop).
	Secret []byte
	// Credentials issues the instance credentials of meta-data/iam/ (nil:
	// the profile's info only).
	Credentials *iamcreds.Issuer
	Now         func() time.Time
	Logger      *slog.Logger
}

// Server answers the metadata service's HTTP requests. Serve it on listeners whose
// connections are Askers.
type Server struct {
	opt Options

	mu   sync.Mutex
	sigs map[string]Signatures // document -> signatures (signing costs a millisecond)
	cert *x509.Certificate     // Key's (Certificate), made on first use
}

// Header names and limits of IMDSv2 (AWS's).
const (
	TokenHeader    = "X-Aws-Ec2-Metadata-Token"
	TokenTTLHeader = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	maxTokenTTL    = 21600
	tokenPath      = "/latest/api/token"
	maxSigCache    = 4096
)

// versions are the metadata versions AWS lists at the root, oldest first; each serves
// the same tree as latest (clients such as cloud-init ask for a dated one).
var versions = []string{"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
	"2008-02-01", "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12", "2014-02-25",
	"2014-11-05", "2015-10-20", "2016-04-19", "2016-06-30", "2016-09-02", "2018-03-28", "2018-08-17",
	"2018-09-24", "2019-10-01", "2020-10-27", "2021-01-03", "2021-03-23", "2021-07-15", "2022-07-09",
	"2022-09-24", "latest"}

// New returns a Server.
func New(opt Options) *Server {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if len(opt.Secret) == 0 {
		opt.Secret = make([]byte, 32)
		_, _ = rand.Read(opt.Secret) // crypto/rand never fails
	}
	return &Server{opt: opt, sigs: map[string]Signatures{}}
}

type connKey struct{}

// Serve answers the connections of ln until it is closed.
func (s *Server) Serve(ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ConnContext:       s.ConnContext,
		ErrorLog:          slog.NewLogLogger(s.opt.Logger.Handler(), slog.LevelDebug),
	}
	return hs.Serve(ln)
}

// ConnContext puts the connection in its requests' context (http.Server.ConnContext).
func (s *Server) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ServeHTTP answers one request for the instance behind its connection's ENI.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, _ := r.Context().Value(connKey{}).(net.Conn)
	asker, ok := conn.(Asker)
	if !ok {
		httpError(w, http.StatusNotFound)
		return
	}
	v, ok := s.opt.Lookup(asker.MetadataAsker())
	if ia, is := conn.(InstanceAsker); is && ok && ia.MetadataInstance() != v.InstanceID {
		ok = false // the ENI is still in its previous instance here
	}
	if !ok {
		httpError(w, http.StatusNotFound)
		return
	}
	if v.Options.HttpEndpoint == "disabled" {
		httpError(w, http.StatusForbidden)
		return
	}
	if isIPv6(conn.LocalAddr()) && v.Options.HttpIPv6 != "enabled" {
		// The IPv6 endpoint does not exist for this instance: no answer at all.
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = c.Close() // nothing more to say
		}
		return
	}
	if r.URL.Path == tokenPath {
		s.token(w, r, conn, v)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpError(w, http.StatusMethodNotAllowed)
		return
	}
	left, status := s.session(r, v)
	if status != 0 {
		httpError(w, status)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if path == "" {
		writeText(w, strings.Join(versions, "\n"), left)
		return
	}
	ver, rest, _ := strings.Cut(path, "/")
	if !slices.Contains(versions, ver) {
		httpError(w, http.StatusNotFound)
		return
	}
	tree := Build(v, s.sign)
	s.addIAM(tree, v) // iam.go
	body, ok := tree.Get(rest)
	if !ok {
		httpError(w, http.StatusNotFound)
		return
	}
	if rest == "user-data" {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	writeText(w, body, left)
}

// session checks the request's session token: a token, if given, must be valid (401
// otherwise, whatever HttpTokens says); none is 401 when HttpTokens is required. left
// is the token's remaining lifetime in seconds (0 without one).
func (s *Server) session(r *http.Request, v core.MetadataView) (left int, status int) {
	tok := r.Header.Get(TokenHeader)
	if tok == "" {
		if v.Options.HttpTokens == "required" {
			return 0, http.StatusUnauthorized
		}
		return 0, 0
	}
	exp, ok := s.checkToken(tok, v.InstanceID)
	now := s.opt.Now()
	if !ok || !now.Before(exp) {
		return 0, http.StatusUnauthorized
	}
	return int(exp.Sub(now).Seconds()), 0
}

// token answers PUT /latest/api/token: a session token for the asking instance, for
// the TTL asked (1 to 21600 seconds, else 400), refused (403) to a request that went
// through a proxy (X-Forwarded-For), sent back with the instance's
// HttpPutResponseHopLimit as its IP TTL (hop limit), so that it reaches no further.
func (s *Server) token(w http.ResponseWriter, r *http.Request, conn net.Conn, v core.MetadataView) {
	if r.Method != http.MethodPut {
		httpError(w, http.StatusMethodNotAllowed)
		return
	}
	if len(r.Header.Values("X-Forwarded-For")) > 0 {
		httpError(w, http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(TokenTTLHeader))
	if err != nil || ttl < 1 || ttl > maxTokenTTL {
		httpError(w, http.StatusBadRequest)
		return
	}
	if err := setHopLimit(conn, int(v.Options.HopLimit)); err != nil {
		s.opt.Logger.Warn("metadata: hop limit not set", "err", err)
		httpError(w, http.StatusInternalServerError)
		return
	}
	exp := s.opt.Now().Add(time.Duration(ttl) * time.Second)
	writeText(w, s.makeToken(v.InstanceID, exp), ttl)
}

// Tokens are stateless: version byte, expiry (Unix seconds), and a MAC over the
// instance id and expiry, so a token is good for its instance only.
const tokenVersion = 1

func (s *Server) makeToken(instanceID string, exp time.Time) string {
	b := make([]byte, 9, 9+sha256.Size)
	b[0] = tokenVersion
	binary.BigEndian.PutUint64(b[1:], uint64(exp.Unix()))
	return base64.StdEncoding.EncodeToString(append(b, s.tokenMAC(instanceID, b)...))
}

func (s *Server) checkToken(tok, instanceID string) (time.Time, bool) {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil || len(b) != 9+sha256.Size || b[0] != tokenVersion {
		return time.Time{}, false
	}
	if !hmac.Equal(b[9:], s.tokenMAC(instanceID, b[:9])) {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(b[1:9])), 0), true
}

func (s *Server) tokenMAC(instanceID string, head []byte) []byte {
	m := hmac.New(sha256.New, s.opt.Secret)
	m.Write(head)
	m.Write([]byte(instanceID))
	return m.Sum(nil)
}

// sign is doc's signatures, remembered.
func (s *Server) sign(doc []byte) (Signatures, error) {
	if s.opt.Key == nil {
		return Signatures{}, errNoKey
	}
	s.mu.Lock()
	sig, ok := s.sigs[string(doc)]
	cert := s.cert
	s.mu.Unlock()
	if ok {
		return sig, nil
	}
	if cert == nil {
		var err error
		if cert, err = certificateOf(s.opt.Key); err != nil {
			return Signatures{}, err
		}
	}
	h := sha256.Sum256(doc)
	raw, err := rsa.SignPKCS1v15(nil, s.opt.Key, crypto.SHA256, h[:])
	if err != nil {
		return Signatures{}, err
	}
	p7, err := PKCS7(doc, s.opt.Key, cert)
	if err != nil {
		return Signatures{}, err
	}
	sig = Signatures{Signature: base64.StdEncoding.EncodeToString(raw), PKCS7: pkcs7Text(p7)}
	s.mu.Lock()
	if len(s.sigs) >= maxSigCache {
		clear(s.sigs)
	}
	s.sigs[string(doc)], s.cert = sig, cert
	s.mu.Unlock()
	return sig, nil
}

type keyError struct{}

func (keyError) Error() string { return "imds: no signing key" }

var errNoKey error = keyError{}

func isIPv6(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.To4() == nil
}

func writeText(w http.ResponseWriter, body string, ttlLeft int) {
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/plain")
	}
	if ttlLeft > 0 {
		h.Set(TokenTTLHeader, strconv.Itoa(ttlLeft))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body)) // the asker may be gone
}

// httpError answers status with the page AWS's metadata service sends.
func httpError(w http.ResponseWriter, status int) {
	text := strconv.Itoa(status) + " - " + http.StatusText(status)
	body := `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
	"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>` + text + `</title>
 </head>
 <body>
  <h1>` + text + `</h1>
 </body>
</html>
`
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // the asker may be gone
}
