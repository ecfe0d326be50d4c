package api_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/etcdtest"
	"github.com/eni-net/eni/internal/store"
)

// etcdOpener opens the etcd store of cluster c under prefix, for apitest.
func etcdOpener(c *etcdtest.Cluster, prefix string) func(t testing.TB) store.Store {
	return func(t testing.TB) store.Store {
		cfg := store.EtcdConfig{Prefix: prefix, MaxTxnOps: 128} // etcd's default --max-txn-ops
		cfg.Client3.Endpoints = c.Endpoints
		s, err := store.OpenEtcd(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// The server on etcd (--store etcd): what it acknowledged is read back by a
// new server on the same etcd, and a reset empties etcd.
func TestEtcdStoreSurvivesRestart(t *testing.T) {
	cl := etcdtest.Start(t, 1)
	open := etcdOpener(cl, "/eni-api/")
	e := apitest.New(t, apitest.Options{Open: open})
	c := e.Client()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.7.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpc.Vpc.VpcId}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.7.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId, GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId, Groups: []string{aws.ToString(sg.GroupId)},
		SecondaryPrivateIpAddressCount: aws.Int32(2), Description: aws.String("floating"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("mgmt")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: types.InstanceTypeT3Small,
		SubnetId: sub.Subnet.SubnetId, MinCount: aws.Int32(20), MaxCount: aws.Int32(20)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: &id, InstanceId: run.Instances[0].InstanceId, DeviceIndex: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: &id}); err != nil {
		t.Fatal(err)
	}
	describe := func(c *ec2.Client) ([]types.NetworkInterface, int) {
		t.Helper()
		d, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("subnet-id"), Values: []string{aws.ToString(sub.Subnet.SubnetId)}}}})
		if err != nil {
			t.Fatal(err)
		}
		in, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return d.NetworkInterfaces, len(in.Reservations[0].Instances)
	}
	before, nBefore := describe(c)
	e.Close()

	e2 := apitest.New(t, apitest.Options{Open: open})
	c2 := e2.Client()
	after, nAfter := describe(c2)
	if len(before) != 21 || !reflect.DeepEqual(before, after) || nBefore != 20 || nAfter != 20 {
		t.Fatalf("after restart: %d ENIs (%d instances), want %d (%d) as before:\n%+v\n%+v", len(after), nAfter, len(before), nBefore, after, before)
	}
	// What the new server hands out does not collide with what was loaded.
	more, err := c2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range after {
		if aws.ToString(n.MacAddress) == aws.ToString(more.NetworkInterface.MacAddress) || aws.ToString(n.PrivateIpAddress) == aws.ToString(more.NetworkInterface.PrivateIpAddress) {
			t.Fatalf("a new ENI reuses %s's MAC or address", aws.ToString(n.NetworkInterfaceId))
		}
	}
	// A reset empties etcd: a third server finds only a fresh default VPC.
	resp, err := http.Post(e2.Server.URL+"/moto-api/reset", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("reset: %v %v", err, resp)
	}
	resp.Body.Close()
	e2.Close()
	c3 := apitest.New(t, apitest.Options{Open: open}).Client()
	vs, err := c3.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(vs.Vpcs) != 1 || !aws.ToBool(vs.Vpcs[0].IsDefault) {
		t.Fatalf("after reset and restart: %v %+v", err, vs)
	}
}
