package imds

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

// LoadOrCreateKey reads the RSA key that signs instance identity documents from path
// (PEM, PKCS#1 or PKCS#8), or creates a 2048-bit one there (mode 0600). An empty path
// gives a new key that lives as long as the process.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err == nil {
			return parseKey(b)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return k, nil
	}
	der := x509.MarshalPKCS1PrivateKey(k)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("imds: write key: %w", err)
	}
	return k, nil
}

func parseKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("imds: key file holds no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("imds: key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("imds: key is not RSA")
	}
	return rk, nil
}

// Certificate is the self-signed X.509 certificate (PEM) of key that the server
// publishes, as AWS publishes its per-region certificates: `openssl x509 -pubkey`
// of it verifies dynamic/instance-identity/signature. The same key gives the same
// certificate.
func Certificate(key *rsa.PrivateKey) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"ENI"}, CommonName: "ENI instance identity"},
		NotBefore:             time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2126, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// certificateOf is Certificate(key), parsed.
func certificateOf(key *rsa.PrivateKey) (*x509.Certificate, error) {
	p, err := Certificate(key)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(p)
	if blk == nil {
		return nil, errors.New("imds: certificate is not PEM")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// NewKeyPEM is a new 2048-bit signing key, PEM (PKCS#1), for a shared store
// (every host of a cluster signs with the same key).
func NewKeyPEM() ([]byte, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
}

// ParseKeyPEM reads a key as LoadOrCreateKey reads its file.
func ParseKeyPEM(b []byte) (*rsa.PrivateKey, error) { return parseKey(b) }
