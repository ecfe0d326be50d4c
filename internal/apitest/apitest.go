// Package apitest starts an ENI API server for tests and returns real
// aws-sdk-go-v2 EC2 clients pointed at it.
package apitest

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/store"
)

// Env is a running server and what it is made of.
type Env struct {
	T      testing.TB
	Server *httptest.Server
	API    *api.Server
	Core   *core.Core
	Store  store.Store
	Path   string // bbolt file, when Durable
}

// Options for New.
type Options struct {
	Durable bool   // keep state in a bbolt file in t.TempDir()
	Path    string // reopen this bbolt file
	// Open, if set, opens the store instead (loaded into the core at start):
	// an etcd store, say.
	Open   func(t testing.TB) store.Store
	Config *core.Config
	// RateLimit and RateBurst set the server's per-account request limit.
	RateLimit float64
	RateBurst int
	// Authenticate is the server's signature check (nil: none, every
	// request acts as the default account).
	Authenticate func(r *http.Request, body []byte) (account string, err error)
	// SessionIdentity is passed to api.Options (who signed with a session
	// token, for sts GetCallerIdentity).
	SessionIdentity func(accessKeyID, token string) (arn, userID, account string, ok bool)
	// OnCommit and Tasks are passed to api.Options (a data plane agent's
	// kick, and the task endpoints' readiness check).
	OnCommit func()
	Tasks    func(taskID string) bool
	TaskWait func(ctx context.Context, taskID string) bool
	// OnChange is passed to api.Options (the web console's live updates).
	OnChange func(regions []string)
	// TaskLease is passed to api.Options.
	TaskLease time.Duration
	// Settle is passed to api.Options (what a reset waits for).
	Settle func(ctx context.Context) error
	// Now is the core's clock (time.Now if nil), for tests of what time
	// settles.
	Now func() time.Time
	// Seed seeds the core's random source (ids, random addresses); 0: the
	// clock. A session of a tool that runs its calls one at a time then gets
	// the same ids and addresses on every run.
	Seed uint64
}

// seededRand is a deterministic, concurrency-safe id source.
type seededRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (s *seededRand) Read(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Read(b)
}

// New starts a server for the test.
func New(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	cfg := core.DefaultConfig()
	if o.Config != nil {
		cfg = *o.Config
	}
	var seed [32]byte
	seed[0] = byte(time.Now().UnixNano())
	seed[1] = byte(time.Now().UnixNano() >> 8)
	if o.Seed != 0 {
		binary.BigEndian.PutUint64(seed[:8], o.Seed)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	c := core.New(core.Env{Now: now, Rand: &seededRand{r: rand.NewChaCha8(seed)}}, cfg)
	e := &Env{T: t, Core: c}
	if o.Open != nil {
		e.Store = o.Open(t)
		if _, err := c.LoadFrom(e.Store.Load); err != nil {
			t.Fatal(err)
		}
	} else if o.Durable || o.Path != "" {
		e.Path = o.Path
		if e.Path == "" {
			e.Path = filepath.Join(t.TempDir(), "eni.db")
		}
		b, err := store.OpenBolt(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.LoadFrom(b.Load); err != nil {
			t.Fatal(err)
		}
		e.Store = b
	} else {
		e.Store = store.NewMemory()
	}
	e.API = api.New(api.Options{Core: c, Store: e.Store, AllowReset: true, RateLimit: o.RateLimit, RateBurst: o.RateBurst, Authenticate: o.Authenticate,
		OnCommit: o.OnCommit, OnChange: o.OnChange, Tasks: o.Tasks, TaskWait: o.TaskWait, TaskLease: o.TaskLease, Settle: o.Settle,
		SessionIdentity: o.SessionIdentity})
	e.Server = httptest.NewServer(e.API)
	t.Cleanup(e.Close)
	return e
}

// Close stops the server and closes the store.
func (e *Env) Close() {
	if e.Server != nil {
		e.Server.Close()
		e.Server = nil
	}
	if e.Store != nil {
		e.Store.Close()
		e.Store = nil
	}
}

// HTTPClient returns an HTTP client suited to many concurrent requests.
func HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: WrapTransport(tr)}
}

// Client returns an EC2 client for the region (default us-east-1).
func (e *Env) Client(region ...string) *ec2.Client {
	r := "us-east-1"
	if len(region) > 0 {
		r = region[0]
	}
	return NewClient(e.Server.URL, r, "test", "test")
}

// NewClient returns an EC2 client for an endpoint.
func NewClient(endpoint, region, key, secret string) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:       HTTPClient(),
		RetryMaxAttempts: 1,
	})
}

// Code returns the EC2 error code of err, or "".
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// WantCode fails the test unless err carries the EC2 error code.
func WantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want error %s", code)
	}
	if got := Code(err); got != code {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

// Ctx is a context for test calls.
func Ctx() context.Context { return context.Background() }
