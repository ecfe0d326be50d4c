package main

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/eni-net/eni/internal/api"
)

// Instances get the API on the simulated internet only when requests must be
// signed: under --auth none any instance would act as the default account.
func TestInstanceAPIOnlyWithAuth(t *testing.T) {
	h := func() http.Handler { return http.NotFoundHandler() }
	if instanceAPIFor("none", false, h) != nil {
		t.Error("--auth none: the API is offered to instances")
	}
	if instanceAPIFor("sigv4", false, h) == nil || instanceAPIFor("none", true, h) == nil {
		t.Error("--auth sigv4 (or --allow-insecure-bind): no API for instances")
	}
}

// The instances' API listener serves the query API only: the host's paths (metrics
// counting every account's calls, health, tasks, reset) are not found there, as an
// instance asking for them is any tenant (TestAttackPublicAPIHostPaths sends them
// from inside an instance).
func TestInstanceAPIQueryOnly(t *testing.T) {
	h := func() http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("served")) })
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { _ = instanceAPIFor("sigv4", false, h).Serve(ln) }()
	base := "http://" + ln.Addr().String()
	for path, want := range map[string]int{"/": 200, "/metrics": 404, "/healthz": 404, api.ResetPath: 404, api.MotoResetPath: 404,
		api.TasksPath: 404} {
		resp, err := http.Post(base+path, "application/x-www-form-urlencoded", strings.NewReader("Action=DescribeVpcs"))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s on the instances' listener: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
