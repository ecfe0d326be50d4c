package main

import (
	"log/slog"
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
