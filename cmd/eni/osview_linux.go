package main

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// primaryIPv4 is the primary IPv4 address of eth0 in the calling thread's namespace.
func primaryIPv4() (string, error) {
	l, err := netlink.LinkByName("eth0")
	if err != nil {
		return "", err
	}
	as, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return "", err
	}
	for _, a := range as {
		if a.Flags&unix.IFA_F_SECONDARY == 0 {
			return a.IP.String(), nil
		}
	}
	return "", fmt.Errorf("eth0 has no IPv4 address")
}
