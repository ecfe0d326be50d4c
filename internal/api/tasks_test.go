package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/sigv4"
)

// taskKey signs task API calls; a zero key sends them unsigned.
type taskKey struct{ id, secret, service, region string }

var (
	alice = taskKey{"AKIAALICE0000000001", "alice-secret/x+y", api.TaskService, "us-east-1"}
	bob   = taskKey{"AKIABOB000000000002", "bob-secret", api.TaskService, "us-east-1"}
)

// taskCall sends one task API call and returns its status, code (on error)
// and reply.
func taskCall(t *testing.T, e *apitest.Env, k taskKey, method, path string, body any) (int, string, api.TaskReply) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, e.Server.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if k.id != "" {
		sum := sha256.Sum256(b)
		creds := aws.Credentials{AccessKeyID: k.id, SecretAccessKey: k.secret}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), k.service, k.region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("x-amzn-RequestId") == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s: headers %v", method, path, resp.Header)
	}
	var rep api.TaskReply
	var e2 struct{ Code, Message string }
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &rep); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	} else if err := json.Unmarshal(raw, &e2); err != nil || e2.Code == "" || e2.Message == "" {
		t.Fatalf("%s %s: %d, not a task API error: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, e2.Code, rep
}

// taskAuthEnv is a server with the task API and SigV4 (the keys of
// auth_test.go), on a bbolt file.
func taskAuthEnv(t *testing.T) *apitest.Env {
	t.Helper()
	keys, err := sigv4.Parse(strings.NewReader(authCreds))
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Keys: keys, Now: time.Now}
	return apitest.New(t, apitest.Options{Durable: true, Authenticate: v.Verify, Tasks: func(string) bool { return true }})
}

func taskSubnet(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil || len(out.Subnets) == 0 {
		t.Fatalf("default subnet: %v", err)
	}
	return aws.ToString(out.Subnets[0].SubnetId)
}

// Issue 9: with --auth sigv4, an unsigned POST /eni/v1/tasks made the root
// server create a task (a namespace and an ENI), as the default account.
// Every task call must be signed, for the task service.
func TestTaskAPIRequiresSignature(t *testing.T) {
	e := taskAuthEnv(t)
	a := apitest.NewClient(e.Server.URL, "us-east-1", alice.id, alice.secret)
	subnet := taskSubnet(t, a)
	before, records := e.Core.Dump(), storeRecords(t, e)
	spec := api.TaskRequest{SubnetID: subnet}
	wrongSecret := alice
	wrongSecret.secret = "wrong"
	signedForEC2 := alice
	signedForEC2.service = "ec2"
	unknownKey := taskKey{"AKIAUNKNOWN", "x", api.TaskService, "us-east-1"}
	for _, c := range []struct {
		name   string
		key    taskKey
		status int
		code   string
	}{
		{"unsigned", taskKey{}, 401, "MissingAuthenticationToken"},
		{"wrong secret", wrongSecret, 403, "SignatureDoesNotMatch"},
		{"unknown key", unknownKey, 401, "AuthFailure"},
		{"signed for ec2", signedForEC2, 403, "SignatureDoesNotMatch"},
	} {
		for _, m := range []struct{ method, path string }{
			{"POST", api.TasksPath}, {"GET", api.TasksPath + "/task-0123456789abcdef0"},
			{"PUT", api.TasksPath + "/task-0123456789abcdef0"}, {"DELETE", api.TasksPath + "/task-0123456789abcdef0"},
		} {
			var body any
			if m.method == "POST" {
				body = spec
			}
			if st, code, _ := taskCall(t, e, c.key, m.method, m.path, body); st != c.status || code != c.code {
				t.Errorf("%s %s %s: %d %s, want %d %s", c.name, m.method, m.path, st, code, c.status, c.code)
			}
		}
	}
	if after := e.Core.Dump(); !reflect.DeepEqual(before, after) {
		badDiff(t, before, after)
	}
	if n := storeRecords(t, e); n != records {
		t.Fatalf("store records: %d, were %d", n, records)
	}
	// Signed, it works, as the signer's account.
	st, _, task := taskCall(t, e, alice, "POST", api.TasksPath, spec)
	if st != 200 {
		t.Fatalf("signed create: %d", st)
	}
	eni, err := a.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{task.NetworkInterfaceID}})
	if err != nil || aws.ToString(eni.NetworkInterfaces[0].OwnerId) != "111111111111" {
		t.Fatalf("the task's ENI: %+v %v", eni, err)
	}
	// And the calls are counted like EC2's.
	resp, err := http.Get(e.Server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`eni_api_requests_total{action="eni:CreateTask",code="OK"} 1`, `eni_api_requests_total{action="eni:CreateTask",code="MissingAuthenticationToken"} 1`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Tasks belong to their account: another account's task id is not found,
// for reading, renewing and deleting alike (anyone on loopback could renew
// or delete any task).
func TestTaskAccountIsolation(t *testing.T) {
	e := taskAuthEnv(t)
	a := apitest.NewClient(e.Server.URL, "us-east-1", alice.id, alice.secret)
	st, _, task := taskCall(t, e, alice, "POST", api.TasksPath, api.TaskRequest{SubnetID: taskSubnet(t, a)})
	if st != 200 {
		t.Fatalf("create: %d", st)
	}
	path := api.TasksPath + "/" + task.TaskID
	for _, method := range []string{"GET", "PUT", "DELETE"} {
		if st, code, _ := taskCall(t, e, bob, method, path, nil); st != 404 || code != "InvalidTaskID.NotFound" {
			t.Errorf("bob %s alice's task: %d %s, want 404 InvalidTaskID.NotFound", method, st, code)
		}
	}
	// Nor does alice's task exist in another region.
	euAlice := alice
	euAlice.region = "eu-west-1"
	if st, code, _ := taskCall(t, e, euAlice, "GET", path, nil); st != 404 || code != "InvalidTaskID.NotFound" {
		t.Errorf("alice's task in eu-west-1: %d %s", st, code)
	}
	if st, _, rep := taskCall(t, e, alice, "GET", path, nil); st != 200 || rep.NetworkInterfaceID != task.NetworkInterfaceID {
		t.Fatalf("alice's own task after bob's calls: %d %+v", st, rep)
	}
	if _, err := a.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{task.NetworkInterfaceID}}); err != nil {
		t.Fatalf("bob's delete removed alice's ENI: %v", err)
	}
	if st, _, _ := taskCall(t, e, alice, "DELETE", path, nil); st != 200 {
		t.Fatalf("alice deletes her task: %d", st)
	}
	if st, code, _ := taskCall(t, e, alice, "DELETE", path, nil); st != 404 || code != "InvalidTaskID.NotFound" {
		t.Fatalf("deleting it again: %d %s", st, code)
	}
}

// The region of a task call is checked like any other: "zz/evil" persisted
// records that reloaded under region "zz" with ids "evil/vpc-…".
func TestTaskRegionInjection(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true, Tasks: func(string) bool { return true }})
	subnet := taskSubnet(t, e.Client())
	before, records := e.Core.Dump(), storeRecords(t, e)
	dev := taskKey{}
	for _, region := range []string{"zz/evil", "zz", "mars-north-9", "us-east-1/../eu-west-1", strings.Repeat("a", 3000)} {
		q := "?region=" + strings.NewReplacer("/", "%2F").Replace(region)
		checks := []struct {
			method, path string
			body         any
		}{
			{"POST", api.TasksPath, api.TaskRequest{Region: region, SubnetID: subnet}},
			{"POST", api.TasksPath + q, api.TaskRequest{SubnetID: subnet}},
			{"GET", api.TasksPath + "/task-0123456789abcdef0" + q, nil},
			{"PUT", api.TasksPath + "/task-0123456789abcdef0" + q, nil},
			{"DELETE", api.TasksPath + "/task-0123456789abcdef0" + q, nil},
		}
		for _, c := range checks {
			if st, code, _ := taskCall(t, e, dev, c.method, c.path, c.body); st != 403 || code != "SignatureDoesNotMatch" {
				t.Errorf("%s %.60s (region %.20s): %d %s, want 403 SignatureDoesNotMatch", c.method, c.path, region, st, code)
			}
		}
	}
	if after := e.Core.Dump(); !reflect.DeepEqual(before, after) {
		badDiff(t, before, after)
	}
	if n := storeRecords(t, e); n != records {
		t.Fatalf("store records: %d, were %d", n, records)
	}
	// What is on disk reloads into the served regions only.
	if err := e.Store.Load(func(kind, key string, _ []byte) error {
		if !strings.HasPrefix(key, "us-east-1/") || strings.Count(key, "/") != 1 {
			t.Errorf("stored key %s %s", kind, key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := core.New(core.Env{Now: time.Now}, core.DefaultConfig())
	if _, err := c.LoadFrom(e.Store.Load); err != nil || len(c.SkippedRegions()) != 0 {
		t.Fatalf("reload: %v, skipped %v", err, c.SkippedRegions())
	}
	// Signed, a region named must be the credential scope's.
	ae := taskAuthEnv(t)
	sub := taskSubnet(t, apitest.NewClient(ae.Server.URL, "us-east-1", alice.id, alice.secret))
	if st, code, _ := taskCall(t, ae, alice, "POST", api.TasksPath+"?region=eu-west-1", api.TaskRequest{SubnetID: sub}); st != 403 || code != "SignatureDoesNotMatch" {
		t.Fatalf("region other than the scope's: %d %s", st, code)
	}
}

// A DescribeTask with ?wait=S answers as soon as the task is up (TaskWait), and
// without it at once; a task still down after the wait is answered not ready.
func TestTaskWait(t *testing.T) {
	e, comeUp := waitingTaskEnv(t)
	_, _, task := taskCall(t, e, taskKey{}, "POST", api.TasksPath, api.TaskRequest{Region: "us-east-1", SubnetID: taskSubnet(t, e.Client())})
	path := api.TasksPath + "/" + task.TaskID + "?region=us-east-1"
	if _, _, rep := taskCall(t, e, taskKey{}, "GET", path, nil); rep.Ready {
		t.Fatal("ready before it is up")
	}
	start := time.Now()
	if _, _, rep := taskCall(t, e, taskKey{}, "GET", path+"&wait=0.2", nil); rep.Ready || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("wait=0.2 on a task that stays down: ready %v after %v", rep.Ready, time.Since(start))
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		comeUp()
	}()
	if _, _, rep := taskCall(t, e, taskKey{}, "GET", path+"&wait=5", nil); !rep.Ready {
		t.Fatal("wait=5: not ready, though the task came up")
	}
}

// A CreateTask with ?wait=S answers once the task is up, as a DescribeTask's
// wait does (run-task's one call before its command starts), and gives the
// task's VPC block and DHCP options: what its resolv.conf is made of.
func TestCreateTaskWaitsAndNamesItsVPC(t *testing.T) {
	e, comeUp := waitingTaskEnv(t)
	c := e.Client()
	spec := api.TaskRequest{Region: "us-east-1", SubnetID: taskSubnet(t, c)}
	start := time.Now()
	status, body, rep := taskCall(t, e, taskKey{}, "POST", api.TasksPath+"?wait=0.2", spec)
	if status != 200 || rep.Ready || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("wait=0.2 on a task that stays down: %d %s, ready %v after %v", status, body, rep.Ready, time.Since(start))
	}
	want := map[string][]string{"domain-name": {"ec2.internal"}, "domain-name-servers": {"AmazonProvidedDNS"}}
	if rep.VPCCIDR != "172.31.0.0/16" || !reflect.DeepEqual(rep.DHCPOptions, want) {
		t.Errorf("the default VPC: block %q, DHCP options %v; want 172.31.0.0/16, %v", rep.VPCCIDR, rep.DHCPOptions, want)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		comeUp()
	}()
	if _, body, rep := taskCall(t, e, taskKey{}, "POST", api.TasksPath+"?wait=5", spec); !rep.Ready {
		t.Fatalf("wait=5: not ready, though the task came up: %s", body)
	}
	// A VPC without DHCP options ("default"): its block, no options.
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.7.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{VpcId: vpc.Vpc.VpcId, DhcpOptionsId: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.7.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	spec.SubnetID = aws.ToString(sub.Subnet.SubnetId)
	if _, body, rep := taskCall(t, e, taskKey{}, "POST", api.TasksPath, spec); rep.VPCCIDR != "10.7.0.0/16" || rep.DHCPOptions != nil {
		t.Errorf("a VPC without DHCP options: %s", body)
	}
}

// waitingTaskEnv is a server whose tasks are down, and wait (TaskWait), until
// comeUp is called.
func waitingTaskEnv(t *testing.T) (e *apitest.Env, comeUp func()) {
	up := make(chan struct{})
	var isUp atomic.Bool
	e = apitest.New(t, apitest.Options{
		Tasks: func(string) bool { return isUp.Load() },
		TaskWait: func(ctx context.Context, _ string) bool {
			select {
			case <-up:
				return true
			case <-ctx.Done():
				return false
			}
		},
	})
	return e, func() { isUp.Store(true); close(up) }
}
