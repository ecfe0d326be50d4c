package core

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// db is one region's committed records and the indexes derived from them.
type db struct {
	region    string
	azs       []AZ // fixed for the region's life
	meta      *table[Meta, *Meta]
	vpcs      *table[VPC, *VPC]
	subnets   *table[Subnet, *Subnet]
	groups    *table[SecurityGroup, *SecurityGroup]
	enis      *table[ENI, *ENI]
	instances *table[Instance, *Instance]
	addresses *table[Address, *Address]
	hostMemo  hostMemo // of the host view (hostmemo.go)
	igws      *table[InternetGateway, *InternetGateway]
	rtbs      *table[RouteTable, *RouteTable]
	perms     *table[Permission, *Permission]
	tokens    *table[Token, *Token]
	tasks     *table[Task, *Task]
	volumes   *table[Volume, *Volume]
	keys      *table[KeyPair, *KeyPair]
	templates *table[LaunchTemplate, *LaunchTemplate]
	dhcp      *table[DhcpOptions, *DhcpOptions]
	eigws     *table[EgressOnlyIGW, *EgressOnlyIGW]
	vgws      *table[VpnGateway, *VpnGateway]
	nats      *table[NatGateway, *NatGateway]
	usage     *table[UsageInterval, *UsageInterval]
	acls      *table[NetworkACL, *NetworkACL]
	pls       *table[PrefixList, *PrefixList]
	vpces     *table[VpcEndpoint, *VpcEndpoint]               // vpcendpoint.go
	pcxs      *pcxStore                                       // shared by every region of the core (vpcpeering.go)
	roles     *table[IAMRole, *IAMRole]                       // IAM, in IAMRegion only
	profiles  *table[IAMInstanceProfile, *IAMInstanceProfile] // IAM, in IAMRegion only
	idx       indexes
}

func newDB(region string) *db {
	d := &db{
		region:    region,
		meta:      newTable[Meta]("meta"),
		vpcs:      newTable[VPC]("vpc"),
		subnets:   newTable[Subnet]("subnet"),
		groups:    newTable[SecurityGroup]("sg"),
		enis:      newTable[ENI]("eni"),
		instances: newTable[Instance]("instance"),
		addresses: newTable[Address]("address"),
		igws:      newTable[InternetGateway]("igw"),
		rtbs:      newTable[RouteTable]("rtb"),
		perms:     newTable[Permission]("perm"),
		tokens:    newTable[Token]("token"),
		tasks:     newTable[Task]("task"),
		volumes:   newTable[Volume]("volume"),
		keys:      newTable[KeyPair]("keypair"),
		templates: newTable[LaunchTemplate]("launchtemplate"),
		dhcp:      newTable[DhcpOptions]("dopt"),
		eigws:     newTable[EgressOnlyIGW]("eigw"),
		vgws:      newTable[VpnGateway]("vgw"),
		nats:      newTable[NatGateway]("natgw"),
		usage:     newTable[UsageInterval]("usage"),
		acls:      newTable[NetworkACL]("acl"),
		pls:       newTable[PrefixList]("prefixlist"),
		vpces:     newTable[VpcEndpoint]("vpce"),
		pcxs:      newPcxStore(),
		roles:     newTable[IAMRole]("iamrole"),
		profiles:  newTable[IAMInstanceProfile]("iamprofile"),
	}
	d.enis.logWrites, d.instances.logWrites = true, true // the host view follows them (hostmemo.go)
	d.idx.init()
	return d
}

// loaderFor returns the table that holds records of kind, as a loader.
func (d *db) loaderFor(kind string) (loader, error) {
	switch kind {
	case "meta":
		return d.meta, nil
	case "vpc":
		return d.vpcs, nil
	case "subnet":
		return d.subnets, nil
	case "sg":
		return d.groups, nil
	case "eni":
		return d.enis, nil
	case "instance":
		return d.instances, nil
	case "address":
		return d.addresses, nil
	case "igw":
		return d.igws, nil
	case "rtb":
		return d.rtbs, nil
	case "perm":
		return d.perms, nil
	case "token":
		return d.tokens, nil
	case "task":
		return d.tasks, nil
	case "volume":
		return d.volumes, nil
	case "keypair":
		return d.keys, nil
	case "launchtemplate":
		return d.templates, nil
	case "dopt":
		return d.dhcp, nil
	case "eigw":
		return d.eigws, nil
	case "vgw":
		return d.vgws, nil
	case "natgw":
		return d.nats, nil
	case "usage":
		return d.usage, nil
	case "acl":
		return d.acls, nil
	case "prefixlist":
		return d.pls, nil
	case "vpce":
		return d.vpces, nil
	case "pcx":
		return d.pcxs, nil
	case "iamrole":
		return d.roles, nil
	case "iamprofile":
		return d.profiles, nil
	}
	return nil, fmt.Errorf("load: unknown kind %q", kind)
}

func (d *db) load(kind, id string, val []byte) error {
	l, err := d.loaderFor(kind)
	if err != nil {
		return err
	}
	v, err := l.decode(id, val)
	if err != nil {
		return err
	}
	l.put(id, v)
	return nil
}

// Kinds lists the record kinds a store must hold.
var Kinds = []string{"meta", "vpc", "subnet", "sg", "eni", "instance", "address", "igw", "rtb", "perm", "token", "task", "volume", "keypair", "dopt", "eigw", "usage", "acl", "prefixlist", "launchtemplate", "pcx", "iamrole", "iamprofile", "vpce", "natgw", "vgw"}

func (d *db) rebuild() {
	d.idx.init()
	for _, e := range d.enis.rows {
		d.idx.eni(nil, e)
	}
	for _, a := range d.addresses.rows {
		d.idx.address(nil, a)
	}
	for _, i := range d.instances.rows {
		d.idx.instance(nil, i)
	}
	for _, v := range d.volumes.rows {
		d.idx.volume(nil, v)
	}
	for _, u := range d.usage.rows {
		d.idx.usageInterval(nil, u)
	}
	for _, t := range d.tokens.rows {
		d.idx.tokenQueue = append(d.idx.tokenQueue, tokenAge{t.CreatedAt, t.Key})
	}
	sort.Slice(d.idx.tokenQueue, func(i, j int) bool { return d.idx.tokenQueue[i].at.Before(d.idx.tokenQueue[j].at) })
}

// Tx is one operation's view of a region: the committed state plus its own
// writes. Operations are methods on Tx.
type Tx struct {
	Caller
	now      time.Time
	env      *Env
	cfg      *Config
	db       *db
	readOnly bool
	hosts    map[string]Host   // a cluster's live hosts (cluster.go); read only
	known    map[string]string // the underlay address of every host seen (cluster.go); read only

	meta      txTable[Meta, *Meta]
	vpcs      txTable[VPC, *VPC]
	subnets   txTable[Subnet, *Subnet]
	groups    txTable[SecurityGroup, *SecurityGroup]
	enis      txTable[ENI, *ENI]
	instances txTable[Instance, *Instance]
	addresses txTable[Address, *Address]
	igws      txTable[InternetGateway, *InternetGateway]
	rtbs      txTable[RouteTable, *RouteTable]
	perms     txTable[Permission, *Permission]
	tokens    txTable[Token, *Token]
	tasks     txTable[Task, *Task]
	volumes   txTable[Volume, *Volume]
	keys      txTable[KeyPair, *KeyPair]
	templates txTable[LaunchTemplate, *LaunchTemplate]
	dhcp      txTable[DhcpOptions, *DhcpOptions]
	eigws     txTable[EgressOnlyIGW, *EgressOnlyIGW]
	vgws      txTable[VpnGateway, *VpnGateway]
	nats      txTable[NatGateway, *NatGateway]
	usage     txTable[UsageInterval, *UsageInterval]
	acls      txTable[NetworkACL, *NetworkACL]
	pls       txTable[PrefixList, *PrefixList]
	vpces     txTable[VpcEndpoint, *VpcEndpoint]
	pcxs      txTable[PeeringConnection, *PeeringConnection] // use tx.pcx()
	pcxStore  *pcxStore
	pcxHeld   bool // this write transaction holds pcxStore.mu
	roles     txTable[IAMRole, *IAMRole]
	profiles  txTable[IAMInstanceProfile, *IAMInstanceProfile]
	core      *Core // for IAM, read in IAMRegion (iaminstanceprofile.go)
}

func (c *Core) newTx(r *region, who Caller, readOnly bool) *Tx {
	d := r.db
	return &Tx{
		Caller:    who,
		now:       c.env.Now().UTC(),
		env:       &c.env,
		cfg:       &c.cfg,
		hosts:     r.hosts,
		known:     r.known,
		db:        d,
		readOnly:  readOnly,
		meta:      txTable[Meta, *Meta]{base: d.meta},
		vpcs:      txTable[VPC, *VPC]{base: d.vpcs},
		subnets:   txTable[Subnet, *Subnet]{base: d.subnets},
		groups:    txTable[SecurityGroup, *SecurityGroup]{base: d.groups},
		enis:      txTable[ENI, *ENI]{base: d.enis},
		instances: txTable[Instance, *Instance]{base: d.instances},
		addresses: txTable[Address, *Address]{base: d.addresses},
		igws:      txTable[InternetGateway, *InternetGateway]{base: d.igws},
		rtbs:      txTable[RouteTable, *RouteTable]{base: d.rtbs},
		perms:     txTable[Permission, *Permission]{base: d.perms},
		tokens:    txTable[Token, *Token]{base: d.tokens},
		tasks:     txTable[Task, *Task]{base: d.tasks},
		volumes:   txTable[Volume, *Volume]{base: d.volumes},
		keys:      txTable[KeyPair, *KeyPair]{base: d.keys},
		templates: txTable[LaunchTemplate, *LaunchTemplate]{base: d.templates},
		dhcp:      txTable[DhcpOptions, *DhcpOptions]{base: d.dhcp},
		eigws:     txTable[EgressOnlyIGW, *EgressOnlyIGW]{base: d.eigws},
		vgws:      txTable[VpnGateway, *VpnGateway]{base: d.vgws},
		nats:      txTable[NatGateway, *NatGateway]{base: d.nats},
		usage:     txTable[UsageInterval, *UsageInterval]{base: d.usage},
		acls:      txTable[NetworkACL, *NetworkACL]{base: d.acls},
		pls:       txTable[PrefixList, *PrefixList]{base: d.pls},
		vpces:     txTable[VpcEndpoint, *VpcEndpoint]{base: d.vpces},
		pcxs:      txTable[PeeringConnection, *PeeringConnection]{base: d.pcxs.snap.Load()},
		pcxStore:  d.pcxs,
		roles:     txTable[IAMRole, *IAMRole]{base: d.roles},
		profiles:  txTable[IAMInstanceProfile, *IAMInstanceProfile]{base: d.profiles},
		core:      c,
	}
}

// Now is the transaction's time.
func (tx *Tx) Now() time.Time { return tx.now }

// commit writes the transaction's changes as one change set (commit), then
// makes them visible: the tables, then the indexes of what changed.
func (tx *Tx) commit(commit Committer) (func() error, error) {
	cs, ch, err := tx.changeSet()
	if err != nil || len(cs.Changes) == 0 {
		return nil, err
	}
	var wait func() error
	if commit != nil {
		if wait, err = commit(cs); err != nil {
			return nil, err
		}
	}
	tx.applyTables()
	tx.applyIndexes(ch)
	return wait, nil
}

// indexedChanges are the changed records of the tables with indexes.
type indexedChanges struct {
	enis  []pair[ENI]
	addrs []pair[Address]
	insts []pair[Instance]
	vols  []pair[Volume]
	usage []pair[UsageInterval]
}

// changeSet gathers the transaction's changes of every table.
func (tx *Tx) changeSet() (ChangeSet, indexedChanges, error) {
	var ch indexedChanges
	tx.meterUsage() // the usage of the addresses changed goes in the same change set
	var cs ChangeSet
	name := tx.db.region
	if _, err := tx.meta.changes(name, &cs); err != nil {
		return cs, ch, err
	}
	for _, f := range []func() error{
		func() error { _, err := tx.vpcs.changes(name, &cs); return err },
		func() error { _, err := tx.subnets.changes(name, &cs); return err },
		func() error { _, err := tx.groups.changes(name, &cs); return err },
		func() error { _, err := tx.igws.changes(name, &cs); return err },
		func() error { _, err := tx.rtbs.changes(name, &cs); return err },
		func() error { _, err := tx.perms.changes(name, &cs); return err },
		func() error { _, err := tx.tokens.changes(name, &cs); return err },
		func() error { _, err := tx.tasks.changes(name, &cs); return err },
		func() error { _, err := tx.keys.changes(name, &cs); return err },
		func() error { _, err := tx.templates.changes(name, &cs); return err },
		func() error { _, err := tx.dhcp.changes(name, &cs); return err },
		func() error { _, err := tx.eigws.changes(name, &cs); return err },
		func() error { _, err := tx.vgws.changes(name, &cs); return err },
		func() error { _, err := tx.nats.changes(name, &cs); return err },
		func() error { _, err := tx.acls.changes(name, &cs); return err },
		func() error { _, err := tx.pls.changes(name, &cs); return err },
		func() error { _, err := tx.vpces.changes(name, &cs); return err },
		func() error { return tx.pcxChanges(&cs) },
		func() error { _, err := tx.roles.changes(name, &cs); return err },
		func() error { _, err := tx.profiles.changes(name, &cs); return err },
	} {
		if err := f(); err != nil {
			return cs, ch, err
		}
	}
	var err error
	ch.enis, err = tx.enis.changes(name, &cs)
	if err != nil {
		return cs, ch, err
	}
	ch.addrs, err = tx.addresses.changes(name, &cs)
	if err != nil {
		return cs, ch, err
	}
	ch.insts, err = tx.instances.changes(name, &cs)
	if err != nil {
		return cs, ch, err
	}
	ch.vols, err = tx.volumes.changes(name, &cs)
	if err != nil {
		return cs, ch, err
	}
	ch.usage, err = tx.usage.changes(name, &cs)
	if err != nil {
		return cs, ch, err
	}
	return cs, ch, nil
}

// applyTables makes every table's changes visible (committed, or queued in order).
func (tx *Tx) applyTables() {
	tx.meta.apply()
	tx.vpcs.apply()
	tx.subnets.apply()
	tx.groups.apply()
	tx.igws.apply()
	tx.rtbs.apply()
	tx.perms.apply()
	for key, t := range tx.tokens.over {
		if t != nil {
			tx.db.idx.tokenQueue = append(tx.db.idx.tokenQueue, tokenAge{t.CreatedAt, key})
		}
	}
	tx.tokens.apply()
	tx.db.idx.popTokens(tx.db.tokens)
	tx.tasks.apply()
	tx.keys.apply()
	tx.templates.apply()
	tx.dhcp.apply()
	tx.eigws.apply()
	tx.vgws.apply()
	tx.nats.apply()
	tx.acls.apply()
	tx.pls.apply()
	tx.vpces.apply()
	tx.pcxApply()
	tx.roles.apply()
	tx.profiles.apply()
	tx.enis.apply()
	tx.addresses.apply()
	tx.instances.apply()
	tx.volumes.apply()
	tx.usage.apply()
}

// applyIndexes updates the derived indexes for the changed records.
func (tx *Tx) applyIndexes(ch indexedChanges) {
	for _, p := range ch.enis {
		tx.db.idx.eni(p.old, p.new)
	}
	for _, p := range ch.addrs {
		tx.db.idx.address(p.old, p.new)
	}
	for _, p := range ch.insts {
		tx.db.idx.instance(p.old, p.new)
	}
	for _, p := range ch.vols {
		tx.db.idx.volume(p.old, p.new)
	}
	for _, p := range ch.usage {
		tx.db.idx.usageInterval(p.old, p.new)
	}
}

// indexes are derived from the records and never stored.
type indexes struct {
	ipv4         map[string]map[netip.Addr]string          // subnet -> address -> ENI
	ipv6         map[string]map[netip.Addr]string          // subnet -> address -> ENI
	ipv4Prefix   map[string]map[netip.Prefix]string        // subnet -> delegated /28 -> ENI
	ipv6Prefix   map[string]map[netip.Prefix]string        // subnet -> delegated /80 -> ENI
	public       map[netip.Addr]string                     // public IPv4 -> allocation id or ENI id
	bySubnet     map[string]map[string]struct{}            // subnet -> ENIs
	byInstance   map[string]map[string]struct{}            // instance -> attached ENIs
	byAttachment map[string]string                         // attachment id -> ENI
	eipByAssoc   map[string]string                         // EIP association id -> allocation id
	eipByENI     map[string]map[string]struct{}            // ENI -> allocation ids associated with it
	cursor       map[string]uint32                         // subnet -> where the next IPv4 search starts
	tokenQueue   []tokenAge                                // ClientTokens, oldest first (entries may be stale)
	eniByTag     map[string]map[string]map[string]struct{} // tag key -> value -> ENIs
	volByInst    map[string]map[string]struct{}            // instance -> attached volumes
	usageOpen    map[string]string                         // address key -> its open usage interval
	// pending and attaching are the instances still pending and the ENIs whose
	// attachment is still attaching: what a data plane's write-back may change
	// (MarkRealised), found without walking every instance and ENI it realised.
	pending   map[string]struct{}
	attaching map[string]struct{}
}

// popTokens drops the queue's head entries whose token is gone or newer.
func (x *indexes) popTokens(t *table[Token, *Token]) {
	n := 0
	for n < len(x.tokenQueue) {
		h := x.tokenQueue[n]
		if cur := t.rows[h.key]; cur != nil && cur.CreatedAt.Equal(h.at) {
			break
		}
		n++
	}
	if n > 0 {
		x.tokenQueue = x.tokenQueue[n:]
	}
}

func (x *indexes) init() {
	x.ipv4 = map[string]map[netip.Addr]string{}
	x.ipv6 = map[string]map[netip.Addr]string{}
	x.ipv4Prefix = map[string]map[netip.Prefix]string{}
	x.ipv6Prefix = map[string]map[netip.Prefix]string{}
	x.public = map[netip.Addr]string{}
	x.bySubnet = map[string]map[string]struct{}{}
	x.byInstance = map[string]map[string]struct{}{}
	x.byAttachment = map[string]string{}
	x.eipByAssoc = map[string]string{}
	x.eipByENI = map[string]map[string]struct{}{}
	x.cursor = map[string]uint32{}
	x.eniByTag = map[string]map[string]map[string]struct{}{}
	x.volByInst = map[string]map[string]struct{}{}
	x.usageOpen = map[string]string{}
	x.pending = map[string]struct{}{}
	x.attaching = map[string]struct{}{}
}

// eniTags updates the tag index of ENI id from its old to its new tags.
func (x *indexes) eniTags(id string, old, new Tags) {
	for k, v := range old {
		if nv, ok := new[k]; ok && nv == v {
			continue
		}
		if vals := x.eniByTag[k]; vals != nil {
			delFrom(vals, v, id)
			if len(vals) == 0 {
				delete(x.eniByTag, k)
			}
		}
	}
	for k, v := range new {
		if ov, ok := old[k]; ok && ov == v {
			continue
		}
		vals := x.eniByTag[k]
		if vals == nil {
			vals = map[string]map[string]struct{}{}
			x.eniByTag[k] = vals
		}
		addTo(vals, v, id)
	}
}

// indexPrefixes records ENI id as the holder of its delegated prefixes.
func indexPrefixes(m map[string]map[netip.Prefix]string, subnet, id string, prefixes []string) {
	if len(prefixes) == 0 {
		return
	}
	mp := m[subnet]
	if mp == nil {
		mp = map[netip.Prefix]string{}
		m[subnet] = mp
	}
	for _, s := range prefixes {
		if pf, err := netip.ParsePrefix(s); err == nil {
			mp[pf] = id
		}
	}
}

// unindexPrefixes forgets the prefixes ENI id held.
func unindexPrefixes(m map[string]map[netip.Prefix]string, subnet, id string, prefixes []string) {
	for _, s := range prefixes {
		if pf, err := netip.ParsePrefix(s); err == nil {
			if mp := m[subnet]; mp != nil && mp[pf] == id {
				delete(mp, pf)
			}
		}
	}
}

func addTo(m map[string]map[string]struct{}, k, v string) {
	s := m[k]
	if s == nil {
		s = map[string]struct{}{}
		m[k] = s
	}
	s[v] = struct{}{}
}

func delFrom(m map[string]map[string]struct{}, k, v string) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

func (x *indexes) eni(old, new *ENI) {
	if old != nil {
		delete(x.attaching, old.ID)
	}
	if new != nil && new.Attachment != nil && new.Attachment.Status == "attaching" {
		x.attaching[new.ID] = struct{}{}
	}
	switch {
	case old != nil && new != nil && old.ID == new.ID:
		x.eniTags(new.ID, old.Tags, new.Tags)
	default:
		if old != nil {
			x.eniTags(old.ID, old.Tags, nil)
		}
		if new != nil {
			x.eniTags(new.ID, nil, new.Tags)
		}
	}
	if old != nil {
		for _, p := range old.PrivateIPs {
			if a, err := netip.ParseAddr(p.Address); err == nil {
				if m := x.ipv4[old.SubnetID]; m != nil && m[a] == old.ID {
					delete(m, a)
				}
			}
		}
		for _, s := range old.IPv6 {
			if a, err := netip.ParseAddr(s); err == nil {
				if m := x.ipv6[old.SubnetID]; m != nil && m[a] == old.ID {
					delete(m, a)
				}
			}
		}
		unindexPrefixes(x.ipv4Prefix, old.SubnetID, old.ID, old.IPv4Prefixes)
		unindexPrefixes(x.ipv6Prefix, old.SubnetID, old.ID, old.IPv6Prefixes)
		if old.PublicIP != "" {
			if a, err := netip.ParseAddr(old.PublicIP); err == nil && x.public[a] == old.ID {
				delete(x.public, a)
			}
		}
		delFrom(x.bySubnet, old.SubnetID, old.ID)
		if old.Attachment != nil {
			if old.Attachment.InstanceID != "" { // "" = a task's host
				delFrom(x.byInstance, old.Attachment.InstanceID, old.ID)
			}
			if x.byAttachment[old.Attachment.ID] == old.ID {
				delete(x.byAttachment, old.Attachment.ID)
			}
		}
	}
	if new != nil {
		m := x.ipv4[new.SubnetID]
		if m == nil {
			m = map[netip.Addr]string{}
			x.ipv4[new.SubnetID] = m
		}
		for _, p := range new.PrivateIPs {
			if a, err := netip.ParseAddr(p.Address); err == nil {
				m[a] = new.ID
			}
		}
		if len(new.IPv6) > 0 {
			m6 := x.ipv6[new.SubnetID]
			if m6 == nil {
				m6 = map[netip.Addr]string{}
				x.ipv6[new.SubnetID] = m6
			}
			for _, s := range new.IPv6 {
				if a, err := netip.ParseAddr(s); err == nil {
					m6[a] = new.ID
				}
			}
		}
		indexPrefixes(x.ipv4Prefix, new.SubnetID, new.ID, new.IPv4Prefixes)
		indexPrefixes(x.ipv6Prefix, new.SubnetID, new.ID, new.IPv6Prefixes)
		if new.PublicIP != "" {
			if a, err := netip.ParseAddr(new.PublicIP); err == nil {
				x.public[a] = new.ID
			}
		}
		addTo(x.bySubnet, new.SubnetID, new.ID)
		if new.Attachment != nil {
			if new.Attachment.InstanceID != "" {
				addTo(x.byInstance, new.Attachment.InstanceID, new.ID)
			}
			x.byAttachment[new.Attachment.ID] = new.ID
		}
	}
}

func (x *indexes) address(old, new *Address) {
	if old != nil {
		if a, err := netip.ParseAddr(old.PublicIP); err == nil && x.public[a] == old.AllocationID {
			delete(x.public, a)
		}
		if old.AssociationID != "" && x.eipByAssoc[old.AssociationID] == old.AllocationID {
			delete(x.eipByAssoc, old.AssociationID)
		}
		if old.ENIID != "" {
			delFrom(x.eipByENI, old.ENIID, old.AllocationID)
		}
	}
	if new != nil {
		if a, err := netip.ParseAddr(new.PublicIP); err == nil {
			x.public[a] = new.AllocationID
		}
		if new.AssociationID != "" {
			x.eipByAssoc[new.AssociationID] = new.AllocationID
		}
		if new.ENIID != "" {
			addTo(x.eipByENI, new.ENIID, new.AllocationID)
		}
	}
}

func (x *indexes) instance(old, new *Instance) {
	if old != nil {
		delete(x.pending, old.ID)
	}
	if new != nil && new.State == "pending" {
		x.pending[new.ID] = struct{}{}
	}
}

func (x *indexes) usageInterval(old, new *UsageInterval) {
	if old != nil && old.End.IsZero() && x.usageOpen[old.addressKey()] == old.ID {
		delete(x.usageOpen, old.addressKey())
	}
	if new != nil && new.End.IsZero() {
		x.usageOpen[new.addressKey()] = new.ID
	}
}

func (x *indexes) volume(old, new *Volume) {
	if old != nil && old.Attachment != nil {
		delFrom(x.volByInst, old.Attachment.InstanceID, old.ID)
	}
	if new != nil && new.Attachment != nil {
		addTo(x.volByInst, new.Attachment.InstanceID, new.ID)
	}
}

// Token returns the remembered reply for an idempotency key, or nil.

// TokenLifetime is how long a ClientToken is remembered. AWS keeps them
// "at least 24 hours"; a retry later than that creates a new resource.
const TokenLifetime = 24 * time.Hour

// Token returns the remembered reply for an idempotency key, or nil when
// there is none or it has expired.
func (tx *Tx) Token(key string) *Token {
	t := tx.tokens.Get(key)
	if t == nil || (!t.CreatedAt.IsZero() && tx.now.Sub(t.CreatedAt) > TokenLifetime) {
		return nil
	}
	if t.Deflated {
		var r io.ReadCloser
		switch t.Dict {
		case 0:
			r = flate.NewReader(bytes.NewReader(t.Output))
		case 1:
			r = flate.NewReaderDict(bytes.NewReader(t.Output), []byte(tokenDictV1))
		default:
			return nil // a dictionary this build does not know: treat as unknown
		}
		out, err := io.ReadAll(r)
		if err != nil {
			return nil // unreadable: treat as unknown (the request runs again)
		}
		c := t.clone()
		c.Output, c.Deflated, c.Dict = out, false, 0
		return c
	}
	return t
}

// PutToken remembers a reply for an idempotency key, and forgets a few
// expired ones (oldest first) so that tokens do not pile up: every
// SDK-created ENI carries one. It keeps a compressed copy of t.Output, not
// t.Output itself.
func (tx *Tx) PutToken(t *Token) {
	t.CreatedAt = tx.now
	if !t.Deflated {
		t.Output, t.Deflated, t.Dict = deflate(t.Output), true, 1
	}
	tx.tokens.Put(t)
	q := tx.db.idx.tokenQueue
	for i := 0; i < len(q) && i < 8; i++ {
		if tx.now.Sub(q[i].at) <= TokenLifetime {
			break
		}
		if old := tx.tokens.Get(q[i].key); old != nil && old.CreatedAt.Equal(q[i].at) {
			tx.tokens.Delete(q[i].key)
		}
	}
}

// deflaters are reused: a flate.Writer holds about 1 MB of state, and one
// per create was most of a busy server's garbage.
var deflaters = sync.Pool{New: func() any {
	// Level 2: BestSpeed ignores a preset dictionary; 2 uses it at the
	// same speed (about 20 µs for a CreateNetworkInterface reply).
	w, _ := flate.NewWriterDict(nil, 2, []byte(tokenDictV1)) // 2 is a valid level
	return w
}}

// deflate returns b compressed with tokenDictV1, in a slice of its own
// exact size (a token lives for a day; spare capacity would be kept as
// long).
func deflate(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/4 + 64)
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&buf)
	_, _ = w.Write(b) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	deflaters.Put(w)
	return bytes.Clone(buf.Bytes())
}

// tokenAge is an entry of the queue of tokens by age.
type tokenAge struct {
	at  time.Time
	key string
}
