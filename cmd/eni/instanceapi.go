package main

import (
	"net"
	"net/http"
	"time"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/dataplane"
)

// instanceAPIFor is the data plane's PublicAPI for the serve flags: none under
// --auth none (unless --allow-insecure-bind).
func instanceAPIFor(authMode string, insecure bool, handler func() http.Handler) dataplane.MetadataServer {
	if authMode != "sigv4" && !insecure {
		return nil
	}
	return instanceAPI{handler: handler}
}

// instanceAPI serves the API to the instances, on the listener the data plane
// opens on the simulated internet (dataplane.Options.PublicAPI): the same
// handler as the host's listener, its query API only (api.ForInstances). It is only
// offered under --auth sigv4 (or --allow-insecure-bind): with --auth none
// every instance could act as the default account.
type instanceAPI struct{ handler func() http.Handler }

func (a instanceAPI) Serve(ln net.Listener) error {
	hs := &http.Server{
		Handler:           api.ForInstances(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.handler().ServeHTTP(w, r) })),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	return hs.Serve(ln)
}
