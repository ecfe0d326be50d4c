package core

import (
	"fmt"
	"net/netip"
	"sort"
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
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{d.region}, args...)...))
	}
	macs := map[string]string{}
	v4 := map[string]string{}
	v6 := map[string]string{}
	prefixes := map[string]string{} // subnet/prefix -> ENI
	public := map[string]string{}
	slots := map[string]string{}
	ids := make([]string, 0, len(d.enis.rows))
	for id := range d.enis.rows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		e := d.enis.rows[id]
		if o, ok := macs[e.MAC]; ok {
			bad("MAC %s held by %s and %s", e.MAC, o, e.ID)
		}
		macs[e.MAC] = e.ID
		s := d.subnets.rows[e.SubnetID]
		if s == nil {
			bad("ENI %s in missing subnet %s", e.ID, e.SubnetID)
			continue
		}
		pfx := subnetPrefix(s)
		primaries := 0
		for _, ip := range e.PrivateIPs {
			if ip.Primary {
				primaries++
			}
			a, err := netip.ParseAddr(ip.Address)
			if err != nil || !pfx.Contains(a) || reservedIPv4(pfx, a) {
				bad("ENI %s has address %s outside the usable range of %s", e.ID, ip.Address, s.CidrBlock)
			}
			k := e.SubnetID + "/" + ip.Address
			if o, ok := v4[k]; ok {
				bad("IPv4 %s held by %s and %s", ip.Address, o, e.ID)
			}
			v4[k] = e.ID
			if d.idx.ipv4[e.SubnetID][a] != e.ID {
				bad("index: IPv4 %s of %s not indexed", ip.Address, e.ID)
			}
		}
		if len(e.PrivateIPs) > 0 && primaries != 1 {
			bad("ENI %s has %d primary addresses", e.ID, primaries)
		}
		for _, fam := range []struct {
			held  []string
			check func(*Subnet, string) (netip.Prefix, error)
			idx   map[string]map[netip.Prefix]string
		}{{e.IPv4Prefixes, checkIPv4Prefix, d.idx.ipv4Prefix}, {e.IPv6Prefixes, checkIPv6Prefix, d.idx.ipv6Prefix}} {
			for _, ps := range fam.held {
				pf, err := fam.check(s, ps) // the rules a new prefix is held to
				if err != nil {
					bad("ENI %s has prefix %s: %v", e.ID, ps, err)
					continue
				}
				k := e.SubnetID + "/" + pf.String()
				if o, ok := prefixes[k]; ok {
					bad("prefix %s held by %s and %s", ps, o, e.ID)
				}
				prefixes[k] = e.ID
				if fam.idx[e.SubnetID][pf] != e.ID {
					bad("index: prefix %s of %s not indexed", ps, e.ID)
				}
			}
		}
		for _, ip := range e.IPv6 {
			if o, ok := v6[ip]; ok {
				bad("IPv6 %s held by %s and %s", ip, o, e.ID)
			}
			v6[ip] = e.ID
		}
		if e.PublicIP != "" {
			if o, ok := public[e.PublicIP]; ok {
				bad("public IPv4 %s held by %s and %s", e.PublicIP, o, e.ID)
			}
			public[e.PublicIP] = e.ID
		}
		if a := e.Attachment; a != nil && a.InstanceID == "" {
			if !e.RequesterManaged {
				bad("ENI %s attached to no instance", e.ID)
			}
		} else if a != nil {
			inst := d.instances.rows[a.InstanceID]
			switch {
			case inst == nil:
				bad("ENI %s attached to missing instance %s", e.ID, a.InstanceID)
			case inst.State == "terminated":
				bad("ENI %s attached to terminated instance %s", e.ID, a.InstanceID)
			case inst.AZ != e.AZ:
				bad("ENI %s (%s) attached to instance %s in %s", e.ID, e.AZ, inst.ID, inst.AZ)
			}
			slot := fmt.Sprintf("%s/%d/%d", a.InstanceID, a.NetworkCardIndex, a.DeviceIndex)
			if o, ok := slots[slot]; ok {
				bad("slot %s held by %s and %s", slot, o, e.ID)
			}
			slots[slot] = e.ID
			if _, ok := d.idx.byInstance[a.InstanceID][e.ID]; !ok {
				bad("index: attachment of %s not indexed", e.ID)
			}
		}
		for _, g := range e.Groups {
			if d.groups.rows[g] == nil {
				bad("ENI %s references missing group %s", e.ID, g)
			}
		}
	}
	// No address is inside a delegated prefix.
	for ip, id := range v6 {
		e := d.enis.rows[id]
		if a, err := netip.ParseAddr(ip); err == nil && e != nil {
			if o, ok := prefixes[e.SubnetID+"/"+netip.PrefixFrom(a, ipv6PrefixBits).Masked().String()]; ok {
				bad("IPv6 %s of %s lies in a prefix delegated to %s", ip, id, o)
			}
		}
	}
	for k, id := range v4 {
		subnet, addr, _ := strings.Cut(k, "/")
		if a, err := netip.ParseAddr(addr); err == nil {
			if o, ok := prefixes[subnet+"/"+netip.PrefixFrom(a, ipv4PrefixBits).Masked().String()]; ok {
				bad("IPv4 %s of %s lies in a prefix delegated to %s", addr, id, o)
			}
		}
	}
	for _, a := range d.addresses.rows {
		if o, ok := public[a.PublicIP]; ok {
			bad("public IPv4 %s held by %s and %s", a.PublicIP, o, a.AllocationID)
		}
		public[a.PublicIP] = a.AllocationID
		if a.ENIID != "" {
			e := d.enis.rows[a.ENIID]
			if e == nil || !e.HasIP(a.PrivateIP) {
				bad("EIP %s associated with %s/%s, which does not hold it", a.AllocationID, a.ENIID, a.PrivateIP)
			}
		}
	}
	for _, t := range d.tasks.rows {
		if e := d.enis.rows[t.ENIID]; e == nil || !e.RequesterManaged {
			bad("task %s without its requester-managed ENI %s", t.ID, t.ENIID)
		}
	}
	for _, inst := range d.instances.rows {
		if inst.State == "terminated" {
			continue
		}
		primary := false
		for id := range d.idx.byInstance[inst.ID] {
			if e := d.enis.rows[id]; e != nil && e.Attachment != nil && e.Attachment.DeviceIndex == 0 {
				primary = true
			}
		}
		if !primary {
			bad("instance %s (%s) has no primary ENI", inst.ID, inst.State)
		}
	}
	for _, s := range d.subnets.rows {
		if d.vpcs.rows[s.VpcID] == nil {
			bad("subnet %s in missing VPC %s", s.ID, s.VpcID)
		}
		n := 0
		for _, e := range d.enis.rows {
			if e.SubnetID == s.ID {
				n += len(e.PrivateIPs)
			}
		}
		if len(d.idx.ipv4[s.ID]) != n {
			bad("index: subnet %s has %d indexed addresses, records say %d", s.ID, len(d.idx.ipv4[s.ID]), n)
		}
		np, np6 := 0, 0
		for _, e := range d.enis.rows {
			if e.SubnetID == s.ID {
				np += len(e.IPv4Prefixes)
				np6 += len(e.IPv6Prefixes)
			}
		}
		if len(d.idx.ipv4Prefix[s.ID]) != np {
			bad("index: subnet %s has %d indexed prefixes, records say %d", s.ID, len(d.idx.ipv4Prefix[s.ID]), np)
		}
		if len(d.idx.ipv6Prefix[s.ID]) != np6 {
			bad("index: subnet %s has %d indexed IPv6 prefixes, records say %d", s.ID, len(d.idx.ipv6Prefix[s.ID]), np6)
		}
	}
	tags, indexed := 0, 0
	for _, e := range d.enis.rows {
		for k, v := range e.Tags {
			tags++
			if _, ok := d.idx.eniByTag[k][v][e.ID]; !ok {
				bad("index: ENI %s tag %s=%s is not indexed", e.ID, k, v)
			}
		}
	}
	for _, vals := range d.idx.eniByTag {
		for _, set := range vals {
			indexed += len(set)
		}
	}
	if tags != indexed {
		bad("index: %d ENI tags indexed, records have %d", indexed, tags)
	}
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
