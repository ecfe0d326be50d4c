package core

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
		r.mu.Lock()
		r.db = d
		r.mu.Unlock()
	}
	for name, f := range fresh.regions {
		if c.regions[name] == nil {
			c.regions[name] = f
		}
	}
	c.skipped = fresh.skipped
	return n, nil
}
