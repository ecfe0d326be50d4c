package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/replica"
	"github.com/eni-net/eni/internal/store"
)

// replicaHooks are what a replica calls back: a followed change (the data
// plane's kick, the console), and becoming the writer.
type replicaHooks struct {
	onApply func(regions []string)
	onLead  func() error
}

// loadModel loads the model from the store. On etcd the server is one of
// the API replicas (internal/replica): it loads through its replica, and
// commits through it (the store returned).
func loadModel(f *serveFlags, st store.Store, c *core.Core, log *slog.Logger, hooks replicaHooks) (int, store.Store, *replica.Replica, error) {
	es, ok := st.(*store.Etcd)
	if !ok {
		n, err := c.LoadFrom(st.Load)
		return n, st, nil, err
	}
	self, err := advertiseURL(*f.advertise, *f.listen)
	if err != nil {
		return 0, nil, nil, err
	}
	if *f.replicaLease < 1 {
		return 0, nil, nil, fmt.Errorf("--replica-lease %d: at least 1 (second)", *f.replicaLease)
	}
	rep := replica.New(replica.Config{Store: es, Core: c, Self: self, LeaseTTL: *f.replicaLease, Logger: log,
		OnApply: hooks.onApply, OnLead: hooks.onLead})
	n, err := rep.Load()
	return n, rep.Store(), rep, err
}

// replication is the API's view of the replica (nil without one).
func replication(rep *replica.Replica) api.Replication {
	if rep == nil {
		return nil
	}
	return rep
}

// advertiseURL is the URL other replicas forward writes to: --advertise-url,
// else http:// and --listen (this host's name in place of a wildcard
// address).
func advertiseURL(flagURL, listen string) (string, error) {
	if flagURL != "" {
		u, err := url.Parse(flagURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return "", fmt.Errorf("--advertise-url %q: want http://HOST:PORT", flagURL)
		}
		return u.Scheme + "://" + u.Host, nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--listen %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if host, err = os.Hostname(); err != nil {
			return "", fmt.Errorf("--advertise-url: none given, and no host name: %w", err)
		}
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// onCommitOrNil kicks the data plane, if there is one.
func (h dataPlaneHooks) onCommitOrNil() {
	if h.onCommit != nil {
		h.onCommit()
	}
}
