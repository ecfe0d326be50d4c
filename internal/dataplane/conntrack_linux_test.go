package dataplane

import (
	"encoding/binary"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// TestForgetMarks: both ways of forgetting marks' connections (the kernel's deletions
// by mark for a few marks, one walk for more) delete exactly the connections whose mark
// names one of them, as their source or their destination, in any zone and family.
func TestForgetMarks(t *testing.T) {
	requireNetAdmin(t)
	type conn struct {
		port     uint16 // the connection's source port: which it is
		v6       bool
		zone     uint16
		src, dst uint32 // the ENI marks in its mark
	}
	conns := []conn{
		{1001, false, 0, 1, 2},
		{1002, false, 5, 3, 1},
		{1003, true, 7, 4, 5},
		{1004, true, 300, 1, 6},
		{1005, false, 300, 6, 7},
		{1006, false, 9, 0x101, 0x201}, // 1 in its low byte only: not mark 1's
		{1007, false, 0, 1, markTransit},
		{1008, true, 0, markTransit, 9},
	}
	for _, tc := range []struct {
		name  string
		marks []uint32
		left  []uint16
	}{
		{"by mark", []uint32{1}, []uint16{1003, 1005, 1006, 1008}},
		{"by mark, two", []uint32{1, 4}, []uint16{1005, 1006, 1008}},
		{"walk", []uint32{1, 4, 900, 901, 902, 903, 904, 905, 906}, []uint16{1005, 1006, 1008}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := unshareNet()
			if err != nil {
				t.Fatal(err)
			}
			ns := netns.NsHandle(fd)
			defer ns.Close()
			ct, err := openCT(ns)
			if err != nil {
				t.Fatal(err)
			}
			defer ct.Close()
			for _, c := range conns {
				src, dst := net.ParseIP("10.0.0.1"), net.ParseIP("10.0.0.2")
				if c.v6 {
					src, dst = net.ParseIP("fd00::1"), net.ParseIP("fd00::2")
				}
				if err := ctCreate(ct, src, dst, c.port, c.zone, c.dst<<16|c.src); err != nil {
					t.Fatalf("create connection %d: %v", c.port, err)
				}
			}
			if got := ctPorts(t, ct); len(got) != len(conns) {
				t.Fatalf("connections made: %v, want %d", got, len(conns))
			}
			if (len(tc.marks) > flushMarksAtMost) != (tc.name == "walk") {
				t.Fatalf("%d marks do not take the way this case is for", len(tc.marks))
			}
			if err := forgetMarksWith(ct, tc.marks); err != nil {
				t.Fatal(err)
			}
			if got := ctPorts(t, ct); !slices.Equal(got, tc.left) {
				t.Errorf("forget %v: connections left %v, want %v", tc.marks, got, tc.left)
			}
		})
	}
}

// ctCreate adds a UDP connection from src:port to dst:53 with mark in zone to the
// connection tracking of ct's namespace.
func ctCreate(ct *ctConn, src, dst net.IP, port, zone uint16, mark uint32) error {
	fam := uint8(unix.AF_INET)
	if src.To4() == nil {
		fam = unix.AF_INET6
	}
	req := ct.request(nl.IPCTNL_MSG_CT_NEW, unix.NLM_F_ACK|unix.NLM_F_CREATE, fam)
	req.AddData(ctTuple(nl.CTA_TUPLE_ORIG, src, dst, port, 53))
	req.AddData(ctTuple(nl.CTA_TUPLE_REPLY, dst, src, 53, port))
	req.AddData(nl.NewRtAttr(nl.CTA_TIMEOUT, binary.BigEndian.AppendUint32(nil, 300)))
	req.AddData(nl.NewRtAttr(nl.CTA_MARK, binary.BigEndian.AppendUint32(nil, mark)))
	req.AddData(nl.NewRtAttr(nl.CTA_ZONE, binary.BigEndian.AppendUint16(nil, zone)))
	_, err := req.Execute(unix.NETLINK_NETFILTER, 0)
	return err
}

// ctTuple is a connection's UDP tuple attribute (kind: original or reply).
func ctTuple(kind int, src, dst net.IP, sport, dport uint16) *nl.RtAttr {
	t := nl.NewRtAttr(unix.NLA_F_NESTED|kind, nil)
	ip := nl.NewRtAttr(unix.NLA_F_NESTED|nl.CTA_TUPLE_IP, nil)
	if src.To4() != nil {
		ip.AddRtAttr(nl.CTA_IP_V4_SRC, src.To4())
		ip.AddRtAttr(nl.CTA_IP_V4_DST, dst.To4())
	} else {
		ip.AddRtAttr(nl.CTA_IP_V6_SRC, src.To16())
		ip.AddRtAttr(nl.CTA_IP_V6_DST, dst.To16())
	}
	t.AddChild(ip)
	p := nl.NewRtAttr(unix.NLA_F_NESTED|nl.CTA_TUPLE_PROTO, nil)
	p.AddRtAttr(nl.CTA_PROTO_NUM, []byte{unix.IPPROTO_UDP})
	p.AddRtAttr(nl.CTA_PROTO_SRC_PORT, binary.BigEndian.AppendUint16(nil, sport))
	p.AddRtAttr(nl.CTA_PROTO_DST_PORT, binary.BigEndian.AppendUint16(nil, dport))
	t.AddChild(p)
	return t
}

// ctPorts are the source ports of the connections tracked in ct's namespace, sorted.
func ctPorts(t *testing.T, ct *ctConn) []uint16 {
	t.Helper()
	var ports []uint16
	for _, fam := range []netlink.InetFamily{unix.AF_INET, unix.AF_INET6} {
		flows, err := ct.h.ConntrackTableList(netlink.ConntrackTable, fam)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range flows {
			ports = append(ports, f.Forward.SrcPort)
		}
	}
	slices.Sort(ports)
	return ports
}

// TestForgetAfterDatapathAgain: a mark released while a walk is under way on the
// sockets of a datapath namespace made again since is forgotten in the new one. (The
// walk after it was chained on the old namespace's sockets: the new namespace's
// connections of that mark stayed, to be taken by its next owner.)
func TestForgetAfterDatapathAgain(t *testing.T) {
	p := newTestPlane(t)
	d := baseDesired()
	d.ENIs = append(d.ENIs,
		ENI{ID: "eni-x", MAC: "02:00:00:00:01:14", SubnetID: "subnet-a", VPCID: "vpc-1",
			PrimaryIP: "10.0.1.20", InstanceID: "i-web", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}},
		ENI{ID: "eni-y", MAC: "02:00:00:00:01:15", SubnetID: "subnet-a", VPCID: "vpc-1",
			PrimaryIP: "10.0.1.21", InstanceID: "i-b", DeviceIndex: 1, SourceDestCheck: true, Groups: []string{"sg-open"}})
	reconcileStable(t, p, d)
	started, release := holdWalks(t, p)
	findENI(&d, "eni-y").InstanceID = ""
	reconcile(t, p, d)
	select {
	case <-started: // held, on the first datapath's sockets
	case <-time.After(passTimeout):
		t.Fatal("releasing eni-y's mark started no walk")
	}
	gen := p.cache.dp.gen
	if err := deleteNS(p.DatapathNS()); err != nil {
		t.Fatal(err)
	}
	verify(t, p, d) // the datapath made again
	if p.cache.dp.gen == gen {
		t.Fatal("the datapath namespace was not opened anew")
	}
	dp, err := netns.GetFromName(p.DatapathNS())
	if err != nil {
		t.Fatal(err)
	}
	defer dp.Close()
	ct, err := openCT(dp)
	if err != nil {
		t.Fatal(err)
	}
	defer ct.Close()
	if err := ctCreate(ct, net.ParseIP("10.0.1.20"), net.ParseIP("10.0.1.21"), 4242, 0, p.cache.marks["eni-x"]); err != nil {
		t.Fatal(err)
	}
	// The held walk ends a while after the next pass starts; that pass may wait for it,
	// and its own walk must run on the new datapath's sockets.
	time.AfterFunc(300*time.Millisecond, release)
	findENI(&d, "eni-x").InstanceID = ""
	reconcile(t, p, d)
	deadline := time.Now().Add(passTimeout)
	for slices.Contains(ctPorts(t, ct), 4242) {
		if time.Now().After(deadline) {
			t.Fatalf("eni-x's connection in the new datapath is still tracked %s after its mark's release", passTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// With no walk under way, the datapath made again closes the old one's sockets
	// (they kept the old namespace alive).
	p.mu.Lock()
	p.cache.forgot(true)
	p.mu.Unlock()
	if err := deleteNS(p.DatapathNS()); err != nil {
		t.Fatal(err)
	}
	verify(t, p, d)
	if c := p.cache; c.ct != nil && c.ctGen != c.dp.gen {
		t.Error("the connection-tracking sockets of the datapath before are still open")
	}
}
