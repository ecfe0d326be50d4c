// Package bench is `eni-bench`: a load generator that drives any
// EC2-compatible endpoint (ENI or another) through the real aws-sdk-go-v2 EC2
// client, with standard EC2 calls only, and reports throughput and latency
// per scenario.
package bench

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go/middleware"
	"github.com/eni-net/eni/internal/apitest"
)

const usageText = `Usage: eni-bench [flags]

Load generator for any EC2-compatible endpoint (ENI or another). It uses the
real aws-sdk-go-v2 EC2 client and standard EC2 calls only.

Setup creates, with a run tag (eni-bench-run=<id>), VPCs with /16 subnets
sized for the population, a population of N network interfaces spread over
them (tagged eni-bench-group=<id>-g<k>, 100 per group; the first 100 also in a
small subnet of their own), one network interface and one instance per
worker; it deletes all of it at the end unless --keep. With --reuse RUN it
finds the population (and its VPCs and subnets) of a run kept earlier instead
of creating one, and deletes only what it creates itself.

Scenarios (one API call = one op; --scenario takes a comma-separated list):
  noop                      DescribeRegions: the floor (HTTP + SigV4 + XML)
  describe-by-id            DescribeNetworkInterfaces NetworkInterfaceId.1=<random population ENI>
  describe-filter-subnet    DescribeNetworkInterfaces subnet-id=<subnet holding 100 ENIs>
  describe-filter-instance  DescribeNetworkInterfaces attachment.instance-id=<a worker instance>
  describe-filter-tag       DescribeNetworkInterfaces tag:eni-bench-group=<a group of 100>
  describe-filter           the three describe-filter-* scenarios
  create-eni                CreateNetworkInterface in a /16 subnet of the tool's
  assign-ip                 AssignPrivateIpAddresses (count 1), then UnassignPrivateIpAddresses,
                            alternately, on the worker's own ENI
  attach-detach             AttachNetworkInterface, then DetachNetworkInterface, alternately,
                            of the worker's ENI to/from the worker's instance
  mixed                     a weighted mix of the above (see --mix)
  all                       every scenario (default)

Output: a progress line on stderr, then a table on stdout: ops/s (successful
calls per second), p50/p90/p99/max latency of successful calls in ms, errors,
count (calls made), "x noop": noop ops/s divided by the scenario's ops/s,
i.e. how many times the floor's cost one op is, and "srv p50/p99": the
endpoint's own time for the same calls, from its Server-Timing response header
(ENI sends it; "-" for an endpoint that does not), so that what the server
takes can be told from what the network and the client take. A scenario whose action the
endpoint does not implement (InvalidAction) is reported as unsupported.

The tool runs with GOGC=400 (as eni serve does) unless GOGC is set.

Environment: AWS_ENDPOINT_URL_EC2 or AWS_ENDPOINT_URL (default of --endpoint),
AWS_REGION or AWS_DEFAULT_REGION (default us-east-1), AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY (default test/test), AWS_SESSION_TOKEN, AWS_CA_BUNDLE
(extra CA certificates for an https endpoint).

Examples:
  eni-bench --endpoint http://127.0.0.1:4566
  eni-bench --scenario noop,describe-filter --population 100000 --concurrency 64 --duration 30s
  eni-bench --scenario create-eni --count 10000 --json results.json

Flags:
`

// Config is one bench run.
type Config struct {
	Endpoint     string
	Region       string
	AccessKey    string
	SecretKey    string
	SessionToken string
	Scenarios    []string // canonical names, in run order
	Population   int
	Concurrency  int
	Duration     time.Duration
	Count        int // total ops per scenario; 0: run for Duration
	JSON         string
	Keep         bool
	Reuse        string // run id of a kept run whose population to use
	Image        string // "" : look one up
	InstanceType string
	Mix          map[string]int
}

// Result is one scenario's figures (one object of the --json array).
type Result struct {
	Scenario  string  `json:"scenario"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	// ServerP50 and ServerP99 are the endpoint's own time for the same
	// calls, from its Server-Timing header (absent when it sends none);
	// the rest of the latency is the network and the client.
	ServerP50   float64 `json:"server_p50_ms,omitempty"`
	ServerP99   float64 `json:"server_p99_ms,omitempty"`
	Errors      int64   `json:"errors"`
	Count       int64   `json:"count"`
	Concurrency int     `json:"concurrency"`
	Population  int     `json:"population"`
	// XNoop is noop ops/s ÷ this scenario's ops/s (0 when unknown).
	XNoop float64 `json:"x_noop,omitempty"`
	// Seconds is the measured wall time.
	Seconds float64 `json:"seconds"`
	// ErrorCodes counts errors by "Operation: code".
	ErrorCodes map[string]int64 `json:"error_codes,omitempty"`
	// Unsupported names the action the endpoint does not implement.
	Unsupported string `json:"unsupported,omitempty"`
	// Skipped says why the scenario did not run (its setup failed).
	Skipped string `json:"skipped,omitempty"`

	firstErr map[string]string
}

// scenarioOrder is the run order; noop runs first so that every other
// scenario can be compared with it.
var scenarioOrder = []string{
	"noop", "describe-by-id", "describe-filter-subnet", "describe-filter-instance",
	"describe-filter-tag", "create-eni", "assign-ip", "attach-detach", "mixed",
}

const defaultMix = "describe-by-id=40,describe-filter-subnet=5,describe-filter-instance=5,describe-filter-tag=10,create-eni=10,assign-ip=10,attach-detach=10,noop=10"

// Main runs `eni-bench` with the process's stdout, stderr and signals.
func Main(args []string) error {
	// The load generator's own collector is not what is measured: it gets
	// the GC target eni serve uses (GOGC in the environment overrides).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, os.Stdout, os.Stderr, stop)
}

// Run parses args and runs the benchmark. stop, if not nil, is called once
// the measurements are over (Main uses it so that a second interrupt during
// cleanup kills the process).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, stop func()) error {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	b, err := newBench(cfg, stderr)
	if err != nil {
		return err
	}
	results := b.runAll(ctx)
	interrupted := ctx.Err() // before stop, which cancels ctx
	if stop != nil {
		stop()
	}
	printTable(stdout, results, cfg)
	var jsonErr error
	if cfg.JSON != "" {
		jsonErr = writeJSON(cfg.JSON, stdout, results)
	}
	if err := b.cleanup(context.WithoutCancel(ctx)); err != nil {
		return errors.Join(jsonErr, fmt.Errorf("cleanup: %w", err))
	}
	if jsonErr != nil {
		return jsonErr
	}
	return interrupted
}

func envOr(def string, names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return def
}

func parse(args []string, stderr io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", envOr("", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL"), "EC2 endpoint URL (default $AWS_ENDPOINT_URL_EC2 or $AWS_ENDPOINT_URL)")
	region := fs.String("region", envOr("us-east-1", "AWS_REGION", "AWS_DEFAULT_REGION"), "region (default $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1)")
	scen := fs.String("scenario", "all", "comma-separated scenarios (see above)")
	pop := fs.Int("population", 1000, "network interfaces to create before measuring")
	conc := fs.Int("concurrency", 32, "concurrent workers (connections)")
	dur := fs.Duration("duration", 10*time.Second, "how long to run each scenario")
	count := fs.Int("count", 0, "total ops per scenario, instead of --duration")
	jsonOut := fs.String("json", "", "write the results as a JSON array to this file (- for stdout)")
	keep := fs.Bool("keep", false, "keep the VPCs, subnets, network interfaces and instances created")
	reuse := fs.String("reuse", "", "measure against the population of a run kept with --keep (its run id) instead of creating one; that population is left in place")
	image := fs.String("image", "", "image id for the workers' instances (default: look up an Amazon Linux 2023 image)")
	itype := fs.String("instance-type", "m5.large", "instance type of the workers' instances")
	mix := fs.String("mix", defaultMix, "weights of the mixed scenario")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see eni-bench --help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg := &Config{
		Endpoint:     strings.TrimSpace(*endpoint),
		Region:       *region,
		AccessKey:    envOr("test", "AWS_ACCESS_KEY_ID"),
		SecretKey:    envOr("test", "AWS_SECRET_ACCESS_KEY"),
		SessionToken: os.Getenv("AWS_SESSION_TOKEN"),
		Population:   *pop,
		Concurrency:  *conc,
		Duration:     *dur,
		Count:        *count,
		JSON:         *jsonOut,
		Keep:         *keep,
		Reuse:        strings.TrimSpace(*reuse),
		Image:        *image,
		InstanceType: *itype,
	}
	if cfg.Endpoint == "" {
		return nil, errors.New("no endpoint: use --endpoint URL or set AWS_ENDPOINT_URL")
	}
	if set["count"] && set["duration"] {
		return nil, errors.New("use either --count or --duration, not both")
	}
	if cfg.Population < 0 {
		return nil, errors.New("--population must be >= 0")
	}
	if cfg.Concurrency < 1 {
		return nil, errors.New("--concurrency must be >= 1")
	}
	if cfg.Count < 0 || (cfg.Count == 0 && cfg.Duration <= 0) {
		return nil, errors.New("--count must be > 0, or --duration > 0")
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*scen, ",") {
		switch s = strings.TrimSpace(s); s {
		case "":
		case "all":
			for _, n := range scenarioOrder {
				want[n] = true
			}
		case "describe-filter":
			want["describe-filter-subnet"] = true
			want["describe-filter-instance"] = true
			want["describe-filter-tag"] = true
		default:
			if _, ok := scenarios[s]; !ok {
				return nil, fmt.Errorf("unknown scenario %q (see eni-bench --help)", s)
			}
			want[s] = true
		}
	}
	for _, n := range scenarioOrder {
		if want[n] {
			cfg.Scenarios = append(cfg.Scenarios, n)
		}
	}
	if len(cfg.Scenarios) == 0 {
		return nil, errors.New("no scenario")
	}
	m, err := parseMix(*mix)
	if err != nil {
		return nil, err
	}
	cfg.Mix = m
	return cfg, nil
}

func parseMix(s string) (map[string]int, error) {
	m := map[string]int{}
	total := 0
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		var w int
		if _, err := fmt.Sscanf(v, "%d", &w); !ok || err != nil || w < 0 {
			return nil, fmt.Errorf("--mix: %q is not scenario=weight", kv)
		}
		if _, known := scenarios[k]; !known || k == "mixed" {
			return nil, fmt.Errorf("--mix: unknown scenario %q", k)
		}
		m[k] += w
		total += w
	}
	if total == 0 {
		return nil, errors.New("--mix: the weights add up to 0")
	}
	return m, nil
}

// newClient builds the EC2 client directly from ec2.Options (not
// config.LoadDefaultConfig, which refuses a custom *http.Client when
// AWS_CA_BUNDLE is set), with enough idle connections for every worker and
// the request-body guard of apitest.WrapTransport.
func newClient(cfg *Config, conns int) (*ec2.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns
	tr.MaxIdleConnsPerHost = conns
	tr.IdleConnTimeout = 90 * time.Second
	if path := os.Getenv("AWS_CA_BUNDLE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("AWS_CA_BUNDLE: no certificate in %s", path)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return ec2.New(ec2.Options{
		Region:           cfg.Region,
		BaseEndpoint:     aws.String(cfg.Endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		HTTPClient:       &http.Client{Transport: apitest.WrapTransport(tr)},
		RetryMaxAttempts: 1, // every error is counted, none is hidden by a retry
		APIOptions:       []func(*middleware.Stack) error{addServerTiming},
	}), nil
}

func newRunID() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// percentile returns the nearest-rank q-quantile of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func printTable(w io.Writer, results []Result, cfg *Config) {
	mode := fmt.Sprintf("%s per scenario", cfg.Duration)
	if cfg.Count > 0 {
		mode = fmt.Sprintf("%d ops per scenario", cfg.Count)
	}
	fmt.Fprintf(w, "\neni-bench: %s, population %d, concurrency %d, %s\n\n", cfg.Endpoint, cfg.Population, cfg.Concurrency, mode)
	fmt.Fprintf(w, "%-26s %10s %9s %9s %9s %9s %7s %9s %8s %9s %9s\n", "scenario", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "count", "x noop", "srv p50", "srv p99")
	for _, r := range results {
		if r.Skipped != "" {
			fmt.Fprintf(w, "%-26s skipped: %s\n", r.Scenario, r.Skipped)
			continue
		}
		x := "-"
		if r.XNoop > 0 {
			x = fmt.Sprintf("%.2f", r.XNoop)
		}
		srv50, srv99 := "-", "-"
		if r.ServerP50 > 0 || r.ServerP99 > 0 {
			srv50, srv99 = fmt.Sprintf("%.2f", r.ServerP50), fmt.Sprintf("%.2f", r.ServerP99)
		}
		fmt.Fprintf(w, "%-26s %10.1f %9.2f %9.2f %9.2f %9.2f %7d %9d %8s %9s %9s", r.Scenario, r.OpsPerSec, r.P50, r.P90, r.P99, r.Max, r.Errors, r.Count, x, srv50, srv99)
		if r.Unsupported != "" {
			fmt.Fprintf(w, "  unsupported: %s", r.Unsupported)
		}
		fmt.Fprintln(w)
	}
	var notes []string
	for _, r := range results {
		keys := make([]string, 0, len(r.ErrorCodes))
		for k := range r.ErrorCodes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			notes = append(notes, fmt.Sprintf("  %s: %s x%d (first: %s)", r.Scenario, k, r.ErrorCodes[k], r.firstErr[k]))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\nerrors:\n%s\n", strings.Join(notes, "\n"))
	}
}

func writeJSON(path string, stdout io.Writer, results []Result) error {
	if results == nil {
		results = []Result{}
	}
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
