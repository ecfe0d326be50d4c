package api

import (
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
)

// EndpointServer serves the EC2 API on the listeners of interface VPC
// endpoints of com.amazonaws.<region>.ec2 (the data plane opens them on the
// endpoint's address inside its namespace): plain HTTP on port 80, TLS on
// 443 with a certificate the server's endpoint CA issues for the names a
// client asks for (ec2.<region>.amazonaws.com, the endpoint's
// *.ec2.<region>.vpce.amazonaws.com names) and the address it connected to.
// It is a dataplane.EndpointServer.
type EndpointServer struct {
	Handler http.Handler
	Region  string
	CA      *EndpointCA // nil: port 443 closes its connections

	once   sync.Once
	key    *ecdsa.PrivateKey // the leaves' key
	err    error
	mu     sync.Mutex
	leaves map[netip.Addr]*tls.Certificate // by the endpoint's address
}

// ServeEndpoint serves ln until it is closed.
func (s *EndpointServer) ServeEndpoint(ln net.Listener, useTLS bool) error {
	if useTLS {
		if s.CA == nil {
			return ln.Close()
		}
		ln = tls.NewListener(ln, &tls.Config{GetCertificate: s.certificate, MinVersion: tls.VersionTLS12})
	}
	srv := &http.Server{Handler: s.Handler, ErrorLog: quiet, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	return srv.Serve(ln)
}

// quiet drops the endpoint servers' own log lines (failed handshakes: a client
// in an instance that does not trust the CA), which any instance could
// otherwise make as many of as it likes.
var quiet = log.New(io.Discard, "", 0)

// certificate is the leaf for the address the client connected to (made once
// per address and run).
func (s *EndpointServer) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.once.Do(func() { s.key, s.err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	if s.err != nil {
		return nil, s.err
	}
	ap, err := netip.ParseAddrPort(hello.Conn.LocalAddr().String())
	if err != nil {
		return nil, err
	}
	addr := ap.Addr().Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.leaves[addr]; c != nil {
		return c, nil
	}
	c, err := s.CA.issue(s.key, s.Region, addr)
	if err != nil {
		return nil, err
	}
	if s.leaves == nil {
		s.leaves = map[netip.Addr]*tls.Certificate{}
	}
	s.leaves[addr] = c
	return c, nil
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

// issue makes a leaf for key valid for the region's EC2 names and addr.
func (ca *EndpointCA) issue(key *ecdsa.PrivateKey, region string, addr netip.Addr) (*tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	name := "ec2." + region + ".amazonaws.com"
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{Organization: []string{"ENI"}, CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true,
		DNSNames: []string{name, "*.ec2." + region + ".vpce.amazonaws.com"}, IPAddresses: []net.IP{addr.AsSlice()}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}, nil
}
