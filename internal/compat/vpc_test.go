package compat

import (
	"path/filepath"
	"testing"

	"github.com/eni-net/eni/internal/apitest"
)

// TestBoto3VPC runs tests/compat/boto3_vpc.py: DHCP options sets,
// egress-only internet gateways, subnet IPv6 blocks and IPv6-only subnets,
// VPC and subnet attributes, the default VPC made again, each reply checked
// on the wire against botocore's model.
func TestBoto3VPC(t *testing.T) {
	py := needBoto3(t)
	runScript(t, apitest.Options{}, nil, py, filepath.Join(scriptDir(t), "boto3_vpc.py"))
}

// TestBoto3VPCB runs tests/compat/boto3_vpcb.py: network ACLs, gateway route
// tables, the local and main route table associations, managed prefix lists
// and security group rule changes, each reply checked on the wire against
// botocore's model.
func TestBoto3VPCB(t *testing.T) {
	py := needBoto3(t)
	runScript(t, apitest.Options{}, nil, py, filepath.Join(scriptDir(t), "boto3_vpcb.py"))
}

// TestBoto3Peering runs tests/compat/boto3_peering.py: VPC peering through
// botocore's waiters, routes, peer group references and stale rules, each
// reply checked on the wire against botocore's model.
func TestBoto3Peering(t *testing.T) {
	py := needBoto3(t)
	runScript(t, apitest.Options{}, nil, py, filepath.Join(scriptDir(t), "boto3_peering.py"))
}
