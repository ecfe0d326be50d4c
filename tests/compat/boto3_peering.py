#!/usr/bin/env python3
"""boto3 session of VPC peering (issue 11, item 3).

Usage: boto3_peering.py [ENDPOINT_URL] [REGION]   (as boto3_smoke.py)

Two VPCs peered: requested (botocore's vpc_peering_connection_exists
waiter), described by id and filter, accepted, options modified, routes to
it both ways, a group of the peer VPC referenced and listed by
DescribeSecurityGroupReferences; deleted (the vpc_peering_connection_deleted
waiter), the routes blackholed and the reference stale
(DescribeStaleSecurityGroups); an overlapping request failed; the errors
botocore users match on. Every reply is checked on the wire against
botocore's model by boto3_smoke's hook. It prints "N passed, M failed" last
and exits 1 if anything failed.
"""

import sys
import traceback

import boto3_smoke as s  # the checks, the wire hook and the client (exits 3 without boto3)
from boto3_smoke import ClientError, WaiterError, botocore, ok, eq, expect_error, section

FAST = {"Delay": 1, "MaxAttempts": 30}


def flt(name, *values):
    return {"Name": name, "Values": list(values)}


def vpc_with_table(ec2, cleanup, cidr):
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    cleanup.append(("delete vpc " + cidr, lambda: ec2.delete_vpc(VpcId=vpc)))
    rtb = ec2.describe_route_tables(Filters=[flt("vpc-id", vpc)])["RouteTables"][0]["RouteTableId"]
    return vpc, rtb


def run(ec2, cleanup):
    section("VPC peering")
    a, rtb_a = vpc_with_table(ec2, cleanup, "10.81.0.0/16")
    b, rtb_b = vpc_with_table(ec2, cleanup, "10.82.0.0/16")
    c = ec2.create_vpc_peering_connection(VpcId=a, PeerVpcId=b,
                                          TagSpecifications=[{"ResourceType": "vpc-peering-connection", "Tags": [{"Key": "Name", "Value": "ab"}]}])
    s.check_out("create_vpc_peering_connection", ec2, "CreateVpcPeeringConnection", c)
    pcx = c["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    eq("created", c["VpcPeeringConnection"]["Status"]["Code"], "initiating-request")
    ec2.get_waiter("vpc_peering_connection_exists").wait(VpcPeeringConnectionIds=[pcx], WaiterConfig=FAST)
    d = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])
    s.check_out("describe_vpc_peering_connections", ec2, "DescribeVpcPeeringConnections", d)
    eq("pending", d["VpcPeeringConnections"][0]["Status"]["Code"], "pending-acceptance")
    ok("expiration time", "ExpirationTime" in d["VpcPeeringConnections"][0])
    r = ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    s.check_out("accept_vpc_peering_connection", ec2, "AcceptVpcPeeringConnection", r)
    eq("accepted", r["VpcPeeringConnection"]["Status"]["Code"], "active")
    eq("accepter block", r["VpcPeeringConnection"]["AccepterVpcInfo"]["CidrBlock"], "10.82.0.0/16")
    d = ec2.describe_vpc_peering_connections(Filters=[flt("requester-vpc-info.vpc-id", a), flt("status-code", "active"), flt("tag:Name", "ab")])
    eq("by filters", [x["VpcPeeringConnectionId"] for x in d["VpcPeeringConnections"]], [pcx])
    m = ec2.modify_vpc_peering_connection_options(VpcPeeringConnectionId=pcx, RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
    s.check_out("modify_vpc_peering_connection_options", ec2, "ModifyVpcPeeringConnectionOptions", m)
    eq("dns option", m["RequesterPeeringConnectionOptions"]["AllowDnsResolutionFromRemoteVpc"], True)
    ec2.create_route(RouteTableId=rtb_a, DestinationCidrBlock="10.82.0.0/16", VpcPeeringConnectionId=pcx)
    ec2.create_route(RouteTableId=rtb_b, DestinationCidrBlock="10.81.0.0/16", VpcPeeringConnectionId=pcx)
    t = ec2.describe_route_tables(Filters=[flt("route.vpc-peering-connection-id", pcx)])
    s.check_out("describe_route_tables", ec2, "DescribeRouteTables", t)
    eq("tables routing to it", sorted(x["RouteTableId"] for x in t["RouteTables"]), sorted([rtb_a, rtb_b]))

    ga = ec2.create_security_group(VpcId=a, GroupName="pa", Description="peer a")["GroupId"]
    gb = ec2.create_security_group(VpcId=b, GroupName="pb", Description="peer b")["GroupId"]
    cleanup.append(("delete sg b", lambda: ec2.delete_security_group(GroupId=gb)))
    cleanup.append(("delete sg a", lambda: ec2.delete_security_group(GroupId=ga)))
    ec2.authorize_security_group_ingress(GroupId=gb, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                                                     "UserIdGroupPairs": [{"GroupId": ga}]}])
    g = ec2.describe_security_groups(GroupIds=[gb])
    s.check_out("describe_security_groups", ec2, "DescribeSecurityGroups", g)
    pair = g["SecurityGroups"][0]["IpPermissions"][0]["UserIdGroupPairs"][0]
    eq("peer pair", (pair["GroupId"], pair.get("VpcId"), pair.get("VpcPeeringConnectionId"), pair.get("PeeringStatus")), (ga, a, pcx, "active"))
    refs = ec2.describe_security_group_references(GroupId=[ga])
    s.check_out("describe_security_group_references", ec2, "DescribeSecurityGroupReferences", refs)
    eq("references", [(x["ReferencingVpcId"], x["VpcPeeringConnectionId"]) for x in refs["SecurityGroupReferenceSet"]], [(b, pcx)])

    expect_error("delete a peered VPC", "DependencyViolation", ec2.delete_vpc, VpcId=b)
    x = ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    s.check_out("delete_vpc_peering_connection", ec2, "DeleteVpcPeeringConnection", x)
    ec2.get_waiter("vpc_peering_connection_deleted").wait(VpcPeeringConnectionIds=[pcx], WaiterConfig=FAST)
    routes = ec2.describe_route_tables(RouteTableIds=[rtb_a])["RouteTables"][0]["Routes"]
    eq("route blackholed", [r["State"] for r in routes if r.get("VpcPeeringConnectionId") == pcx], ["blackhole"])
    st = ec2.describe_stale_security_groups(VpcId=b)
    s.check_out("describe_stale_security_groups", ec2, "DescribeStaleSecurityGroups", st)
    eq("stale group", [x["GroupId"] for x in st["StaleSecurityGroupSet"]], [gb])
    ec2.revoke_security_group_ingress(GroupId=gb, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                                                  "UserIdGroupPairs": [{"GroupId": ga}]}])
    for rtb, dest in ((rtb_a, "10.82.0.0/16"), (rtb_b, "10.81.0.0/16")):
        ec2.delete_route(RouteTableId=rtb, DestinationCidrBlock=dest)

    section("peering mistakes")
    o, _ = vpc_with_table(ec2, cleanup, "10.81.128.0/20")
    f = ec2.create_vpc_peering_connection(VpcId=a, PeerVpcId=o)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    st = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[f])["VpcPeeringConnections"][0]["Status"]
    eq("overlap fails", (st["Code"], st["Message"]), ("failed", "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"))
    expect_error("accept failed", "InvalidStateTransition", ec2.accept_vpc_peering_connection, VpcPeeringConnectionId=f)
    expect_error("unknown", "InvalidVpcPeeringConnectionID.NotFound", ec2.describe_vpc_peering_connections, VpcPeeringConnectionIds=["pcx-0123456789abcdef0"])
    expect_error("malformed", "InvalidVpcPeeringConnectionId.Malformed", ec2.delete_vpc_peering_connection, VpcPeeringConnectionId="pcx-nope")
    expect_error("unknown peer VPC", "InvalidVpcID.NotFound", ec2.create_vpc_peering_connection, VpcId=a, PeerVpcId="vpc-0123456789abcdef0")
    p = ec2.get_paginator("describe_vpc_peering_connections")
    eq("paginator", sum(len(pg["VpcPeeringConnections"]) for pg in p.paginate(PaginationConfig={"PageSize": 5})), 2)


def main():
    print("boto3 VPC peering session against %s (%s)" % (s.ENDPOINT, s.REGION))
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
