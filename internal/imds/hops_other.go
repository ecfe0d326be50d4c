//go:build !linux

package imds

import "net"

// setHopLimit is Linux's (the metadata service runs on the Linux data plane only).
func setHopLimit(net.Conn, int) error { return nil }
