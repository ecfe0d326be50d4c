package dataplane

// Overlay joins this host's subnets to the other hosts of a cluster.
type Overlay struct {
	Local      string
	UnderlayNS string
	Port       int
	MTU        int
	Remote     []RemoteENI
}

// RemoteENI is an ENI realised on another host.
type RemoteENI struct {
	ENI
	Host string
}
