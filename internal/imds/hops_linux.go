package imds

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// setHopLimit sets the IP TTL (IPv6 hop limit) of what conn sends from now on.
func setHopLimit(conn net.Conn, hops int) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return errors.New("imds: connection has no socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		if isIPv6(conn.LocalAddr()) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, hops)
		} else {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TTL, hops)
		}
	})
	return errors.Join(err, serr)
}
