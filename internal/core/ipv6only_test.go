package core

import (
	"strings"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// The data plane's view leaves IPv6-only subnets and their interfaces out
// (it needs an IPv4 block), so that a store that has them (made by a server
// without the data plane) does not stop the plane from realising the rest.
func TestHostViewSkipsIpv6OnlySubnets(t *testing.T) {
	c := newTestCore(t)
	var subnetID, eniID string
	err := mutate(t, c, func(tx *Tx) error {
		v, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: p(true)})
		if err != nil {
			return err
		}
		block := strings.TrimSuffix(*v.Vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock, "/56") + "/64"
		s, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: v.Vpc.VpcId, Ipv6Native: p(true), Ipv6CidrBlock: &block})
		if err != nil {
			return err
		}
		subnetID = *s.Subnet.SubnetId
		e, err := tx.CreateNetworkInterface(&ec2wire.CreateNetworkInterfaceInput{SubnetId: &subnetID})
		if err != nil {
			return err
		}
		eniID = *e.NetworkInterface.NetworkInterfaceId
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	hv := c.HostView(testCaller.Region)
	for _, v := range hv.VPCs {
		for _, s := range v.Subnets {
			if s.ID == subnetID {
				t.Errorf("IPv6-only subnet %s in the host view", s.ID)
			}
		}
	}
	for _, e := range hv.ENIs {
		if e.ID == eniID {
			t.Errorf("ENI %s of an IPv6-only subnet in the host view", e.ID)
		}
	}
	if len(hv.ENIs) != 0 || len(hv.VPCs) < 2 {
		t.Errorf("host view %+v", hv)
	}
	if errs := c.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
