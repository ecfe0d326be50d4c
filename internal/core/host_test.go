package core

import (
	"slices"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// The host view resolves what the data plane cannot know: a rule naming a
// security group becomes its members' addresses (and follows membership),
// a route table sending 0.0.0.0/0 to an ENI marks the subnet's NAT ENI, and
// only subnets routed to an attached internet gateway are public.
func TestHostViewResolvesGroupsAndRoutes(t *testing.T) {
	c := newTestCore(t)
	var vpc, priv, pub, web, db, natENI, member string
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(mutate(t, c, func(tx *Tx) error {
		v, err := tx.CreateVpc(&ec2wire.CreateVpcInput{CidrBlock: p("10.0.0.0/16")})
		if err != nil {
			return err
		}
		vpc = *v.Vpc.VpcId
		s1, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: &vpc, CidrBlock: p("10.0.1.0/24"), AvailabilityZone: p("us-east-1a")})
		if err != nil {
			return err
		}
		s2, err := tx.CreateSubnet(&ec2wire.CreateSubnetInput{VpcId: &vpc, CidrBlock: p("10.0.2.0/24"), AvailabilityZone: p("us-east-1a")})
		if err != nil {
			return err
		}
		pub, priv = *s1.Subnet.SubnetId, *s2.Subnet.SubnetId
		g1, err := tx.CreateSecurityGroup(&ec2wire.CreateSecurityGroupInput{VpcId: &vpc, GroupName: p("web"), Description: p("web")})
		if err != nil {
			return err
		}
		g2, err := tx.CreateSecurityGroup(&ec2wire.CreateSecurityGroupInput{VpcId: &vpc, GroupName: p("db"), Description: p("db")})
		if err != nil {
			return err
		}
		web, db = *g1.GroupId, *g2.GroupId
		// db admits 5432 from members of web.
		_, err = tx.AuthorizeSecurityGroupIngress(&ec2wire.AuthorizeSecurityGroupIngressInput{GroupId: &db, IpPermissions: []ec2wire.IpPermission{{
			IpProtocol: p("tcp"), FromPort: p(int32(5432)), ToPort: p(int32(5432)), UserIdGroupPairs: []ec2wire.UserIdGroupPair{{GroupId: &web}},
		}}})
		if err != nil {
			return err
		}
		igw, err := tx.CreateInternetGateway(&ec2wire.CreateInternetGatewayInput{})
		if err != nil {
			return err
		}
		if _, err := tx.AttachInternetGateway(&ec2wire.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: &vpc}); err != nil {
			return err
		}
		rt, err := tx.CreateRouteTable(&ec2wire.CreateRouteTableInput{VpcId: &vpc})
		if err != nil {
			return err
		}
		if _, err := tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: p("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
			return err
		}
		if _, err := tx.AssociateRouteTable(&ec2wire.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: &pub}); err != nil {
			return err
		}
		nat, err := tx.CreateNetworkInterface(&ec2wire.CreateNetworkInterfaceInput{SubnetId: &pub})
		if err != nil {
			return err
		}
		natENI = *nat.NetworkInterface.NetworkInterfaceId
		// The VPC's main table (the private subnet's) sends 0.0.0.0/0 and
		// 192.168.0.0/16 to the NAT ENI; the public table 172.16.0.0/12.
		for _, r := range tx.rtbs.Sorted(nil) {
			if r.VpcID == vpc && isMain(r) {
				for _, dst := range []string{"0.0.0.0/0", "192.168.0.0/16"} {
					if _, err := tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: &r.ID, DestinationCidrBlock: p(dst), NetworkInterfaceId: &natENI}); err != nil {
						return err
					}
				}
			}
		}
		if _, err := tx.CreateRoute(&ec2wire.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: p("172.16.0.0/12"), NetworkInterfaceId: &natENI}); err != nil {
			return err
		}
		m, err := tx.CreateNetworkInterface(&ec2wire.CreateNetworkInterfaceInput{SubnetId: &priv, Groups: []string{web}, SecondaryPrivateIpAddressCount: p(int32(1)),
			Ipv4PrefixCount: p(int32(1))})
		if err != nil {
			return err
		}
		member = *m.NetworkInterface.NetworkInterfaceId
		return nil
	}))
	ingressOf := func(hv HostView, id string) []string {
		for _, g := range hv.Groups {
			if g.ID == id {
				var out []string
				for _, r := range g.Ingress {
					out = append(out, r.CIDRs...)
				}
				return out
			}
		}
		t.Fatalf("group %s not in the host view", id)
		return nil
	}
	hv := c.HostView("us-east-1")
	var memberIPs []string
	for _, e := range hv.ENIs {
		if e.ID == member {
			for _, ip := range e.PrivateIPs {
				memberIPs = append(memberIPs, ip+"/32")
			}
			memberIPs = append(memberIPs, e.IPv4Prefixes...) // its delegated prefix is the member's too
		}
	}
	if got := ingressOf(hv, db); len(memberIPs) != 3 || !slices.Equal(got, memberIPs) {
		t.Fatalf("db's rule admits %v, want web's members %v", got, memberIPs)
	}
	for _, v := range hv.VPCs {
		if v.ID != vpc {
			continue
		}
		for _, s := range v.Subnets {
			switch s.ID {
			case pub:
				if !s.Public || s.DefaultRouteENI != "" || !slices.Equal(s.ENIRoutes, []HostENIRoute{{Dest: "172.16.0.0/12", ENI: natENI}}) {
					t.Errorf("public subnet: %+v", s)
				}
			case priv:
				if s.Public || s.DefaultRouteENI != natENI || !slices.Equal(s.ENIRoutes, []HostENIRoute{{Dest: "192.168.0.0/16", ENI: natENI}}) {
					t.Errorf("private subnet: %+v, want its default route and 192.168.0.0/16 to %s", s, natENI)
				}
			}
		}
	}
	// Membership changes follow: the member leaves web, and db admits nobody.
	must(mutate(t, c, func(tx *Tx) error {
		_, err := tx.ModifyNetworkInterfaceAttribute(&ec2wire.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: &member, Groups: []string{db}})
		return err
	}))
	if got := ingressOf(c.HostView("us-east-1"), db); len(got) != 0 {
		t.Fatalf("after the member left web, db still admits %v", got)
	}
}
