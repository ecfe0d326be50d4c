package ec2query

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/eni-net/eni/internal/ec2wire"
)

// A fast XML writer for the generated output types. It produces, byte for
// byte, what encoding/xml's Encoder writes for them (TestEncodeMatchesXML
// checks every generated output type), with a plan per type computed once
// instead of encoding/xml's per-value reflection and token bookkeeping.
//
// The rules of encoding/xml it reproduces, for the shapes the generator
// emits (pointer scalars, pointer structs, slices, `xml:"a>b,omitempty"`):
//   - a nil pointer writes nothing; omitempty skips nil pointers and empty
//     slices, and also empty elements of a slice (e.g. "" in a []string);
//   - a field's parent elements (a in a>b) are opened even for an empty
//     slice, and shared by consecutive fields with the same parents;
//   - xml.Marshaler values (ec2wire.Time) are written by their MarshalXML;
//   - text is escaped as xml.EscapeText does.
//
// One deliberate difference: in the replies of the Describe*Attribute
// actions (attributeReplies), a nil slice writes nothing, not even its
// parents, because AWS answers with the requested attribute only (an empty
// but non-nil slice still writes <groupSet></groupSet>). Encode therefore
// never hands these types to encoding/xml.

type xmlEncFunc func(buf *bytes.Buffer, name string, v reflect.Value) error

type xmlField struct {
	index   int
	parents []string
	name    string
	omit    bool
	nilable bool // pointer: parents are not opened when nil
	enc     xmlEncFunc
}

type xmlStructPlan struct {
	fields []xmlField
}

var xmlPlans sync.Map // reflect.Type -> *xmlStructPlan

var xmlMarshalerType = reflect.TypeFor[xml.Marshaler]()

// xmlPlanOf returns the plan of struct type t, or false if the fast writer
// cannot reproduce encoding/xml for it (Encode then uses encoding/xml).
func xmlPlanOf(t reflect.Type) (*xmlStructPlan, bool) {
	if p, ok := xmlPlans.Load(t); ok {
		pl := p.(*xmlStructPlan)
		return pl, pl != nil
	}
	pl, ok := buildXMLPlan(t, map[reflect.Type]bool{})
	if !ok {
		xmlPlans.Store(t, (*xmlStructPlan)(nil))
		return nil, false
	}
	xmlPlans.Store(t, pl)
	return pl, true
}

// attributeReplies are the output types whose nil slices are left out.
var attributeReplies = map[reflect.Type]bool{
	reflect.TypeFor[ec2wire.DescribeNetworkInterfaceAttributeOutput](): true,
	reflect.TypeFor[ec2wire.DescribeInstanceAttributeOutput]():         true,
	reflect.TypeFor[ec2wire.DescribeVpcAttributeOutput]():              true,
	// A launch template version's data shows what was given and nothing else: AWS
	// leaves out every list the template does not set (community.aws's
	// ec2_launch_template compares it with what it would send, and would make a new
	// version on every run for an empty <blockDeviceMappingSet/>).
	reflect.TypeFor[ec2wire.ResponseLaunchTemplateData]():                          true,
	reflect.TypeFor[ec2wire.LaunchTemplateInstanceNetworkInterfaceSpecification](): true,
	reflect.TypeFor[ec2wire.LaunchTemplateTagSpecification]():                      true,
	// A peering connection's accepter shows no blocks before it accepts
	// (community.aws's ec2_vpc_peer target checks that cidrBlockSet is absent).
	reflect.TypeFor[ec2wire.VpcPeeringConnectionVpcInfo](): true,
}

func buildXMLPlan(t reflect.Type, visiting map[reflect.Type]bool) (*xmlStructPlan, bool) {
	if t.Kind() != reflect.Struct || visiting[t] {
		return nil, false
	}
	visiting[t] = true
	defer delete(visiting, t)
	pl := &xmlStructPlan{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous || f.Name == "XMLName" {
			return nil, false
		}
		tag := f.Tag.Get("xml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		omit := false
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "":
			case "omitempty":
				omit = true
			default:
				return nil, false // attr, chardata, innerxml...: not generated
			}
		}
		if name == "" {
			name = f.Name
		}
		var parents []string
		if strings.Contains(name, ">") {
			parts := strings.Split(name, ">")
			parents, name = parts[:len(parts)-1], parts[len(parts)-1]
			for _, p := range parents {
				if p == "" {
					return nil, false
				}
			}
		}
		if name == "" || strings.Contains(name, " ") {
			return nil, false
		}
		enc, ok := xmlEncoderFor(f.Type, omit, visiting)
		if !ok {
			return nil, false
		}
		pl.fields = append(pl.fields, xmlField{
			index: i, parents: parents, name: name, omit: omit,
			nilable: f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Interface ||
				(f.Type.Kind() == reflect.Slice && attributeReplies[t]),
			enc: enc,
		})
	}
	return pl, true
}

// xmlEncoderFor returns the writer of a value of type t as element name.
// omit is the field's omitempty, which encoding/xml also applies to each
// element of a slice.
func xmlEncoderFor(t reflect.Type, omit bool, visiting map[reflect.Type]bool) (xmlEncFunc, bool) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		return xmlContainerEncoder(t, omit, visiting)
	}
	if t == reflect.TypeFor[ec2wire.Time]() || t.Implements(xmlMarshalerType) {
		return xmlMarshalerEncoder(t)
	}
	if t.Kind() == reflect.Struct {
		return xmlStructEncoder(t, visiting)
	}
	return xmlScalarEncoder(t)
}

// xmlContainerEncoder encodes a pointer (nothing when nil) or a slice (an element
// per item, empty ones left out when omit; []byte is not generated).
func xmlContainerEncoder(t reflect.Type, omit bool, visiting map[reflect.Type]bool) (xmlEncFunc, bool) {
	switch t.Kind() {
	case reflect.Pointer:
		if t.Implements(xmlMarshalerType) && !t.Elem().Implements(xmlMarshalerType) {
			return nil, false // pointer-receiver marshalers: not generated
		}
		elem, ok := xmlEncoderFor(t.Elem(), false, visiting)
		if !ok {
			return nil, false
		}
		return func(buf *bytes.Buffer, name string, v reflect.Value) error {
			if v.IsNil() {
				return nil
			}
			return elem(buf, name, v.Elem())
		}, true
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil, false
		}
		elem, ok := xmlEncoderFor(t.Elem(), false, visiting)
		if !ok {
			return nil, false
		}
		return func(buf *bytes.Buffer, name string, v reflect.Value) error {
			for i, n := 0, v.Len(); i < n; i++ {
				e := v.Index(i)
				if omit && xmlIsEmpty(e) {
					continue
				}
				if err := elem(buf, name, e); err != nil {
					return err
				}
			}
			return nil
		}, true
	}
	return nil, false
}

// xmlMarshalerEncoder encodes ec2wire.Time directly, and the other XML marshalers
// the generator accepts (xmlTimeLike) through an Encoder.
func xmlMarshalerEncoder(t reflect.Type) (xmlEncFunc, bool) {
	if t == reflect.TypeFor[ec2wire.Time]() {
		// What Time.MarshalXML writes, without an Encoder.
		return func(buf *bytes.Buffer, name string, v reflect.Value) error {
			t := v.Interface().(ec2wire.Time)
			xmlOpen(buf, name)
			buf.Write(t.UTC().AppendFormat(buf.AvailableBuffer(), ec2wire.TimeFormat))
			xmlClose(buf, name)
			return nil
		}, true
	}
	// Only types whose MarshalXML writes one simple element are
	// generated (ec2wire.Time); encoding/xml runs it through an Encoder.
	return func(buf *bytes.Buffer, name string, v reflect.Value) error {
		var b bytes.Buffer
		e := xml.NewEncoder(&b)
		if err := e.EncodeElement(v.Interface(), xml.StartElement{Name: xml.Name{Local: name}}); err != nil {
			return err
		}
		if err := e.Flush(); err != nil {
			return err
		}
		buf.Write(b.Bytes())
		return nil
	}, xmlTimeLike(t)
}

// xmlScalarEncoder encodes strings (escaped), booleans and numbers.
func xmlScalarEncoder(t reflect.Type) (xmlEncFunc, bool) {
	switch t.Kind() {
	case reflect.String:
		return func(buf *bytes.Buffer, name string, v reflect.Value) error {
			xmlOpen(buf, name)
			xmlEscape(buf, v.String())
			xmlClose(buf, name)
			return nil
		}, true
	case reflect.Bool:
		return func(buf *bytes.Buffer, name string, v reflect.Value) error {
			xmlOpen(buf, name)
			buf.WriteString(strconv.FormatBool(v.Bool()))
			xmlClose(buf, name)
			return nil
		}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(buf *bytes.Buffer, name string, v reflect.Value) error {
			xmlOpen(buf, name)
			buf.Write(strconv.AppendInt(buf.AvailableBuffer(), v.Int(), 10))
			xmlClose(buf, name)
			return nil
		}, true
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(buf *bytes.Buffer, name string, v reflect.Value) error {
			xmlOpen(buf, name)
			buf.Write(strconv.AppendFloat(buf.AvailableBuffer(), v.Float(), 'g', -1, bits))
			xmlClose(buf, name)
			return nil
		}, true
	}
	return nil, false
}

// xmlStructEncoder encodes a struct by its plan; a recursive type's plan is
// resolved when first used.
func xmlStructEncoder(t reflect.Type, visiting map[reflect.Type]bool) (xmlEncFunc, bool) {
	pl, ok := buildXMLPlan(t, visiting)
	if !ok {
		// A recursive type: resolve its plan when first used.
		if !visiting[t] {
			return nil, false
		}
		return func(buf *bytes.Buffer, name string, v reflect.Value) error {
			pl, ok := xmlPlanOf(t)
			if !ok {
				return &Error{"InternalError", "unsupported reply type " + t.String()}
			}
			return pl.element(buf, name, v)
		}, true
	}
	return func(buf *bytes.Buffer, name string, v reflect.Value) error {
		return pl.element(buf, name, v)
	}, true
}

// xmlTimeLike accepts the one marshaler the generator uses: ec2wire.Time, a
// struct wrapping time.Time with a value-receiver MarshalXML.
func xmlTimeLike(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.NumField() == 1 && t.Field(0).Type == timeType
}

func (pl *xmlStructPlan) element(buf *bytes.Buffer, name string, v reflect.Value) error {
	xmlOpen(buf, name)
	if err := pl.fieldsOf(buf, v); err != nil {
		return err
	}
	xmlClose(buf, name)
	return nil
}

// fieldsOf writes the fields of struct v, as encoding/xml's marshalStruct.
func (pl *xmlStructPlan) fieldsOf(buf *bytes.Buffer, v reflect.Value) error {
	var stack []string
	for i := range pl.fields {
		f := &pl.fields[i]
		fv := v.Field(f.index)
		if len(stack) > 0 || len(f.parents) > 0 {
			split := 0
			for split < len(f.parents) && split < len(stack) && f.parents[split] == stack[split] {
				split++
			}
			for j := len(stack) - 1; j >= split; j-- {
				xmlClose(buf, stack[j])
			}
			stack = stack[:split]
			if len(f.parents) > len(stack) && (!f.nilable || !fv.IsNil()) {
				for _, p := range f.parents[len(stack):] {
					xmlOpen(buf, p)
				}
				stack = f.parents[:len(f.parents):len(f.parents)]
			}
		}
		if f.omit && xmlIsEmpty(fv) {
			continue
		}
		if err := f.enc(buf, f.name, fv); err != nil {
			return err
		}
	}
	for j := len(stack) - 1; j >= 0; j-- {
		xmlClose(buf, stack[j])
	}
	return nil
}

// xmlIsEmpty is encoding/xml's isEmptyValue.
func xmlIsEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsZero()
	case reflect.Struct:
		return false
	}
	return false
}

func xmlOpen(buf *bytes.Buffer, name string) {
	buf.WriteByte('<')
	buf.WriteString(name)
	buf.WriteByte('>')
}

func xmlClose(buf *bytes.Buffer, name string) {
	buf.WriteString("</")
	buf.WriteString(name)
	buf.WriteByte('>')
}

// xmlEscape writes s escaped as xml.EscapeText does: ASCII here, anything
// else (where UTF-8 validity and XML's character range matter) by it.
func xmlEscape(buf *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch c := s[i]; c {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if c >= 0x20 && c < utf8.RuneSelf {
				continue
			}
			buf.WriteString(s[last:i])
			_ = xml.EscapeText(buf, []byte(s[i:])) // a bytes.Buffer does not fail
			return
		}
		buf.WriteString(s[last:i])
		buf.WriteString(esc)
		last = i + 1
	}
	buf.WriteString(s[last:])
}
