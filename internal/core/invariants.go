package core

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// Check verifies the model's invariants over every region and returns what
// is violated: no private IPv4, IPv6, MAC or public IPv4 held twice; every
// address inside its subnet; every attachment pointing at a live instance of
// the same AZ with a unique device slot; every reference resolvable; indexes
// equal to what the records say.
func (c *Core) Check() []error {
	c.mu.Lock()
	regions := make([]*region, 0, len(c.regions))
	for _, r := range c.regions {
		regions = append(regions, r)
	}
	c.mu.Unlock()
	var errs []error
	for _, r := range regions {
		r.mu.RLock()
		errs = append(errs, r.db.check()...)
		r.mu.RUnlock()
	}
	return errs
}

func (d *db) check() []error {
	var errs []error
	c := &invariantCheck{
		d: d,
		bad: func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: "+format, append([]any{d.region}, args...)...))
		},
		macs: map[string]string{}, v4: map[string]string{}, v6: map[string]string{},
		prefixes: map[string]string{}, public: map[string]string{}, slots: map[string]string{},
	}
	for _, id := range slices.Sorted(maps.Keys(d.enis.rows)) {
		c.eni(d.enis.rows[id])
	}
	c.delegatedOverlap()
	c.elasticIPsTasksInstances()
	c.writeBackIndexes()
	c.subnetIndexes()
	c.tagIndex()
	bad := c.bad
	d.checkVolumes(bad)
	d.checkLaunchTemplates(bad)
	d.checkInstanceOptions(bad)
	d.checkVPCExtras(bad)
	d.checkIpv6Only(bad)
	d.checkUsage(bad)
	d.checkACLs(bad)
	d.checkRouteTables(bad)
	return errs
}

// invariantCheck is one run of check: what it has seen held, by whom.
type invariantCheck struct {
	d   *db
	bad func(format string, args ...any)
	// MAC, subnet/IPv4, IPv6, subnet/prefix, public IPv4 and
	// instance/card/device slot → the ENI (or allocation) holding it
	macs, v4, v6, prefixes, public, slots map[string]string
}

// eni checks one ENI: unique MAC and addresses, its subnet, groups and
// attachment.
func (c *invariantCheck) eni(e *ENI) {
	if o, ok := c.macs[e.MAC]; ok {
		c.bad("MAC %s held by %s and %s", e.MAC, o, e.ID)
	}
	c.macs[e.MAC] = e.ID
	s := c.d.subnets.rows[e.SubnetID]
	if s == nil {
		c.bad("ENI %s in missing subnet %s", e.ID, e.SubnetID)
		return
	}
	c.eniAddresses(e, s)
	if e.PublicIP != "" {
		if o, ok := c.public[e.PublicIP]; ok {
			c.bad("public IPv4 %s held by %s and %s", e.PublicIP, o, e.ID)
		}
		c.public[e.PublicIP] = e.ID
	}
	c.eniAttachment(e)
	for _, g := range e.Groups {
		if c.d.groups.rows[g] == nil {
			c.bad("ENI %s references missing group %s", e.ID, g)
		}
	}
}

// eniAddresses checks an ENI's private addresses and prefixes in subnet s.
func (c *invariantCheck) eniAddresses(e *ENI, s *Subnet) {
	pfx := subnetPrefix(s)
	primaries := 0
	for _, ip := range e.PrivateIPs {
		if ip.Primary {
			primaries++
		}
		a, err := netip.ParseAddr(ip.Address)
		if err != nil || !pfx.Contains(a) || reservedIPv4(pfx, a) {
			c.bad("ENI %s has address %s outside the usable range of %s", e.ID, ip.Address, s.CidrBlock)
		}
		k := e.SubnetID + "/" + ip.Address
		if o, ok := c.v4[k]; ok {
			c.bad("IPv4 %s held by %s and %s", ip.Address, o, e.ID)
		}
		c.v4[k] = e.ID
		if c.d.idx.ipv4[e.SubnetID][a] != e.ID {
			c.bad("index: IPv4 %s of %s not indexed", ip.Address, e.ID)
		}
	}
	if len(e.PrivateIPs) > 0 && primaries != 1 {
		c.bad("ENI %s has %d primary addresses", e.ID, primaries)
	}
	for _, fam := range []struct {
		held  []string
		check func(*Subnet, string) (netip.Prefix, error)
		idx   map[string]map[netip.Prefix]string
	}{{e.IPv4Prefixes, checkIPv4Prefix, c.d.idx.ipv4Prefix}, {e.IPv6Prefixes, checkIPv6Prefix, c.d.idx.ipv6Prefix}} {
		for _, ps := range fam.held {
			pf, err := fam.check(s, ps) // the rules a new prefix is held to
			if err != nil {
				c.bad("ENI %s has prefix %s: %v", e.ID, ps, err)
				continue
			}
			k := e.SubnetID + "/" + pf.String()
			if o, ok := c.prefixes[k]; ok {
				c.bad("prefix %s held by %s and %s", ps, o, e.ID)
			}
			c.prefixes[k] = e.ID
			if fam.idx[e.SubnetID][pf] != e.ID {
				c.bad("index: prefix %s of %s not indexed", ps, e.ID)
			}
		}
	}
	for _, ip := range e.IPv6 {
		if o, ok := c.v6[ip]; ok {
			c.bad("IPv6 %s held by %s and %s", ip, o, e.ID)
		}
		c.v6[ip] = e.ID
	}
}

// eniAttachment checks an attached ENI's instance and slot.
func (c *invariantCheck) eniAttachment(e *ENI) {
	if a := e.Attachment; a != nil && a.InstanceID == "" {
		if !e.RequesterManaged {
			c.bad("ENI %s attached to no instance", e.ID)
		}
	} else if a != nil {
		inst := c.d.instances.rows[a.InstanceID]
		switch {
		case inst == nil:
			c.bad("ENI %s attached to missing instance %s", e.ID, a.InstanceID)
		case inst.State == "terminated":
			c.bad("ENI %s attached to terminated instance %s", e.ID, a.InstanceID)
		case inst.AZ != e.AZ:
			c.bad("ENI %s (%s) attached to instance %s in %s", e.ID, e.AZ, inst.ID, inst.AZ)
		}
		slot := fmt.Sprintf("%s/%d/%d", a.InstanceID, a.NetworkCardIndex, a.DeviceIndex)
		if o, ok := c.slots[slot]; ok {
			c.bad("slot %s held by %s and %s", slot, o, e.ID)
		}
		c.slots[slot] = e.ID
		if _, ok := c.d.idx.byInstance[a.InstanceID][e.ID]; !ok {
			c.bad("index: attachment of %s not indexed", e.ID)
		}
	}
}

// writeBackIndexes checks the index of pending instances and attaching ENIs.
func (c *invariantCheck) writeBackIndexes() {
	pending, attaching := 0, 0
	for _, i := range c.d.instances.rows {
		_, indexed := c.d.idx.pending[i.ID]
		if indexed != (i.State == "pending") {
			c.bad("index: instance %s (%s) indexed as pending: %v", i.ID, i.State, indexed)
		}
		if indexed {
			pending++
		}
	}
	for _, e := range c.d.enis.rows {
		_, indexed := c.d.idx.attaching[e.ID]
		if indexed != (e.Attachment != nil && e.Attachment.Status == "attaching") {
			c.bad("index: ENI %s indexed as attaching: %v", e.ID, indexed)
		}
		if indexed {
			attaching++
		}
	}
	if pending != len(c.d.idx.pending) || attaching != len(c.d.idx.attaching) {
		c.bad("index: %d pending instances and %d attaching ENIs indexed, records say %d and %d", len(c.d.idx.pending), len(c.d.idx.attaching), pending, attaching)
	}
}

// delegatedOverlap checks that no address lies inside a delegated prefix.
func (c *invariantCheck) delegatedOverlap() {
	for ip, id := range c.v6 {
		e := c.d.enis.rows[id]
		if a, err := netip.ParseAddr(ip); err == nil && e != nil {
			if o, ok := c.prefixes[e.SubnetID+"/"+netip.PrefixFrom(a, ipv6PrefixBits).Masked().String()]; ok {
				c.bad("IPv6 %s of %s lies in a prefix delegated to %s", ip, id, o)
			}
		}
	}
	for k, id := range c.v4 {
		subnet, addr, _ := strings.Cut(k, "/")
		if a, err := netip.ParseAddr(addr); err == nil {
			if o, ok := c.prefixes[subnet+"/"+netip.PrefixFrom(a, ipv4PrefixBits).Masked().String()]; ok {
				c.bad("IPv4 %s of %s lies in a prefix delegated to %s", addr, id, o)
			}
		}
	}
}

// elasticIPsTasksInstances checks Elastic IPs, tasks' ENIs and that every
// live instance has a primary ENI.
func (c *invariantCheck) elasticIPsTasksInstances() {
	for _, a := range c.d.addresses.rows {
		if o, ok := c.public[a.PublicIP]; ok {
			c.bad("public IPv4 %s held by %s and %s", a.PublicIP, o, a.AllocationID)
		}
		c.public[a.PublicIP] = a.AllocationID
		if a.ENIID != "" {
			e := c.d.enis.rows[a.ENIID]
			if e == nil || !e.HasIP(a.PrivateIP) {
				c.bad("EIP %s associated with %s/%s, which does not hold it", a.AllocationID, a.ENIID, a.PrivateIP)
			}
		}
	}
	for _, t := range c.d.tasks.rows {
		if e := c.d.enis.rows[t.ENIID]; e == nil || !e.RequesterManaged {
			c.bad("task %s without its requester-managed ENI %s", t.ID, t.ENIID)
		}
	}
	for _, inst := range c.d.instances.rows {
		if inst.State == "terminated" {
			continue
		}
		primary := false
		for id := range c.d.idx.byInstance[inst.ID] {
			if e := c.d.enis.rows[id]; e != nil && e.Attachment != nil && e.Attachment.DeviceIndex == 0 {
				primary = true
			}
		}
		if !primary {
			c.bad("instance %s (%s) has no primary ENI", inst.ID, inst.State)
		}
	}
}

// subnetIndexes checks each subnet's VPC and its address and prefix indexes.
func (c *invariantCheck) subnetIndexes() {
	for _, s := range c.d.subnets.rows {
		if c.d.vpcs.rows[s.VpcID] == nil {
			c.bad("subnet %s in missing VPC %s", s.ID, s.VpcID)
		}
		n := 0
		for _, e := range c.d.enis.rows {
			if e.SubnetID == s.ID {
				n += len(e.PrivateIPs)
			}
		}
		if len(c.d.idx.ipv4[s.ID]) != n {
			c.bad("index: subnet %s has %d indexed addresses, records say %d", s.ID, len(c.d.idx.ipv4[s.ID]), n)
		}
		np, np6 := 0, 0
		for _, e := range c.d.enis.rows {
			if e.SubnetID == s.ID {
				np += len(e.IPv4Prefixes)
				np6 += len(e.IPv6Prefixes)
			}
		}
		if len(c.d.idx.ipv4Prefix[s.ID]) != np {
			c.bad("index: subnet %s has %d indexed prefixes, records say %d", s.ID, len(c.d.idx.ipv4Prefix[s.ID]), np)
		}
		if len(c.d.idx.ipv6Prefix[s.ID]) != np6 {
			c.bad("index: subnet %s has %d indexed IPv6 prefixes, records say %d", s.ID, len(c.d.idx.ipv6Prefix[s.ID]), np6)
		}
	}
}

// tagIndex checks the ENI tag index against the records.
func (c *invariantCheck) tagIndex() {
	tags, indexed := 0, 0
	for _, e := range c.d.enis.rows {
		for k, v := range e.Tags {
			tags++
			if _, ok := c.d.idx.eniByTag[k][v][e.ID]; !ok {
				c.bad("index: ENI %s tag %s=%s is not indexed", e.ID, k, v)
			}
		}
	}
	for _, vals := range c.d.idx.eniByTag {
		for _, set := range vals {
			indexed += len(set)
		}
	}
	if tags != indexed {
		c.bad("index: %d ENI tags indexed, records have %d", indexed, tags)
	}
}
