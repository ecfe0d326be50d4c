package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// A task's floor on this machine, without eni: what any Go client of a data plane pays
// to start a command in a network namespace with an interface of its own. Its three
// parts, measured by BenchmarkRunTaskStart in the same run as eni-run-task:
//   - go: a static Go program that does nothing, from its exec to its exit (the client's
//     own start; eni-run-task links more);
//   - netif: a veth pair made in a namespace that exists (as the plane's spare ones do),
//     one end with an address, both up (the least the task's ENI takes of the kernel);
//   - sh: the command (the same sh as the benchmark's tasks) started in that namespace,
//     to its first line read.

// floorProgram builds the do-nothing Go program once, in dir.
func floorProgram(tb testing.TB, dir string) string {
	tb.Helper()
	src := filepath.Join(dir, "floor")
	if err := os.MkdirAll(src, 0o755); err != nil {
		tb.Fatal(err)
	}
	for name, body := range map[string]string{"go.mod": "module floor\n\ngo 1.24\n", "main.go": "package main\n\nfunc main() {}\n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "floor-bin")
	cmd := exec.Command("go", "build", "-o", bin+".link", ".")
	cmd.Dir, cmd.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build (the floor's Go program): %v\n%s", err, out)
	}
	if err := buildCopy(bin+".link", bin); err != nil { // as eni's (installCopy)
		tb.Fatal(err)
	}
	return bin
}

// floorOnce measures the floor's netif and sh parts once: on a locked OS thread, in a
// network namespace of its own (unshared before the clock starts, as a spare is made
// ahead; gone with the thread), it makes the pair and starts sh.
func floorOnce(tb testing.TB, sh []string) (netif, start time.Duration) {
	tb.Helper()
	type result struct {
		netif, start time.Duration
		err          error
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with its namespace
		var r result
		defer func() { res <- r }()
		if r.err = unix.Unshare(unix.CLONE_NEWNET); r.err != nil {
			return
		}
		t0 := time.Now()
		if r.err = floorNetif(); r.err != nil {
			return
		}
		r.netif = time.Since(t0)
		t1 := time.Now()
		cmd := exec.Command(sh[0], sh[1:]...) // forked from this thread: in its namespace
		stdin, err := cmd.StdinPipe()
		if err != nil {
			r.err = err
			return
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			r.err = err
			return
		}
		if r.err = cmd.Start(); r.err != nil {
			return
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		r.start = time.Since(t1)
		if err == nil && line != "listening\n" {
			err = fmt.Errorf("sh said %q", line)
		}
		r.err = err
		_ = stdin.Close()
		_ = cmd.Wait()
	}()
	r := <-res
	if r.err != nil {
		tb.Fatalf("the floor: %v", r.err)
	}
	return r.netif, r.start
}

// floorNetif makes, in the calling thread's namespace, a one-queue veth pair with an
// address on one end, both ends and lo up.
func floorNetif() error {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Delete()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0", NumTxQueues: 1, NumRxQueues: 1}, PeerName: "host0"}
	if err := h.LinkAdd(v); err != nil {
		return err
	}
	for _, name := range []string{"lo", "host0", "eth0"} {
		l, err := h.LinkByName(name)
		if err != nil {
			return err
		}
		if name == "eth0" {
			if err := h.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 0, 1, 9), Mask: net.CIDRMask(24, 32)}}); err != nil {
				return err
			}
		}
		if err := h.LinkSetUp(l); err != nil {
			return err
		}
	}
	return nil
}
