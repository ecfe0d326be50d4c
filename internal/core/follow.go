package core

import (
	"fmt"
	"maps"
)

// Apply puts into the model a change set another writer committed: a
// replica that follows the store (internal/replica) applies each etcd
// transaction it is told of, in order. Every record is decoded before any
// is applied, so a record that does not decode changes nothing; each
// region's records are applied under its write lock, so no transaction
// sees half of a change set in a region, and the indexes follow.
func (c *Core) Apply(changes []Change) error {
	type rec struct {
		kind, id string
		v        any // nil: deleted
	}
	byRegion := map[string][]rec{}
	var order []string
	for _, ch := range changes {
		reg, id, ok := cut(ch.Key)
		if !ok {
			return fmt.Errorf("apply %s: bad key %q", ch.Kind, ch.Key)
		}
		if !c.keepRegion(reg) {
			continue
		}
		r := rec{kind: ch.Kind, id: id}
		if ch.Value != nil {
			l, err := c.region(reg).db.loaderFor(ch.Kind)
			if err != nil {
				return err
			}
			if r.v, err = l.decode(id, ch.Value); err != nil {
				return err
			}
		}
		if _, seen := byRegion[reg]; !seen {
			order = append(order, reg)
		}
		byRegion[reg] = append(byRegion[reg], r)
	}
	for _, reg := range order {
		r := c.region(reg)
		r.mu.Lock()
		for _, rc := range byRegion[reg] {
			r.db.follow(rc.kind, rc.id, rc.v)
		}
		r.mu.Unlock()
	}
	return nil
}

// follow puts (v set) or deletes one decoded record, keeping the indexes.
func (d *db) follow(kind, id string, v any) {
	switch kind {
	case "eni":
		d.idx.eni(swapRow(d.enis, id, v))
	case "address":
		d.idx.address(swapRow(d.addresses, id, v))
	case "instance":
		d.idx.instance(swapRow(d.instances, id, v))
	case "volume":
		d.idx.volume(swapRow(d.volumes, id, v))
	case "usage":
		d.idx.usageInterval(swapRow(d.usage, id, v))
	case "token":
		if old, t := swapRow(d.tokens, id, v); old == nil && t != nil {
			d.idx.tokenQueue = append(d.idx.tokenQueue, tokenAge{t.CreatedAt, id})
		}
	case "pcx":
		d.pcxs.follow(id, v)
	default:
		l, _ := d.loaderFor(kind) // Apply decoded it with this table
		l.(interface{ set(string, any) }).set(id, v)
	}
}

// swapRow puts (v set) or deletes the row id and returns the row before
// and after, for the indexes.
func swapRow[T any, P record[T]](t *table[T, P], id string, v any) (old, new *T) {
	old = t.rows[id]
	t.set(id, v)
	if v != nil {
		new = v.(*T)
	}
	return old, new
}

// set puts (v set) or deletes the row id.
func (t *table[T, P]) set(id string, v any) {
	if v == nil {
		t.setRow(id, nil)
		return
	}
	t.setRow(id, v.(*T))
}

// follow puts (v set) or deletes a peering connection, as a new snapshot
// (transactions read the one they started with).
func (s *pcxStore) follow(id string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := newTable[PeeringConnection]("pcx")
	maps.Copy(next.rows, s.snap.Load().rows)
	next.set(id, v)
	s.snap.Store(next)
}
