package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/apitest"
)

// TestVPCEndpointAfterKill9: eni serve itself (--auth sigv4, a data directory, the
// Linux data plane) with an EC2 interface endpoint that a program inside an instance
// calls (the SDK for Go, instance credentials, the default endpoint by private DNS,
// HTTPS with the CA from the data directory); the server killed with SIGKILL, nothing
// answers at the endpoint; started again on the same directory, the endpoint answers
// again, with the same CA, and the instance's credentials still work.
func TestVPCEndpointAfterKill9(t *testing.T) {
	requireNetAdmin(t)
	bin := eniBinary(t)
	dir := t.TempDir()
	credPath := filepath.Join(dir, "credentials")
	if err := os.WriteFile(credPath, []byte("test test 123456789012\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := newServeProc(t, "k", filepath.Join(dir, "data"), "--auth", "sigv4", "--credentials", credPath)
	url, prefix := srv.url, srv.prefix
	start, kill := srv.start, srv.kill
	start()

	c := apitest.NewClient(url, "us-east-1", "test", "test")
	ic := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	_, err := ic.CreateRole(ctx(), &iam.CreateRoleInput{RoleName: aws.String("app-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	must(t, err)
	_, err = ic.CreateInstanceProfile(ctx(), &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app")})
	must(t, err)
	_, err = ic.AddRoleToInstanceProfile(ctx(), &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app"), RoleName: aws.String("app-role")})
	must(t, err)
	v, err := c.CreateVpc(ctx(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.63.0.0/16")})
	must(t, err)
	vpc := v.Vpc.VpcId
	_, err = c.ModifyVpcAttribute(ctx(), &ec2.ModifyVpcAttributeInput{VpcId: vpc, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	must(t, err)
	sn, err := c.CreateSubnet(ctx(), &ec2.CreateSubnetInput{VpcId: vpc, CidrBlock: aws.String("10.63.1.0/24"), AvailabilityZone: aws.String(testAZ)})
	must(t, err)
	sg, err := c.CreateSecurityGroup(ctx(), &ec2.CreateSecurityGroupInput{VpcId: vpc, GroupName: aws.String("https"), Description: aws.String("https")})
	must(t, err)
	_, err = c.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), IpRanges: []types.IpRange{{CidrIp: aws.String("10.63.0.0/16")}}}}})
	must(t, err)
	run, err := c.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: sn.Subnet.SubnetId, IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("app")}})
	must(t, err)
	inst := aws.ToString(run.Instances[0].InstanceId)
	ep, err := c.CreateVpcEndpoint(ctx(), &ec2.CreateVpcEndpointInput{VpcId: vpc, ServiceName: aws.String("com.amazonaws.us-east-1.ec2"),
		VpcEndpointType: types.VpcEndpointTypeInterface, SubnetIds: []string{aws.ToString(sn.Subnet.SubnetId)}, SecurityGroupIds: []string{aws.ToString(sg.GroupId)},
		PrivateDnsEnabled: aws.Bool(true)})
	must(t, err)
	vpce := aws.ToString(ep.VpcEndpoint.VpcEndpointId)
	caPath := filepath.Join(dir, "data", api.EndpointCAFile)
	ca, err := os.ReadFile(caPath)
	must(t, err)

	call := func(timeout time.Duration) (string, error) {
		cmd := exec.Command(bin, "exec", "--prefix", prefix, "--endpoint", url, inst, "--",
			"env", "-i", "PATH="+os.Getenv("PATH"), "HOME="+t.TempDir(), "AWS_CA_BUNDLE="+caPath,
			sdkEndpointEnv+"=1", "ENI_E2E_TIMEOUT="+timeout.String(), os.Args[0])
		cmd.Env = append(os.Environ(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out)), nil
	}
	works := func(what string) {
		t.Helper()
		deadline := time.Now().Add(eventually)
		for {
			got, err := call(time.Minute)
			if err == nil {
				if want := "EC2RoleProvider - " + vpce; got != want {
					t.Fatalf("%s: %q, want %q", what, got, want)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s: %v", what, eventually, err)
			}
			time.Sleep(pollInterval)
		}
	}
	works("the SDK through the endpoint")
	kill()
	if got, err := call(10 * time.Second); err == nil {
		t.Fatalf("the endpoint answered with eni serve killed: %q", got)
	}
	start()
	works("the SDK through the endpoint after kill -9 and a start")
	if again, err := os.ReadFile(caPath); err != nil || string(again) != string(ca) {
		t.Fatalf("the CA changed across the restart: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		var ae interface{ ErrorCode() string }
		if errors.As(err, &ae) {
			t.Fatalf("%s: %v", ae.ErrorCode(), err)
		}
		t.Fatal(err)
	}
}
