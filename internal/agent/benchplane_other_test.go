//go:build !linux

package agent

import "testing"

// benchPlane is nil (the fake): the Linux data plane needs Linux.
func benchPlane(*testing.B) Realiser { return nil }
