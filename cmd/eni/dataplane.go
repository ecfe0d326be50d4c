package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eni-net/eni/internal/netadmin"

	"github.com/eni-net/eni/internal/agent"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/dataplane"
)

// hasNetAdmin reports whether this process may create network namespaces.
func hasNetAdmin() bool { return netadmin.Check() == nil }

// dataPlaneMode resolves --dataplane auto|none|linux.
func dataPlaneMode(mode string, log *slog.Logger) (bool, error) {
	switch mode {
	case "none":
		return false, nil
	case "linux":
		if !hasNetAdmin() {
			return false, errors.New("--dataplane linux needs CAP_NET_ADMIN: run as root, or use --dataplane none")
		}
		return true, nil
	case "auto":
		if hasNetAdmin() {
			return true, nil
		}
		log.Info("data plane off: no CAP_NET_ADMIN (run as root for real ENIs, or pass --dataplane none to silence this)")
		return false, nil
	}
	return false, fmt.Errorf("--dataplane %q: want auto, none or linux", mode)
}

// dataPlaneOptions are serve's data plane flags.
type dataPlaneOptions struct {
	Prefix     string
	Region     string
	InternetIP string
	UserData   bool
}

// newAgent creates the data plane and its agent, which commits its
// write-backs through commit (the API server's, so that they are ordered and
// refused with the API's own after a failed commit). The caller runs it
// (a.Run) once commit can be called; the API calls its Kick after each
// commit.
func newAgent(o dataPlaneOptions, c *core.Core, commit core.Committer, reg prometheus.Registerer, log *slog.Logger) (*agent.Agent, *dataplane.Plane, error) {
	p, err := dataplane.New(dataplane.Options{Prefix: o.Prefix, InternetIP: o.InternetIP})
	if err != nil {
		return nil, nil, err
	}
	a := agent.New(agent.Options{
		Core: c, Plane: p, Region: o.Region, Account: c.Config().DefaultAccount,
		Commit: commit, Logger: log.With("component", "agent"), UserData: o.UserData, Registry: reg,
	})
	return a, p, nil
}

// execCmd is `eni exec INSTANCE|internet -- CMD...`.
func execCmd(args []string) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	prefix := fs.String("prefix", "eni", "prefix of the data plane's namespaces (as given to eni serve --dataplane-prefix)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni exec [--prefix eni] INSTANCE-ID|internet -- COMMAND [ARG...]\n\n"+
			"Runs COMMAND inside an instance's network namespace (as `ip netns exec` would), or inside\n"+
			"the simulated internet when the target is \"internet\". Needs root.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	rest := fs.Args()
	if len(rest) >= 2 && rest[1] == "--" {
		rest = append(rest[:1], rest[2:]...)
	}
	if len(rest) < 2 {
		fs.Usage()
		return errors.New("exec: need a target and a command")
	}
	p, err := dataplane.New(dataplane.Options{Prefix: *prefix})
	if err != nil {
		return err
	}
	ns := p.InstanceNS(rest[0])
	if rest[0] == "internet" {
		ns = p.InternetNS()
	}
	cmd := exec.Command(rest[1], rest[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := p.Do(ns, cmd.Start); err != nil {
		return fmt.Errorf("exec in %s: %w", ns, err)
	}
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.ExitCode())
		}
		return err
	}
	return nil
}

// cleanupCmd is `eni cleanup [--prefix eni]`: remove every namespace and
// interface the data plane created (instances keep running across server
// restarts otherwise; this is how to take them all down).
func cleanupCmd(args []string) error {
	fs := flag.NewFlagSet("cleanup", flag.ContinueOnError)
	prefix := fs.String("prefix", "eni", "the server's --dataplane-prefix")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni cleanup [--prefix eni]\n\nRemoves every namespace and interface the data plane made (stop eni serve first). Needs root.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	p, err := dataplane.New(dataplane.Options{Prefix: *prefix})
	if err != nil {
		return err
	}
	return p.Teardown(context.Background())
}
