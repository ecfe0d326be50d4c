package dataplane

import (
	"os"
	"testing"

	"github.com/eni-net/eni/internal/netadmin/nettest"
)

// TestMain prints one line of what was skipped, and why, when the tests ran
// without the data plane's privileges.
func TestMain(m *testing.M) { os.Exit(nettest.Main(m, "./internal/dataplane")) }
