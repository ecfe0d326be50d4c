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
	"github.com/eni-net/eni/internal/cluster"
	"github.com/eni-net/eni/internal/console"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/iamcreds"
	"github.com/eni-net/eni/internal/netadmin"
	"github.com/eni-net/eni/internal/sigv4"
	"github.com/eni-net/eni/internal/store"
)

const usage = `eni — a self-hosted, EC2-compatible service for Elastic Network Interfaces

Usage:
  eni serve [flags]        run the EC2 API server (see eni serve --help)
  eni agent [flags]        run one host of a cluster: realise what the API places on it (root; see eni agent --help)
  eni dev-cluster [flags]  a cluster on this machine: embedded etcd, the API, N hosts as namespaces (root)
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
	case "agent":
		err = agentCmd(os.Args[2:])
	case "dev-cluster":
		err = devClusterCmd(os.Args[2:])
	case "exec":
		err = execCmd(os.Args[2:])
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
	f, err := parseServeFlags(args)
	if err != nil {
		return err
	}
	log, err := newServeLogger(*f.logLevel, *f.logFormat)
	if err != nil {
		return err
	}
	realNet, dpWhy, err := dataPlaneMode(*f.dataplane, netadmin.Check)
	if err != nil {
		return err
	}
	var issuer *iamcreds.Issuer // the instance credentials' (set once the data directory is open)
	session := func(id, token string) (sigv4.Key, error) { return issuer.Session(time.Now)(id, token) }
	authenticate, authDesc, err := authenticator(authOptions{Mode: *f.authMode, Credentials: *f.credFile, Listen: *f.listen, AllowInsecure: *f.insecure, Session: session})
	if err != nil {
		return err
	}
	cfg, err := serveConfig(f, realNet)
	if err != nil {
		return err
	}
	tuneMemory()
	start := time.Now()
	st, closeStore, storeDesc, err := openServeStore(*f.storeKind, *f.dataDir, f.etcdOpts)
	if err != nil {
		return err
	}
	defer closeStore()
	shared, _ := st.(*store.Etcd) // nil on bolt
	if issuer, err = credentialIssuer(*f.dataDir, shared); err != nil {
		return err
	}
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, cfg)
	var srv *api.Server
	var con *console.Console
	hosts := &clusterHosts{core: c, srv: &srv, log: log}
	dp := dataPlaneHooks{desc: "none"}
	onChange := func(regions []string) { con.Notify(regions) } // con is set before anything commits
	n, st, rep, err := loadModel(f, st, c, log, replicaHooks{
		onApply: func(regions []string) { dp.onCommitOrNil(); onChange(regions) },
		onLead: func() error {
			if err := c.SettleUsage(srv.Commit); err != nil {
				return err
			}
			hosts.settleAll()
			return nil
		},
	})
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
	if realNet {
		h, release, err := startDataPlane(ctx, f, c, shared, issuer, reg, log, &srv)
		if err != nil {
			return err
		}
		defer release()
		dp = h
	}
	srv = api.New(api.Options{Core: c, Store: st, Logger: log, RateLimit: *f.rateLimit, RateBurst: *f.rateBurst, Authenticate: authenticate, OnCommit: dp.onCommit, OnChange: onChange, Tasks: dp.taskReady, TaskWait: dp.taskWait, Registry: reg, TaskLease: *f.taskLease,
		AllowReset: *f.authMode == "none", Settle: dp.settle, SessionIdentity: issuer.Identity(time.Now), Replica: replication(rep)})
	con = newConsole(consoleOptions{Enabled: *f.consoleOn, Token: *f.consoleToken, AuthMode: *f.authMode}, c, srv)
	// Usage intervals open at another rate (or missing, in a store written
	// before metering) are settled before anything else is served: here,
	// or by a replica once it is the writer.
	if rep != nil {
		hosts.rep = rep
		if cfg.Cluster {
			go cluster.Watch(ctx, rep.Etcd().Client(), rep.Etcd().Prefix(), log, hosts.update)
		}
		go rep.Run(ctx)
	} else if err := c.SettleUsage(srv.Commit); err != nil {
		return err
	}
	if dp.runAgent != nil {
		dp.runAgent()
		go srv.ReapTasks(ctx, max(*f.taskLease/3, 100*time.Millisecond))
	}
	ln, err := net.Listen("tcp", *f.listen)
	if err != nil {
		return err
	}
	hs, consoleDesc, err := serveHandler(f, srv, con, dp.identityCert, ln)
	if err != nil {
		return err
	}
	if cfg.Cluster {
		tok, err := clusterInstanceAccess(ctx, rep.Etcd(), *f.authMode == "sigv4" || *f.insecure, *f.dataDir, log)
		if err != nil {
			return err
		}
		hs.Handler = api.FromAgents(withHostList(hs.Handler, c), tok)
	}
	announceDataPlane(log, realNet, dpWhy, *f.dpPrefix)
	log.Info("eni serving", "listen", ln.Addr().String(), "store", storeDesc, "data", *f.dataDir, "records", n,
		"dataplane", dp.desc, "auth", authDesc, "console", consoleDesc, "startup", time.Since(start).String(), "version", version())
	return runHTTP(ctx, hs, ln, log)
}

// serveHandler is the HTTP server of the API: the console, the identity
// certificate and pprof (loopback only) around it, with its timeouts; and how
// to reach the console.
func serveHandler(f *serveFlags, srv *api.Server, con *console.Console, identityCert []byte, ln net.Listener) (*http.Server, string, error) {
	var handler http.Handler = srv
	if con != nil {
		handler = con.Wrap(handler)
	}
	if identityCert != nil {
		handler = withIdentityCertificate(handler, identityCert)
	}
	if *f.pprofOn {
		if !loopbackListen(*f.listen) {
			return nil, "", errors.New("--pprof: only on a loopback --listen address")
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
	return hs, consoleDesc, nil
}

// runHTTP serves until the server fails or ctx ends (SIGINT, SIGTERM), then
// shuts down within 10 s.
func runHTTP(ctx context.Context, hs *http.Server, ln net.Listener, log *slog.Logger) error {
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

// serveFlags are eni serve's flags.
type serveFlags struct {
	listen       *string
	storeKind    *string
	clusterMode  *bool
	dataDir      *string
	etcdOpts     *etcdFlags
	dataplane    *string
	dpRegion     *string
	dpPrefix     *string
	internetIP   *string
	userData     *bool
	pool         *string
	eipQuota     *int
	ipv4Rate     *float64
	azs          *int
	ipAlloc      *string
	regionsFlag  *string
	account      *string
	authMode     *string
	credFile     *string
	insecure     *bool
	rateLimit    *float64
	rateBurst    *int
	logFormat    *string
	logLevel     *string
	taskLease    *time.Duration
	pprofOn      *bool
	consoleOn    *bool
	consoleToken *string
	advertise    *string
	replicaLease *int
}

// parseServeFlags defines and parses eni serve's flags.
func parseServeFlags(args []string) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f.listen = fs.String("listen", "127.0.0.1:4566", "address to listen on")
	f.storeKind = fs.String("store", "bolt", "where the model is kept: bolt (a bbolt file in --data) or etcd (an etcd cluster, --etcd-endpoints; see the --etcd-* flags)")
	f.dataDir = fs.String("data", defaultDataDir(), "directory of the embedded store (empty: keep nothing); with --store etcd it holds only this server's own keys (instance credentials)")
	f.etcdOpts = addEtcdFlags(fs)
	f.clusterMode = fs.Bool("cluster", false, "with --store etcd: instances are placed on the hosts that run eni agent against the same etcd (by zone and capacity), which realise them")
	f.advertise = fs.String("advertise-url", "", "for --store etcd: the URL other replicas forward writes to (default: http:// and --listen, with this host's name if --listen has no address)")
	f.replicaLease = fs.Int("replica-lease", 5, "for --store etcd: seconds the writer's lease lasts: a writer that stopped (or lost etcd) is replaced after this")
	f.dataplane = fs.String("dataplane", "none", "data plane: none (API only), linux (instances are network namespaces on this host; root), or auto (linux when this process has CAP_NET_ADMIN and CAP_SYS_ADMIN, else none)")
	f.dpRegion = fs.String("dataplane-region", "us-east-1", "the region whose resources the data plane makes real on this host")
	f.dpPrefix = fs.String("dataplane-prefix", "eni", "prefix of every namespace and interface the data plane creates (1-6 of [a-z0-9])")
	f.internetIP = fs.String("internet-ip", "100.64.0.1", "address of the simulated internet namespace")
	f.userData = fs.Bool("user-data", false, "run an instance's user data as its start script (as root, inside its namespace) when it comes up")
	f.pool = fs.String("public-pool", "198.51.100.0/24,203.0.113.0/24", "public IPv4 pool for Elastic IPs and auto-assigned addresses (comma-separated CIDRs)")
	f.eipQuota = fs.Int("eip-quota", 5, "Elastic IPs per account and region")
	f.ipv4Rate = fs.Float64("ipv4-rate", core.DefaultIPv4Rate, "price of a public IPv4 address in USD per hour, in use or idle (AWS's since February 2024); applies from this start on")
	f.azs = fs.Int("azs", 3, "availability zones per region")
	f.ipAlloc = fs.String("private-ip-allocation", core.AllocRandom, "how a private IPv4 address nobody asked for is picked in a subnet: random (a free address anywhere in the subnet, as AWS) or lowest (the next free one from the bottom: 10.0.1.4, 10.0.1.5, …)")
	f.regionsFlag = fs.String("regions", "", "regions served (a request naming another gets SignatureDoesNotMatch and creates nothing):\n"+
		"empty: AWS's public partition (the 32 regions of DescribeRegions --all-regions);\n"+
		"NAME,NAME...: only these AWS regions (us-east-1,eu-west-1);\n"+
		"+NAME: add a region of your own, of AWS's form (+my-lab-1: AWS's regions and my-lab-1; us-east-1,+my-lab-1: those two)")
	f.account = fs.String("account", "123456789012", "account id of unauthenticated (dev mode) requests")
	f.authMode = fs.String("auth", "none", "request authentication: none (every request acts as --account) or sigv4 (AWS Signature V4 with --credentials)")
	f.credFile = fs.String("credentials", "", "for --auth sigv4: file of \"ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID\" lines (# comments allowed)")
	f.insecure = fs.Bool("allow-insecure-bind", false, "allow --auth none on a non-loopback --listen address")
	f.rateLimit = fs.Float64("rate-limit", 0, "per-account API requests per second before RequestLimitExceeded (0: no limit)")
	f.rateBurst = fs.Int("rate-burst", 0, "per-account burst above --rate-limit (default: one second's worth)")
	f.logFormat = fs.String("log-format", "text", "log format: text or json")
	f.logLevel = fs.String("log-level", "info", "log level: debug, info, warn, error")
	f.taskLease = fs.Duration("task-lease", api.DefaultTaskLease, "how long an eni run-task task lives once its run-task stops renewing its lease (killed, say)")
	f.pprofOn = fs.Bool("pprof", false, "serve Go's profiles under /debug/pprof/ (only on a loopback --listen address)")
	f.consoleOn = fs.Bool("console", true, "serve the web console at / (under --auth sigv4: to loopback clients, with a token)")
	f.consoleToken = fs.String("console-token", os.Getenv("ENI_CONSOLE_TOKEN"), "token the web console asks for (default: none under --auth none, a random one under --auth sigv4)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni serve [flags]\n\nRuns the EC2 Query API (and /healthz, /metrics).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return f, nil
}

// newServeLogger is the server's structured logger at a level, as text or JSON.
func newServeLogger(level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})
	if format == "json" {
		h = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})
	}
	log := slog.New(h)
	return log, nil
}

// serveConfig is the core's configuration from the flags.
func serveConfig(f *serveFlags, realNet bool) (core.Config, error) {
	var err error
	cfg := core.DefaultConfig()
	cfg.DefaultAccount = *f.account
	cfg.EIPQuota = *f.eipQuota
	if !(*f.ipv4Rate > 0) {
		return cfg, fmt.Errorf("--ipv4-rate: %v is not a positive price", *f.ipv4Rate)
	}
	cfg.IPv4Rate = *f.ipv4Rate
	cfg.AZCount = *f.azs
	if cfg.PrivateIPAllocation, err = core.ParsePrivateIPAllocation(*f.ipAlloc); err != nil {
		return cfg, fmt.Errorf("--private-ip-allocation: %w", err)
	}
	cfg.DataPlane = realNet
	if *f.clusterMode {
		if *f.storeKind != "etcd" || realNet {
			return cfg, errors.New("--cluster needs --store etcd and --dataplane none: the hosts' agents (eni agent) realise the instances")
		}
		cfg.Cluster = true
	}
	cfg.DataPlaneRegion = *f.dpRegion
	if cfg.Regions, err = core.ParseRegions(*f.regionsFlag); err != nil {
		return cfg, fmt.Errorf("--regions: %w", err)
	}
	if realNet && !slices.Contains(cfg.Regions, *f.dpRegion) {
		return cfg, fmt.Errorf("--dataplane-region %s is not served (see --regions)", *f.dpRegion)
	}
	cfg.PublicPool = nil
	for _, c := range strings.Split(*f.pool, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil || !p.Addr().Is4() {
			return cfg, fmt.Errorf("--public-pool: %q is not an IPv4 CIDR", c)
		}
		cfg.PublicPool = append(cfg.PublicPool, p)
	}
	return cfg, nil
}

// tuneMemory sets the garbage collector's target and a soft memory limit,
// unless GOGC or GOMEMLIMIT says otherwise.
func tuneMemory() {
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
}

// dataPlaneHooks are what the API and the server need of a running data plane.
type dataPlaneHooks struct {
	onCommit     func()
	taskReady    func(string) bool
	taskWait     func(context.Context, string) bool
	settle       func(context.Context) error
	runAgent     func()
	identityCert []byte // the certificate of the metadata service's identity documents
	desc         string
}

// startDataPlane locks the prefix and makes the metadata service, the VPC
// resolver, the instances' API and endpoints, the plane and its agent (run
// by runAgent once the API serves). srv is the API server, set before the
// agent runs.
func startDataPlane(ctx context.Context, f *serveFlags, c *core.Core, shared *store.Etcd, issuer *iamcreds.Issuer, reg *prometheus.Registry, log *slog.Logger, srv **api.Server) (dataPlaneHooks, func(), error) {
	var h dataPlaneHooks
	pl, err := lockPrefix(*f.dpPrefix)
	if err != nil {
		return h, nil, err
	}
	fail := func(err error) (dataPlaneHooks, func(), error) { _ = pl.Release(); return h, nil, err }
	commit := func(cs core.ChangeSet) (func() error, error) { return (*srv).Commit(cs) } // srv is set before the agent runs
	md, cert, err := metadataServer(c, *f.dpRegion, *f.dataDir, shared, issuer, log)
	if err != nil {
		return fail(err)
	}
	h.identityCert = cert
	publicAPI := instanceAPIFor(*f.authMode, *f.insecure, func() http.Handler { return *srv })
	endpoint, err := endpointServer(*f.authMode, *f.insecure, *f.dpRegion, *f.dataDir, func() http.Handler { return *srv }, log)
	if err != nil {
		return fail(err)
	}
	a, p, err := newAgent(dataPlaneOptions{Prefix: *f.dpPrefix, Region: *f.dpRegion, InternetIP: *f.internetIP, UserData: *f.userData, Metadata: md,
		DNS: vpcResolver(c, *f.dpRegion, log), PublicAPI: publicAPI, Endpoint: endpoint}, c, commit, reg, log)
	if err != nil {
		return fail(err)
	}
	h.onCommit, h.taskReady, h.taskWait, h.settle = a.Kick, a.Realised, a.WaitRealised, a.Settle
	h.runAgent = func() { go a.Run(ctx) }
	h.desc = "linux (region " + *f.dpRegion + ", prefix " + p.Prefix() + ")"
	return h, func() { _ = pl.Release() }, nil
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
