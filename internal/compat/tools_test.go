package compat

import (
	"path/filepath"
	"testing"

	"github.com/eni-net/eni/internal/apitest"
)

// TestBoto3Tools runs tests/compat/boto3_tools.py: the calls Ansible's
// amazon.aws modules, Terraform and the SDK waiters make around ENIs, through
// boto3, each reply checked on the wire against botocore's model.
func TestBoto3Tools(t *testing.T) {
	py := needBoto3(t)
	runScript(t, apitest.Options{}, nil, py, filepath.Join(scriptDir(t), "boto3_tools.py"))
}
