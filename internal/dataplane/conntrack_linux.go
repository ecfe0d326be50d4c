package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ctConn is the plane's netfilter sockets in the datapath, for forgetting the tracked
// connections of released marks: a handle that walks the whole table, and a socket
// that asks the kernel to delete the connections of one mark (with its own sequence
// numbers: a stale answer is told apart).
type ctConn struct {
	h *netlink.Handle
	s *nl.SocketHandle
}

// openCT opens a ctConn in the namespace ns.
func openCT(ns netns.NsHandle) (*ctConn, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, err
	}
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_NETFILTER)
	if err != nil {
		h.Close()
		return nil, err
	}
	tv := unix.NsecToTimeval(ctTimeout.Nanoseconds())
	err = errors.Join(h.SetSocketTimeout(ctTimeout), s.SetReceiveTimeout(&tv), s.SetSendTimeout(&tv))
	if err != nil {
		h.Close()
		s.Close()
		return nil, err
	}
	return &ctConn{h: h, s: &nl.SocketHandle{Socket: s}}, nil
}

// ctTimeout bounds each send and receive on the connection-tracking sockets, so that
// a kernel that does not answer fails the walk (its marks are released again and its
// sockets closed) instead of holding it, and a pass that waits for the walks
// (planeCache.forgot), forever. A walk sends and receives many times (a deletion a
// connection, two requests a mark): it is not a bound on a whole walk.
const ctTimeout = 10 * time.Second

// Close closes c's sockets.
func (c *ctConn) Close() {
	c.h.Close()
	c.s.Close()
}

// flushMarksAtMost is the most marks forgotten by the kernel's deletions by mark
// (ctConn.flushMark), two per mark; more are forgotten by one walk of the table.
// On an idle host here a deletion by mark costs about 0.15 ms, a walk of both families
// about 4 ms: the kernel's dump locks each bucket of its table (262,144 here, shared by
// every namespace), used or not, where its deletion passes over the empty ones (and
// returns at once from a namespace without connections).
const flushMarksAtMost = 8

// flushByMark says whether this kernel deletes connections by mark and mask as
// forgetMarksWith needs: it does since Linux 4.10 (before, a deletion without a tuple
// deleted them all), and 5.8 compared the whole mark after the masked one (fixed in
// 5.9). An older kernel forgets them by walks.
var flushByMark = sync.OnceValue(func() bool { return runningAtLeast(5, 9) })

// forgetMarksWith deletes the datapath's tracked connections whose mark names one of
// marks, as the source's ENI (bits 0-15) or the destination's (bits 16-31), whatever
// their zone and family, on ct.
func forgetMarksWith(ct *ctConn, marks []uint32) error {
	if len(marks) > flushMarksAtMost || !flushByMark() {
		return walkForget(ct.h, marks)
	}
	for _, m := range marks {
		for _, f := range [][2]uint32{{m, 0xffff}, {m << 16, 0xffff << 16}} {
			if err := ct.flushMark(f[0], f[1]); err != nil {
				return fmt.Errorf("datapath: forget connections: %w", err)
			}
		}
	}
	return nil
}

// flushMark has the kernel delete the connections, of every family and zone, whose
// mark masked by mask is val (ctnetlink's flush, filtered by CTA_MARK and
// CTA_MARK_MASK).
func (c *ctConn) flushMark(val, mask uint32) error {
	req := c.request(nl.IPCTNL_MSG_CT_DELETE, unix.NLM_F_ACK, unix.AF_UNSPEC)
	req.AddData(nl.NewRtAttr(nl.CTA_MARK, binary.BigEndian.AppendUint32(nil, val)))
	req.AddData(nl.NewRtAttr(ctaMarkMask, binary.BigEndian.AppendUint32(nil, mask)))
	_, err := req.Execute(unix.NETLINK_NETFILTER, 0)
	return err
}

// request is a request of op (IPCTNL_MSG_CT_...) on the connection table, for the
// family fam, on c's socket.
func (c *ctConn) request(op int, flags uint16, fam uint8) *nl.NetlinkRequest {
	req := &nl.NetlinkRequest{
		NlMsghdr: unix.NlMsghdr{Len: unix.SizeofNlMsghdr, Type: uint16(int(netlink.ConntrackTable)<<8 | op), Flags: unix.NLM_F_REQUEST | flags},
		Sockets:  map[int]*nl.SocketHandle{unix.NETLINK_NETFILTER: c.s},
	}
	req.AddData(&nl.Nfgenmsg{NfgenFamily: fam, Version: nl.NFNETLINK_V0})
	return req
}

// ctaMarkMask is CTA_MARK_MASK (linux/netfilter/nfnetlink_conntrack.h).
const ctaMarkMask = 21

// walkForget walks the whole table on h (both families) and deletes the connections
// whose mark names one of marks.
func walkForget(h *netlink.Handle, marks []uint32) error {
	f := markFilter{}
	for _, m := range marks {
		f[m] = true
	}
	for _, fam := range []netlink.InetFamily{unix.AF_INET, unix.AF_INET6} {
		if _, err := h.ConntrackDeleteFilters(netlink.ConntrackTable, fam, f); err != nil {
			return fmt.Errorf("datapath: forget connections: %w", err)
		}
	}
	return nil
}

// markFilter matches the connections between any ENI of its marks and another.
type markFilter map[uint32]bool

func (f markFilter) MatchConntrackFlow(c *netlink.ConntrackFlow) bool {
	return f[c.Mark&0xffff] || f[c.Mark>>16]
}
