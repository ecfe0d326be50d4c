package compat

import (
	"path/filepath"
	"testing"

	"github.com/eni-net/eni/internal/apitest"
)

// TestBoto3EBS runs tests/compat/boto3_ebs.py: EBS volumes with boto3's
// volume waiters, and the instance options Terraform's aws_instance
// modifies and reads back, each reply checked on the wire against
// botocore's model.
func TestBoto3EBS(t *testing.T) {
	py := needBoto3(t)
	runScript(t, apitest.Options{}, nil, py, filepath.Join(scriptDir(t), "boto3_ebs.py"))
}
