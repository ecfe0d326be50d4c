package e2e

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// User data runs once, as the instance's start script, inside its namespace
// (where eth0 carries the ENI's address).
func TestUserDataRunsInsideTheInstance(t *testing.T) {
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	marker := filepath.Join(t.TempDir(), "user-data.out")
	script := "#!/bin/sh\ncat /proc/net/dev > " + marker + ".tmp && mv " + marker + ".tmp " + marker + "\n"
	out, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12345678"), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(subnet), UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(script))),
	})
	e.must(err)
	inst := aws.ToString(out.Instances[0].InstanceId)
	e.waitRunning(inst)
	var got string
	e.waitFor("the user data script to run", func() (bool, string) {
		b, err := os.ReadFile(marker)
		got = string(b)
		return err == nil, ""
	})
	// It ran in the instance's namespace: its interfaces are lo and eth0,
	// not the host's.
	if !strings.Contains(got, "eth0:") || strings.Count(got, ":") != 2 {
		t.Fatalf("user data saw these interfaces, want lo and eth0 only:\n%s", got)
	}
}
