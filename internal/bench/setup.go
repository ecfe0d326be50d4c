package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

const (
	tagRun        = "eni-bench-run"
	tagGroup      = "eni-bench-group"
	groupSize     = 100    // ENIs per tag group and in the probe subnet
	perSubnet     = 65_531 // usable addresses of a /16 (AWS reserves 5)
	fallbackImage = "ami-0a3c3a20c09d6f377"
)

// worker is one concurrent client loop and the resources it owns.
type worker struct {
	id         int
	eni        string // the worker's own ENI (in the side subnet)
	instance   string // the worker's own instance (in the side subnet)
	attachment string // attachment of eni to instance; "" when detached
	extraIP    string // secondary address added by assign-ip; "" when none
	rng        *fastRand
}

// bench is the state of one run: what setup created and what the
// scenarios use.
type bench struct {
	cfg    *Config
	c      *ec2.Client
	runID  string
	stderr io.Writer
	tty    bool

	steps map[string]*stepResult

	vpcs         []string // in creation order
	subnets      []string // in creation order
	sideSubnet   string   // workers' ENIs and instances
	probeSubnet  string   // the first min(100, N) population ENIs
	createSubnet string   // ENIs of create-eni
	pop          []string // population ENI ids
	groups       int      // tag groups of exactly groupSize ENIs (>= 1 when N > 0)
	workers      []*worker
	instances    []string

	mu      sync.Mutex
	created []string // ENIs created by create-eni (deleted at cleanup)

	// reused: the population, its VPCs and subnets come from a kept run
	// (--reuse); they are not in vpcs/subnets and cleanup leaves them.
	reused bool
}

type stepResult struct{ err error }

func newBench(cfg *Config, stderr io.Writer) (*bench, error) {
	conns := cfg.Concurrency
	if conns < setupConcurrency {
		conns = setupConcurrency
	}
	c, err := newClient(cfg, conns*2)
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, c: c, runID: newRunID(), stderr: stderr, steps: map[string]*stepResult{}}
	if cfg.Reuse != "" {
		b.runID, b.reused = cfg.Reuse, true
	}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	for i := 0; i < cfg.Concurrency; i++ {
		b.workers = append(b.workers, &worker{id: i, rng: newFastRand(uint64(i)*0x9e3779b97f4a7c15 + 1)})
	}
	return b, nil
}

// setupConcurrency is the minimum number of concurrent calls of setup and
// cleanup (populating 100k ENIs one at a time would take too long).
const setupConcurrency = 32

// progress prints a progress line on stderr: rewritten in place on a
// terminal, one line per call otherwise.
func (b *bench) progress(format string, args ...any) {
	if b.tty {
		fmt.Fprintf(b.stderr, "\r\033[K"+format, args...)
	} else {
		fmt.Fprintf(b.stderr, format+"\n", args...)
	}
}

// progressEnd ends a sequence of progress lines.
func (b *bench) progressEnd() {
	if b.tty {
		fmt.Fprint(b.stderr, "\n")
	}
}

// opError describes an API error as "Operation: code".
func opError(err error) (key string, invalidAction bool) {
	op := ""
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		op = oe.OperationName
	}
	code := ""
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae):
		code = ae.ErrorCode()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		code = "canceled"
	default:
		code = "transport error"
	}
	if op == "" {
		return code, code == "InvalidAction"
	}
	return op + ": " + code, code == "InvalidAction"
}

// stepErr wraps a setup error so the report says which call failed.
func stepErr(what string, err error) error {
	key, _ := opError(err)
	return fmt.Errorf("%s: %s (%v)", what, key, shortErr(err))
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.Index(s, "api error "); i >= 0 {
		s = s[i+len("api error "):]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// need runs a setup step once and remembers its outcome.
func (b *bench) need(ctx context.Context, name string, fn func(context.Context) error) error {
	if r, ok := b.steps[name]; ok {
		return r.err
	}
	err := fn(ctx)
	b.steps[name] = &stepResult{err: err}
	return err
}

func (b *bench) tags(kind types.ResourceType, extra ...types.Tag) []types.TagSpecification {
	t := append([]types.Tag{
		{Key: aws.String(tagRun), Value: aws.String(b.runID)},
	}, extra...)
	if kind != types.ResourceTypeNetworkInterface {
		t = append(t, types.Tag{Key: aws.String("Name"), Value: aws.String("eni-bench-" + b.runID)})
	}
	return []types.TagSpecification{{ResourceType: kind, Tags: t}}
}

// newVPC creates a /16 VPC and returns its id.
func (b *bench) newVPC(ctx context.Context, cidr string) (string, error) {
	out, err := b.c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr), TagSpecifications: b.tags(types.ResourceTypeVpc)})
	if err != nil {
		return "", stepErr("create VPC "+cidr, err)
	}
	id := aws.ToString(out.Vpc.VpcId)
	b.vpcs = append(b.vpcs, id)
	return id, nil
}

func (b *bench) newSubnet(ctx context.Context, vpc, cidr, az string) (string, error) {
	in := &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr), TagSpecifications: b.tags(types.ResourceTypeSubnet)}
	if az != "" {
		in.AvailabilityZone = aws.String(az)
	}
	out, err := b.c.CreateSubnet(ctx, in)
	if err != nil {
		return "", stepErr("create subnet "+cidr, err)
	}
	id := aws.ToString(out.Subnet.SubnetId)
	b.subnets = append(b.subnets, id)
	return id, nil
}

// base creates VPC 10.0.0.0/16 with the side subnet (10.0.0.0/20: one ENI
// and one instance per worker) and the probe subnet (10.0.16.0/24: the
// first 100 population ENIs, for describe-filter-subnet).
func (b *bench) base(ctx context.Context) error {
	if b.reused {
		return b.need(ctx, "base", b.findKept)
	}
	return b.need(ctx, "base", func(ctx context.Context) error {
		vpc, err := b.newVPC(ctx, "10.0.0.0/16")
		if err != nil {
			return err
		}
		if b.sideSubnet, err = b.newSubnet(ctx, vpc, "10.0.0.0/20", ""); err != nil {
			return err
		}
		b.probeSubnet, err = b.newSubnet(ctx, vpc, "10.0.16.0/24", "")
		return err
	})
}

// createSubnetStep creates VPC 10.1.0.0/16 and its /16 subnet for create-eni.
func (b *bench) createSubnetStep(ctx context.Context) error {
	return b.need(ctx, "create-subnet", func(ctx context.Context) error {
		vpc, err := b.newVPC(ctx, "10.1.0.0/16")
		if err != nil {
			return err
		}
		b.createSubnet, err = b.newSubnet(ctx, vpc, "10.1.0.0/16", "")
		return err
	})
}

// population creates the N population ENIs: the first min(100, N) in the
// probe subnet, the others in /16 subnets of VPCs 10.2.0.0/16, 10.3.0.0/16...
// (one per 65,531 ENIs). ENI i is tagged eni-bench-group=<run>-g<i/100>.
func (b *bench) population(ctx context.Context) error {
	if err := b.base(ctx); err != nil {
		return err
	}
	if b.reused {
		return nil // found by base
	}
	return b.need(ctx, "population", func(ctx context.Context) error {
		n := b.cfg.Population
		if n == 0 {
			return errors.New("--population is 0")
		}
		bulk := max(0, n-groupSize)
		nsub := (bulk + perSubnet - 1) / perSubnet
		if nsub > 250 {
			return fmt.Errorf("--population %d needs more than 250 /16 subnets", n)
		}
		var subnets []string
		for k := 0; k < nsub; k++ {
			cidr := fmt.Sprintf("10.%d.0.0/16", 2+k)
			vpc, err := b.newVPC(ctx, cidr)
			if err != nil {
				return err
			}
			s, err := b.newSubnet(ctx, vpc, cidr, "")
			if err != nil {
				return err
			}
			subnets = append(subnets, s)
		}
		b.groups = max(1, n/groupSize)
		b.pop = make([]string, n)
		subnetOf := func(i int) string {
			if i < groupSize {
				return b.probeSubnet
			}
			return subnets[(i-groupSize)/perSubnet]
		}
		err := b.parallel(ctx, n, "populating", func(ctx context.Context, i int) error {
			in := &ec2.CreateNetworkInterfaceInput{
				SubnetId:    aws.String(subnetOf(i)),
				Description: aws.String("eni bench population"),
				TagSpecifications: b.tags(types.ResourceTypeNetworkInterface,
					types.Tag{Key: aws.String(tagGroup), Value: aws.String(b.group(i / groupSize))}),
			}
			var err error
			for try := 0; try < 3; try++ {
				var out *ec2.CreateNetworkInterfaceOutput
				out, err = b.c.CreateNetworkInterface(ctx, in)
				if err == nil {
					b.pop[i] = aws.ToString(out.NetworkInterface.NetworkInterfaceId)
					return nil
				}
				if _, inv := opError(err); inv || ctx.Err() != nil {
					break
				}
			}
			return stepErr("populate", err)
		})
		if err != nil {
			return err
		}
		return nil
	})
}

func (b *bench) group(k int) string { return fmt.Sprintf("%s-g%d", b.runID, k) }

// workerENIs creates one ENI per worker in the side subnet.
func (b *bench) workerENIs(ctx context.Context) error {
	if err := b.base(ctx); err != nil {
		return err
	}
	return b.need(ctx, "workers", func(ctx context.Context) error {
		return b.parallel(ctx, len(b.workers), "", func(ctx context.Context, i int) error {
			out, err := b.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{
				SubnetId:          aws.String(b.sideSubnet),
				Description:       aws.String("eni bench worker"),
				TagSpecifications: b.tags(types.ResourceTypeNetworkInterface),
			})
			if err != nil {
				return stepErr("create worker ENI", err)
			}
			b.workers[i].eni = aws.ToString(out.NetworkInterface.NetworkInterfaceId)
			return nil
		})
	})
}

// image returns the image to launch: --image, or the newest Amazon Linux
// 2023 x86_64 image the endpoint lists, or a well-formed fallback id.
func (b *bench) image(ctx context.Context) string {
	if b.cfg.Image != "" {
		return b.cfg.Image
	}
	out, err := b.c.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:  []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-x86_64"}}},
	})
	if err != nil || len(out.Images) == 0 {
		return fallbackImage
	}
	sort.Slice(out.Images, func(i, j int) bool {
		return aws.ToString(out.Images[i].CreationDate) > aws.ToString(out.Images[j].CreationDate)
	})
	return aws.ToString(out.Images[0].ImageId)
}

// instances launches one instance per worker in the side subnet with one
// RunInstances call and waits until they run.
func (b *bench) instancesStep(ctx context.Context) error {
	if err := b.base(ctx); err != nil {
		return err
	}
	return b.need(ctx, "instances", func(ctx context.Context) error {
		n := int32(len(b.workers))
		out, err := b.c.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId:           aws.String(b.image(ctx)),
			InstanceType:      types.InstanceType(b.cfg.InstanceType),
			MinCount:          aws.Int32(n),
			MaxCount:          aws.Int32(n),
			SubnetId:          aws.String(b.sideSubnet),
			TagSpecifications: b.tags(types.ResourceTypeInstance),
		})
		if err != nil {
			return stepErr("launch instances", err)
		}
		for _, in := range out.Instances {
			b.instances = append(b.instances, aws.ToString(in.InstanceId))
		}
		if len(b.instances) != int(n) {
			return fmt.Errorf("RunInstances launched %d instances, want %d", len(b.instances), n)
		}
		for i, w := range b.workers {
			w.instance = b.instances[i]
		}
		return b.waitInstances(ctx, "running", 2*time.Minute)
	})
}

// waitInstances polls DescribeInstances until every instance is in state
// (an instance that is not found counts as terminated).
func (b *bench) waitInstances(ctx context.Context, state string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := 50 * time.Millisecond
	for {
		pending := 0
		last := ""
		for i := 0; i < len(b.instances); i += 200 {
			ids := b.instances[i:min(i+200, len(b.instances))]
			out, err := b.c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
			if err != nil {
				if key, _ := opError(err); state == "terminated" && strings.HasSuffix(key, "InvalidInstanceID.NotFound") {
					continue
				}
				return stepErr("describe instances", err)
			}
			seen := 0
			for _, r := range out.Reservations {
				for _, in := range r.Instances {
					seen++
					if in.State != nil && string(in.State.Name) != state {
						pending++
						last = string(in.State.Name)
					}
				}
			}
			if seen < len(ids) && state != "terminated" {
				pending += len(ids) - seen
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d instances still not %s after %s (one is %s)", pending, state, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// parallel runs fn(i) for i in [0, n) on max(concurrency, 32) goroutines,
// stopping at the first error. With a label, it prints "label i/n (r/s)"
// every second.
func (b *bench) parallel(ctx context.Context, n int, label string, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next, done atomic.Int64
	var once sync.Once
	var first error
	g := min(n, max(b.cfg.Concurrency, setupConcurrency))
	var wg sync.WaitGroup
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				done.Add(1)
			}
		}()
	}
	stop := make(chan struct{})
	var pwg sync.WaitGroup
	if label != "" {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			var last int64
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					d := done.Load()
					b.progress("%s %d/%d (%d/s)", label, d, n, d-last)
					last = d
				}
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	close(stop)
	pwg.Wait()
	if label != "" {
		el := time.Since(start).Seconds()
		b.progress("%s %d/%d (%.0f/s average)", label, done.Load(), n, float64(done.Load())/max(el, 1e-9))
		b.progressEnd()
	}
	if first != nil {
		return first
	}
	return ctx.Err()
}

// settle brings the workers back to "detached, no secondary address"
// between scenarios (untimed).
func (b *bench) settle(ctx context.Context) {
	for _, w := range b.workers {
		if w.attachment != "" {
			if _, err := b.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(w.attachment)}); err == nil {
				w.attachment = ""
			}
		}
		if w.extraIP != "" {
			if _, err := b.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{
				NetworkInterfaceId: aws.String(w.eni), PrivateIpAddresses: []string{w.extraIP}}); err == nil {
				w.extraIP = ""
			}
		}
	}
}

// cleanup deletes everything the run created, unless --keep.
func (b *bench) cleanup(ctx context.Context) error {
	workers := 0
	for _, w := range b.workers {
		if w.eni != "" {
			workers++
		}
	}
	if len(b.vpcs) == 0 && len(b.instances) == 0 && len(b.created) == 0 && workers == 0 && (b.reused || len(b.pop) == 0) {
		return nil
	}
	if b.cfg.Keep {
		fmt.Fprintf(b.stderr, "kept (--keep): run %s: VPCs %s, %d population ENIs, %d created ENIs, %d instances (tag %s=%s)\n",
			b.runID, strings.Join(b.vpcs, " "), len(b.pop), len(b.created), len(b.instances), tagRun, b.runID)
		return nil
	}
	var errs []error
	b.settle(ctx)
	if len(b.instances) > 0 {
		if _, err := b.c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: b.instances}); err != nil {
			errs = append(errs, stepErr("terminate instances", err))
		} else if err := b.waitInstances(ctx, "terminated", 2*time.Minute); err != nil {
			errs = append(errs, err)
		}
	}
	var enis []string
	for _, id := range b.pop {
		if id != "" && !b.reused {
			enis = append(enis, id)
		}
	}
	enis = append(enis, b.created...)
	for _, w := range b.workers {
		if w.eni != "" {
			enis = append(enis, w.eni)
		}
	}
	if len(enis) > 0 {
		label := ""
		if len(enis) > 1000 {
			label = "cleaning up"
		}
		err := b.parallel(ctx, len(enis), label, func(ctx context.Context, i int) error {
			_, err := b.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(enis[i])})
			if err != nil {
				if key, _ := opError(err); strings.HasSuffix(key, "InvalidNetworkInterfaceID.NotFound") {
					return nil
				}
				return stepErr("delete ENI "+enis[i], err)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(b.subnets) - 1; i >= 0; i-- {
		id := b.subnets[i]
		if err := b.retryDependency(ctx, func() error {
			_, err := b.c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(id)})
			return err
		}); err != nil {
			errs = append(errs, stepErr("delete subnet "+id, err))
		}
	}
	for i := len(b.vpcs) - 1; i >= 0; i-- {
		id := b.vpcs[i]
		if err := b.retryDependency(ctx, func() error {
			_, err := b.c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)})
			return err
		}); err != nil {
			errs = append(errs, stepErr("delete VPC "+id, err))
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(b.stderr, "cleanup incomplete; resources are tagged %s=%s\n", tagRun, b.runID)
	}
	return errors.Join(errs...)
}

// retryDependency retries fn for up to a minute while it fails with
// DependencyViolation (an endpoint may release resources asynchronously).
func (b *bench) retryDependency(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := fn()
		if err == nil {
			return nil
		}
		key, _ := opError(err)
		if !strings.HasSuffix(key, "DependencyViolation") || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Second)
	}
}

// findKept finds, for --reuse, what a kept run made: its probe and side
// subnets (by CIDR), its create-eni subnet if any, and its population (the
// ENIs with a group tag), so that no population is created.
func (b *bench) findKept(ctx context.Context) error {
	tagged := []types.Filter{{Name: aws.String("tag:" + tagRun), Values: []string{b.runID}}}
	subs, err := b.c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: tagged})
	if err != nil {
		return stepErr("find the kept run's subnets", err)
	}
	for _, s := range subs.Subnets {
		switch aws.ToString(s.CidrBlock) {
		case "10.0.0.0/20":
			b.sideSubnet = aws.ToString(s.SubnetId)
		case "10.0.16.0/24":
			b.probeSubnet = aws.ToString(s.SubnetId)
		case "10.1.0.0/16":
			b.createSubnet = aws.ToString(s.SubnetId)
			b.steps["create-subnet"] = &stepResult{}
		}
	}
	if b.sideSubnet == "" || b.probeSubnet == "" {
		return fmt.Errorf("--reuse %s: no kept run with that id at this endpoint (its subnets are tagged %s=%s)", b.runID, tagRun, b.runID)
	}
	groups := map[string]int{}
	p := ec2.NewDescribeNetworkInterfacesPaginator(b.c, &ec2.DescribeNetworkInterfacesInput{
		Filters:    append(tagged, types.Filter{Name: aws.String("tag-key"), Values: []string{tagGroup}}),
		MaxResults: aws.Int32(1000),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return stepErr("find the kept population", err)
		}
		for _, n := range page.NetworkInterfaces {
			b.pop = append(b.pop, aws.ToString(n.NetworkInterfaceId))
			for _, t := range n.TagSet {
				if aws.ToString(t.Key) == tagGroup {
					groups[aws.ToString(t.Value)]++
				}
			}
		}
		b.progress("finding the kept population: %d ENIs", len(b.pop))
	}
	b.progressEnd()
	if len(b.pop) == 0 {
		return fmt.Errorf("--reuse %s: the kept run has no population", b.runID)
	}
	// Groups are numbered from 0; the tag scenario uses the full ones.
	b.groups = 0
	for b.groups < len(groups) && groups[b.group(b.groups)] == min(groupSize, len(b.pop)) {
		b.groups++
	}
	if b.groups == 0 {
		b.groups = 1
	}
	b.cfg.Population = len(b.pop)
	b.steps["population"] = &stepResult{}
	return nil
}
