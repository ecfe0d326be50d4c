package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// requireTool skips the test when the program is not installed, and fails it
// under CI=true, whose .ci/run installs it (package: where it comes from).
func requireTool(t *testing.T, program, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(program); err == nil {
		return
	}
	msg := program + " is not installed (" + pkg + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// requireDig skips without dig.
func requireDig(t *testing.T) {
	t.Helper()
	requireTool(t, "dig", "Debian's bind9-dnsutils")
}

// digReply is what dig printed: the reply's status and its answer records
// ("name type value").
type digReply struct {
	status  string
	answers []string
}

// dig runs dig inside the instance (eni exec): one try, then the reply or the error.
func (e *env) dig(inst string, args ...string) (digReply, error) {
	out, err := e.eniExec(inst, append([]string{"dig", "+noall", "+comments", "+answer", "+time=2", "+tries=1"}, args...)...)
	var r digReply
	for _, l := range strings.Split(out, "\n") {
		if _, st, ok := strings.Cut(l, "status: "); ok {
			r.status, _, _ = strings.Cut(st, ",")
		}
		if f := strings.Fields(l); len(f) == 5 && !strings.HasPrefix(l, ";") {
			r.answers = append(r.answers, strings.TrimSuffix(f[0], ".")+" "+f[3]+" "+strings.TrimSuffix(f[4], "."))
		}
	}
	if err == nil && r.status == "" {
		err = errors.New("no reply: " + out)
	}
	return r, err
}

// wantDig asks until the reply is status with answers (the agent opens the
// resolver's sockets asynchronously; the model is read on each query).
func (e *env) wantDig(inst, status string, answers []string, args ...string) {
	e.t.Helper()
	e.waitFor("dig "+strings.Join(args, " ")+" in "+inst, func() (bool, string) {
		r, err := e.dig(inst, args...)
		return err == nil && r.status == status && slices.Equal(r.answers, answers), r.status + " " + strings.Join(r.answers, "; ") + errString(err)
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

func dashed(ip string) string { return strings.ReplaceAll(ip, ".", "-") }

// TestVPCResolver: dig inside instances asks the VPC resolver at the VPC's base + 2
// (from a subnet that holds it and from one that does not) and at 169.254.169.253,
// over UDP and TCP: private names (A and PTR), resource names as the subnet's options
// say, the public name of an Elastic IP (its private address inside the VPC), NXDOMAIN
// for anything else; security groups do not filter it; enableDnsHostnames and
// enableDnsSupport apply at once; Go's resolver asks it too.
func TestVPCResolver(t *testing.T) {
	requireDig(t)
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	low := e.subnet(vpc, "10.0.0.0/24") // holds 10.0.0.2
	high := e.subnet(vpc, "10.0.1.0/24")
	igw := e.igw(vpc)
	e.publicRoutes(vpc, high, igw)
	_, err := e.ec2.ModifySubnetAttribute(ctx(), &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(low),
		PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeResourceName})
	e.must(err)
	_, err = e.ec2.ModifySubnetAttribute(ctx(), &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(low),
		EnableResourceNameDnsARecordOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	e.must(err)
	closed := e.sg(vpc, "closed", 0) // no egress at all: DNS still passes
	_, err = e.ec2.RevokeSecurityGroupEgress(ctx(), &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(closed),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	e.must(err)
	a := e.launch(high, closed)
	b := e.launch(low)
	e.waitRunning(a, b)
	aIP, bIP := *e.primaryENI(a).PrivateIpAddress, *e.primaryENI(b).PrivateIpAddress
	bName := "ip-" + dashed(bIP) + ".ec2.internal"

	for _, server := range []string{"@10.0.0.2", "@169.254.169.253"} {
		e.wantDig(a, "NOERROR", []string{bName + " A " + bIP}, server, bName)
		e.wantDig(a, "NOERROR", []string{bName + " A " + bIP}, server, "+tcp", bName)
		e.wantDig(b, "NOERROR", []string{"IP-" + dashed(aIP) + ".EC2.internal A " + aIP}, server, "IP-"+dashed(aIP)+".EC2.internal")
	}
	e.wantDig(a, "NOERROR", nil, "@10.0.0.2", bName, "AAAA")
	e.wantDig(a, "NOERROR", []string{reverse(bIP) + " PTR " + bName}, "@10.0.0.2", "-x", bIP)
	e.wantDig(a, "NXDOMAIN", nil, "@10.0.0.2", "ip-10-0-1-200.ec2.internal") // no ENI has it
	e.wantDig(a, "NXDOMAIN", nil, "@10.0.0.2", "example.com")
	// b's subnet gives resource names with A records; a's does not.
	e.wantDig(a, "NOERROR", []string{b + ".ec2.internal A " + bIP}, "@10.0.0.2", b+".ec2.internal")
	e.wantDig(b, "NXDOMAIN", nil, "@10.0.0.2", a+".ec2.internal")

	// An Elastic IP on a: its public name is a's private address inside the VPC, once
	// the VPC gives DNS hostnames.
	alloc, err := e.ec2.AllocateAddress(ctx(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	e.must(err)
	_, err = e.ec2.AssociateAddress(ctx(), &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: aws.String(a)})
	e.must(err)
	pubName := "ec2-" + dashed(*alloc.PublicIp) + ".compute-1.amazonaws.com"
	e.wantDig(b, "NXDOMAIN", nil, "@10.0.0.2", pubName)
	e.vpcAttr(vpc, nil, aws.Bool(true))
	e.wantDig(b, "NOERROR", []string{pubName + " A " + aIP}, "@10.0.0.2", pubName)
	e.wantDig(b, "NOERROR", []string{reverse(*alloc.PublicIp) + " PTR " + pubName}, "@10.0.0.2", "-x", *alloc.PublicIp)

	// Go's resolver, its sockets inside a, asks the VPC's resolver (the resolver's
	// goroutines run on any thread: each dial enters the namespace).
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var c net.Conn
		err := e.plane.DoInstance(a, func() (err error) {
			c, err = (&net.Dialer{}).DialContext(ctx, network, "10.0.0.2:53")
			return err
		})
		return c, err
	}}
	e.waitFor("Go's resolver in "+a, func() (bool, string) {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		addrs, err := r.LookupHost(c, bName)
		return err == nil && slices.Equal(addrs, []string{bIP}), strings.Join(addrs, " ") + errString(err)
	})

	// enableDnsSupport off: nothing answers (as on AWS); on again: it answers.
	e.vpcAttr(vpc, nil, aws.Bool(false))
	e.vpcAttr(vpc, aws.Bool(false), nil)
	if r, err := e.dig(a, "@10.0.0.2", bName); err == nil {
		t.Errorf("with enableDnsSupport off the resolver answered: %+v", r)
	}
	e.vpcAttr(vpc, aws.Bool(true), nil)
	e.wantDig(a, "NOERROR", []string{bName + " A " + bIP}, "@10.0.0.2", bName)
}

// vpcAttr sets enableDnsSupport or enableDnsHostnames.
func (e *env) vpcAttr(vpc string, support, hostnames *bool) {
	e.t.Helper()
	in := &ec2.ModifyVpcAttributeInput{VpcId: aws.String(vpc)}
	if support != nil {
		in.EnableDnsSupport = &types.AttributeBooleanValue{Value: support}
	}
	if hostnames != nil {
		in.EnableDnsHostnames = &types.AttributeBooleanValue{Value: hostnames}
	}
	_, err := e.ec2.ModifyVpcAttribute(ctx(), in)
	e.must(err)
}

// reverse is the in-addr.arpa name of an IPv4 address.
func reverse(ip string) string {
	p := strings.Split(ip, ".")
	slices.Reverse(p)
	return strings.Join(p, ".") + ".in-addr.arpa"
}
