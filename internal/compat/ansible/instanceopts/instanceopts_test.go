// Package instanceopts runs amazon.aws's own ec2_instance targets of launch options
// (see package ansible). Its own package, so
// that its targets have their own go test timeout on a loaded machine.
package instanceopts

import (
	"testing"

	"github.com/eni-net/eni/internal/compat/ansible"
)

func TestAnsibleInstanceOptionTargets(t *testing.T) {
	ansible.RunTargets(t,
		// Hibernation needs an encrypted root volume; the target encrypts /dev/sda1, the
		// root device of the Fedora image it is run with upstream: the catalogue's image
		// with that root device is Debian's.
		ansible.Target{Name: "ec2_instance_hibernation_options", Vars: map[string]string{
			"ec2_ami_name": "debian-12-amd64-*", "ec2_ami_owner_id": "136693071363", "ec2_ami_ssh_user": "admin"}},
	)
}
