package dataplane

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestAttackOldOwnerAfterMove: an ENI moves from i-web to i-c; while its old pair waits to
// be deleted in the background (held here), i-web's root gives the old interface the ENI's
// address back and sends from it to i-b: nothing it sends may leave the old port as the
// ENI's. Nor after its other tricks on that interface: down and up again (a bridge port
// that were only disabled, not locked, would come back with the carrier), and another MAC
// address. And what i-b sends to the ENI reaches i-c, its owner now, and nothing reaches
// the old interface, not even what the subnet floods.
func TestAttackOldOwnerAfterMove(t *testing.T) {
	p, _, release := movedHeld(t)
	attackOldOwner(t, p, release)
}

// TestAttackOldOwnerAfterMoveBack: the same when the ENI's port in i-c is one opened
// again: the ENI went i-web, i-c, i-web, i-c in quick succession (movedBack), and its
// pair in i-web is the one kept, shut.
func TestAttackOldOwnerAfterMoveBack(t *testing.T) {
	p, _ := movedBack(t)
	attackOldOwner(t, p, func() {})
}

// TestAttackOldOwnerAfterMoveWithoutLocks: the same on a kernel without locked bridge
// ports (older than 5.18), where the old port goes down (portLocks).
func TestAttackOldOwnerAfterMoveWithoutLocks(t *testing.T) {
	locks := portLocks
	portLocks = func() bool { return false }
	t.Cleanup(func() { portLocks = locks })
	p, _, release := movedHeld(t)
	attackOldOwner(t, p, release)
}

// TestAttackOldOwnerAfterMoveBackWithoutLocks: the same on a kernel without locked bridge
// ports, where a shut port is down and opening it brings it up.
func TestAttackOldOwnerAfterMoveBackWithoutLocks(t *testing.T) {
	locks := portLocks
	portLocks = func() bool { return false }
	t.Cleanup(func() { portLocks = locks })
	p, _ := movedBack(t)
	attackOldOwner(t, p, func() {})
}

// TestKeptPairNotReopenedWhenReplaced: while eni-x's pair in i-web is kept, i-web's root
// renames its end and makes a veth of its own named eth1. When the ENI comes back, that
// eth1 is not taken for the ENI's (it is deleted and a new pair made), and the renamed
// kept end passes nothing: the ENI answers in i-web through its new eth1.
func TestKeptPairNotReopenedWhenReplaced(t *testing.T) {
	p := newTestPlane(t)
	p.keepIdle, p.keepFor = time.Hour, time.Hour
	d := eniXInWeb(t, p)
	findENI(&d, "eni-x").InstanceID = "i-c"
	reconcile(t, p, d)
	var fake int
	withHandle(t, p.InstanceNS("i-web"), func(h *netlink.Handle) {
		l, err := h.LinkByName("eth1")
		if err != nil {
			t.Fatalf("the kept pair's end in i-web: %v", err)
		}
		if err := h.LinkSetDown(l); err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetName(l, "eth9"); err != nil {
			t.Fatal(err)
		}
		if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth1"}, PeerName: "fake1"}); err != nil {
			t.Fatal(err)
		}
		l, err = h.LinkByName("eth1")
		if err != nil {
			t.Fatal(err)
		}
		fake = l.Attrs().Index
	})
	findENI(&d, "eni-x").InstanceID = "i-web"
	if st := reconcile(t, p, d); st.ENIs.Get("eni-x") != "i-web" {
		t.Fatalf("eni-x realised in %q, want i-web", st.ENIs.Get("eni-x"))
	}
	withHandle(t, p.InstanceNS("i-web"), func(h *netlink.Handle) {
		l, err := h.LinkByName("eth1")
		if err != nil || l.Attrs().Index == fake {
			t.Fatalf("eth1 in i-web: %v, the instance's own veth (%d) kept as the ENI's", err, fake)
		}
	})
	serveTCP(t, p, p.InstanceNS("i-web"), 9000, "web")
	mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.20:9000", "web")
	reconcileStable(t, p, d)
}

// attackOldOwner attacks from i-web's eth1, the end of the pair eni-x left for i-c (p's
// state), then release()s that pair's deletion.
func attackOldOwner(t *testing.T, p *Plane, release func()) {
	u := listenUDP(t, p, p.InstanceNS("i-b"), "10.0.1.11:7000")

	tricks := []struct {
		name string
		do   func(h *netlink.Handle, l netlink.Link) error
	}{
		{"the address back", func(*netlink.Handle, netlink.Link) error { return nil }},
		{"down and up", func(h *netlink.Handle, l netlink.Link) error { return h.LinkSetDown(l) }},
		{"another MAC", func(h *netlink.Handle, l netlink.Link) error {
			if err := h.LinkSetDown(l); err != nil {
				return err
			}
			return h.LinkSetHardwareAddr(l, net.HardwareAddr{0x02, 0, 0, 0, 0x0a, 0x0b})
		}},
	}
	for _, trick := range tricks {
		t.Run(trick.name, func(t *testing.T) {
			withHandle(t, p.InstanceNS("i-web"), func(h *netlink.Handle) {
				l, err := h.LinkByName("eth1")
				if err != nil {
					t.Fatalf("the old pair's end in i-web: %v (the test needs it still there)", err)
				}
				if err := trick.do(h, l); err != nil {
					t.Fatal(err)
				}
				a, _ := netlink.ParseAddr("10.0.1.20/24")
				if err := h.AddrReplace(l, a); err != nil {
					t.Fatal(err)
				}
				if err := h.LinkSetUp(l); err != nil {
					t.Fatal(err)
				}
			})
			if err := p.DoInstance("i-web", func() error { return sendOn("eth1", "10.0.1.20:0", "10.0.1.11:7000", 20) }); err != nil {
				t.Fatal(err)
			}
			if received(u, "10.0.1.20", time.Second) {
				t.Fatal("i-web, the ENI's old owner, sent as the ENI through its old pair after the move")
			}
		})
	}

	t.Run("to the ENI", func(t *testing.T) {
		now := listenUDP(t, p, p.InstanceNS("i-c"), "10.0.1.20:7001")
		var old *net.UDPConn
		err := p.DoInstance("i-web", func() error {
			c, err := listenOn("eth1", "10.0.1.20:7001")
			old = c
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		frames := countFrames(t, p, "i-web", "eth1")
		for range 10 {
			sendUDP(t, p, "i-b", "10.0.1.20:7001")
			sendUDP(t, p, "i-b", "10.0.1.77:7001") // no one's: i-b asks the subnet (ARP)
			time.Sleep(20 * time.Millisecond)
		}
		if !received(now, "10.0.1.11", time.Second) {
			t.Error("i-c, the ENI's owner now, did not get what i-b sent to the ENI")
		}
		if received(old, "10.0.1.11", 300*time.Millisecond) {
			t.Error("i-web's old interface got what i-b sent to the ENI after the move")
		}
		if n := frames(); n > 0 {
			t.Errorf("i-web's old interface received %d frames after the move (the subnet's broadcasts, say)", n)
		}
	})
	release()
}

// bindToDevice binds a socket to dev (SO_BINDTODEVICE).
func bindToDevice(dev string) net.ListenConfig {
	return net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, dev)
		})
		if err != nil {
			return err
		}
		return serr
	}}
}

// sendOn sends n datagrams from src to dst on dev, 25 ms apart, in this namespace.
func sendOn(dev, src, dst string, n int) error {
	lc := bindToDevice(dev)
	c, err := lc.ListenPacket(context.Background(), "udp4", src)
	if err != nil {
		return err
	}
	defer c.Close()
	for range n {
		_, _ = c.WriteTo([]byte("from the old owner"), mustUDPAddr(dst))
		time.Sleep(25 * time.Millisecond)
	}
	return nil
}

// listenOn listens for datagrams to addr on dev, in this namespace.
func listenOn(dev, addr string) (*net.UDPConn, error) {
	lc := bindToDevice(dev)
	c, err := lc.ListenPacket(context.Background(), "udp4", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}

// countFrames counts the frames dev in inst receives from now on (its own outgoing ones
// left out) until the function it returns is called, which returns the count.
func countFrames(t *testing.T, p *Plane, inst, dev string) func() int {
	t.Helper()
	var fd int
	err := p.DoInstance(inst, func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return err
		}
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL))); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: l.Attrs().Index})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 50_000}); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		buf := make([]byte, 2048)
		for {
			select {
			case <-done:
				return
			default:
			}
			_, from, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				continue
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype != unix.PACKET_OUTGOING {
				n.Add(1)
			}
		}
	}()
	return func() int {
		close(done)
		<-ended
		_ = unix.Close(fd)
		return int(n.Load())
	}
}

// TestShutPairNotAdopted: an ENI moves from i-web to i-c, and the agent stops before its
// old pair in i-web is deleted (held here); when it restarts, the ENI is back on i-web. The
// restarted plane must not take the shut old pair for the ENI's (its port passes nothing):
// it makes a new one, and the ENI answers in i-web.
func TestShutPairNotAdopted(t *testing.T) {
	p, d, release := movedHeld(t)

	p2, err := New(Options{Prefix: p.prefix})
	if err != nil {
		t.Fatal(err)
	}
	p2.bridgePorts = testBridgePorts
	t.Cleanup(func() { // before p's teardown
		p2.Close() // its kept pair stays
		p2.bg.Wait()
	})
	findENI(&d, "eni-x").InstanceID = "i-web"
	if st := reconcile(t, p2, d); st.ENIs.Get("eni-x") != "i-web" {
		t.Fatalf("eni-x realised in %q, want i-web", st.ENIs.Get("eni-x"))
	}
	serveTCP(t, p2, p2.InstanceNS("i-web"), 8080, "web")
	mustReach(t, p2, p2.InstanceNS("i-b"), "10.0.1.20:8080", "web")
	release()
}

// movedHeld is a plane where eni-x moved from i-web to i-c by d, the deletion of its old
// pair in i-web held until release (or the test's end, before the teardown, which waits
// for it).
func movedHeld(t *testing.T) (p *Plane, d Desired, release func()) {
	t.Helper()
	p = newTestPlane(t)
	d = eniXInWeb(t, p)
	hold := make(chan struct{})
	release = sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release)
	p.retireStarts = func() { <-hold }
	findENI(&d, "eni-x").InstanceID = "i-c"
	if st := reconcile(t, p, d); st.ENIs.Get("eni-x") != "i-c" {
		t.Fatalf("eni-x realised in %q, want i-c", st.ENIs.Get("eni-x"))
	}
	p.retireStarts = nil
	return p, d, release
}

// movedBack is a plane (the kept pairs kept for the test's length) where eni-x went
// i-web, i-c, i-web and i-c again, each pass right after the last: the last two took the
// pair the ENI had left in their instance, opened again (the same link), and the one in
// i-web is kept, shut. Each time the ENI answers where it is, and a pass after the last
// changes nothing.
func movedBack(t *testing.T) (*Plane, Desired) {
	t.Helper()
	p := newTestPlane(t)
	p.keepIdle, p.keepFor = time.Hour, time.Hour
	d := eniXInWeb(t, p)
	for _, id := range []string{"i-web", "i-c"} {
		serveTCP(t, p, p.InstanceNS(id), 9000, id)
	}
	index := map[string]int{}
	withHandle(t, p.InstanceNS("i-web"), func(h *netlink.Handle) {
		l, err := h.LinkByName("eth1")
		if err != nil {
			t.Fatalf("eth1 in i-web: %v", err)
		}
		index["i-web"] = l.Attrs().Index
	})
	for k, to := range []string{"i-c", "i-web", "i-c"} {
		findENI(&d, "eni-x").InstanceID = to
		if st := reconcile(t, p, d); st.ENIs.Get("eni-x") != to {
			t.Fatalf("move %d: eni-x realised in %q, want %s", k+1, st.ENIs.Get("eni-x"), to)
		}
		mustReach(t, p, p.InstanceNS("i-b"), "10.0.1.20:9000", to)
		withHandle(t, p.InstanceNS(to), func(h *netlink.Handle) {
			l, err := h.LinkByName("eth1")
			if err != nil {
				t.Fatalf("move %d: eth1 in %s: %v", k+1, to, err)
			}
			if was, ok := index[to]; ok && was != l.Attrs().Index {
				t.Errorf("move %d: eth1 in %s is a new link (%d, was %d): the pair the ENI left there was not opened again", k+1, to, l.Attrs().Index, was)
			}
			index[to] = l.Attrs().Index
		})
	}
	reconcileStable(t, p, d)
	return p, d
}

// TestMovesAmongThree: an ENI moved on before the pair it left is deleted, among three
// instances, finds a free host name each time (three: its pair, the one kept, one being
// deleted) and answers where it is; once the passes pause, only its pair is left. Its
// passes read the datapath's links in one dump, as large ones do (dumpAt).
func TestMovesAmongThree(t *testing.T) {
	p := newTestPlane(t)
	p.keepIdle, p.keepFor, p.dumpAt = time.Hour, time.Hour, 1
	d := eniXInWeb(t, p)
	for _, id := range []string{"i-web", "i-b", "i-c"} {
		serveTCP(t, p, p.InstanceNS(id), 9000, id)
	}
	var index []int // eth1's in the instance it moved to
	for k, to := range []string{"i-b", "i-c", "i-web", "i-b", "i-c", "i-b", "i-web"} {
		findENI(&d, "eni-x").InstanceID = to
		if st := reconcile(t, p, d); st.ENIs.Get("eni-x") != to {
			t.Fatalf("move %d: eni-x realised in %q, want %s", k+1, st.ENIs.Get("eni-x"), to)
		}
		from := "i-web"
		if to == from {
			from = "i-b"
		}
		mustReach(t, p, p.InstanceNS(from), "10.0.1.20:9000", to)
		withHandle(t, p.InstanceNS(to), func(h *netlink.Handle) {
			l, err := h.LinkByName("eth1")
			if err != nil {
				t.Fatalf("move %d: eth1 in %s: %v", k+1, to, err)
			}
			index = append(index, l.Attrs().Index)
		})
	}
	// The sixth move took back the pair the fifth left in i-b (the fourth's); every other
	// move made a pair.
	if index[5] != index[3] {
		t.Errorf("move 6: eth1 in i-b is a new link (%d), not the one the ENI left there (%d)", index[5], index[3])
	}
	p.keepIdle, p.keepFor = deferIdle, deferMax
	reconcile(t, p, d) // arms the pause's timer with them
	waitRetired(t, p)
	reconcileStable(t, p, d)
	for _, id := range []string{"i-b", "i-c"} {
		withHandle(t, p.InstanceNS(id), func(h *netlink.Handle) {
			if _, err := h.LinkByName("eth1"); err == nil {
				t.Errorf("eth1 still in %s once the passes paused", id)
			}
		})
	}
}

// TestKeptForAtMost: a pair an ENI left goes after keepFor even while the passes go on
// (passes with nothing to do, every 20 ms: the pause never comes).
func TestKeptForAtMost(t *testing.T) {
	p := newTestPlane(t)
	p.keepIdle, p.keepFor = time.Hour, time.Second
	d := eniXInWeb(t, p)
	findENI(&d, "eni-x").InstanceID = "i-c"
	reconcile(t, p, d)
	moved := time.Now()
	eth1 := func() bool {
		found := false
		withHandle(t, p.InstanceNS("i-web"), func(h *netlink.Handle) { _, err := h.LinkByName("eth1"); found = err == nil })
		return found
	}
	if !eth1() && time.Since(moved) < p.keepFor {
		t.Fatal("eth1 gone from i-web at once: the pair the ENI left was not kept")
	}
	for eth1() {
		if time.Since(moved) > 10*time.Second {
			t.Fatal("eth1 still in i-web 10 s after the move: the pair the ENI left was kept beyond keepFor")
		}
		reconcile(t, p, d)
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(moved); took < p.keepFor/2 {
		t.Errorf("the kept pair went after %s, before keepFor (%s)", took, p.keepFor)
	}
}

// TestKernelAtLeast: portLocks' check of the kernel's release, which must say no when in
// doubt (a port then goes down, as on kernels without locked ports).
func TestKernelAtLeast(t *testing.T) {
	for _, c := range []struct {
		release string
		want    bool
	}{
		{"6.18.44-fc-v1272", true}, {"5.18.0", true}, {"5.19.17-generic", true}, {"10.1", true},
		{"5.15.0-91-generic", false}, {"4.19.1", false}, {"5", false}, {"", false}, {"x.y", false},
	} {
		if got := kernelAtLeast(c.release, 5, 18); got != c.want {
			t.Errorf("kernelAtLeast(%q, 5, 18) = %v, want %v", c.release, got, c.want)
		}
	}
}

// waitRetired waits until the pairs the ENIs left are deleted: those kept (retire) go once
// the passes pause for deferIdle.
func waitRetired(t testing.TB, p *Plane) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		n := len(p.deferred)
		p.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pairs the ENIs left still kept after 10s", n)
		}
		time.Sleep(deferIdle / 5)
	}
	p.bg.Wait()
}

// eniXInWeb is the base with eni-x (10.0.1.20, device index 1) attached to i-web, realised
// by p (and a second pass changing nothing).
func eniXInWeb(t *testing.T, p *Plane) Desired {
	t.Helper()
	d := baseDesired()
	d.ENIs = append(d.ENIs, ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
		PrimaryIP: "10.0.1.20", InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}})
	reconcileStable(t, p, d)
	return d
}
