package core

// This file reads the public IPv4 usage intervals of usage.go: the report of
// `eni usage` (per address and usage type), the totals of the metrics, and
// the addresses costing money now.

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// usageSum adds up spans of time exactly (in nanoseconds, per rate), so that
// hours and cost do not depend on the order they are added in.
type usageSum map[float64]time.Duration

func (s usageSum) add(u *UsageInterval, d time.Duration) { s[u.Rate] += d }

func (s usageSum) hours() float64 {
	var d time.Duration
	for _, x := range s {
		d += x
	}
	return d.Hours()
}

func (s usageSum) cost() float64 {
	var c float64
	for _, r := range slices.Sorted(maps.Keys(s)) {
		c += s[r].Hours() * r
	}
	return c
}

// UsageLine is the usage of one public IPv4 address under one usage type
// over a report's period.
type UsageLine struct {
	UsageType  string  `json:"usageType"` // with the region's prefix: USE1-PublicIPv4:IdleAddress
	PublicIP   string  `json:"publicIp"`
	ResourceID string  `json:"resourceId"` // the Elastic IP's allocation id, or the ENI of an auto-assigned address
	Hours      float64 `json:"hours"`
	Cost       float64 `json:"cost"` // USD
	// Now says the address is billed under this usage type now.
	Now bool `json:"now,omitempty"`
}

// Usage returns the caller's public IPv4 usage in the region between from
// and to (to is capped at the transaction's time), per address and usage
// type, sorted by address. Intervals are cut at from and to; each hour is
// priced at the rate of its interval.
func (tx *Tx) Usage(from, to time.Time) []UsageLine {
	type group struct{ typ, ip, res string }
	lines := map[group]*UsageLine{}
	sums := map[group]usageSum{}
	for _, u := range tx.db.usage.rows {
		if u.Owner != tx.Account {
			continue
		}
		d := u.Span(from, to, tx.now)
		open := u.End.IsZero() && !to.Before(tx.now)
		if d == 0 && !open {
			continue
		}
		g := group{u.Type, u.PublicIP, u.addressKey()}
		l := lines[g]
		if l == nil {
			l = &UsageLine{UsageType: UsageType(tx.Region, u.Type), PublicIP: u.PublicIP, ResourceID: g.res}
			lines[g], sums[g] = l, usageSum{}
		}
		sums[g].add(u, d)
		l.Now = l.Now || open
	}
	out := make([]UsageLine, 0, len(lines))
	for g, l := range lines {
		l.Hours, l.Cost = sums[g].hours(), sums[g].cost()
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b UsageLine) int {
		return cmp.Or(cmp.Compare(a.PublicIP, b.PublicIP), cmp.Compare(a.ResourceID, b.ResourceID), cmp.Compare(a.UsageType, b.UsageType))
	})
	return out
}

// BilledAddress is a public IPv4 address costing money now.
type BilledAddress struct {
	UsageType    string    `json:"usageType"`
	PublicIP     string    `json:"publicIp"`
	AllocationID string    `json:"allocationId,omitempty"`
	ENIID        string    `json:"eniId,omitempty"`
	InstanceID   string    `json:"instanceId,omitempty"`
	Since        time.Time `json:"since"`      // start of the current usage type
	Rate         float64   `json:"rate"`       // USD per hour
	CostSoFar    float64   `json:"costSoFar"`  // USD, every interval of this address
	HoursSoFar   float64   `json:"hoursSoFar"` // every interval of this address
	Account      string    `json:"account"`
}

// BilledNow returns the caller's addresses billed now in the region, with
// what each has cost since it was allocated or assigned, sorted by address.
func (tx *Tx) BilledNow() []BilledAddress {
	var out []BilledAddress
	for _, id := range tx.db.idx.usageOpen {
		u := tx.db.usage.rows[id]
		if u == nil || u.Owner != tx.Account {
			continue
		}
		out = append(out, BilledAddress{UsageType: UsageType(tx.Region, u.Type), PublicIP: u.PublicIP, AllocationID: u.AllocationID,
			ENIID: u.ENIID, InstanceID: u.InstanceID, Since: u.Start, Rate: u.Rate, Account: u.Owner})
	}
	sums := map[[2]string]usageSum{}       // address key, public IP
	ends := map[[2]string]*UsageInterval{} // address key, end -> the interval of that address ending then
	for _, u := range tx.db.usage.rows {
		if u.Owner == tx.Account {
			k := [2]string{u.addressKey(), u.PublicIP}
			if sums[k] == nil {
				sums[k] = usageSum{}
			}
			sums[k].add(u, u.Span(time.Time{}, tx.now, tx.now))
			if !u.End.IsZero() {
				ends[[2]string{u.addressKey(), u.End.Format(time.RFC3339Nano)}] = u
			}
		}
	}
	for i := range out {
		b := &out[i]
		key := cmp.Or(b.AllocationID, b.ENIID)
		s := sums[[2]string{key, b.PublicIP}]
		b.HoursSoFar, b.CostSoFar = s.hours(), s.cost()
		// Since is when this usage type began: intervals split by a rate
		// change or a move between instances of the same type continue it.
		for {
			prev := ends[[2]string{key, b.Since.Format(time.RFC3339Nano)}]
			if prev == nil || UsageType(tx.Region, prev.Type) != b.UsageType || prev.PublicIP != b.PublicIP {
				break
			}
			b.Since = prev.Start
		}
	}
	slices.SortFunc(out, func(a, b BilledAddress) int { return cmp.Compare(a.PublicIP, b.PublicIP) })
	return out
}

// UsageTotal is an account's public IPv4 usage of one type in one region,
// since metering began, as the metrics show it.
type UsageTotal struct {
	Region, Account, UsageType string
	Addresses                  int // billed under this type now
	Hours, Cost                float64
}

// UsageTotals sums every region's usage intervals up to now, per account and
// usage type, sorted.
func (c *Core) UsageTotals() []UsageTotal {
	now := c.env.Now().UTC()
	var out []UsageTotal
	for _, name := range c.Regions() {
		r := c.region(name)
		r.mu.RLock()
		at := map[[2]string]*UsageTotal{}
		sums := map[[2]string]usageSum{}
		for _, u := range r.db.usage.rows {
			k := [2]string{u.Owner, u.Type}
			t := at[k]
			if t == nil {
				t = &UsageTotal{Region: name, Account: u.Owner, UsageType: UsageType(name, u.Type)}
				at[k], sums[k] = t, usageSum{}
			}
			sums[k].add(u, u.Span(time.Time{}, now, now))
			if u.End.IsZero() {
				t.Addresses++
			}
		}
		r.mu.RUnlock()
		for k, t := range at {
			t.Hours, t.Cost = sums[k].hours(), sums[k].cost()
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b UsageTotal) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Account, b.Account), cmp.Compare(a.UsageType, b.UsageType))
	})
	return out
}
