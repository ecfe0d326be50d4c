package api_test

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/store"
)

// flakyStore is a bbolt store that fails a commit on demand: the armed
// change set gets a record of no known kind, so bbolt rolls back the whole
// batch it is in, as it would on a write or fsync error. It can also hold
// the model's reload (its Load) and the durability of change sets.
type flakyStore struct {
	*store.Bolt
	fail     atomic.Bool   // fail the next change set's batch
	loadGate chan struct{} // if set, Load waits until it is closed
	hold     chan struct{} // if set, a commit is durable only once it is closed
	mu       sync.Mutex
}

func (f *flakyStore) Commit(cs core.ChangeSet) (func() error, error) {
	if f.fail.CompareAndSwap(true, false) {
		cs.Changes = append(slices.Clone(cs.Changes), core.Change{Kind: "injected-failure", Key: "x", Value: []byte("x")})
	}
	wait, err := f.Bolt.Commit(cs)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold == nil {
		return wait, nil
	}
	return func() error { <-hold; return wait() }, nil
}

func (f *flakyStore) Load(fn func(kind, key string, val []byte) error) error {
	f.mu.Lock()
	gate := f.loadGate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return f.Bolt.Load(fn)
}

type flakyEnv struct {
	st   *flakyStore
	core *core.Core
	srv  *httptest.Server
	c    *ec2.Client
}

func newFlakyEnv(t *testing.T) *flakyEnv {
	t.Helper()
	b, err := store.OpenBolt(filepath.Join(t.TempDir(), "eni.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := &flakyStore{Bolt: b}
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, core.DefaultConfig())
	srv := httptest.NewServer(api.New(api.Options{Core: c, Store: st}))
	t.Cleanup(func() { srv.Close(); b.Close() })
	return &flakyEnv{st: st, core: c, srv: srv, c: apitest.NewClient(srv.URL, "us-east-1", "test", "test")}
}

func (e *flakyEnv) healthz(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(e.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitHealthy waits (generously: a loaded machine) for the reload.
func (e *flakyEnv) waitHealthy(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); e.healthz(t) != 200; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server did not recover from the failed commit")
		}
	}
}

// diskDump is what a server started on the store would hold.
func (e *flakyEnv) diskDump(t *testing.T) map[string]string {
	t.Helper()
	c := core.New(core.Env{Now: time.Now, Rand: rand.Reader}, core.DefaultConfig())
	if _, err := c.LoadFrom(e.st.Bolt.Load); err != nil {
		t.Fatal(err)
	}
	return c.Dump()
}

func (e *flakyEnv) groupNames(t *testing.T) []string {
	t.Helper()
	out, err := e.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range out.SecurityGroups {
		names = append(names, aws.ToString(g.GroupName))
	}
	sort.Strings(names)
	return names
}

func (e *flakyEnv) createGroup(name string) error {
	_, err := e.c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name)})
	return err
}

// Issue 9: a failed bbolt batch left its change sets applied in memory; later
// writes built on them and the server only marked itself unhealthy. Now the
// failed request gets InternalError, every request gets ServiceUnavailable
// until the model is reloaded from disk, and then the model is the disk.
func TestFailedCommitLeavesNoTrace(t *testing.T) {
	e := newFlakyEnv(t)
	if err := e.createGroup("kept"); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	e.st.mu.Lock()
	e.st.loadGate = gate // hold the reload, to see the server refuse meanwhile
	e.st.mu.Unlock()
	e.st.fail.Store(true)
	err := e.createGroup("lost")
	apitest.WantCode(t, err, "InternalError")
	if st := httpStatusOf(t, err); st != 500 {
		t.Fatalf("failed commit: status %d, want 500", st)
	}
	// Until the model is reloaded: writes and reads are refused, and the
	// server is unhealthy.
	err = e.createGroup("refused")
	apitest.WantCode(t, err, "ServiceUnavailable")
	if st := httpStatusOf(t, err); st != 503 {
		t.Fatalf("write during the reload: status %d, want 503", st)
	}
	_, err = e.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	apitest.WantCode(t, err, "ServiceUnavailable")
	if st := e.healthz(t); st != 503 {
		t.Fatalf("healthz during the reload: %d", st)
	}
	close(gate)
	e.waitHealthy(t)
	if got, want := e.groupNames(t), []string{"default", "kept"}; !slices.Equal(got, want) {
		t.Fatalf("groups after the reload: %v, want %v", got, want)
	}
	if mem, disk := e.core.Dump(), e.diskDump(t); !maps.Equal(mem, disk) {
		badDiff(t, disk, mem)
	}
	// Writes go on, from what is on disk.
	if err := e.createGroup("lost"); err != nil {
		t.Fatal(err)
	}
	if mem, disk := e.core.Dump(), e.diskDump(t); !maps.Equal(mem, disk) {
		badDiff(t, disk, mem)
	}
	if errs := e.core.Check(); len(errs) > 0 {
		t.Fatalf("invariants: %v", errs)
	}
}

// Many writers while a batch fails: every request that succeeded is in the
// model and on disk, every one that failed (InternalError or
// ServiceUnavailable) in neither.
func TestFailedBatchConcurrentWriters(t *testing.T) {
	e := newFlakyEnv(t)
	const writers, each = 8, 12
	var mu sync.Mutex
	ok, failed := map[string]bool{}, map[string]string{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				name := fmt.Sprintf("g-%d-%d", w, i)
				if w == 0 && i == each/2 {
					// Fail a batch, and hold the reload a little: the
					// others meet the refusal too.
					gate := make(chan struct{})
					e.st.mu.Lock()
					e.st.loadGate = gate
					e.st.mu.Unlock()
					time.AfterFunc(20*time.Millisecond, func() { close(gate) })
					e.st.fail.Store(true)
				}
				err := e.createGroup(name)
				mu.Lock()
				if err == nil {
					ok[name] = true
				} else {
					failed[name] = apitest.Code(err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	e.waitHealthy(t)
	if len(failed) == 0 {
		t.Fatal("no request failed")
	}
	for name, code := range failed {
		if code != "InternalError" && code != "ServiceUnavailable" {
			t.Errorf("%s: %s", name, code)
		}
	}
	have := map[string]bool{}
	for _, n := range e.groupNames(t) {
		have[n] = true
	}
	for name := range ok {
		if !have[name] {
			t.Errorf("acknowledged group %s is gone", name)
		}
	}
	for name := range failed {
		if have[name] {
			t.Errorf("failed group %s exists", name)
		}
	}
	if mem, disk := e.core.Dump(), e.diskDump(t); !maps.Equal(mem, disk) {
		badDiff(t, disk, mem)
	}
	codes := map[string]int{}
	for _, c := range failed {
		codes[c]++
	}
	t.Logf("%d acknowledged, failed: %v", len(ok), codes)
}

// A reader does not see a change before it is durable, nor ever one whose
// commit failed.
func TestReadsSeeOnlyDurableChanges(t *testing.T) {
	e := newFlakyEnv(t)
	if err := e.createGroup("kept"); err != nil {
		t.Fatal(err)
	}
	for _, fail := range []bool{false, true} {
		hold := make(chan struct{})
		release := sync.OnceFunc(func() {
			e.st.mu.Lock()
			e.st.hold = nil
			e.st.mu.Unlock()
			close(hold)
		})
		defer release() // a failing check must not leave the writer blocked
		e.st.mu.Lock()
		e.st.hold = hold
		e.st.mu.Unlock()
		e.st.fail.Store(fail)
		name := fmt.Sprintf("pending-%v", fail)
		wrote := make(chan error, 1)
		go func() { wrote <- e.createGroup(name) }()
		// Wait until the write is applied in memory (queued in the store).
		for deadline := time.Now().Add(30 * time.Second); !e.inModel(name); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the write never reached the model")
			}
		}
		read := make(chan []string, 1)
		readErr := make(chan error, 1)
		go func() {
			out, err := e.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String("group-name"), Values: []string{name}}}})
			if err != nil {
				readErr <- err
				return
			}
			var names []string
			for _, g := range out.SecurityGroups {
				names = append(names, aws.ToString(g.GroupName))
			}
			read <- names
		}()
		select {
		case names := <-read:
			t.Fatalf("a reader saw %v before it was durable", names)
		case err := <-readErr:
			t.Fatalf("read: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		release()
		werr := <-wrote
		select {
		case names := <-read:
			if fail || !slices.Equal(names, []string{name}) {
				t.Fatalf("fail %v: write %v, reader saw %v", fail, werr, names)
			}
		case err := <-readErr:
			if !fail {
				t.Fatalf("read: %v", err)
			}
			apitest.WantCode(t, err, "ServiceUnavailable")
			apitest.WantCode(t, werr, "InternalError")
		}
		e.waitHealthy(t)
	}
}

// inModel reports whether the model holds a group called name.
func (e *flakyEnv) inModel(name string) bool {
	for k, v := range e.core.Dump() {
		if strings.HasPrefix(k, "sg/") && strings.Contains(v, `"name":"`+name+`"`) {
			return true
		}
	}
	return false
}

// BenchmarkReadBesideWrites measures what it costs that readers see only
// durable changes: one reader describes an ENI that 16 writers tag without
// pause (each tag a fsync'd change set, group-committed), on a bbolt file.
// "durable" waits for what the read saw to be on disk, "dirty" answers at
// once. Compare the reader's p50/p99 and the writers' rate.
func BenchmarkReadBesideWrites(b *testing.B) {
	for _, mode := range []string{"durable", "dirty"} {
		b.Run(mode, func(b *testing.B) {
			e := apitest.New(b, apitest.Options{Durable: true})
			api.SetDirtyReads(e.API, mode == "dirty")
			c := e.Client()
			eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(benchSubnet(b, e.Core, 1))})
			if err != nil {
				b.Fatal(err)
			}
			id := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
			stop := make(chan struct{})
			var writes atomic.Int64
			var wg sync.WaitGroup
			for w := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String(fmt.Sprint("w", w)), Value: aws.String(fmt.Sprint(i))}}})
						if err != nil {
							b.Error(err)
							return
						}
						writes.Add(1)
					}
				}()
			}
			start := time.Now()
			benchParallel(b, 1, func() error {
				_, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
				return err
			})
			b.ReportMetric(float64(writes.Load())/time.Since(start).Seconds(), "writes/s")
			close(stop)
			wg.Wait()
		})
	}
}
