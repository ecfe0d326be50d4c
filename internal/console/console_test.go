package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/console"
)

var ctx = context.Background()

type env struct {
	api *apitest.Env
	con *console.Console
	url string
	ec2 *ec2.Client
}

// newEnv starts the API behind the console, as eni serve does, and an EC2
// client that goes through the console's routing.
func newEnv(t *testing.T, opts ...any) *env {
	t.Helper()
	var con *console.Console
	var o console.Options
	var ao apitest.Options
	for _, opt := range opts {
		switch v := opt.(type) {
		case console.Options:
			o = v
		case apitest.Options:
			ao = v
		}
	}
	ao.OnChange = func(r []string) { con.Notify(r) }
	a := apitest.New(t, ao)
	o.Core, o.View = a.Core, a.API.View
	con = console.New(o)
	srv := httptest.NewServer(con.Wrap(a.API))
	t.Cleanup(srv.Close)
	t.Cleanup(con.Close) // first: the server's Close waits for the event streams
	return &env{api: a, con: con, url: srv.URL, ec2: apitest.NewClient(srv.URL, "us-east-1", "test", "test")}
}

func get(t *testing.T, u string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// The console takes a bare GET of / and its own paths; every API request
// (POST anywhere, GET with a query) still reaches the API.
func TestRoutesLeaveTheAPIAlone(t *testing.T) {
	e := newEnv(t)
	st, body, h := get(t, e.url+"/")
	if st != 200 || !strings.Contains(body, "<title>ENI console</title>") || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("GET /: %d %s", st, body)
	}
	for _, p := range []string{"/console/static/app.js", "/console/static/style.css", "/favicon.ico", "/console/"} {
		if st, _, _ := get(t, e.url+p); st != 200 {
			t.Errorf("GET %s: %d", p, st)
		}
	}
	if st, _, _ := get(t, e.url+"/console/nope"); st != 404 {
		t.Errorf("GET /console/nope: %d", st)
	}
	q := url.Values{"Action": {"DescribeRegions"}, "Version": {"2016-11-15"}}
	if st, body, _ := get(t, e.url+"/?"+q.Encode()); st != 200 || !strings.Contains(body, "<DescribeRegionsResponse") {
		t.Errorf("GET /?Action=DescribeRegions: %d %s", st, body)
	}
	if st, body, _ := get(t, e.url+"/?Version=2016-11-15"); st != 400 || !strings.Contains(body, "MissingParameter") {
		t.Errorf("GET /?Version=…: %d %s", st, body)
	}
	if _, err := e.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("SDK through the console's routing: %v", err)
	}
	for _, p := range []string{"/healthz", "/metrics"} {
		if st, _, _ := get(t, e.url+p); st != 200 {
			t.Errorf("GET %s: %d", p, st)
		}
	}
}

// The state is the account's Describe* output, read without creating
// anything: looking at a region nobody used leaves it without state.
func TestStateIsTheAPIsView(t *testing.T) {
	e := newEnv(t)
	st, body, _ := get(t, e.url+"/console/api/state?region=eu-west-1")
	var s console.State
	if err := json.Unmarshal([]byte(body), &s); st != 200 || err != nil {
		t.Fatalf("state: %d %v %s", st, err, body)
	}
	if s.Region != "eu-west-1" || len(s.EC2.Vpcs) != 0 || len(s.EC2.AvailabilityZones) != 3 || len(s.Regions) != 0 {
		t.Fatalf("an unused region: %+v", s)
	}
	if got := e.api.Core.Accounts("eu-west-1"); len(got) != 0 {
		t.Fatalf("looking bootstrapped %v", got)
	}
	n := createMgmtNetwork(t, e.ec2)
	_, body, _ = get(t, e.url+"/console/api/state")
	s = console.State{}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if s.Region != "us-east-1" || s.Account != "123456789012" || len(s.Regions) != 1 || len(s.Accounts) != 1 {
		t.Fatalf("defaults: %s %s %v %v", s.Region, s.Account, s.Regions, s.Accounts)
	}
	if len(s.EC2.Vpcs) != 2 || len(s.EC2.Instances) != 2 || len(s.EC2.NetworkInterfaces) != 3 || len(s.EC2.Addresses) != 1 {
		t.Fatalf("counts: %d VPCs, %d instances, %d ENIs, %d addresses", len(s.EC2.Vpcs), len(s.EC2.Instances), len(s.EC2.NetworkInterfaces), len(s.EC2.Addresses))
	}
	if info := s.Subnets[n.subnet]; !info.Public || info.RouteTableID != n.rtb {
		t.Errorf("subnet %s: %+v, want public through %s", n.subnet, info, n.rtb)
	}
	for _, bad := range []string{"region=zz-nowhere-9", "account=12", "region=us-east-1&account=abc"} {
		if st, body, _ := get(t, e.url+"/console/api/state?"+bad); st != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", bad, st, body)
		}
	}
}

// Every durable change set is an event naming its region; the stream
// outlives the server's read and write timeouts (eni serve's are 30 s and
// 60 s; here 200 ms).
func TestEventsFollowCommits(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(e.con.Wrap(e.api.API))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(e.con.Close)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/console/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(prefix string) string {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stream ended before %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q within 10 s", prefix)
			}
		}
	}
	next("event: hello")
	time.Sleep(500 * time.Millisecond) // past both timeouts
	if _, err := apitest.NewClient(e.url, "eu-west-2", "test", "test").CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	next("event: change")
	if l := next("data: "); l != `data: {"regions":["eu-west-2"]}` {
		t.Fatalf("got %q", l)
	}
	e.con.Close() // the server shutting down ends the stream
	for range lines {
	}
}

// Under --auth sigv4 the console shows every account: it answers loopback
// clients only and asks for the token.
func TestTokenAndLoopback(t *testing.T) {
	e := newEnv(t, console.Options{Token: "s3cret", LoopbackOnly: true})
	if st, body, _ := get(t, e.url+"/console/api/state"); st != 401 || !strings.Contains(body, "token") {
		t.Fatalf("no token: %d %s", st, body)
	}
	if st, _, _ := get(t, e.url+"/console/api/events"); st != 401 {
		t.Fatalf("events without a token: %d", st)
	}
	if st, _, _ := get(t, e.url+"/console/login?token=wrong"); st != 401 {
		t.Fatalf("wrong token: %d", st)
	}
	st, _, h := get(t, e.url+"/console/login?token=s3cret")
	ck := h.Get("Set-Cookie")
	if st != 303 || h.Get("Location") != "/" || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
		t.Fatalf("login: %d %v", st, h)
	}
	if st, _, _ := get(t, e.url+"/console/api/state", "Cookie", strings.Split(ck, ";")[0]); st != 200 {
		t.Fatalf("with the cookie: %d", st)
	}
	if st, _, _ := get(t, e.url+"/console/api/state", "Authorization", "Bearer s3cret"); st != 200 {
		t.Fatalf("with a bearer token: %d", st)
	}
	// With a token, a name is fine (the cookie is the proof, not the Host).
	if st, _, _ := get(t, e.url+"/console/api/state", "Authorization", "Bearer s3cret", "Host", "eni.example:4566"); st != 200 {
		t.Fatalf("by name with a token: %d", st)
	}

	// A client that is not on loopback (httptest.NewRequest's 192.0.2.1)
	// gets the API at / and a refusal under /console/.
	h2 := e.con.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api") }))
	for path, want := range map[string]string{"/": "api", "/console/api/state": "loopback clients only"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer s3cret")
		h2.ServeHTTP(w, r)
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("remote GET %s: %d %q, want %q", path, w.Code, w.Body.String(), want)
		}
	}
}

// Without a token, the console is served by address or as localhost only: a
// page of another site reaching it by a name of its own (DNS rebinding)
// reads nothing.
func TestNoTokenRefusesNames(t *testing.T) {
	e := newEnv(t)
	for host, want := range map[string]int{"evil.example:80": 403, "localhost:4566": 200, "127.0.0.1:4566": 200, "[::1]:4566": 200} {
		if st, _, _ := get(t, e.url+"/console/api/state", "Host", host); st != want {
			t.Errorf("Host %s: %d, want %d", host, st, want)
		}
	}
}

// A VPC filter narrows the snapshot to one VPC's contents; past MaxDrawn
// ENIs the snapshot leaves instances and ENIs out and says so.
func TestStateScope(t *testing.T) {
	e := newEnv(t, console.Options{MaxDrawn: 4})
	n := createMgmtNetwork(t, e.ec2) // 3 ENIs in its VPC
	state := func(q string) console.State {
		t.Helper()
		st, body, _ := get(t, e.url+"/console/api/state?"+q)
		var s console.State
		if err := json.Unmarshal([]byte(body), &s); st != 200 || err != nil {
			t.Fatalf("%s: %d %v %s", q, st, err, body)
		}
		return s
	}
	s := state("vpc=" + n.vpc)
	if s.VPC != n.vpc || len(s.EC2.Vpcs) != 2 || len(s.EC2.Subnets) != 1 || len(s.EC2.NetworkInterfaces) != 3 || len(s.EC2.SecurityGroups) != 2 ||
		len(s.EC2.RouteTables) != 2 || len(s.EC2.InternetGateways) != 1 || s.Omitted != "" {
		t.Fatalf("one VPC: %d VPCs, %d subnets, %d ENIs, %d groups, %d tables, %d gateways, omitted %q", len(s.EC2.Vpcs), len(s.EC2.Subnets),
			len(s.EC2.NetworkInterfaces), len(s.EC2.SecurityGroups), len(s.EC2.RouteTables), len(s.EC2.InternetGateways), s.Omitted)
	}
	groups := map[string]bool{}
	for _, g := range s.EC2.SecurityGroups {
		groups[*g.GroupId] = true
	}
	if len(s.EC2.SecurityGroupRules) != 4 { // the VPC's default group (from itself; out anywhere) and mgmt (22 in; out anywhere)
		t.Errorf("%d rules, want the VPC's 4", len(s.EC2.SecurityGroupRules))
	}
	for _, r := range s.EC2.SecurityGroupRules {
		if !groups[*r.GroupId] {
			t.Errorf("rule %s of a group of another VPC: %s", *r.SecurityGroupRuleId, *r.GroupId)
		}
	}
	if s := state("vpc=vpc-0123456789abcdef0"); len(s.EC2.Subnets) != 0 || len(s.EC2.NetworkInterfaces) != 0 {
		t.Fatalf("an unknown VPC: %+v", s.EC2)
	}
	if st, _, _ := get(t, e.url+"/console/api/state?vpc=nope"); st != 400 {
		t.Fatalf("vpc=nope: %d", st)
	}
	// Two more ENIs in the default VPC: five in all, more than MaxDrawn.
	def := ""
	for _, v := range s.EC2.Vpcs {
		if *v.IsDefault {
			def = *v.VpcId
		}
	}
	subs, err := e.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{def}}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: subs.Subnets[0].SubnetId}); err != nil {
			t.Fatal(err)
		}
	}
	if s := state(""); s.Omitted == "" || len(s.EC2.NetworkInterfaces) != 0 || len(s.EC2.Instances) != 0 || len(s.EC2.Subnets) != 4 {
		t.Fatalf("past MaxDrawn: omitted %q, %d ENIs, %d instances, %d subnets", s.Omitted, len(s.EC2.NetworkInterfaces), len(s.EC2.Instances), len(s.EC2.Subnets))
	}
	if s := state("vpc=" + n.vpc); s.Omitted != "" || len(s.EC2.NetworkInterfaces) != 3 {
		t.Fatalf("one VPC, under MaxDrawn: omitted %q, %d ENIs", s.Omitted, len(s.EC2.NetworkInterfaces))
	}
}
