package api

import "github.com/eni-net/eni/internal/core"

// iamInstanceProfileOps registers the actions of instances' IAM instance
// profile associations.
func iamInstanceProfileOps(m map[string]handler) {
	m["AssociateIamInstanceProfile"] = write((*core.Tx).AssociateIamInstanceProfile)
	m["ReplaceIamInstanceProfileAssociation"] = write((*core.Tx).ReplaceIamInstanceProfileAssociation)
	m["DisassociateIamInstanceProfile"] = write((*core.Tx).DisassociateIamInstanceProfile)
	m["DescribeIamInstanceProfileAssociations"] = read((*core.Tx).DescribeIamInstanceProfileAssociations)
}
