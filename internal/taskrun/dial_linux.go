package taskrun

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// dialDirect connects over TCP to an IP address literal (or localhost: 127.0.0.1,
// then ::1) and port with the kernel's sockets, as a pollable *os.File, without the
// net package: linking net (its resolver, its initialisation, the code its first
// dial touches) was a millisecond of eni-run-task's start here. ok is false for a
// host it does not dial (a name other than localhost): the Client's Dial does.
func dialDirect(ctx context.Context, host, port string) (c Conn, ok bool, err error) {
	addrs := directAddrs(host)
	if addrs == nil {
		return nil, false, nil
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, true, fmt.Errorf("dial tcp %s: invalid port %q", host, port)
	}
	var first error
	for _, a := range addrs {
		if c, err = dialAddr(ctx, a, int(p)); err == nil {
			return c, true, nil
		}
		first = cmp.Or(first, err) // as net: the first address's error
	}
	return nil, true, first
}

// directAddrs are the addresses dialDirect tries for host; nil: it does not dial
// host. An address with a zone (fe80::1%eth0) is left to net.
func directAddrs(host string) []netip.Addr {
	if strings.EqualFold(host, "localhost") {
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return nil
	}
	return []netip.Addr{a.Unmap()}
}

// DialsItself reports whether a Client without Dial reaches the endpoint
// rawURL: http:// to an IP address or localhost.
func DialsItself(rawURL string) bool {
	u, err := parseEndpoint(rawURL)
	return err == nil && u.Scheme == "http" && directAddrs(u.Hostname()) != nil
}

// dialAddr connects to a:port, waiting (non-blocking, in the runtime's poller) at
// most until ctx's deadline.
func dialAddr(ctx context.Context, a netip.Addr, port int) (Conn, error) {
	addr := netip.AddrPortFrom(a, uint16(port)).String()
	fam, sa := unix.AF_INET6, unix.Sockaddr(&unix.SockaddrInet6{Port: port, Addr: a.As16()})
	if a.Is4() {
		fam, sa = unix.AF_INET, &unix.SockaddrInet4{Port: port, Addr: a.As4()}
	}
	fd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, fmt.Errorf("dial tcp %s: %w", addr, os.NewSyscallError("socket", err))
	}
	cerr := unix.Connect(fd, sa)
	if cerr != nil && cerr != unix.EINPROGRESS && cerr != unix.EINTR {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("dial tcp %s: %w", addr, os.NewSyscallError("connect", cerr))
	}
	f := os.NewFile(uintptr(fd), "tcp "+addr) // non-blocking: in the poller, with deadlines
	if d, ok := ctx.Deadline(); ok {
		_ = f.SetDeadline(d)
	}
	if cerr != nil {
		if err := awaitConnect(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("dial tcp %s: %w", addr, err)
		}
	}
	return f, nil
}

// awaitConnect waits for f's connect in progress to end, as net does: writable,
// then no error pending and a peer.
func awaitConnect(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	werr := rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			cerr = os.NewSyscallError("getsockopt", err)
			return true
		case v == 0:
			if _, err := unix.Getpeername(int(fd)); err == nil {
				return true
			}
			return false // not connected yet: wait for writable
		}
		switch e := unix.Errno(v); e {
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			return false
		case unix.EISCONN:
			return true
		default:
			cerr = os.NewSyscallError("connect", e)
			return true
		}
	})
	if errors.Is(werr, os.ErrDeadlineExceeded) {
		return errors.New("i/o timeout")
	}
	return errors.Join(werr, cerr)
}
