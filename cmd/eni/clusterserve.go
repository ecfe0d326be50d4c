package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/cluster"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/replica"
)

// clusterHosts feeds the hosts' leases (eni serve --cluster) to the core,
// and, on the writer, settles what their agents report they realised
// (pending instances become running).
type clusterHosts struct {
	core *core.Core
	srv  **api.Server // set before the replica runs
	rep  *replica.Replica
	log  *slog.Logger

	mu      sync.Mutex
	regions map[string]bool // regions that have had hosts
}

// update takes the live hosts of every region (cluster.Watch).
func (h *clusterHosts) update(m map[string][]cluster.Host) {
	h.mu.Lock()
	if h.regions == nil {
		h.regions = map[string]bool{}
	}
	for region, hs := range m {
		h.regions[region] = true
		h.core.SetHosts(region, coreHosts(hs))
	}
	h.mu.Unlock()
	h.settleAll()
}

// settleAll commits, on the writer, what the hosts realised.
func (h *clusterHosts) settleAll() {
	if h.rep == nil || !h.rep.Leading() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for region := range h.regions {
		who := core.Caller{Account: h.core.Config().DefaultAccount, Region: region}
		if err := h.core.SettleHosts(who, (*h.srv).Commit); err != nil {
			h.log.Warn("cluster: the hosts' reports were not settled; the next report settles them", "region", region, "err", err)
		}
	}
}

// HostsPath lists a cluster's hosts (eni serve --cluster): JSON, by region,
// each host's name, zone, underlay address, capacity, instances placed on it
// and whether its agent holds its lease.
const HostsPath = "/eni/v1/hosts"

// withHostList serves HostsPath.
func withHostList(next http.Handler, c *core.Core) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != HostsPath || r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		out := map[string][]core.HostInfo{}
		for _, region := range c.Regions() {
			if hs := c.Hosts(region); len(hs) > 0 {
				out[region] = hs
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out) // the client may be gone
	})
}
