package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/eni-net/eni/internal/devcluster"
	"github.com/eni-net/eni/internal/etcdembed"
	"github.com/eni-net/eni/internal/netadmin"
)

// devClusterFlags are eni dev-cluster's flags.
type devClusterFlags struct {
	hosts, zones, etcdN *int
	listen, prefix, dir *string
	region, logLevel    *string
	verbose             *bool
}

func parseDevClusterFlags(args []string) (*devClusterFlags, error) {
	f := &devClusterFlags{}
	fs := flag.NewFlagSet("dev-cluster", flag.ContinueOnError)
	f.hosts = fs.Int("hosts", 3, "simulated hosts (each a network namespace on an underlay switch, with its own eni agent), spread over the region's zones")
	f.zones = fs.Int("zones", 2, "zones the hosts are spread over, round robin (host i in zone (i-1) mod N: with --hosts 3, h1 and h3 share us-east-1a)")
	f.etcdN = fs.Int("etcd-members", 1, "members of the embedded etcd cluster (3: a quorum that survives one member's loss)")
	f.listen = fs.String("listen", "127.0.0.1:4566", "address of the API (eni serve --cluster)")
	f.prefix = fs.String("prefix", "dc", "prefix of everything made (1-4 of [a-z0-9]): host i's agent uses PREFIX+i, the underlay PREFIX-u and PREFIX-hI")
	f.dir = fs.String("data", "", "directory of the embedded etcd's data (default: a temporary one, removed at exit)")
	f.region = fs.String("region", "us-east-1", "the region the hosts realise")
	f.logLevel = fs.String("log-level", "warn", "log level of the server and the agents")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni dev-cluster [flags]\n\n"+
			"Runs a whole cluster on this machine (as root), for trying cluster mode and for tests:\n"+
			"an embedded etcd, one API server (eni serve --store etcd --cluster) and N hosts, each a\n"+
			"network namespace joined to the others by a veth underlay, with its own eni agent.\n"+
			"Ctrl-C stops it all and removes what it made.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if *f.etcdN < 1 || *f.etcdN > 5 {
		return nil, &usageError{cmd: "dev-cluster", err: fmt.Errorf("--etcd-members %d: 1 to 5", *f.etcdN)}
	}
	if *f.hosts < 1 || *f.hosts > 9 {
		return nil, &usageError{cmd: "dev-cluster", err: fmt.Errorf("--hosts %d: 1 to 9", *f.hosts)}
	}
	if *f.zones < 1 || *f.zones > 3 {
		return nil, &usageError{cmd: "dev-cluster", err: fmt.Errorf("--zones %d: 1 to 3", *f.zones)}
	}
	if n := len(*f.prefix); n < 1 || n > 4 || strings.Trim(*f.prefix, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return nil, &usageError{cmd: "dev-cluster", err: fmt.Errorf("--prefix %q: 1-4 of [a-z0-9]", *f.prefix)}
	}
	return f, nil
}

// devClusterCmd is `eni dev-cluster`.
func devClusterCmd(args []string) error {
	f, err := parseDevClusterFlags(args)
	if err != nil {
		return err
	}
	if err := netadmin.Check(); err != nil {
		return fmt.Errorf("dev-cluster: %w", err)
	}
	dir := *f.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "eni-dev-cluster-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runDevCluster(ctx, f, dir, os.Stderr)
}

// runDevCluster starts etcd, the underlay, the API and the agents, and stops
// and removes them all when ctx ends.
func runDevCluster(ctx context.Context, f *devClusterFlags, dir string, out io.Writer) error {
	start := time.Now()
	fmt.Fprintf(out, "dev-cluster: starting etcd (%d members) in %s\n", *f.etcdN, dir)
	etcd, err := etcdembed.Start(filepath.Join(dir, "etcd"), *f.etcdN)
	if err != nil {
		return fmt.Errorf("embedded etcd: %w", err)
	}
	defer etcd.Close()
	ul, err := devcluster.New(*f.prefix, *f.hosts)
	if err != nil {
		return err
	}
	defer ul.Close()
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	common := []string{"--etcd-endpoints", strings.Join(etcd.Endpoints, ","), "--etcd-max-txn-ops", fmt.Sprint(etcdembed.MaxTxnOps), "--log-level", *f.logLevel}
	var procs []*child
	var health []string // the agents' /healthz
	defer func() { stopAll(procs, out) }()
	api, err := startChild(bin, "api", out, append([]string{"serve", "--store", "etcd", "--cluster", "--listen", *f.listen, "--data", filepath.Join(dir, "api")}, common...)...)
	if err != nil {
		return err
	}
	procs = append(procs, api)
	for i := 1; i <= *f.hosts; i++ {
		listen, err := freeLoopback()
		if err != nil {
			return err
		}
		az := *f.region + string(rune('a'+(i-1)%*f.zones))
		a, err := startChild(bin, fmt.Sprintf("h%d", i), out, append([]string{"agent", "--host", fmt.Sprintf("h%d", i), "--region", *f.region, "--az", az,
			"--underlay-ip", ul.HostIP(i).String(), "--underlay-netns", ul.HostNSPath(i), "--dataplane-prefix", fmt.Sprintf("%s%d", *f.prefix, i),
			"--listen", listen}, common...)...)
		if err != nil {
			return err
		}
		procs = append(procs, a)
		health = append(health, "http://"+listen+"/healthz")
		fmt.Fprintf(out, "dev-cluster: host h%d in %s, underlay %s, namespaces %s%d-…, health http://%s/healthz\n", i, az, ul.HostIP(i), *f.prefix, i, listen)
	}
	if err := waitHealthy(ctx, "http://"+*f.listen+"/healthz", "writer", 60*time.Second); err != nil {
		return fmt.Errorf("the API did not come up: %w", err)
	}
	for i, u := range health { // registered, and its first pass made
		if err := waitHealthy(ctx, u, "ok", 60*time.Second); err != nil {
			return fmt.Errorf("host h%d did not come up: %w", i+1, err)
		}
	}
	if err := waitHosts(ctx, "http://"+*f.listen+HostsPath, *f.region, *f.hosts, 60*time.Second); err != nil {
		return err
	}
	fmt.Fprintf(out, "dev-cluster: ready in %s: export AWS_ENDPOINT_URL=http://%s AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=%s\n",
		time.Since(start).Round(time.Millisecond), *f.listen, *f.region)
	fmt.Fprintf(out, "dev-cluster: a command inside instance i-… on host hN: eni exec --prefix %sN i-… -- ip addr\n", *f.prefix)
	return waitChildren(ctx, procs)
}

// child is a process dev-cluster started; done is closed once it exited.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startChild starts `bin args...` with its output prefixed by name.
func startChild(bin, name string, out io.Writer, args ...string) (*child, error) {
	cmd := exec.Command(bin, args...)
	w := &prefixWriter{prefix: name + ": ", w: out}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	return c, nil
}

// waitChildren returns when ctx ends (nil) or a child exits (its error).
func waitChildren(ctx context.Context, procs []*child) error {
	exited := make(chan error, len(procs))
	for _, p := range procs {
		go func() {
			select {
			case <-p.done:
				exited <- fmt.Errorf("%s exited: %v", strings.Join(p.cmd.Args[:2], " "), p.err)
			case <-ctx.Done():
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-exited:
		return err
	}
}

// stopAll ends the children with SIGTERM (SIGKILL after 10 s), agents first
// (each revokes its host's lease), then removes the agents' namespaces.
func stopAll(procs []*child, out io.Writer) {
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM) // an exited one: nothing
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	bin, _ := os.Executable()
	for _, p := range procs {
		if prefix := flagValue(p.cmd.Args, "--dataplane-prefix"); prefix != "" {
			if b, err := exec.Command(bin, "cleanup", "--prefix", prefix, "--force").CombinedOutput(); err != nil {
				fmt.Fprintf(out, "dev-cluster: cleanup %s: %v: %s\n", prefix, err, b)
			}
		}
	}
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHealthy waits until url answers 200 with a line want (the API: "writer",
// elected, so that it takes writes).
func waitHealthy(ctx context.Context, url, want string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && slices.Contains(strings.Split(string(body), "\n"), want) {
				return nil
			}
			err = fmt.Errorf("%s: %q", resp.Status, body)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// prefixWriter prefixes each line written to w.
type prefixWriter struct {
	prefix string
	w      io.Writer
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s", p.prefix, p.buf[:i+1]); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
}

// waitHosts waits until the API sees n live hosts in region.
func waitHosts(ctx context.Context, url, region string, n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for live := 0; ; {
		if resp, err := http.Get(url); err == nil {
			var m map[string][]struct{ Live bool }
			_ = json.NewDecoder(resp.Body).Decode(&m)
			_ = resp.Body.Close()
			live = 0
			for _, h := range m[region] {
				if h.Live {
					live++
				}
			}
			if live == n {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the API sees %d of the %d hosts after %v", live, n, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
