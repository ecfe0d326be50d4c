// Package instanceopts runs amazon.aws's own ec2_instance targets of launch options:
// hibernation, metadata options and uptime (see package ansible). Its own package, so
// that its targets have their own go test timeout on a loaded machine.
package instanceopts

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

// oldBotocore is why the tasks that need an older botocore than Debian's are not run.
const oldBotocore = "asserts the module's refusal under a botocore older than 1.23.30 at the " +
	"default interpreter (ansible-test's, pinned to the collection's minimum); the sessions " +
	"have one interpreter, Debian's botocore 1.29.27, and no other can be installed here " +
	"(Debian's packages only); it tests the module, not the API"

func TestAnsibleInstanceOptionTargets(t *testing.T) {
	ansible.RunTargets(t,
		// Hibernation needs an encrypted root volume; the target encrypts /dev/sda1, the
		// root device of the Fedora image it is run with upstream: the catalogue's image
		// with that root device is Debian's.
		ansible.Target{Name: "ec2_instance_hibernation_options", Vars: map[string]string{
			"ec2_ami_name": "debian-12-amd64-*", "ec2_ami_owner_id": "136693071363", "ec2_ami_ssh_user": "admin"}},
		ansible.Target{Name: "ec2_instance_metadata_options", Excluded: []ansible.Exclusion{
			{Task: "fail create t3.nano instance with metadata_options", Why: oldBotocore},
			{Task: "verify fail instance with metadata_options because insufficient boto3 requirements", Why: oldBotocore},
		}},
		ansible.Target{Name: "ec2_instance_uptime"},
	)
}
