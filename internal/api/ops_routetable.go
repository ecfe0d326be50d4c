package api

import "github.com/eni-net/eni/internal/core"

// routeTableAssocOps registers the route table actions beyond those of
// subnetOps: moving associations (the main one too).
func routeTableAssocOps(m map[string]handler) {
	m["ReplaceRouteTableAssociation"] = write((*core.Tx).ReplaceRouteTableAssociation)
}
