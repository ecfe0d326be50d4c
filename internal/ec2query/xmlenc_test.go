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
