package taskapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestRequestAppendJSON: AppendJSON's request decodes as encoding/json's does, for
// strings with every kind of character JSON escapes, and invalid UTF-8.
func TestRequestAppendJSON(t *testing.T) {
	strs := []string{"", "us-east-1", "subnet-0123", `q"uote`, `back\slash`, "tab\tnl\ncr\rnul\x00esc\x1b\x7f",
		"<html>&", "\u2028\u2029", "é日本🙂", "bad\xffutf8\xc3", "\xed\xa0\x80"}
	reqs := []Request{{}, {SecurityGroupIDs: []string{}}}
	for _, s := range strs {
		reqs = append(reqs, Request{Region: s, SubnetID: s + "x", SecurityGroupIDs: []string{s, "sg-1"}})
	}
	for _, r := range reqs {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got := r.AppendJSON(nil)
		var a, b Request
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%q: AppendJSON gave %s: %v", r, got, err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%q: AppendJSON %s decodes as %q, encoding/json's %s as %q", r, got, a, want, b)
		}
	}
}

// replySeeds are replies, good and bad, that DecodeJSON must read as encoding/json
// does.
var replySeeds = []string{
	`{"taskId":"task-1","networkInterfaceId":"eni-1","privateIpAddress":"10.0.1.5","macAddress":"02:00:00:00:00:01","ready":true,"leaseSeconds":30,"vpcCidrBlock":"10.0.0.0/16","dhcpOptions":{"domain-name":["ec2.internal"],"domain-name-servers":["AmazonProvidedDNS","10.0.0.2"]}}`,
	`{"taskId":"task-1","dhcpOptions":null}`,
	`{"dhcpOptions":{"a":null,"b":[],"c":[null,"x"]},"DHCPOPTIONS":{"d":["y"]}}`,
	`{"TASKID":"upper","taskid":"lower","TaskId":null}`,
	`{"ready":false,"ready":true,"leaseSeconds":-1.5e3,"leaseSeconds":null}`,
	`{"unknown":{"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00\ud800x\\\"\/\b\f\n\r\t"},"taskId":"t"}`,
	`{"taskId":"caf\u00e9 \ud83d\ude00 \udc00 \ud800\u0041"}`,
	"{\"taskId\":\"bad \xff utf8 \xc3\"}",
	` null `, `null`, `{}`, ` { } `, `[]`, `"s"`, `1`, `true`,
	`{"taskId":1}`, `{"ready":"yes"}`, `{"leaseSeconds":"1"}`, `{"leaseSeconds":1e400}`, `{"dhcpOptions":[]}`,
	`{"dhcpOptions":{"a":"x"}}`, `{"dhcpOptions":{"a":[1]}}`,
	`{"taskId":"t"`, `{"taskId":"t",}`, `{"taskId" "t"}`, `{taskId:"t"}`, `{"taskId":"t"} x`, `{"a":01}`, `{"a":1.}`,
	`{"a":-}`, `{"a":.5}`, `{"a":1e}`, `{"a":tru}`, `{"a":nul}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}",
	`{"a":[1,]}`, `{"a":[,1]}`, `{"ready":true}}`, ``, ` `, `{"a":{"b":{"c":[[[]]]}}}`, `{"taskId":"\ud83d\u0041"}`,
	`{"leaseSeconds":-}`, `{"a":`, `{"taskId":"abc`, `{"taskId":"\`, `{"taskId":"\ud800\u12`, `{"taskId":"\u00C9\u00e9"}`,
	`{"taſkId":"long s"}`, `{"dhcpOptions":{}}`, `{"":{"":null},"DHCPOPTIONS":{}}`,
	"{\"tas\u212aid\":\"kelvin\"}", `{"tas\u212aid":"kelvin escaped"}`, `{"leaseseconds":7,"LEASESECONDS":8}`, `{"a":1E+2,"b":-0.0e-0}`,
}

func FuzzReplyDecodeJSON(f *testing.F) {
	for _, s := range replySeeds {
		f.Add([]byte(s))
	}
	// At encoding/json's bound on nesting (10,000, the reply's object one of them).
	for _, n := range []int{9998, 9999, 10000, 10001} {
		f.Add([]byte(`{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}"))
		f.Add([]byte(`{"a":` + strings.Repeat(`{"b":`, n) + "1" + strings.Repeat("}", n+1)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got Reply
		werr := json.Unmarshal(b, &want)
		gerr := got.DecodeJSON(b)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: encoding/json says %v, DecodeJSON %v", b, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("%q: encoding/json decodes %#v, DecodeJSON %#v", b, want, got)
		}
	})
}
