// Package compat checks ENI against the clients most users have: boto3 and
// the AWS CLI (both botocore-based, which parse replies differently from the
// Go SDK the other tests use). The clients are external programs; when one is
// not installed its test skips with a message.
package compat

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/sigv4"
)

// scriptDir is tests/compat at the root of the module.
func scriptDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "tests", "compat")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("scripts: %v", err)
	}
	return dir
}

// clientEnv is the environment of a client process: no user configuration,
// proxy or credentials may change the run.
func clientEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "ENI_COMPAT_"), k == "ENI_ENDPOINT", strings.EqualFold(k, "http_proxy"), strings.EqualFold(k, "https_proxy"),
			strings.EqualFold(k, "no_proxy"), strings.EqualFold(k, "all_proxy"):
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"NO_PROXY=127.0.0.1,localhost",
		"HOME="+t.TempDir(), // no ~/.aws, no CLI cache
	)
}

// runScript runs a client script against a fresh in-process server and fails
// the test, with the script's output, unless it exits 0.
func runScript(t *testing.T, opts apitest.Options, env []string, name string, args ...string) {
	// Reading the script makes it part of go test's cache key: a changed
	// script must run again, not replay a cached result.
	script := args[len(args)-1]
	if _, err := os.ReadFile(script); err != nil {
		t.Fatalf("script: %v", err)
	}
	e := apitest.New(t, opts)
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-10*time.Second))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, name, append(args, e.Server.URL)...)
	cmd.Env = append(clientEnv(t), env...)
	out, err := cmd.CombinedOutput()
	summary := lastLine(string(out))
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 3 {
			t.Skipf("%s: client not usable: %s", filepath.Base(script), strings.TrimSpace(string(out)))
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s: %s", filepath.Base(script), summary)
	if testing.Verbose() {
		t.Logf("output:\n%s", out)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestBoto3Smoke runs tests/compat/boto3_smoke.py: every implemented action
// through boto3, with the replies' values, Python types and wire shape
// checked against botocore's model.
func TestBoto3Smoke(t *testing.T) {
	py := needBoto3(t)
	runScript(t, apitest.Options{}, nil, py, filepath.Join(scriptDir(t), "boto3_smoke.py"))
}

// TestBoto3SigV4 runs the same script against a server that checks SigV4
// signatures as botocore makes them, with the auth failures it must report.
func TestBoto3SigV4(t *testing.T) {
	py := needBoto3(t)
	key := sigv4.Key{AccessKeyID: "AKIACOMPATTEST000001", SecretAccessKey: "compat/secret+key/0123456789abcdefghijkl", Account: "111122223333"}
	v := &sigv4.Verifier{Keys: sigv4.Credentials{key.AccessKeyID: key}, Now: time.Now}
	runScript(t, apitest.Options{Authenticate: v.Verify}, []string{
		"ENI_COMPAT_SIGV4=1",
		"ENI_COMPAT_ACCESS_KEY=" + key.AccessKeyID,
		"ENI_COMPAT_SECRET_KEY=" + key.SecretAccessKey,
		"ENI_COMPAT_ACCOUNT=" + key.Account,
	}, py, filepath.Join(scriptDir(t), "boto3_smoke.py"))
}

// needBoto3 returns python3's path, or skips the test.
func needBoto3(t *testing.T) string {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH: boto3 compatibility not checked")
	}
	if out, err := exec.Command(py, "-c", "import boto3").CombinedOutput(); err != nil {
		t.Skipf("boto3 is not importable (pip install boto3): boto3 compatibility not checked: %s", strings.TrimSpace(string(out)))
	}
	return py
}

// TestAWSCLISmoke runs tests/compat/cli_smoke.sh: the README's quick start
// with the AWS CLI, each step's output checked.
func TestAWSCLISmoke(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws (the AWS CLI) is not on PATH: CLI compatibility not checked")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not on PATH: CLI compatibility not checked")
	}
	runScript(t, apitest.Options{}, nil, bash, filepath.Join(scriptDir(t), "cli_smoke.sh"))
}
