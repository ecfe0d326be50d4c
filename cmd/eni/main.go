// Command eni is the ENI server and its tools: an EC2-compatible API for
// elastic network interfaces, with a real Linux data plane.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `eni — a self-hosted, EC2-compatible service for Elastic Network Interfaces

Usage:
  eni serve [flags]        run the EC2 API server (see eni serve --help)
  eni version              print the version

Point any AWS client at it:
  export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
  aws ec2 describe-vpcs
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "version", "--version", "-v":
		fmt.Println("eni", version)
	case "help", "--help", "-h":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "eni: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "eni:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:4566", "address to listen on")
	dataDir := fs.String("data", defaultDataDir(), "directory of the embedded store (empty: keep nothing)")
	dataplane := fs.String("dataplane", "none", "data plane: none (API only)")
	pool := fs.String("public-pool", "198.51.100.0/24,203.0.113.0/24", "public IPv4 pool for Elastic IPs and auto-assigned addresses (comma-separated CIDRs)")
	eipQuota := fs.Int("eip-quota", 5, "Elastic IPs per account and region")
	azs := fs.Int("azs", 3, "availability zones per region")
	account := fs.String("account", "123456789012", "account id of unauthenticated (dev mode) requests")
	rateLimit := fs.Float64("rate-limit", 0, "per-account API requests per second before RequestLimitExceeded (0: no limit)")
	rateBurst := fs.Int("rate-burst", 0, "per-account burst above --rate-limit (default: one second's worth)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni serve [flags]\n\nRuns the EC2 Query API (and /healthz, /metrics).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})
	if *logFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})
	}
	log := slog.New(h)
	if *dataplane != "none" {
		return fmt.Errorf("--dataplane %q: only \"none\" is available in this build", *dataplane)
	}
	cfg := core.DefaultConfig()
	cfg.DefaultAccount = *account
	cfg.EIPQuota = *eipQuota
	cfg.AZCount = *azs
	cfg.PublicPool = nil
	for _, c := range strings.Split(*pool, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil || !p.Addr().Is4() {
			return fmt.Errorf("--public-pool: %q is not an IPv4 CIDR", c)
		}
		cfg.PublicPool = append(cfg.PublicPool, p)
	}
	start := time.Now()
	var st store.Store
	if *dataDir == "" {
		st = store.NewMemory()
	} else {
		if err := os.MkdirAll(*dataDir, 0o700); err != nil {
			return err
		}
		b, err := store.OpenBolt(filepath.Join(*dataDir, "eni.db"))
		if err != nil {
			return err
		}
		st = b
	}
	defer st.Close()
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, cfg)
	n := 0
	if err := st.Load(func(kind, key string, val []byte) error { n++; return c.Load(kind, key, val) }); err != nil {
		return fmt.Errorf("load store: %w", err)
	}
	c.Rebuild()
	srv := api.New(api.Options{Core: c, Store: st, Logger: log, RateLimit: *rateLimit, RateBurst: *rateBurst})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	log.Info("eni serving", "listen", ln.Addr().String(), "data", *dataDir, "records", n,
		"dataplane", *dataplane, "startup", time.Since(start).String(), "version", version)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

func defaultDataDir() string {
	if d := os.Getenv("ENI_DATA"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "eni")
	}
	return ".eni"
}
