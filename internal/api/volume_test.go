package api_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/eni-net/eni/internal/apitest"
)

const ubuntuAMI = "ami-0e2c8caa4b6378d8c" // Ubuntu 24.04, root /dev/sda1

func describeVolume(t *testing.T, c *ec2.Client, id string) types.Volume {
	t.Helper()
	out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil || len(out.Volumes) != 1 {
		t.Fatalf("DescribeVolumes %s: %v %v", id, out, err)
	}
	return out.Volumes[0]
}

func volumeIDs(t *testing.T, c *ec2.Client, filters ...types.Filter) map[string]types.Volume {
	t.Helper()
	out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]types.Volume{}
	for _, v := range out.Volumes {
		m[aws.ToString(v.VolumeId)] = v
	}
	return m
}

// Images describe their root volume; every launched instance gets it, seen
// through DescribeInstances and DescribeVolumes in the same change.
func TestRootVolumeFromImage(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{testAMI, ubuntuAMI}})
	if err != nil || len(imgs.Images) != 2 {
		t.Fatalf("DescribeImages: %v %v", imgs, err)
	}
	for _, im := range imgs.Images {
		if len(im.BlockDeviceMappings) != 1 {
			t.Fatalf("%s: mappings %+v", *im.ImageId, im.BlockDeviceMappings)
		}
		m := im.BlockDeviceMappings[0]
		if aws.ToString(m.DeviceName) != aws.ToString(im.RootDeviceName) || m.Ebs == nil || aws.ToInt32(m.Ebs.VolumeSize) != 8 ||
			!aws.ToBool(m.Ebs.DeleteOnTermination) || aws.ToString(m.Ebs.SnapshotId) == "" || m.Ebs.VolumeType != types.VolumeTypeGp3 {
			t.Errorf("%s: root mapping %+v %+v", *im.ImageId, m, m.Ebs)
		}
	}
	byDevice, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{filter("block-device-mapping.device-name", "/dev/sda1"), filter("block-device-mapping.volume-type", "gp3")}})
	if err != nil || len(byDevice.Images) != 2 { // the two Ubuntu 24.04 images
		t.Fatalf("images by root device: %v %v", byDevice, err)
	}

	for _, tc := range []struct{ ami, root string }{{testAMI, "/dev/xvda"}, {ubuntuAMI, "/dev/sda1"}, {"ami-12345678", "/dev/xvda"}} {
		inst := runInstance(t, c, &ec2.RunInstancesInput{ImageId: aws.String(tc.ami)})
		if aws.ToString(inst.RootDeviceName) != tc.root || len(inst.BlockDeviceMappings) != 1 {
			t.Fatalf("%s: RunInstances root %v mappings %+v", tc.ami, aws.ToString(inst.RootDeviceName), inst.BlockDeviceMappings)
		}
		bdm := inst.BlockDeviceMappings[0]
		vol := describeVolume(t, c, aws.ToString(bdm.Ebs.VolumeId))
		if aws.ToString(bdm.DeviceName) != tc.root || bdm.Ebs.Status != types.AttachmentStatusAttached || !aws.ToBool(bdm.Ebs.DeleteOnTermination) {
			t.Errorf("%s: mapping %+v %+v", tc.ami, bdm, bdm.Ebs)
		}
		if vol.State != types.VolumeStateInUse || aws.ToInt32(vol.Size) != 8 || vol.VolumeType != types.VolumeTypeGp3 ||
			aws.ToInt32(vol.Iops) != 3000 || aws.ToInt32(vol.Throughput) != 125 || aws.ToString(vol.AvailabilityZone) != aws.ToString(inst.Placement.AvailabilityZone) ||
			len(vol.Attachments) != 1 || aws.ToString(vol.Attachments[0].InstanceId) != aws.ToString(inst.InstanceId) || aws.ToString(vol.Attachments[0].Device) != tc.root {
			t.Errorf("%s: volume %+v", tc.ami, vol)
		}
		got := describeInstance(t, c, aws.ToString(inst.InstanceId))
		if len(got.BlockDeviceMappings) != 1 || aws.ToString(got.BlockDeviceMappings[0].Ebs.VolumeId) != aws.ToString(vol.VolumeId) {
			t.Errorf("%s: DescribeInstances mappings %+v", tc.ami, got.BlockDeviceMappings)
		}
		byVol, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("block-device-mapping.volume-id", *vol.VolumeId), filter("root-device-name", tc.root)}})
		if err != nil || len(byVol.Reservations) != 1 {
			t.Errorf("%s: DescribeInstances by volume: %v %v", tc.ami, byVol, err)
		}
		attr, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: inst.InstanceId, Attribute: types.InstanceAttributeNameRootDeviceName})
		if err != nil || aws.ToString(attr.RootDeviceName.Value) != tc.root {
			t.Errorf("%s: rootDeviceName attribute %v %v", tc.ami, attr, err)
		}
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// The launch's BlockDeviceMapping overrides the root volume and adds
// volumes; termination deletes those marked DeleteOnTermination and leaves
// the others available.
func TestLaunchBlockDeviceMappings(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	inst := runInstance(t, c, &ec2.RunInstancesInput{
		BlockDeviceMappings: []types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(20), VolumeType: types.VolumeTypeGp2, DeleteOnTermination: aws.Bool(false)}},
			{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(10), VolumeType: types.VolumeTypeIo1, Iops: aws.Int32(500)}},
			{DeviceName: aws.String("/dev/sdb"), VirtualName: aws.String("ephemeral0")},
		},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("data")}}}},
	})
	id := aws.ToString(inst.InstanceId)
	vols := volumeIDs(t, c, filter("attachment.instance-id", id))
	if len(vols) != 2 || len(inst.BlockDeviceMappings) != 2 || aws.ToString(inst.BlockDeviceMappings[0].DeviceName) != "/dev/xvda" {
		t.Fatalf("volumes %v, mappings %+v", vols, inst.BlockDeviceMappings)
	}
	root := vols[aws.ToString(inst.BlockDeviceMappings[0].Ebs.VolumeId)]
	data := vols[aws.ToString(inst.BlockDeviceMappings[1].Ebs.VolumeId)]
	if aws.ToInt32(root.Size) != 20 || root.VolumeType != types.VolumeTypeGp2 || aws.ToInt32(root.Iops) != 100 || aws.ToBool(root.Attachments[0].DeleteOnTermination) ||
		aws.ToString(root.SnapshotId) == "" {
		t.Errorf("root %+v", root)
	}
	if aws.ToInt32(data.Size) != 10 || data.VolumeType != types.VolumeTypeIo1 || aws.ToInt32(data.Iops) != 500 || aws.ToString(data.SnapshotId) != "" ||
		!aws.ToBool(data.Attachments[0].DeleteOnTermination) || aws.ToString(data.Attachments[0].Device) != "/dev/sdf" {
		t.Errorf("data %+v", data)
	}
	for _, v := range vols {
		if len(v.Tags) != 1 || aws.ToString(v.Tags[0].Value) != "data" {
			t.Errorf("volume tags %+v", v.Tags)
		}
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{*root.VolumeId}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("root")}}}); err != nil {
		t.Fatal(err)
	}
	if got := volumeIDs(t, c, filter("tag:Name", "root"), filter("volume-type", "gp2"), filter("size", "20")); len(got) != 1 {
		t.Errorf("by tag, type and size: %v", got)
	}

	// Durable: the volumes come back after a restart.
	path := e.Path
	e.Close()
	e = apitest.New(t, apitest.Options{Path: path})
	c = e.Client()
	if got := volumeIDs(t, c, filter("attachment.instance-id", id)); len(got) != 2 {
		t.Fatalf("after restart: %v", got)
	}

	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	after := volumeIDs(t, c)
	if _, ok := after[*data.VolumeId]; ok {
		t.Errorf("volume %s (delete on termination) survived", *data.VolumeId)
	}
	r, ok := after[*root.VolumeId]
	if !ok || r.State != types.VolumeStateAvailable || len(r.Attachments) != 0 {
		t.Errorf("root after termination: %+v", r)
	}
	if got := volumeIDs(t, c, filter("status", "available")); len(got) != 1 {
		t.Errorf("available volumes: %v", got)
	}
	if m := describeInstance(t, c, id).BlockDeviceMappings; len(m) != 0 {
		t.Errorf("terminated instance mappings %+v", m)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// A bad mapping fails the launch with AWS's code and creates nothing.
func TestLaunchBlockDeviceMappingErrors(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	ebs := func(dev string, b types.EbsBlockDevice) []types.BlockDeviceMapping {
		return []types.BlockDeviceMapping{{DeviceName: aws.String(dev), Ebs: &b}}
	}
	for _, tc := range []struct {
		name string
		bdms []types.BlockDeviceMapping
		code string
		msg  string
	}{
		{"smaller than the snapshot", ebs("/dev/xvda", types.EbsBlockDevice{VolumeSize: aws.Int32(4)}), "InvalidBlockDeviceMapping",
			"Volume of size 4GB is smaller than  snapshot 'snap-0c9f8a3e5b6d1f247', expect size >= 8GB"},
		{"no size nor snapshot", ebs("/dev/sdf", types.EbsBlockDevice{VolumeType: types.VolumeTypeGp3}), "InvalidBlockDeviceMapping",
			"Either snapshot ID or volume size must be provided for: /dev/sdf"},
		{"unknown snapshot", ebs("/dev/sdf", types.EbsBlockDevice{SnapshotId: aws.String("snap-0123456789abcdef0")}), "InvalidSnapshot.NotFound", ""},
		{"malformed snapshot", ebs("/dev/sdf", types.EbsBlockDevice{SnapshotId: aws.String("snapshot")}), "InvalidSnapshotID.Malformed", ""},
		{"bad type", ebs("/dev/sdf", types.EbsBlockDevice{VolumeSize: aws.Int32(5), VolumeType: "ssd"}), "InvalidParameterValue", ""},
		{"io1 without iops", ebs("/dev/sdf", types.EbsBlockDevice{VolumeSize: aws.Int32(5), VolumeType: types.VolumeTypeIo1}), "InvalidParameterCombination", ""},
		{"iops on gp2", ebs("/dev/sdf", types.EbsBlockDevice{VolumeSize: aws.Int32(5), VolumeType: types.VolumeTypeGp2, Iops: aws.Int32(300)}), "InvalidParameterCombination", ""},
		{"too large", ebs("/dev/sdf", types.EbsBlockDevice{VolumeSize: aws.Int32(20000)}), "InvalidParameterValue", ""},
		{"sc1 root", ebs("/dev/xvda", types.EbsBlockDevice{VolumeSize: aws.Int32(200), VolumeType: types.VolumeTypeSc1}), "InvalidBlockDeviceMapping", ""},
		{"same device twice", append(ebs("/dev/sdf", types.EbsBlockDevice{VolumeSize: aws.Int32(5)}), ebs("/dev/sdf", types.EbsBlockDevice{VolumeSize: aws.Int32(6)})...), "InvalidBlockDeviceMapping", ""},
		{"root suppressed", []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), NoDevice: aws.String("")}}, "InvalidBlockDeviceMapping", ""},
	} {
		_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), BlockDeviceMappings: tc.bdms})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || (tc.msg != "" && ae.ErrorMessage() != tc.msg) {
			t.Errorf("%s: got %v, want %s %q", tc.name, err, tc.code, tc.msg)
		}
	}
	insts, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil || len(insts.Reservations) != 0 || len(volumeIDs(t, c)) != 0 {
		t.Fatalf("a failed launch left %v, %d volumes (%v)", insts.Reservations, len(volumeIDs(t, c)), err)
	}
}

func TestDescribeVolumesPagesAndErrors(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(6), MaxCount: aws.Int32(6)}); err != nil {
		t.Fatal(err)
	}
	p := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5)})
	n, pages := 0, 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, pages = n+len(page.Volumes), pages+1
	}
	if n != 6 || pages != 2 {
		t.Errorf("%d volumes in %d pages", n, pages)
	}
	one := ""
	for id := range volumeIDs(t, c) {
		one = id
	}
	for _, tc := range []struct {
		in   *ec2.DescribeVolumesInput
		code string
	}{
		{&ec2.DescribeVolumesInput{VolumeIds: []string{"vol-0123456789abcdef0"}}, "InvalidVolume.NotFound"},
		{&ec2.DescribeVolumesInput{VolumeIds: []string{"volume-1"}}, "InvalidVolumeID.Malformed"},
		{&ec2.DescribeVolumesInput{VolumeIds: []string{one}, MaxResults: aws.Int32(5)}, "InvalidParameterCombination"},
		{&ec2.DescribeVolumesInput{MaxResults: aws.Int32(501)}, "InvalidParameterValue"},
		{&ec2.DescribeVolumesInput{Filters: []types.Filter{filter("bogus", "x")}}, "InvalidParameterValue"},
	} {
		_, err := c.DescribeVolumes(ctx, tc.in)
		apitest.WantCode(t, err, tc.code)
	}
}
