package netadmin

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMissing(t *testing.T) {
	all := uint64(1)<<unix.CAP_NET_ADMIN | 1<<unix.CAP_SYS_ADMIN
	for _, c := range []struct {
		eff  uint64
		want []string
	}{
		{all, nil},
		{all &^ (1 << unix.CAP_SYS_ADMIN), []string{"CAP_SYS_ADMIN"}},
		{all &^ (1 << unix.CAP_NET_ADMIN), []string{"CAP_NET_ADMIN"}},
		{0, []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}},
	} {
		if got := Missing(c.eff); !slices.Equal(got, c.want) {
			t.Errorf("%x: %v, want %v", c.eff, got, c.want)
		}
	}
}

const checkEnv = "NETADMIN_TEST_CHECK"

// TestMain is also the child of TestCheckWithOneCapability: it prints what
// Check says.
func TestMain(m *testing.M) {
	if os.Getenv(checkEnv) != "" {
		fmt.Println(Check())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// With one of the two capabilities and not the other, Check says which is
// missing (it tested only unshare, which needs CAP_SYS_ADMIN, before).
func TestCheckWithOneCapability(t *testing.T) {
	if Check() != nil {
		t.Skip("needs both capabilities to drop one (root)")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv(1)")
	}
	for _, c := range []struct{ drop, want string }{
		{"net_admin", "not privileged: CAP_NET_ADMIN missing (run as root)"},
		{"sys_admin", "not privileged: CAP_SYS_ADMIN missing (run as root)"},
	} {
		cmd := exec.Command("setpriv", "--bounding-set=-"+c.drop, "--inh-caps=-"+c.drop, "--", os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), checkEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.drop, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("without %s: %q, want %q", c.drop, got, c.want)
		}
	}
}
