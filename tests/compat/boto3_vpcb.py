#!/usr/bin/env python3
"""boto3 session of network ACLs, route table associations, managed prefix
lists and security group rule changes (issue 10, item 2).

Usage: boto3_vpcb.py [ENDPOINT_URL] [REGION]   (as boto3_smoke.py)

The default ACL of a new VPC and its subnet's association, a custom ACL with
entries, ReplaceNetworkAclAssociation and back; a gateway route table, the
local route to an interface and back, the main association moved; a
customer prefix list through its versions, referenced by a rule and a
route, the region's AWS-managed lists; ModifySecurityGroupRules and the
rule description updates. Every reply is checked on the wire against
botocore's model by boto3_smoke's hook. It prints "N passed, M failed" last
and exits 1 if anything failed.
"""

import sys
import traceback

import boto3_smoke as s  # the checks, the wire hook and the client (exits 3 without boto3)
from boto3_smoke import ClientError, WaiterError, botocore, ok, eq, expect_error, section


def flt(name, *values):
    return {"Name": name, "Values": list(values)}


def acls(ec2, cleanup, vpc, sub):
    section("network ACLs")
    d = ec2.describe_network_acls(Filters=[flt("vpc-id", vpc), flt("default", "true")])
    s.check_out("describe_network_acls", ec2, "DescribeNetworkAcls", d)
    default = d["NetworkAcls"][0]
    eq("default entries", sorted((e["RuleNumber"], e["Egress"], e["RuleAction"]) for e in default["Entries"]),
       [(100, False, "allow"), (100, True, "allow"), (32767, False, "deny"), (32767, True, "deny")])
    assoc = [a for a in default["Associations"] if a["SubnetId"] == sub]
    eq("subnet on the default ACL", len(assoc), 1)
    c = ec2.create_network_acl(VpcId=vpc, TagSpecifications=[{"ResourceType": "network-acl", "Tags": [{"Key": "Name", "Value": "web"}]}])
    s.check_out("create_network_acl", ec2, "CreateNetworkAcl", c)
    acl = c["NetworkAcl"]["NetworkAclId"]
    cleanup.append(("delete acl", lambda: ec2.delete_network_acl(NetworkAclId=acl)))
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
                                 CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443})
    expect_error("same rule number", "NetworkAclEntryAlreadyExists", ec2.create_network_acl_entry, NetworkAclId=acl, RuleNumber=100,
                 Protocol="-1", RuleAction="deny", Egress=False, CidrBlock="10.0.0.0/8")
    ec2.replace_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
                                  CidrBlock="0.0.0.0/0", PortRange={"From": 80, "To": 443})
    r = ec2.replace_network_acl_association(AssociationId=assoc[0]["NetworkAclAssociationId"], NetworkAclId=acl)
    s.check_out("replace_network_acl_association", ec2, "ReplaceNetworkAclAssociation", r)
    expect_error("delete while associated", "DependencyViolation", ec2.delete_network_acl, NetworkAclId=acl)
    expect_error("delete the default", "InvalidParameterValue", ec2.delete_network_acl, NetworkAclId=default["NetworkAclId"])
    ec2.replace_network_acl_association(AssociationId=r["NewAssociationId"], NetworkAclId=default["NetworkAclId"])
    ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Egress=False)
    expect_error("entry gone", "InvalidNetworkAclEntry.NotFound", ec2.delete_network_acl_entry, NetworkAclId=acl, RuleNumber=100, Egress=False)


def route_tables(ec2, cleanup, vpc, sub, eni):
    section("route table associations")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    cleanup.append(("delete igw", lambda: ec2.delete_internet_gateway(InternetGatewayId=igw)))
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    cleanup.append(("detach igw", lambda: ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)))
    edge = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    cleanup.append(("delete edge table", lambda: ec2.delete_route_table(RouteTableId=edge)))
    a = ec2.associate_route_table(RouteTableId=edge, GatewayId=igw)
    s.check_out("associate_route_table", ec2, "AssociateRouteTable", a)
    eq("edge association", a["AssociationState"]["State"], "associated")
    d = ec2.describe_route_tables(Filters=[flt("association.gateway-id", igw)])
    s.check_out("describe_route_tables", ec2, "DescribeRouteTables", d)
    eq("gateway table", [t["RouteTableId"] for t in d["RouteTables"]], [edge])
    ec2.disassociate_route_table(AssociationId=a["AssociationId"])
    ec2.replace_route(RouteTableId=edge, DestinationCidrBlock="10.91.0.0/16", NetworkInterfaceId=eni)
    routes = ec2.describe_route_tables(RouteTableIds=[edge])["RouteTables"][0]["Routes"]
    eq("local route to the interface", [(x.get("NetworkInterfaceId"), x["Origin"]) for x in routes if x.get("DestinationCidrBlock") == "10.91.0.0/16"],
       [(eni, "CreateRouteTable")])
    ec2.replace_route(RouteTableId=edge, DestinationCidrBlock="10.91.0.0/16", LocalTarget=True)
    main = ec2.describe_route_tables(Filters=[flt("vpc-id", vpc), flt("association.main", "true")])["RouteTables"][0]
    massoc = [x for x in main["Associations"] if x["Main"]][0]["RouteTableAssociationId"]
    r = ec2.replace_route_table_association(AssociationId=massoc, RouteTableId=edge)
    s.check_out("replace_route_table_association", ec2, "ReplaceRouteTableAssociation", r)
    now = ec2.describe_route_tables(Filters=[flt("vpc-id", vpc), flt("association.main", "true")])["RouteTables"]
    eq("new main table", [t["RouteTableId"] for t in now], [edge])
    ec2.replace_route_table_association(AssociationId=r["NewAssociationId"], RouteTableId=main["RouteTableId"])


def prefix_lists(ec2, cleanup, vpc, sg):
    section("managed prefix lists")
    c = ec2.create_managed_prefix_list(PrefixListName="office", AddressFamily="IPv4", MaxEntries=5,
                                       Entries=[{"Cidr": "198.51.100.0/24", "Description": "hq"}])
    s.check_out("create_managed_prefix_list", ec2, "CreateManagedPrefixList", c)
    pl = c["PrefixList"]["PrefixListId"]
    cleanup.append(("delete prefix list", lambda: ec2.delete_managed_prefix_list(PrefixListId=pl)))
    d = ec2.describe_managed_prefix_lists(PrefixListIds=[pl])
    s.check_out("describe_managed_prefix_lists", ec2, "DescribeManagedPrefixLists", d)
    eq("settled", d["PrefixLists"][0]["State"], "create-complete")
    m = ec2.modify_managed_prefix_list(PrefixListId=pl, CurrentVersion=1, AddEntries=[{"Cidr": "203.0.113.0/24"}])
    s.check_out("modify_managed_prefix_list", ec2, "ModifyManagedPrefixList", m)
    expect_error("stale version", "PrefixListVersionMismatch", ec2.modify_managed_prefix_list, PrefixListId=pl, CurrentVersion=1,
                 AddEntries=[{"Cidr": "192.0.2.0/24"}])
    e = ec2.get_managed_prefix_list_entries(PrefixListId=pl, TargetVersion=1)
    s.check_out("get_managed_prefix_list_entries", ec2, "GetManagedPrefixListEntries", e)
    eq("version 1", [x["Cidr"] for x in e["Entries"]], ["198.51.100.0/24"])
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                                                     "PrefixListIds": [{"PrefixListId": pl}]}])
    g = ec2.get_managed_prefix_list_associations(PrefixListId=pl)
    s.check_out("get_managed_prefix_list_associations", ec2, "GetManagedPrefixListAssociations", g)
    eq("referenced by the group", [x["ResourceId"] for x in g["PrefixListAssociations"]], [sg])
    expect_error("delete in use", "DependencyViolation", ec2.delete_managed_prefix_list, PrefixListId=pl)
    ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                                                  "PrefixListIds": [{"PrefixListId": pl}]}])
    aws = ec2.describe_managed_prefix_lists(Filters=[flt("owner-id", "AWS")])["PrefixLists"]
    ok("AWS-managed S3 list", any(x["PrefixListName"] == "com.amazonaws.%s.s3" % s.REGION for x in aws), aws)
    old = ec2.describe_prefix_lists()
    s.check_out("describe_prefix_lists", ec2, "DescribePrefixLists", old)
    eq("gateway endpoint lists", len(old["PrefixLists"]), 2)


def rules(ec2, sg):
    section("security group rule changes")
    a = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                                         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    rid = a["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    m = ec2.modify_security_group_rules(GroupId=sg, SecurityGroupRules=[{"SecurityGroupRuleId": rid, "SecurityGroupRule": {
        "IpProtocol": "tcp", "FromPort": 2222, "ToPort": 2222, "CidrIpv4": "10.1.0.0/16", "Description": "ssh"}}])
    s.check_out("modify_security_group_rules", ec2, "ModifySecurityGroupRules", m)
    r = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]
    eq("modified", (r["FromPort"], r["CidrIpv4"], r["Description"]), (2222, "10.1.0.0/16", "ssh"))
    u = ec2.update_security_group_rule_descriptions_ingress(GroupId=sg, SecurityGroupRuleDescriptions=[{"SecurityGroupRuleId": rid, "Description": "bastion"}])
    s.check_out("update_security_group_rule_descriptions_ingress", ec2, "UpdateSecurityGroupRuleDescriptionsIngress", u)
    u = ec2.update_security_group_rule_descriptions_egress(GroupId=sg, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "out"}]}])
    s.check_out("update_security_group_rule_descriptions_egress", ec2, "UpdateSecurityGroupRuleDescriptionsEgress", u)
    eq("descriptions", ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]["Description"], "bastion")
    expect_error("unknown rule", "InvalidSecurityGroupRuleId.NotFound", ec2.modify_security_group_rules, GroupId=sg,
                 SecurityGroupRules=[{"SecurityGroupRuleId": "sgr-0123456789abcdef0", "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "10.0.0.0/8"}}])


def run(ec2, cleanup):
    vpc = ec2.create_vpc(CidrBlock="10.91.0.0/16")["Vpc"]["VpcId"]
    cleanup.append(("delete vpc", lambda: ec2.delete_vpc(VpcId=vpc)))
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.91.1.0/24")["Subnet"]["SubnetId"]
    cleanup.append(("delete subnet", lambda: ec2.delete_subnet(SubnetId=sub)))
    eni = ec2.create_network_interface(SubnetId=sub)["NetworkInterface"]["NetworkInterfaceId"]
    cleanup.append(("delete eni", lambda: ec2.delete_network_interface(NetworkInterfaceId=eni)))
    sg = ec2.create_security_group(VpcId=vpc, GroupName="vpcb", Description="vpcb session")["GroupId"]
    cleanup.append(("delete sg", lambda: ec2.delete_security_group(GroupId=sg)))
    acls(ec2, cleanup, vpc, sub)
    route_tables(ec2, cleanup, vpc, sub, eni)
    prefix_lists(ec2, cleanup, vpc, sg)
    rules(ec2, sg)


def main():
    print("boto3 ACL/route/prefix list session against %s (%s)" % (s.ENDPOINT, s.REGION))
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
