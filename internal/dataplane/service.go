package dataplane

import "net"

// ServiceListener is a listener the server serves inside an instance-like
// namespace: an interface VPC endpoint of a service the server answers (its
// EC2 API, STS) listens on its network interface's address, ports 80 (plain
// HTTP) and 443 (TLS).
type ServiceListener struct {
	Instance string // the namespace's instance id (its ENI's id for an endpoint)
	Addr     string
	Service  string // "ec2", "sts"
}

// EndpointServer serves a service's API on the listeners the plane hands it (tls:
// the connections are to port 443), until they are closed.
type EndpointServer interface {
	ServeEndpoint(ln net.Listener, service string, tls bool) error
}

// Endpoint ports.
const (
	endpointHTTP  = 80
	endpointHTTPS = 443
)
