package core

import (
	"encoding/json"
)

// Dump returns every committed record as kind/region/id -> JSON, for tests
// that compare the model before and after a restart.
func (c *Core) Dump() map[string]string {
	c.mu.Lock()
	regions := make([]*region, 0, len(c.regions))
	for _, r := range c.regions {
		regions = append(regions, r)
	}
	c.mu.Unlock()
	out := map[string]string{}
	for _, r := range regions {
		r.mu.RLock()
		d := r.db
		dumpTable(out, r.name, d.meta)
		dumpTable(out, r.name, d.vpcs)
		dumpTable(out, r.name, d.subnets)
		dumpTable(out, r.name, d.groups)
		dumpTable(out, r.name, d.enis)
		dumpTable(out, r.name, d.instances)
		dumpTable(out, r.name, d.addresses)
		dumpTable(out, r.name, d.igws)
		dumpTable(out, r.name, d.rtbs)
		dumpTable(out, r.name, d.perms)
		dumpTable(out, r.name, d.tokens)
		dumpTable(out, r.name, d.tasks)
		dumpTable(out, r.name, d.volumes)
		dumpTable(out, r.name, d.keys)
		dumpTable(out, r.name, d.templates)
		dumpTable(out, r.name, d.dhcp)
		dumpTable(out, r.name, d.eigws)
		dumpTable(out, r.name, d.vgws)
		dumpTable(out, r.name, d.usage)
		dumpTable(out, r.name, d.acls)
		dumpTable(out, r.name, d.pls)
		dumpTable(out, r.name, d.vpces)
		dumpTable(out, r.name, d.roles)
		dumpTable(out, r.name, d.profiles)
		r.mu.RUnlock()
	}
	c.pcx.dump(out)
	return out
}

func dumpTable[T any, P record[T]](out map[string]string, region string, t *table[T, P]) {
	for id, v := range t.rows {
		b, _ := json.Marshal(v) // records are plain data; Marshal does not fail
		out[t.kind+"/"+region+"/"+id] = string(b)
	}
}
