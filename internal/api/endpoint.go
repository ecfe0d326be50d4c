package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/eni-net/eni/internal/core"
)

// EndpointServer serves the API on the listeners of interface VPC endpoints
// of the services this server answers (com.amazonaws.<region>.ec2 and .sts;
// the data plane opens them on the endpoint's address inside its namespace):
// plain HTTP on port 80, TLS on 443 with a certificate the server's endpoint
// CA issues for the service's names (<service>.<region>.amazonaws.com, the
// endpoint's *.<service>.<region>.vpce.amazonaws.com names) and the address
// the client connected to. An endpoint answers its own service only
// (ForEndpoint). It is a dataplane.EndpointServer.
type EndpointServer struct {
	Handler http.Handler
	Region  string
	CA      *EndpointCA // nil: port 443 closes its connections

	once   sync.Once
	key    *ecdsa.PrivateKey // the leaves' key
	err    error
	mu     sync.Mutex
	leaves map[leafKey]*tls.Certificate
}

type leafKey struct {
	addr    netip.Addr // the endpoint's address
	service string
}

// ServeEndpoint serves ln, an endpoint of service, until it is closed.
func (s *EndpointServer) ServeEndpoint(ln net.Listener, service string, useTLS bool) error {
	if useTLS {
		if s.CA == nil {
			return ln.Close()
		}
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12,
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) { return s.certificate(hello, service) }})
	}
	srv := &http.Server{Handler: ForEndpoint(s.Handler, service), ErrorLog: quiet, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	return srv.Serve(ln)
}

// quiet drops the endpoint servers' own log lines (failed handshakes: a client
// in an instance that does not trust the CA), which any instance could
// otherwise make as many of as it likes.
var quiet = log.New(io.Discard, "", 0)

// certificate is the leaf for the service at the address the client connected
// to (made once per address, service and run).
func (s *EndpointServer) certificate(hello *tls.ClientHelloInfo, service string) (*tls.Certificate, error) {
	s.once.Do(func() { s.key, s.err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	if s.err != nil {
		return nil, s.err
	}
	ap, err := netip.ParseAddrPort(hello.Conn.LocalAddr().String())
	if err != nil {
		return nil, err
	}
	k := leafKey{addr: ap.Addr().Unmap(), service: service}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.leaves[k]; c != nil {
		return c, nil
	}
	c, err := s.CA.issue(s.key, service+"."+s.Region, k.addr)
	if err != nil {
		return nil, err
	}
	if s.leaves == nil {
		s.leaves = map[leafKey]*tls.Certificate{}
	}
	s.leaves[k] = c
	return c, nil
}

// endpointKey marks a request that came in through an interface endpoint of
// a service (its value).
type endpointKey struct{}

// ForEndpoint serves h's API to requests that came in through an interface VPC
// endpoint of service: the query API only (other paths are not found), and the
// server refuses what is another service's, as that service's endpoint on AWS
// would (Server.serve, endpointAccepts).
func ForEndpoint(h http.Handler, service string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" { // the query API only: no metrics, tasks, reset or console
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), endpointKey{}, service)))
	})
}

// ForInstances serves h's API to the instances on the simulated internet (eni
// serve's listener at http://100.64.0.1:4566, EC2's public endpoint for them): the
// query API only, as an endpoint's. The host's own paths (metrics, which count every
// account's calls; health; tasks; reset; the console) are not found there: an instance
// is any tenant's.
func ForInstances(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// endpointAccepts checks a request that came in through an endpoint of
// endpoint (from the request's context; none: any) against the service it
// is for (by action) and the one it is signed for (scoped, if signed).
func endpointAccepts(ctx context.Context, scoped, service, action string) error {
	endpoint, ok := ctx.Value(endpointKey{}).(string)
	switch {
	case !ok:
		return nil
	case scoped != "" && scoped != endpoint:
		return &core.Error{Code: "SignatureDoesNotMatch", Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", endpoint)}
	case service == endpoint:
		return nil
	case endpoint == "sts":
		return &core.Error{Code: core.CodeInvalidAction, Message: fmt.Sprintf("Could not find operation %s for version %s", action, stsVersion)}
	}
	return invalidAction(action)
}

// EndpointCA is the certificate authority whose leaves the EC2 API's VPC
// endpoints present on port 443. Clients inside instances trust it with
// AWS_CA_BUNDLE (or --ca-bundle) pointing at its certificate, which eni serve
// keeps in its data directory (EndpointCAFile).
type EndpointCA struct {
	Cert *x509.Certificate
	PEM  []byte // Cert, PEM-encoded
	key  *ecdsa.PrivateKey
}

// EndpointCAFile and EndpointCAKeyFile are the CA's certificate (published,
// 0644) and key (0600) in a data directory.
const (
	EndpointCAFile    = "vpc-endpoint-ca.pem"
	EndpointCAKeyFile = "vpc-endpoint-ca.key"
)

// LoadOrCreateEndpointCA reads the CA from dir, or makes one and writes it
// there (dir "": a new one in memory), so that instances' trust in it
// outlives a restart.
func LoadOrCreateEndpointCA(dir string) (*EndpointCA, error) {
	if dir != "" {
		certPEM, err1 := os.ReadFile(filepath.Join(dir, EndpointCAFile))
		keyPEM, err2 := os.ReadFile(filepath.Join(dir, EndpointCAKeyFile))
		if err1 == nil && err2 == nil {
			return ParseEndpointCA(certPEM, keyPEM)
		}
		if err := errors.Join(err1, err2); !errors.Is(err1, os.ErrNotExist) || !errors.Is(err2, os.ErrNotExist) {
			return nil, fmt.Errorf("VPC endpoint CA: %w", err) // one file without the other, or unreadable
		}
	}
	ca, keyPEM, err := NewEndpointCA()
	if err != nil || dir == "" {
		return ca, err
	}
	if err := os.WriteFile(filepath.Join(dir, EndpointCAKeyFile), keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, EndpointCAFile), ca.PEM, 0o644); err != nil {
		return nil, err
	}
	return ca, nil
}

// NewEndpointCA makes a CA (ECDSA P-256, valid a hundred years) and returns it
// with its key in PEM.
func NewEndpointCA() (*EndpointCA, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"ENI"}, CommonName: "ENI VPC endpoint CA"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2126, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	ca, err := ParseEndpointCA(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM)
	return ca, keyPEM, err
}

// ParseEndpointCA reads a CA's certificate and key (PEM) and checks that they
// belong together.
func ParseEndpointCA(certPEM, keyPEM []byte) (*EndpointCA, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("VPC endpoint CA: no PEM block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("VPC endpoint CA: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("VPC endpoint CA key: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("VPC endpoint CA: the key is not the certificate's")
	}
	return &EndpointCA{Cert: cert, PEM: certPEM, key: key}, nil
}

// issue makes a leaf for key valid for a service's names in a region
// (host "<service>.<region>") and addr.
func (ca *EndpointCA) issue(key *ecdsa.PrivateKey, host string, addr netip.Addr) (*tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	name := host + ".amazonaws.com"
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{Organization: []string{"ENI"}, CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true,
		DNSNames: []string{name, "*." + host + ".vpce.amazonaws.com"}, IPAddresses: []net.IP{addr.AsSlice()}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}, nil
}
