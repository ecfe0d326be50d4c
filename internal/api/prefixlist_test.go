package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

func plEntries(t *testing.T, c *ec2.Client, id string, version *int64) []string {
	t.Helper()
	out, err := c.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(id), TargetVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range out.Entries {
		got = append(got, aws.ToString(e.Cidr)+"="+aws.ToString(e.Description))
	}
	return got
}

func plDescribe(t *testing.T, c *ec2.Client, id string) types.ManagedPrefixList {
	t.Helper()
	out, err := c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{id}})
	if err != nil || len(out.PrefixLists) != 1 {
		t.Fatalf("DescribeManagedPrefixLists %s: %+v %v", id, out, err)
	}
	return out.PrefixLists[0]
}

// A customer list: created at version 1, modified to new versions (entries)
// with AWS's version check, resized, restored, described and deleted; each
// transitional state settles at once.
func TestManagedPrefixListLifecycle(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	out, err := c.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("office"), AddressFamily: aws.String("IPv4"),
		MaxEntries: aws.Int32(3), Entries: []types.AddPrefixListEntry{{Cidr: aws.String("198.51.100.7/24"), Description: aws.String("hq")}},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypePrefixList, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	pl := out.PrefixList
	id := aws.ToString(pl.PrefixListId)
	if !strings.HasPrefix(id, "pl-") || pl.State != types.PrefixListStateCreateInProgress || aws.ToInt64(pl.Version) != 1 || aws.ToString(pl.OwnerId) != "123456789012" ||
		aws.ToString(pl.PrefixListArn) != "arn:aws:ec2:us-east-1:123456789012:prefix-list/"+id || len(pl.Tags) != 1 {
		t.Fatalf("created %+v", pl)
	}
	if got := plDescribe(t, c, id); got.State != types.PrefixListStateCreateComplete || aws.ToInt32(got.MaxEntries) != 3 {
		t.Errorf("described %+v", got)
	}
	if got := plEntries(t, c, id, nil); !slices.Equal(got, []string{"198.51.100.0/24=hq"}) {
		t.Errorf("entries %v", got)
	}

	mod, err := c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id), CurrentVersion: aws.Int64(1),
		AddEntries: []types.AddPrefixListEntry{{Cidr: aws.String("203.0.113.0/24")}}, RemoveEntries: []types.RemovePrefixListEntry{{Cidr: aws.String("198.51.100.0/24")}}})
	if err != nil {
		t.Fatal(err)
	}
	if mod.PrefixList.State != types.PrefixListStateModifyInProgress || aws.ToInt64(mod.PrefixList.Version) != 2 {
		t.Errorf("modify reply %+v", mod.PrefixList)
	}
	if got := plDescribe(t, c, id); got.State != types.PrefixListStateModifyComplete {
		t.Errorf("after modify %+v", got.State)
	}
	if got := plEntries(t, c, id, aws.Int64(1)); !slices.Equal(got, []string{"198.51.100.0/24=hq"}) {
		t.Errorf("version 1 %v", got)
	}
	_, err = c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id), CurrentVersion: aws.Int64(1),
		AddEntries: []types.AddPrefixListEntry{{Cidr: aws.String("192.0.2.0/24")}}})
	aclWant(t, err, "PrefixListVersionMismatch", "The prefix list has the incorrect version number.")
	_, err = c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id),
		AddEntries: []types.AddPrefixListEntry{{Cidr: aws.String("2001:db8::/32")}}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id), MaxEntries: aws.Int32(5),
		AddEntries: []types.AddPrefixListEntry{{Cidr: aws.String("192.0.2.0/24")}}})
	apitest.WantCode(t, err, "InvalidParameterCombination")
	_, err = c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id),
		AddEntries: []types.AddPrefixListEntry{{Cidr: aws.String("192.0.2.0/24")}, {Cidr: aws.String("192.0.3.0/24")}, {Cidr: aws.String("192.0.4.0/24")}}})
	apitest.WantCode(t, err, "InvalidParameterValue") // more than MaxEntries
	if _, err := c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id), MaxEntries: aws.Int32(10), PrefixListName: aws.String("offices")}); err != nil {
		t.Fatal(err)
	}
	if got := plDescribe(t, c, id); aws.ToInt32(got.MaxEntries) != 10 || aws.ToString(got.PrefixListName) != "offices" || aws.ToInt64(got.Version) != 2 {
		t.Errorf("after resize %+v", got)
	}
	rest, err := c.RestoreManagedPrefixListVersion(ctx, &ec2.RestoreManagedPrefixListVersionInput{PrefixListId: aws.String(id), CurrentVersion: aws.Int64(2), PreviousVersion: aws.Int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	if rest.PrefixList.State != types.PrefixListStateRestoreInProgress || aws.ToInt64(rest.PrefixList.Version) != 3 || !slices.Equal(plEntries(t, c, id, nil), []string{"198.51.100.0/24=hq"}) {
		t.Errorf("restored %+v %v", rest.PrefixList, plEntries(t, c, id, nil))
	}

	// Filters, names and errors.
	for _, f := range []types.Filter{filter("prefix-list-name", "offices"), filter("owner-id", "123456789012"), filter("prefix-list-id", id), filter("tag:team", "net")} {
		got, err := c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{Filters: []types.Filter{f}})
		if err != nil || len(got.PrefixLists) != 1 {
			t.Errorf("filter %s: %+v %v", *f.Name, got, err)
		}
	}
	_, err = c.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("com.amazonaws.mine"), AddressFamily: aws.String("IPv4"), MaxEntries: aws.Int32(1)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("x"), AddressFamily: aws.String("IPv4"), MaxEntries: aws.Int32(1001)})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{"pl-0123456789abcdef0"}})
	aclWant(t, err, "InvalidPrefixListID.NotFound", "The prefix list ID 'pl-0123456789abcdef0' does not exist")

	if _, err := c.DeleteManagedPrefixList(ctx, &ec2.DeleteManagedPrefixListInput{PrefixListId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(id)})
	apitest.WantCode(t, err, "InvalidPrefixListID.NotFound")
}

// The region's AWS-managed lists: owner AWS, AWS's names, not modifiable;
// DescribePrefixLists shows the gateway endpoint services'.
func TestAWSManagedPrefixLists(t *testing.T) {
	e := apitest.New(t)
	c := e.Client("eu-west-1")
	out, err := c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{Filters: []types.Filter{filter("owner-id", "AWS")}})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, l := range out.PrefixLists {
		names[aws.ToString(l.PrefixListName)] = aws.ToString(l.PrefixListId)
		if l.State != types.PrefixListStateCreateComplete || !strings.HasPrefix(aws.ToString(l.PrefixListArn), "arn:aws:ec2:eu-west-1:aws:prefix-list/pl-") {
			t.Errorf("AWS list %+v", l)
		}
	}
	for _, n := range []string{"com.amazonaws.eu-west-1.s3", "com.amazonaws.eu-west-1.dynamodb", "com.amazonaws.eu-west-1.ec2-instance-connect", "com.amazonaws.global.cloudfront.origin-facing"} {
		if names[n] == "" {
			t.Errorf("no AWS-managed list %s in %v", n, names)
		}
	}
	s3 := names["com.amazonaws.eu-west-1.s3"]
	_, err = c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(s3), PrefixListName: aws.String("mine")})
	apitest.WantCode(t, err, "InvalidPrefixListModification")
	_, err = c.DeleteManagedPrefixList(ctx, &ec2.DeleteManagedPrefixListInput{PrefixListId: aws.String(s3)})
	apitest.WantCode(t, err, "InvalidPrefixListModification")
	old, err := c.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{})
	if err != nil || len(old.PrefixLists) != 2 {
		t.Fatalf("DescribePrefixLists %+v %v", old, err)
	}
	if other, _ := e.Client("us-east-1").DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{}); other == nil || slices.ContainsFunc(other.PrefixLists, func(l types.PrefixList) bool { return aws.ToString(l.PrefixListId) == s3 }) {
		t.Errorf("us-east-1 shares eu-west-1's list ids: %+v", other)
	}
}

// Prefix lists in security group rules (counted by max entries or weight
// against the rules quota) and as route destinations; references keep a
// list from being deleted and are listed as its associations.
func TestPrefixListReferences(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	vpc := *subnetVPC(t, c, "10.8.0.0/16", false).VpcId
	igw := subnetIGW(t, c, vpc)
	sg := sgCreate(t, c, "pl", vpc)
	big, err := c.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("big"), AddressFamily: aws.String("IPv4"), MaxEntries: aws.Int32(59),
		Entries: []types.AddPrefixListEntry{{Cidr: aws.String("192.0.2.0/24")}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(big.PrefixList.PrefixListId)
	perm := func(pl string) []types.IpPermission {
		return []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), PrefixListIds: []types.PrefixListId{{PrefixListId: aws.String(pl)}}}}
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg), IpPermissions: perm(id)}); err != nil {
		t.Fatal(err)
	}
	// 59 (the list's max entries) + 1 rule more is the quota of 60; one more is too many.
	one := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg), IpPermissions: one}); err != nil {
		t.Fatal(err)
	}
	one[0].IpRanges[0].CidrIp = aws.String("10.1.0.0/16")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg), IpPermissions: one})
	apitest.WantCode(t, err, "RulesPerSecurityGroupLimitExceeded")
	_, err = c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: aws.String(id), MaxEntries: aws.Int32(60)})
	apitest.WantCode(t, err, "RulesPerSecurityGroupLimitExceeded")
	_, err = c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(sg), IpPermissions: perm("pl-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidPrefixListID.NotFound")

	// The data plane sees the list's entries as the rule's peers.
	found := false
	for _, g := range e.Core.HostView("us-east-1").Groups {
		for _, r := range g.Ingress {
			found = found || g.ID == sg && r.FromPort == 443 && slices.Equal(r.CIDRs, []string{"192.0.2.0/24"})
		}
	}
	if !found {
		t.Error("the data plane's view lacks the prefix list rule's CIDRs")
	}

	// A route to the list.
	rtb := rtbNew(t, c, vpc)
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationPrefixListId: aws.String(id), GatewayId: aws.String(igw)}); err != nil {
		t.Fatal(err)
	}
	if r := rtbRoute(t, c, rtb, id); aws.ToString(r.GatewayId) != igw || r.State != types.RouteStateActive || r.DestinationCidrBlock != nil {
		t.Errorf("route to the list %+v", r)
	}
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationPrefixListId: aws.String(id), GatewayId: aws.String(igw)})
	aclWant(t, err, "RouteAlreadyExists", fmt.Sprintf("The route identified by %s already exists.", id))
	if f, _ := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("route.destination-prefix-list-id", id)}}); len(f.RouteTables) != 1 {
		t.Errorf("route.destination-prefix-list-id filter: %+v", f.RouteTables)
	}

	as, err := c.GetManagedPrefixListAssociations(ctx, &ec2.GetManagedPrefixListAssociationsInput{PrefixListId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range as.PrefixListAssociations {
		got = append(got, aws.ToString(a.ResourceId))
	}
	slices.Sort(got)
	if want := []string{rtb, sg}; !slices.Equal(got, want) {
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("associations %v, want %v", got, want)
		}
	}
	_, err = c.DeleteManagedPrefixList(ctx, &ec2.DeleteManagedPrefixListInput{PrefixListId: aws.String(id)})
	apitest.WantCode(t, err, "DependencyViolation")
	if _, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(rtb), DestinationPrefixListId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(sg), IpPermissions: perm(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteManagedPrefixList(ctx, &ec2.DeleteManagedPrefixListInput{PrefixListId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if errs := e.Core.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
