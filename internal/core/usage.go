package core

// This file meters public IPv4 addresses. AWS has charged every public IPv4
// address by the hour since February 2024, in use or idle, under two usage
// types: REGION-PublicIPv4:InUseAddress for an address on a running
// instance's attached network interface, REGION-PublicIPv4:IdleAddress for an
// Elastic IP that is not (allocated and unassociated, on a stopped instance,
// on an unattached ENI). Each address's usage is kept as durable intervals,
// written by the transaction that changes the state (meterUsage, called from
// commit), so a usage interval is exactly as durable as the change.

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The usage types of public IPv4 addresses, without their region prefix
// (UsageType adds it).
const (
	UsageInUse = "PublicIPv4:InUseAddress"
	UsageIdle  = "PublicIPv4:IdleAddress"
)

// DefaultIPv4Rate is AWS's price of a public IPv4 address, in USD per hour,
// in use or idle alike.
const DefaultIPv4Rate = 0.005

// UsageInterval is a span during which one public IPv4 address was billed
// under one usage type, at one rate. An open interval (End zero) runs until
// now.
type UsageInterval struct {
	ID           string    `json:"id"` // ADDRESS-KEY/START (unix ns)
	Owner        string    `json:"owner"`
	PublicIP     string    `json:"publicIp"`
	AllocationID string    `json:"allocationId,omitempty"` // an Elastic IP's
	ENIID        string    `json:"eniId,omitempty"`        // the ENI holding it, if any
	InstanceID   string    `json:"instanceId,omitempty"`   // the instance that ENI is attached to, if any
	Type         string    `json:"type"`                   // UsageInUse | UsageIdle
	Rate         float64   `json:"rate"`                   // USD per hour
	Start        time.Time `json:"start"`
	End          time.Time `json:"end,omitzero"`
}

func (u *UsageInterval) key() string           { return u.ID }
func (u *UsageInterval) clone() *UsageInterval { c := *u; return &c }

// addressKey names the address an interval meters: an Elastic IP by its
// allocation id, an auto-assigned public IPv4 by its ENI's id.
func (u *UsageInterval) addressKey() string { return cmp.Or(u.AllocationID, u.ENIID) }

// Span returns the time of the interval inside [from, to), with an open
// interval running until now.
func (u *UsageInterval) Span(from, to, now time.Time) time.Duration {
	end := u.End
	if end.IsZero() {
		end = now
	}
	start := maxTime(u.Start, from)
	end = minTime(end, to)
	if !end.After(start) {
		return 0
	}
	return end.Sub(start)
}

// UsageType is a usage type with its region's billing code prefix
// (USE1-PublicIPv4:InUseAddress; EU- for eu-west-1). A region of one's own
// has no billing code: its name is the prefix.
func UsageType(region, typ string) string {
	if code, ok := billingCodes[region]; ok {
		return code + "-" + typ
	}
	return region + "-" + typ
}

// billingCodes are AWS's region billing codes, the prefix of usage types.
var billingCodes = map[string]string{
	"us-east-1": "USE1", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2",
	"af-south-1": "AFS1", "ap-east-1": "APE1", "ap-northeast-1": "APN1", "ap-northeast-2": "APN2",
	"ap-northeast-3": "APN3", "ap-south-1": "APS3", "ap-south-2": "APS5", "ap-southeast-1": "APS1",
	"ap-southeast-2": "APS2", "ap-southeast-3": "APS4", "ap-southeast-4": "APS6", "ap-southeast-5": "APS7",
	"ap-southeast-7": "APS9", "ca-central-1": "CAN1", "ca-west-1": "CAN2", "eu-central-1": "EUC1",
	"eu-central-2": "EUC2", "eu-north-1": "EUN1", "eu-south-1": "EUS1", "eu-south-2": "EUS2",
	"eu-west-1": "EU", "eu-west-2": "EUW2", "eu-west-3": "EUW3", "il-central-1": "ILC1",
	"me-central-1": "MEC1", "me-south-1": "MES1", "mx-central-1": "MXC1", "sa-east-1": "SAE1",
}

// usageState is what an address is billed as now.
type usageState struct {
	Owner, PublicIP, AllocationID, ENIID, InstanceID, Type string
}

// eniUsage is the usage type of a public IPv4 address on ENI e (nil: on none)
// whose attachment's instance is inst: in use on a running instance's
// attached ENI (or a task's), idle otherwise (AWS's rule and the seed's: an
// Elastic IP costs money while not associated with a running instance). An
// auto-assigned address (auto) is in use from the launch: it exists only
// while its instance is pending or running (a stop releases it), and a
// launch with a data plane stays pending until the namespace is up.
func eniUsage(e *ENI, inst *Instance, auto bool) string {
	switch {
	case e != nil && serviceInterface(e.InterfaceType):
		return UsageInUse // a NAT gateway's, a load balancer's: in use while the service exists
	case e == nil || e.Attachment == nil || e.Attachment.Status == "detaching":
		return UsageIdle
	case e.Attachment.InstanceID == "": // a task's ENI, in use while the task lives
		return UsageInUse
	case inst != nil && (inst.State == "running" || auto && inst.State == "pending"):
		return UsageInUse
	}
	return UsageIdle
}

// serviceInterface reports whether an ENI of the interface type belongs to
// an AWS service (nat_gateway, network_load_balancer, vpc_endpoint...)
// rather than to instances.
func serviceInterface(typ string) bool {
	switch typ {
	case "", "interface", "efa", "efa-only", "trunk", "branch":
		return false
	}
	return true
}

// usageNow returns what the address with key is billed as in the
// transaction's view, and false if it is not billed (released, or no public
// IPv4 on the ENI).
func (tx *Tx) usageNow(key string) (usageState, bool) {
	var st usageState
	var e *ENI
	if strings.HasPrefix(key, "eipalloc-") {
		a := tx.addresses.Get(key)
		if a == nil {
			return st, false
		}
		st = usageState{Owner: a.Owner, PublicIP: a.PublicIP, AllocationID: a.AllocationID}
		if a.ENIID != "" {
			e = tx.enis.Get(a.ENIID)
		}
	} else {
		if e = tx.enis.Get(key); e == nil || e.PublicIP == "" {
			return st, false
		}
		st = usageState{Owner: e.Owner, PublicIP: e.PublicIP}
	}
	var inst *Instance
	if e != nil {
		st.ENIID = e.ID
		if e.Attachment != nil && e.Attachment.InstanceID != "" {
			st.InstanceID = e.Attachment.InstanceID
			inst = tx.instances.Get(st.InstanceID)
		}
	}
	st.Type = eniUsage(e, inst, st.AllocationID == "")
	return st, true
}

// meterUsage brings the usage intervals of every address the transaction
// may have changed up to date: the open interval of an address whose usage
// changed is closed at the transaction's time and a new one opened.
func (tx *Tx) meterUsage() {
	keys := tx.usageTouched()
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		tx.meterAddress(k)
	}
}

// usageTouched returns the keys of the addresses whose usage the
// transaction's writes may change: Elastic IPs written, and the public
// addresses of ENIs written or attached (before or after) to instances
// written.
func (tx *Tx) usageTouched() map[string]bool {
	keys := map[string]bool{}
	for id := range tx.addresses.over {
		keys[id] = true
	}
	eni := func(id string) {
		keys[id] = true
		for aid := range tx.db.idx.eipByENI[id] {
			keys[aid] = true
		}
		for _, a := range tx.addressesOfENI(id) {
			keys[a.AllocationID] = true
		}
	}
	for id := range tx.instances.over {
		for eid := range tx.db.idx.byInstance[id] {
			eni(eid)
		}
	}
	// and every ENI the transaction wrote: with the index, all the ENIs of those
	// instances, before or after (enisOfInstance per instance would walk the
	// written ENIs once per instance: a launch of n instances, n² steps)
	for id := range tx.enis.over {
		eni(id)
	}
	return keys
}

// meterAddress closes the address's open interval if its usage changed (or
// the rate did) and opens the one it is billed under now, if any. An
// interval closed at its own start is dropped: it billed nothing.
func (tx *Tx) meterAddress(key string) {
	want, billed := tx.usageNow(key)
	var open *UsageInterval
	if id, ok := tx.db.idx.usageOpen[key]; ok {
		open = tx.usage.Get(id)
	}
	rate := tx.cfg.IPv4Rate
	if open != nil && billed && open.Rate == rate && want == (usageState{open.Owner, open.PublicIP, open.AllocationID, open.ENIID, open.InstanceID, open.Type}) {
		return
	}
	if open != nil {
		if tx.now.After(open.Start) {
			tx.usage.Mut(open.ID).End = tx.now
		} else {
			tx.usage.Delete(open.ID)
		}
	}
	if !billed {
		return
	}
	id := key + "/" + strconv.FormatInt(tx.now.UnixNano(), 10)
	for n := 1; tx.usage.Get(id) != nil; n++ { // the clock went back to an earlier interval's start
		id = fmt.Sprintf("%s/%d.%d", key, tx.now.UnixNano(), n)
	}
	tx.usage.Put(&UsageInterval{ID: id, Owner: want.Owner, PublicIP: want.PublicIP, AllocationID: want.AllocationID,
		ENIID: want.ENIID, InstanceID: want.InstanceID, Type: want.Type, Rate: rate, Start: tx.now})
}

// SettleUsage meters every address of every region at the clock's time:
// an open interval whose rate is not the configured one (the server was
// restarted with another --ipv4-rate) is closed and reopened at the new
// rate, and an address billed without an open interval (a store written
// before metering) gets one. Call it once after loading.
func (c *Core) SettleUsage(commit Committer) error {
	for _, name := range c.Regions() {
		r := c.region(name)
		wait, err := c.write(r, Caller{Account: c.cfg.DefaultAccount, Region: name}, false, commit, func(tx *Tx) error {
			keys := slices.Collect(maps.Keys(tx.db.idx.usageOpen))
			keys = append(keys, slices.Collect(maps.Keys(tx.db.addresses.rows))...)
			for id, e := range tx.db.enis.rows {
				if e.PublicIP != "" {
					keys = append(keys, id)
				}
			}
			slices.Sort(keys)
			for _, k := range slices.Compact(keys) {
				tx.meterAddress(k)
			}
			return nil
		})
		if err == nil && wait != nil {
			err = wait()
		}
		if err != nil {
			return fmt.Errorf("settle usage of %s: %w", name, err)
		}
	}
	return nil
}

// checkUsage verifies that every billed address has exactly one open
// interval, saying what the model says it is billed as now, and that the
// open-interval index is what the records say.
func (d *db) checkUsage(bad func(string, ...any)) {
	tx := &Tx{db: d, addresses: txTable[Address, *Address]{base: d.addresses}, enis: txTable[ENI, *ENI]{base: d.enis},
		instances: txTable[Instance, *Instance]{base: d.instances}}
	open := map[string]*UsageInterval{}
	for _, u := range d.usage.rows {
		if !u.End.IsZero() {
			if !u.End.After(u.Start) {
				bad("usage interval %s ends at or before its start", u.ID)
			}
			continue
		}
		if o := open[u.addressKey()]; o != nil {
			bad("usage: address %s has two open intervals, %s and %s", u.addressKey(), o.ID, u.ID)
		}
		open[u.addressKey()] = u
		if d.idx.usageOpen[u.addressKey()] != u.ID {
			bad("index: open usage interval %s is not indexed", u.ID)
		}
	}
	if len(open) != len(d.idx.usageOpen) {
		bad("index: %d open usage intervals indexed, records have %d", len(d.idx.usageOpen), len(open))
	}
	keys := slices.Collect(maps.Keys(d.addresses.rows))
	for id, e := range d.enis.rows {
		if e.PublicIP != "" {
			keys = append(keys, id)
		}
	}
	for _, k := range keys {
		want, _ := tx.usageNow(k)
		u := open[k]
		switch {
		case u == nil:
			bad("usage: address %s (%s) is billed as %s but has no open interval", k, want.PublicIP, want.Type)
		case want != (usageState{u.Owner, u.PublicIP, u.AllocationID, u.ENIID, u.InstanceID, u.Type}):
			bad("usage: address %s is billed as %+v, its open interval %s says %+v", k, want, u.ID, *u)
		}
		delete(open, k)
	}
	for k, u := range open {
		bad("usage: address %s is not billed but its interval %s is open", k, u.ID)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
