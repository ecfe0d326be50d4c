#!/usr/bin/env python3
"""boto3 session of the calls real tools make around ENIs (issue 10).

Usage: boto3_tools.py [ENDPOINT_URL] [REGION]   (as boto3_smoke.py)

What Ansible's amazon.aws modules, Terraform's provider and the SDK waiters
call even when they do not use the feature: the ClassicLink family (which
AWS answers UnsupportedOperation since EC2-Classic was retired), unknown
actions, and the newer instance, volume and key pair calls. Every reply is
checked on the wire against botocore's model by boto3_smoke's hook, and the
values and error codes as AWS gives them. It prints "N passed, M failed" last
and exits 1 if anything failed.
"""

import re
import sys
import traceback

import boto3_smoke as s  # the checks, the wire hook and the client (exits 3 without boto3)
from boto3_smoke import ClientError, WaiterError, botocore, ok, eq, expect_error, section

s.AMI_AL2023 = "ami-0a3c3a20c09d6f377"  # Amazon Linux 2023 (x86_64) of the built-in catalogue


def classiclink(ec2, vpc_id):
    section("ClassicLink (retired: UnsupportedOperation)")
    msg = "The functionality you requested is not available in this region."
    calls = [
        ("describe_vpc_classic_link", {"VpcIds": [vpc_id]}),
        ("describe_vpc_classic_link_dns_support", {"VpcIds": [vpc_id]}),
        ("describe_classic_link_instances", {}),
        ("enable_vpc_classic_link", {"VpcId": vpc_id}),
        ("disable_vpc_classic_link", {"VpcId": vpc_id}),
        ("enable_vpc_classic_link_dns_support", {"VpcId": vpc_id}),
        ("disable_vpc_classic_link_dns_support", {"VpcId": vpc_id}),
        ("attach_classic_link_vpc", {"VpcId": vpc_id, "InstanceId": "i-0123456789abcdef0", "Groups": ["sg-0123456789abcdef0"]}),
        ("detach_classic_link_vpc", {"VpcId": vpc_id, "InstanceId": "i-0123456789abcdef0"}),
    ]
    for op, kw in calls:
        e = expect_error(op, "UnsupportedOperation", getattr(ec2, op), **kw)
        if e is not None:
            eq(op + " message", e.response["Error"]["Message"], msg)


def unimplemented(ec2):
    section("unimplemented actions")
    e = expect_error("describe_fleets", "InvalidAction", ec2.describe_fleets)
    if e is not None:
        m = e.response["Error"]["Message"]
        ok("InvalidAction message is AWS's, then the hint",
           m.startswith("The action DescribeFleets is not valid for this web service.") and "does not implement" in m, m)


def instance_status(ec2, cleanup):
    section("DescribeInstanceStatus (ec2_instance after RunInstances, the instance_status_ok waiter)")
    inst = ec2.run_instances(ImageId=s.AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1)["Instances"][0]
    iid = inst["InstanceId"]
    cleanup.append(("terminate status instance", lambda: ec2.terminate_instances(InstanceIds=[iid])))
    ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig=s.FAST)
    r = ec2.describe_instance_status(InstanceIds=[iid], IncludeAllInstances=True)
    s.check_out("describe_instance_status", ec2, "DescribeInstanceStatus", r)
    st = r["InstanceStatuses"][0]
    eq("InstanceState", st["InstanceState"], {"Code": 16, "Name": "running"})
    ok("InstanceStatus just after launch", st["InstanceStatus"]["Status"] in ("initializing", "ok"), st["InstanceStatus"])
    eq("SystemStatus = InstanceStatus", st["SystemStatus"], st["InstanceStatus"])
    eq("reachability detail", [d["Name"] for d in st["InstanceStatus"]["Details"]], ["reachability"])
    ec2.get_waiter("instance_status_ok").wait(InstanceIds=[iid], WaiterConfig={"Delay": 2, "MaxAttempts": 15})
    ok("instance_status_ok waiter settles", True)
    r = ec2.describe_instance_status(Filters=[{"Name": "instance-status.reachability", "Values": ["passed"]}])
    ok("filter instance-status.reachability=passed", iid in [x["InstanceId"] for x in r["InstanceStatuses"]], r["InstanceStatuses"])
    ec2.stop_instances(InstanceIds=[iid])
    eq("stopped: not listed by default", ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"], [])
    st = ec2.describe_instance_status(InstanceIds=[iid], IncludeAllInstances=True)["InstanceStatuses"][0]
    eq("stopped: not-applicable", (st["InstanceState"]["Name"], st["InstanceStatus"]["Status"], st["SystemStatus"]["Status"]),
       ("stopped", "not-applicable", "not-applicable"))
    eq("stopped: no check details", st["InstanceStatus"].get("Details", []), [])
    expect_error("describe_instance_status unknown id", "InvalidInstanceID.NotFound", ec2.describe_instance_status,
                 InstanceIds=["i-0123456789abcdef0"])
    expect_error("describe_instance_status ids and MaxResults", "InvalidParameterCombination", ec2.describe_instance_status,
                 InstanceIds=[iid], MaxResults=5)


def volumes(ec2, cleanup):
    section("root volumes, images' block device mappings, legacy filter names")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    eq("describe_vpcs isDefault=true", [v["IsDefault"] for v in vpcs], [True])
    img = ec2.describe_images(ImageIds=[s.AMI_AL2023])["Images"][0]
    s.check_out("describe_images", ec2, "DescribeImages", {"Images": [img]})
    bdm = img["BlockDeviceMappings"]
    eq("image root mapping device", [m["DeviceName"] for m in bdm], [img["RootDeviceName"]])
    ebs = bdm[0]["Ebs"]
    eq("image root mapping", (ebs["VolumeSize"], ebs["VolumeType"], ebs["DeleteOnTermination"], ebs["SnapshotId"][:5]), (8, "gp3", True, "snap-"))
    inst = ec2.run_instances(ImageId=s.AMI_AL2023, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 5, "DeleteOnTermination": False}}],
                             TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "k", "Value": "v"}]}])["Instances"][0]
    iid = inst["InstanceId"]
    cleanup.append(("terminate volume instance", lambda: ec2.terminate_instances(InstanceIds=[iid])))
    eq("RunInstances block device mappings", [m["DeviceName"] for m in inst["BlockDeviceMappings"]], ["/dev/xvda", "/dev/sdf"])
    vols = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["Volumes"]
    s.check_out("describe_volumes", ec2, "DescribeVolumes", {"Volumes": vols})
    eq("volumes of the instance", sorted((v["Attachments"][0]["Device"], v["Size"], v["State"]) for v in vols),
       [("/dev/sdf", 5, "in-use"), ("/dev/xvda", 8, "in-use")])
    eq("volume tags", [s.tagmap(v["Tags"]) for v in vols], [{"k": "v"}, {"k": "v"}])
    data = [v["VolumeId"] for v in vols if v["Attachments"][0]["Device"] == "/dev/sdf"][0]
    ec2.terminate_instances(InstanceIds=[iid])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[iid], WaiterConfig=s.FAST)
    left = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["Volumes"]
    eq("terminated: no attached volumes", left, [])
    v = ec2.describe_volumes(VolumeIds=[data])["Volumes"][0]
    eq("kept volume is available", (v["State"], v["Attachments"]), ("available", []))
    ec2.get_waiter("volume_available").wait(VolumeIds=[data], WaiterConfig=s.FAST)
    ok("volume_available waiter", True)
    expect_error("root smaller than its snapshot", "InvalidBlockDeviceMapping", ec2.run_instances, ImageId=s.AMI_AL2023,
                 MinCount=1, MaxCount=1, BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 2}}])


def offerings_and_reboot(ec2, cleanup):
    section("DescribeInstanceTypeOfferings, RebootInstances")
    for lt, want in (("region", [s.REGION]), ("availability-zone", [s.REGION + z for z in "abc"])):
        r = ec2.describe_instance_type_offerings(LocationType=lt, Filters=[{"Name": "instance-type", "Values": ["t3.micro"]}])
        s.check_out("describe_instance_type_offerings " + lt, ec2, "DescribeInstanceTypeOfferings", r)
        eq("offerings " + lt, [(o["InstanceType"], o["LocationType"], o["Location"]) for o in r["InstanceTypeOfferings"]],
           [("t3.micro", lt, w) for w in want])
    n = sum(len(p["InstanceTypeOfferings"]) for p in ec2.get_paginator("describe_instance_type_offerings").paginate(
        LocationType="availability-zone-id", PaginationConfig={"PageSize": 1000}))
    ok("offerings paginate (every type in every zone)", n > 3000, n)
    expect_error("bad LocationType", "InvalidParameterValue", ec2.describe_instance_type_offerings, LocationType="planet")
    iid = ec2.run_instances(ImageId=s.AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    cleanup.append(("terminate reboot instance", lambda: ec2.terminate_instances(InstanceIds=[iid])))
    ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig=s.FAST)
    r = ec2.reboot_instances(InstanceIds=[iid])
    eq("reboot_instances", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig=s.FAST)
    ok("running after reboot", True)


def key_pairs(ec2, cleanup):
    section("key pairs (ec2_key, aws_key_pair)")
    k = ec2.create_key_pair(KeyName="tools-rsa", TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "k", "Value": "v"}]}])
    cleanup.append(("delete key tools-rsa", lambda: ec2.delete_key_pair(KeyName="tools-rsa")))
    s.check_out("create_key_pair", ec2, "CreateKeyPair", k)
    ok("rsa key material", k["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----"), k["KeyMaterial"][:40])
    ok("rsa fingerprint (SHA-1, 20 hex pairs)", re.match(r"^([0-9a-f]{2}:){19}[0-9a-f]{2}$", k["KeyFingerprint"]), k["KeyFingerprint"])
    ed = ec2.create_key_pair(KeyName="tools-ed", KeyType="ed25519", KeyFormat="ppk")
    cleanup.append(("delete key tools-ed", lambda: ec2.delete_key_pair(KeyName="tools-ed")))
    ok("ed25519 ppk material", ed["KeyMaterial"].startswith("PuTTY-User-Key-File-2: ssh-ed25519"), ed["KeyMaterial"][:40])
    d = ec2.describe_key_pairs(KeyNames=["tools-rsa", "tools-ed"], IncludePublicKey=True)
    s.check_out("describe_key_pairs", ec2, "DescribeKeyPairs", d)
    eq("describe_key_pairs", sorted((x["KeyName"], x["KeyType"], x["PublicKey"].split()[0]) for x in d["KeyPairs"]),
       [("tools-ed", "ed25519", "ssh-ed25519"), ("tools-rsa", "rsa", "ssh-rsa")])
    pub = [x["PublicKey"] for x in d["KeyPairs"] if x["KeyName"] == "tools-ed"][0]
    # ec2_key finds a key's fingerprint by importing it under a temporary name
    imp = ec2.import_key_pair(KeyName="tools-imported", PublicKeyMaterial=pub.encode())
    cleanup.append(("delete key tools-imported", lambda: ec2.delete_key_pair(KeyName="tools-imported")))
    s.check_out("import_key_pair", ec2, "ImportKeyPair", imp)
    eq("imported ed25519 fingerprint = created", imp["KeyFingerprint"], ed["KeyFingerprint"])
    expect_error("import garbage", "InvalidKey.Format", ec2.import_key_pair, KeyName="tools-bad", PublicKeyMaterial=b"ssh-rsa nope")
    expect_error("duplicate name", "InvalidKeyPair.Duplicate", ec2.create_key_pair, KeyName="tools-rsa")
    expect_error("unknown key at launch", "InvalidKeyPair.NotFound", ec2.run_instances, ImageId=s.AMI, MinCount=1, MaxCount=1, KeyName="tools-none")
    ec2.delete_key_pair(KeyName="tools-imported")
    expect_error("describe deleted key", "InvalidKeyPair.NotFound", ec2.describe_key_pairs, KeyNames=["tools-imported"])


def attributes(ec2, cleanup):
    section("address attributes (reverse DNS), instance metadata options")
    a = ec2.allocate_address(Domain="vpc")
    cleanup.append(("release tools eip", lambda: ec2.release_address(AllocationId=a["AllocationId"])))
    r = ec2.describe_addresses_attribute(AllocationIds=[a["AllocationId"]], Attribute="domain-name")
    s.check_out("describe_addresses_attribute", ec2, "DescribeAddressesAttribute", r)
    ok("default PTR record", r["Addresses"][0]["PtrRecord"].startswith("ec2-") and r["Addresses"][0]["PtrRecord"].endswith("."), r)
    m = ec2.modify_address_attribute(AllocationId=a["AllocationId"], DomainName="mail.example.com")
    s.check_out("modify_address_attribute", ec2, "ModifyAddressAttribute", m)
    eq("modify reply", m["Address"]["PtrRecordUpdate"], {"Value": "mail.example.com.", "Status": "PENDING"})
    r = ec2.describe_addresses_attribute(AllocationIds=[a["AllocationId"]], Attribute="domain-name")["Addresses"][0]
    eq("applied", (r["PtrRecord"], "PtrRecordUpdate" in r), ("mail.example.com.", False))
    ec2.reset_address_attribute(AllocationId=a["AllocationId"], Attribute="domain-name")
    r = ec2.describe_addresses_attribute(AllocationIds=[a["AllocationId"]], Attribute="domain-name")["Addresses"][0]
    ok("reset", r["PtrRecord"].startswith("ec2-"), r)

    inst = ec2.run_instances(ImageId=s.AMI_AL2023, MinCount=1, MaxCount=1,
                             MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled", "InstanceMetadataTags": "enabled"})["Instances"][0]
    iid = inst["InstanceId"]
    cleanup.append(("terminate metadata instance", lambda: ec2.terminate_instances(InstanceIds=[iid])))
    m = ec2.modify_instance_metadata_options(InstanceId=iid, HttpTokens="optional", HttpPutResponseHopLimit=5)
    s.check_out("modify_instance_metadata_options", ec2, "ModifyInstanceMetadataOptions", m)
    eq("modify reply state", m["InstanceMetadataOptions"]["State"], "pending")
    got = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["MetadataOptions"]
    eq("metadata options applied", (got["State"], got["HttpTokens"], got["HttpPutResponseHopLimit"], got["InstanceMetadataTags"]),
       ("applied", "optional", 5, "enabled"))
    expect_error("hop limit 0", "InvalidParameterValue", ec2.modify_instance_metadata_options, InstanceId=iid, HttpPutResponseHopLimit=0)


def settles(ec2, cleanup):
    section("transitional states settle (ec2_vpc_net ipv6_cidr: false, ec2_eip idempotence)")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    vid = vpc["VpcId"]
    cleanup.append(("delete settle vpc", lambda: ec2.delete_vpc(VpcId=vid)))
    assoc = vpc["Ipv6CidrBlockAssociationSet"][0]["AssociationId"]
    r = ec2.disassociate_vpc_cidr_block(AssociationId=assoc)
    eq("disassociate reply", r["Ipv6CidrBlockAssociation"]["Ipv6CidrBlockState"]["State"], "disassociating")
    # ec2_vpc_net's wait_for_vpc_ipv6_state(False): a non-empty set whose
    # Amazon blocks are all disassociated
    ipv6 = ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0].get("Ipv6CidrBlockAssociationSet", [])
    amazon = [a for a in ipv6 if a.get("Ipv6Pool") == "Amazon"]
    ok("ec2_vpc_net sees every Amazon block disassociated",
       amazon and all(a["Ipv6CidrBlockState"]["State"] == "disassociated" for a in amazon), ipv6)
    inst = ec2.run_instances(ImageId=s.AMI, MinCount=1, MaxCount=1)["Instances"][0]
    iid = inst["InstanceId"]
    cleanup.append(("terminate settle instance", lambda: ec2.terminate_instances(InstanceIds=[iid])))
    ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig=s.FAST)
    a = ec2.allocate_address(Domain="vpc")
    cleanup.append(("release settle eip", lambda: ec2.release_address(AllocationId=a["AllocationId"])))
    first = ec2.associate_address(AllocationId=a["AllocationId"], InstanceId=iid)["AssociationId"]
    again = ec2.associate_address(AllocationId=a["AllocationId"], InstanceId=iid, AllowReassociation=False)["AssociationId"]
    eq("re-association keeps the association", again, first)
    ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    eni = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["NetworkInterfaces"][0]
    eq("ENI settled", (eni["Status"], eni["Attachment"]["Status"], eni["Association"]["PublicIp"]), ("in-use", "attached", a["PublicIp"]))
    ec2.disassociate_address(AssociationId=first)


def launch_templates(ec2, cleanup):
    section("launch templates (ec2_launch_template, aws_launch_template, run_instances from a template)")
    data = {"ImageId": s.AMI_AL2023, "InstanceType": "t3.large",
            "NetworkInterfaces": [{"DeviceIndex": 0, "SecondaryPrivateIpAddressCount": 1, "DeleteOnTermination": True}],
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "tools-lt"}]}]}
    lt = ec2.create_launch_template(LaunchTemplateName="tools-lt", LaunchTemplateData=data)["LaunchTemplate"]
    lt_id = lt["LaunchTemplateId"]
    cleanup.append(("delete launch template", lambda: ec2.delete_launch_template(LaunchTemplateId=lt_id)))
    eq("created versions", (lt["DefaultVersionNumber"], lt["LatestVersionNumber"]), (1, 1))
    v2 = ec2.create_launch_template_version(LaunchTemplateId=lt_id, SourceVersion="1", LaunchTemplateData={"InstanceType": "m5.large"})
    eq("version 2 keeps the source's image", v2["LaunchTemplateVersion"]["LaunchTemplateData"]["ImageId"], s.AMI_AL2023)
    d = ec2.describe_launch_template_versions(LaunchTemplateId=lt_id)
    s.check_out("describe_launch_template_versions", ec2, "DescribeLaunchTemplateVersions", d)
    eq("versions newest first", [v["VersionNumber"] for v in d["LaunchTemplateVersions"]], [2, 1])
    ec2.modify_launch_template(LaunchTemplateId=lt_id, DefaultVersion="2")
    r = ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": "tools-lt"})
    iid = r["Instances"][0]["InstanceId"]
    cleanup.append(("terminate template instance", lambda: ec2.terminate_instances(InstanceIds=[iid])))
    tags = {t["Key"]: t["Value"] for t in r["Instances"][0].get("Tags", [])}
    eq("instance from the default version", (r["Instances"][0]["InstanceType"], tags.get("aws:ec2launchtemplate:version"), tags.get("Name")),
       ("m5.large", "2", "tools-lt"))
    eq("secondary address from the template", len(r["Instances"][0]["NetworkInterfaces"][0]["PrivateIpAddresses"]), 2)
    expect_error("template interfaces with instance-level groups", "InvalidParameterCombination", ec2.run_instances, MinCount=1, MaxCount=1,
                 LaunchTemplate={"LaunchTemplateId": lt_id}, SecurityGroupIds=["sg-0123456789abcdef0"])
    expect_error("unknown version", "InvalidLaunchTemplateId.VersionNotFound", ec2.run_instances, MinCount=1, MaxCount=1,
                 LaunchTemplate={"LaunchTemplateId": lt_id, "Version": "9"})
    dv = ec2.delete_launch_template_versions(LaunchTemplateId=lt_id, Versions=["1", "2"])
    s.check_out("delete_launch_template_versions", ec2, "DeleteLaunchTemplateVersions", dv)
    eq("default version not deleted", [(x["VersionNumber"], x["ResponseError"]["Code"]) for x in dv["UnsuccessfullyDeletedLaunchTemplateVersions"]],
       [(2, "unexpectedError")])
    expect_error("duplicate template name", "InvalidLaunchTemplateName.AlreadyExistsException", ec2.create_launch_template,
                 LaunchTemplateName="tools-lt", LaunchTemplateData=data)


def run(ec2, cleanup):
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    classiclink(ec2, vpc_id)
    unimplemented(ec2)
    instance_status(ec2, cleanup)
    volumes(ec2, cleanup)
    offerings_and_reboot(ec2, cleanup)
    key_pairs(ec2, cleanup)
    launch_templates(ec2, cleanup)
    attributes(ec2, cleanup)
    settles(ec2, cleanup)


def main():
    print("boto3 tools session against %s (%s)" % (s.ENDPOINT, s.REGION))
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
