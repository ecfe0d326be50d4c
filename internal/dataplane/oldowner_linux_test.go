package dataplane

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// TestAttackOldOwnerAfterMove: an ENI moves from i-web to i-c; while its old pair waits to
// be deleted in the background (held here), i-web's root gives the old interface the ENI's
// address back and sends from it to i-b: nothing it sends may leave the old port as the
// ENI's.
func TestAttackOldOwnerAfterMove(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	d.ENIs = append(d.ENIs, ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.20", InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}})
	reconcileStable(t, p, d)
	u := listenUDP(t, p, p.InstanceNS("i-b"), "10.0.1.11:7000")

	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release) // before the teardown, which waits for the deletion
	p.retireStarts = func() { <-hold }
	findENI(&d, "eni-x").InstanceID = "i-c"
	if st := reconcile(t, p, d); st.ENIs.Get("eni-x") != "i-c" {
		t.Fatalf("eni-x realised in %q, want i-c", st.ENIs.Get("eni-x"))
	}
	p.retireStarts = nil

	withHandle(t, p.InstanceNS("i-web"), func(h *netlink.Handle) {
		l, err := h.LinkByName("eth1")
		if err != nil {
			t.Fatalf("the old pair's end in i-web: %v (the test needs it still there)", err)
		}
		a, _ := netlink.ParseAddr("10.0.1.20/24")
		if err := h.AddrReplace(l, a); err != nil {
			t.Fatal(err)
		}
		_ = h.LinkSetUp(l)
	})
	err := p.DoInstance("i-web", func() error {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, "eth1")
			})
			if err != nil {
				return err
			}
			return serr
		}}
		c, err := lc.ListenPacket(context.Background(), "udp4", "10.0.1.20:0")
		if err != nil {
			return err
		}
		defer c.Close()
		for range 20 {
			_, _ = c.WriteTo([]byte("from the old owner"), &net.UDPAddr{IP: net.IPv4(10, 0, 1, 11), Port: 7000})
			time.Sleep(25 * time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if received(u, "10.0.1.20", time.Second) {
		t.Fatal("i-web, the ENI's old owner, sent as the ENI through its old pair after the move")
	}
	release()
}
