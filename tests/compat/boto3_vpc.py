#!/usr/bin/env python3
"""boto3 session of the rest of the VPC that IaC reads and writes (issue 10, item 2).

Usage: boto3_vpc.py [ENDPOINT_URL] [REGION]   (as boto3_smoke.py)

DHCP options sets (the region's default set, create, filters, associate,
"default", delete), egress-only internet gateways and their IPv6 routes,
subnet IPv6 blocks (associate, disassociate), IPv6-only subnets, every VPC
and subnet attribute read back after a modify (as Terraform's provider polls
them), and the default VPC deleted and made again (CreateDefaultVpc,
CreateDefaultSubnet). Every reply is checked on the wire against botocore's
model by boto3_smoke's hook. It prints "N passed, M failed" last and exits 1
if anything failed.
"""

import sys
import traceback

import boto3_smoke as s  # the checks, the wire hook and the client (exits 3 without boto3)
from boto3_smoke import ClientError, WaiterError, botocore, ok, eq, expect_error, section


def flt(name, *values):
    return {"Name": name, "Values": list(values)}


def dhcp_options(ec2, cleanup, vpc):
    section("DHCP options sets")
    default = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"]
    d = ec2.describe_dhcp_options(DhcpOptionsIds=[default])["DhcpOptions"][0]
    conf = {c["Key"]: [v["Value"] for v in c["Values"]] for c in d["DhcpConfigurations"]}
    domain = "ec2.internal" if s.REGION == "us-east-1" else s.REGION + ".compute.internal"
    eq("default set", conf, {"domain-name": [domain], "domain-name-servers": ["AmazonProvidedDNS"]})
    c = ec2.create_dhcp_options(DhcpConfigurations=[{"Key": "domain-name", "Values": ["corp.example"]},
                                                    {"Key": "domain-name-servers", "Values": ["10.0.0.2"]}],
                                TagSpecifications=[{"ResourceType": "dhcp-options", "Tags": [{"Key": "Name", "Value": "corp"}]}])
    s.check_out("create_dhcp_options", ec2, "CreateDhcpOptions", c)
    did = c["DhcpOptions"]["DhcpOptionsId"]
    cleanup.append(("delete dhcp options", lambda: ec2.delete_dhcp_options(DhcpOptionsId=did)))
    got = ec2.describe_dhcp_options(Filters=[flt("key", "domain-name"), flt("value", "corp.*")])["DhcpOptions"]
    eq("filters key and value", [x["DhcpOptionsId"] for x in got], [did])
    ec2.associate_dhcp_options(DhcpOptionsId=did, VpcId=vpc)
    eq("associated", ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"], did)
    expect_error("delete in use", "DependencyViolation", ec2.delete_dhcp_options, DhcpOptionsId=did)
    ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vpc)
    eq("default: no set", ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"], "default")
    ec2.delete_dhcp_options(DhcpOptionsId=did)
    expect_error("deleted set", "InvalidDhcpOptionID.NotFound", ec2.describe_dhcp_options, DhcpOptionsIds=[did])
    expect_error("unknown option", "InvalidParameterValue", ec2.create_dhcp_options,
                 DhcpConfigurations=[{"Key": "routers", "Values": ["10.0.0.1"]}])


def egress_only(ec2, cleanup, vpc, rtb):
    section("egress-only internet gateways")
    g = ec2.create_egress_only_internet_gateway(VpcId=vpc)
    s.check_out("create_egress_only_internet_gateway", ec2, "CreateEgressOnlyInternetGateway", g)
    gid = g["EgressOnlyInternetGateway"]["EgressOnlyInternetGatewayId"]
    cleanup.append(("delete eigw", lambda: ec2.delete_egress_only_internet_gateway(EgressOnlyInternetGatewayId=gid)))
    eq("attached", g["EgressOnlyInternetGateway"]["Attachments"], [{"State": "attached", "VpcId": vpc}])
    got = ec2.describe_egress_only_internet_gateways(EgressOnlyInternetGatewayIds=[gid])
    s.check_out("describe_egress_only_internet_gateways", ec2, "DescribeEgressOnlyInternetGateways", got)
    ec2.create_route(RouteTableId=rtb, DestinationIpv6CidrBlock="::/0", EgressOnlyInternetGatewayId=gid)
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
    r = [x for x in routes if x.get("DestinationIpv6CidrBlock") == "::/0"]
    eq("route to the gateway", [(x.get("EgressOnlyInternetGatewayId"), x["State"]) for x in r], [(gid, "active")])
    expect_error("IPv4 route to it", "InvalidParameterValue", ec2.create_route, RouteTableId=rtb,
                 DestinationCidrBlock="0.0.0.0/0", EgressOnlyInternetGatewayId=gid)
    ec2.delete_route(RouteTableId=rtb, DestinationIpv6CidrBlock="::/0")
    d = ec2.delete_egress_only_internet_gateway(EgressOnlyInternetGatewayId=gid)
    eq("delete reply", d["ReturnCode"], True)


def subnet_blocks(ec2, cleanup, vpc, block56):
    section("subnet IPv6 blocks, IPv6-only subnets")
    base = block56[:-len("00::/56")]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.90.1.0/24")["Subnet"]["SubnetId"]
    cleanup.append(("delete v6 subnet", lambda: ec2.delete_subnet(SubnetId=sub)))
    a = ec2.associate_subnet_cidr_block(SubnetId=sub, Ipv6CidrBlock=base + "01::/64")
    s.check_out("associate_subnet_cidr_block", ec2, "AssociateSubnetCidrBlock", a)
    eq("associating", a["Ipv6CidrBlockAssociation"]["Ipv6CidrBlockState"]["State"], "associating")
    got = ec2.describe_subnets(SubnetIds=[sub])["Subnets"][0]["Ipv6CidrBlockAssociationSet"]
    eq("associated", [x["Ipv6CidrBlockState"]["State"] for x in got], ["associated"])
    d = ec2.disassociate_subnet_cidr_block(AssociationId=a["Ipv6CidrBlockAssociation"]["AssociationId"])
    s.check_out("disassociate_subnet_cidr_block", ec2, "DisassociateSubnetCidrBlock", d)
    got = ec2.describe_subnets(SubnetIds=[sub])["Subnets"][0]["Ipv6CidrBlockAssociationSet"]
    eq("disassociated", [x["Ipv6CidrBlockState"]["State"] for x in got], ["disassociated"])
    only = ec2.create_subnet(VpcId=vpc, Ipv6Native=True, Ipv6CidrBlock=base + "02::/64")["Subnet"]
    cleanup.append(("delete v6-only subnet", lambda: ec2.delete_subnet(SubnetId=only["SubnetId"])))
    eq("IPv6-only subnet", ("CidrBlock" in only, only["Ipv6Native"], only["AssignIpv6AddressOnCreation"]), (False, True, True))
    e = ec2.create_network_interface(SubnetId=only["SubnetId"])["NetworkInterface"]
    cleanup.append(("delete v6-only eni", lambda: ec2.delete_network_interface(NetworkInterfaceId=e["NetworkInterfaceId"])))
    eq("ENI with IPv6 only", ("PrivateIpAddress" in e, len(e["Ipv6Addresses"])), (False, 1))


def attributes(ec2, vpc):
    section("VPC and subnet attributes read back after a modify")
    for attr, key in [("enableNetworkAddressUsageMetrics", "EnableNetworkAddressUsageMetrics"),
                      ("enableDnsHostnames", "EnableDnsHostnames")]:
        ec2.modify_vpc_attribute(VpcId=vpc, **{key: {"Value": True}})
        r = ec2.describe_vpc_attribute(VpcId=vpc, Attribute=attr)
        s.check_out("describe_vpc_attribute", ec2, "DescribeVpcAttribute", r)
        eq(attr, r[key]["Value"], True)
    expect_error("two attributes", "InvalidParameterCombination", ec2.modify_vpc_attribute, VpcId=vpc,
                 EnableDnsSupport={"Value": True}, EnableDnsHostnames={"Value": True})


def default_vpc(ec2):
    section("the default VPC deleted and made again")
    expect_error("one default VPC", "DefaultVpcAlreadyExists", ec2.create_default_vpc)
    vpc = ec2.describe_vpcs(Filters=[flt("is-default", "true")])["Vpcs"][0]["VpcId"]
    for sn in ec2.describe_subnets(Filters=[flt("vpc-id", vpc)])["Subnets"]:
        ec2.delete_subnet(SubnetId=sn["SubnetId"])
    for g in ec2.describe_internet_gateways(Filters=[flt("attachment.vpc-id", vpc)])["InternetGateways"]:
        ec2.detach_internet_gateway(InternetGatewayId=g["InternetGatewayId"], VpcId=vpc)
        ec2.delete_internet_gateway(InternetGatewayId=g["InternetGatewayId"])
    ec2.delete_vpc(VpcId=vpc)
    expect_error("no default VPC", "DefaultVpcDoesNotExist", ec2.create_default_subnet, AvailabilityZone=s.REGION + "a")
    r = ec2.create_default_vpc()
    s.check_out("create_default_vpc", ec2, "CreateDefaultVpc", r)
    new = r["Vpc"]["VpcId"]
    eq("default VPC", (r["Vpc"]["CidrBlock"], r["Vpc"]["IsDefault"]), ("172.31.0.0/16", True))
    subnets = ec2.describe_subnets(Filters=[flt("vpc-id", new), flt("default-for-az", "true")])["Subnets"]
    ok("a default subnet per zone", len(subnets) >= 2, subnets)
    gone = subnets[0]
    ec2.delete_subnet(SubnetId=gone["SubnetId"])
    r = ec2.create_default_subnet(AvailabilityZone=gone["AvailabilityZone"])
    s.check_out("create_default_subnet", ec2, "CreateDefaultSubnet", r)
    eq("default subnet again", (r["Subnet"]["CidrBlock"], r["Subnet"]["DefaultForAz"], r["Subnet"]["MapPublicIpOnLaunch"]),
       (gone["CidrBlock"], True, True))
    expect_error("one per zone", "DefaultSubnetAlreadyExistsInAvailabilityZone", ec2.create_default_subnet,
                 AvailabilityZone=gone["AvailabilityZone"])


def run(ec2, cleanup):
    v = ec2.create_vpc(CidrBlock="10.90.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    vpc = v["VpcId"]
    cleanup.append(("delete vpc", lambda: ec2.delete_vpc(VpcId=vpc)))
    rtb = ec2.describe_route_tables(Filters=[flt("vpc-id", vpc)])["RouteTables"][0]["RouteTableId"]
    dhcp_options(ec2, cleanup, vpc)
    egress_only(ec2, cleanup, vpc, rtb)
    subnet_blocks(ec2, cleanup, vpc, v["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    attributes(ec2, vpc)
    default_vpc(ec2)


def main():
    print("boto3 VPC session against %s (%s)" % (s.ENDPOINT, s.REGION))
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
