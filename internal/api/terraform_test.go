package api_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// The calls Terraform's AWS provider makes on the create, read and update
// paths of the resources the README lists (read from its
// internal/service/ec2 source), in its order, with the values it polls for
// afterwards. No Terraform binary is reachable here: this replays what the
// provider sends and checks what it waits for.
func TestTerraformProviderCalls(t *testing.T) {
	clock := newTestClock()
	e := apitest.New(t, apitest.Options{Now: clock.Now})
	c := e.Client()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eq := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	tag := func(rt types.ResourceType) []types.TagSpecification {
		return []types.TagSpecification{{ResourceType: rt, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("tf")}}}}
	}

	// aws_vpc: create, wait available, ModifyVpcAttribute, then every read.
	vpcOut, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.50.0.0/16"), InstanceTenancy: types.TenancyDefault, TagSpecifications: tag(types.ResourceTypeVpc)})
	must("CreateVpc", err)
	vpc := aws.ToString(vpcOut.Vpc.VpcId)
	must("ModifyVpcAttribute", modifyVpcDNSHostnames(c, vpc))
	for _, a := range []types.VpcAttributeName{types.VpcAttributeNameEnableDnsHostnames, types.VpcAttributeNameEnableDnsSupport, types.VpcAttributeNameEnableNetworkAddressUsageMetrics} {
		out, err := c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(vpc), Attribute: a})
		must("DescribeVpcAttribute "+string(a), err)
		if a == types.VpcAttributeNameEnableDnsHostnames {
			eq("enable_dns_hostnames", aws.ToBool(out.EnableDnsHostnames.Value), true)
		}
	}
	rts, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("association.main", "true"), filter("vpc-id", vpc)}})
	must("DescribeRouteTables main", err)
	eq("main route tables", len(rts.RouteTables), 1)
	acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{filter("default", "true"), filter("vpc-id", vpc)}})
	must("DescribeNetworkAcls default", err)
	eq("default network ACLs", len(acls.NetworkAcls), 1)
	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-name", "default"), filter("vpc-id", vpc)}})
	must("DescribeSecurityGroups default", err)
	eq("default security groups", len(sgs.SecurityGroups), 1)
	// instance_tenancy dedicated → default is ModifyVpcTenancy.
	ded, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.51.0.0/16"), InstanceTenancy: types.TenancyDedicated})
	must("CreateVpc dedicated", err)
	_, err = c.ModifyVpcTenancy(ctx, &ec2.ModifyVpcTenancyInput{VpcId: ded.Vpc.VpcId, InstanceTenancy: types.VpcTenancyDefault})
	must("ModifyVpcTenancy", err)
	d, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(ded.Vpc.VpcId)}})
	must("DescribeVpcs", err)
	eq("instance_tenancy", d.Vpcs[0].InstanceTenancy, types.TenancyDefault)

	// aws_subnet, aws_internet_gateway, aws_route_table, aws_route,
	// aws_route_table_association.
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.50.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	must("CreateSubnet", err)
	subnet := aws.ToString(sub.Subnet.SubnetId)
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(subnet), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	must("ModifySubnetAttribute", err)
	subs, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
	must("DescribeSubnets", err)
	eq("subnet state", subs.Subnets[0].State, types.SubnetStateAvailable)
	eq("map_public_ip_on_launch", aws.ToBool(subs.Subnets[0].MapPublicIpOnLaunch), true)
	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{TagSpecifications: tag(types.ResourceTypeInternetGateway)})
	must("CreateInternetGateway", err)
	_, err = c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(vpc)})
	must("AttachInternetGateway", err)
	igws, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{filter("attachment.vpc-id", vpc)}})
	must("DescribeInternetGateways", err)
	eq("igw attachment state", igws.InternetGateways[0].Attachments[0].State, types.AttachmentStatus("available"))
	rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc), TagSpecifications: tag(types.ResourceTypeRouteTable)})
	must("CreateRouteTable", err)
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
	must("CreateRoute", err)
	assoc, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(subnet)})
	must("AssociateRouteTable", err)
	rts, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("association.route-table-association-id", aws.ToString(assoc.AssociationId))}})
	must("DescribeRouteTables association", err)
	eq("association state", rts.RouteTables[0].Associations[0].AssociationState.State, types.RouteTableAssociationStateCodeAssociated)
	eq("route state", rts.RouteTables[0].Routes[1].State, types.RouteStateActive)

	// aws_security_group: create, drop the default egress rules (IPv6's is
	// not there: InvalidPermission.NotFound, which the provider expects),
	// authorize the configured rules.
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("tf"), Description: aws.String("Managed by Terraform"), VpcId: aws.String(vpc)})
	must("CreateSecurityGroup", err)
	group := aws.ToString(sg.GroupId)
	_, err = c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(group), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), FromPort: aws.Int32(0), ToPort: aws.Int32(0), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	must("RevokeSecurityGroupEgress IPv4", err)
	_, err = c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(group), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), FromPort: aws.Int32(0), ToPort: aws.Int32(0), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}})
	ebsWantErr(t, "RevokeSecurityGroupEgress IPv6", err, "InvalidPermission.NotFound", "")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}}})
	must("AuthorizeSecurityGroupIngress", err)

	// aws_instance: data.aws_ami, RunInstances, wait running, then the
	// update pass (monitoring) and the read.
	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, Filters: []types.Filter{filter("name", "al2023-ami-*-x86_64")}})
	must("DescribeImages", err)
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: imgs.Images[0].ImageId, InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(subnet), SecurityGroupIds: []string{group}, CreditSpecification: &types.CreditSpecificationRequest{CpuCredits: aws.String("standard")},
		MaintenanceOptions: &types.InstanceMaintenanceOptionsRequest{AutoRecovery: types.InstanceAutoRecoveryStateDefault}, TagSpecifications: tag(types.ResourceTypeInstance)})
	must("RunInstances", err)
	inst := aws.ToString(run.Instances[0].InstanceId)
	must("instance-running", ec2.NewInstanceRunningWaiter(c).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{inst}}, 30*time.Second))
	_, err = c.MonitorInstances(ctx, &ec2.MonitorInstancesInput{InstanceIds: []string{inst}})
	must("MonitorInstances", err)
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(inst), InstanceInitiatedShutdownBehavior: &types.AttributeValue{Value: aws.String("stop")}})
	must("ModifyInstanceAttribute shutdown behavior", err)
	readInstance := func() types.Instance {
		t.Helper()
		i := describeInstance(t, c, inst)
		typ, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{i.InstanceType}})
		must("DescribeInstanceTypes", err)
		eq("burstable", aws.ToBool(typ.InstanceTypes[0].BurstablePerformanceSupported), true)
		vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{aws.ToString(i.BlockDeviceMappings[0].Ebs.VolumeId)}})
		must("DescribeVolumes root", err)
		eq("root volumes", len(vols.Volumes), 1)
		for _, a := range []types.InstanceAttributeName{types.InstanceAttributeNameInstanceInitiatedShutdownBehavior, types.InstanceAttributeNameDisableApiStop,
			types.InstanceAttributeNameDisableApiTermination, types.InstanceAttributeNameUserData} {
			_, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(inst), Attribute: a})
			must("DescribeInstanceAttribute "+string(a), err)
		}
		_, err = c.GetPasswordData(ctx, &ec2.GetPasswordDataInput{InstanceId: aws.String(inst)})
		must("GetPasswordData", err)
		return i
	}
	i := readInstance()
	eq("monitoring", i.Monitoring.State, types.MonitoringStateEnabled)
	eq("cpu_credits", creditsOf(t, c, inst)[inst], "standard")

	// Updates, each with what the provider polls afterwards.
	_, err = c.ModifyInstanceCreditSpecification(ctx, &ec2.ModifyInstanceCreditSpecificationInput{InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{{InstanceId: aws.String(inst), CpuCredits: aws.String("unlimited")}}})
	must("ModifyInstanceCreditSpecification", err)
	eq("cpu_credits after", creditsOf(t, c, inst)[inst], "unlimited")
	_, err = c.ModifyInstanceMaintenanceOptions(ctx, &ec2.ModifyInstanceMaintenanceOptionsInput{InstanceId: aws.String(inst), AutoRecovery: types.InstanceAutoRecoveryStateDisabled})
	must("ModifyInstanceMaintenanceOptions", err)
	eq("auto_recovery", describeInstance(t, c, inst).MaintenanceOptions.AutoRecovery, types.InstanceAutoRecoveryStateDisabled)
	_, err = c.UnmonitorInstances(ctx, &ec2.UnmonitorInstancesInput{InstanceIds: []string{inst}})
	must("UnmonitorInstances", err)
	eq("monitoring after", describeInstance(t, c, inst).Monitoring.State, types.MonitoringStateDisabled)
	root := aws.ToString(i.BlockDeviceMappings[0].Ebs.VolumeId)
	_, err = c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String(root), Size: aws.Int32(16)})
	must("ModifyVolume root", err)
	mods, err := c.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{root}})
	must("DescribeVolumesModifications", err)
	if s := mods.VolumesModifications[0].ModificationState; s != types.VolumeModificationStateOptimizing && s != types.VolumeModificationStateCompleted {
		t.Errorf("modification state %s: the provider waits for optimizing or completed", s)
	}
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(inst), BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{
		{DeviceName: i.RootDeviceName, Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(false)}}}})
	must("ModifyInstanceAttribute root DeleteOnTermination", err)
	eq("root delete_on_termination", aws.ToBool(describeInstance(t, c, inst).BlockDeviceMappings[0].Ebs.DeleteOnTermination), false)
	readInstance()

	// aws_network_interface (+ attachment, sg attachment).
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{ClientToken: aws.String("terraform-1"), SubnetId: aws.String(subnet), Groups: []string{group}, SecondaryPrivateIpAddressCount: aws.Int32(1)})
	must("CreateNetworkInterface", err)
	eniID := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	_, err = c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eniID), SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
	must("ModifyNetworkInterfaceAttribute", err)
	_, err = c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eniID), InstanceId: aws.String(inst), DeviceIndex: aws.Int32(1)})
	must("AttachNetworkInterface", err)
	n, _ := describeENI(t, c, eniID)
	eq("eni attachment", n.Attachment.Status, types.AttachmentStatusAttached)
	_, err = c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eniID), Groups: []string{group, aws.ToString(sgs.SecurityGroups[0].GroupId)}})
	must("ModifyNetworkInterfaceAttribute groups", err)

	// aws_eip (+ association): allocate, associate, read with the domain
	// name attribute.
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc, TagSpecifications: tag(types.ResourceTypeElasticIp)})
	must("AllocateAddress", err)
	ea, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: aws.String(eniID)})
	must("AssociateAddress", err)
	addrs, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{filter("association-id", aws.ToString(ea.AssociationId))}})
	must("DescribeAddresses", err)
	eq("eip associations", len(addrs.Addresses), 1)
	_, err = c.DescribeAddressesAttribute(ctx, &ec2.DescribeAddressesAttributeInput{AllocationIds: []string{aws.ToString(eip.AllocationId)}, Attribute: types.AddressAttributeNameDomainName})
	must("DescribeAddressesAttribute", err)

	// aws_ebs_volume + aws_volume_attachment.
	vol, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(10), VolumeType: types.VolumeTypeGp3, TagSpecifications: tag(types.ResourceTypeVolume)})
	must("CreateVolume", err)
	must("volume-available", ec2.NewVolumeAvailableWaiter(c).Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{aws.ToString(vol.VolumeId)}}, 30*time.Second))
	_, err = c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: vol.VolumeId, InstanceId: aws.String(inst), Device: aws.String("/dev/sdh")})
	must("AttachVolume", err)
	vs, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{filter("attachment.device", "/dev/sdh"), filter("attachment.instance-id", inst)}, VolumeIds: []string{aws.ToString(vol.VolumeId)}})
	must("DescribeVolumes attachment", err)
	eq("volume attachment", vs.Volumes[0].Attachments[0].State, types.VolumeAttachmentStateAttached)

	// aws_default_vpc / _subnet / _security_group / _route_table and the
	// data sources find what they manage by these filters.
	for name, in := range map[string]*ec2.DescribeVpcsInput{
		"aws_default_vpc":  {Filters: []types.Filter{filter("isDefault", "true")}},
		"data.aws_vpc":     {Filters: []types.Filter{filter("cidr", "10.50.0.0/16"), filter("state", "available")}},
		"data.aws_vpc tag": {Filters: []types.Filter{filter("tag:Name", "tf")}},
	} {
		out, err := c.DescribeVpcs(ctx, in)
		must(name, err)
		eq(name, len(out.Vpcs), 1)
	}
	def, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("availability-zone", "us-east-1a"), filter("default-for-az", "true")}})
	must("aws_default_subnet", err)
	eq("aws_default_subnet", len(def.Subnets), 1)
	dsub, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", vpc), filter("cidr-block", "10.50.1.0/24"), filter("availability-zone-id", "use1-az1"), filter("state", "available")}})
	must("data.aws_subnet", err)
	eq("data.aws_subnet", len(dsub.Subnets), 1)
	drt, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("association.subnet-id", subnet)}})
	must("data.aws_route_table", err)
	eq("data.aws_route_table", len(drt.RouteTables), 1)
	azs, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{Filters: []types.Filter{filter("opt-in-status", "opt-in-not-required")}})
	must("data.aws_availability_zones", err)
	eq("zones", len(azs.AvailabilityZones), 3)
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func modifyVpcDNSHostnames(c *ec2.Client, vpc string) error {
	_, err := c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(vpc), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	return err
}
