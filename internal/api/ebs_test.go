package api_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/core"
)

// ebsWantErr fails unless err is the API error code (and message, if given).
func ebsWantErr(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Errorf("%s: got %v, want %s %q", what, err, code, msg)
	}
}

func createVolume(t *testing.T, c *ec2.Client, in *ec2.CreateVolumeInput) *ec2.CreateVolumeOutput {
	t.Helper()
	out, err := c.CreateVolume(ctx, in)
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	return out
}

// A volume's life: created (creating in the reply, available at once),
// attached (attaching, then in-use), detached, deleted; the SDK's waiters
// for each state end, and the instance shows the volume in its mappings.
func TestVolumeLifecycle(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	inst := runInstance(t, c, &ec2.RunInstancesInput{})
	id, az := aws.ToString(inst.InstanceId), aws.ToString(inst.Placement.AvailabilityZone)

	vol := createVolume(t, c, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az), Size: aws.Int32(10), Encrypted: aws.Bool(true),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("data")}}}}})
	vid := aws.ToString(vol.VolumeId)
	if vol.State != types.VolumeStateCreating || vol.VolumeType != types.VolumeTypeGp2 || aws.ToInt32(vol.Iops) != 100 || !aws.ToBool(vol.Encrypted) ||
		len(vol.Tags) != 1 || aws.ToString(vol.AvailabilityZone) != az {
		t.Fatalf("CreateVolume reply %+v", vol)
	}
	wait := 30 * time.Second
	if err := ec2.NewVolumeAvailableWaiter(c).Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vid}}, wait); err != nil {
		t.Fatalf("volume-available: %v", err)
	}
	att, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(vid), InstanceId: aws.String(id), Device: aws.String("/dev/sdf")})
	if err != nil || att.State != types.VolumeAttachmentStateAttaching || aws.ToString(att.Device) != "/dev/sdf" {
		t.Fatalf("AttachVolume %+v %v", att, err)
	}
	if err := ec2.NewVolumeInUseWaiter(c).Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vid}}, wait); err != nil {
		t.Fatalf("volume-in-use: %v", err)
	}
	got := describeVolume(t, c, vid)
	if len(got.Attachments) != 1 || got.Attachments[0].State != types.VolumeAttachmentStateAttached || aws.ToBool(got.Attachments[0].DeleteOnTermination) {
		t.Errorf("attached volume %+v", got.Attachments)
	}
	if m := describeInstance(t, c, id).BlockDeviceMappings; len(m) != 2 || aws.ToString(m[1].DeviceName) != "/dev/sdf" || aws.ToString(m[1].Ebs.VolumeId) != vid {
		t.Errorf("instance mappings %+v", m)
	}
	if got := volumeIDs(t, c, filter("attachment.instance-id", id), filter("attachment.device", "/dev/sdf"), filter("status", "in-use"), filter("tag:Name", "data")); len(got) != 1 {
		t.Errorf("by attachment: %v", got)
	}

	// DeleteOnTermination through ModifyInstanceAttribute, read back.
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{
		{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(true), VolumeId: aws.String(vid)}},
	}}); err != nil {
		t.Fatal(err)
	}
	attr, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameBlockDeviceMapping})
	if err != nil || len(attr.BlockDeviceMappings) != 2 || !aws.ToBool(attr.BlockDeviceMappings[1].Ebs.DeleteOnTermination) {
		t.Errorf("blockDeviceMapping attribute %+v %v", attr, err)
	}
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{
		{DeviceName: aws.String("/dev/sdz"), Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(true)}},
	}})
	ebsWantErr(t, "unmapped device", err, "InvalidInstanceAttributeValue", "No device is currently mapped at /dev/sdz")

	// Durable across a restart.
	path := e.Path
	e.Close()
	e = apitest.New(t, apitest.Options{Path: path})
	c = e.Client()
	if got := describeVolume(t, c, vid); got.State != types.VolumeStateInUse || !aws.ToBool(got.Attachments[0].DeleteOnTermination) {
		t.Errorf("after restart %+v", got)
	}

	ebsWantErr(t, "delete attached", deleteVolume(c, vid), "VolumeInUse", "Volume "+vid+" is currently attached to "+id)
	det, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(vid), InstanceId: aws.String(id), Force: aws.Bool(true)})
	if err != nil || det.State != types.VolumeAttachmentStateDetaching {
		t.Fatalf("DetachVolume %+v %v", det, err)
	}
	if err := ec2.NewVolumeAvailableWaiter(c).Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vid}}, wait); err != nil {
		t.Fatalf("volume-available after detach: %v", err)
	}
	_, err = c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(vid)})
	ebsWantErr(t, "detach available", err, "IncorrectState", "Volume '"+vid+"' is in the 'available' state.")
	if err := deleteVolume(c, vid); err != nil {
		t.Fatal(err)
	}
	if err := ec2.NewVolumeDeletedWaiter(c).Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vid}}, wait); err != nil {
		t.Fatalf("volume-deleted: %v", err)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func deleteVolume(c *ec2.Client, id string) error {
	_, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)})
	return err
}

// CreateVolume's rules: size or snapshot, the type's size, IOPS and
// throughput ranges and ratios, KMS key only when encrypted, a real zone.
func TestCreateVolumeErrors(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	az := "us-east-1a"
	for _, tc := range []struct {
		name      string
		in        ec2.CreateVolumeInput
		code, msg string
	}{
		{"no size nor snapshot", ec2.CreateVolumeInput{}, "MissingParameter", "The request must contain the parameter size or snapshotId"},
		{"unknown zone", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1z"), Size: aws.Int32(1)}, "InvalidParameterValue", "Invalid availability zone: [us-east-1z]"},
		{"unknown snapshot", ec2.CreateVolumeInput{SnapshotId: aws.String("snap-0123456789abcdef0")}, "InvalidSnapshot.NotFound", "The snapshot 'snap-0123456789abcdef0' does not exist."},
		{"malformed snapshot", ec2.CreateVolumeInput{SnapshotId: aws.String("snap")}, "InvalidSnapshotID.Malformed", ""},
		{"smaller than snapshot", ec2.CreateVolumeInput{SnapshotId: aws.String("snap-0c9f8a3e5b6d1f247"), Size: aws.Int32(4)}, "InvalidParameterValue",
			"Volume of size 4GB is smaller than  snapshot 'snap-0c9f8a3e5b6d1f247', expect size >= 8GB"},
		{"bad type", ec2.CreateVolumeInput{Size: aws.Int32(1), VolumeType: "ssd"}, "InvalidParameterValue", ""},
		{"st1 too small", ec2.CreateVolumeInput{Size: aws.Int32(100), VolumeType: types.VolumeTypeSt1}, "InvalidParameterValue", "Volume of 100GiB is outside the range of 125-16384GiB for volume type st1."},
		{"io1 without iops", ec2.CreateVolumeInput{Size: aws.Int32(10), VolumeType: types.VolumeTypeIo1}, "InvalidParameterCombination", ""},
		{"io1 ratio", ec2.CreateVolumeInput{Size: aws.Int32(10), VolumeType: types.VolumeTypeIo1, Iops: aws.Int32(1000)}, "InvalidParameterValue",
			"Iops to volume size ratio of 100.000000 is too high; maximum is 50.000000."},
		{"io2 iops range", ec2.CreateVolumeInput{Size: aws.Int32(10), VolumeType: types.VolumeTypeIo2, Iops: aws.Int32(50)}, "InvalidParameterValue", ""},
		{"gp3 iops range", ec2.CreateVolumeInput{Size: aws.Int32(100), VolumeType: types.VolumeTypeGp3, Iops: aws.Int32(20000)}, "InvalidParameterValue", ""},
		{"gp3 throughput ratio", ec2.CreateVolumeInput{Size: aws.Int32(100), VolumeType: types.VolumeTypeGp3, Throughput: aws.Int32(1000)}, "InvalidParameterValue",
			"Throughput (MiBps) to iops ratio of 0.333333 is too high; maximum is 0.250000 MiBps per iops."},
		{"throughput on gp2", ec2.CreateVolumeInput{Size: aws.Int32(10), Throughput: aws.Int32(200)}, "InvalidParameterCombination", ""},
		{"iops on st1", ec2.CreateVolumeInput{Size: aws.Int32(500), VolumeType: types.VolumeTypeSt1, Iops: aws.Int32(500)}, "InvalidParameterCombination", ""},
		{"kms without encryption", ec2.CreateVolumeInput{Size: aws.Int32(1), KmsKeyId: aws.String("alias/aws/ebs")}, "InvalidParameterDependency", ""},
		{"multi-attach on gp3", ec2.CreateVolumeInput{Size: aws.Int32(1), VolumeType: types.VolumeTypeGp3, MultiAttachEnabled: aws.Bool(true)}, "InvalidParameterCombination", ""},
	} {
		in := tc.in
		if in.AvailabilityZone == nil {
			in.AvailabilityZone = aws.String(az)
		}
		_, err := c.CreateVolume(ctx, &in)
		ebsWantErr(t, tc.name, err, tc.code, tc.msg)
	}
	if n := len(volumeIDs(t, c)); n != 0 {
		t.Errorf("failed creates left %d volumes", n)
	}
	// Valid: from a snapshot (its size), st1, io2 with IOPS, gp3 with both.
	snap := createVolume(t, c, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az), SnapshotId: aws.String("snap-0c9f8a3e5b6d1f247")})
	st1 := createVolume(t, c, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az), Size: aws.Int32(125), VolumeType: types.VolumeTypeSt1})
	io2 := createVolume(t, c, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az), Size: aws.Int32(10), VolumeType: types.VolumeTypeIo2, Iops: aws.Int32(10000)})
	gp3 := createVolume(t, c, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az), Size: aws.Int32(100), VolumeType: types.VolumeTypeGp3, Iops: aws.Int32(6000), Throughput: aws.Int32(500)})
	if aws.ToInt32(snap.Size) != 8 || aws.ToString(snap.SnapshotId) != "snap-0c9f8a3e5b6d1f247" || st1.Iops != nil || aws.ToInt32(io2.Iops) != 10000 ||
		aws.ToInt32(gp3.Iops) != 6000 || aws.ToInt32(gp3.Throughput) != 500 {
		t.Errorf("created %+v %+v %+v %+v", snap, st1, io2, gp3)
	}
	if got := volumeIDs(t, c, filter("volume-type", "io2", "st1"), filter("status", "available"), filter("availability-zone", az)); len(got) != 2 {
		t.Errorf("by type: %v", got)
	}
	// DryRun creates nothing.
	_, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az), Size: aws.Int32(1), DryRun: aws.Bool(true)})
	ebsWantErr(t, "dry run", err, "DryRunOperation", "")
	if n := len(volumeIDs(t, c)); n != 4 {
		t.Errorf("%d volumes", n)
	}
}

// AttachVolume and DetachVolume's rules: device names, zones, one
// attachment per volume and device, the instance's state, the root volume.
func TestAttachDetachVolumeErrors(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	inst := runInstance(t, c, &ec2.RunInstancesInput{Placement: &types.Placement{AvailabilityZone: aws.String("us-east-1a")}})
	id := aws.ToString(inst.InstanceId)
	root := aws.ToString(inst.BlockDeviceMappings[0].Ebs.VolumeId)
	vol := aws.ToString(createVolume(t, c, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(1)}).VolumeId)
	other := aws.ToString(createVolume(t, c, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1b"), Size: aws.Int32(1)}).VolumeId)
	attach := func(v, dev string) error {
		_, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(v), InstanceId: aws.String(id), Device: aws.String(dev)})
		return err
	}
	ebsWantErr(t, "bad device", attach(vol, "/dev/nvme1n1"), "InvalidParameterValue", "Value (/dev/nvme1n1) for parameter device is invalid. /dev/nvme1n1 is not a valid EBS device name.")
	ebsWantErr(t, "root device in use", attach(vol, "/dev/xvda"), "InvalidParameterValue", "Invalid value '/dev/xvda' for unixDevice. Attachment point /dev/xvda is already in use")
	ebsWantErr(t, "other zone", attach(other, "/dev/sdg"), "InvalidVolume.ZoneMismatch", "The volume '"+other+"' is not in the same availability zone as instance '"+id+"'")
	ebsWantErr(t, "attached root", attach(root, "/dev/sdh"), "VolumeInUse", root+" is already attached to an instance")
	ebsWantErr(t, "unknown volume", attach("vol-0123456789abcdef0", "/dev/sdf"), "InvalidVolume.NotFound", "The volume 'vol-0123456789abcdef0' does not exist.")
	ebsWantErr(t, "malformed volume", attach("volume", "/dev/sdf"), "InvalidVolumeID.Malformed", "")
	if err := attach(vol, "xvdf"); err != nil { // a Windows-style name
		t.Fatal(err)
	}
	_, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(vol), Device: aws.String("/dev/sdf")})
	ebsWantErr(t, "wrong device", err, "InvalidAttachment.NotFound", "")
	_, err = c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(root)})
	ebsWantErr(t, "root of a running instance", err, "IncorrectState", "Unable to detach root volume '"+root+"' from instance '"+id+"'")

	// Stopped, the root comes off; the instance cannot start without it.
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(root)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	ebsWantErr(t, "start without root", err, "InvalidParameterValue", "Invalid value '"+id+"' for instanceId. Instance does not have a volume attached at root (/dev/xvda)")
	if err := attach(root, "/dev/xvda"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	// Volumes attached by AttachVolume are not DeleteOnTermination: the
	// re-attached root and the data volume stay, available.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	left := volumeIDs(t, c, filter("status", "available"))
	if _, ok := left[vol]; !ok || len(left) != 3 {
		t.Errorf("after termination: %v", left)
	}
	ebsWantErr(t, "terminated instance", attach(vol, "/dev/sdf"), "IncorrectState", "Instance '"+id+"' is not 'running'.")
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// ModifyVolume: the volume changes at once; the modification reads
// modifying in the reply, optimizing, then completed after
// VolumeOptimizeTime; another modification waits six hours, as AWS's.
func TestModifyVolumeSettles(t *testing.T) {
	clock := newTestClock()
	e := apitest.New(t, apitest.Options{Now: clock.Now, Durable: true})
	c := e.Client()
	vid := aws.ToString(createVolume(t, c, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(10)}).VolumeId)
	_, err := c.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{vid}})
	ebsWantErr(t, "never modified", err, "InvalidVolumeModification.NotFound", "Modification for volume '"+vid+"' does not exist.")
	_, err = c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String(vid), Size: aws.Int32(5)})
	ebsWantErr(t, "shrink", err, "InvalidParameterValue", "New size cannot be smaller than existing size")

	out, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String(vid), Size: aws.Int32(20), VolumeType: types.VolumeTypeGp3})
	if err != nil {
		t.Fatal(err)
	}
	m := out.VolumeModification
	if m.ModificationState != types.VolumeModificationStateModifying || aws.ToInt32(m.OriginalSize) != 10 || m.OriginalVolumeType != types.VolumeTypeGp2 ||
		aws.ToInt32(m.TargetSize) != 20 || m.TargetVolumeType != types.VolumeTypeGp3 || aws.ToInt32(m.TargetIops) != 3000 || aws.ToInt32(m.TargetThroughput) != 125 {
		t.Errorf("reply %+v", m)
	}
	if v := describeVolume(t, c, vid); aws.ToInt32(v.Size) != 20 || v.VolumeType != types.VolumeTypeGp3 || aws.ToInt32(v.Iops) != 3000 {
		t.Errorf("volume %+v", v)
	}
	state := func() types.VolumeModificationState {
		t.Helper()
		d, err := c.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{vid}})
		if err != nil || len(d.VolumesModifications) != 1 {
			t.Fatalf("DescribeVolumesModifications %+v %v", d, err)
		}
		return d.VolumesModifications[0].ModificationState
	}
	if s := state(); s != types.VolumeModificationStateOptimizing {
		t.Errorf("state %s", s)
	}
	// Durable: the modification is still there after a restart.
	path := e.Path
	e.Close()
	e = apitest.New(t, apitest.Options{Now: clock.Now, Path: path})
	c = e.Client()
	clock.Advance(core.VolumeOptimizeTime)
	if s := state(); s != types.VolumeModificationStateCompleted {
		t.Errorf("state %s", s)
	}
	byState, err := c.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{Filters: []types.Filter{filter("modification-state", "completed"), filter("original-size", "10")}})
	if err != nil || len(byState.VolumesModifications) != 1 || byState.VolumesModifications[0].EndTime == nil {
		t.Errorf("by state %+v %v", byState, err)
	}
	_, err = c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String(vid), Iops: aws.Int32(4000)})
	ebsWantErr(t, "within six hours", err, "VolumeModificationRateExceeded",
		"You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.")
	clock.Advance(6 * time.Hour)
	if _, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: aws.String(vid), Iops: aws.Int32(4000), Throughput: aws.Int32(250)}); err != nil {
		t.Fatal(err)
	}
	if v := describeVolume(t, c, vid); aws.ToInt32(v.Iops) != 4000 || aws.ToInt32(v.Throughput) != 250 || aws.ToInt32(v.Size) != 20 {
		t.Errorf("volume %+v", v)
	}

	// DescribeVolumeStatus: every volume ok.
	st, err := c.DescribeVolumeStatus(ctx, &ec2.DescribeVolumeStatusInput{VolumeIds: []string{vid}})
	if err != nil || len(st.VolumeStatuses) != 1 || st.VolumeStatuses[0].VolumeStatus.Status != types.VolumeStatusInfoStatusOk ||
		len(st.VolumeStatuses[0].VolumeStatus.Details) != 2 {
		t.Errorf("DescribeVolumeStatus %+v %v", st, err)
	}
	none, err := c.DescribeVolumeStatus(ctx, &ec2.DescribeVolumeStatusInput{Filters: []types.Filter{filter("event.event-type", "io-enabled:failed")}})
	if err != nil || len(none.VolumeStatuses) != 0 {
		t.Errorf("by event %+v %v", none, err)
	}
}
