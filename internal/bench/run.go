package bench

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// scenario is one measured workload.
type scenario struct {
	// setup prepares what op needs (memoized across scenarios).
	setup func(b *bench, ctx context.Context) error
	// op makes one API call.
	op func(b *bench, ctx context.Context, w *worker) error
}

var scenarios map[string]scenario

func init() {
	scenarios = readScenarios()
	for name, sc := range writeScenarios() {
		scenarios[name] = sc
	}
}

// readScenarios are the scenarios that only read: a noop and DescribeNetworkInterfaces
// by id and by filter.
func readScenarios() map[string]scenario {
	return map[string]scenario{
		"noop": {
			op: func(b *bench, ctx context.Context, w *worker) error {
				_, err := b.c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
				return err
			},
		},
		"describe-by-id": {
			setup: (*bench).population,
			op: func(b *bench, ctx context.Context, w *worker) error {
				id := b.pop[w.rng.intn(len(b.pop))]
				out, err := b.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
				if err == nil && len(out.NetworkInterfaces) != 1 {
					return errUnexpected
				}
				return err
			},
		},
		"describe-filter-subnet": {
			setup: (*bench).population,
			op: func(b *bench, ctx context.Context, w *worker) error {
				return b.describeFilter(ctx, "subnet-id", b.probeSubnet, min(groupSize, len(b.pop)))
			},
		},
		"describe-filter-tag": {
			setup: (*bench).population,
			op: func(b *bench, ctx context.Context, w *worker) error {
				want := groupSize
				if len(b.pop) < groupSize {
					want = len(b.pop)
				}
				return b.describeFilter(ctx, "tag:"+tagGroup, b.group(w.rng.intn(b.groups)), want)
			},
		},
		"describe-filter-instance": {
			setup: (*bench).instancesStep,
			op: func(b *bench, ctx context.Context, w *worker) error {
				inst := b.instances[w.rng.intn(len(b.instances))]
				return b.describeFilter(ctx, "attachment.instance-id", inst, -1)
			},
		},
	}
}

// writeScenarios are the scenarios that change the model: creating interfaces,
// assigning addresses, attaching and detaching, and a mix of everything.
func writeScenarios() map[string]scenario {
	return map[string]scenario{
		"create-eni": {
			setup: (*bench).createSubnetStep,
			op: func(b *bench, ctx context.Context, w *worker) error {
				out, err := b.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
					SubnetId:          aws.String(b.createSubnet),
					TagSpecifications: b.tags(types.ResourceTypeNetworkInterface),
				})
				if err != nil {
					return err
				}
				b.mu.Lock()
				b.created = append(b.created, aws.ToString(out.NetworkInterface.NetworkInterfaceId))
				b.mu.Unlock()
				return nil
			},
		},
		"assign-ip": {
			setup: (*bench).workerENIs,
			op: func(b *bench, ctx context.Context, w *worker) error {
				if w.extraIP == "" {
					out, err := b.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{
						NetworkInterfaceId: aws.String(w.eni), SecondaryPrivateIpAddressCount: aws.Int32(1)})
					if err != nil {
						return err
					}
					if len(out.AssignedPrivateIpAddresses) != 1 {
						return errUnexpected
					}
					w.extraIP = aws.ToString(out.AssignedPrivateIpAddresses[0].PrivateIpAddress)
					return nil
				}
				_, err := b.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{
					NetworkInterfaceId: aws.String(w.eni), PrivateIpAddresses: []string{w.extraIP}})
				if err == nil {
					w.extraIP = ""
				}
				return err
			},
		},
		"attach-detach": {
			setup: func(b *bench, ctx context.Context) error {
				if err := b.workerENIs(ctx); err != nil {
					return err
				}
				return b.instancesStep(ctx)
			},
			op: func(b *bench, ctx context.Context, w *worker) error {
				if w.attachment == "" {
					out, err := b.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{
						NetworkInterfaceId: aws.String(w.eni), InstanceId: aws.String(w.instance), DeviceIndex: aws.Int32(1)})
					if err != nil {
						return err
					}
					w.attachment = aws.ToString(out.AttachmentId)
					return nil
				}
				_, err := b.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(w.attachment)})
				if err == nil {
					w.attachment = ""
				}
				return err
			},
		},
		"mixed": {
			setup: func(b *bench, ctx context.Context) error {
				for name, wgt := range b.cfg.Mix {
					if s := scenarios[name]; wgt > 0 && s.setup != nil {
						if err := s.setup(b, ctx); err != nil {
							return err
						}
					}
				}
				return nil
			},
			op: func(b *bench, ctx context.Context, w *worker) error {
				return scenarios[b.pickMix(w)].op(b, ctx, w)
			},
		},
	}
}

var errUnexpected = errors.New("unexpected reply")

// describeFilter calls DescribeNetworkInterfaces with one filter and checks
// the number of ENIs when want >= 0.
func (b *bench) describeFilter(ctx context.Context, name, value string, want int) error {
	out, err := b.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String(name), Values: []string{value}}}})
	if err != nil {
		return err
	}
	if want >= 0 && len(out.NetworkInterfaces) != want {
		return errUnexpected
	}
	if want < 0 && len(out.NetworkInterfaces) == 0 {
		return errUnexpected
	}
	return nil
}

// pickMix draws a scenario of the mix by weight.
func (b *bench) pickMix(w *worker) string {
	total := 0
	for _, n := range scenarioOrder {
		total += b.cfg.Mix[n]
	}
	r := w.rng.intn(total)
	for _, n := range scenarioOrder {
		if r < b.cfg.Mix[n] {
			return n
		}
		r -= b.cfg.Mix[n]
	}
	return "noop"
}

// runAll runs the configured scenarios in order.
func (b *bench) runAll(ctx context.Context) []Result {
	var results []Result
	var noop float64
	for _, name := range b.cfg.Scenarios {
		if ctx.Err() != nil {
			break
		}
		r := b.runScenario(ctx, name)
		if name == "noop" && r.Skipped == "" && r.Unsupported == "" {
			noop = r.OpsPerSec
		}
		if noop > 0 && r.OpsPerSec > 0 {
			r.XNoop = round3(noop / r.OpsPerSec)
		}
		results = append(results, r)
	}
	return results
}

// runScenario sets up and measures one scenario.
func (b *bench) runScenario(ctx context.Context, name string) Result {
	sc := scenarios[name]
	res := Result{Scenario: name, Concurrency: b.cfg.Concurrency, Population: b.cfg.Population}
	if sc.setup != nil {
		if err := sc.setup(b, ctx); err != nil {
			res.Skipped = "setup failed: " + err.Error()
			b.progress("%s: skipped (%s)", name, res.Skipped)
			b.progressEnd()
			return res
		}
	}
	res.Population = b.cfg.Population // with --reuse, the kept population's size
	b.warmUp(ctx)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &scenarioRun{b: b, sc: sc, ctx: runCtx, cancel: cancel, codes: map[string]int64{}, firsts: map[string]string{},
		lat: make([][]time.Duration, len(b.workers)), srv: make([][]time.Duration, len(b.workers))}
	r.remaining.Store(int64(b.cfg.Count))
	start := time.Now()
	r.deadline = start.Add(b.cfg.Duration)
	var wg sync.WaitGroup
	for i, w := range b.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(i, w)
		}()
	}
	stop := make(chan struct{})
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		r.reportProgress(name, stop)
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	pwg.Wait()

	r.summarise(&res, elapsed)
	b.progress("%s: %d ops in %.1fs, %.0f/s, p50 %.2f ms, p99 %.2f ms, %d errors",
		name, res.Count, elapsed.Seconds(), res.OpsPerSec, res.P50, res.P99, res.Errors)
	b.progressEnd()
	b.settle(context.WithoutCancel(ctx))
	return res
}

// warmUp warms the connections up (untimed): one noop per worker.
func (b *bench) warmUp(ctx context.Context) {
	var wg sync.WaitGroup
	for range b.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		}()
	}
	wg.Wait()
}

// scenarioRun is one measured run of a scenario: its workers' counts,
// latencies (client-side and, where the reply carried it, the server's) and
// errors by code.
type scenarioRun struct {
	b        *bench
	sc       scenario
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time

	total, failed, remaining atomic.Int64
	lat, srv                 [][]time.Duration // per worker

	mu          sync.Mutex
	codes       map[string]int64
	firsts      map[string]string
	unsupported string
}

// worker runs the scenario's operation until the count or the duration is
// spent (or the run is cancelled), keeping worker i's latencies.
func (r *scenarioRun) worker(i int, w *worker) {
	l := make([]time.Duration, 0, 1024)
	var sl []time.Duration
	var st serverTime
	opCtx := withServerTime(r.ctx, &st)
	for r.ctx.Err() == nil {
		if r.b.cfg.Count > 0 {
			if r.remaining.Add(-1) < 0 {
				break
			}
		} else if time.Now().After(r.deadline) {
			break
		}
		st = serverTime{}
		t0 := time.Now()
		err := r.sc.op(r.b, opCtx, w)
		d := time.Since(t0)
		r.total.Add(1)
		if err == nil {
			l = append(l, d)
			if st.ok {
				sl = append(sl, st.d)
			}
			continue
		}
		if r.ctx.Err() != nil {
			r.total.Add(-1) // interrupted, not an error of the endpoint
			break
		}
		r.fail(err)
	}
	r.lat[i], r.srv[i] = l, sl
}

// fail counts an operation's error by code, keeping the first message of
// each; an action the endpoint lacks stops the run.
func (r *scenarioRun) fail(err error) {
	r.failed.Add(1)
	key, inv := opError(err)
	if errors.Is(err, errUnexpected) {
		key = "unexpected reply"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes[key]++
	if _, ok := r.firsts[key]; !ok {
		r.firsts[key] = shortErr(err)
	}
	if inv && r.unsupported == "" {
		r.unsupported = key
		r.cancel() // the endpoint lacks the action: stop now
	}
}

// reportProgress prints the run's operations, rate and errors every second
// until stop closes.
func (r *scenarioRun) reportProgress(name string, stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			n := r.total.Load()
			r.b.progress("%s: %d ops, %d/s, %d errors", name, n, n-last, r.failed.Load())
			last = n
		}
	}
}

// summarise fills res with the run's counts, rate, percentiles and errors.
func (r *scenarioRun) summarise(res *Result, elapsed time.Duration) {
	var all []time.Duration
	for _, l := range r.lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	res.Count = r.total.Load()
	res.Errors = r.failed.Load()
	res.Seconds = round3(elapsed.Seconds())
	if elapsed > 0 {
		res.OpsPerSec = round3(float64(len(all)) / elapsed.Seconds())
	}
	res.P50 = ms(percentile(all, 0.50))
	res.P90 = ms(percentile(all, 0.90))
	res.P99 = ms(percentile(all, 0.99))
	if len(all) > 0 {
		res.Max = ms(all[len(all)-1])
	}
	var server []time.Duration
	for _, l := range r.srv {
		server = append(server, l...)
	}
	// Only when every measured call carried a server time: a partial set
	// would not describe the same calls.
	if len(server) > 0 && len(server) == len(all) {
		slices.Sort(server)
		res.ServerP50 = ms(percentile(server, 0.50))
		res.ServerP99 = ms(percentile(server, 0.99))
	}
	if len(r.codes) > 0 {
		res.ErrorCodes = r.codes
		res.firstErr = r.firsts
	}
	res.Unsupported = r.unsupported
}

// fastRand is a per-worker xorshift generator (no locking, no allocation).
type fastRand struct{ s uint64 }

func newFastRand(seed uint64) *fastRand {
	if seed == 0 {
		seed = 1
	}
	return &fastRand{s: seed}
}

func (r *fastRand) next() uint64 {
	r.s ^= r.s << 13
	r.s ^= r.s >> 7
	r.s ^= r.s << 17
	return r.s
}

// intn returns a number in [0, n) (0 when n <= 0).
func (r *fastRand) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.next() % uint64(n))
}
