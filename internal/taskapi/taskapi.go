// Package taskapi is the wire format of the server's task API (internal/api's
// tasks.go), which `eni run-task` calls: plain types, shared by the server and
// the client without linking either into the other.
package taskapi

import "unicode/utf8"

// Service is the service name task API requests are signed for.
const Service = "eni"

// Path is where the task API is served.
const Path = "/eni/v1/tasks"

// Request creates a task.
type Request struct {
	Region           string   `json:"region"`
	SubnetID         string   `json:"subnetId"`
	SecurityGroupIDs []string `json:"securityGroupIds"`
}

// AppendJSON appends r as encoding/json encodes it (the same value when decoded),
// without encoding/json: its first use, reflection and all, took half a millisecond
// of eni-run-task's start before its request could go (the reply's decoding, which
// still uses it, then takes some of that: 0.2 ms off a task's start in all, medians
// of 200 starts each).
func (r Request) AppendJSON(b []byte) []byte {
	b = append(b, `{"region":`...)
	b = appendString(b, r.Region)
	b = append(b, `,"subnetId":`...)
	b = appendString(b, r.SubnetID)
	b = append(b, `,"securityGroupIds":`...)
	if r.SecurityGroupIDs == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, g := range r.SecurityGroupIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, g)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendString appends s as a JSON string: quotation marks, backslashes and
// control characters escaped, each byte of invalid UTF-8 as U+FFFD (as
// encoding/json does).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s { // invalid UTF-8: a U+FFFD a byte
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', byte(c))
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = utf8.AppendRune(b, c)
		}
	}
	return append(b, '"')
}

// Reply describes a task.
type Reply struct {
	TaskID             string `json:"taskId"`
	NetworkInterfaceID string `json:"networkInterfaceId"`
	PrivateIPAddress   string `json:"privateIpAddress,omitempty"`
	MACAddress         string `json:"macAddress,omitempty"`
	Ready              bool   `json:"ready"`
	// LeaseSeconds is how long the task lives unless renewed (PUT).
	LeaseSeconds float64 `json:"leaseSeconds,omitempty"`
	// VPCCIDR is the primary block of the task's VPC and DHCPOptions its DHCP
	// options (key -> values; null: the VPC has none, "default"), given by a
	// create: what the task's resolv.conf is made of. A server that does not give
	// them leaves VPCCIDR empty.
	VPCCIDR     string              `json:"vpcCidrBlock,omitempty"`
	DHCPOptions map[string][]string `json:"dhcpOptions"`
}
