package main

import (
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/iamcreds"
	"github.com/eni-net/eni/internal/imds"
	"github.com/eni-net/eni/internal/store"
	"github.com/eni-net/eni/internal/vpcdns"
)

// IdentityCertificatePath is where eni serve publishes the certificate whose key signs
// instance identity documents (as AWS publishes its regions' certificates).
const IdentityCertificatePath = "/eni/v1/instance-identity/certificate"

// metadataServer is the instance metadata service of the data plane's region: its
// signing key lives in the data directory (imds-key.pem; a new one per run without
// one), its certificate is written next to it and returned.
func metadataServer(c *core.Core, region, dataDir string, shared *store.Etcd, issuer *iamcreds.Issuer, log *slog.Logger) (*imds.Server, []byte, error) {
	key, err := identityKey(dataDir, shared)
	if err != nil {
		return nil, nil, err
	}
	cert, err := imds.Certificate(key)
	if err != nil {
		return nil, nil, err
	}
	if dataDir != "" {
		if err := os.WriteFile(filepath.Join(dataDir, "imds-certificate.pem"), cert, 0o644); err != nil {
			return nil, nil, err
		}
	}
	s := imds.New(imds.Options{
		Lookup: func(eni string) (core.MetadataView, bool) { return c.InstanceMetadataOf(region, eni) },
		Key:    key, Logger: log.With("component", "imds"), Credentials: issuer,
	})
	return s, cert, nil
}

// identityKey is the key that signs identity documents: in etcd when the
// model is (shared by every replica and host), else in the data directory.
func identityKey(dataDir string, shared *store.Etcd) (*rsa.PrivateKey, error) {
	if shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b, err := shared.Secret(ctx, "imds-key.pem", imds.NewKeyPEM)
		if err != nil {
			return nil, err
		}
		return imds.ParseKeyPEM(b)
	}
	keyPath := ""
	if dataDir != "" {
		keyPath = filepath.Join(dataDir, "imds-key.pem")
	}
	return imds.LoadOrCreateKey(keyPath)
}

// withIdentityCertificate serves the certificate at IdentityCertificatePath.
func withIdentityCertificate(next http.Handler, cert []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != IdentityCertificatePath || r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(cert) // the client may be gone
	})
}

// vpcResolver is the VPC resolver of the data plane's region, answering from c.
func vpcResolver(c *core.Core, region string, log *slog.Logger) *vpcdns.Server {
	return vpcdns.New(vpcdns.Options{
		Resolve: func(vpc, name string) core.DNSAnswer { return c.ResolveVPCDNS(region, vpc, name) },
		Logger:  log.With("component", "vpcdns"),
	})
}

// credentialIssuer issues the instance credentials of the metadata service
// (meta-data/iam/security-credentials/) and checks them under --auth sigv4: its
// key is <data>/iam-credentials.key, so credentials outlive a restart (a new
// key per run without a data directory).
func credentialIssuer(dataDir string, shared *store.Etcd) (*iamcreds.Issuer, error) {
	if shared != nil { // every replica and host: credentials one issues, all accept
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		key, err := shared.Secret(ctx, "iam-credentials.key", func() ([]byte, error) { return iamcreds.LoadOrCreateKey("") })
		if err != nil {
			return nil, fmt.Errorf("instance credentials key: %w", err)
		}
		return &iamcreds.Issuer{Key: key}, nil
	}
	path := ""
	if dataDir != "" {
		path = filepath.Join(dataDir, "iam-credentials.key")
	}
	key, err := iamcreds.LoadOrCreateKey(path)
	if err != nil {
		return nil, fmt.Errorf("instance credentials key: %w", err)
	}
	return &iamcreds.Issuer{Key: key}, nil
}
