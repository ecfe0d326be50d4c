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
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/console"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/iamcreds"
	"github.com/eni-net/eni/internal/netadmin"
	"github.com/eni-net/eni/internal/sigv4"
)

const usage = `eni — a self-hosted, EC2-compatible service for Elastic Network Interfaces

Usage:
  eni serve [flags]        run the EC2 API server (see eni serve --help)
  eni exec INSTANCE -- CMD run a command inside an instance's namespace (root; "internet" for the simulated internet)
  eni run-task [flags] -- CMD
                           run a command in a fresh namespace with its own requester-managed ENI (root)
  eni usage [flags]        public IPv4 hours and cost per address and usage type (see eni usage --help)
  eni cleanup [--prefix] [--force]
                           remove every namespace and interface the data plane made, listing them (root)
  eni version              print the version (module version and VCS revision)

The load generator is its own command: go run ./cmd/eni-bench --help

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
	case "bench":
		err = errors.New("bench is its own command now (the server does not link the SDK's EC2 client): go run ./cmd/eni-bench")
	case "exec":
		err = execCmd(os.Args[2:])
	case nsInitCmd: // eni exec and run-task re-executed inside an instance (osview.go)
		err = nsInit(os.Args[2:])
	case "run-task":
		err = runTask(os.Args[2:])
	case "usage":
		err = usageCmd(os.Args[2:])
	case "cleanup":
		err = cleanupCmd(os.Args[2:])
	case "version", "--version", "-v":
		fmt.Println("eni", version(), runtime.Version())
	case "help", "--help", "-h":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "eni: unknown command %q\nRun 'eni help' for usage.\n", os.Args[1])
		os.Exit(2)
	}
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "eni", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "eni:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:4566", "address to listen on")
	storeKind := fs.String("store", "bolt", "where the model is kept: bolt (a bbolt file in --data) or etcd (an etcd cluster, --etcd-endpoints; see the --etcd-* flags)")
	dataDir := fs.String("data", defaultDataDir(), "directory of the embedded store (empty: keep nothing); with --store etcd it holds only this server's own keys (instance credentials)")
	etcdOpts := addEtcdFlags(fs)
	dataplane := fs.String("dataplane", "none", "data plane: none (API only), linux (instances are network namespaces on this host; root), or auto (linux when this process has CAP_NET_ADMIN and CAP_SYS_ADMIN, else none)")
	dpRegion := fs.String("dataplane-region", "us-east-1", "the region whose resources the data plane makes real on this host")
	dpPrefix := fs.String("dataplane-prefix", "eni", "prefix of every namespace and interface the data plane creates (1-6 of [a-z0-9])")
	internetIP := fs.String("internet-ip", "100.64.0.1", "address of the simulated internet namespace")
	userData := fs.Bool("user-data", false, "run an instance's user data as its start script (as root, inside its namespace) when it comes up")
	pool := fs.String("public-pool", "198.51.100.0/24,203.0.113.0/24", "public IPv4 pool for Elastic IPs and auto-assigned addresses (comma-separated CIDRs)")
	eipQuota := fs.Int("eip-quota", 5, "Elastic IPs per account and region")
	ipv4Rate := fs.Float64("ipv4-rate", core.DefaultIPv4Rate, "price of a public IPv4 address in USD per hour, in use or idle (AWS's since February 2024); applies from this start on")
	azs := fs.Int("azs", 3, "availability zones per region")
	ipAlloc := fs.String("private-ip-allocation", core.AllocRandom, "how a private IPv4 address nobody asked for is picked in a subnet: random (a free address anywhere in the subnet, as AWS) or lowest (the next free one from the bottom: 10.0.1.4, 10.0.1.5, …)")
	regionsFlag := fs.String("regions", "", "regions served (a request naming another gets SignatureDoesNotMatch and creates nothing):\n"+
		"empty: AWS's public partition (the 32 regions of DescribeRegions --all-regions);\n"+
		"NAME,NAME...: only these AWS regions (us-east-1,eu-west-1);\n"+
		"+NAME: add a region of your own, of AWS's form (+my-lab-1: AWS's regions and my-lab-1; us-east-1,+my-lab-1: those two)")
	account := fs.String("account", "123456789012", "account id of unauthenticated (dev mode) requests")
	authMode := fs.String("auth", "none", "request authentication: none (every request acts as --account) or sigv4 (AWS Signature V4 with --credentials)")
	credFile := fs.String("credentials", "", "for --auth sigv4: file of \"ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID\" lines (# comments allowed)")
	insecure := fs.Bool("allow-insecure-bind", false, "allow --auth none on a non-loopback --listen address")
	rateLimit := fs.Float64("rate-limit", 0, "per-account API requests per second before RequestLimitExceeded (0: no limit)")
	rateBurst := fs.Int("rate-burst", 0, "per-account burst above --rate-limit (default: one second's worth)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	taskLease := fs.Duration("task-lease", api.DefaultTaskLease, "how long an eni run-task task lives once its run-task stops renewing its lease (killed, say)")
	pprofOn := fs.Bool("pprof", false, "serve Go's profiles under /debug/pprof/ (only on a loopback --listen address)")
	consoleOn := fs.Bool("console", true, "serve the web console at / (under --auth sigv4: to loopback clients, with a token)")
	consoleToken := fs.String("console-token", os.Getenv("ENI_CONSOLE_TOKEN"), "token the web console asks for (default: none under --auth none, a random one under --auth sigv4)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni serve [flags]\n\nRuns the EC2 Query API (and /healthz, /metrics).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
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
	realNet, dpWhy, err := dataPlaneMode(*dataplane, netadmin.Check)
	if err != nil {
		return err
	}
	var issuer *iamcreds.Issuer // the instance credentials' (set once the data directory is open)
	session := func(id, token string) (sigv4.Key, error) { return issuer.Session(time.Now)(id, token) }
	authenticate, authDesc, err := authenticator(authOptions{Mode: *authMode, Credentials: *credFile, Listen: *listen, AllowInsecure: *insecure, Session: session})
	if err != nil {
		return err
	}
	cfg := core.DefaultConfig()
	cfg.DefaultAccount = *account
	cfg.EIPQuota = *eipQuota
	if !(*ipv4Rate > 0) {
		return fmt.Errorf("--ipv4-rate: %v is not a positive price", *ipv4Rate)
	}
	cfg.IPv4Rate = *ipv4Rate
	cfg.AZCount = *azs
	if cfg.PrivateIPAllocation, err = core.ParsePrivateIPAllocation(*ipAlloc); err != nil {
		return fmt.Errorf("--private-ip-allocation: %w", err)
	}
	cfg.DataPlane = realNet
	cfg.DataPlaneRegion = *dpRegion
	if cfg.Regions, err = core.ParseRegions(*regionsFlag); err != nil {
		return fmt.Errorf("--regions: %w", err)
	}
	if realNet && !slices.Contains(cfg.Regions, *dpRegion) {
		return fmt.Errorf("--dataplane-region %s is not served (see --regions)", *dpRegion)
	}
	cfg.PublicPool = nil
	for _, c := range strings.Split(*pool, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil || !p.Addr().Is4() {
			return fmt.Errorf("--public-pool: %q is not an IPv4 CIDR", c)
		}
		cfg.PublicPool = append(cfg.PublicPool, p)
	}
	// The model lives on the heap and replies are short-lived garbage: a
	// higher GC target trades memory for tail latency (measured: describe
	// p99 7-44 ms at the default, 1-3 ms at 400, for 100 of 100k ENIs).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// ... but not without bound: under a burst of writes the heap goal
	// otherwise runs away (measured: 19 GB for 400k ENIs before a soft
	// limit, then killed by the OOM killer).
	if os.Getenv("GOMEMLIMIT") == "" {
		if lim := defaultMemoryLimit(); lim > 0 {
			debug.SetMemoryLimit(lim)
		}
	}
	start := time.Now()
	st, closeStore, storeDesc, err := openServeStore(*storeKind, *dataDir, etcdOpts)
	if err != nil {
		return err
	}
	defer closeStore()
	if issuer, err = credentialIssuer(*dataDir); err != nil {
		return err
	}
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, cfg)
	n, err := c.LoadFrom(st.Load)
	if err != nil {
		return fmt.Errorf("load store: %w", err)
	}
	if skipped := c.SkippedRegions(); len(skipped) > 0 {
		log.Warn("the store holds regions that are not served: their records stay on disk, unused (see --regions)",
			"regions", len(skipped), "first", skipped[:min(len(skipped), 5)])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var onCommit func()
	var taskReady func(string) bool
	var srv *api.Server
	var runAgent func()
	var identityCert []byte // the certificate of the metadata service's identity documents
	var settle func(context.Context) error
	dpDesc := "none"
	if realNet {
		pl, err := lockPrefix(*dpPrefix)
		if err != nil {
			return err
		}
		defer pl.Release()
		commit := func(cs core.ChangeSet) (func() error, error) { return srv.Commit(cs) } // srv is set before the agent runs
		md, cert, err := metadataServer(c, *dpRegion, *dataDir, issuer, log)
		if err != nil {
			return err
		}
		identityCert = cert
		publicAPI := instanceAPIFor(*authMode, *insecure, func() http.Handler { return srv })
		endpoint, err := endpointServer(*authMode, *insecure, *dpRegion, *dataDir, func() http.Handler { return srv }, log)
		if err != nil {
			return err
		}
		a, p, err := newAgent(dataPlaneOptions{Prefix: *dpPrefix, Region: *dpRegion, InternetIP: *internetIP, UserData: *userData, Metadata: md,
			DNS: vpcResolver(c, *dpRegion, log), PublicAPI: publicAPI, Endpoint: endpoint}, c, commit, reg, log)
		if err != nil {
			return err
		}
		onCommit, taskReady, settle = a.Kick, a.Realised, a.Settle
		runAgent = func() { go a.Run(ctx) }
		dpDesc = "linux (region " + *dpRegion + ", prefix " + p.Prefix() + ")"
	}
	var con *console.Console
	onChange := func(regions []string) { con.Notify(regions) } // con is set before anything commits
	srv = api.New(api.Options{Core: c, Store: st, Logger: log, RateLimit: *rateLimit, RateBurst: *rateBurst, Authenticate: authenticate, OnCommit: onCommit, OnChange: onChange, Tasks: taskReady, Registry: reg, TaskLease: *taskLease,
		AllowReset: *authMode == "none", Settle: settle, SessionIdentity: issuer.Identity(time.Now)})
	con = newConsole(consoleOptions{Enabled: *consoleOn, Token: *consoleToken, AuthMode: *authMode}, c, srv)
	// Usage intervals open at another rate (or missing, in a store written
	// before metering) are settled before anything else is served.
	if err := c.SettleUsage(srv.Commit); err != nil {
		return err
	}
	if runAgent != nil {
		runAgent()
		go srv.ReapTasks(ctx, max(*taskLease/3, 100*time.Millisecond))
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	var handler http.Handler = srv
	if con != nil {
		handler = con.Wrap(handler)
	}
	if identityCert != nil {
		handler = withIdentityCertificate(handler, identityCert)
	}
	if *pprofOn {
		if !loopbackListen(*listen) {
			return errors.New("--pprof: only on a loopback --listen address")
		}
		handler = withPprof(handler)
	}
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	consoleDesc := "off"
	if con != nil {
		hs.RegisterOnShutdown(con.Close) // end the console's event streams, or Shutdown waits for them
		consoleDesc = consoleURL(ln.Addr(), con.Token())
	}
	announceDataPlane(log, realNet, dpWhy, *dpPrefix)
	log.Info("eni serving", "listen", ln.Addr().String(), "store", storeDesc, "data", *dataDir, "records", n,
		"dataplane", dpDesc, "auth", authDesc, "console", consoleDesc, "startup", time.Since(start).String(), "version", version())
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
