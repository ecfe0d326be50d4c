package dataplane

import (
	"testing"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// TestEchoedPeer: the peer's index is read from the echo of the link made (its name
// and IFLA_LINK), and is 0 (look it up) when the echo is of another link, has no
// IFLA_LINK (a kernel that leaves it out) or is none.
func TestEchoedPeer(t *testing.T) {
	echo := func(name string, link int) []byte {
		b := nl.NewIfInfomsg(unix.AF_UNSPEC).Serialize()
		b = append(b, nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)).Serialize()...)
		b = append(b, nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(1500)).Serialize()...)
		if link > 0 {
			b = append(b, nl.NewRtAttr(unix.IFLA_LINK, nl.Uint32Attr(uint32(link))).Serialize()...)
		}
		return b
	}
	for _, c := range []struct {
		what string
		msgs [][]byte
		want int
	}{
		{"its echo", [][]byte{echo("e-h1", 7)}, 7},
		{"another link's, then its", [][]byte{echo("e-h2", 9), echo("e-h1", 3)}, 3},
		{"another link's", [][]byte{echo("e-h2", 9)}, 0},
		{"no IFLA_LINK", [][]byte{echo("e-h1", 0)}, 0},
		{"no echo", nil, 0},
		{"too short", [][]byte{{1, 2}}, 0},
	} {
		if got := echoedPeer(c.msgs, "e-h1"); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
}
