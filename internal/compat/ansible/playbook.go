package ansible

import (
	"path/filepath"
	"testing"

	"github.com/eni-net/eni/internal/apitest"
)

// RunPlaybook runs tests/compat/ansible/playbooks/<name> once against a fresh server,
// fails the test on any failed task, and then checks that the account is left as a fresh
// region is (the playbook deletes what it made).
func RunPlaybook(t *testing.T, name string) {
	bin := needAnsible(t)
	e := apitest.New(t, apitest.Options{})
	dir := filepath.Join(scriptDir(t), "ansible", "playbooks")
	vars := map[string]string{"aws_region": "us-east-1", "resource_prefix": "eni-" + name}
	r := runPlaybook(t, bin, e.Server.URL, dir, filepath.Join(dir, name), dir, vars)
	if r.failed > 0 || r.unreachable > 0 {
		t.Fatalf("%s: %d tasks failed:\n%s", name, r.failed, failures(r.out))
	}
	t.Logf("%s: ok=%d changed=%d", name, r.ok, r.changed)
	assertNothingLeft(t, e)
}
