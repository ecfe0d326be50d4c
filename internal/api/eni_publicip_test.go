package api_test

import (
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
