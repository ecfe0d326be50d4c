package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
)

// sdkEndpointEnv makes the test binary run runSDKEndpoint (inside an instance).
const sdkEndpointEnv = "ENI_E2E_SDKENDPOINT"

// runSDKEndpoint is a Go program on EC2 calling EC2 (and STS with
// ENI_E2E_STS=1) with no configuration but what the environment says
// (AWS_ENDPOINT_URL, AWS_CA_BUNDLE, or nothing): credentials and region from
// the metadata service, then DescribeVpcEndpoints (and GetCallerIdentity)
// within ENI_E2E_TIMEOUT (a duration). It prints "SOURCE ARN ID…" (ARN "-"
// without STS).
func runSDKEndpoint() int {
	timeout, err := time.ParseDuration(os.Getenv("ENI_E2E_TIMEOUT"))
	if err != nil {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithEC2IMDSRegion())
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		return 2
	}
	out, err := ec2.NewFromConfig(cfg).DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "DescribeVpcEndpoints:", err)
		return 3
	}
	arn := "-"
	if os.Getenv("ENI_E2E_STS") == "1" {
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "GetCallerIdentity:", err)
			return 4
		}
		arn = aws.ToString(id.Arn)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "credentials:", err)
		return 5
	}
	f := []string{creds.Source, arn}
	for _, e := range out.VpcEndpoints {
		f = append(f, aws.ToString(e.VpcEndpointId))
	}
	slices.Sort(f[2:])
	fmt.Println(strings.Join(f, " "))
	return 0
}

// instanceProfile makes a role EC2 may assume and an instance profile holding it.
func (e *env) instanceProfile(name string) {
	e.t.Helper()
	ic := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.api.Server.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	_, err := ic.CreateRole(ctx(), &iam.CreateRoleInput{RoleName: aws.String(name + "-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	e.must(err)
	_, err = ic.CreateInstanceProfile(ctx(), &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)})
	e.must(err)
	_, err = ic.AddRoleToInstanceProfile(ctx(), &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name + "-role")})
	e.must(err)
}

// inInstance runs argv inside inst through `eni exec` (the instance's own
// resolv.conf: the VPC resolver) with only the environment given (eni exec
// itself signs its lookups with the test's key; the command gets none of it).
func (e *env) inInstance(inst string, envs []string, argv ...string) (string, error) {
	return execIn(e.t, eniBinary(e.t), e.prefix, e.api.Server.URL, inst, envs, argv...)
}

// execIn runs argv inside inst, on the data plane of prefix, through `eni exec` (bin)
// asking the API at endpoint, with only the environment given.
func execIn(t testing.TB, bin, prefix, endpoint, inst string, envs []string, argv ...string) (string, error) {
	clean := append([]string{"env", "-i", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, envs...)
	cmd := exec.Command(bin, append([]string{"exec", "--prefix", prefix, "--endpoint", endpoint, inst, "--"},
		append(clean, argv...)...)...)
	cmd.Env = append(os.Environ(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// endpoint serves the EC2 API on interface endpoints under sigv4 (as eni serve
// does), with a CA kept in e.endpointCADir; or nothing.
func (s iamSecurity) endpoint(e *env) dataplane.EndpointServer {
	if s.issuer == nil {
		return nil
	}
	return e.endpointServer()
}

func (e *env) endpointServer() *api.EndpointServer {
	if e.endpointCADir == "" {
		e.endpointCADir = e.t.TempDir()
	}
	ca, err := api.LoadOrCreateEndpointCA(e.endpointCADir)
	e.must(err)
	return &api.EndpointServer{Handler: e.api.API, Region: "us-east-1", CA: ca}
}

// restartPlane is a server restart as the data plane sees it: the agent stops, the
// plane's sockets close (its namespaces stay), and a new plane with the same options,
// a new endpoint server with the CA from the data directory, and a new agent take over.
func (e *env) restartPlane() {
	e.t.Helper()
	e.stopAgent()
	e.plane.Close()
	opts := e.planeOpts
	if opts.Endpoint != nil {
		opts.Endpoint = e.endpointServer()
	}
	p, err := dataplane.New(opts)
	e.must(err)
	e.plane = p
	e.startAgent(p, nil)
}

// TestVPCEndpointEC2: inside an instance in a private subnet (no route out of the VPC)
// launched with an instance profile, the SDK for Go and the AWS CLI call EC2 through an
// interface endpoint of com.amazonaws.us-east-1.ec2, and STS (GetCallerIdentity, the
// instance's role) through one of .sts, with credentials and region from the metadata
// service: at the EC2 endpoint's DNS name over HTTPS (the endpoint CA trusted with
// AWS_CA_BUNDLE), and with private DNS at no configured endpoint at all (the VPC resolver
// answers ec2. and sts.us-east-1.amazonaws.com with the endpoints' addresses). The EC2
// endpoint answers EC2 only: STS through it is refused as AWS refuses a credential scoped
// to another service. The endpoint's security groups apply: with a group that allows 80
// but not 443 from the instance, HTTPS is blocked and HTTP still answers; with the group
// back, HTTPS works. After a restart of the plane (its sockets closed, a new plane), the
// endpoint answers again with the same CA. Deleted, its namespace and its names go.
func TestVPCEndpointEC2(t *testing.T) {
	e := newEnvWith(t, envOptions{sigv4: true})
	e.instanceProfile("app")
	vpc := e.vpc("10.62.0.0/16")
	_, err := e.ec2.ModifyVpcAttribute(ctx(), &ec2.ModifyVpcAttributeInput{VpcId: &vpc, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	e.must(err)
	subnet := e.subnet(vpc, "10.62.1.0/24")
	client := e.sg(vpc, "client", 22)
	https := e.sg(vpc, "endpoint-https", 443)
	_, err = e.ec2.AuthorizeSecurityGroupIngress(ctx(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &https, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: &client}}}}})
	e.must(err)
	plain := e.sg(vpc, "endpoint-http", 80, "10.62.0.0/16")
	out, err := e.ec2.RunInstances(ctx(), &ec2.RunInstancesInput{ImageId: aws.String(testImage), InstanceType: testInstType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &subnet, SecurityGroupIds: []string{client},
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("app")}})
	e.must(err)
	inst := aws.ToString(out.Instances[0].InstanceId)
	wantArn := "arn:aws:sts::123456789012:assumed-role/app-role/" + inst
	e.waitRunning(inst)
	endpoint := func(service string) types.VpcEndpoint {
		cr, err := e.ec2.CreateVpcEndpoint(ctx(), &ec2.CreateVpcEndpointInput{VpcId: &vpc, ServiceName: aws.String("com.amazonaws.us-east-1." + service),
			VpcEndpointType: types.VpcEndpointTypeInterface, SubnetIds: []string{subnet}, SecurityGroupIds: []string{https}, PrivateDnsEnabled: aws.Bool(true)})
		e.must(err)
		return *cr.VpcEndpoint
	}
	ec2EP, stsEP := endpoint("ec2"), endpoint("sts")
	vpce := aws.ToString(ec2EP.VpcEndpointId)
	ids := []string{vpce, aws.ToString(stsEP.VpcEndpointId)}
	slices.Sort(ids)
	eniID := ec2EP.NetworkInterfaceIds[0]
	dnsName := aws.ToString(ec2EP.DnsEntries[0].DnsName) // vpce-…-….ec2.us-east-1.vpce.amazonaws.com
	caBundle := "AWS_CA_BUNDLE=" + filepath.Join(e.endpointCADir, api.EndpointCAFile)
	const withSTS = "ENI_E2E_STS=1"

	sdk := func(timeout time.Duration, envs ...string) (string, error) {
		return e.inInstance(inst, append(envs, sdkEndpointEnv+"=1", "ENI_E2E_TIMEOUT="+timeout.String()), os.Args[0])
	}
	sdkWorks := func(what string, envs ...string) {
		t.Helper()
		var got string
		e.waitFor(what, func() (bool, string) {
			var err error
			got, err = sdk(time.Minute, envs...)
			return err == nil, fmt.Sprint(err)
		})
		arn := "-"
		if slices.Contains(envs, withSTS) {
			arn = wantArn
		}
		if want := "EC2RoleProvider " + arn + " " + strings.Join(ids, " "); got != want {
			t.Fatalf("%s: %q, want %q", what, got, want)
		}
	}
	sdkWorks("the SDK at https://"+dnsName, "AWS_ENDPOINT_URL=https://"+dnsName, caBundle)
	sdkWorks("the SDK at its default endpoints, EC2 and STS (private DNS)", caBundle, withSTS)
	if got, err := sdk(time.Minute, "AWS_ENDPOINT_URL=https://"+dnsName, caBundle, withSTS); err == nil ||
		!strings.Contains(err.Error(), "SignatureDoesNotMatch: Credential should be scoped to correct service: 'ec2'.") {
		t.Fatalf("STS through the EC2 endpoint: %q, %v", got, err)
	}

	if _, err := exec.LookPath("aws"); err != nil {
		missing(t, "aws (the AWS CLI) is not installed; .ci/run installs Debian's awscli")
	}
	// The CLI v1 and Debian's v2.9 take the region from configuration only and do not
	// read AWS_ENDPOINT_URL (TestInstanceCredentialsInside); the CLI v1 calls STS at its
	// global endpoint sts.amazonaws.com unless told to use the region's.
	cli := []string{caBundle, "AWS_DEFAULT_REGION=us-east-1", "AWS_STS_REGIONAL_ENDPOINTS=regional"}
	for _, args := range [][]string{{"--endpoint-url", "https://" + dnsName}, nil} {
		argv := append(append([]string{"aws"}, args...), "ec2", "describe-vpc-endpoints", "--query", "VpcEndpoints[].VpcEndpointId", "--output", "text")
		if got, err := e.inInstance(inst, cli, argv...); err != nil || strings.Join(strings.Fields(got), " ") != strings.Join(ids, " ") {
			t.Fatalf("%v inside the instance: %q, %v", argv, got, err)
		}
	}
	if got, err := e.inInstance(inst, cli, "aws", "sts", "get-caller-identity", "--query", "Arn", "--output", "text"); err != nil || got != wantArn {
		t.Fatalf("aws sts get-caller-identity inside the instance: %q, %v", got, err)
	}

	// The endpoint's groups: one that allows only 80 blocks HTTPS, and HTTP answers.
	_, err = e.ec2.ModifyVpcEndpoint(ctx(), &ec2.ModifyVpcEndpointInput{VpcEndpointId: &vpce, AddSecurityGroupIds: []string{plain}, RemoveSecurityGroupIds: []string{https}})
	e.must(err)
	e.settle()
	if got, err := sdk(10*time.Second, caBundle); err == nil {
		t.Fatalf("HTTPS through the endpoint with a group without 443: %q", got)
	}
	sdkWorks("the SDK at http://"+dnsName+" (the group allows 80)", "AWS_ENDPOINT_URL=http://"+dnsName)
	_, err = e.ec2.ModifyVpcEndpoint(ctx(), &ec2.ModifyVpcEndpointInput{VpcEndpointId: &vpce, AddSecurityGroupIds: []string{https}, RemoveSecurityGroupIds: []string{plain}})
	e.must(err)
	sdkWorks("HTTPS again with the group back", caBundle)

	// A restart: with the plane's sockets closed nothing answers; the new plane opens them.
	e.stopAgent()
	e.plane.Close()
	if got, err := sdk(10*time.Second, caBundle); err == nil {
		t.Fatalf("the endpoint answered with the plane closed: %q", got)
	}
	e.restartPlane()
	sdkWorks("the SDK through the endpoints after a restart", caBundle, withSTS)

	// Deleted: its namespace and its names go.
	_, err = e.ec2.DeleteVpcEndpoints(ctx(), &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{vpce}})
	e.must(err)
	ns := e.plane.InstanceNS(eniID)
	e.waitFor("the endpoint's namespace gone", func() (bool, string) { return !e.hasNS(ns), ns })
	if a := e.api.Core.ResolveVPCDNS("us-east-1", vpc, "ec2.us-east-1.amazonaws.com"); len(a.A) != 0 {
		t.Fatalf("ec2.us-east-1.amazonaws.com still resolves in the VPC: %v", a.A)
	}
}
