package api

import (
	"bytes"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/ec2query"
	"github.com/eni-net/eni/internal/ec2wire"
)

// vpcPeeringOps registers the VPC peering connection actions.
func vpcPeeringOps(m map[string]handler) {
	m["CreateVpcPeeringConnection"] = createVpcPeering
	m["AcceptVpcPeeringConnection"] = write((*core.Tx).AcceptVpcPeeringConnection)
	m["RejectVpcPeeringConnection"] = write((*core.Tx).RejectVpcPeeringConnection)
	m["DeleteVpcPeeringConnection"] = write((*core.Tx).DeleteVpcPeeringConnection)
	m["DescribeVpcPeeringConnections"] = read((*core.Tx).DescribeVpcPeeringConnections)
	m["ModifyVpcPeeringConnectionOptions"] = write((*core.Tx).ModifyVpcPeeringConnectionOptions)
	m["DescribeSecurityGroupReferences"] = read((*core.Tx).DescribeSecurityGroupReferences)
	m["DescribeStaleSecurityGroups"] = read((*core.Tx).DescribeStaleSecurityGroups)
}

// createVpcPeering reads the accepter VPC first when it is in another
// region (PeerRegion): the request's transaction sees only the caller's.
func createVpcPeering(s *Server, r *request, buf *bytes.Buffer) error {
	in := new(ec2wire.CreateVpcPeeringConnectionInput)
	if err := ec2query.Decode(r.params, in); err != nil {
		return err
	}
	var peer *core.PeerVPC
	if pr := in.PeerRegion; pr != nil && *pr != r.who.Region && s.core.ServesRegion(*pr) && in.PeerVpcId != nil {
		peer = s.core.PeerVPC(*pr, *in.PeerVpcId)
	}
	return write(func(tx *core.Tx, in *ec2wire.CreateVpcPeeringConnectionInput) (*ec2wire.CreateVpcPeeringConnectionOutput, error) {
		return tx.CreateVpcPeeringConnectionWith(in, peer)
	})(s, r, buf)
}
