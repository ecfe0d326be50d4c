// Package keypair runs amazon.aws's own ec2_key target (see package ansible). Its own
// package, so that its target has its own go test timeout on a loaded machine.
package keypair

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

// oldBotocore is why the tasks that need an older botocore than Debian's are not run.
const oldBotocore = "asserts the module's refusal of key_type under a botocore older than " +
	"1.21.23 at the default interpreter (ansible-test's, pinned to the collection's minimum); " +
	"the sessions have one interpreter, Debian's botocore 1.29.27, and no other can be " +
	"installed here (Debian's packages only); it tests the module, not the API"

func TestAnsibleKeyTargets(t *testing.T) {
	ansible.RunTargets(t, ansible.Target{Name: "ec2_key", Excluded: []ansible.Exclusion{
		{Task: "test create ED25519 key pair type with botocore <= 1.21.23", Why: oldBotocore},
		{Task: "assert that task failed", Why: oldBotocore},
	}})
}
