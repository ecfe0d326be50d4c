// Package ansible runs Ansible sessions against the server: Debian's `ansible` package
// (ansible-core 2.14 with amazon.aws 5.5.1 and community.aws) and its python3-boto3,
// against a fresh server per session. The collection's own integration targets are
// vendored, unchanged, under tests/compat/ansible/targets (amazon.aws 5.5.1, GPL-3.0, see
// COPYING there); the harness adapts them to ansible-core 2.14 (see adaptYAML) and to a
// server that is not AWS (tests/compat/ansible/site). Its own package, so that its
// sessions (minutes each) have their own go test timeout.
package ansible

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.yaml.in/yaml/v3"

	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// ansiblePython is the interpreter Debian's ansible and python3-boto3 are installed for.
const ansiblePython = "/usr/bin/python3"

// The keys the sessions sign with (dev mode accepts any).
const (
	ansibleAccessKey = "AKIAENIANSIBLE000001"
	ansibleSecretKey = "eni+ansible/harness0secret0key0000000000"
)

// needAnsible returns ansible-playbook's path, or skips (fails under CI=true, whose
// .ci/run installs it) when Ansible or boto3 for Debian's python is missing.
func needAnsible(t *testing.T) string {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Ansible session: %s (.ci/run installs ansible and python3-boto3)", why)
		}
		t.Skipf("Ansible session skipped: %s (apt-get install ansible python3-boto3)", why)
	}
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		missing("ansible-playbook not found")
	}
	if err := exec.Command(ansiblePython, "-c", "import boto3, botocore").Run(); err != nil {
		missing(ansiblePython + " cannot import boto3")
	}
	return bin
}

// ansibleRun is one ansible-playbook run's outcome.
type ansibleRun struct {
	out                              string
	ok, changed, failed, unreachable int
}

var recapRe = regexp.MustCompile(`(?m)^localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

// runPlaybook runs playbook against the server at url with extra vars, from dir.
func runPlaybook(t *testing.T, bin, url, dir, playbook string, rolesPath string, vars map[string]string, args ...string) ansibleRun {
	t.Helper()
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-15*time.Second))
		defer cancel()
	}
	argv := []string{"-i", "localhost,", playbook, "-e", "ansible_python_interpreter=" + ansiblePython}
	for k, v := range vars {
		argv = append(argv, "-e", k+"="+v)
	}
	cmd := exec.CommandContext(ctx, bin, append(argv, args...)...)
	cmd.Dir = dir
	tmp := t.TempDir()
	cmd.Env = append(clientEnv(t),
		"EC2_URL="+url, "AWS_URL="+url, "ENI_ENDPOINT_URL="+url,
		"PYTHONPATH="+filepath.Join(scriptDir(t), "ansible", "site"),
		"ANSIBLE_ROLES_PATH="+rolesPath,
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", "ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_LOCAL_TEMP="+tmp, "ANSIBLE_REMOTE_TEMP="+tmp,
		// botocore's models parsed once a session (site/sitecustomize.py)
		"ENI_BOTOCORE_CACHE="+t.TempDir(),
		"ANSIBLE_DEPRECATION_WARNINGS=0",
		// each task's start time and duration, and the slowest at the end of the run
		"ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks",
		// one python process per task, no module files written first: a third less time
		"ANSIBLE_PIPELINING=True",
		// as ansible-test's AWS cloud provider: modules report the API calls they made
		// (resource_actions), which the targets assert on.
		"ANSIBLE_DEBUG_BOTOCORE_LOGS=True",
		// Ansible masks the values of no_log parameters (the keys) wherever they appear in
		// a module's output: keys that appear in no data ("test" would mask every
		// "Created by ansible-test" tag).
		"AWS_ACCESS_KEY_ID="+ansibleAccessKey, "AWS_SECRET_ACCESS_KEY="+ansibleSecretKey,
	)
	out, err := cmd.CombinedOutput()
	r := ansibleRun{out: string(out)}
	m := recapRe.FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("ansible-playbook %s: no recap (%v)\n%s", filepath.Base(playbook), err, tail(r.out, 60))
	}
	fmt.Sscan(m[1], &r.ok)
	fmt.Sscan(m[2], &r.changed)
	fmt.Sscan(m[3], &r.unreachable)
	fmt.Sscan(m[4], &r.failed)
	if testing.Verbose() {
		t.Logf("%s:\n%s", filepath.Base(playbook), r.out)
	}
	return r
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// failures is every failed task of a run, with its message, for a test failure.
func failures(out string) string {
	var b strings.Builder
	task := ""
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "TASK [") {
			task = l
		}
		if !strings.HasPrefix(l, "fatal: ") {
			continue
		}
		block := []string{l}
		for i+1 < len(lines) && lines[i+1] != "" && !strings.HasPrefix(lines[i+1], "TASK [") {
			i++
			block = append(block, lines[i])
		}
		text := strings.Join(block, "\n")
		if strings.Contains(text, "...ignoring") || (i+1 < len(lines) && strings.HasPrefix(lines[i+1], "...ignoring")) {
			continue
		}
		if len(text) > 1500 {
			text = text[:1500] + "…"
		}
		fmt.Fprintf(&b, "%s\n%s\n", task, text)
	}
	return b.String()
}

// An Exclusion is a task of a vendored target the harness does not run, and why.
type Exclusion struct{ Task, Why string }

// A Target is one of the collection's integration targets, the tasks of it not run and
// the upstream fixes it is run with.
type Target struct {
	Name     string
	Excluded []Exclusion
	Fixes    []Fix
	// Vars override the harness's variables (the image setup_ec2_facts looks for …).
	Vars map[string]string
}

// A Fix is a change the collection's maintainers made to a vendored target after the
// vendored release (the target as released cannot pass against AWS either): in File
// (under tests/compat/ansible/targets), the text Old, found exactly once, becomes New.
// Why names the upstream commit.
type Fix struct{ File, Old, New, Why string }

// targetSeed seeds the server of every target run (see apitest.Options.Seed).
const targetSeed = 0x656e69616e73

// RunTargets runs amazon.aws 5.5.1's own integration targets (vendored under
// tests/compat/ansible/targets) against a fresh server each, as subtests: every task but
// the excluded ones must pass.
func RunTargets(t *testing.T, targets ...Target) {
	bin := needAnsible(t)
	for _, tg := range targets {
		t.Run(tg.Name, func(t *testing.T) {
			roles := adaptTargets(t, tg.Excluded, tg.Fixes)
			// As eni serve by default (and AWS): addresses nobody asked for are
			// random free ones of the subnet (ec2_eni creates interfaces without an
			// address, then asks for .133–.135 of its subnet). A fixed seed: the
			// same ids and addresses on every run, so a failure can be replayed.
			cfg := core.DefaultConfig()
			cfg.PrivateIPAllocation = core.AllocRandom
			e := apitest.New(t, apitest.Options{Config: &cfg, Seed: targetSeed})
			dir := t.TempDir()
			run := filepath.Join(dir, "run.yml")
			body := "- hosts: localhost\n  connection: local\n  gather_facts: no\n  roles:\n    - " + tg.Name + "\n"
			if err := os.WriteFile(run, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{
				"aws_access_key": ansibleAccessKey, "aws_secret_key": ansibleSecretKey, "aws_region": "us-east-1",
				// ansible-test's AWS cloud provider defines ec2_region too (older targets use it)
				"ec2_region":      "us-east-1",
				"resource_prefix": "eni-ansible-" + strings.ReplaceAll(tg.Name, "_", "-"),
				"tiny_prefix":     "enians",
				// setup_ec2_facts looks for a Fedora image by its owner; the server's
				// catalogue has Amazon Linux 2023 (the targets need any x86_64 HVM EBS image).
				"ec2_ami_name": "al2023-ami-2023*-x86_64", "ec2_ami_owner_id": "137112412989",
				"ec2_ami_ssh_user": "ec2-user",
			}
			maps.Copy(vars, tg.Vars)
			r := runPlaybook(t, bin, e.Server.URL, dir, run, roles, vars, "--skip-tags", "eni_excluded")
			if r.failed > 0 || r.unreachable > 0 {
				t.Fatalf("%s: %d tasks failed (ok=%d changed=%d):\n%s", tg.Name, r.failed, r.ok, r.changed, failures(r.out))
			}
			t.Logf("%s: ok=%d changed=%d failed=0, %d tasks excluded", tg.Name, r.ok, r.changed, len(tg.Excluded))
		})
	}
}

// adaptTargets copies the vendored targets to a temporary roles path with the two
// changes the harness makes: comparisons with '{{ x }}' become comparisons with (x), and
// the excluded tasks are tagged eni_excluded (the run skips that tag). The harness's own
// roles (tests/compat/ansible/roles: stand-ins for setup roles that would install from
// PyPI) go with them. Upstream's later fixes of a target are applied first.
func adaptTargets(t *testing.T, excluded []Exclusion, fixes []Fix) string {
	t.Helper()
	dst := t.TempDir()
	found := map[string]bool{}
	for _, dir := range []string{"targets", "roles"} {
		copyRoles(t, filepath.Join(scriptDir(t), "ansible", dir), dst, excluded, fixes, found)
	}
	for _, x := range excluded {
		if !found[x.Task] {
			t.Fatalf("excluded task %q not found in the targets", x.Task)
		}
	}
	for _, f := range fixes {
		if !found["fix:"+f.File+"\x00"+f.Old] {
			t.Fatalf("fix of %s (%s): file not found", f.File, f.Why)
		}
	}
	return dst
}

// applyFixes makes the upstream fixes of the vendored file rel in its text, each of whose
// Old text must be found exactly once.
func applyFixes(rel, text string, fixes []Fix, found map[string]bool) (string, error) {
	for _, f := range fixes {
		if filepath.Clean(f.File) != rel {
			continue
		}
		if n := strings.Count(text, f.Old); n != 1 {
			return "", fmt.Errorf("fix of %s (%s): %q found %d times, want once", f.File, f.Why, f.Old, n)
		}
		text = strings.Replace(text, f.Old, f.New, 1)
		found["fix:"+f.File+"\x00"+f.Old] = true
	}
	return text, nil
}

// copyRoles copies the roles under src to dst, adapted (see adaptTargets).
func copyRoles(t *testing.T, src, dst string, excluded []Exclusion, fixes []Fix, found map[string]bool) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml") {
			text, err := applyFixes(rel, string(b), fixes, found)
			if err != nil {
				return err
			}
			y, err := adaptYAML(text, excluded, found)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			b = []byte(y)
		}
		if rel == filepath.Join(filepath.Base(filepath.Dir(filepath.Dir(p))), "meta", "main.yml") {
			b = []byte(adaptMeta(string(b)))
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// adaptYAML rewrites the conditionals of a target's file (that, when, failed_when,
// changed_when, until) so that they hold no template: ansible-core 2.14.18 refuses to
// evaluate a conditional templated from registered (unsafe) data ("Conditional is marked
// as unsafe"). `x == '{{ y }}'` becomes `x == (” ~ (y) ~ ”)`, the same comparison of
// strings. It also tags the excluded tasks eni_excluded (the run skips that tag).
func adaptYAML(src string, excluded []Exclusion, found map[string]bool) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return "", err
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				switch k.Value {
				case "that", "when", "failed_when", "changed_when", "until":
					untemplateNode(v)
				case "name":
					for _, x := range excluded {
						if v.Value == x.Task {
							n.Content = append(n.Content,
								&yaml.Node{Kind: yaml.ScalarNode, Value: "tags"},
								&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "eni_excluded"}}})
							found[x.Task] = true
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	out, err := yaml.Marshal(&doc)
	return string(out), err
}

func untemplateNode(n *yaml.Node) {
	switch n.Kind {
	case yaml.ScalarNode:
		if strings.Contains(n.Value, "{{") {
			n.Value = untemplate(n.Value)
			n.Style = yaml.DoubleQuotedStyle
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			untemplateNode(c)
		}
	}
}

// untemplate turns a Jinja expression with embedded {{ }} into one without: a bare
// {{ x }} becomes (x); a string literal with templates in it becomes the concatenation
// ('…' ~ (x) ~ '…').
func untemplate(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			j := strings.Index(s[i:], "}}")
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			fmt.Fprintf(&b, "(%s)", strings.TrimSpace(s[i+2:i+j]))
			i += j + 2
		case s[i] == '\'' || s[i] == '"':
			q := s[i]
			parts := []string{}
			var piece strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != q; j++ {
				switch {
				case s[j] == '\\' && j+1 < len(s):
					piece.WriteString(s[j : j+2])
					j++
				case strings.HasPrefix(s[j:], "{{") && strings.Contains(s[j:], "}}"):
					k := strings.Index(s[j:], "}}")
					parts = append(parts, string(q)+piece.String()+string(q), "("+strings.TrimSpace(s[j+2:j+k])+")")
					piece.Reset()
					j += k + 1
				default:
					piece.WriteByte(s[j])
				}
			}
			last := string(q) + piece.String() + string(q)
			if len(parts) == 0 {
				b.WriteString(last)
			} else {
				b.WriteString("(" + strings.Join(append(parts, last), " ~ ") + ")")
			}
			i = j + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// adaptMeta makes a role's meta say which collections its short module names come from,
// as running inside the collection (ansible-test) does.
func adaptMeta(s string) string {
	return "collections: [amazon.aws, community.aws]\n" + s
}

// RunNetwork runs tests/compat/ansible/playbooks/network.yml, the seed's
// management network as a user writes it with amazon.aws and community.aws: applied, then
// again (changed=0), the floating ENI moved to the other instance with its Elastic IP, again
// (changed=0), then torn down by teardown.yml with nothing of it left.
func RunNetwork(t *testing.T) {
	bin := needAnsible(t)
	e := apitest.New(t, apitest.Options{})
	dir := filepath.Join(scriptDir(t), "ansible", "playbooks")
	vars := map[string]string{"aws_region": "us-east-1", "resource_prefix": "seed", "image_id": "ami-0a3c3a20c09d6f377"}
	play := func(name, owner string) ansibleRun {
		t.Helper()
		v := map[string]string{"eni_owner": owner}
		for k, x := range vars {
			v[k] = x
		}
		r := runPlaybook(t, bin, e.Server.URL, dir, filepath.Join(dir, name), dir, v)
		if r.failed > 0 || r.unreachable > 0 {
			t.Fatalf("%s (eni_owner=%s): %d tasks failed:\n%s", name, owner, r.failed, failures(r.out))
		}
		t.Logf("%s eni_owner=%s: ok=%d changed=%d", name, owner, r.ok, r.changed)
		return r
	}
	if r := play("network.yml", "a"); r.changed == 0 {
		t.Fatal("the first run changed nothing")
	}
	if r := play("network.yml", "a"); r.changed != 0 {
		t.Fatalf("the second run changed %d tasks, want 0:\n%s", r.changed, changedTasks(r.out))
	}
	if r := play("network.yml", "b"); r.changed == 0 {
		t.Fatal("moving the ENI to b changed nothing")
	}
	if r := play("network.yml", "b"); r.changed != 0 {
		t.Fatalf("the run after the move changed %d tasks, want 0:\n%s", r.changed, changedTasks(r.out))
	}
	play("teardown.yml", "b")
	assertNothingLeft(t, e)
}

// changedTasks names the tasks a run reported as changed.
func changedTasks(out string) string {
	var b strings.Builder
	task := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "TASK [") {
			task = l
		}
		if strings.HasPrefix(l, "changed: ") {
			fmt.Fprintf(&b, "%s\n", task)
		}
	}
	return b.String()
}

// assertNothingLeft fails unless the account holds only what a fresh region has: the
// default VPC's things, no instance that is not terminated, no ENI, Elastic IP, key pair
// or launch template.
func assertNothingLeft(t *testing.T, e *apitest.Env) {
	t.Helper()
	ctx := context.Background()
	c := e.Client()
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vpcs.Vpcs {
		if !aws.ToBool(v.IsDefault) {
			t.Errorf("VPC %s left", aws.ToString(v.VpcId))
		}
	}
	res, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Reservations {
		for _, i := range r.Instances {
			if i.State.Name != types.InstanceStateNameTerminated {
				t.Errorf("instance %s left %s", aws.ToString(i.InstanceId), i.State.Name)
			}
		}
	}
	enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range enis.NetworkInterfaces {
		t.Errorf("ENI %s left (%s)", aws.ToString(n.NetworkInterfaceId), n.Status)
	}
	addrs, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs.Addresses {
		t.Errorf("Elastic IP %s left", aws.ToString(a.PublicIp))
	}
	keys, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.KeyPairs {
		t.Errorf("key pair %s left", aws.ToString(k.KeyName))
	}
	lts, err := c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range lts.LaunchTemplates {
		t.Errorf("launch template %s left", aws.ToString(lt.LaunchTemplateName))
	}
}

// scriptDir is tests/compat at the root of the module.
func scriptDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "tests", "compat")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("scripts: %v", err)
	}
	return dir
}

// clientEnv is the environment of an ansible-playbook process: no user configuration,
// proxy or credentials may change the run, nor PYTHONUNBUFFERED its cost.
func clientEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "ANSIBLE_"), strings.HasPrefix(k, "ENI_"),
			strings.EqualFold(k, "http_proxy"), strings.EqualFold(k, "https_proxy"),
			strings.EqualFold(k, "no_proxy"), strings.EqualFold(k, "all_proxy"), k == "PYTHONPATH",
			// With pipelining, a module's python reads its program (the AnsiballZ
			// payload, 130–300 KB) from a pipe, one byte a read(2) when stdio is
			// unbuffered: over a quarter of an AWS module task's CPU.
			k == "PYTHONUNBUFFERED", k == "TMPDIR":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"NO_PROXY=127.0.0.1,localhost",
		"HOME="+t.TempDir(), // no ~/.ansible, no ~/.aws
		// The tempfile module (setup_sshkey's keys) and python make their
		// files here, which the test removes.
		"TMPDIR="+t.TempDir(),
	)
}
