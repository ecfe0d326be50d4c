package taskapi

import (
	"encoding/json"
	"reflect"
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
