package main

import (
	"strings"
	"testing"
)

// eni serve refuses a --regions it cannot read, and a data plane region it
// would not serve, before it opens anything.
func TestServeRegionsFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--regions", "us-mars-1"}, "--regions: us-mars-1 is not an AWS region; add a region of your own as +us-mars-1"},
		{[]string{"--regions", "+eu-west-1"}, "--regions: +eu-west-1: eu-west-1 is an AWS region"},
		{[]string{"--regions", "zz/evil"}, "--regions: \"zz/evil\" is not a region name"},
	} {
		args := append([]string{"--data", "", "--listen", "127.0.0.1:0", "--dataplane", "none"}, c.args...)
		err := serve(args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
}
