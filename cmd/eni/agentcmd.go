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
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/eni-net/eni/internal/agent"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/cluster"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/dataplane"
	"github.com/eni-net/eni/internal/netadmin"
	"github.com/eni-net/eni/internal/replica"
	"github.com/eni-net/eni/internal/store"
)

// agentFlags are eni agent's flags.
type agentFlags struct {
	host, az, region, underlay, underlayNS, prefix, internetIP, listen, regions, apiURL *string
	logLevel, logFormat                                                                 *string
	capacity, lease, mtu, azs                                                           *int
	etcd                                                                                *etcdFlags
}

func parseAgentFlags(args []string) (*agentFlags, error) {
	f := &agentFlags{}
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	hostname, _ := os.Hostname()
	f.host = fs.String("host", strings.ToLower(strings.Split(hostname, ".")[0]), "this host's name in the cluster (a-z, 0-9, -; default: the machine's host name)")
	f.az = fs.String("az", "", "the availability zone this host is in, e.g. us-east-1a (default: the region's first)")
	f.region = fs.String("region", "us-east-1", "the region this host realises")
	f.regions = fs.String("regions", "", "regions the API serves (as eni serve's --regions: give the same value)")
	f.azs = fs.Int("azs", 3, "availability zones per region (as eni serve's --azs)")
	f.capacity = fs.Int("capacity", 0, "instances this host holds at most (0: no limit)")
	f.underlay = fs.String("underlay-ip", "", "this host's IPv4 address on the network between hosts (VXLAN); default: the address this host reaches etcd from")
	f.underlayNS = fs.String("underlay-netns", "", "network namespace (a path, /run/netns/NAME) whose stack carries the underlay (default: this process's; eni dev-cluster sets it)")
	f.mtu = fs.Int("mtu", 1450, "MTU of ENIs and the VPC routers' legs (the underlay's MTU less VXLAN's 50 bytes)")
	f.prefix = fs.String("dataplane-prefix", "eni", "prefix of every namespace and interface this agent creates (1-6 of [a-z0-9])")
	f.internetIP = fs.String("internet-ip", "100.64.0.1", "address of the simulated internet namespace")
	f.listen = fs.String("listen", "127.0.0.1:4598", "address of /healthz and /metrics")
	f.apiURL = fs.String("api-url", "", "where the instances' API requests (the public API on the simulated internet, interface VPC endpoints) are forwarded (default: the API's writer, as etcd's election says)")
	f.lease = fs.Int("lease", 5, "seconds the host's lease lasts: a host whose agent stopped is gone (its instances impaired) after this")
	f.logFormat = fs.String("log-format", "text", "log format: text or json")
	f.logLevel = fs.String("log-level", "info", "log level: debug, info, warn, error")
	f.etcd = addEtcdFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: eni agent --etcd-endpoints URL,... [flags]\n\n"+
			"Runs one host of a cluster (as root): registers the host in etcd on a lease, realises the\n"+
			"instances the API places on it (network namespaces, ENIs, security groups), joins each\n"+
			"subnet to the other hosts over VXLAN, and reports what came up. Run one eni serve --store etcd\n"+
			"--cluster (or several) against the same etcd.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if !cluster.ValidName(*f.host) {
		return nil, &usageError{cmd: "agent", err: fmt.Errorf("--host %q: 1-63 characters of a-z, 0-9 and -", *f.host)}
	}
	if *f.az == "" {
		*f.az = *f.region + "a"
	}
	if !strings.HasPrefix(*f.az, *f.region) || len(*f.az) != len(*f.region)+1 {
		return nil, &usageError{cmd: "agent", err: fmt.Errorf("--az %q is not a zone of --region %s (%sa, %sb, ...)", *f.az, *f.region, *f.region, *f.region)}
	}
	if *f.capacity < 0 || *f.mtu < 1280 || *f.lease < 1 {
		return nil, &usageError{cmd: "agent", err: errors.New("--capacity ≥ 0, --mtu ≥ 1280 and --lease ≥ 1")}
	}
	return f, nil
}

// agentCmd is `eni agent`: one host of a cluster.
func agentCmd(args []string) error {
	f, err := parseAgentFlags(args)
	if err != nil {
		return err
	}
	log, err := newServeLogger(*f.logLevel, *f.logFormat)
	if err != nil {
		return err
	}
	log = log.With("host", *f.host)
	if err := netadmin.Check(); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	ecfg, err := f.etcd.config()
	if err != nil {
		return err
	}
	underlay, err := underlayAddr(*f.underlay, ecfg.Client3.Endpoints)
	if err != nil {
		return err
	}
	cfg := core.DefaultConfig()
	cfg.AZCount, cfg.DataPlane, cfg.DataPlaneRegion, cfg.Cluster = *f.azs, true, *f.region, true
	if cfg.Regions, err = core.ParseRegions(*f.regions); err != nil {
		return fmt.Errorf("--regions: %w", err)
	}
	if !slices.Contains(cfg.Regions, *f.region) {
		return fmt.Errorf("--region %s is not served (see --regions)", *f.region)
	}
	es, err := store.OpenEtcd(ecfg)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer es.Close()
	pl, err := lockPrefix(*f.prefix)
	if err != nil {
		return err
	}
	defer func() { _ = pl.Release() }()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runAgentHost(ctx, f, cfg, es, underlay, log)
}

// runAgentHost follows the model, registers the host, watches the others,
// and reconciles this host's share until ctx ends.
func runAgentHost(ctx context.Context, f *agentFlags, cfg core.Config, es *store.Etcd, underlay netip.Addr, log *slog.Logger) error {
	start := time.Now()
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, cfg)
	var a *agent.Agent
	var kickOnce sync.Once
	ready := make(chan struct{}) // the hosts are known: the first pass may run
	kick := func() {
		select {
		case <-ready:
			a.Kick()
		default:
		}
	}
	rep := replica.New(replica.Config{Store: es, Core: c, Logger: log.With("component", "follower"), OnApply: func([]string) { kick() }})
	n, err := rep.Load()
	if err != nil {
		return fmt.Errorf("load the model from etcd: %w", err)
	}
	go rep.Follow(ctx)
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	addrs, err := cluster.Addresses(actx, es.Client(), es.Prefix(), *f.region)
	cancel()
	if err != nil {
		return err
	}
	c.AddKnownHosts(*f.region, addrs)       // hosts whose agents are gone: their instances still forward
	issuer, err := credentialIssuer("", es) // the replicas' key: credentials issued here are accepted there
	if err != nil {
		return err
	}
	md, _, err := metadataServer(c, *f.region, "", es, issuer, log)
	if err != nil {
		return err
	}
	fwd, err := newAgentAPI(es, *f.apiURL, log)
	if err != nil {
		return err
	}
	ca, err := sharedEndpointCA(ctx, es)
	if err != nil {
		return err
	}
	p, err := dataplane.New(dataplane.Options{Prefix: *f.prefix, InternetIP: *f.internetIP, Metadata: md, DNS: vpcResolver(c, *f.region, log),
		PublicAPI: instanceAPI{handler: func() http.Handler { return fwd }}, Endpoint: &api.EndpointServer{Handler: fwd, Region: *f.region, CA: ca}})
	if err != nil {
		return err
	}
	host := cluster.Host{Name: *f.host, Region: *f.region, AZ: *f.az, Underlay: underlay.String(), Capacity: *f.capacity, Agent: version()}
	reg, err := cluster.Register(ctx, es.Client(), es.Prefix(), host, *f.lease, log)
	if err != nil {
		return err
	}
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a = agent.New(agent.Options{Core: c, Plane: p, Region: *f.region, Host: *f.host, Logger: log.With("component", "agent"), Registry: promReg,
		Overlay: &dataplane.Overlay{Local: underlay.String(), UnderlayNS: *f.underlayNS, MTU: *f.mtu},
		Report:  func(st dataplane.Status) { reg.Report(st.Instances.All(), st.ENIs.All()) }})
	go cluster.Watch(ctx, es.Client(), es.Prefix(), log, func(m map[string][]cluster.Host) {
		c.SetHosts(*f.region, coreHosts(m[*f.region]))
		kickOnce.Do(func() { close(ready) })
		kick()
	})
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	}
	go a.Run(ctx)
	ln, err := net.Listen("tcp", *f.listen)
	if err != nil {
		return err
	}
	log.Info("eni agent running", "region", *f.region, "az", *f.az, "underlay", underlay.String(), "records", n,
		"prefix", *f.prefix, "listen", ln.Addr().String(), "startup", time.Since(start).String(), "version", version())
	err = runHTTP(ctx, &http.Server{Handler: agentHandler(a, promReg), ReadHeaderTimeout: 10 * time.Second}, ln, log)
	if cerr := reg.Close(); cerr != nil {
		log.Warn("agent: the host's lease was not revoked (it runs out by itself)", "err", cerr)
	}
	return err
}

// coreHosts are the live hosts as the core takes them.
func coreHosts(hs []cluster.Host) []core.Host {
	out := make([]core.Host, 0, len(hs))
	for _, h := range hs {
		ch := core.Host{Name: h.Name, AZ: h.AZ, Underlay: h.Underlay, Capacity: h.Capacity, Realised: map[string]bool{}, ENIs: h.ENIs}
		for _, id := range h.Realised {
			ch.Realised[id] = true
		}
		out = append(out, ch)
	}
	return out
}

// agentHandler serves /healthz (the last pass's result) and /metrics.
func agentHandler(a *agent.Agent, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		st, runs, err := a.Status()
		switch {
		case runs == 0:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "starting")
		case err != nil:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "reconcile failing:", err)
		default:
			fmt.Fprintf(w, "ok\n%d instances\n", st.Instances.Len())
		}
	})
	return mux
}

// underlayAddr is --underlay-ip, else the address this host reaches the first
// etcd endpoint from (a UDP "connection" sends nothing; it asks the kernel's
// routing which source it would use).
func underlayAddr(flagIP string, endpoints []string) (netip.Addr, error) {
	if flagIP != "" {
		a, err := netip.ParseAddr(flagIP)
		if err != nil || !a.Is4() {
			return netip.Addr{}, fmt.Errorf("--underlay-ip %q: an IPv4 address", flagIP)
		}
		return a, nil
	}
	u, err := url.Parse(endpoints[0])
	if err != nil || u.Host == "" {
		return netip.Addr{}, fmt.Errorf("--underlay-ip: cannot tell from etcd endpoint %q; give it", endpoints[0])
	}
	conn, err := net.Dial("udp4", u.Host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("--underlay-ip: no IPv4 route to etcd %s (%v); give it", u.Host, err)
	}
	defer conn.Close()
	a := conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	if a.IsLoopback() {
		return netip.Addr{}, fmt.Errorf("--underlay-ip: etcd %s is reached over loopback, which other hosts cannot use; give it", u.Host)
	}
	return a, nil
}
