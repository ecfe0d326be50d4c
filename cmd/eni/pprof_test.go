package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWithPprof(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api")) })
	h := withPprof(api)
	for path, want := range map[string]string{"/debug/pprof/": "goroutine", "/": "api", "/metrics": "api"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d %.80q, want 200 with %q", path, rec.Code, rec.Body.String(), want)
		}
	}
}

func TestDefaultMemoryLimit(t *testing.T) {
	if memTotal() == 0 {
		t.Skip("no /proc/meminfo here")
	}
	if lim := defaultMemoryLimit(); lim <= 0 || lim > memTotal() {
		t.Errorf("defaultMemoryLimit() = %d with MemTotal %d", lim, memTotal())
	}
}
