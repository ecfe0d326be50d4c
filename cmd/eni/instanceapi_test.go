package main

import (
	"net/http"
	"testing"
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
