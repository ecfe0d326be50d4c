// Package api is the EC2 Query API over HTTP: it decodes requests, finds the
// caller's account and region, runs the core operation and writes the XML
// reply or the EC2 error envelope. It holds no EC2 rules.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/ec2query"
	"github.com/eni-net/eni/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 1 << 20

// DefaultRegion is used when a request carries no SigV4 credential scope.
const DefaultRegion = "us-east-1"

// Options configure a Server.
type Options struct {
	Core   *core.Core
	Store  store.Store
	Logger *slog.Logger
	// Registry receives the server's metrics (a new one if nil).
	Registry *prometheus.Registry
	// Authenticate, if set, checks a request's signature and returns the
	// caller's account; nil accepts any request as the default account.
	Authenticate func(r *http.Request, body []byte) (account string, err error)
	// SessionIdentity, if set, says who signed with a session token (the
	// instance credentials of the metadata service, internal/iamcreds), for
	// sts GetCallerIdentity: the assumed role's ARN and user id.
	SessionIdentity func(accessKeyID, token string) (arn, userID, account string, ok bool)
	// RateLimit is each account's sustained request rate (requests/s) and
	// RateBurst its burst; beyond it requests get RequestLimitExceeded (503),
	// which SDK retryers back off from. Zero means no limit.
	RateLimit float64
	RateBurst int
	// OnCommit, if set, is called after each change set is durable (the data
	// plane agent's kick).
	OnCommit func()
	// OnChange, if set, is told which regions each durable change set
	// changed (the web console's live updates).
	OnChange func(regions []string)
	// Tasks, if set, enables the /eni/v1/tasks endpoints of `eni run-task`
	// and says whether a task's namespace is up.
	Tasks func(taskID string) bool
	// TaskWait, if set, waits until a task's namespace is up or ctx ends, and
	// says whether it is (a DescribeTask with ?wait=SECONDS waits on it).
	TaskWait func(ctx context.Context, taskID string) bool
	// TaskLease is how long a task lives without its run-task renewing it
	// (0: DefaultTaskLease); ReapTasks deletes those whose lease ran out.
	TaskLease time.Duration
	// AllowReset serves the reset endpoint (reset.go); Settle, if set, waits
	// after a reset until the data plane has followed (the agent's).
	AllowReset bool
	Settle     func(ctx context.Context) error
	// Replica, if set, makes the server one of several API replicas on one
	// etcd cluster (replica.go).
	Replica Replication
}

// Server is the HTTP handler of the EC2 API, /healthz and /metrics.
type Server struct {
	opt      Options
	core     *core.Core
	log      *slog.Logger
	ops      map[string]handler
	metrics  http.Handler
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	bufs     sync.Pool
	healthy  atomic.Bool // false from a failed commit until the model is reloaded
	dur      durability  // durability.go

	limMu    sync.Mutex
	limiters map[string]*rate.Limiter
}

// New returns a Server.
func New(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	s := &Server{opt: opt, core: opt.Core, log: opt.Logger}
	s.healthy.Store(true)
	s.dur.init()
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eni_api_requests_total", Help: "EC2 API requests by action and result code.",
	}, []string{"action", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "eni_api_request_seconds", Help: "EC2 API request latency by action.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"action"})
	opt.Registry.MustRegister(s.requests, s.latency, newUsageCollector(opt.Core))
	s.metrics = promhttp.HandlerFor(opt.Registry, promhttp.HandlerOpts{})
	s.bufs.New = func() any { return new(bytes.Buffer) }
	s.ops = handlers()
	return s
}

// Actions lists the implemented actions.
func (s *Server) Actions() []string {
	out := make([]string, 0, len(s.ops))
	for a := range s.ops {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// request is one decoded API call.
type request struct {
	id     string
	action string
	params url.Values
	who    core.Caller
	sts    bool // an STS GetCallerIdentity call
	iam    bool // a call of the IAM API (iam.go)
	task   bool // a call of the task or usage API (tasks.go, usage.go): JSON, not the EC2 envelope
}

type handler func(s *Server, r *request, buf *bytes.Buffer) error

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		if !s.healthy.Load() {
			http.Error(w, "store failed", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
		if rep := s.opt.Replica; rep != nil { // which replica writes (replica.go)
			if rep.Leading() {
				io.WriteString(w, "writer\n")
			} else {
				io.WriteString(w, "replica of "+rep.LeaderURL()+"\n")
			}
		}
		return
	case "/metrics":
		s.metrics.ServeHTTP(w, r)
		return
	case ResetPath, MotoResetPath:
		if s.opt.Replica != nil && !s.opt.Replica.Leading() {
			s.forwardReset(w, r)
			return
		}
		s.serveReset(w, r)
		return
	}
	start := time.Now()
	req := &request{id: newRequestID(), task: isTaskPath(r.URL.Path) || isUsagePath(r.URL.Path)}
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer s.bufs.Put(buf)
	var err error
	var fw *forwarding
	if s.opt.Replica != nil {
		fw, err = s.replicaPrelude(r)
	}
	if err == nil {
		err = s.serveSafe(r, req, buf)
	}
	if fw != nil && errors.Is(err, errForward) {
		var status int
		if status, err = s.forward(w, r, fw); err == nil {
			s.requests.WithLabelValues(s.actionLabel(req), "forwarded").Inc()
			s.logRequest(r.Context(), req, "forwarded", status, time.Since(start))
			return
		}
	}
	code := "OK"
	status := http.StatusOK
	if err != nil {
		code, status = s.writeError(buf, req, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml;charset=UTF-8")
	if req.task {
		h.Set("Content-Type", "application/json")
	}
	h.Set("x-amzn-RequestId", req.id)
	// The server's own time (W3C Server-Timing), so that a client can tell
	// it from the network's and its own; eni bench reports it.
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())} // not chunked: the client reads it in one piece
	h["Server-Timing"] = []string{"app;dur=" + strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 3, 64)}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	action := s.actionLabel(req)
	s.requests.WithLabelValues(action, code).Inc()
	took := time.Since(start)
	s.latency.WithLabelValues(action).Observe(took.Seconds())
	s.logRequest(r.Context(), req, code, status, took)
}

// actionLabel is the request's action as the metrics name it.
func (s *Server) actionLabel(req *request) string {
	if _, ok := s.ops[req.action]; !ok && !req.task { // task actions are a fixed few
		return "unknown"
	}
	return req.action
}

// logRequest writes one line per request, as moto's and LocalStack's users
// expect: at info (--log-level warn silences it), at warn when the server
// failed (5xx), so that those still show.
func (s *Server) logRequest(ctx context.Context, req *request, code string, status int, took time.Duration) {
	lvl := slog.LevelInfo
	if status >= 500 {
		lvl = slog.LevelWarn
	}
	if !s.log.Enabled(ctx, lvl) {
		return
	}
	s.log.LogAttrs(ctx, lvl, "request", slog.String("action", req.action), slog.String("code", code), slog.Int("status", status),
		slog.Float64("ms", float64(took.Microseconds())/1000), slog.String("account", req.who.Account),
		slog.String("region", req.who.Region), slog.String("request_id", req.id))
}

// serveSafe turns a panic into an InternalError reply (its stack goes to the
// log): a bug hit by one request must not drop the connection unanswered.
// An operation that panics has not committed: the transaction is discarded
// and the region lock released by the core's deferred unlock.
func (s *Server) serveSafe(r *http.Request, req *request, buf *bytes.Buffer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	if isUsagePath(r.URL.Path) {
		return s.serveUsage(r, req, buf)
	}
	if req.task {
		return s.serveTask(r, req, buf)
	}
	return s.serve(r, req, buf)
}

func (s *Server) serve(r *http.Request, req *request, buf *bytes.Buffer) error {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return &core.Error{Code: "InvalidAction", Message: "The method " + r.Method + " is not supported."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &core.Error{Code: "RequestEntityTooLarge", Message: fmt.Sprintf("The request body exceeds the maximum of %d bytes.", MaxBodyBytes)}
		}
		return &core.Error{Code: core.CodeInvalidParameterValue, Message: "The request body could not be read."}
	}
	params := r.URL.Query()
	if len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return &core.Error{Code: core.CodeInvalidParameterValue, Message: "The request body is not valid form encoding."}
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	req.params = params
	req.action = params.Get("Action")
	req.sts = isSTS(req.action, params.Get("Version"))
	_, scoped := credentialScope(r)
	req.iam = !req.sts && isIAM(scoped, req.action, params.Get("Version"))
	// EC2 calls are signed for "ec2", GetCallerIdentity for "sts", IAM's
	// for "iam" (and run in the IAM region, iam.go).
	service, region := "ec2", regionOf(r)
	switch {
	case req.sts:
		service = "sts"
	case req.iam:
		service, region = "iam", s.core.IAMRegion()
	}
	if err := endpointAccepts(r.Context(), scoped, service, req.action); err != nil {
		return err
	}
	if err := s.identify(r, req, body, region, service); err != nil {
		return err
	}
	if req.iam {
		return s.serveIAM(req, buf)
	}
	if req.sts {
		accessKey, _ := credentialScope(r)
		if tok := securityToken(r); tok != "" && s.opt.SessionIdentity != nil {
			if arn, userID, _, ok := s.opt.SessionIdentity(accessKey, tok); ok {
				writeIdentity(buf, req.who.Account, arn, userID, req.id)
				return nil
			}
		}
		if s.opt.Authenticate == nil {
			accessKey = ""
		}
		writeCallerIdentity(buf, req.who.Account, accessKey, req.id)
		return nil
	}
	if err := checkProtocolParams(params); err != nil {
		return err
	}
	if req.action == "" {
		return &core.Error{Code: core.CodeMissingParameter, Message: "The request must contain the parameter Action"}
	}
	h, ok := s.ops[req.action]
	if !ok {
		return invalidAction(req.action)
	}
	if err := checkParamText(params); err != nil {
		return err
	}
	return h(s, req, buf)
}

// identify is what every API (EC2, STS, tasks) asks of a request before it
// runs: with Authenticate a valid signature, scoped to service, whose key's
// account the request acts as (without it, the default account); a region
// the core serves, checked before anything can create it; and the account's
// rate limit. It sets req.who.
func (s *Server) identify(r *http.Request, req *request, body []byte, region, service string) error {
	account := s.core.Config().DefaultAccount
	if s.opt.Authenticate != nil {
		var err error
		if account, err = s.opt.Authenticate(r, body); err != nil {
			return err
		}
	}
	if err := s.core.CheckRegion(region); err != nil {
		return err
	}
	req.who = core.Caller{Account: account, Region: region}
	if !s.allow(account) {
		return &core.Error{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
	}
	if s.opt.Authenticate != nil {
		if _, scoped := credentialScope(r); scoped != "" && scoped != service {
			return &core.Error{Code: "SignatureDoesNotMatch", Message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service)}
		}
	}
	return nil
}

// apiVersion is the EC2 API version this server speaks; older versions are
// accepted as they are subsets for the actions implemented here.
const (
	apiVersion      = "2016-11-15"
	apiFirstVersion = "2006-06-26"
)

// checkProtocolParams refuses an Action or Version given more than once and
// a Version that EC2 never had.
func checkProtocolParams(params url.Values) error {
	for _, k := range []string{"Action", "Version"} {
		if len(params[k]) > 1 {
			return &core.Error{Code: core.CodeInvalidParameterValue, Message: fmt.Sprintf("The parameter %s is given more than once", k)}
		}
	}
	if vs, ok := params["Version"]; ok {
		v := vs[0]
		if _, err := time.Parse(time.DateOnly, v); err != nil || v < apiFirstVersion || v > apiVersion {
			if len(v) > 64 {
				v = v[:64] + "..."
			}
			return &core.Error{Code: "NoSuchVersion", Message: fmt.Sprintf("The requested version (%s) of service AmazonEC2 does not exist", strings.ToValidUTF8(v, "?"))}
		}
	}
	return nil
}

// checkParamText refuses parameter names and values that are not valid UTF-8
// or hold characters XML 1.0 cannot carry (NUL and other control
// characters): values are stored and echoed in XML replies.
func checkParamText(params url.Values) error {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same error for the same request
	for _, k := range keys {
		if !xmlText(k) {
			return &core.Error{Code: core.CodeUnknownParameter, Message: fmt.Sprintf("The parameter %q is not recognized", k)}
		}
		for _, v := range params[k] {
			if !xmlText(v) {
				return &core.Error{Code: core.CodeInvalidParameterValue, Message: fmt.Sprintf("Value for parameter %s is invalid: it is not valid UTF-8 or contains control characters.", k)}
			}
		}
	}
	return nil
}

// xmlText reports whether s is valid UTF-8 made only of XML 1.0 characters.
func xmlText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII fast path
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == 0xfffe || r == 0xffff {
			return false
		}
		i += n
	}
	return true
}

// allow applies the account's rate limit.
func (s *Server) allow(account string) bool {
	if s.opt.RateLimit <= 0 {
		return true
	}
	s.limMu.Lock()
	l := s.limiters[account]
	if l == nil {
		burst := s.opt.RateBurst
		if burst <= 0 {
			burst = int(s.opt.RateLimit) + 1
		}
		l = rate.NewLimiter(rate.Limit(s.opt.RateLimit), burst)
		if s.limiters == nil {
			s.limiters = map[string]*rate.Limiter{}
		}
		s.limiters[account] = l
	}
	s.limMu.Unlock()
	return l.Allow()
}

// regionOf reads the region from the SigV4 credential scope
// (AKID/date/REGION/service/aws4_request), in the header or the query.
func regionOf(r *http.Request) string {
	if parts := credentialParts(r); len(parts) >= 5 && parts[2] != "" {
		return parts[2]
	}
	return DefaultRegion
}

func (s *Server) writeError(buf *bytes.Buffer, req *request, err error) (string, int) {
	var ce *core.Error
	var qe *ec2query.Error
	code, msg := core.CodeInternalError, "An internal error has occurred"
	switch {
	case errors.As(err, &ce):
		code, msg = ce.Code, ce.Message
	case errors.As(err, &qe):
		code, msg = qe.Code, qe.Message
	default:
		s.log.Error("internal error", "request_id", req.id, "action", req.action, "err", err)
	}
	buf.Reset()
	switch {
	case req.task:
		writeTaskError(buf, code, msg)
		return code, taskStatus(err, code)
	case req.sts:
		writeSTSError(buf, code, msg, req.id)
	case req.iam:
		writeIAMError(buf, code, msg, req.id)
	default:
		ec2query.EncodeError(buf, code, msg, req.id)
	}
	return code, httpStatus(code)
}

// Commit is the server's Committer, for other writers of the model (the
// data plane agent's status write-backs).
func (s *Server) Commit(cs core.ChangeSet) (func() error, error) { return s.commit(cs) }

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on Linux
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// read registers a read-only operation.
func read[I, O any](fn func(*core.Tx, *I) (*O, error)) handler {
	return func(s *Server, r *request, buf *bytes.Buffer) error {
		in := new(I)
		if err := ec2query.Decode(r.params, in); err != nil {
			return err
		}
		if dryRun(in) {
			// Reads need no change: validate by running, then answer 412.
			var need mark
			err := s.core.Read(r.who, s.commit, func(tx *core.Tx) error { need = s.seen(); _, err := fn(tx, in); return err })
			if err := s.settled(err, need); err != nil {
				return err
			}
			return &core.Error{Code: core.CodeDryRunOperation, Message: "Request would have succeeded, but DryRun flag is set."}
		}
		var out *O
		var need mark // what it saw must be durable before it answers
		err := s.core.Read(r.who, s.commit, func(tx *core.Tx) error {
			var err error
			need = s.seen()
			out, err = fn(tx, in)
			return err
		})
		if err := s.settled(err, need); err != nil {
			return err
		}
		return ec2query.Encode(buf, r.action, r.id, out)
	}
}

// write registers a mutating operation; ClientToken makes it idempotent.
func write[I, O any](fn func(*core.Tx, *I) (*O, error)) handler {
	return func(s *Server, r *request, buf *bytes.Buffer) error {
		in := new(I)
		if err := ec2query.Decode(r.params, in); err != nil {
			return err
		}
		dry := dryRun(in)
		token := clientToken(in)
		if len(token) > maxClientToken {
			return &core.Error{Code: core.CodeInvalidParameterValue, Message: fmt.Sprintf("Value for parameter clientToken is invalid. Length exceeds maximum of %d.", maxClientToken)}
		}
		var cached []byte
		var need mark
		err := s.core.Write(r.who, dry, s.commit, func(tx *core.Tx) error {
			need = s.seen()
			key, hash := "", ""
			if token != "" {
				key = r.who.Account + "/" + r.action + "/" + token
				hash = paramHash(r.params)
				if t := tx.Token(key); t != nil {
					if t.Hash != hash {
						return &core.Error{Code: core.CodeIdempotentParameterMismatch, Message: "The client token you have provided is associated with a resource that is already deleted or with different parameters."}
					}
					cached = t.Output
					return nil
				}
			}
			out, err := fn(tx, in)
			if err != nil {
				return err
			}
			if dry {
				return nil
			}
			buf.Reset()
			if err := ec2query.Encode(buf, r.action, r.id, out); err != nil {
				return err
			}
			if token != "" {
				tx.PutToken(&core.Token{Key: key, Hash: hash, Output: buf.Bytes()}) // PutToken keeps a copy
			}
			return nil
		})
		// It answers from what it saw (a refusal, a dry run, a retry's reply
		// or a change of nothing): that must be durable too. A change set of
		// its own came after it, and is durable already.
		if err := s.settled(err, need); err != nil {
			return err
		}
		if dry {
			return &core.Error{Code: core.CodeDryRunOperation, Message: "Request would have succeeded, but DryRun flag is set."}
		}
		if cached != nil {
			buf.Reset()
			buf.Write(cached)
		}
		return nil
	}
}

// maxClientToken is the longest ClientToken EC2 accepts.
const maxClientToken = 64

func dryRun(in any) bool {
	f := reflect.ValueOf(in).Elem().FieldByName("DryRun")
	return f.IsValid() && !f.IsNil() && f.Elem().Bool()
}

func clientToken(in any) string {
	f := reflect.ValueOf(in).Elem().FieldByName("ClientToken")
	if f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String {
		return f.Elem().String()
	}
	return ""
}

// paramHash identifies a request's parameters, minus those that may differ
// between retries of the same request.
func paramHash(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		switch k {
		case "ClientToken", "DryRun", "Version":
			continue
		}
		if strings.HasPrefix(k, "X-Amz-") {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, strings.Join(params[k], ","))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Shutdown is for symmetry with http.Server; the store is closed by its owner.
func (s *Server) Shutdown(ctx context.Context) error { return nil }
