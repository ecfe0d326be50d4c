package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// TestBenchEveryScenario runs every scenario with tiny settings against an
// in-process server and checks the JSON output, that no call failed, and
// that cleanup removed what setup created. It is functional, not timed.
func TestBenchEveryScenario(t *testing.T) {
	e := apitest.New(t)
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{
		"--endpoint", e.Server.URL, "--region", "us-east-1",
		"--population", "20", "--count", "50", "--concurrency", "4",
		"--json", out,
	}, &stdout, &stderr, nil)
	t.Logf("stdout:\n%s", stdout.String())
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatalf("JSON output: %v\n%s", err, raw)
	}
	if len(rows) != len(scenarioOrder) {
		t.Fatalf("got %d rows, want %d (one per scenario)", len(rows), len(scenarioOrder))
	}
	for i, r := range rows {
		if r["scenario"] != scenarioOrder[i] {
			t.Errorf("row %d: scenario %v, want %s", i, r["scenario"], scenarioOrder[i])
		}
		for _, k := range []string{"ops_per_sec", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors", "count", "concurrency", "population"} {
			if _, ok := r[k].(float64); !ok {
				t.Errorf("%v: field %s is %T (%v), want a number", r["scenario"], k, r[k], r[k])
			}
		}
		if s, ok := r["skipped"]; ok {
			t.Errorf("%v: skipped: %v", r["scenario"], s)
			continue
		}
		if u, ok := r["unsupported"]; ok {
			t.Errorf("%v: unsupported: %v", r["scenario"], u)
		}
		if r["errors"] != 0.0 {
			t.Errorf("%v: %v errors: %v", r["scenario"], r["errors"], r["error_codes"])
		}
		if r["count"] != 50.0 || r["concurrency"] != 4.0 || r["population"] != 20.0 {
			t.Errorf("%v: count %v concurrency %v population %v, want 50 4 20", r["scenario"], r["count"], r["concurrency"], r["population"])
		}
		if r["ops_per_sec"].(float64) <= 0 || r["p50_ms"].(float64) <= 0 || r["max_ms"].(float64) < r["p99_ms"].(float64) {
			t.Errorf("%v: implausible figures %v", r["scenario"], r)
		}
		// Each call's server time is part of its latency, so the same
		// order statistics of the two are ordered too.
		sp50, ok1 := r["server_p50_ms"].(float64)
		sp99, ok2 := r["server_p99_ms"].(float64)
		if !ok1 || !ok2 || sp99 <= 0 || sp50 > r["p50_ms"].(float64) || sp99 > r["p99_ms"].(float64) {
			t.Errorf("%v: server time p50 %v p99 %v against p50 %v p99 %v", r["scenario"], r["server_p50_ms"], r["server_p99_ms"], r["p50_ms"], r["p99_ms"])
		}
	}
	for _, s := range scenarioOrder {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("table lacks %s", s)
		}
	}

	// Cleanup left nothing tagged by the run, and only the default VPC.
	c := e.Client()
	enis, err := c.DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{tagRun}}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(enis.NetworkInterfaces); n != 0 {
		t.Errorf("%d bench ENIs left after cleanup", n)
	}
	vpcs, err := c.DescribeVpcs(apitest.Ctx(), &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(vpcs.Vpcs); n != 1 {
		t.Errorf("%d VPCs after cleanup, want 1 (the default)", n)
	}
}

// TestBenchKeepAndFlags checks --keep, a scenario list and flag errors.
func TestBenchKeepAndFlags(t *testing.T) {
	e := apitest.New(t)
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{
		"--endpoint", e.Server.URL, "--scenario", "noop,describe-filter",
		"--population", "150", "--count", "10", "--concurrency", "2", "--keep", "--json", "-",
	}, &stdout, &stderr, nil)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	i := strings.Index(stdout.String(), "[")
	if i < 0 {
		t.Fatalf("no JSON on stdout:\n%s", stdout.String())
	}
	var rows []Result
	if err := json.Unmarshal(stdout.Bytes()[i:], &rows); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r.Scenario)
		if r.Errors != 0 || r.Skipped != "" {
			t.Errorf("%s: errors %d skipped %q %v", r.Scenario, r.Errors, r.Skipped, r.ErrorCodes)
		}
	}
	if got := strings.Join(names, ","); got != "noop,describe-filter-subnet,describe-filter-instance,describe-filter-tag" {
		t.Errorf("scenarios %s", got)
	}
	// --keep: the population (150) + the workers' ENIs (2) + instances' primary ENIs (2) remain.
	enis, err := e.Client().DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{tagRun}}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(enis.NetworkInterfaces); n != 150 {
		t.Errorf("%d tagged ENIs kept, want 150", n)
	}

	// --reuse RUN measures against the kept population and leaves it.
	m := regexp.MustCompile(`kept \(--keep\): run ([0-9a-f]+):`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no run id in: %s", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	err = Run(context.Background(), []string{
		"--endpoint", e.Server.URL, "--scenario", "describe-filter,describe-by-id,create-eni,attach-detach",
		"--reuse", m[1], "--count", "10", "--concurrency", "2", "--json", "-",
	}, &stdout, &stderr, nil)
	if err != nil {
		t.Fatalf("bench --reuse: %v\n%s", err, stderr.String())
	}
	rows = nil
	if err := json.Unmarshal(stdout.Bytes()[strings.Index(stdout.String(), "["):], &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Errors != 0 || r.Skipped != "" || r.Population != 150 {
			t.Errorf("--reuse %s: errors %d skipped %q population %d %v", r.Scenario, r.Errors, r.Skipped, r.Population, r.ErrorCodes)
		}
	}
	enis, err = e.Client().DescribeNetworkInterfaces(apitest.Ctx(), &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{tagRun}}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(enis.NetworkInterfaces); n != 150 {
		t.Errorf("%d tagged ENIs after --reuse, want the 150 kept (its own workers' and created ENIs deleted)", n)
	}
	stdout.Reset()
	if err := Run(context.Background(), []string{"--endpoint", e.Server.URL, "--scenario", "describe-by-id", "--reuse", "feedf00d", "--count", "1", "--json", "-"},
		&stdout, &stderr, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "no kept run") {
		t.Errorf("--reuse of an unknown run: %s", stdout.String())
	}

	for _, args := range [][]string{
		{"--endpoint", e.Server.URL, "--scenario", "fly"},
		{"--endpoint", e.Server.URL, "--count", "5", "--duration", "1s"},
		{"--endpoint", e.Server.URL, "--concurrency", "0"},
		{"--endpoint", e.Server.URL, "--mix", "noop=x"},
		{"--endpoint", ""},
	} {
		if err := Run(context.Background(), args, &stdout, &stderr, nil); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	stderr.Reset()
	if err := Run(context.Background(), []string{"--help"}, &stdout, &stderr, nil); err != nil {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(stderr.String(), "describe-filter-tag") || !strings.Contains(stderr.String(), "-population") {
		t.Errorf("--help text:\n%s", stderr.String())
	}
}

func TestParseServerTiming(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want time.Duration
		ok   bool
	}{
		{[]string{"app;dur=0.412"}, 412 * time.Microsecond, true},
		{[]string{"db;dur=1", "app;desc=\"x\";dur=2.5"}, 3500 * time.Microsecond, true},
		{[]string{"cache;desc=hit, app;dur=\"3\""}, 3 * time.Millisecond, true},
		{[]string{"app;dur=-1", "miss"}, 0, false},
		{nil, 0, false},
	} {
		got, ok := parseServerTiming(c.in)
		if ok != c.ok || (got-c.want).Abs() > time.Microsecond {
			t.Errorf("parseServerTiming(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
