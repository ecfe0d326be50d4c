package core

import (
	"slices"
)

// View runs fn in a read-only transaction as who, for observers of the model
// (the web console) that must not change it by looking: unlike Read it
// bootstraps no account and brings no region into being. An account the
// region has never seen sees nothing of its own; a served region without
// state is seen empty (with its zones).
func (c *Core) View(who Caller, fn func(*Tx) error) error {
	if err := c.CheckRegion(who.Region); err != nil {
		return err
	}
	c.mu.Lock()
	r := c.regions[who.Region]
	c.mu.Unlock()
	if r == nil {
		r = &region{name: who.Region, db: newDB(who.Region)} // empty, not kept
		r.db.azs = regionAZs(who.Region, c.cfg.AZCount)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return fn(c.newTx(r, who, true))
}

// Accounts lists the accounts that have state in a region (those whose
// default resources exist there), sorted.
func (c *Core) Accounts(regionName string) []string {
	c.mu.Lock()
	r := c.regions[regionName]
	c.mu.Unlock()
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	if m := r.db.meta.rows["meta"]; m != nil {
		for a, ok := range m.Accounts {
			if ok {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}
