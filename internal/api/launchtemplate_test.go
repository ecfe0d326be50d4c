package api_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// ltCreate creates a launch template and fails the test on error.
func ltCreate(t *testing.T, c *ec2.Client, name string, data *types.RequestLaunchTemplateData, tags ...types.Tag) types.LaunchTemplate {
	t.Helper()
	in := &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(name), LaunchTemplateData: data, VersionDescription: aws.String("first")}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeLaunchTemplate, Tags: tags}}
	}
	out, err := c.CreateLaunchTemplate(ctx, in)
	if err != nil {
		t.Fatalf("CreateLaunchTemplate %s: %v", name, err)
	}
	return *out.LaunchTemplate
}

// ltVersions describes versions and returns their numbers in reply order.
func ltVersions(t *testing.T, c *ec2.Client, in *ec2.DescribeLaunchTemplateVersionsInput) ([]int64, []types.LaunchTemplateVersion) {
	t.Helper()
	out, err := c.DescribeLaunchTemplateVersions(ctx, in)
	if err != nil {
		t.Fatalf("DescribeLaunchTemplateVersions: %v", err)
	}
	var nums []int64
	for _, v := range out.LaunchTemplateVersions {
		nums = append(nums, aws.ToInt64(v.VersionNumber))
	}
	return nums, out.LaunchTemplateVersions
}

func tagValue(tags []types.Tag, key string) (string, bool) {
	for _, tg := range tags {
		if aws.ToString(tg.Key) == key {
			return aws.ToString(tg.Value), true
		}
	}
	return "", false
}

func TestLaunchTemplateLifecycle(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	createKey(t, c, "ltkey")
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho lt\n"))
	data := &types.RequestLaunchTemplateData{
		ImageId: aws.String(testAMI), InstanceType: types.InstanceTypeT3Micro, KeyName: aws.String("ltkey"), UserData: aws.String(userData),
		MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: types.LaunchTemplateHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(2)},
		BlockDeviceMappings: []types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvdb"),
			Ebs: &types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(20), VolumeType: types.VolumeTypeGp3, DeleteOnTermination: aws.Bool(true)}}},
		NetworkInterfaces: []types.LaunchTemplateInstanceNetworkInterfaceSpecificationRequest{{DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: aws.Bool(true),
			DeleteOnTermination: aws.Bool(true), Groups: []string{"sg-0123456789abcdef0"}, SecondaryPrivateIpAddressCount: aws.Int32(2),
			Ipv4PrefixCount: aws.Int32(1), InterfaceType: aws.String("interface"), NetworkCardIndex: aws.Int32(0)}},
		TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}},
	}
	lt := ltCreate(t, c, "web-(v1)/a_b.c", data, types.Tag{Key: aws.String("team"), Value: aws.String("net")})
	id := aws.ToString(lt.LaunchTemplateId)
	if !strings.HasPrefix(id, "lt-") || len(id) != 20 || aws.ToInt64(lt.DefaultVersionNumber) != 1 || aws.ToInt64(lt.LatestVersionNumber) != 1 ||
		aws.ToString(lt.CreatedBy) != "arn:aws:iam::123456789012:root" || lt.CreateTime == nil {
		t.Fatalf("created: %+v", lt)
	}
	if v, _ := tagValue(lt.Tags, "team"); v != "net" {
		t.Fatalf("template tags: %+v", lt.Tags)
	}

	// Mistakes.
	_, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web-(v1)/a_b.c"), LaunchTemplateData: data})
	apitest.WantCode(t, err, "InvalidLaunchTemplateName.AlreadyExistsException")
	eniWantMessage(t, err, "Launch template name already in use.")
	for _, bad := range []string{"ab", "has space", strings.Repeat("x", 129), "naïve"} {
		_, err = c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(bad), LaunchTemplateData: data})
		apitest.WantCode(t, err, "InvalidLaunchTemplateName.MalformedException")
	}
	_, err = c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("badtags"), LaunchTemplateData: data,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"lt-0123456789abcdef0"}})
	apitest.WantCode(t, err, "InvalidLaunchTemplateId.NotFound")
	_, err = c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"web"}})
	apitest.WantCode(t, err, "InvalidLaunchTemplateId.Malformed")
	_, err = c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}})
	apitest.WantCode(t, err, "InvalidLaunchTemplateName.NotFoundException")
	_, err = c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("nope"), LaunchTemplateData: data})
	apitest.WantCode(t, err, "InvalidLaunchTemplateName.NotFoundException")
	eniWantMessage(t, err, "The specified launch template, with template name nope, does not exist.")
	_, err = c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id), SourceVersion: aws.String("7"), LaunchTemplateData: data})
	apitest.WantCode(t, err, "InvalidLaunchTemplateId.VersionNotFound")
	eniWantMessage(t, err, "Could not find the specified version 7 for the launch template with ID "+id+".")

	// Describe: ids, names, filters.
	other := ltCreate(t, c, "other", &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeM5Large})
	for _, tc := range []struct {
		in   ec2.DescribeLaunchTemplatesInput
		want []string
	}{
		{ec2.DescribeLaunchTemplatesInput{}, []string{id, aws.ToString(other.LaunchTemplateId)}},
		{ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}}, []string{id}},
		{ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"other"}}, []string{aws.ToString(other.LaunchTemplateId)}},
		{ec2.DescribeLaunchTemplatesInput{Filters: []types.Filter{filter("launch-template-name", "web-*")}}, []string{id}},
		{ec2.DescribeLaunchTemplatesInput{Filters: []types.Filter{filter("tag:team", "net")}}, []string{id}},
		{ec2.DescribeLaunchTemplatesInput{Filters: []types.Filter{filter("create-time", lt.CreateTime.UTC().Format("2006-01-02T")+"*")}}, []string{id, aws.ToString(other.LaunchTemplateId)}},
	} {
		out, err := c.DescribeLaunchTemplates(ctx, &tc.in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range out.LaunchTemplates {
			got = append(got, aws.ToString(l.LaunchTemplateId))
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("DescribeLaunchTemplates %+v: %v, want %v", tc.in, got, want)
		}
	}

	// A version from version 1 with another type keeps the rest of version 1.
	v2, err := c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id), SourceVersion: aws.String("1"),
		VersionDescription: aws.String("bigger"), LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeM5Large}})
	if err != nil {
		t.Fatal(err)
	}
	got := v2.LaunchTemplateVersion
	d := got.LaunchTemplateData
	if aws.ToInt64(got.VersionNumber) != 2 || aws.ToBool(got.DefaultVersion) || aws.ToString(got.VersionDescription) != "bigger" ||
		d.InstanceType != types.InstanceTypeM5Large || aws.ToString(d.ImageId) != testAMI || aws.ToString(d.UserData) != userData ||
		aws.ToString(d.KeyName) != "ltkey" || d.MetadataOptions == nil || d.MetadataOptions.HttpTokens != types.LaunchTemplateHttpTokensStateRequired {
		t.Fatalf("version 2: %+v data %+v", got, d)
	}
	if len(d.NetworkInterfaces) != 1 {
		t.Fatalf("version 2 interfaces: %+v", d.NetworkInterfaces)
	}
	n := d.NetworkInterfaces[0]
	if aws.ToInt32(n.DeviceIndex) != 0 || !aws.ToBool(n.AssociatePublicIpAddress) || !aws.ToBool(n.DeleteOnTermination) ||
		!slices.Equal(n.Groups, []string{"sg-0123456789abcdef0"}) || aws.ToInt32(n.SecondaryPrivateIpAddressCount) != 2 ||
		aws.ToInt32(n.Ipv4PrefixCount) != 1 || aws.ToString(n.InterfaceType) != "interface" || n.NetworkCardIndex == nil {
		t.Fatalf("version 2 interface: %+v", n)
	}
	if len(d.BlockDeviceMappings) != 1 || aws.ToInt32(d.BlockDeviceMappings[0].Ebs.VolumeSize) != 20 || d.BlockDeviceMappings[0].Ebs.VolumeType != types.VolumeTypeGp3 {
		t.Fatalf("version 2 block devices: %+v", d.BlockDeviceMappings)
	}
	if len(d.TagSpecifications) != 1 || d.TagSpecifications[0].ResourceType != types.ResourceTypeInstance {
		t.Fatalf("version 2 tag specifications: %+v", d.TagSpecifications)
	}
	if _, err := c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("web-(v1)/a_b.c"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(testAMI)}}); err != nil {
		t.Fatal(err)
	}

	// Versions: all (newest first), aliases, ranges, filters.
	byID := func(in ec2.DescribeLaunchTemplateVersionsInput) *ec2.DescribeLaunchTemplateVersionsInput {
		in.LaunchTemplateId = aws.String(id)
		return &in
	}
	for _, tc := range []struct {
		in   *ec2.DescribeLaunchTemplateVersionsInput
		want []int64
	}{
		{byID(ec2.DescribeLaunchTemplateVersionsInput{}), []int64{3, 2, 1}},
		{byID(ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest"}}), []int64{3}},
		{byID(ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Default", "2"}}), []int64{2, 1}},
		{byID(ec2.DescribeLaunchTemplateVersionsInput{MinVersion: aws.String("2")}), []int64{3, 2}},
		{byID(ec2.DescribeLaunchTemplateVersionsInput{MinVersion: aws.String("1"), MaxVersion: aws.String("2")}), []int64{2, 1}},
		{byID(ec2.DescribeLaunchTemplateVersionsInput{Filters: []types.Filter{filter("instance-type", "m5.large")}}), []int64{2}},
		{byID(ec2.DescribeLaunchTemplateVersionsInput{Filters: []types.Filter{filter("is-default-version", "true")}}), []int64{1}},
		{byID(ec2.DescribeLaunchTemplateVersionsInput{Filters: []types.Filter{filter("http-tokens", "required")}}), []int64{2, 1}},
		{&ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("other")}, []int64{1}},
	} {
		if nums, _ := ltVersions(t, c, tc.in); !slices.Equal(nums, tc.want) {
			t.Errorf("versions %+v: %v, want %v", tc.in, nums, tc.want)
		}
	}
	_, err = c.DescribeLaunchTemplateVersions(ctx, byID(ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"9"}}))
	apitest.WantCode(t, err, "InvalidLaunchTemplateId.VersionNotFound")

	// The default version moves; across templates $Default and $Latest.
	mod, err := c.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(id), DefaultVersion: aws.String("2")})
	if err != nil || aws.ToInt64(mod.LaunchTemplate.DefaultVersionNumber) != 2 || aws.ToInt64(mod.LaunchTemplate.LatestVersionNumber) != 3 {
		t.Fatalf("ModifyLaunchTemplate: %+v %v", mod, err)
	}
	_, err = c.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(id), DefaultVersion: aws.String("8")})
	apitest.WantCode(t, err, "InvalidLaunchTemplateId.VersionNotFound")
	if nums, _ := ltVersions(t, c, &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Default"}}); !slices.Equal(nums, []int64{2, 1}) && !slices.Equal(nums, []int64{1, 2}) {
		t.Errorf("$Default of every template: %v", nums)
	}

	// Deleting versions: the default stays, with its error in the reply.
	del, err := c.DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: []string{"2", "3", "9"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.SuccessfullyDeletedLaunchTemplateVersions) != 1 || aws.ToInt64(del.SuccessfullyDeletedLaunchTemplateVersions[0].VersionNumber) != 3 ||
		len(del.UnsuccessfullyDeletedLaunchTemplateVersions) != 2 {
		t.Fatalf("DeleteLaunchTemplateVersions: %+v", del)
	}
	for _, u := range del.UnsuccessfullyDeletedLaunchTemplateVersions {
		want := types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist
		if aws.ToInt64(u.VersionNumber) == 2 {
			want = types.LaunchTemplateErrorCodeUnexpectedError
		}
		if u.ResponseError == nil || u.ResponseError.Code != want || aws.ToString(u.LaunchTemplateId) != id {
			t.Errorf("unsuccessful item %+v: %+v", aws.ToInt64(u.VersionNumber), u.ResponseError)
		}
	}
	if nums, _ := ltVersions(t, c, byID(ec2.DescribeLaunchTemplateVersionsInput{})); !slices.Equal(nums, []int64{2, 1}) {
		t.Fatalf("versions after delete: %v", nums)
	}
	// Numbers are not reused, and $Latest follows what is left.
	l, _ := c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}})
	if aws.ToInt64(l.LaunchTemplates[0].LatestVersionNumber) != 2 {
		t.Fatalf("latest after delete: %+v", l.LaunchTemplates[0])
	}
	v4, err := c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id), LaunchTemplateData: &types.RequestLaunchTemplateData{EbsOptimized: aws.Bool(true)}})
	if err != nil || aws.ToInt64(v4.LaunchTemplateVersion.VersionNumber) != 4 {
		t.Fatalf("version after a deleted latest: %+v %v", v4, err)
	}

	// Template tags through the tag actions.
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{filter("resource-type", "launch-template")}})
	if err != nil || len(tags.Tags) != 2 {
		t.Fatalf("launch template tags: %+v %v", tags, err)
	}

	// DeleteLaunchTemplate deletes every version.
	gone, err := c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("web-(v1)/a_b.c")})
	if err != nil || aws.ToString(gone.LaunchTemplate.LaunchTemplateId) != id {
		t.Fatalf("DeleteLaunchTemplate: %+v %v", gone, err)
	}
	_, err = c.DescribeLaunchTemplateVersions(ctx, byID(ec2.DescribeLaunchTemplateVersionsInput{}))
	apitest.WantCode(t, err, "InvalidLaunchTemplateId.NotFound")
	eniWantMessage(t, err, "The specified launch template, with template ID "+id+", does not exist.")
	_, err = c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(id)})
	apitest.WantCode(t, err, "InvalidLaunchTemplateId.NotFound")
}

// RunInstances from a template: the template's parameters, those given to
// RunInstances over them (tags merged by key, block devices by name), the
// aws:ec2launchtemplate tags, and AWS's conflicts and errors.
func TestRunInstancesFromLaunchTemplate(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	subnet := addrSubnet(t, c, vpcID, "10.0.1.0/24")
	sg := sgCreate(t, c, "web", vpcID)
	data := &types.RequestLaunchTemplateData{
		ImageId: aws.String(testAMI), InstanceType: types.InstanceTypeT3Large, EbsOptimized: aws.Bool(true),
		Monitoring:      &types.LaunchTemplatesMonitoringRequest{Enabled: aws.Bool(true)},
		MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: types.LaunchTemplateHttpTokensStateRequired},
		BlockDeviceMappings: []types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvdb"),
			Ebs: &types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(20), VolumeType: types.VolumeTypeGp3}}},
		NetworkInterfaces: []types.LaunchTemplateInstanceNetworkInterfaceSpecificationRequest{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnet),
			Groups: []string{sg}, SecondaryPrivateIpAddressCount: aws.Int32(2), Ipv4PrefixCount: aws.Int32(1), DeleteOnTermination: aws.Bool(true),
			Description: aws.String("from the template")}},
		TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}, {Key: aws.String("Owner"), Value: aws.String("lt")}}}},
	}
	lt := ltCreate(t, c, "web", data)
	id := aws.ToString(lt.LaunchTemplateId)
	if _, err := c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id), SourceVersion: aws.String("1"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeM5Large}}); err != nil {
		t.Fatal(err)
	}

	// By name, default version; RunInstances' tags and a block device join the template's.
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate:      &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web")},
		TagSpecifications:   []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Owner"), Value: aws.String("TeamA")}}}},
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvdc"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(5)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	inst := describeInstance(t, c, aws.ToString(out.Instances[0].InstanceId))
	if inst.InstanceType != types.InstanceTypeT3Large || aws.ToString(inst.ImageId) != testAMI || aws.ToString(inst.SubnetId) != subnet ||
		!aws.ToBool(inst.EbsOptimized) || inst.Monitoring.State != types.MonitoringStateEnabled ||
		inst.MetadataOptions.HttpTokens != types.HttpTokensStateRequired {
		t.Fatalf("instance from template: %+v", inst)
	}
	for k, want := range map[string]string{"Name": "web", "Owner": "TeamA", "aws:ec2launchtemplate:id": id, "aws:ec2launchtemplate:version": "1"} {
		if v, ok := tagValue(inst.Tags, k); !ok || v != want {
			t.Errorf("tag %s = %q, want %q (tags %+v)", k, v, want, inst.Tags)
		}
	}
	if len(inst.NetworkInterfaces) != 1 {
		t.Fatalf("interfaces: %+v", inst.NetworkInterfaces)
	}
	ni := inst.NetworkInterfaces[0]
	if len(ni.PrivateIpAddresses) != 3 || len(ni.Groups) != 1 || aws.ToString(ni.Groups[0].GroupId) != sg || aws.ToString(ni.Description) != "from the template" {
		t.Fatalf("interface from template: %+v", ni)
	}
	eni, _ := describeENI(t, c, aws.ToString(ni.NetworkInterfaceId))
	if len(eni.Ipv4Prefixes) != 1 {
		t.Fatalf("prefixes from template: %+v", eni.Ipv4Prefixes)
	}
	var devices []string
	for _, b := range inst.BlockDeviceMappings {
		devices = append(devices, aws.ToString(b.DeviceName))
	}
	if !slices.Contains(devices, "/dev/xvdb") || !slices.Contains(devices, "/dev/xvdc") {
		t.Fatalf("block devices: %v", devices)
	}

	// By id, $Latest, with the type given to RunInstances over the template's.
	out, err = c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeC5Large,
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id), Version: aws.String("$Latest")}})
	if err != nil {
		t.Fatal(err)
	}
	inst = describeInstance(t, c, aws.ToString(out.Instances[0].InstanceId))
	if v, _ := tagValue(inst.Tags, "aws:ec2launchtemplate:version"); inst.InstanceType != types.InstanceTypeC5Large || v != "2" {
		t.Fatalf("instance from $Latest: type %s, version tag %q", inst.InstanceType, v)
	}
	// Users cannot remove AWS's tags.
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{aws.ToString(inst.InstanceId)}}); err != nil {
		t.Fatal(err)
	}
	inst = describeInstance(t, c, aws.ToString(inst.InstanceId))
	if _, ok := tagValue(inst.Tags, "aws:ec2launchtemplate:id"); !ok || len(inst.Tags) != 2 {
		t.Fatalf("tags after DeleteTags: %+v", inst.Tags)
	}
	_, err = c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{aws.ToString(inst.InstanceId)}, Tags: []types.Tag{{Key: aws.String("aws:ec2launchtemplate:id")}}})
	apitest.WantCode(t, err, "InvalidTagKey.Malformed")

	// Conflicts and unknown templates or versions; nothing is launched.
	before, _ := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	for _, tc := range []struct {
		in        ec2.RunInstancesInput
		code, msg string
	}{
		{ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id)}, SecurityGroupIds: []string{sg}},
			"InvalidParameterCombination", "Network interfaces and an instance-level security groups may not be specified on the same request"},
		{ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id)}, SubnetId: aws.String(subnet)},
			"InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request"},
		{ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String("lt-0123456789abcdef0")}},
			"InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID lt-0123456789abcdef0, does not exist."},
		{ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("nope")}},
			"InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name nope, does not exist."},
		{ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id), Version: aws.String("9")}},
			"InvalidLaunchTemplateId.VersionNotFound", "Could not find the specified version 9 for the launch template with ID " + id + "."},
		{ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id), LaunchTemplateName: aws.String("web")}},
			"InvalidParameterCombination", ""},
	} {
		tc.in.MinCount, tc.in.MaxCount = aws.Int32(1), aws.Int32(1)
		_, err := c.RunInstances(ctx, &tc.in)
		apitest.WantCode(t, err, tc.code)
		if tc.msg != "" {
			eniWantMessage(t, err, tc.msg)
		}
	}
	// A template without an image needs one from RunInstances.
	bare := ltCreate(t, c, "bare", &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeT3Micro})
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: bare.LaunchTemplateId}})
	apitest.WantCode(t, err, "MissingParameter")
	after, _ := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if len(after.Reservations) != len(before.Reservations) {
		t.Fatalf("failed launches launched something: %d reservations, was %d", len(after.Reservations), len(before.Reservations))
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// Templates are durable: they and their versions survive a restart.
func TestLaunchTemplatesSurviveRestart(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	lt := ltCreate(t, c, "durable", &types.RequestLaunchTemplateData{ImageId: aws.String(testAMI), InstanceType: types.InstanceTypeT3Micro},
		types.Tag{Key: aws.String("k"), Value: aws.String("v")})
	id := aws.ToString(lt.LaunchTemplateId)
	if _, err := c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id), SourceVersion: aws.String("1"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeM5Large}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(id), DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	path := e.Path
	e.Close()
	e2 := apitest.New(t, apitest.Options{Path: path})
	c2 := e2.Client()
	nums, versions := ltVersions(t, c2, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("durable")})
	if !slices.Equal(nums, []int64{2, 1}) || !aws.ToBool(versions[0].DefaultVersion) || versions[0].LaunchTemplateData.InstanceType != types.InstanceTypeM5Large ||
		aws.ToString(versions[0].LaunchTemplateData.ImageId) != testAMI {
		t.Fatalf("after restart: %v %+v", nums, versions)
	}
	out, err := c2.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("durable")}})
	if err != nil || out.Instances[0].InstanceType != types.InstanceTypeM5Large {
		t.Fatalf("launch after restart: %+v %v", out, err)
	}
}
