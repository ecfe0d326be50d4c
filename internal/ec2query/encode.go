package ec2query

import (
	"bytes"
	"encoding/xml"
	"reflect"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Encode writes the XML reply of action: <ActionResponse xmlns=...> with the
// request id and the fields of out (a generated output struct).
func Encode(buf *bytes.Buffer, action, requestID string, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() == reflect.Pointer {
		if f := v.Elem().FieldByName("RequestId"); f.IsValid() && f.CanSet() {
			f.Set(reflect.ValueOf(&requestID))
		}
	}
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		if pl, ok := xmlPlanOf(v.Elem().Type()); ok {
			buf.WriteString(xml.Header)
			buf.WriteString("<" + action + "Response xmlns=\"" + ec2wire.Namespace + "\">")
			if err := pl.fieldsOf(buf, v.Elem()); err != nil {
				return err
			}
			xmlClose(buf, action+"Response")
			return nil
		}
	}
	return encodeXML(buf, action, out)
}

// encodeXML is Encode with encoding/xml: the reference the fast writer
// matches, and the path for types it does not handle.
func encodeXML(buf *bytes.Buffer, action string, out any) error {
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(buf)
	start := xml.StartElement{
		Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ec2wire.Namespace}},
	}
	if err := enc.EncodeElement(out, start); err != nil {
		return err
	}
	return enc.Flush()
}

// EncodeError writes the EC2 error envelope.
func EncodeError(buf *bytes.Buffer, code, message, requestID string) {
	type xmlError struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type envelope struct {
		XMLName   xml.Name   `xml:"Response"`
		Errors    []xmlError `xml:"Errors>Error"`
		RequestID string     `xml:"RequestID"`
	}
	buf.WriteString(xml.Header)
	_ = xml.NewEncoder(buf).Encode(envelope{Errors: []xmlError{{code, message}}, RequestID: requestID}) // a bytes.Buffer does not fail
}
