package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/eni-net/eni/internal/netadmin"
)

// Real networking only when asked for: none by default, linux refused with
// the reason when the process may not, auto as the explicit opt-in.
func TestDataPlaneMode(t *testing.T) {
	may := func() error { return nil }
	mayNot := func() error { return fmt.Errorf("%w: CAP_SYS_ADMIN missing (run as root)", netadmin.ErrNoPrivilege) }
	for _, c := range []struct {
		mode    string
		check   func() error
		on      bool
		why     string
		wantErr string
	}{
		{"none", may, false, "--dataplane none (the default", ""},
		{"linux", may, true, "--dataplane linux", ""},
		{"linux", mayNot, false, "", "--dataplane linux: not privileged: CAP_SYS_ADMIN missing (run as root) (or use --dataplane none)"},
		{"auto", may, true, "--dataplane auto, and this process has CAP_NET_ADMIN and CAP_SYS_ADMIN", ""},
		{"auto", mayNot, false, "--dataplane auto, and this process may not run it: not privileged: CAP_SYS_ADMIN missing", ""},
		{"yes", may, false, "", "serve: --dataplane \"yes\": want none, linux or auto"},
	} {
		on, why, err := dataPlaneMode(c.mode, c.check)
		if c.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
				t.Errorf("%s: err %v, want %q", c.mode, err, c.wantErr)
			}
			continue
		}
		if err != nil || on != c.on || !strings.HasPrefix(why, c.why) {
			t.Errorf("%s: %v %q %v, want %v %q", c.mode, on, why, err, c.on, c.why)
		}
	}
}
