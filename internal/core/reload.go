package core

import "slices"

// Reload replaces the model with the records load yields: the store's, after
// a commit failed and memory went ahead of the disk. Each region is swapped
// under its write lock, so no transaction sees half of it; a region with
// nothing on disk becomes empty (created again on its next use). The caller
// keeps writes from committing meanwhile (the store refuses them until
// reset). It returns the number of records loaded.
func (c *Core) Reload(load func(fn func(kind, key string, val []byte) error) error) (int, error) {
	fresh := New(c.env, c.cfg)
	n, err := fresh.LoadFrom(load)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, r := range c.regions {
		d := newDB(name)
		d.azs = regionAZs(name, c.cfg.AZCount)
		if f := fresh.regions[name]; f != nil {
			d = f.db
		}
		d.pcxs = c.pcx
		r.mu.Lock()
		r.db = d
		r.mu.Unlock()
	}
	for name, f := range fresh.regions {
		if c.regions[name] == nil {
			f.db.pcxs = c.pcx
			c.regions[name] = f
		}
	}
	c.pcx.replace(fresh.pcx)
	c.skipped = fresh.skipped
	return n, nil
}

// Clear empties the model: every region as if it had never been used (its
// default VPC comes back on its next request, as on a fresh server). clear
// empties the store: it runs with every region locked, so after every change
// set handed to the store before and before any after, and if it fails the
// model is left as it was.
func (c *Core) Clear(clear func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.regions))
	for n := range c.regions {
		names = append(names, n)
	}
	slices.Sort(names) // one order for every caller that locks several
	for _, n := range names {
		c.regions[n].mu.Lock()
		defer c.regions[n].mu.Unlock()
	}
	if err := clear(); err != nil {
		return err
	}
	for _, n := range names {
		d := newDB(n)
		d.azs = regionAZs(n, c.cfg.AZCount)
		d.pcxs = c.pcx
		c.regions[n].db = d
	}
	c.pcx.replace(newPcxStore())
	c.skipped = map[string]bool{}
	return nil
}
