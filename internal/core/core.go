// Package core is the VPC model: every EC2 rule of ENI lives here, once.
//
// It does no I/O and reads no clock or randomness of its own: time and ids come
// from an injected Env, and every mutation is computed inside a transaction
// (Tx) whose writes become a ChangeSet that the caller persists before anyone
// is told "yes". Operations take the generated ec2wire input types and return
// their output types or an *Error carrying the EC2 error code.
package core

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Env is everything from the outside world that the core needs.
type Env struct {
	Now  func() time.Time
	Rand io.Reader // ids; crypto/rand in production, seeded in tests
}

// Config is the model's tunables.
type Config struct {
	DefaultAccount string         // the account of dev-mode requests
	AZCount        int            // availability zones per region (default 3)
	PublicPool     []netip.Prefix // public IPv4 pool for EIPs and auto-assigned addresses
	EIPQuota       int            // Elastic IPs per account and region (default 5)
	Ipv6Pool       netip.Prefix   // where VPC /56 blocks come from
	// DataPlane says a data plane realises the model: launched instances
	// then stay pending until it reports them up (MarkRealised).
	DataPlane bool
	// Cluster: hosts with agents realise the model (cluster.go); every
	// instance is placed on a live host, and stays pending until that host
	// reports it up.
	Cluster bool
	// DataPlaneRegion is the one region the data plane realises (eni serve
	// --dataplane-region); with DataPlane, launches and starts elsewhere are
	// refused (Unsupported) rather than left pending forever. "" with
	// DataPlane: every region (the tests' single-region setups).
	DataPlaneRegion string
	// Regions are the regions served (see ParseRegions); nil means AWS's
	// public partition (AWSRegions). No other region can hold state.
	Regions []string
	// IPv4Rate is the price of a public IPv4 address, in USD per hour
	// (default DefaultIPv4Rate); a usage interval keeps the rate it began at.
	IPv4Rate float64
	// PrivateIPAllocation is how a subnet's address nobody asked for is picked
	// (see allocIPv4): AllocLowest (the default) or AllocRandom, as AWS does.
	PrivateIPAllocation string
}

// DefaultConfig returns the configuration of a fresh server.
func DefaultConfig() Config {
	return Config{
		DefaultAccount: "123456789012",
		AZCount:        3,
		PublicPool:     []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")},
		EIPQuota:       5,
		IPv4Rate:       DefaultIPv4Rate,
		Ipv6Pool:       netip.MustParsePrefix("2600:1f00::/32"),
	}
}

// Core holds every region's model.
type Core struct {
	env Env
	cfg Config

	served map[string]bool // cfg.Regions

	mu      sync.Mutex
	regions map[string]*region
	skipped map[string]bool // regions found in the store but not served
	pcx     *pcxStore       // VPC peering connections, of every region (vpcpeering.go)
}

// New returns an empty core.
func New(env Env, cfg Config) *Core {
	if cfg.AZCount == 0 {
		cfg.AZCount = 3
	}
	if cfg.EIPQuota == 0 {
		cfg.EIPQuota = 5
	}
	if cfg.IPv4Rate == 0 {
		cfg.IPv4Rate = DefaultIPv4Rate
	}
	if cfg.DefaultAccount == "" {
		cfg.DefaultAccount = DefaultConfig().DefaultAccount
	}
	if !cfg.Ipv6Pool.IsValid() {
		cfg.Ipv6Pool = DefaultConfig().Ipv6Pool
	}
	if cfg.Regions == nil {
		cfg.Regions = AWSRegions()
	}
	cfg.Regions = slices.Clone(cfg.Regions)
	served := map[string]bool{}
	for _, r := range cfg.Regions {
		served[r] = true
	}
	return &Core{env: env, cfg: cfg, served: served, regions: map[string]*region{}, skipped: map[string]bool{}, pcx: newPcxStore()}
}

// Config returns the core's configuration.
func (c *Core) Config() Config { return c.cfg }

type region struct {
	mu    sync.RWMutex
	name  string
	db    *db
	hosts map[string]Host   // the live hosts of a cluster (cluster.go), by name
	known map[string]string // every host seen since start → its last underlay address
}

func (c *Core) region(name string) *region {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.regions[name]
	if r == nil {
		r = &region{name: name, db: newDB(name)}
		r.db.azs = regionAZs(name, c.cfg.AZCount)
		r.db.pcxs = c.pcx
		c.regions[name] = r
	}
	return r
}

// Regions returns the names of the regions that have state.
func (c *Core) Regions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.regions))
	for n := range c.regions {
		out = append(out, n)
	}
	return out
}

// Load puts one stored record (as written in a ChangeSet) into the model.
// Call Rebuild once all are loaded.
func (c *Core) Load(kind, key string, val []byte) error {
	reg, id, ok := cut(key)
	if !ok {
		return fmt.Errorf("load %s: bad key %q", kind, key)
	}
	if !c.keepRegion(reg) {
		return nil
	}
	return c.region(reg).db.load(kind, id, val)
}

// keepRegion reports whether records of a stored region are loaded: those of
// a region not served stay on disk, untouched, and are listed by
// SkippedRegions (a region left out of --regions, or made up by a request
// before regions were checked).
func (c *Core) keepRegion(name string) bool {
	if c.served[name] {
		return true
	}
	c.mu.Lock()
	c.skipped[name] = true
	c.mu.Unlock()
	return false
}

// SkippedRegions lists the regions whose stored records were not loaded
// because they are not served, sorted.
func (c *Core) SkippedRegions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.skipped))
	for n := range c.skipped {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// LoadFrom loads every record a store's Load yields, decoding them on all
// cores, and rebuilds the indexes. It returns the number of records.
func (c *Core) LoadFrom(load func(fn func(kind, key string, val []byte) error) error) (int, error) {
	type rec struct {
		l       loader
		id      string
		val     []byte
		decoded any
	}
	var recs []rec
	if err := load(func(kind, key string, val []byte) error {
		reg, id, ok := cut(key)
		if !ok {
			return fmt.Errorf("load %s: bad key %q", kind, key)
		}
		if !c.keepRegion(reg) {
			return nil
		}
		l, err := c.region(reg).db.loaderFor(kind)
		if err != nil {
			return err
		}
		recs = append(recs, rec{l: l, id: id, val: bytes.Clone(val)}) // the store's buffer is only valid during the call
		return nil
	}); err != nil {
		return 0, err
	}
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(recs); i += workers {
				v, err := recs[i].l.decode(recs[i].id, recs[i].val)
				if err != nil {
					errs[w] = err
					return
				}
				recs[i].decoded, recs[i].val = v, nil
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	for _, r := range recs {
		r.l.put(r.id, r.decoded)
	}
	c.Rebuild()
	return len(recs), nil
}

// Rebuild recomputes every index from the loaded records.
func (c *Core) Rebuild() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.regions {
		r.db.rebuild()
	}
}

func cut(key string) (string, string, bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return "", "", false
}

// Caller says who asks and where.
type Caller struct {
	Account string
	Region  string
}

// Committer persists a change set. It is called with the region locked, so
// change sets reach it in the order they were applied; it must not block on
// durability but return a function that waits for it.
type Committer func(ChangeSet) (wait func() error, err error)

// Read runs fn in a read-only transaction.
func (c *Core) Read(who Caller, commit Committer, fn func(*Tx) error) error {
	if err := c.CheckRegion(who.Region); err != nil {
		return err
	}
	r := c.region(who.Region)
	if err := c.ensureAccount(r, who, commit); err != nil {
		return err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	tx := c.newTx(r, who, true)
	return fn(tx)
}

// Write runs fn in a transaction. On success its changes are handed to commit,
// applied to the model and waited for; on error nothing changes. With dryRun
// the transaction is always discarded.
func (c *Core) Write(who Caller, dryRun bool, commit Committer, fn func(*Tx) error) error {
	if err := c.CheckRegion(who.Region); err != nil {
		return err
	}
	r := c.region(who.Region)
	if err := c.ensureAccount(r, who, commit); err != nil {
		return err
	}
	wait, err := c.write(r, who, dryRun, commit, fn)
	if err != nil {
		return err
	}
	if wait != nil {
		return wait()
	}
	return nil
}

func (c *Core) write(r *region, who Caller, dryRun bool, commit Committer, fn func(*Tx) error) (func() error, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tx := c.newTx(r, who, false)
	defer tx.pcxRelease()
	if err := fn(tx); err != nil {
		return nil, err
	}
	if dryRun {
		return nil, nil
	}
	return tx.commit(commit)
}

func (c *Core) ensureAccount(r *region, who Caller, commit Committer) error {
	r.mu.RLock()
	m := r.db.meta.rows["meta"]
	done := m != nil && m.Accounts[who.Account] && m.DhcpDefaults[who.Account] != "" && m.Defaults[who.Account] >= defaultsVersion
	r.mu.RUnlock()
	if done {
		return nil
	}
	wait, err := c.write(r, who, false, commit, func(tx *Tx) error { return tx.bootstrap() })
	if err != nil {
		return err
	}
	if wait != nil {
		return wait()
	}
	return nil
}
