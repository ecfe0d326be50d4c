package ec2query

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// xmlOutputTypes is every generated output type (TestEncodeCoversOutputTypes
// keeps the list complete).
var xmlOutputTypes = []reflect.Type{
	reflect.TypeFor[ec2wire.DescribeRegionsOutput](),
	reflect.TypeFor[ec2wire.DescribeAvailabilityZonesOutput](),
	reflect.TypeFor[ec2wire.DescribeAccountAttributesOutput](),
	reflect.TypeFor[ec2wire.CreateVpcOutput](),
	reflect.TypeFor[ec2wire.DescribeVpcsOutput](),
	reflect.TypeFor[ec2wire.DeleteVpcOutput](),
	reflect.TypeFor[ec2wire.AssociateVpcCidrBlockOutput](),
	reflect.TypeFor[ec2wire.DisassociateVpcCidrBlockOutput](),
	reflect.TypeFor[ec2wire.DescribeVpcAttributeOutput](),
	reflect.TypeFor[ec2wire.ModifyVpcAttributeOutput](),
	reflect.TypeFor[ec2wire.CreateSubnetOutput](),
	reflect.TypeFor[ec2wire.DescribeSubnetsOutput](),
	reflect.TypeFor[ec2wire.DeleteSubnetOutput](),
	reflect.TypeFor[ec2wire.ModifySubnetAttributeOutput](),
	reflect.TypeFor[ec2wire.CreateSecurityGroupOutput](),
	reflect.TypeFor[ec2wire.DescribeSecurityGroupsOutput](),
	reflect.TypeFor[ec2wire.DeleteSecurityGroupOutput](),
	reflect.TypeFor[ec2wire.AuthorizeSecurityGroupIngressOutput](),
	reflect.TypeFor[ec2wire.AuthorizeSecurityGroupEgressOutput](),
	reflect.TypeFor[ec2wire.RevokeSecurityGroupIngressOutput](),
	reflect.TypeFor[ec2wire.RevokeSecurityGroupEgressOutput](),
	reflect.TypeFor[ec2wire.DescribeSecurityGroupRulesOutput](),
	reflect.TypeFor[ec2wire.CreateInternetGatewayOutput](),
	reflect.TypeFor[ec2wire.AttachInternetGatewayOutput](),
	reflect.TypeFor[ec2wire.DetachInternetGatewayOutput](),
	reflect.TypeFor[ec2wire.DeleteInternetGatewayOutput](),
	reflect.TypeFor[ec2wire.DescribeInternetGatewaysOutput](),
	reflect.TypeFor[ec2wire.CreateRouteTableOutput](),
	reflect.TypeFor[ec2wire.DeleteRouteTableOutput](),
	reflect.TypeFor[ec2wire.DescribeRouteTablesOutput](),
	reflect.TypeFor[ec2wire.CreateRouteOutput](),
	reflect.TypeFor[ec2wire.DeleteRouteOutput](),
	reflect.TypeFor[ec2wire.ReplaceRouteOutput](),
	reflect.TypeFor[ec2wire.AssociateRouteTableOutput](),
	reflect.TypeFor[ec2wire.DisassociateRouteTableOutput](),
	reflect.TypeFor[ec2wire.RunInstancesOutput](),
	reflect.TypeFor[ec2wire.DescribeInstancesOutput](),
	reflect.TypeFor[ec2wire.StopInstancesOutput](),
	reflect.TypeFor[ec2wire.StartInstancesOutput](),
	reflect.TypeFor[ec2wire.TerminateInstancesOutput](),
	reflect.TypeFor[ec2wire.DescribeInstanceTypesOutput](),
	reflect.TypeFor[ec2wire.DescribeImagesOutput](),
	reflect.TypeFor[ec2wire.DescribeInstanceCreditSpecificationsOutput](),
	reflect.TypeFor[ec2wire.DescribeVolumesOutput](),
	reflect.TypeFor[ec2wire.DescribeInstanceAttributeOutput](),
	reflect.TypeFor[ec2wire.ModifyInstanceAttributeOutput](),
	reflect.TypeFor[ec2wire.CreateNetworkInterfaceOutput](),
	reflect.TypeFor[ec2wire.DeleteNetworkInterfaceOutput](),
	reflect.TypeFor[ec2wire.DescribeNetworkInterfacesOutput](),
	reflect.TypeFor[ec2wire.AttachNetworkInterfaceOutput](),
	reflect.TypeFor[ec2wire.DetachNetworkInterfaceOutput](),
	reflect.TypeFor[ec2wire.ModifyNetworkInterfaceAttributeOutput](),
	reflect.TypeFor[ec2wire.ResetNetworkInterfaceAttributeOutput](),
	reflect.TypeFor[ec2wire.DescribeNetworkInterfaceAttributeOutput](),
	reflect.TypeFor[ec2wire.AssignPrivateIpAddressesOutput](),
	reflect.TypeFor[ec2wire.UnassignPrivateIpAddressesOutput](),
	reflect.TypeFor[ec2wire.AssignIpv6AddressesOutput](),
	reflect.TypeFor[ec2wire.UnassignIpv6AddressesOutput](),
	reflect.TypeFor[ec2wire.CreateNetworkInterfacePermissionOutput](),
	reflect.TypeFor[ec2wire.DescribeNetworkInterfacePermissionsOutput](),
	reflect.TypeFor[ec2wire.DeleteNetworkInterfacePermissionOutput](),
	reflect.TypeFor[ec2wire.AllocateAddressOutput](),
	reflect.TypeFor[ec2wire.AssociateAddressOutput](),
	reflect.TypeFor[ec2wire.DisassociateAddressOutput](),
	reflect.TypeFor[ec2wire.ReleaseAddressOutput](),
	reflect.TypeFor[ec2wire.DescribeAddressesOutput](),
	reflect.TypeFor[ec2wire.CreateTagsOutput](),
	reflect.TypeFor[ec2wire.DeleteTagsOutput](),
	reflect.TypeFor[ec2wire.DescribeTagsOutput](),
	reflect.TypeFor[ec2wire.DescribeVpcClassicLinkOutput](),
	reflect.TypeFor[ec2wire.DescribeVpcClassicLinkDnsSupportOutput](),
	reflect.TypeFor[ec2wire.EnableVpcClassicLinkOutput](),
	reflect.TypeFor[ec2wire.DisableVpcClassicLinkOutput](),
	reflect.TypeFor[ec2wire.EnableVpcClassicLinkDnsSupportOutput](),
	reflect.TypeFor[ec2wire.DisableVpcClassicLinkDnsSupportOutput](),
	reflect.TypeFor[ec2wire.AttachClassicLinkVpcOutput](),
	reflect.TypeFor[ec2wire.DetachClassicLinkVpcOutput](),
	reflect.TypeFor[ec2wire.DescribeClassicLinkInstancesOutput](),
	reflect.TypeFor[ec2wire.DescribeInstanceStatusOutput](),
	reflect.TypeFor[ec2wire.DescribeInstanceTypeOfferingsOutput](),
	reflect.TypeFor[ec2wire.RebootInstancesOutput](),
	reflect.TypeFor[ec2wire.CreateKeyPairOutput](),
	reflect.TypeFor[ec2wire.ImportKeyPairOutput](),
	reflect.TypeFor[ec2wire.DescribeKeyPairsOutput](),
	reflect.TypeFor[ec2wire.DeleteKeyPairOutput](),
	reflect.TypeFor[ec2wire.DescribeAddressesAttributeOutput](),
	reflect.TypeFor[ec2wire.ModifyAddressAttributeOutput](),
	reflect.TypeFor[ec2wire.ResetAddressAttributeOutput](),
	reflect.TypeFor[ec2wire.ModifyInstanceMetadataOptionsOutput](),
	reflect.TypeFor[ec2wire.CreateVolumeOutput](),
	reflect.TypeFor[ec2wire.AttachVolumeOutput](),
	reflect.TypeFor[ec2wire.DetachVolumeOutput](),
	reflect.TypeFor[ec2wire.DeleteVolumeOutput](),
	reflect.TypeFor[ec2wire.ModifyVolumeOutput](),
	reflect.TypeFor[ec2wire.DescribeVolumesModificationsOutput](),
	reflect.TypeFor[ec2wire.DescribeVolumeStatusOutput](),
	reflect.TypeFor[ec2wire.CreateDhcpOptionsOutput](),
	reflect.TypeFor[ec2wire.DescribeDhcpOptionsOutput](),
	reflect.TypeFor[ec2wire.AssociateDhcpOptionsOutput](),
	reflect.TypeFor[ec2wire.DeleteDhcpOptionsOutput](),
	reflect.TypeFor[ec2wire.CreateEgressOnlyInternetGatewayOutput](),
	reflect.TypeFor[ec2wire.DescribeEgressOnlyInternetGatewaysOutput](),
	reflect.TypeFor[ec2wire.DeleteEgressOnlyInternetGatewayOutput](),
	reflect.TypeFor[ec2wire.AssociateSubnetCidrBlockOutput](),
	reflect.TypeFor[ec2wire.DisassociateSubnetCidrBlockOutput](),
	reflect.TypeFor[ec2wire.MonitorInstancesOutput](),
	reflect.TypeFor[ec2wire.UnmonitorInstancesOutput](),
	reflect.TypeFor[ec2wire.GetPasswordDataOutput](),
	reflect.TypeFor[ec2wire.ModifyVpcTenancyOutput](),
	reflect.TypeFor[ec2wire.ModifyInstanceCreditSpecificationOutput](),
	reflect.TypeFor[ec2wire.ModifyInstanceMaintenanceOptionsOutput](),
	reflect.TypeFor[ec2wire.ModifyInstanceCapacityReservationAttributesOutput](),
	reflect.TypeFor[ec2wire.ModifyPrivateDnsNameOptionsOutput](),
	reflect.TypeFor[ec2wire.ReplaceRouteTableAssociationOutput](),
	reflect.TypeFor[ec2wire.CreateNetworkAclOutput](),
	reflect.TypeFor[ec2wire.DescribeNetworkAclsOutput](),
	reflect.TypeFor[ec2wire.ReplaceNetworkAclAssociationOutput](),
	reflect.TypeFor[ec2wire.CreateDefaultVpcOutput](),
	reflect.TypeFor[ec2wire.CreateDefaultSubnetOutput](),
	reflect.TypeFor[ec2wire.CreateLaunchTemplateOutput](),
	reflect.TypeFor[ec2wire.DescribeLaunchTemplatesOutput](),
	reflect.TypeFor[ec2wire.DescribeLaunchTemplateVersionsOutput](),
	reflect.TypeFor[ec2wire.CreateLaunchTemplateVersionOutput](),
	reflect.TypeFor[ec2wire.ModifyLaunchTemplateOutput](),
	reflect.TypeFor[ec2wire.DeleteLaunchTemplateOutput](),
	reflect.TypeFor[ec2wire.DeleteLaunchTemplateVersionsOutput](),
	reflect.TypeFor[ec2wire.CreateManagedPrefixListOutput](),
	reflect.TypeFor[ec2wire.DescribeManagedPrefixListsOutput](),
	reflect.TypeFor[ec2wire.GetManagedPrefixListEntriesOutput](),
	reflect.TypeFor[ec2wire.ModifyManagedPrefixListOutput](),
	reflect.TypeFor[ec2wire.DeleteManagedPrefixListOutput](),
	reflect.TypeFor[ec2wire.GetManagedPrefixListAssociationsOutput](),
	reflect.TypeFor[ec2wire.RestoreManagedPrefixListVersionOutput](),
	reflect.TypeFor[ec2wire.DescribePrefixListsOutput](),
	reflect.TypeFor[ec2wire.ModifySecurityGroupRulesOutput](),
	reflect.TypeFor[ec2wire.UpdateSecurityGroupRuleDescriptionsIngressOutput](),
	reflect.TypeFor[ec2wire.UpdateSecurityGroupRuleDescriptionsEgressOutput](),
}

// TestEncodeCoversOutputTypes fails when the generator adds an output type
// that TestEncodeMatchesXML does not check.
func TestEncodeCoversOutputTypes(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../ec2wire/zz_generated.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, rt := range xmlOutputTypes {
		have[rt.Name()] = true
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, s := range g.Specs {
			ts := s.(*ast.TypeSpec)
			if !strings.HasSuffix(ts.Name.Name, "Output") {
				continue
			}
			// An alias has the name of its target shape.
			name := ts.Name.Name
			if ts.Assign != 0 {
				if id, ok := ts.Type.(*ast.Ident); ok {
					name = id.Name
				}
			}
			if !have[name] {
				t.Errorf("output type %s (%s) is not in xmlOutputTypes", ts.Name.Name, name)
			}
		}
	}
}

// xmlFill sets v (addressable) to pseudo-random content: present or absent
// fields, nil, empty and filled slices, text that needs escaping.
func xmlFill(r *rand.Rand, v reflect.Value, depth int) {
	texts := []string{"", "plain", "a<b>&\"c'd", "tab\tnl\ncr\r", "\xff\xfebad utf8", "caf\u00e9 \u2603", "\x01ctl", "]]>", "x<y\u00e9&\x01z\"\t\xc3", "\x7f\u00a0\ufffd'"}
	switch v.Kind() {
	case reflect.Pointer:
		if depth > 6 || r.IntN(4) == 0 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		xmlFill(r, v.Elem(), depth+1)
	case reflect.Slice:
		if depth > 6 {
			return
		}
		switch r.IntN(4) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := 1 + r.IntN(3)
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				xmlFill(r, v.Index(i), depth+1)
			}
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[ec2wire.Time]() {
			v.Set(reflect.ValueOf(ec2wire.Time{Time: time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(time.FixedZone("x", 3600))}))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				xmlFill(r, v.Field(i), depth+1)
			}
		}
	case reflect.String:
		v.SetString(texts[r.IntN(len(texts))])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int32, reflect.Int64:
		v.SetInt([]int64{0, 1, -7, 1 << 30}[r.IntN(4)])
	case reflect.Float64:
		v.SetFloat([]float64{0, 1.5, -2, 1e21, 3.14159}[r.IntN(5)])
	}
}

// TestEncodeMatchesXML checks that Encode writes exactly what encoding/xml
// writes for every generated output type, on empty and random values.
func TestEncodeMatchesXML(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, rt := range xmlOutputTypes {
		if _, ok := xmlPlanOf(rt); !ok {
			t.Errorf("%s: the fast writer does not handle it", rt)
			continue
		}
		for i := range 60 {
			v := reflect.New(rt)
			if i > 0 {
				xmlFill(r, v.Elem(), 0)
			}
			if !attributeReplies[rt] {
				fillNestedNilLists(v.Elem())
			}
			var fast, ref bytes.Buffer
			if err := Encode(&fast, "Test", "req-1", v.Interface()); err != nil {
				t.Fatalf("%s: %v", rt, err)
			}
			if err := encodeXML(&ref, "Test", v.Interface()); err != nil {
				t.Fatalf("%s: %v", rt, err)
			}
			want := ref.String()
			if attributeReplies[rt] {
				want = withoutNilLists(v.Elem(), want)
			}
			if fast.String() != want {
				t.Fatalf("%s: fast writer differs\n got %s\nwant %s", rt, fast.String(), want)
			}
		}
	}
}

// withoutNilLists is encoding/xml's output for an attribute reply, less the
// empty parent element that it writes for each nil slice field (the one
// difference of the fast writer, see attributeReplies).
func withoutNilLists(v reflect.Value, ref string) string {
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Type.Kind() != reflect.Slice || !v.Field(i).IsNil() {
			continue
		}
		parent, _, ok := strings.Cut(strings.Split(f.Tag.Get("xml"), ",")[0], ">")
		if !ok {
			continue
		}
		ref = strings.Replace(ref, "<"+parent+"></"+parent+">", "", 1)
	}
	return ref
}

// fillNestedNilLists gives every nil slice of a value inside v whose type is an
// attribute reply (a launch template's data inside DescribeLaunchTemplateVersions'
// reply) an empty one, which both writers write alike (parents only): where such a
// type is the output itself, withoutNilLists checks what the fast writer leaves out.
func fillNestedNilLists(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			fillNestedNilLists(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			fillNestedNilLists(v.Index(i))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if attributeReplies[v.Type()] && f.Kind() == reflect.Slice && f.IsNil() {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			}
			fillNestedNilLists(f)
		}
	}
}

// TestEncodeAttributeReplies: an attribute reply holds the requested
// attribute only, while an empty requested list is still written.
func TestEncodeAttributeReplies(t *testing.T) {
	var buf bytes.Buffer
	desc := "d"
	if err := Encode(&buf, "DescribeNetworkInterfaceAttribute", "r", &ec2wire.DescribeNetworkInterfaceAttributeOutput{Description: &ec2wire.AttributeValue{Value: &desc}}); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); strings.Contains(s, "groupSet") || !strings.Contains(s, "<description><value>d</value></description>") {
		t.Errorf("description only: %s", s)
	}
	buf.Reset()
	if err := Encode(&buf, "DescribeInstanceAttribute", "r", &ec2wire.DescribeInstanceAttributeOutput{BlockDeviceMappings: []ec2wire.InstanceBlockDeviceMapping{}}); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, "<blockDeviceMapping></blockDeviceMapping>") || strings.Contains(s, "groupSet") || strings.Contains(s, "productCodes") {
		t.Errorf("empty block device mapping only: %s", s)
	}
}

func TestEncodeMatchesXMLReturnOutput(t *testing.T) {
	tr := true
	for _, out := range []any{&ec2wire.ReturnOutput{}, &ec2wire.ReturnOutput{Return: &tr}} {
		var fast, ref bytes.Buffer
		if err := Encode(&fast, "DeleteVpc", "r", out); err != nil {
			t.Fatal(err)
		}
		if err := encodeXML(&ref, "DeleteVpc", out); err != nil {
			t.Fatal(err)
		}
		if fast.String() != ref.String() {
			t.Fatalf("got %s\nwant %s", fast.String(), ref.String())
		}
	}
}
