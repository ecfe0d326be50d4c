package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/dataplane"
	"github.com/eni-net/eni/internal/iamcreds"
	"github.com/eni-net/eni/internal/sigv4"
)

// sdkCredsEnv makes the test binary run runSDKCreds (inside an instance).
const sdkCredsEnv = "ENI_E2E_SDKCREDS"

// runSDKCreds is what a Go program on EC2 does with no configuration but the
// endpoint: the SDK's default credential chain (which ends with the metadata
// service's role credentials) and the region from the metadata service, then
// sts GetCallerIdentity and ec2 DescribeNetworkInterfaces. It prints
// "ARN REGION SOURCE N".
func runSDKCreds() int {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithEC2IMDSRegion())
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		return 2
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "GetCallerIdentity:", err)
		return 3
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "credentials:", err)
		return 4
	}
	enis, err := ec2.NewFromConfig(cfg).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "DescribeNetworkInterfaces:", err)
		return 5
	}
	fmt.Println(aws.ToString(id.Arn), cfg.Region, creds.Source, len(enis.NetworkInterfaces))
	return 0
}

// TestInstanceCredentialsInside: inside an instance launched with an instance
// profile in a public subnet, with nothing configured but AWS_ENDPOINT_URL (the
// API on the simulated internet, the server running --auth sigv4), the SDK for
// Go's default chain and the AWS CLI find credentials in the metadata service
// and call STS and EC2 as the instance's role.
func TestInstanceCredentialsInside(t *testing.T) {
	e := newEnvWith(t, envOptions{sigv4: true})
	ic := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.api.Server.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	_, err := ic.CreateRole(ctx(), &iam.CreateRoleInput{RoleName: aws.String("app-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	e.must(err)
	_, err = ic.CreateInstanceProfile(ctx(), &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app")})
	e.must(err)
	_, err = ic.AddRoleToInstanceProfile(ctx(), &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app"), RoleName: aws.String("app-role")})
	e.must(err)

	vpc := e.vpc("10.61.0.0/16")
	sn := e.subnet(vpc, "10.61.1.0/24")
	e.publicRoutes(vpc, sn, e.igw(vpc))
	out, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("app")},
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(sn), AssociatePublicIpAddress: aws.Bool(true)}}})
	e.must(err)
	id := aws.ToString(out.Instances[0].InstanceId)
	e.waitRunning(id)
	endpoint := "http://" + e.plane.InternetIP().String() + ":4566"
	home := t.TempDir() // no ~/.aws
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_ENDPOINT_URL=" + endpoint}
	wantArn := "arn:aws:sts::123456789012:assumed-role/app-role/" + id

	run := func(env []string, argv ...string) (string, error) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		b, err := func() ([]byte, error) {
			var stdout strings.Builder
			cmd.Stdout = &stdout
			err := e.plane.Exec(id, cmd)
			return []byte(stdout.String()), err
		}()
		if err != nil {
			return "", fmt.Errorf("%v: %s", err, stderr.String())
		}
		return strings.TrimSpace(string(b)), nil
	}

	// The SDK for Go (this test binary, run inside the instance).
	var got string
	e.waitFor("the SDK's default chain inside the instance", func() (bool, string) {
		got, err = run(append(env, sdkCredsEnv+"=1"), os.Args[0])
		return err == nil, fmt.Sprint(err)
	})
	f := strings.Fields(got)
	if len(f) != 4 || f[0] != wantArn || f[1] != "us-east-1" || f[2] != "EC2RoleProvider" || f[3] == "0" {
		t.Fatalf("SDK inside the instance: %q, want %s us-east-1 EC2RoleProvider N", got, wantArn)
	}

	// The AWS CLI.
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("aws (the AWS CLI) is not installed; .ci/run installs Debian's awscli")
		}
		t.Skip("aws (the AWS CLI) is not installed")
	}
	// The CLI v1 (botocore) takes its region from configuration only, never from the
	// metadata service (botocore asks IMDS for the region only to pick smart defaults):
	// on EC2 too it needs AWS_DEFAULT_REGION. Versions before 2.13 (Debian 12's awscli
	// is 2.9) do not read AWS_ENDPOINT_URL: --endpoint-url says it. Its credentials
	// come from the metadata service all the same.
	env = append(env, "AWS_DEFAULT_REGION=us-east-1")
	arn, err := run(env, "aws", "--endpoint-url", endpoint, "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
	if err != nil || arn != wantArn {
		t.Fatalf("aws sts get-caller-identity inside the instance: %q, %v", arn, err)
	}
	n, err := run(env, "aws", "--endpoint-url", endpoint, "ec2", "describe-network-interfaces", "--query", "length(NetworkInterfaces)", "--output", "text")
	if err != nil || n == "0" {
		t.Fatalf("aws ec2 describe-network-interfaces inside the instance: %q, %v", n, err)
	}
}

// iamSecurity is what envOptions.sigv4 gives the server.
type iamSecurity struct {
	authenticate func(r *http.Request, body []byte) (string, error)
	identity     func(accessKeyID, token string) (arn, userID, account string, ok bool)
	issuer       *iamcreds.Issuer
}

func iamOptions(t testing.TB, on bool) iamSecurity {
	if !on {
		return iamSecurity{}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand never fails
	issuer := &iamcreds.Issuer{Key: key}
	keys, err := sigv4.Parse(strings.NewReader("test test 123456789012\n"))
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Keys: keys, Now: time.Now, Session: issuer.Session(time.Now)}
	return iamSecurity{authenticate: v.Verify, identity: issuer.Identity(time.Now), issuer: issuer}
}

// publicAPI serves the env's API on the simulated internet (as eni serve does
// under --auth sigv4), or nothing.
func (s iamSecurity) publicAPI(e *env) dataplane.MetadataServer {
	if s.issuer == nil {
		return nil
	}
	return apiServer{e}
}

type apiServer struct{ e *env }

func (a apiServer) Serve(ln net.Listener) error {
	return (&http.Server{Handler: api.ForInstances(a.e.api.API), ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}
