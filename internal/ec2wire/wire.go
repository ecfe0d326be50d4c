// Package ec2wire holds the EC2 Query API's request and response types, with
// their exact wire names generated from the AWS API model (see gen/ and
// operations.txt). It is plain data: no I/O, no rules.
package ec2wire

//go:generate go run ./gen -model ec2-api-model-2016-11-15.json.gz -ops operations.txt -patch model-patch.json -out zz_generated.go -outputs ../ec2query/zz_outputtypes_test.go

import (
	"encoding/xml"
	"time"
)

// Namespace is the XML namespace of every EC2 reply.
const Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// ReturnOutput is the reply of operations without an output shape.
type ReturnOutput struct {
	RequestId *string `xml:"requestId"`
	Return    *bool   `xml:"return"`
}

// Time is a timestamp on the wire: ISO 8601 with milliseconds, in UTC.
type Time struct{ time.Time }

// TimeFormat is how EC2 writes timestamps.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// NewTime returns a wire timestamp for t.
func NewTime(t time.Time) *Time { return &Time{t.UTC()} }

// MarshalXML writes t in EC2's format.
func (t Time) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(t.UTC().Format(TimeFormat), start)
}

// UnmarshalXML reads an ISO 8601 timestamp.
func (t *Time) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}
