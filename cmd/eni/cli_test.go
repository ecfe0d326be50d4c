package main

import (
	"errors"
	"flag"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

// The server does not link the SDK's EC2 client: compiling it was most of a
// first `go run ./cmd/eni serve` (eni-bench and the tests use it).
func TestServerDoesNotLinkTheEC2Client(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/eni-net/eni/cmd/eni").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/service/ec2") || p == "testing" {
			t.Errorf("cmd/eni links %s", p)
		}
	}
}

// A mistyped flag is one line and a pointer to --help, not the usage.
func TestMistypedFlag(t *testing.T) {
	for _, c := range []struct {
		run  func([]string) error
		args []string
		want string
	}{
		{serve, []string{"--listn", "x"}, "serve: flag provided but not defined: -listn\nRun 'eni serve --help' for usage."},
		{cleanupCmd, []string{"--prefx", "x"}, "cleanup: flag provided but not defined: -prefx\nRun 'eni cleanup --help' for usage."},
		{runTask, []string{"--subnet"}, "run-task: flag needs an argument: -subnet\nRun 'eni run-task --help' for usage."},
		{execCmd, []string{"i-0123"}, "exec: need a target and a command\nRun 'eni exec --help' for usage."},
		{usageCmd, []string{"--acount", "1"}, "usage: flag provided but not defined: -acount\nRun 'eni usage --help' for usage."},
	} {
		err := c.run(c.args)
		var ue *usageError
		if !errors.As(err, &ue) || err.Error() != c.want {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Usage = func() {}
	if err := parseFlags(fs, []string{"--help"}); !errors.Is(err, errHelp) {
		t.Errorf("--help: %v, want errHelp", err)
	}
}

func TestVersionOf(t *testing.T) {
	for _, c := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, "v0.3.0"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "fbd3e74556b4b6cd6e0289eac8d534f5a91abfb4"},
			{Key: "vcs.time", Value: "2026-12-02T16:21:05Z"},
			{Key: "vcs.modified", Value: "true"},
		}}, "(devel) rev fbd3e74556b4 2026-12-02T16:21:05Z, modified"},
		{debug.BuildInfo{}, "(devel)"},
	} {
		if got := versionOf(&c.bi); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
