package dataplane

// Namespaces lists the network namespaces of this plane's prefix, sorted:
// what Teardown removes.
func (p *Plane) Namespaces() ([]string, error) { return listNS(p.prefix) }
