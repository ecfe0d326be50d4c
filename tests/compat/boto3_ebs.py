#!/usr/bin/env python3
"""boto3 session of EBS volumes and of what Terraform's aws_instance modifies.

Usage: boto3_ebs.py [ENDPOINT_URL] [REGION]   (as boto3_smoke.py)

CreateVolume, AttachVolume, DetachVolume, DeleteVolume and ModifyVolume with
the boto3 waiters volume_available, volume_in_use and volume_deleted (none
may hang), then the instance options Terraform's provider reads back after
it modifies them: detailed monitoring, CPU credits, automatic recovery, the
root volume's DeleteOnTermination, the password data. Every reply is checked
on the wire against botocore's model by boto3_smoke's hook. It prints
"N passed, M failed" last and exits 1 if anything failed.
"""

import sys
import traceback

import boto3_smoke as s  # the checks, the wire hook and the client (exits 3 without boto3)
from boto3_smoke import ClientError, WaiterError, botocore, ok, eq, expect_error, section


def volumes(ec2, cleanup):
    section("EBS volumes: create, attach, detach, modify, delete; the waiters settle")
    inst = ec2.run_instances(ImageId=s.AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1)["Instances"][0]
    iid, az = inst["InstanceId"], inst["Placement"]["AvailabilityZone"]
    cleanup.append(("terminate ebs instance", lambda: ec2.terminate_instances(InstanceIds=[iid])))
    ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig=s.FAST)
    v = ec2.create_volume(AvailabilityZone=az, Size=10, VolumeType="gp3",
                          TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "data"}]}])
    vid = v["VolumeId"]
    cleanup.append(("delete volume", lambda: ec2.delete_volume(VolumeId=vid)))
    eq("create_volume reply", (v["State"], v["Size"], v["VolumeType"], v["Iops"], v["Throughput"]), ("creating", 10, "gp3", 3000, 125))
    ec2.get_waiter("volume_available").wait(VolumeIds=[vid], WaiterConfig=s.FAST)
    ok("volume_available waiter", True)
    a = ec2.attach_volume(VolumeId=vid, InstanceId=iid, Device="/dev/sdf")
    eq("attach_volume reply", (a["State"], a["Device"], a["InstanceId"]), ("attaching", "/dev/sdf", iid))
    ec2.get_waiter("volume_in_use").wait(VolumeIds=[vid], WaiterConfig=s.FAST)
    ok("volume_in_use waiter", True)
    got = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [iid]},
                                        {"Name": "attachment.device", "Values": ["/dev/sdf"]}])["Volumes"]
    eq("attached volume", [(x["VolumeId"], x["Attachments"][0]["State"]) for x in got], [(vid, "attached")])
    e = expect_error("delete attached volume", "VolumeInUse", ec2.delete_volume, VolumeId=vid)
    if e is not None:
        eq("VolumeInUse message", e.response["Error"]["Message"], "Volume %s is currently attached to %s" % (vid, iid))
    expect_error("attach an attached volume", "VolumeInUse", ec2.attach_volume, VolumeId=vid, InstanceId=iid, Device="/dev/sdg")
    root = [m["Ebs"]["VolumeId"] for m in ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]
            if m["DeviceName"] == "/dev/xvda"][0]
    expect_error("detach the root of a running instance", "IncorrectState", ec2.detach_volume, VolumeId=root)

    m = ec2.modify_volume(VolumeId=vid, Size=20, Iops=4000)["VolumeModification"]
    eq("modify_volume reply", (m["ModificationState"], m["OriginalSize"], m["TargetSize"], m["TargetIops"]), ("modifying", 10, 20, 4000))
    mods = ec2.describe_volumes_modifications(VolumeIds=[vid])["VolumesModifications"]
    ok("modification optimizing or completed", mods[0]["ModificationState"] in ("optimizing", "completed"), mods)
    eq("volume after modify", [(x["Size"], x["Iops"]) for x in ec2.describe_volumes(VolumeIds=[vid])["Volumes"]], [(20, 4000)])
    expect_error("second modification within six hours", "VolumeModificationRateExceeded", ec2.modify_volume, VolumeId=vid, Size=30)
    st = ec2.describe_volume_status(VolumeIds=[vid])["VolumeStatuses"]
    eq("volume status", [x["VolumeStatus"]["Status"] for x in st], ["ok"])

    d = ec2.detach_volume(VolumeId=vid, InstanceId=iid)
    eq("detach_volume reply", d["State"], "detaching")
    ec2.get_waiter("volume_available").wait(VolumeIds=[vid], WaiterConfig=s.FAST)
    ok("volume_available after detach", True)
    expect_error("detach an available volume", "IncorrectState", ec2.detach_volume, VolumeId=vid)
    ec2.delete_volume(VolumeId=vid)
    ec2.get_waiter("volume_deleted").wait(VolumeIds=[vid], WaiterConfig=s.FAST)
    ok("volume_deleted waiter", True)
    expect_error("create_volume without size or snapshot", "MissingParameter", ec2.create_volume, AvailabilityZone=az)
    expect_error("create_volume from an unknown snapshot", "InvalidSnapshot.NotFound", ec2.create_volume, AvailabilityZone=az,
                 SnapshotId="snap-0123456789abcdef0")
    return iid, root


def instance_options(ec2, iid, root):
    section("what aws_instance modifies, read back as it polls")
    r = ec2.monitor_instances(InstanceIds=[iid])
    eq("monitor_instances reply", [x["Monitoring"]["State"] for x in r["InstanceMonitorings"]], ["pending"])
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    eq("monitoring enabled", inst["Monitoring"]["State"], "enabled")
    r = ec2.unmonitor_instances(InstanceIds=[iid])
    eq("unmonitor_instances reply", [x["Monitoring"]["State"] for x in r["InstanceMonitorings"]], ["disabling"])
    r = ec2.modify_instance_credit_specification(InstanceCreditSpecifications=[{"InstanceId": iid, "CpuCredits": "standard"}])
    eq("credit modification", [x["InstanceId"] for x in r["SuccessfulInstanceCreditSpecifications"]], [iid])
    r = ec2.describe_instance_credit_specifications(InstanceIds=[iid])["InstanceCreditSpecifications"]
    eq("credits read back", [x["CpuCredits"] for x in r], ["standard"])
    r = ec2.modify_instance_maintenance_options(InstanceId=iid, AutoRecovery="disabled")
    eq("maintenance reply", r["AutoRecovery"], "disabled")
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    eq("maintenance read back", inst["MaintenanceOptions"]["AutoRecovery"], "disabled")
    ec2.modify_instance_attribute(InstanceId=iid, BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"DeleteOnTermination": False}}])
    a = ec2.describe_instance_attribute(InstanceId=iid, Attribute="blockDeviceMapping")["BlockDeviceMappings"]
    eq("root DeleteOnTermination read back", [(m["DeviceName"], m["Ebs"]["DeleteOnTermination"]) for m in a], [("/dev/xvda", False)])
    ec2.modify_instance_attribute(InstanceId=iid, BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"DeleteOnTermination": True}}])
    p = ec2.get_password_data(InstanceId=iid)
    eq("password data of a Linux instance", p["PasswordData"], "")


def tenancy(ec2, cleanup):
    section("ModifyVpcTenancy (aws_vpc instance_tenancy)")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16", InstanceTenancy="dedicated")["Vpc"]["VpcId"]
    cleanup.append(("delete tenancy vpc", lambda: ec2.delete_vpc(VpcId=vpc)))
    eq("modify_vpc_tenancy", ec2.modify_vpc_tenancy(VpcId=vpc, InstanceTenancy="default")["ReturnValue"], True)
    eq("tenancy read back", ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["InstanceTenancy"], "default")


def run(ec2, cleanup):
    iid, root = volumes(ec2, cleanup)
    instance_options(ec2, iid, root)
    tenancy(ec2, cleanup)


def main():
    print("boto3 EBS session against %s (%s)" % (s.ENDPOINT, s.REGION))
    ec2 = s.client()
    cleanup = []
    try:
        run(ec2, cleanup)
    except (ClientError, WaiterError, botocore.exceptions.BotoCoreError, KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
        ok("script ran to the end", False, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    else:
        ok("script ran to the end", True)
    s.cleanup_all(cleanup)
    ok("every reply matches botocore's model on the wire (%d replies)" % s.wire_checked[0], not s.wire_problems,
       "\n  " + "\n  ".join(sorted(set(s.wire_problems))[:60]))
    print("%d passed, %d failed" % (s.passed, s.failed))
    sys.exit(1 if s.failed else 0)


if __name__ == "__main__":
    main()
