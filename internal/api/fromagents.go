package api

import (
	"context"
	"crypto/subtle"
	"net/http"
)

// In a cluster (eni agent), the instances' listeners are on the hosts: each
// agent serves the API's public listener on its simulated internet and the
// listeners of the interface endpoints realised on it by forwarding the
// requests to an API replica, with the cluster's agent token (a secret kept in
// etcd that instances never see) and the service of the endpoint a request
// came in through.
const (
	AgentTokenHeader    = "X-Eni-Agent-Token"
	AgentEndpointHeader = "X-Eni-Endpoint"
)

// FromAgents serves h, and the requests the cluster's agents forward with
// token as the instances' listeners would serve them: as ForEndpoint for the
// service they name, else as ForInstances. A request with a wrong token is
// refused; one without keeps no endpoint header.
func FromAgents(h http.Handler, token []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(AgentTokenHeader)
		service := r.Header.Get(AgentEndpointHeader)
		r.Header.Del(AgentTokenHeader)
		r.Header.Del(AgentEndpointHeader)
		switch {
		case got == "":
			h.ServeHTTP(w, r)
		case len(token) == 0 || subtle.ConstantTimeCompare([]byte(got), token) != 1:
			http.Error(w, "forbidden", http.StatusForbidden)
		case service != "":
			ForEndpoint(h, service).ServeHTTP(w, r)
		default:
			ForInstances(h).ServeHTTP(w, r)
		}
	})
}

// EndpointService is the service of the interface endpoint a request came in
// through (ForEndpoint), if it came through one.
func EndpointService(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(endpointKey{}).(string)
	return s, ok
}
