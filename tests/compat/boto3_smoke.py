#!/usr/bin/env python3
"""boto3 compatibility smoke test for ENI.

Usage: boto3_smoke.py [ENDPOINT_URL] [REGION]
       (defaults: $ENI_ENDPOINT or $AWS_ENDPOINT_URL or http://127.0.0.1:4566,
        $AWS_DEFAULT_REGION or us-east-1)

Drives every implemented EC2 action through botocore, the way most users call
the service, and checks two things:

* the replies' values: what each action returns, with the Python types
  botocore's model promises (bool, int, datetime, list, dict, str);
* the replies' wire shape: every reply (success or error) is checked element
  by element against botocore's own model. botocore silently drops XML
  elements it does not know and turns any boolean text other than "true" into
  False, so a wrong wire name or format would otherwise go unnoticed: an
  unknown element, a list without <item> members, a repeated scalar, a
  boolean that is not true/false, an integer or timestamp that does not
  parse, or a wrong root/namespace/error envelope is a failure.

Environment: ENI_COMPAT_ACCESS_KEY / ENI_COMPAT_SECRET_KEY (default test/test)
sign the requests; with ENI_COMPAT_SIGV4=1 the server is expected to check
SigV4 signatures, and a wrong secret, an unknown key and a missing signature
are checked to fail with EC2's codes and statuses (ENI_COMPAT_ACCOUNT, if
set, is the account the key acts as). ENI_COMPAT_VERBOSE=1 lists every check.

The script creates its own VPC and cleans up what it creates, so it can be
run repeatedly against one server. It prints "N passed, M failed" last and
exits 1 if anything failed.
"""

import datetime
import os
import re
import sys
import traceback
import xml.etree.ElementTree as ET

try:
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import ClientError, WaiterError
except ImportError as e:  # the Go test skips on this exit code
    print("boto3 is not importable: %s" % e)
    sys.exit(3)

ENDPOINT = (sys.argv[1] if len(sys.argv) > 1 else
            os.environ.get("ENI_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566")
REGION = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
AMI = "ami-0abcdef1234567890"
VERBOSE = os.environ.get("ENI_COMPAT_VERBOSE") == "1"
ACCESS_KEY = os.environ.get("ENI_COMPAT_ACCESS_KEY", "test")
SECRET_KEY = os.environ.get("ENI_COMPAT_SECRET_KEY", "test")
SIGV4 = os.environ.get("ENI_COMPAT_SIGV4") == "1"
ACCOUNT = os.environ.get("ENI_COMPAT_ACCOUNT", "")

passed = 0
failed = 0
failures = []


def ok(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        if VERBOSE:
            print("ok   %s" % name)
    else:
        failed += 1
        msg = "FAIL %s%s" % (name, (": " + str(detail)) if detail != "" else "")
        failures.append(msg)
        print(msg)
    return bool(cond)


def eq(name, got, want):
    return ok(name, got == want, "got %r, want %r" % (got, want))


def is_type(name, v, typ):
    # bool is a subclass of int: an int field must not be a bool
    if typ is int and isinstance(v, bool):
        return ok(name, False, "got bool %r, want int" % (v,))
    return ok(name, isinstance(v, typ), "got %s %r, want %s" % (type(v).__name__, v, typ.__name__))


def has_keys(name, d, keys):
    missing = [k for k in keys if k not in d]
    return ok(name, not missing, "missing keys %s in %s" % (missing, sorted(d)))


def expect_error(name, code, fn, *args, status=400, **kw):
    """Calls fn and checks the ClientError code and HTTP status."""
    try:
        fn(*args, **kw)
    except ClientError as e:
        got = e.response["Error"].get("Code")
        st = e.response["ResponseMetadata"].get("HTTPStatusCode")
        good = ok(name + " code", got == code, "got %r (%s), want %r" % (got, e.response["Error"].get("Message"), code))
        ok(name + " status", st == status, "got HTTP %r, want %r" % (st, status))
        ok(name + " message", bool(e.response["Error"].get("Message")), "empty error message")
        return e if good else None
    ok(name, False, "no error, want %s" % code)
    return None


notes = []


def note(name, cond, detail=""):
    """A known difference from AWS that is not (yet) a failure: printed, not counted."""
    if not cond:
        notes.append("NOTE %s%s" % (name, (": " + str(detail)) if detail != "" else ""))


def section(title):
    if VERBOSE:
        print("== " + title)


# ---------------------------------------------------------------------------
# Wire-shape validation against botocore's model (after-call hook).

# The byte layout of AWS's replies (reference: aws-eni.md 1.6 and 1.7).
ERROR_RE = re.compile(rb'^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>[A-Za-z0-9.]+</Code>'
                      rb'<Message>[^<]*</Message></Error></Errors><RequestID>[0-9a-f-]{36}</RequestID></Response>\s*$')
SUCCESS_RE = re.compile(rb'^<\?xml version="1\.0" encoding="UTF-8"\?>\s*<([A-Za-z0-9]+)Response xmlns="http://ec2\.amazonaws\.com/doc/2016-11-15/">'
                        rb'\s*<requestId>[0-9a-f-]{36}</requestId>')
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
wire_problems = []
wire_checked = [0]


def _local(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def _ns(tag):
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _walk(node, shape, path, probs):
    t = shape.type_name
    if t == "structure":
        names = {}
        for mname, mshape in shape.members.items():
            names[mshape.serialization.get("name", mname)] = mshape
        seen = {}
        for child in node:
            tag = _local(child.tag)
            seen[tag] = seen.get(tag, 0) + 1
            if tag not in names:
                probs.append("%s/%s: element unknown to the model (botocore drops it)" % (path, tag))
                continue
            ms = names[tag]
            if ms.type_name == "list" and ms.serialization.get("flattened"):
                _walk_list_item(child, ms.member, path + "/" + tag, probs)
            else:
                _walk(child, ms, path + "/" + tag, probs)
        for tag, n in seen.items():
            if n > 1 and tag in names and not (names[tag].type_name == "list" and names[tag].serialization.get("flattened")):
                probs.append("%s/%s: appears %d times" % (path, tag, n))
        if (node.text or "").strip():
            probs.append("%s: structure has text %r" % (path, node.text.strip()))
    elif t == "list":
        item = shape.member.serialization.get("name", "member")
        for child in node:
            tag = _local(child.tag)
            if tag != item:
                probs.append("%s/%s: list member must be <%s> (botocore drops it)" % (path, tag, item))
                continue
            _walk_list_item(child, shape.member, path + "/" + tag, probs)
    elif t == "map":
        probs.append("%s: map shapes are not expected in EC2 replies" % path)
    else:
        _scalar(node, shape, path, probs)


def _walk_list_item(node, shape, path, probs):
    _walk(node, shape, path, probs)


def _scalar(node, shape, path, probs):
    if len(node):
        probs.append("%s: scalar %s has child elements" % (path, shape.type_name))
        return
    text = node.text or ""
    t = shape.type_name
    if t == "boolean":
        if text not in ("true", "false"):
            probs.append("%s: boolean %r is not true/false (botocore reads it as False)" % (path, text))
    elif t in ("integer", "long"):
        if not re.fullmatch(r"-?\d+", text):
            probs.append("%s: integer %r" % (path, text))
    elif t in ("float", "double"):
        try:
            float(text)
        except ValueError:
            probs.append("%s: float %r" % (path, text))
    elif t == "timestamp":
        if not TS_RE.match(text):
            probs.append("%s: timestamp %r is not ISO 8601" % (path, text))
    elif t == "string":
        enum = shape.enum
        if enum and text not in enum and text != "":
            # not fatal for botocore, but worth knowing (model enums are open)
            pass


def wire_hook(http_response, parsed, model, **kwargs):
    wire_checked[0] += 1
    op = model.name
    body = http_response.content
    status = http_response.status_code
    probs = []
    ctype = http_response.headers.get("content-type", "")
    if "xml" not in ctype:
        probs.append("content-type %r" % ctype)
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        wire_problems.append("%s: reply is not XML: %s: %r" % (op, e, body[:200]))
        return
    if status >= 300:
        # <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
        if not ERROR_RE.match(body):
            probs.append("error envelope differs from AWS's byte layout: %r" % body[:300])
        if _local(root.tag) != "Response":
            probs.append("error root <%s>, want <Response>" % _local(root.tag))
        errs = root.find("Errors")
        if errs is None or errs.find("Error") is None:
            probs.append("error envelope lacks Errors/Error")
        else:
            e = errs.find("Error")
            if e.find("Code") is None or not (e.find("Code").text or ""):
                probs.append("error lacks Code")
            if e.find("Message") is None:
                probs.append("error lacks Message")
        rid = root.find("RequestID")
        if rid is None or not (rid.text or ""):
            probs.append("error envelope lacks RequestID")
    else:
        m = SUCCESS_RE.match(body)
        if not m or m.group(1).decode() != op:
            probs.append("reply does not start like AWS's (XML declaration, <%sResponse xmlns>, <requestId> first): %r" % (op, body[:200]))
        if _local(root.tag) != op + "Response":
            probs.append("root <%s>, want <%sResponse>" % (_local(root.tag), op))
        if _ns(root.tag) != NS:
            probs.append("namespace %r, want %r" % (_ns(root.tag), NS))
        rid = root.find("{%s}requestId" % NS)
        if rid is None or not (rid.text or ""):
            probs.append("no <requestId>")
        shape = model.output_shape
        if shape is None:
            for child in root:
                if _local(child.tag) not in ("requestId", "return"):
                    probs.append("/%s: element unknown (operation has no output shape)" % _local(child.tag))
        else:
            for child in root:
                if _local(child.tag) == "requestId":
                    continue
                # walk the root children as members of the output shape
            fake = ET.Element("root")
            for child in root:
                if _local(child.tag) != "requestId":
                    fake.append(child)
            _walk(fake, shape, op, probs)
            if not parsed.get("ResponseMetadata", {}).get("RequestId"):
                probs.append("botocore found no RequestId")
    for p in probs:
        wire_problems.append("%s (HTTP %d): %s" % (op, status, p))


# ---------------------------------------------------------------------------
# Parsed-type validation: every value has the Python type of its model shape.

PY = {"boolean": bool, "integer": int, "long": int, "string": str, "timestamp": datetime.datetime,
      "float": float, "double": float, "list": list, "structure": dict}


def types_ok(name, value, shape, path=""):
    probs = []
    _types(value, shape, path or shape.name, probs)
    return ok(name + " types", not probs, "; ".join(probs[:5]))


def _types(v, shape, path, probs):
    want = PY.get(shape.type_name)
    if want is None:
        return
    if want is int and isinstance(v, bool) or not isinstance(v, want):
        probs.append("%s: %s %r, want %s" % (path, type(v).__name__, v, shape.type_name))
        return
    if shape.type_name == "structure":
        for k, sub in v.items():
            if k == "ResponseMetadata":
                continue
            if k not in shape.members:
                probs.append("%s.%s: not in the model" % (path, k))
                continue
            _types(sub, shape.members[k], path + "." + k, probs)
    elif shape.type_name == "list":
        for i, sub in enumerate(v):
            _types(sub, shape.member, "%s[%d]" % (path, i), probs)


def check_out(name, client, op, resp):
    """Checks the parsed reply of op against its output shape."""
    shape = client.meta.service_model.operation_model(op).output_shape
    if shape is not None:
        types_ok(name, resp, shape)


def shape_of(client, name):
    return client.meta.service_model.shape_for(name)


# ---------------------------------------------------------------------------

def client(region=REGION, key=None, secret=None, unsigned=False):
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60)
    if unsigned:
        cfg = cfg.merge(Config(signature_version=botocore.UNSIGNED))
    c = boto3.client(
        "ec2",
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=key or ACCESS_KEY,
        aws_secret_access_key=secret or SECRET_KEY,
        config=cfg,
    )
    c.meta.events.register("after-call.ec2", wire_hook)
    return c


FAST = {"Delay": 1, "MaxAttempts": 5}


def tagmap(tags):
    return {t["Key"]: t["Value"] for t in (tags or [])}


def auth_checks(ec2):
    """SigV4 as botocore signs it (content-type;host;x-amz-date)."""
    section("SigV4")
    r = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    eq("signed request: one default VPC", len(r["Vpcs"]), 1)
    if ACCOUNT:
        eq("the key's account owns the default VPC", r["Vpcs"][0]["OwnerId"], ACCOUNT)
    expect_error("wrong secret", "SignatureDoesNotMatch", client(secret=SECRET_KEY + "x").describe_vpcs, status=403)
    expect_error("unknown access key", "AuthFailure", client(key="AKIAUNKNOWNKEY000000").describe_vpcs, status=401)
    e = expect_error("unsigned request", "MissingAuthenticationToken", client(unsigned=True).describe_vpcs, status=401)
    other = "eu-west-1" if REGION != "eu-west-1" else "us-west-2"
    r = client(region=other).describe_availability_zones()
    ok("region from the signed scope", all(z["RegionName"] == other for z in r["AvailabilityZones"]), r["AvailabilityZones"][:1])


def run(ec2, cleanup):
    # cleanup: (description, fn) pairs, run in reverse at the end
    if SIGV4:
        auth_checks(ec2)

    # ------------------------------------------------------------------ account
    section("account and regions")
    r = ec2.describe_regions()
    check_out("DescribeRegions", ec2, "DescribeRegions", r)
    names = [x["RegionName"] for x in r["Regions"]]
    ok("DescribeRegions has the client's region", REGION in names, names)
    ok("DescribeRegions endpoints", all(x.get("Endpoint") for x in r["Regions"]), r["Regions"][:2])
    r = ec2.describe_regions(RegionNames=[REGION], AllRegions=True)
    eq("DescribeRegions RegionNames", [x["RegionName"] for x in r["Regions"]], [REGION])
    ok("DescribeRegions OptInStatus", "OptInStatus" in r["Regions"][0], r["Regions"][0])

    r = ec2.describe_availability_zones()
    check_out("DescribeAvailabilityZones", ec2, "DescribeAvailabilityZones", r)
    azs = r["AvailabilityZones"]
    ok("three AZs", len(azs) >= 2, len(azs))
    az = azs[0]
    has_keys("AZ keys", az, ["ZoneName", "ZoneId", "State", "RegionName", "ZoneType", "GroupName", "NetworkBorderGroup"])
    eq("AZ state", az["State"], "available")
    eq("AZ region", az["RegionName"], REGION)
    ok("AZ name prefix", az["ZoneName"].startswith(REGION), az["ZoneName"])
    AZ, AZ2 = azs[0]["ZoneName"], azs[1]["ZoneName"]
    AZID, AZ2ID = azs[0]["ZoneId"], azs[1]["ZoneId"]
    r = ec2.describe_availability_zones(Filters=[{"Name": "zone-name", "Values": [AZ]}])
    eq("DescribeAvailabilityZones filter", [x["ZoneName"] for x in r["AvailabilityZones"]], [AZ])

    r = ec2.describe_account_attributes()
    check_out("DescribeAccountAttributes", ec2, "DescribeAccountAttributes", r)
    attrs = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]] for a in r["AccountAttributes"]}
    ok("account attribute supported-platforms", "supported-platforms" in attrs, sorted(attrs))
    ok("account attribute default-vpc", attrs.get("default-vpc", ["none"])[0].startswith("vpc-"), attrs.get("default-vpc"))
    r = ec2.describe_account_attributes(AttributeNames=["default-vpc"])
    eq("DescribeAccountAttributes by name", [a["AttributeName"] for a in r["AccountAttributes"]], ["default-vpc"])
    default_vpc = attrs["default-vpc"][0]

    # ---------------------------------------------------------------------- vpc
    section("VPCs")
    r = ec2.describe_vpcs(VpcIds=[default_vpc])
    check_out("DescribeVpcs", ec2, "DescribeVpcs", r)
    v = r["Vpcs"][0]
    is_type("default VPC IsDefault is bool", v["IsDefault"], bool)
    eq("default VPC IsDefault", v["IsDefault"], True)
    eq("default VPC cidr", v["CidrBlock"], "172.31.0.0/16")

    run_id = os.urandom(4).hex()
    r = ec2.create_vpc(CidrBlock="10.77.0.0/16", AmazonProvidedIpv6CidrBlock=True,
                       TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "compat-" + run_id}, {"Key": "suite", "Value": "boto3"}]}])
    check_out("CreateVpc", ec2, "CreateVpc", r)
    vpc = r["Vpc"]
    VPC = vpc["VpcId"]
    cleanup.append(("delete vpc", lambda: ec2.delete_vpc(VpcId=VPC)))
    ok("VpcId format", re.fullmatch(r"vpc-[0-9a-f]{17}", VPC), VPC)
    if ACCOUNT:
        eq("CreateVpc OwnerId", vpc["OwnerId"], ACCOUNT)
    eq("CreateVpc cidr", vpc["CidrBlock"], "10.77.0.0/16")
    eq("CreateVpc IsDefault", vpc["IsDefault"], False)
    eq("CreateVpc tags", tagmap(vpc.get("Tags")), {"Name": "compat-" + run_id, "suite": "boto3"})
    ok("CreateVpc state", vpc["State"] in ("pending", "available"), vpc["State"])
    has_keys("CreateVpc keys", vpc, ["VpcId", "State", "CidrBlock", "DhcpOptionsId", "InstanceTenancy", "OwnerId", "CidrBlockAssociationSet"])
    v6 = vpc.get("Ipv6CidrBlockAssociationSet") or []
    eq("CreateVpc with AmazonProvidedIpv6CidrBlock has one IPv6 association", len(v6), 1)

    ec2.get_waiter("vpc_available").wait(VpcIds=[VPC], WaiterConfig=FAST)
    ok("waiter vpc_available", True)
    ec2.get_waiter("vpc_exists").wait(VpcIds=[VPC], WaiterConfig=FAST)
    ok("waiter vpc_exists", True)

    r = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["comp*-" + run_id[:3] + "?" + run_id[4:]]}, {"Name": "cidr-block-association.cidr-block", "Values": ["10.77.0.0/16"]}])
    eq("DescribeVpcs tag wildcard filter", [x["VpcId"] for x in r["Vpcs"]], [VPC])
    v = r["Vpcs"][0]
    ipv6 = [a for a in v.get("Ipv6CidrBlockAssociationSet", []) if a["Ipv6CidrBlockState"]["State"] in ("associated", "associating")]
    ok("VPC has an IPv6 /56", len(ipv6) == 1 and ipv6[0]["Ipv6CidrBlock"].endswith("/56"), v.get("Ipv6CidrBlockAssociationSet"))
    VPC6 = ipv6[0]["Ipv6CidrBlock"] if ipv6 else None

    r = ec2.associate_vpc_cidr_block(VpcId=VPC, CidrBlock="10.78.0.0/16")
    check_out("AssociateVpcCidrBlock", ec2, "AssociateVpcCidrBlock", r)
    eq("AssociateVpcCidrBlock VpcId", r["VpcId"], VPC)
    assoc = r["CidrBlockAssociation"]
    eq("AssociateVpcCidrBlock cidr", assoc["CidrBlock"], "10.78.0.0/16")
    ok("AssociateVpcCidrBlock state", assoc["CidrBlockState"]["State"] in ("associating", "associated"), assoc)
    r = ec2.disassociate_vpc_cidr_block(AssociationId=assoc["AssociationId"])
    check_out("DisassociateVpcCidrBlock", ec2, "DisassociateVpcCidrBlock", r)
    eq("DisassociateVpcCidrBlock id", r["CidrBlockAssociation"]["AssociationId"], assoc["AssociationId"])
    ok("DisassociateVpcCidrBlock state", r["CidrBlockAssociation"]["CidrBlockState"]["State"] in ("disassociating", "disassociated"), r["CidrBlockAssociation"])

    for attr, key in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
        r = ec2.describe_vpc_attribute(VpcId=VPC, Attribute=attr)
        check_out("DescribeVpcAttribute " + attr, ec2, "DescribeVpcAttribute", r)
        eq("DescribeVpcAttribute VpcId", r["VpcId"], VPC)
        is_type("DescribeVpcAttribute %s value is bool" % attr, r[key]["Value"], bool)
    r = ec2.modify_vpc_attribute(VpcId=VPC, EnableDnsHostnames={"Value": True})
    eq("ModifyVpcAttribute status", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    eq("DescribeVpcAttribute after modify", ec2.describe_vpc_attribute(VpcId=VPC, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"], True)

    # ------------------------------------------------------------------ subnets
    section("subnets")
    r = ec2.create_subnet(VpcId=VPC, CidrBlock="10.77.1.0/24", AvailabilityZone=AZ,
                          Ipv6CidrBlock=(VPC6.split("/")[0].rstrip(":") + ":1::/64") if VPC6 else None,
                          TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": "app"}]}]) if VPC6 else \
        ec2.create_subnet(VpcId=VPC, CidrBlock="10.77.1.0/24", AvailabilityZone=AZ,
                          TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": "app"}]}])
    check_out("CreateSubnet", ec2, "CreateSubnet", r)
    sub = r["Subnet"]
    SUB = sub["SubnetId"]
    cleanup.append(("delete subnet", lambda: ec2.delete_subnet(SubnetId=SUB)))
    ok("SubnetId format", re.fullmatch(r"subnet-[0-9a-f]{17}", SUB), SUB)
    eq("CreateSubnet AZ", sub["AvailabilityZone"], AZ)
    ok("CreateSubnet AZ id", bool(sub.get("AvailabilityZoneId")), sub)
    is_type("AvailableIpAddressCount is int", sub["AvailableIpAddressCount"], int)
    eq("AvailableIpAddressCount of a /24", sub["AvailableIpAddressCount"], 251)
    is_type("MapPublicIpOnLaunch is bool", sub["MapPublicIpOnLaunch"], bool)
    eq("DefaultForAz", sub["DefaultForAz"], False)
    eq("CreateSubnet tags", tagmap(sub.get("Tags")), {"tier": "app"})
    ok("SubnetArn", sub.get("SubnetArn", "").endswith(":subnet/" + SUB), sub.get("SubnetArn"))
    sub6 = [a for a in sub.get("Ipv6CidrBlockAssociationSet", [])]
    ok("subnet IPv6 /64", (not VPC6) or (len(sub6) == 1 and sub6[0]["Ipv6CidrBlock"].endswith("/64")), sub6)
    r = ec2.create_subnet(VpcId=VPC, CidrBlock="10.77.2.0/24", AvailabilityZone=AZ2)
    SUB2 = r["Subnet"]["SubnetId"]
    cleanup.append(("delete subnet2", lambda: ec2.delete_subnet(SubnetId=SUB2)))
    r = ec2.create_subnet(VpcId=VPC, CidrBlock="10.77.3.0/24", AvailabilityZone=AZ)
    SUB3 = r["Subnet"]["SubnetId"]
    ec2.get_waiter("subnet_available").wait(SubnetIds=[SUB, SUB2, SUB3], WaiterConfig=FAST)
    ok("waiter subnet_available", True)

    r = ec2.modify_subnet_attribute(SubnetId=SUB, MapPublicIpOnLaunch={"Value": True})
    eq("ModifySubnetAttribute", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    r = ec2.describe_subnets(SubnetIds=[SUB])
    check_out("DescribeSubnets", ec2, "DescribeSubnets", r)
    eq("MapPublicIpOnLaunch after modify", r["Subnets"][0]["MapPublicIpOnLaunch"], True)
    if VPC6:
        ec2.modify_subnet_attribute(SubnetId=SUB, AssignIpv6AddressOnCreation={"Value": True})
        eq("AssignIpv6AddressOnCreation after modify", ec2.describe_subnets(SubnetIds=[SUB])["Subnets"][0]["AssignIpv6AddressOnCreation"], True)
        ec2.modify_subnet_attribute(SubnetId=SUB, AssignIpv6AddressOnCreation={"Value": False})
    ec2.modify_subnet_attribute(SubnetId=SUB, MapPublicIpOnLaunch={"Value": False})
    r = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [VPC]}, {"Name": "availability-zone", "Values": [AZ]}])
    eq("DescribeSubnets filters", sorted(x["SubnetId"] for x in r["Subnets"]), sorted([SUB, SUB3]))
    r = ec2.describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["app"]}, {"Name": "vpc-id", "Values": [VPC]}])
    eq("DescribeSubnets tag filter", [x["SubnetId"] for x in r["Subnets"]], [SUB])
    r = ec2.delete_subnet(SubnetId=SUB3)
    eq("DeleteSubnet", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    expect_error("DescribeSubnets deleted", "InvalidSubnetID.NotFound", ec2.describe_subnets, SubnetIds=[SUB3])

    # ---------------------------------------------------- IGW and route tables
    section("internet gateways, route tables")
    r = ec2.create_internet_gateway(TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "gw"}]}])
    check_out("CreateInternetGateway", ec2, "CreateInternetGateway", r)
    IGW = r["InternetGateway"]["InternetGatewayId"]
    ok("igw id", re.fullmatch(r"igw-[0-9a-f]{17}", IGW), IGW)
    eq("new IGW has no attachments", r["InternetGateway"].get("Attachments", []), [])
    cleanup.append(("delete igw", lambda: ec2.delete_internet_gateway(InternetGatewayId=IGW)))
    r = ec2.attach_internet_gateway(InternetGatewayId=IGW, VpcId=VPC)
    eq("AttachInternetGateway", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    cleanup.append(("detach igw", lambda: ec2.detach_internet_gateway(InternetGatewayId=IGW, VpcId=VPC)))
    r = ec2.describe_internet_gateways(InternetGatewayIds=[IGW])
    check_out("DescribeInternetGateways", ec2, "DescribeInternetGateways", r)
    g = r["InternetGateways"][0]
    eq("IGW attachment", [(a["VpcId"], a["State"]) for a in g["Attachments"]], [(VPC, "available")])
    eq("IGW tags", tagmap(g.get("Tags")), {"Name": "gw"})
    r = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [VPC]}])
    eq("DescribeInternetGateways filter", [x["InternetGatewayId"] for x in r["InternetGateways"]], [IGW])
    expect_error("AttachInternetGateway twice", "Resource.AlreadyAssociated", ec2.attach_internet_gateway, InternetGatewayId=IGW, VpcId=VPC)

    r = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [VPC]}, {"Name": "association.main", "Values": ["true"]}])
    check_out("DescribeRouteTables", ec2, "DescribeRouteTables", r)
    eq("one main route table", len(r["RouteTables"]), 1)
    main = r["RouteTables"][0]
    ok("main association Main is True", any(a["Main"] is True for a in main["Associations"]), main["Associations"])
    local = [x for x in main["Routes"] if x.get("GatewayId") == "local"]
    ok("main table has the local route", any(x["DestinationCidrBlock"] == "10.77.0.0/16" for x in local), main["Routes"])
    r = ec2.create_route_table(VpcId=VPC, TagSpecifications=[{"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "public"}]}])
    check_out("CreateRouteTable", ec2, "CreateRouteTable", r)
    RTB = r["RouteTable"]["RouteTableId"]
    cleanup.append(("delete rtb", lambda: ec2.delete_route_table(RouteTableId=RTB)))
    ok("rtb id", re.fullmatch(r"rtb-[0-9a-f]{17}", RTB), RTB)
    eq("rtb tags", tagmap(r["RouteTable"].get("Tags")), {"Name": "public"})
    r = ec2.create_route(RouteTableId=RTB, DestinationCidrBlock="0.0.0.0/0", GatewayId=IGW)
    check_out("CreateRoute", ec2, "CreateRoute", r)
    eq("CreateRoute Return", r["Return"], True)
    r = ec2.associate_route_table(RouteTableId=RTB, SubnetId=SUB)
    check_out("AssociateRouteTable", ec2, "AssociateRouteTable", r)
    RTBASSOC = r["AssociationId"]
    cleanup.append(("disassociate rtb", lambda: ec2.disassociate_route_table(AssociationId=RTBASSOC)))
    ok("rtbassoc id", RTBASSOC.startswith("rtbassoc-"), RTBASSOC)
    eq("AssociateRouteTable state", r.get("AssociationState", {}).get("State"), "associated")
    r = ec2.describe_route_tables(RouteTableIds=[RTB])
    rt = r["RouteTables"][0]
    routes = {x["DestinationCidrBlock"]: x for x in rt["Routes"] if "DestinationCidrBlock" in x}
    eq("default route via IGW", routes.get("0.0.0.0/0", {}).get("GatewayId"), IGW)
    eq("default route state", routes.get("0.0.0.0/0", {}).get("State"), "active")
    eq("default route origin", routes.get("0.0.0.0/0", {}).get("Origin"), "CreateRoute")
    eq("rtb association subnet", [(a["SubnetId"], a["Main"]) for a in rt["Associations"]], [(SUB, False)])
    r = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [SUB]}])
    eq("DescribeRouteTables association filter", [x["RouteTableId"] for x in r["RouteTables"]], [RTB])

    # ------------------------------------------------------------------- groups
    section("security groups")
    r = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=VPC,
                                  TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "app", "Value": "web"}]}])
    check_out("CreateSecurityGroup", ec2, "CreateSecurityGroup", r)
    SG = r["GroupId"]
    cleanup.append(("delete sg", lambda: ec2.delete_security_group(GroupId=SG)))
    ok("sg id", re.fullmatch(r"sg-[0-9a-f]{17}", SG), SG)
    eq("CreateSecurityGroup tags", tagmap(r.get("Tags")), {"app": "web"})
    ok("CreateSecurityGroup SecurityGroupArn", r.get("SecurityGroupArn", "").endswith("security-group/" + SG), r.get("SecurityGroupArn"))
    r = ec2.create_security_group(GroupName="db", Description="db tier", VpcId=VPC)
    SG2 = r["GroupId"]
    cleanup.append(("delete sg2", lambda: ec2.delete_security_group(GroupId=SG2)))
    ec2.get_waiter("security_group_exists").wait(GroupIds=[SG, SG2], WaiterConfig=FAST)
    ok("waiter security_group_exists", True)
    expect_error("CreateSecurityGroup duplicate", "InvalidGroup.Duplicate", ec2.create_security_group, GroupName="web", Description="x", VpcId=VPC)

    r = ec2.authorize_security_group_ingress(GroupId=SG, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "https v6"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    ], TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "rule", "Value": "in"}]}])
    check_out("AuthorizeSecurityGroupIngress", ec2, "AuthorizeSecurityGroupIngress", r)
    eq("AuthorizeSecurityGroupIngress Return", r["Return"], True)
    rules = r.get("SecurityGroupRules", [])
    eq("AuthorizeSecurityGroupIngress returns 3 rules", len(rules), 3)
    ok("rule ids sgr-", all(re.fullmatch(r"sgr-[0-9a-f]{17}", x["SecurityGroupRuleId"]) for x in rules), rules)
    ok("rules IsEgress False", all(x["IsEgress"] is False for x in rules), rules)
    ok("rules FromPort int", all(isinstance(x["FromPort"], int) for x in rules), rules)
    ok("rule tags", all(tagmap(x.get("Tags")) == {"rule": "in"} for x in rules), rules)
    v6rule = [x for x in rules if x.get("CidrIpv6") == "::/0"]
    eq("IPv6 rule description", [x.get("Description") for x in v6rule], ["https v6"])
    r = ec2.authorize_security_group_ingress(GroupId=SG2, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "UserIdGroupPairs": [{"GroupId": SG, "Description": "from web"}]}])
    eq("authorize with UserIdGroupPairs", len(r["SecurityGroupRules"]), 1)
    ref = r["SecurityGroupRules"][0]
    eq("rule ReferencedGroupInfo.GroupId", ref.get("ReferencedGroupInfo", {}).get("GroupId"), SG)
    SG2RULE = ref["SecurityGroupRuleId"]
    r = ec2.authorize_security_group_egress(GroupId=SG2, IpPermissions=[
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.77.0.2/32"}]}])
    check_out("AuthorizeSecurityGroupEgress", ec2, "AuthorizeSecurityGroupEgress", r)
    ok("egress rule IsEgress True", all(x["IsEgress"] is True for x in r["SecurityGroupRules"]), r["SecurityGroupRules"])
    expect_error("authorize duplicate", "InvalidPermission.Duplicate", ec2.authorize_security_group_ingress,
                 GroupId=SG, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])

    r = ec2.describe_security_groups(GroupIds=[SG, SG2])
    check_out("DescribeSecurityGroups", ec2, "DescribeSecurityGroups", r)
    groups = {g["GroupId"]: g for g in r["SecurityGroups"]}
    g = groups[SG]
    eq("SG name/description", (g["GroupName"], g["Description"], g["VpcId"]), ("web", "web tier", VPC))
    perms = {(p["IpProtocol"], p.get("FromPort"), p.get("ToPort")): p for p in g["IpPermissions"]}
    p443 = perms.get(("tcp", 443, 443), {})
    eq("443 IpRanges", p443.get("IpRanges"), [{"CidrIp": "0.0.0.0/0", "Description": "https"}])
    eq("443 Ipv6Ranges", p443.get("Ipv6Ranges"), [{"CidrIpv6": "::/0", "Description": "https v6"}])
    eq("SG default egress", [(p["IpProtocol"], [x["CidrIp"] for x in p["IpRanges"]], [x["CidrIpv6"] for x in p.get("Ipv6Ranges", [])]) for p in g["IpPermissionsEgress"]],
       [("-1", ["0.0.0.0/0"], ["::/0"] if VPC6 else [])])
    pairs = [pr for p in groups[SG2]["IpPermissions"] for pr in p.get("UserIdGroupPairs", [])]
    eq("UserIdGroupPairs GroupId", [pr["GroupId"] for pr in pairs], [SG])
    eq("UserIdGroupPairs Description", [pr.get("Description") for pr in pairs], ["from web"])
    ok("UserIdGroupPairs UserId", all(pr.get("UserId") for pr in pairs), pairs)
    r = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [VPC]}, {"Name": "ip-permission.from-port", "Values": ["443"]}])
    eq("DescribeSecurityGroups permission filter", [x["GroupId"] for x in r["SecurityGroups"]], [SG])
    r = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [VPC]}, {"Name": "group-name", "Values": ["default"]}])
    eq("VPC default group exists", len(r["SecurityGroups"]), 1)
    DEFAULT_SG = r["SecurityGroups"][0]["GroupId"]

    r = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [SG]}])
    check_out("DescribeSecurityGroupRules", ec2, "DescribeSecurityGroupRules", r)
    # 3 ingress + the default egress rules: 0.0.0.0/0, and ::/0 in a VPC with IPv6
    eq("DescribeSecurityGroupRules count", len(r["SecurityGroupRules"]), 5 if VPC6 else 4)
    ok("DescribeSecurityGroupRules GroupOwnerId", all(x.get("GroupOwnerId") for x in r["SecurityGroupRules"]), r["SecurityGroupRules"][:1])
    r = ec2.describe_security_group_rules(SecurityGroupRuleIds=[SG2RULE])
    eq("DescribeSecurityGroupRules by id", [x["SecurityGroupRuleId"] for x in r["SecurityGroupRules"]], [SG2RULE])

    r = ec2.revoke_security_group_ingress(GroupId=SG, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    check_out("RevokeSecurityGroupIngress", ec2, "RevokeSecurityGroupIngress", r)
    eq("RevokeSecurityGroupIngress Return", r["Return"], True)
    ok("RevokeSecurityGroupIngress no UnknownIpPermissions", not r.get("UnknownIpPermissions"), r.get("UnknownIpPermissions"))
    r = ec2.revoke_security_group_ingress(GroupId=SG2, SecurityGroupRuleIds=[SG2RULE])
    eq("revoke by rule id", r["Return"], True)
    r = ec2.revoke_security_group_egress(GroupId=SG2, IpPermissions=[{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.77.0.2/32"}]}])
    check_out("RevokeSecurityGroupEgress", ec2, "RevokeSecurityGroupEgress", r)
    eq("RevokeSecurityGroupEgress Return", r["Return"], True)
    expect_error("revoke missing rule", "InvalidPermission.NotFound", ec2.revoke_security_group_ingress,
                 GroupId=SG, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "1.2.3.4/32"}]}])

    # -------------------------------------------------------------- images etc.
    section("instance types and images")
    r = ec2.describe_instance_types(InstanceTypes=["t3.small", "m5.large"])
    check_out("DescribeInstanceTypes", ec2, "DescribeInstanceTypes", r)
    its = {x["InstanceType"]: x for x in r["InstanceTypes"]}
    eq("DescribeInstanceTypes returns both", sorted(its), ["m5.large", "t3.small"])
    ni = its.get("m5.large", {}).get("NetworkInfo", {})
    eq("m5.large MaximumNetworkInterfaces", ni.get("MaximumNetworkInterfaces"), 3)
    eq("m5.large Ipv4AddressesPerInterface", ni.get("Ipv4AddressesPerInterface"), 10)
    is_type("Ipv6Supported is bool", ni.get("Ipv6Supported"), bool)
    is_type("MaximumNetworkCards is int", ni.get("MaximumNetworkCards"), int)
    eq("NetworkCards[0]", {k: ni.get("NetworkCards", [{}])[0].get(k) for k in ("NetworkCardIndex", "MaximumNetworkInterfaces")},
       {"NetworkCardIndex": 0, "MaximumNetworkInterfaces": 3})
    r = ec2.describe_instance_types(Filters=[{"Name": "instance-type", "Values": ["t3.*"]}], MaxResults=5)
    ok("DescribeInstanceTypes filter + page", 0 < len(r["InstanceTypes"]) <= 5 and all(x["InstanceType"].startswith("t3.") for x in r["InstanceTypes"]), [x["InstanceType"] for x in r["InstanceTypes"]])
    n = 0
    for page in ec2.get_paginator("describe_instance_types").paginate(Filters=[{"Name": "instance-type", "Values": ["t3.*"]}], PaginationConfig={"PageSize": 5}):
        n += len(page["InstanceTypes"])
    eq("DescribeInstanceTypes paginator t3.*", n, 7)
    r = ec2.describe_images(Owners=["amazon"])
    check_out("DescribeImages", ec2, "DescribeImages", r)
    ok("DescribeImages catalogue", len(r["Images"]) >= 1, len(r["Images"]))
    if r["Images"]:
        im = r["Images"][0]
        r = ec2.describe_images(ImageIds=[im["ImageId"]])
        eq("DescribeImages by id", [x["ImageId"] for x in r["Images"]], [im["ImageId"]])
        r = ec2.describe_images(Filters=[{"Name": "name", "Values": [im["Name"][:5] + "*"]}, {"Name": "architecture", "Values": [im["Architecture"]]}])
        ok("DescribeImages name filter", im["ImageId"] in [x["ImageId"] for x in r["Images"]], [x["ImageId"] for x in r["Images"]])
        is_type("image CreationDate is a string (model: String)", im.get("CreationDate"), str)
        has_keys("image keys", im, ["ImageId", "State", "Architecture", "RootDeviceType", "VirtualizationType", "Public"])
        is_type("image Public is bool", im.get("Public"), bool)
    expect_error("DescribeImages malformed", "InvalidAMIID.Malformed", ec2.describe_images, ImageIds=["ami-zz"])

    # --------------------------------------------------------------- instances
    section("instances")
    r = ec2.run_instances(ImageId=AMI, InstanceType="m5.large", MinCount=2, MaxCount=2, SubnetId=SUB,
                          SecurityGroupIds=[SG],
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "app"}]}])
    check_out("RunInstances", ec2, "RunInstances", r)
    insts = r["Instances"]
    eq("RunInstances count", len(insts), 2)
    IA, IB = insts[0]["InstanceId"], insts[1]["InstanceId"]
    cleanup.append(("terminate", lambda: ec2.terminate_instances(InstanceIds=[IA, IB])))
    ok("reservation id", r["ReservationId"].startswith("r-"), r["ReservationId"])
    ok("instance ids", all(re.fullmatch(r"i-[0-9a-f]{17}", x["InstanceId"]) for x in insts), [x["InstanceId"] for x in insts])
    i0 = insts[0]
    eq("AmiLaunchIndex", [x["AmiLaunchIndex"] for x in insts], [0, 1])
    is_type("LaunchTime is datetime", i0["LaunchTime"], datetime.datetime)
    ok("LaunchTime is tz-aware", i0["LaunchTime"].tzinfo is not None, i0["LaunchTime"])
    is_type("State.Code is int", i0["State"]["Code"], int)
    ok("State pending or running", (i0["State"]["Code"], i0["State"]["Name"]) in ((0, "pending"), (16, "running")), i0["State"])
    eq("instance subnet/vpc", (i0["SubnetId"], i0["VpcId"]), (SUB, VPC))
    eq("instance groups", [g["GroupId"] for g in i0["SecurityGroups"]], [SG])
    eq("instance tags", tagmap(i0.get("Tags")), {"Name": "app"})
    eq("instance Placement AZ", i0["Placement"]["AvailabilityZone"], AZ)
    eq("instance Placement AZ id", i0["Placement"].get("AvailabilityZoneId"), AZID)
    eq("instance has one ENI", len(i0["NetworkInterfaces"]), 1)
    pn = i0["NetworkInterfaces"][0]
    eq("primary ENI device index", pn["Attachment"]["DeviceIndex"], 0)
    eq("primary ENI DeleteOnTermination", pn["Attachment"]["DeleteOnTermination"], True)
    is_type("primary ENI AttachTime", pn["Attachment"]["AttachTime"], datetime.datetime)
    eq("primary ENI ip = instance ip", pn["PrivateIpAddress"], i0["PrivateIpAddress"])
    ok("no public ip (subnet does not map)", "PublicIpAddress" not in i0, i0.get("PublicIpAddress"))
    eq("instance SourceDestCheck", i0["SourceDestCheck"], True)
    ok("instance MAC", re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", pn["MacAddress"]), pn["MacAddress"])

    ec2.get_waiter("instance_running").wait(InstanceIds=[IA, IB], WaiterConfig=FAST)
    ok("waiter instance_running", True)
    ec2.get_waiter("instance_exists").wait(InstanceIds=[IA], WaiterConfig=FAST)
    ok("waiter instance_exists", True)

    # RunInstances with NetworkInterfaces specs: primary with 2 secondary IPs and
    # a public IP, plus a second interface in another subnet of the same AZ.
    r = ec2.create_subnet(VpcId=VPC, CidrBlock="10.77.4.0/24", AvailabilityZone=AZ)
    SUB4 = r["Subnet"]["SubnetId"]
    cleanup.append(("delete subnet4", lambda: ec2.delete_subnet(SubnetId=SUB4)))
    r = ec2.run_instances(ImageId=AMI, InstanceType="m5.large", MinCount=1, MaxCount=1, NetworkInterfaces=[
        {"DeviceIndex": 0, "SubnetId": SUB, "Groups": [SG], "PrivateIpAddress": "10.77.1.50",
         "SecondaryPrivateIpAddressCount": 2, "DeleteOnTermination": True,
         "Description": "primary"},
        {"DeviceIndex": 1, "SubnetId": SUB4, "Groups": [SG2], "Description": "data", "DeleteOnTermination": False},
    ], ClientToken="run-nis-" + run_id)
    IC = r["Instances"][0]["InstanceId"]
    cleanup.append(("terminate C", lambda: ec2.terminate_instances(InstanceIds=[IC])))
    nis = sorted(r["Instances"][0]["NetworkInterfaces"], key=lambda x: x["Attachment"]["DeviceIndex"])
    eq("RunInstances NetworkInterfaces count", len(nis), 2)
    eq("ni0 primary ip", nis[0]["PrivateIpAddress"], "10.77.1.50")
    eq("ni0 addresses", len(nis[0]["PrivateIpAddresses"]), 3)
    eq("ni0 exactly one primary", [a["Primary"] for a in nis[0]["PrivateIpAddresses"]].count(True), 1)
    ok("ni0 no public ip", "Association" not in nis[0], nis[0].get("Association"))
    eq("ni0 description", nis[0]["Description"], "primary")
    eq("ni1 subnet/groups/dot", (nis[1]["SubnetId"], [g["GroupId"] for g in nis[1]["Groups"]], nis[1]["Attachment"]["DeleteOnTermination"]), (SUB4, [SG2], False))
    DATA_ENI = nis[1]["NetworkInterfaceId"]
    cleanup.append(("delete data eni", lambda: ec2.delete_network_interface(NetworkInterfaceId=DATA_ENI)))
    r2 = ec2.run_instances(ImageId=AMI, InstanceType="m5.large", MinCount=1, MaxCount=1, NetworkInterfaces=[
        {"DeviceIndex": 0, "SubnetId": SUB, "Groups": [SG], "PrivateIpAddress": "10.77.1.50",
         "SecondaryPrivateIpAddressCount": 2, "DeleteOnTermination": True,
         "Description": "primary"},
        {"DeviceIndex": 1, "SubnetId": SUB4, "Groups": [SG2], "Description": "data", "DeleteOnTermination": False},
    ], ClientToken="run-nis-" + run_id)
    eq("RunInstances ClientToken idempotent", r2["Instances"][0]["InstanceId"], IC)
    expect_error("AssociatePublicIpAddress with two interfaces", "InvalidParameterCombination", ec2.run_instances,
                 ImageId=AMI, InstanceType="m5.large", MinCount=1, MaxCount=1, NetworkInterfaces=[
                     {"DeviceIndex": 0, "SubnetId": SUB, "AssociatePublicIpAddress": True},
                     {"DeviceIndex": 1, "SubnetId": SUB4}])
    r = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, NetworkInterfaces=[
        {"DeviceIndex": 0, "SubnetId": SUB, "AssociatePublicIpAddress": True, "SecondaryPrivateIpAddressCount": 1}])
    ID = r["Instances"][0]["InstanceId"]
    cleanup.append(("terminate D", lambda: ec2.terminate_instances(InstanceIds=[ID])))
    ni = r["Instances"][0]["NetworkInterfaces"][0]
    ok("public ip on request", "PublicIp" in ni.get("Association", {}), ni.get("Association"))
    eq("auto-assigned public ip owner is amazon", ni.get("Association", {}).get("IpOwnerId"), "amazon")
    ok("auto-assigned public ip has no AllocationId", "AllocationId" not in ni.get("Association", {}), ni.get("Association"))
    eq("instance PublicIpAddress", r["Instances"][0].get("PublicIpAddress"), ni.get("Association", {}).get("PublicIp"))
    ok("instance PublicDnsName", r["Instances"][0].get("PublicDnsName", "").startswith("ec2-"), r["Instances"][0].get("PublicDnsName"))
    eq("2 addresses", len(ni["PrivateIpAddresses"]), 2)
    ec2.terminate_instances(InstanceIds=[ID])
    # Placement by zone id (boto3 users copy ids from DescribeAvailabilityZones)
    r = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, Placement={"AvailabilityZoneId": AZ2ID})
    IE = r["Instances"][0]["InstanceId"]
    cleanup.append(("terminate E", lambda: ec2.terminate_instances(InstanceIds=[IE])))
    eq("Placement.AvailabilityZoneId is honoured", (r["Instances"][0]["Placement"]["AvailabilityZone"], r["Instances"][0]["Placement"].get("AvailabilityZoneId")), (AZ2, AZ2ID))
    ec2.terminate_instances(InstanceIds=[IE])
    expect_error("Placement zone name and id together", "InvalidParameterCombination", ec2.run_instances,
                 ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, Placement={"AvailabilityZone": AZ2, "AvailabilityZoneId": AZ2ID})
    expect_error("Placement unknown zone id", "InvalidParameterValue", ec2.run_instances,
                 ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, Placement={"AvailabilityZoneId": "zz-az9"})
    expect_error("RunInstances token mismatch", "IdempotentParameterMismatch", ec2.run_instances,
                 ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=SUB, ClientToken="run-nis-" + run_id)

    r = ec2.describe_instances(InstanceIds=[IA])
    check_out("DescribeInstances", ec2, "DescribeInstances", r)
    eq("DescribeInstances one reservation", len(r["Reservations"]), 1)
    inst = r["Reservations"][0]["Instances"][0]
    eq("DescribeInstances state", inst["State"], {"Code": 16, "Name": "running"})
    ok("reservation OwnerId", r["Reservations"][0].get("OwnerId"), r["Reservations"][0])
    r = ec2.describe_instances(Filters=[{"Name": "vpc-id", "Values": [VPC]}, {"Name": "tag:Name", "Values": ["app"]}, {"Name": "instance-state-name", "Values": ["running"]}])
    eq("DescribeInstances filters", sorted(i["InstanceId"] for rs in r["Reservations"] for i in rs["Instances"]), sorted([IA, IB]))
    r = ec2.describe_instances(Filters=[{"Name": "network-interface.network-interface-id", "Values": [DATA_ENI]}])
    eq("DescribeInstances network-interface filter", [i["InstanceId"] for rs in r["Reservations"] for i in rs["Instances"]], [IC])

    for attr, key in (("instanceType", "InstanceType"), ("sourceDestCheck", "SourceDestCheck"),
                      ("disableApiTermination", "DisableApiTermination"), ("groupSet", "Groups"),
                      ("instanceInitiatedShutdownBehavior", "InstanceInitiatedShutdownBehavior")):
        r = ec2.describe_instance_attribute(InstanceId=IA, Attribute=attr)
        check_out("DescribeInstanceAttribute " + attr, ec2, "DescribeInstanceAttribute", r)
        ok("DescribeInstanceAttribute %s present" % attr, key in r, sorted(r))
    eq("instance attr instanceType", ec2.describe_instance_attribute(InstanceId=IA, Attribute="instanceType")["InstanceType"]["Value"], "m5.large")
    eq("instance attr sourceDestCheck", ec2.describe_instance_attribute(InstanceId=IA, Attribute="sourceDestCheck")["SourceDestCheck"]["Value"], True)
    ec2.modify_instance_attribute(InstanceId=IA, SourceDestCheck={"Value": False})
    eq("ModifyInstanceAttribute sourceDestCheck", ec2.describe_instance_attribute(InstanceId=IA, Attribute="sourceDestCheck")["SourceDestCheck"]["Value"], False)
    ec2.modify_instance_attribute(InstanceId=IA, Groups=[SG, SG2])
    eq("ModifyInstanceAttribute groups", sorted(g["GroupId"] for g in ec2.describe_instance_attribute(InstanceId=IA, Attribute="groupSet")["Groups"]), sorted([SG, SG2]))
    ec2.modify_instance_attribute(InstanceId=IA, Groups=[SG])
    ec2.modify_instance_attribute(InstanceId=IA, SourceDestCheck={"Value": True})

    # ---------------------------------------------------------------------- ENI
    section("network interfaces")
    r = ec2.create_network_interface(SubnetId=SUB, Groups=[SG], SecondaryPrivateIpAddressCount=2, Description="floating mgmt",
                                     Ipv6AddressCount=1 if VPC6 else 0,
                                     TagSpecifications=[{"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "mgmt"}]}],
                                     ClientToken="eni-1-" + run_id)
    check_out("CreateNetworkInterface", ec2, "CreateNetworkInterface", r)
    eni = r["NetworkInterface"]
    ENI = eni["NetworkInterfaceId"]
    cleanup.append(("delete eni", lambda: ec2.delete_network_interface(NetworkInterfaceId=ENI)))
    ok("ENI id format", re.fullmatch(r"eni-[0-9a-f]{17}", ENI), ENI)
    has_keys("ENI keys", eni, ["AvailabilityZone", "Description", "Groups", "InterfaceType", "MacAddress", "NetworkInterfaceId",
                               "OwnerId", "PrivateDnsName", "PrivateIpAddress", "PrivateIpAddresses", "RequesterManaged",
                               "SourceDestCheck", "Status", "SubnetId", "TagSet", "VpcId", "Ipv6Addresses"])
    eq("ENI status", eni["Status"], "available")
    eq("ENI subnet/vpc/az", (eni["SubnetId"], eni["VpcId"], eni["AvailabilityZone"]), (SUB, VPC, AZ))
    eq("ENI AvailabilityZoneId", eni.get("AvailabilityZoneId"), AZID)
    eq("ENI description", eni["Description"], "floating mgmt")
    eq("ENI interface type", eni["InterfaceType"], "interface")
    eq("ENI groups", eni["Groups"], [{"GroupId": SG, "GroupName": "web"}])
    eq("ENI RequesterManaged", eni["RequesterManaged"], False)
    eq("ENI SourceDestCheck", eni["SourceDestCheck"], True)
    eq("ENI TagSet", tagmap(eni["TagSet"]), {"Name": "mgmt"})
    ok("ENI has no Tags key (it is TagSet)", "Tags" not in eni, sorted(eni))
    eq("ENI private IPs", len(eni["PrivateIpAddresses"]), 3)
    eq("ENI primary first", eni["PrivateIpAddresses"][0]["Primary"], True)
    eq("ENI primary ip", eni["PrivateIpAddresses"][0]["PrivateIpAddress"], eni["PrivateIpAddress"])
    ok("ENI private dns", eni["PrivateDnsName"].startswith("ip-" + eni["PrivateIpAddress"].replace(".", "-")), eni["PrivateDnsName"])
    ok("ENI MAC", re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", eni["MacAddress"]), eni["MacAddress"])
    ok("ENI no attachment", "Attachment" not in eni, eni.get("Attachment"))
    if VPC6:
        eq("ENI IPv6 count", len(eni["Ipv6Addresses"]), 1)
    r = ec2.create_network_interface(SubnetId=SUB, Groups=[SG], SecondaryPrivateIpAddressCount=2, Description="floating mgmt",
                                     Ipv6AddressCount=1 if VPC6 else 0,
                                     TagSpecifications=[{"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "mgmt"}]}],
                                     ClientToken="eni-1-" + run_id)
    eq("CreateNetworkInterface ClientToken idempotent", r["NetworkInterface"]["NetworkInterfaceId"], ENI)
    eq("CreateNetworkInterface ClientToken echoed", r.get("ClientToken"), "eni-1-" + run_id)
    ec2.get_waiter("network_interface_available").wait(NetworkInterfaceIds=[ENI], WaiterConfig=FAST)
    ok("waiter network_interface_available", True)

    r = ec2.create_network_interface(SubnetId=SUB, PrivateIpAddresses=[
        {"PrivateIpAddress": "10.77.1.200", "Primary": True}, {"PrivateIpAddress": "10.77.1.201", "Primary": False}])
    ENI2 = r["NetworkInterface"]["NetworkInterfaceId"]
    cleanup.append(("delete eni2", lambda: ec2.delete_network_interface(NetworkInterfaceId=ENI2)))
    eq("explicit addresses", [(a["PrivateIpAddress"], a["Primary"]) for a in r["NetworkInterface"]["PrivateIpAddresses"]],
       [("10.77.1.200", True), ("10.77.1.201", False)])
    eq("ENI default group", [g["GroupId"] for g in r["NetworkInterface"]["Groups"]], [DEFAULT_SG])

    r = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])
    check_out("DescribeNetworkInterfaces", ec2, "DescribeNetworkInterfaces", r)
    d = r["NetworkInterfaces"][0]
    eq("describe = create", {k: d[k] for k in ("MacAddress", "PrivateIpAddress", "Description", "SubnetId")},
       {k: eni[k] for k in ("MacAddress", "PrivateIpAddress", "Description", "SubnetId")})
    eq("describe private IP set = create", sorted(a["PrivateIpAddress"] for a in d["PrivateIpAddresses"]),
       sorted(a["PrivateIpAddress"] for a in eni["PrivateIpAddresses"]))
    for flt, vals in (("description", ["floating*"]), ("tag:Name", ["mgmt"]), ("tag-key", ["Name"]), ("group-id", [SG]),
                      ("private-ip-address", [eni["PrivateIpAddress"]]), ("addresses.private-ip-address", [eni["PrivateIpAddresses"][1]["PrivateIpAddress"]]),
                      ("mac-address", [eni["MacAddress"]]), ("status", ["available"]), ("requester-managed", ["false"])):
        r = ec2.describe_network_interfaces(Filters=[{"Name": flt, "Values": vals}, {"Name": "vpc-id", "Values": [VPC]}])
        ok("DescribeNetworkInterfaces filter %s" % flt, ENI in [x["NetworkInterfaceId"] for x in r["NetworkInterfaces"]], [x["NetworkInterfaceId"] for x in r["NetworkInterfaces"]])

    # attach, move, detach (the README's floating ENI)
    r = ec2.attach_network_interface(NetworkInterfaceId=ENI, InstanceId=IA, DeviceIndex=1)
    check_out("AttachNetworkInterface", ec2, "AttachNetworkInterface", r)
    ATT = r["AttachmentId"]
    ok("attachment id", re.fullmatch(r"eni-attach-[0-9a-f]{17}", ATT), ATT)
    is_type("AttachNetworkInterface NetworkCardIndex int", r.get("NetworkCardIndex"), int)
    d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
    eq("attached status", d["Status"], "in-use")
    a = d["Attachment"]
    eq("attachment fields", (a["AttachmentId"], a["InstanceId"], a["DeviceIndex"], a["Status"], a["DeleteOnTermination"]),
       (ATT, IA, 1, "attached", False))
    is_type("attachment AttachTime", a["AttachTime"], datetime.datetime)
    ok("attachment InstanceOwnerId", a.get("InstanceOwnerId"), a)
    r = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.attachment-id", "Values": [ATT]}])
    eq("filter attachment.attachment-id", [x["NetworkInterfaceId"] for x in r["NetworkInterfaces"]], [ENI])
    r = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [IA]}])
    eq("filter attachment.instance-id", sorted(x["Attachment"]["DeviceIndex"] for x in r["NetworkInterfaces"]), [0, 1])
    inst = ec2.describe_instances(InstanceIds=[IA])["Reservations"][0]["Instances"][0]
    eq("instance shows 2 ENIs", sorted(n["Attachment"]["DeviceIndex"] for n in inst["NetworkInterfaces"]), [0, 1])
    expect_error("attach in-use ENI", "InvalidNetworkInterface.InUse", ec2.attach_network_interface, NetworkInterfaceId=ENI, InstanceId=IB, DeviceIndex=1)
    expect_error("delete in-use ENI", "InvalidParameterValue", ec2.delete_network_interface, NetworkInterfaceId=ENI)

    # attributes
    r = ec2.modify_network_interface_attribute(NetworkInterfaceId=ENI, Attachment={"AttachmentId": ATT, "DeleteOnTermination": True})
    eq("ModifyNetworkInterfaceAttribute attachment", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    r = ec2.describe_network_interface_attribute(NetworkInterfaceId=ENI, Attribute="attachment")
    check_out("DescribeNetworkInterfaceAttribute attachment", ec2, "DescribeNetworkInterfaceAttribute", r)
    eq("attr attachment DeleteOnTermination", r["Attachment"]["DeleteOnTermination"], True)
    eq("attr NetworkInterfaceId", r["NetworkInterfaceId"], ENI)
    ec2.modify_network_interface_attribute(NetworkInterfaceId=ENI, Attachment={"AttachmentId": ATT, "DeleteOnTermination": False})
    ec2.modify_network_interface_attribute(NetworkInterfaceId=ENI, Description={"Value": "floating mgmt v2"})
    r = ec2.describe_network_interface_attribute(NetworkInterfaceId=ENI, Attribute="description")
    check_out("DescribeNetworkInterfaceAttribute description", ec2, "DescribeNetworkInterfaceAttribute", r)
    eq("attr description", r["Description"]["Value"], "floating mgmt v2")
    ec2.modify_network_interface_attribute(NetworkInterfaceId=ENI, SourceDestCheck={"Value": False})
    r = ec2.describe_network_interface_attribute(NetworkInterfaceId=ENI, Attribute="sourceDestCheck")
    check_out("DescribeNetworkInterfaceAttribute sourceDestCheck", ec2, "DescribeNetworkInterfaceAttribute", r)
    eq("attr sourceDestCheck", r["SourceDestCheck"]["Value"], False)
    is_type("attr sourceDestCheck bool", r["SourceDestCheck"]["Value"], bool)
    r = ec2.reset_network_interface_attribute(NetworkInterfaceId=ENI, SourceDestCheck="sourceDestCheck")
    eq("ResetNetworkInterfaceAttribute", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    eq("reset sourceDestCheck", ec2.describe_network_interface_attribute(NetworkInterfaceId=ENI, Attribute="sourceDestCheck")["SourceDestCheck"]["Value"], True)
    ec2.modify_network_interface_attribute(NetworkInterfaceId=ENI, Groups=[SG, SG2])
    r = ec2.describe_network_interface_attribute(NetworkInterfaceId=ENI, Attribute="groupSet")
    check_out("DescribeNetworkInterfaceAttribute groupSet", ec2, "DescribeNetworkInterfaceAttribute", r)
    eq("attr groupSet", sorted(g["GroupId"] for g in r["Groups"]), sorted([SG, SG2]))
    expect_error("modify two attributes", "InvalidParameterCombination", ec2.modify_network_interface_attribute,
                 NetworkInterfaceId=ENI, Description={"Value": "x"}, SourceDestCheck={"Value": True})
    expect_error("describe unknown attribute", "InvalidParameterValue", ec2.describe_network_interface_attribute,
                 NetworkInterfaceId=ENI, Attribute="bogus")

    # secondary addresses
    r = ec2.assign_private_ip_addresses(NetworkInterfaceId=ENI, SecondaryPrivateIpAddressCount=1)
    check_out("AssignPrivateIpAddresses", ec2, "AssignPrivateIpAddresses", r)
    eq("AssignPrivateIpAddresses NetworkInterfaceId", r.get("NetworkInterfaceId"), ENI)
    new = [x["PrivateIpAddress"] for x in r.get("AssignedPrivateIpAddresses", [])]
    eq("AssignPrivateIpAddresses assigned one", len(new), 1)
    r = ec2.assign_private_ip_addresses(NetworkInterfaceId=ENI, PrivateIpAddresses=["10.77.1.150"])
    eq("assign explicit", [x["PrivateIpAddress"] for x in r.get("AssignedPrivateIpAddresses", [])], ["10.77.1.150"])
    expect_error("assign in-use ip", "InvalidParameterValue", ec2.assign_private_ip_addresses, NetworkInterfaceId=ENI2, PrivateIpAddresses=["10.77.1.150"])
    r = ec2.assign_private_ip_addresses(NetworkInterfaceId=ENI2, PrivateIpAddresses=["10.77.1.150"], AllowReassignment=True)
    eq("AllowReassignment moves the address", [x["PrivateIpAddress"] for x in r.get("AssignedPrivateIpAddresses", [])], ["10.77.1.150"])
    d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
    ok("address left ENI", "10.77.1.150" not in [a["PrivateIpAddress"] for a in d["PrivateIpAddresses"]], d["PrivateIpAddresses"])
    r = ec2.unassign_private_ip_addresses(NetworkInterfaceId=ENI, PrivateIpAddresses=new)
    eq("UnassignPrivateIpAddresses", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=ENI2, PrivateIpAddresses=["10.77.1.150"])
    expect_error("unassign primary", "InvalidParameterValue", ec2.unassign_private_ip_addresses, NetworkInterfaceId=ENI, PrivateIpAddresses=[eni["PrivateIpAddress"]])
    d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
    eq("3 addresses again", len(d["PrivateIpAddresses"]), 3)

    # connection tracking timeouts (newer than the 2022 model the server was generated from)
    r = ec2.modify_network_interface_attribute(NetworkInterfaceId=ENI, ConnectionTrackingSpecification={"TcpEstablishedTimeout": 3600})
    eq("ModifyNetworkInterfaceAttribute ConnectionTrackingSpecification", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
    eq("ConnectionTrackingConfiguration", d.get("ConnectionTrackingConfiguration"), {"TcpEstablishedTimeout": 3600, "UdpStreamTimeout": 180, "UdpTimeout": 30})
    expect_error("UdpTimeout out of range", "InvalidParameterValue", ec2.modify_network_interface_attribute,
                 NetworkInterfaceId=ENI, ConnectionTrackingSpecification={"UdpTimeout": 61})

    # delegated /28 prefixes (the EKS VPC CNI's prefix mode)
    r = ec2.assign_private_ip_addresses(NetworkInterfaceId=ENI, Ipv4PrefixCount=1)
    check_out("AssignPrivateIpAddresses prefix", ec2, "AssignPrivateIpAddresses", r)
    pfx = [x["Ipv4Prefix"] for x in r.get("AssignedIpv4Prefixes", [])]
    ok("AssignPrivateIpAddresses gave a /28", len(pfx) == 1 and pfx[0].endswith("/28"), r)
    d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
    eq("Ipv4Prefixes described", [x["Ipv4Prefix"] for x in d.get("Ipv4Prefixes", [])], pfx)
    expect_error("prefix in use", "InvalidIPAddress.InUse", ec2.assign_private_ip_addresses, NetworkInterfaceId=ENI2, Ipv4Prefixes=pfx)
    expect_error("prefix unaligned", "InvalidParameterValue", ec2.assign_private_ip_addresses, NetworkInterfaceId=ENI2, Ipv4Prefixes=["10.77.1.200/28"])
    r = ec2.unassign_private_ip_addresses(NetworkInterfaceId=ENI, Ipv4Prefixes=pfx)
    eq("UnassignPrivateIpAddresses prefix", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
    eq("no prefixes again", d.get("Ipv4Prefixes", []), [])
    if VPC6:
        r = ec2.assign_ipv6_addresses(NetworkInterfaceId=ENI, Ipv6AddressCount=2)
        check_out("AssignIpv6Addresses", ec2, "AssignIpv6Addresses", r)
        got6 = r.get("AssignedIpv6Addresses", [])
        eq("AssignIpv6Addresses count", len(got6), 2)
        ok("AssignIpv6Addresses are strings", all(isinstance(x, str) and ":" in x for x in got6), got6)
        eq("AssignIpv6Addresses NetworkInterfaceId", r.get("NetworkInterfaceId"), ENI)
        r = ec2.unassign_ipv6_addresses(NetworkInterfaceId=ENI, Ipv6Addresses=got6)
        check_out("UnassignIpv6Addresses", ec2, "UnassignIpv6Addresses", r)
        eq("UnassignIpv6Addresses", sorted(r.get("UnassignedIpv6Addresses", [])), sorted(got6))
        d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
        eq("1 IPv6 again", len(d["Ipv6Addresses"]), 1)
        r = ec2.assign_ipv6_addresses(NetworkInterfaceId=ENI, Ipv6PrefixCount=1)
        check_out("AssignIpv6Addresses prefix", ec2, "AssignIpv6Addresses", r)
        p6 = r.get("AssignedIpv6Prefixes", [])
        ok("AssignIpv6Addresses gave a /80", len(p6) == 1 and p6[0].endswith("/80"), r)
        d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
        eq("Ipv6Prefixes described", [x["Ipv6Prefix"] for x in d.get("Ipv6Prefixes", [])], p6)
        r = ec2.unassign_ipv6_addresses(NetworkInterfaceId=ENI, Ipv6Prefixes=p6)
        check_out("UnassignIpv6Addresses prefix", ec2, "UnassignIpv6Addresses", r)
        eq("UnassignIpv6Addresses prefix", r.get("UnassignedIpv6Prefixes", []), p6)
    else:
        expect_error("AssignIpv6Addresses without IPv6", "InvalidParameterValue", ec2.assign_ipv6_addresses, NetworkInterfaceId=ENI, Ipv6AddressCount=1)

    # move to B: everything follows
    r = ec2.detach_network_interface(AttachmentId=ATT)
    eq("DetachNetworkInterface", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
    ok("detached status", d["Status"] in ("available", "detaching"), d["Status"])
    ec2.get_waiter("network_interface_available").wait(NetworkInterfaceIds=[ENI], WaiterConfig=FAST)
    r = ec2.attach_network_interface(NetworkInterfaceId=ENI, InstanceId=IB, DeviceIndex=1)
    ATT2 = r["AttachmentId"]
    d2 = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
    eq("moved: instance", d2["Attachment"]["InstanceId"], IB)
    eq("moved: MAC, addresses, description, tags follow",
       (d2["MacAddress"], sorted(a["PrivateIpAddress"] for a in d2["PrivateIpAddresses"]), d2["Description"], tagmap(d2["TagSet"])),
       (d["MacAddress"], sorted(a["PrivateIpAddress"] for a in d["PrivateIpAddresses"]), "floating mgmt v2", {"Name": "mgmt"}))
    expect_error("detach primary", "OperationNotPermitted", ec2.detach_network_interface,
                 AttachmentId=[n for n in inst["NetworkInterfaces"] if n["Attachment"]["DeviceIndex"] == 0][0]["Attachment"]["AttachmentId"])
    r = ec2.detach_network_interface(AttachmentId=ATT2, Force=True)
    eq("DetachNetworkInterface Force", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    expect_error("detach again", "InvalidAttachmentID.NotFound", ec2.detach_network_interface, AttachmentId=ATT2)

    # permissions
    r = ec2.create_network_interface_permission(NetworkInterfaceId=ENI, AwsAccountId="210987654321", Permission="INSTANCE-ATTACH")
    check_out("CreateNetworkInterfacePermission", ec2, "CreateNetworkInterfacePermission", r)
    perm = r["InterfacePermission"]
    PERM = perm["NetworkInterfacePermissionId"]
    ok("permission id", PERM.startswith("eni-perm-"), PERM)
    eq("permission fields", (perm["NetworkInterfaceId"], perm["AwsAccountId"], perm["Permission"]), (ENI, "210987654321", "INSTANCE-ATTACH"))
    eq("permission state", perm.get("PermissionState", {}).get("State"), "granted")
    r = ec2.describe_network_interface_permissions(NetworkInterfacePermissionIds=[PERM])
    check_out("DescribeNetworkInterfacePermissions", ec2, "DescribeNetworkInterfacePermissions", r)
    eq("DescribeNetworkInterfacePermissions by id", [p["NetworkInterfacePermissionId"] for p in r["NetworkInterfacePermissions"]], [PERM])
    r = ec2.describe_network_interface_permissions(Filters=[{"Name": "network-interface-permission.network-interface-id", "Values": [ENI]},
                                                          {"Name": "network-interface-permission.permission", "Values": ["INSTANCE-ATTACH"]}])
    eq("DescribeNetworkInterfacePermissions filter", [p["NetworkInterfacePermissionId"] for p in r["NetworkInterfacePermissions"]], [PERM])
    r = ec2.delete_network_interface_permission(NetworkInterfacePermissionId=PERM)
    check_out("DeleteNetworkInterfacePermission", ec2, "DeleteNetworkInterfacePermission", r)
    eq("DeleteNetworkInterfacePermission Return", r.get("Return"), True)
    expect_error("describe deleted permission", "InvalidNetworkInterfacePermissionID.NotFound", ec2.describe_network_interface_permissions, NetworkInterfacePermissionIds=[PERM])

    # ---------------------------------------------------------------- addresses
    section("elastic IPs")
    r = ec2.allocate_address(Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "eip1"}]}])
    check_out("AllocateAddress", ec2, "AllocateAddress", r)
    ALLOC = r["AllocationId"]
    PUB = r["PublicIp"]
    cleanup.append(("release eip", lambda: ec2.release_address(AllocationId=ALLOC)))
    ok("eipalloc id", re.fullmatch(r"eipalloc-[0-9a-f]{17}", ALLOC), ALLOC)
    eq("AllocateAddress domain", r["Domain"], "vpc")
    ok("AllocateAddress pool/border group", r.get("PublicIpv4Pool") and r.get("NetworkBorderGroup"), r)
    r = ec2.associate_address(AllocationId=ALLOC, NetworkInterfaceId=ENI, PrivateIpAddress=eni["PrivateIpAddresses"][1]["PrivateIpAddress"])
    check_out("AssociateAddress", ec2, "AssociateAddress", r)
    EIPASSOC = r["AssociationId"]
    ok("eipassoc id", re.fullmatch(r"eipassoc-[0-9a-f]{17}", EIPASSOC), EIPASSOC)
    r = ec2.describe_addresses(AllocationIds=[ALLOC])
    check_out("DescribeAddresses", ec2, "DescribeAddresses", r)
    ad = r["Addresses"][0]
    eq("address fields", (ad["PublicIp"], ad["AssociationId"], ad["NetworkInterfaceId"], ad["PrivateIpAddress"], ad["Domain"]),
       (PUB, EIPASSOC, ENI, eni["PrivateIpAddresses"][1]["PrivateIpAddress"], "vpc"))
    eq("address tags", tagmap(ad.get("Tags")), {"Name": "eip1"})
    ok("NetworkInterfaceOwnerId", ad.get("NetworkInterfaceOwnerId"), ad)
    d = ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0]
    sec = [a for a in d["PrivateIpAddresses"] if a["PrivateIpAddress"] == ad["PrivateIpAddress"]][0]
    eq("ENI secondary IP association", (sec["Association"]["PublicIp"], sec["Association"]["AllocationId"], sec["Association"]["AssociationId"]), (PUB, ALLOC, EIPASSOC))
    ok("ENI primary has no association", "Association" not in d, d.get("Association"))
    r = ec2.describe_addresses(Filters=[{"Name": "network-interface-id", "Values": [ENI]}])
    eq("DescribeAddresses filter", [x["AllocationId"] for x in r["Addresses"]], [ALLOC])
    r = ec2.describe_network_interfaces(Filters=[{"Name": "addresses.association.public-ip", "Values": [PUB]}])
    eq("ENI filter addresses.association.public-ip", [x["NetworkInterfaceId"] for x in r["NetworkInterfaces"]], [ENI])
    r = ec2.associate_address(AllocationId=ALLOC, InstanceId=IA)
    EIPASSOC2 = r["AssociationId"]
    inst = ec2.describe_instances(InstanceIds=[IA])["Reservations"][0]["Instances"][0]
    eq("instance PublicIpAddress = EIP", inst.get("PublicIpAddress"), PUB)
    r = ec2.disassociate_address(AssociationId=EIPASSOC2)
    eq("DisassociateAddress", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    expect_error("disassociate twice", "InvalidAssociationID.NotFound", ec2.disassociate_address, AssociationId=EIPASSOC2)
    r = ec2.release_address(AllocationId=ALLOC)
    eq("ReleaseAddress", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    cleanup.pop()
    expect_error("describe released", "InvalidAllocationID.NotFound", ec2.describe_addresses, AllocationIds=[ALLOC])

    # --------------------------------------------------------------------- tags
    section("tags")
    r = ec2.create_tags(Resources=[ENI, SG, VPC], Tags=[{"Key": "env", "Value": "test"}, {"Key": "owner", "Value": ""}])
    eq("CreateTags", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    r = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [ENI]}])
    check_out("DescribeTags", ec2, "DescribeTags", r)
    eq("DescribeTags of the ENI", sorted((t["Key"], t["Value"], t["ResourceType"]) for t in r["Tags"]),
       [("Name", "mgmt", "network-interface"), ("env", "test", "network-interface"), ("owner", "", "network-interface")])
    r = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["env"]}, {"Name": "resource-type", "Values": ["security-group", "vpc"]}])
    eq("DescribeTags key + resource-type", sorted(t["ResourceId"] for t in r["Tags"]), sorted([SG, VPC]))
    n = 0
    pages = 0
    for page in ec2.get_paginator("describe_tags").paginate(Filters=[{"Name": "resource-id", "Values": [ENI, SG, VPC]}], PaginationConfig={"PageSize": 5}):
        n += len(page["Tags"])
        pages += 1
    eq("DescribeTags paginator total", n, 3 + 3 + 4)
    ok("DescribeTags paginator pages", pages >= 2, pages)
    r = ec2.delete_tags(Resources=[ENI, SG, VPC], Tags=[{"Key": "env"}, {"Key": "owner", "Value": "nope"}])
    eq("DeleteTags", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    r = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [ENI]}])
    eq("DeleteTags key-only deletes, value mismatch keeps", sorted(t["Key"] for t in r["Tags"]), ["Name", "owner"])
    ec2.delete_tags(Resources=[ENI, SG, VPC], Tags=[{"Key": "owner"}])
    expect_error("CreateTags aws: prefix", "InvalidTagKey.Malformed", ec2.create_tags, Resources=[ENI], Tags=[{"Key": "aws:x", "Value": "y"}])
    expect_error("CreateTags unknown resource", "InvalidNetworkInterfaceID.NotFound", ec2.create_tags,
                 Resources=["eni-00000000000000099"], Tags=[{"Key": "a", "Value": "b"}])

    # ---------------------------------------------------------------- paginators
    section("paginators")
    made = []
    for i in range(12):
        made.append(ec2.create_network_interface(SubnetId=SUB2, Description="page %d" % i)["NetworkInterface"]["NetworkInterfaceId"])
    for e_ in made:
        cleanup.append(("delete page eni", (lambda x: lambda: ec2.delete_network_interface(NetworkInterfaceId=x))(e_)))
    seen = []
    pages = 0
    for page in ec2.get_paginator("describe_network_interfaces").paginate(
            Filters=[{"Name": "subnet-id", "Values": [SUB2]}], PaginationConfig={"PageSize": 5}):
        pages += 1
        ok("ENI page size <= 5", len(page["NetworkInterfaces"]) <= 5, len(page["NetworkInterfaces"]))
        seen += [x["NetworkInterfaceId"] for x in page["NetworkInterfaces"]]
    eq("ENI paginator sees all 12 once", sorted(seen), sorted(made))
    eq("ENI paginator pages", pages, 3)
    r = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [SUB2]}], MaxResults=5)
    is_type("NextToken is str", r.get("NextToken"), str)
    r = ec2.get_paginator("describe_network_interfaces").paginate(
        Filters=[{"Name": "subnet-id", "Values": [SUB2]}], PaginationConfig={"PageSize": 5, "MaxItems": 7}).build_full_result()
    eq("paginator MaxItems", len(r["NetworkInterfaces"]), 7)
    ok("paginator resume token", "NextToken" in r, sorted(r))

    seen = []
    for page in ec2.get_paginator("describe_instances").paginate(Filters=[{"Name": "vpc-id", "Values": [VPC]}], PaginationConfig={"PageSize": 5}):
        seen += [i["InstanceId"] for rs in page["Reservations"] for i in rs["Instances"]]
    eq("instances paginator", sorted(seen), sorted([IA, IB, IC]))
    subs = []
    for i in range(4):
        subs.append(ec2.create_subnet(VpcId=VPC, CidrBlock="10.77.%d.0/24" % (10 + i), AvailabilityZone=AZ2)["Subnet"]["SubnetId"])
    for s_ in subs:
        cleanup.append(("delete page subnet", (lambda x: lambda: ec2.delete_subnet(SubnetId=x))(s_)))
    seen = []
    pages = 0
    for page in ec2.get_paginator("describe_subnets").paginate(Filters=[{"Name": "vpc-id", "Values": [VPC]}], PaginationConfig={"PageSize": 5}):
        pages += 1
        seen += [x["SubnetId"] for x in page["Subnets"]]
    eq("subnets paginator", sorted(seen), sorted([SUB, SUB2, SUB4] + subs))
    eq("subnets paginator pages", pages, 2)
    sgs = []
    for i in range(5):
        sgs.append(ec2.create_security_group(GroupName="page-%d" % i, Description="page", VpcId=VPC)["GroupId"])
    for s_ in sgs:
        cleanup.append(("delete page sg", (lambda x: lambda: ec2.delete_security_group(GroupId=x))(s_)))
    seen = []
    pages = 0
    for page in ec2.get_paginator("describe_security_groups").paginate(Filters=[{"Name": "vpc-id", "Values": [VPC]}], PaginationConfig={"PageSize": 5}):
        pages += 1
        seen += [x["GroupId"] for x in page["SecurityGroups"]]
    eq("security groups paginator", sorted(seen), sorted([SG, SG2, DEFAULT_SG] + sgs))
    eq("security groups paginator pages", pages, 2)
    r = ec2.delete_security_group(GroupId=sgs[0])
    check_out("DeleteSecurityGroup", ec2, "DeleteSecurityGroup", r)
    eq("DeleteSecurityGroup Return", r.get("Return"), True)
    eq("DeleteSecurityGroup GroupId", r.get("GroupId"), sgs[0])
    seen = []
    for page in ec2.get_paginator("describe_vpcs").paginate(PaginationConfig={"PageSize": 5}):
        seen += [x["VpcId"] for x in page["Vpcs"]]
    ok("vpcs paginator", VPC in seen and default_vpc in seen and len(seen) == len(set(seen)), seen)
    seen = []
    for page in ec2.get_paginator("describe_security_group_rules").paginate(Filters=[{"Name": "group-id", "Values": [SG]}], PaginationConfig={"PageSize": 5}):
        seen += [x["SecurityGroupRuleId"] for x in page["SecurityGroupRules"]]
    eq("security group rules paginator (443 v4+v6 in, default out)", len(seen), 4 if VPC6 else 3)
    seen = []
    for page in ec2.get_paginator("describe_route_tables").paginate(Filters=[{"Name": "vpc-id", "Values": [VPC]}], PaginationConfig={"PageSize": 5}):
        seen += [x["RouteTableId"] for x in page["RouteTables"]]
    eq("route tables paginator", len(seen), 2)
    seen = []
    for page in ec2.get_paginator("describe_internet_gateways").paginate(Filters=[{"Name": "attachment.vpc-id", "Values": [VPC]}], PaginationConfig={"PageSize": 5}):
        seen += [x["InternetGatewayId"] for x in page["InternetGateways"]]
    eq("internet gateways paginator", seen, [IGW])
    seen = []
    for page in ec2.get_paginator("describe_network_interface_permissions").paginate(PaginationConfig={"PageSize": 5}):
        seen += page["NetworkInterfacePermissions"]
    ok("permissions paginator", isinstance(seen, list), seen)
    expect_error("bad NextToken", "InvalidNextToken", ec2.describe_network_interfaces, MaxResults=5, NextToken="!not a token!")
    expect_error("MaxResults with ids", "InvalidParameterCombination", ec2.describe_network_interfaces, NetworkInterfaceIds=[ENI], MaxResults=5)

    # -------------------------------------------------------------------- DryRun
    section("DryRun")
    expect_error("DryRun CreateVpc", "DryRunOperation", ec2.create_vpc, CidrBlock="10.99.0.0/16", DryRun=True, status=412)
    expect_error("DryRun CreateNetworkInterface", "DryRunOperation", ec2.create_network_interface, SubnetId=SUB, DryRun=True, status=412)
    expect_error("DryRun DescribeNetworkInterfaces", "DryRunOperation", ec2.describe_network_interfaces, DryRun=True, status=412)
    expect_error("DryRun AttachNetworkInterface", "DryRunOperation", ec2.attach_network_interface,
                 NetworkInterfaceId=ENI, InstanceId=IA, DeviceIndex=1, DryRun=True, status=412)
    expect_error("DryRun RunInstances", "DryRunOperation", ec2.run_instances, ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=SUB, DryRun=True, status=412)
    expect_error("DryRun invalid request reports the real error", "InvalidNetworkInterfaceID.NotFound", ec2.delete_network_interface,
                 NetworkInterfaceId="eni-00000000000000099", DryRun=True)
    ok("DryRun attach changed nothing", "Attachment" not in ec2.describe_network_interfaces(NetworkInterfaceIds=[ENI])["NetworkInterfaces"][0])
    r = ec2.describe_vpcs(Filters=[{"Name": "cidr-block-association.cidr-block", "Values": ["10.99.0.0/16"]}])
    eq("DryRun CreateVpc created nothing", r["Vpcs"], [])

    # -------------------------------------------------------------- error codes
    section("errors")
    expect_error("describe unknown ENI", "InvalidNetworkInterfaceID.NotFound", ec2.describe_network_interfaces, NetworkInterfaceIds=["eni-00000000000000099"])
    expect_error("malformed ENI id", "InvalidNetworkInterfaceId.Malformed", ec2.describe_network_interfaces, NetworkInterfaceIds=["to-set"])
    expect_error("unknown filter", "InvalidParameterValue", ec2.describe_network_interfaces, Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    expect_error("unknown subnet", "InvalidSubnetID.NotFound", ec2.create_network_interface, SubnetId="subnet-00000000000000099")
    expect_error("unknown vpc", "InvalidVpcID.NotFound", ec2.describe_vpcs, VpcIds=["vpc-00000000000000099"])
    expect_error("unknown group", "InvalidGroup.NotFound", ec2.describe_security_groups, GroupIds=["sg-00000000000000099"])
    expect_error("unknown instance", "InvalidInstanceID.NotFound", ec2.describe_instances, InstanceIds=["i-00000000000000099"])
    expect_error("malformed instance", "InvalidInstanceID.Malformed", ec2.describe_instances, InstanceIds=["i-zz"])
    expect_error("unknown allocation", "InvalidAllocationID.NotFound", ec2.release_address, AllocationId="eipalloc-00000000000000099")
    expect_error("unknown attachment", "InvalidAttachmentID.NotFound", ec2.detach_network_interface, AttachmentId="eni-attach-00000000000000099")
    expect_error("unknown route table", "InvalidRouteTableID.NotFound", ec2.describe_route_tables, RouteTableIds=["rtb-00000000000000099"])
    expect_error("unknown igw", "InvalidInternetGatewayID.NotFound", ec2.describe_internet_gateways, InternetGatewayIds=["igw-00000000000000099"])
    expect_error("subnet cidr conflict", "InvalidSubnet.Conflict", ec2.create_subnet, VpcId=VPC, CidrBlock="10.77.1.0/25")
    expect_error("subnet cidr range", "InvalidSubnet.Range", ec2.create_subnet, VpcId=VPC, CidrBlock="192.168.0.0/24")
    expect_error("vpc cidr range", "InvalidVpc.Range", ec2.create_vpc, CidrBlock="10.0.0.0/8")
    expect_error("delete vpc with deps", "DependencyViolation", ec2.delete_vpc, VpcId=VPC)
    expect_error("delete sg in use", "DependencyViolation", ec2.delete_security_group, GroupId=SG)
    expect_error("delete default sg", "CannotDelete", ec2.delete_security_group, GroupId=DEFAULT_SG)
    expect_error("bad instance type", "InvalidParameterValue", ec2.run_instances, ImageId=AMI, InstanceType="x9.nope", MinCount=1, MaxCount=1, SubnetId=SUB)
    expect_error("attach cross-AZ", "InvalidParameterValue", ec2.attach_network_interface,
                 NetworkInterfaceId=made[0], InstanceId=IA, DeviceIndex=2)
    expect_error("attach device index taken", "InvalidParameterValue", ec2.attach_network_interface,
                 NetworkInterfaceId=ENI2, InstanceId=IC, DeviceIndex=1)
    expect_error("private ip in use", "InvalidIPAddress.InUse", ec2.create_network_interface, SubnetId=SUB, PrivateIpAddress="10.77.1.50")
    expect_error("unassign foreign ip", "InvalidParameterValue", ec2.unassign_private_ip_addresses, NetworkInterfaceId=ENI, PrivateIpAddresses=["10.77.1.250"])
    e = expect_error("unknown ENI message names the id", "InvalidNetworkInterfaceID.NotFound", ec2.delete_network_interface, NetworkInterfaceId="eni-00000000000000098")
    if e is not None:
        ok("error message names the id", "eni-00000000000000098" in e.response["Error"]["Message"], e.response["Error"]["Message"])
        ok("error RequestId", bool(e.response["ResponseMetadata"].get("RequestId")), e.response["ResponseMetadata"])

    # ----------------------------------------------------------- stop / start
    section("stop, start, terminate")
    r = ec2.stop_instances(InstanceIds=[IB])
    check_out("StopInstances", ec2, "StopInstances", r)
    ch = r["StoppingInstances"][0]
    eq("StopInstances previous", ch["PreviousState"], {"Code": 16, "Name": "running"})
    ok("StopInstances current", ch["CurrentState"]["Name"] in ("stopping", "stopped"), ch)
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[IB], WaiterConfig=FAST)
    ok("waiter instance_stopped", True)
    r = ec2.start_instances(InstanceIds=[IB])
    check_out("StartInstances", ec2, "StartInstances", r)
    ch = r["StartingInstances"][0]
    eq("StartInstances previous", ch["PreviousState"], {"Code": 80, "Name": "stopped"})
    ok("StartInstances current", ch["CurrentState"]["Name"] in ("pending", "running"), ch)
    ec2.get_waiter("instance_running").wait(InstanceIds=[IB], WaiterConfig=FAST)

    # ------------------------------------------------------------- route to ENI
    r = ec2.create_route(RouteTableId=RTB, DestinationCidrBlock="192.168.0.0/16", NetworkInterfaceId=DATA_ENI)
    eq("CreateRoute to ENI", r["Return"], True)
    expect_error("ReplaceRoute to an instance with two ENIs", "InvalidInstanceID", ec2.replace_route,
                 RouteTableId=RTB, DestinationCidrBlock="192.168.0.0/16", InstanceId=IC)
    r = ec2.replace_route(RouteTableId=RTB, DestinationCidrBlock="192.168.0.0/16", InstanceId=IA)
    eq("ReplaceRoute to instance", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    rt = ec2.describe_route_tables(RouteTableIds=[RTB])["RouteTables"][0]
    rr = [x for x in rt["Routes"] if x.get("DestinationCidrBlock") == "192.168.0.0/16"]
    eq("route to instance", [(x.get("InstanceId"), x.get("NetworkInterfaceId")) for x in rr], [(IA, pn["NetworkInterfaceId"])])
    r = ec2.delete_route(RouteTableId=RTB, DestinationCidrBlock="192.168.0.0/16")
    eq("DeleteRoute", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    r = ec2.disassociate_route_table(AssociationId=RTBASSOC)
    eq("DisassociateRouteTable", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    ec2.delete_route(RouteTableId=RTB, DestinationCidrBlock="0.0.0.0/0")

    # ------------------------------------------------------- known differences
    section("known differences (notes)")
    r = ec2.describe_instance_attribute(InstanceId=IA, Attribute="instanceType")
    note("DescribeInstanceAttribute returns only the attribute asked for", set(r) - {"ResponseMetadata"} == {"InstanceId", "InstanceType"},
         sorted(set(r) - {"ResponseMetadata"}))
    r = ec2.describe_network_interface_attribute(NetworkInterfaceId=ENI, Attribute="description")
    note("DescribeNetworkInterfaceAttribute returns only the attribute asked for", set(r) - {"ResponseMetadata"} == {"NetworkInterfaceId", "Description"},
         sorted(set(r) - {"ResponseMetadata"}))
    try:
        ec2.describe_network_interface_attribute(NetworkInterfaceId=ENI, Attribute="associatePublicIpAddress")
        note("attribute associatePublicIpAddress", True)
    except ClientError as e:
        note("attribute associatePublicIpAddress (newer than the server's model)", False, e.response["Error"]["Code"])
    it = ec2.describe_instance_types(InstanceTypes=["m5.large"])["InstanceTypes"][0]
    note("DescribeInstanceTypes has VCpuInfo and MemoryInfo", "VCpuInfo" in it and "MemoryInfo" in it, "absent (no data in the compiled table)")

    # ---------------------------------------------------------------- terminate
    r = ec2.terminate_instances(InstanceIds=[IA, IB, IC])
    check_out("TerminateInstances", ec2, "TerminateInstances", r)
    eq("TerminateInstances count", len(r["TerminatingInstances"]), 3)
    ok("TerminateInstances states", all(x["CurrentState"]["Name"] in ("shutting-down", "terminated") for x in r["TerminatingInstances"]), r["TerminatingInstances"])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[IA, IB, IC], WaiterConfig=FAST)
    ok("waiter instance_terminated", True)
    expect_error("primary ENI deleted with instance", "InvalidNetworkInterfaceID.NotFound", ec2.describe_network_interfaces, NetworkInterfaceIds=[pn["NetworkInterfaceId"]])
    d = ec2.describe_network_interfaces(NetworkInterfaceIds=[DATA_ENI])["NetworkInterfaces"][0]
    eq("DeleteOnTermination=false ENI survives, available", d["Status"], "available")
    cleanup[:] = [c for c in cleanup if not c[0].startswith("terminate")]


def resources(cleanup):
    """The boto3 resource layer: its loads, collections and actions are
    JMESPath paths and filters over the same replies."""
    section("boto3 resources")
    res = boto3.resource("ec2", endpoint_url=ENDPOINT, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                         aws_secret_access_key=SECRET_KEY, config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    res.meta.client.meta.events.register("after-call.ec2", wire_hook)
    vpc = res.create_vpc(CidrBlock="10.88.0.0/16")
    cleanup.append(("resource vpc", vpc.delete))
    vpc.wait_until_available(WaiterConfig=FAST)
    eq("Vpc attributes", (vpc.state, vpc.is_default, vpc.cidr_block), ("available", False, "10.88.0.0/16"))
    sn = vpc.create_subnet(CidrBlock="10.88.1.0/24")
    cleanup.append(("resource subnet", sn.delete))
    eq("Subnet.available_ip_address_count", sn.available_ip_address_count, 251)
    igw = res.create_internet_gateway()
    cleanup.append(("resource igw", igw.delete))
    vpc.attach_internet_gateway(InternetGatewayId=igw.id)
    cleanup.append(("resource igw detach", lambda: vpc.detach_internet_gateway(InternetGatewayId=igw.id)))
    eq("vpc.internet_gateways", [g.id for g in vpc.internet_gateways.all()], [igw.id])
    sg = vpc.create_security_group(GroupName="res", Description="resource sg")
    cleanup.append(("resource sg", sg.delete))
    sg.authorize_ingress(IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    sg.reload()
    eq("SecurityGroup.ip_permissions", [(x["IpProtocol"], x["FromPort"]) for x in sg.ip_permissions], [("tcp", 80)])
    eni = sn.create_network_interface(Groups=[sg.id], Description="resource eni")
    cleanup.append(("resource eni", eni.delete))
    eq("NetworkInterface attributes", (eni.status, eni.description, eni.subnet_id, eni.tag_set), ("available", "resource eni", sn.id, []))
    eni.create_tags(Tags=[{"Key": "k", "Value": "v"}])
    eni.reload()
    eq("NetworkInterface.tag_set after create_tags", eni.tag_set, [{"Key": "k", "Value": "v"}])
    inst = res.create_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=sn.id)[0]
    cleanup.append(("terminate resource instance", inst.terminate))
    inst.wait_until_running(WaiterConfig=FAST)
    inst.reload()
    eq("Instance.state", inst.state, {"Code": 16, "Name": "running"})
    eq("Instance.network_interfaces", len(list(inst.network_interfaces)), 1)
    att = eni.attach(InstanceId=inst.id, DeviceIndex=1)
    ok("NetworkInterface.attach", att.get("AttachmentId", "").startswith("eni-attach-"), att)
    eni.reload()
    eq("NetworkInterface.attachment", (eni.attachment["Status"], eni.attachment["InstanceId"]), ("attached", inst.id))
    eq("vpc.network_interfaces", len(list(vpc.network_interfaces.all())), 2)
    eq("subnet.instances", [x.id for x in sn.instances.all()], [inst.id])
    alloc = res.meta.client.allocate_address(Domain="vpc")["AllocationId"]
    addr = res.VpcAddress(alloc)
    cleanup.append(("resource eip", addr.release))
    addr.load()
    eq("VpcAddress.domain", addr.domain, "vpc")
    assoc = addr.associate(NetworkInterfaceId=eni.id)["AssociationId"]
    na = res.NetworkInterfaceAssociation(assoc)
    na.load()  # DescribeNetworkInterfaces, filter association.association-id
    eq("NetworkInterfaceAssociation.public_ip", na.public_ip, addr.public_ip)
    eq("instance.vpc_addresses", [a.allocation_id for a in inst.vpc_addresses.all()], [alloc])
    na.delete()
    eni.detach(Force=True)
    eni.reload()
    ok("NetworkInterface.detach", eni.status in ("available", "detaching"), eni.status)
    inst.terminate()
    inst.wait_until_terminated(WaiterConfig=FAST)
    ok("Instance.wait_until_terminated", True)


def cleanup_all(cleanup):
    # instances first (they hold ENIs, addresses and groups), then the rest
    # in reverse order of creation
    order = [c for c in cleanup if c[0].startswith("terminate")] + [c for c in reversed(cleanup) if not c[0].startswith("terminate")]
    for desc, fn in order:
        try:
            fn()
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if code.endswith(".NotFound") or (desc == "detach igw" and code == "Gateway.NotAttached"):
                continue
            ok("cleanup: " + desc, False, "%s: %s" % (code, e.response["Error"]["Message"]))
            continue
        ok("cleanup: " + desc, True)


def main():
    print("boto3 %s / botocore %s against %s (%s)" % (boto3.__version__, botocore.__version__, ENDPOINT, REGION))
    ec2 = client()
    cleanup = []
    try:
        run(ec2, cleanup)
        resources(cleanup)
    except (ClientError, WaiterError, botocore.exceptions.BotoCoreError, KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
        ok("script ran to the end", False, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    else:
        ok("script ran to the end", True)
    cleanup_all(cleanup)
    ok("every reply matches botocore's model on the wire (%d replies)" % wire_checked[0], not wire_problems,
       "\n  " + "\n  ".join(sorted(set(wire_problems))[:60]))
    for n in notes:
        print(n)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
