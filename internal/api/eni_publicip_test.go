package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

func TestENIAssociatePublicIpAddressAttribute(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	sn, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sn.Subnets[0].SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	id := eni.NetworkInterface.NetworkInterfaceId
	attr := func() bool {
		out, err := c.DescribeNetworkInterfaceAttribute(ctx, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: id, Attribute: types.NetworkInterfaceAttributeAssociatePublicIpAddress})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToBool(out.AssociatePublicIpAddress)
	}
	if attr() {
		t.Fatal("a new ENI has a public IP")
	}
	if _, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: id, AssociatePublicIpAddress: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{aws.ToString(id)}})
	if err != nil {
		t.Fatal(err)
	}
	if !attr() || got.NetworkInterfaces[0].Association == nil || aws.ToString(got.NetworkInterfaces[0].Association.IpOwnerId) != "amazon" {
		t.Fatalf("after turning it on: %+v", got.NetworkInterfaces[0].Association)
	}
	if _, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: id, AssociatePublicIpAddress: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if attr() {
		t.Fatal("public IP kept after turning it off")
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func TestMadeUpNextToken(t *testing.T) {
	e := apitest.New(t)
	_, err := e.Client().DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), NextToken: aws.String("bogus-token")})
	apitest.WantCode(t, err, "InvalidNextToken")
}

// An INSTANCE-ATTACH permission is the one way to attach an ENI to another
// account's instance, which lives in that account's own VPC.
func TestCrossAccountAttachNeedsPermission(t *testing.T) {
	e := apitest.New(t, apitest.Options{Authenticate: func(r *http.Request, body []byte) (string, error) {
		if strings.Contains(r.Header.Get("Authorization"), "Credential=other/") {
			return "210987654321", nil
		}
		return "123456789012", nil
	}})
	owner := e.Client()
	other := apitest.NewClient(e.Server.URL, "us-east-1", "other", "x")
	sn, err := owner.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("availability-zone"), Values: []string{"us-east-1a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	eni, err := owner.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sn.Subnets[0].SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	run, err := other.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: "t3.small", Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1a")}})
	if err != nil {
		t.Fatal(err)
	}
	attach := func() error {
		_, err := other.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId, InstanceId: run.Instances[0].InstanceId, DeviceIndex: aws.Int32(1)})
		return err
	}
	apitest.WantCode(t, attach(), "InvalidNetworkInterfaceID.NotFound")
	if _, err := owner.CreateNetworkInterfacePermission(ctx, &ec2.CreateNetworkInterfacePermissionInput{NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId, Permission: types.InterfacePermissionTypeInstanceAttach, AwsAccountId: aws.String("210987654321")}); err != nil {
		t.Fatal(err)
	}
	if err := attach(); err != nil {
		t.Fatalf("attach with permission: %v", err)
	}
	got, err := owner.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{aws.ToString(eni.NetworkInterface.NetworkInterfaceId)}})
	if err != nil {
		t.Fatal(err)
	}
	if a := got.NetworkInterfaces[0].Attachment; a == nil || aws.ToString(a.InstanceOwnerId) != "210987654321" {
		t.Fatalf("attachment = %+v", a)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// DeleteSecurityGroup answers with the deleted group's id, as current EC2 does.
func TestDeleteSecurityGroupReturnsGroupId(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	g, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("gone"), Description: aws.String("gone")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: g.GroupId})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.GroupId) != aws.ToString(g.GroupId) || !aws.ToBool(out.Return) {
		t.Fatalf("DeleteSecurityGroup = %+v", out)
	}
}

// What Terraform's aws_instance reads besides networking.
func TestCreditSpecificationsAndVolumes(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	run := func(typ types.InstanceType) string {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: typ})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	t2, t3, m5 := run("t2.micro"), run("t3.micro"), run("m5.large")
	out, err := c.DescribeInstanceCreditSpecifications(ctx, &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: []string{t2, t3, m5}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range out.InstanceCreditSpecifications {
		got[aws.ToString(s.InstanceId)] = aws.ToString(s.CpuCredits)
	}
	if len(got) != 2 || got[t2] != "standard" || got[t3] != "unlimited" {
		t.Fatalf("credit specifications = %v", got)
	}
	_, err = c.DescribeInstanceCreditSpecifications(ctx, &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidInstanceID.NotFound")
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{t2}}}})
	if err != nil || len(vols.Volumes) != 1 || vols.Volumes[0].Attachments[0].Device == nil {
		t.Fatalf("volumes: %v %v", vols, err) // the root volume
	}
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidVolume.NotFound")
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	apitest.WantCode(t, err, "InvalidParameterValue")
}
