package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eni-net/eni/internal/agent"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/dataplane"
	"github.com/eni-net/eni/internal/netadmin"
	"github.com/eni-net/eni/internal/pidlock"
	"github.com/eni-net/eni/internal/taskrun"
)

// dataPlaneMode resolves --dataplane none|linux|auto: whether this server
// makes instances real on the host, and why (said at start). The default is
// none: a quick start must not build namespaces that outlive it; linux is
// asked for, and refused with the reason when this process may not; auto is
// the explicit "linux if I may".
func dataPlaneMode(mode string, check func() error) (on bool, why string, err error) {
	switch mode {
	case "none":
		return false, "--dataplane none (the default; --dataplane linux, as root, makes instances real namespaces on this host)", nil
	case "linux":
		if err := check(); err != nil {
			return false, "", fmt.Errorf("--dataplane linux: %w (or use --dataplane none)", err)
		}
		return true, "--dataplane linux", nil
	case "auto":
		if err := check(); err != nil {
			return false, fmt.Sprintf("--dataplane auto, and this process may not run it: %v", err), nil
		}
		return true, "--dataplane auto, and this process has CAP_NET_ADMIN and CAP_SYS_ADMIN", nil
	}
	return false, "", &usageError{cmd: "serve", err: fmt.Errorf("--dataplane %q: want none, linux or auto", mode)}
}

// announceDataPlane says at start, loudly when it is on, whether instances
// are real on this host and why.
func announceDataPlane(log *slog.Logger, on bool, why, prefix string) {
	if !on {
		log.Info("DATA PLANE OFF: API only, nothing is made on this host", "why", why)
		return
	}
	log.Warn("DATA PLANE ON: instances are network namespaces "+prefix+"-… on this host; they outlive this server "+
		"(POST /moto-api/reset empties the server and removes them; eni cleanup removes them once it is stopped)", "why", why)
}

// dataPlaneOptions are serve's data plane flags.
type dataPlaneOptions struct {
	Prefix     string
	Region     string
	InternetIP string
	UserData   bool
	Metadata   dataplane.MetadataServer // the instance metadata service, if any
	DNS        dataplane.DNSServer      // the VPC resolver, if any
	PublicAPI  dataplane.MetadataServer // the API on the simulated internet, if any (instanceapi.go)
	Endpoint   dataplane.EndpointServer // the EC2 API of interface VPC endpoints, if any
}

// newAgent creates the data plane and its agent, which commits its
// write-backs through commit (the API server's, so that they are ordered and
// refused with the API's own after a failed commit). The caller runs it
// (a.Run) once commit can be called; the API calls its Kick after each
// commit.
func newAgent(o dataPlaneOptions, c *core.Core, commit core.Committer, reg prometheus.Registerer, log *slog.Logger) (*agent.Agent, *dataplane.Plane, error) {
	p, err := dataplane.New(dataplane.Options{Prefix: o.Prefix, InternetIP: o.InternetIP, Metadata: o.Metadata, DNS: o.DNS, PublicAPI: o.PublicAPI, Endpoint: o.Endpoint})
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
	endpoint := fs.String("endpoint", envOr("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"), "the eni server, asked why an instance has no namespace (default $AWS_ENDPOINT_URL)")
	region := fs.String("region", envOr("AWS_REGION", envOr("AWS_DEFAULT_REGION", "us-east-1")), "the instance's region (default $AWS_REGION, $AWS_DEFAULT_REGION)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni exec [--prefix eni] INSTANCE-ID|internet -- COMMAND [ARG...]\n\n"+
			"Runs COMMAND inside an instance's network namespace (as `ip netns exec` would), or inside\n"+
			"the simulated internet when the target is \"internet\". Needs root. An instance without a\n"+
			"namespace on this host is looked up on the server (--endpoint) to say why.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) >= 2 && rest[1] == "--" {
		rest = append(rest[:1], rest[2:]...)
	}
	if len(rest) < 2 {
		return &usageError{cmd: "exec", err: errors.New("need a target and a command")}
	}
	p, err := dataplane.New(dataplane.Options{Prefix: *prefix})
	if err != nil {
		return err
	}
	ns := p.InstanceNS(rest[0])
	if rest[0] == "internet" {
		ns = p.InternetNS()
	}
	if names, err := p.Namespaces(); err == nil && !slices.Contains(names, ns) && rest[0] != "internet" {
		return whyNoNamespace(*endpoint, *region, rest[0], ns, *prefix)
	}
	if err := netadmin.Check(); err != nil {
		return fmt.Errorf("exec: entering a namespace: %w", err)
	}
	var vpc taskrun.VPCNet
	if rest[0] != "internet" {
		vpc = vpcNetOf(newAPIClient("exec", *region), *endpoint, rest[0])
	}
	return runInOSView(ns, rest[0], vpc, rest[1:])
}

// cleanupCmd is `eni cleanup [--prefix eni] [--force]`: remove every
// namespace (and so every interface) the data plane created: instances keep
// running across server restarts otherwise; this is how to take them all
// down. It says what it removes, and refuses while a live eni serve holds
// the prefix (it would make them again, or fail midway).
func cleanupCmd(args []string) error {
	fs := flag.NewFlagSet("cleanup", flag.ContinueOnError)
	prefix := fs.String("prefix", "eni", "the server's --dataplane-prefix")
	force := fs.Bool("force", false, "remove them even while an eni serve holds the prefix")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni cleanup [--prefix eni] [--force]\n\n"+
			"Removes every namespace (and interface) the data plane made, listing each. Refuses while an\n"+
			"eni serve with that prefix runs (stop it first, or --force). Needs root.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := netadmin.Check(); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	p, err := dataplane.New(dataplane.Options{Prefix: *prefix})
	if err != nil {
		return err
	}
	return cleanup(os.Stdout, p, *prefix, *force)
}

// cleanup removes p's namespaces, listing them on w.
func cleanup(w io.Writer, p *dataplane.Plane, prefix string, force bool) error {
	held, pid, err := pidlock.Holder(prefixLockPath(prefix))
	if err != nil {
		return err
	}
	if held && !force {
		return fmt.Errorf("cleanup: an eni serve (%s) holds the data plane prefix %q: stop it first, or pass --force", holder(pid), prefix)
	}
	names, err := p.Namespaces()
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fmt.Fprintf(w, "nothing to remove: no namespace %s-…\n", prefix)
		return nil
	}
	if held {
		fmt.Fprintf(w, "--force: removing them although eni serve (%s) holds the prefix\n", holder(pid))
	}
	for _, n := range names {
		fmt.Fprintf(w, "removing namespace %s\n", n)
	}
	if err := p.Teardown(context.Background()); err != nil {
		return err
	}
	fmt.Fprintf(w, "removed %d namespaces\n", len(names))
	return nil
}

// endpointServer serves the EC2 API on interface endpoints of
// com.amazonaws.<region>.ec2: HTTP on 80, TLS on 443 with certificates of the
// CA kept in <data>/vpc-endpoint-ca.pem (clients trust it with AWS_CA_BUNDLE;
// a new one per run without a data directory). As the API on the simulated
// internet, none under --auth none (unless --allow-insecure-bind): every
// instance could act as the default account.
func endpointServer(authMode string, insecure bool, region, dataDir string, handler func() http.Handler, log *slog.Logger) (dataplane.EndpointServer, error) {
	if authMode != "sigv4" && !insecure {
		return nil, nil
	}
	ca, err := api.LoadOrCreateEndpointCA(dataDir)
	if err != nil {
		return nil, err
	}
	if dataDir != "" {
		log.Info("VPC endpoint CA", "path", filepath.Join(dataDir, api.EndpointCAFile))
	}
	return &api.EndpointServer{Region: region, CA: ca,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler().ServeHTTP(w, r) })}, nil
}
