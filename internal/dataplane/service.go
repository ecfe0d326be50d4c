package dataplane

import "net"

// ServiceListener is a listener the server serves inside an instance-like
// namespace: an interface VPC endpoint of the server's own EC2 API listens on
// its network interface's address, ports 80 (plain HTTP) and 443 (TLS).
type ServiceListener struct {
	Instance string // the namespace's instance id (its ENI's id for an endpoint)
	Addr     string
}

// EndpointServer serves the EC2 API on the listeners the plane hands it (tls: the
// connections are to port 443), until they are closed.
type EndpointServer interface {
	ServeEndpoint(ln net.Listener, tls bool) error
}

// Endpoint ports.
const (
	endpointHTTP  = 80
	endpointHTTPS = 443
)
