package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/eni-net/eni/internal/store"
)

// etcdFlags are how eni reaches etcd (--store etcd), named as etcd's own
// clients (etcdctl) name them; each defaults to its ETCD_* environment
// variable (or etcdctl's ETCDCTL_*).
type etcdFlags struct {
	endpoints, cacert, cert, key, user, password, prefix *string
	maxTxnOps                                            *int
}

func addEtcdFlags(fs *flag.FlagSet) *etcdFlags {
	return &etcdFlags{
		endpoints: fs.String("etcd-endpoints", etcdEnv("ENDPOINTS"), "for --store etcd: the etcd cluster's client URLs, comma-separated (http://10.0.0.1:2379,...; https:// for TLS) ($ETCD_ENDPOINTS)"),
		cacert:    fs.String("etcd-cacert", etcdEnv("CACERT"), "for --store etcd: CA bundle (PEM) that signs the etcd servers' certificates (default: the system's) ($ETCD_CACERT)"),
		cert:      fs.String("etcd-cert", etcdEnv("CERT"), "for --store etcd: client certificate (PEM) for etcd's --client-cert-auth ($ETCD_CERT)"),
		key:       fs.String("etcd-key", etcdEnv("KEY"), "for --store etcd: the client certificate's private key (PEM) ($ETCD_KEY)"),
		user:      fs.String("etcd-user", etcdEnv("USER"), "for --store etcd: etcd user, as USER or USER:PASSWORD ($ETCD_USER)"),
		password:  fs.String("etcd-password", "", "for --store etcd: the etcd user's password (prefer $ETCD_PASSWORD: a flag shows in ps)"),
		prefix:    fs.String("etcd-prefix", "/eni/", "for --store etcd: prefix of every key eni writes (one prefix per eni deployment)"),
		maxTxnOps: fs.Int("etcd-max-txn-ops", 128, "for --store etcd: the most operations in one etcd transaction, as etcd's --max-txn-ops allows (its default 128);\n"+
			"a request changing more records than this fails with InternalError, changing nothing: raise both for large RunInstances"),
	}
}

// etcdEnv reads ETCD_NAME, else ETCDCTL_NAME.
func etcdEnv(name string) string {
	if v := os.Getenv("ETCD_" + name); v != "" {
		return v
	}
	return os.Getenv("ETCDCTL_" + name)
}

// config turns the flags into the etcd store's configuration.
func (f *etcdFlags) config() (store.EtcdConfig, error) {
	var cfg store.EtcdConfig
	for _, e := range strings.Split(*f.endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			cfg.Client3.Endpoints = append(cfg.Client3.Endpoints, e)
		}
	}
	if len(cfg.Client3.Endpoints) == 0 {
		return cfg, errors.New("--store etcd needs --etcd-endpoints (or $ETCD_ENDPOINTS): the etcd cluster's client URLs")
	}
	user, pass, hasPass := strings.Cut(*f.user, ":")
	if !hasPass {
		if pass = *f.password; pass == "" {
			pass = etcdEnv("PASSWORD") // not the flag's default: --help would print it
		}
	}
	if pass != "" && user == "" {
		return cfg, errors.New("--etcd-password without --etcd-user")
	}
	cfg.Client3.Username, cfg.Client3.Password = user, pass
	tlsCfg, err := f.tls()
	if err != nil {
		return cfg, err
	}
	cfg.Client3.TLS = tlsCfg
	if *f.maxTxnOps < 2 {
		return cfg, fmt.Errorf("--etcd-max-txn-ops %d: at least 2", *f.maxTxnOps)
	}
	cfg.MaxTxnOps = *f.maxTxnOps
	if !strings.HasPrefix(*f.prefix, "/") || !strings.HasSuffix(*f.prefix, "/") {
		return cfg, fmt.Errorf("--etcd-prefix %q: begin and end it with /", *f.prefix)
	}
	cfg.Prefix = *f.prefix
	return cfg, nil
}

// tls returns the client's TLS configuration: nil for plain http://
// endpoints with no certificate given.
func (f *etcdFlags) tls() (*tls.Config, error) {
	https := strings.Contains(*f.endpoints, "https://")
	if *f.cacert == "" && *f.cert == "" && *f.key == "" && !https {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if *f.cacert != "" {
		pem, err := os.ReadFile(*f.cacert)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cacert: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--etcd-cacert %s: no PEM certificate in it", *f.cacert)
		}
	}
	if (*f.cert == "") != (*f.key == "") {
		return nil, errors.New("--etcd-cert and --etcd-key go together")
	}
	if *f.cert != "" {
		c, err := tls.LoadX509KeyPair(*f.cert, *f.key)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cert/--etcd-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// openServeStore opens the store eni serve keeps its model in (--store) and
// says which for the log.
func openServeStore(kind, dir string, ef *etcdFlags) (store.Store, func(), string, error) {
	switch kind {
	case "bolt":
		st, closeStore, err := openStore(dir)
		desc := "bolt " + filepath.Join(dir, "eni.db")
		if dir == "" {
			desc = "memory (keeps nothing)"
		}
		return st, closeStore, desc, err
	case "etcd":
		cfg, err := ef.config()
		if err != nil {
			return nil, nil, "", err
		}
		e, err := store.OpenEtcd(cfg)
		if err != nil {
			return nil, nil, "", fmt.Errorf("--store etcd: %w", err)
		}
		return e, func() { _ = e.Close() }, "etcd " + strings.Join(cfg.Client3.Endpoints, ",") + " prefix " + cfg.Prefix, nil
	}
	return nil, nil, "", fmt.Errorf("--store %q: bolt or etcd", kind)
}
