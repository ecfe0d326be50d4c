package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/store"
)

// A cluster's instance-facing API listeners (the public API on each host's
// simulated internet, interface VPC endpoints) are on the hosts: each agent
// forwards what instances send there to an API replica (agentAPI), which
// serves it as its own listeners would (api.FromAgents). Two secrets in etcd
// make that work: the agents' token, which eni serve stores only when it
// offers the API to instances (--auth sigv4, or --allow-insecure-bind), and
// the VPC endpoint CA, whose leaves every host's endpoints present.
const (
	agentTokenSecret = "agent-token"
	endpointCASecret = "vpc-endpoint-ca"
)

// errNoInstanceAPI: eni serve has not stored the agents' token.
var errNoInstanceAPI = errors.New("the API is not offered to instances (eni serve --auth sigv4, or --allow-insecure-bind)")

// clusterInstanceAccess is eni serve's side (--cluster): the agents' token
// when the API is offered to instances (nil: agents' requests are refused),
// and the shared endpoint CA's certificate written to dataDir for clients.
func clusterInstanceAccess(ctx context.Context, es *store.Etcd, offered bool, dataDir string, log *slog.Logger) ([]byte, error) {
	if !offered {
		return nil, nil
	}
	tok, err := es.Secret(ctx, agentTokenSecret, func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return []byte(hex.EncodeToString(b)), err
	})
	if err != nil {
		return nil, err
	}
	ca, err := sharedEndpointCA(ctx, es)
	if err != nil {
		return nil, err
	}
	if dataDir != "" {
		path := filepath.Join(dataDir, api.EndpointCAFile)
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, ca.PEM, 0o644); err != nil {
			return nil, err
		}
		log.Info("VPC endpoint CA (the cluster's, kept in etcd)", "path", path)
	}
	return tok, nil
}

// sharedEndpointCA is the cluster's VPC endpoint CA, made by whoever asks
// first.
func sharedEndpointCA(ctx context.Context, es *store.Etcd) (*api.EndpointCA, error) {
	type pair struct{ Cert, Key []byte }
	b, err := es.Secret(ctx, endpointCASecret, func() ([]byte, error) {
		ca, key, err := api.NewEndpointCA()
		if err != nil {
			return nil, err
		}
		return json.Marshal(pair{Cert: ca.PEM, Key: key})
	})
	if err != nil {
		return nil, err
	}
	var p pair
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("VPC endpoint CA in etcd: %w", err)
	}
	return api.ParseEndpointCA(p.Cert, p.Key)
}

// agentAPI forwards the instances' API requests to an API replica (the
// writer's URL from the election, or --api-url), with the agents' token and
// the service of the endpoint a request came in through.
type agentAPI struct {
	es    *store.Etcd
	fixed *url.URL
	proxy *httputil.ReverseProxy

	mu      sync.Mutex
	token   []byte
	target  *url.URL
	checked time.Time
}

type agentRoute struct {
	target *url.URL
	token  []byte
}

type agentRouteKey struct{}

func newAgentAPI(es *store.Etcd, apiURL string, log *slog.Logger) (*agentAPI, error) {
	a := &agentAPI{es: es}
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--api-url %q: not an http(s) URL", apiURL)
		}
		a.fixed = u
	}
	a.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			rt := pr.In.Context().Value(agentRouteKey{}).(agentRoute)
			pr.SetURL(rt.target)
			pr.Out.Host = pr.In.Host // SigV4 signs the host the client called
			pr.SetXForwarded()
			pr.Out.Header.Set(api.AgentTokenHeader, string(rt.token))
			pr.Out.Header.Del(api.AgentEndpointHeader) // the instance's says nothing
			if svc, ok := api.EndpointService(pr.In.Context()); ok {
				pr.Out.Header.Set(api.AgentEndpointHeader, svc)
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("agent: an instance's API request was not forwarded", "err", err)
			http.Error(w, "the EC2 API is unreachable from this host", http.StatusBadGateway)
		},
	}
	return a, nil
}

func (a *agentAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, err := a.route(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	a.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), agentRouteKey{}, rt)))
}

// route is where requests go now, with which token.
func (a *agentAPI) route(ctx context.Context) (agentRoute, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == nil {
		tok, err := a.es.Secret(ctx, agentTokenSecret, func() ([]byte, error) { return nil, errNoInstanceAPI })
		if err != nil {
			return agentRoute{}, err
		}
		a.token = tok
	}
	if a.fixed != nil {
		return agentRoute{target: a.fixed, token: a.token}, nil
	}
	if a.target == nil || time.Since(a.checked) > time.Second {
		resp, err := a.es.Client().Get(ctx, a.es.Prefix()+"leader", clientv3.WithFirstCreate()...)
		if err != nil {
			return agentRoute{}, fmt.Errorf("the API's writer: %w", err)
		}
		if len(resp.Kvs) == 0 {
			return agentRoute{}, errors.New("no API replica is the writer")
		}
		u, err := url.Parse(string(resp.Kvs[0].Value))
		if err != nil {
			return agentRoute{}, fmt.Errorf("the API's writer: %w", err)
		}
		a.target, a.checked = u, time.Now()
	}
	return agentRoute{target: a.target, token: a.token}, nil
}
