package agent

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/eni-net/eni/internal/dataplane"
	"github.com/eni-net/eni/internal/netadmin/nettest"
)

// benchPlane is the Linux data plane when ENI_PLANE=linux (as root), with a prefix of
// its own and torn down at the end (ENI_BRIDGE_PORTS: its Options.BridgePorts); else nil
// (the fake).
func benchPlane(b *testing.B) Realiser {
	if os.Getenv("ENI_PLANE") != "linux" {
		return nil
	}
	nettest.Require(b, "./internal/agent")
	prefix := fmt.Sprintf("zqa%d", os.Getpid()%1000)
	ports, _ := strconv.Atoi(os.Getenv("ENI_BRIDGE_PORTS"))
	p, err := dataplane.New(dataplane.Options{Prefix: prefix, BridgePorts: ports})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Teardown(context.Background()); err != nil {
			b.Errorf("teardown of %s: %v", prefix, err)
		}
	})
	return p
}
