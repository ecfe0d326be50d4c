package core

// NAT gateways on the data plane. A gateway that is pending or available
// is realised as a namespace of its own (named by its id, as an
// instance's) whose eth0 is its ENI: it forwards what the subnets routed
// to it send and translates the sources to its primary private address;
// a public gateway's Elastic IP then maps that address at the internet
// gateway, as any Elastic IP's. With a data plane serving the region a
// gateway is created pending and becomes available when its namespace is
// up (MarkRealised), and a deleted one deleting until its namespace is gone;
// without one it is available, or deleted, at once.

// HostNatGateway is a NAT gateway the data plane realises.
type HostNatGateway struct {
	ID, ENIID string
	// Sources are the blocks whose new connections it translates (its VPC's
	// IPv4 blocks): nothing else may open a connection through it.
	Sources []string
	// SNAT are the private addresses it translates to, primary first: a
	// public gateway's addresses with an Elastic IP, a private gateway's all.
	SNAT []string
}

// natRealised reports whether a data plane realises the gateways of the
// transaction's region (they are then created pending, and deleted deleting):
// in a cluster, whether a host is live (one of them realises every gateway,
// defaultHost; with none, nothing would ever settle either state).
func (tx *Tx) natRealised() bool {
	if tx.cfg.Cluster {
		return len(tx.hosts) > 0
	}
	return tx.cfg.DataPlane && (tx.cfg.DataPlaneRegion == "" || tx.cfg.DataPlaneRegion == tx.Region)
}

// natLive reports whether a gateway is (to be) realised: pending or available.
func natLive(g *NatGateway) bool {
	return g != nil && (g.State == "pending" || g.State == "available")
}

// hostNatGateways lists the live gateways and returns the ENI → gateway
// map that makes each ENI eth0 of its gateway's namespace.
func (tx *Tx) hostNatGateways() ([]HostNatGateway, map[string]string) {
	var out []HostNatGateway
	eniOf := map[string]string{}
	for _, g := range tx.nats.Sorted(nil) {
		if !natLive(g) || g.ENIID == "" || tx.enis.Get(g.ENIID) == nil {
			continue
		}
		hg := HostNatGateway{ID: g.ID, ENIID: g.ENIID}
		if v := tx.vpcs.Get(g.VpcID); v != nil {
			for _, a := range v.CidrAssocs {
				hg.Sources = append(hg.Sources, a.Cidr)
			}
		}
		for _, a := range g.Addresses {
			if a.Primary || g.Connectivity == "private" || a.AllocationID != "" {
				hg.SNAT = append(hg.SNAT, a.PrivateIP)
			}
		}
		out = append(out, hg)
		eniOf[g.ENIID] = g.ID
	}
	return out, eniOf
}

// hostNatRoute returns the ENI of the live gateway a route sends to, or "".
func (tx *Tx) hostNatRoute(natID string) string {
	if g := tx.nats.Get(natID); natLive(g) {
		return g.ENIID
	}
	return ""
}

// markNatRealised makes pending gateways whose namespace is up available,
// and deleting ones whose namespace is gone deleted.
func (tx *Tx) markNatRealised(up Set[bool]) bool {
	changed := false
	for _, g := range tx.nats.Sorted(func(g *NatGateway) bool {
		return (g.State == "pending" && up.Get(g.ID)) || (g.State == "deleting" && !up.Get(g.ID))
	}) {
		m := tx.nats.Mut(g.ID)
		m.State = map[string]string{"pending": "available", "deleting": "deleted"}[g.State]
		changed = true
	}
	return changed
}
