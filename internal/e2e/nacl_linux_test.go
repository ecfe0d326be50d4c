package e2e

import (
	"encoding/binary"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// aclLab: a VPC with subnets A (10.0.1.0/24: web, peer) and B (10.0.2.0/24: client), all
// in an open group; web serves TCP 80 and echoes UDP 7; A has an ACL of its own.
type aclLab struct {
	*env
	vpc, subA, subB, acl string
	web, peer, client    string // namespaces
	clientID             string
	webIP                string
}

func newACLLab(t testing.TB) *aclLab {
	e := newEnv(t)
	l := &aclLab{env: e}
	l.vpc = e.vpc("10.0.0.0/16")
	l.subA, l.subB = e.subnet(l.vpc, "10.0.1.0/24"), e.subnet(l.vpc, "10.0.2.0/24")
	open := e.sgOpen(l.vpc, "open", "10.0.0.0/16")
	web, peer, client := e.launch(l.subA, open), e.launch(l.subA, open), e.launch(l.subB, open)
	e.waitRunning(web, peer, client)
	l.web, l.peer, l.client = e.plane.InstanceNS(web), e.plane.InstanceNS(peer), e.plane.InstanceNS(client)
	l.clientID = client
	l.webIP = *e.primaryENI(web).PrivateIpAddress
	e.serve(l.web, 80, "web")
	e.reach(l.client, l.webIP+":80", "web") // the default ACL allows everything
	out, err := e.ec2.CreateNetworkAcl(ctx(), &ec2.CreateNetworkAclInput{VpcId: aws.String(l.vpc)})
	e.must(err)
	l.acl = *out.NetworkAcl.NetworkAclId
	l.entry(false, 100, "-1", "allow", 0, 0)
	l.entry(true, 100, "-1", "allow", 0, 0)
	acls, err := e.ec2.DescribeNetworkAcls(ctx(), &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("association.subnet-id"), Values: []string{l.subA}}}})
	e.must(err)
	var assoc string
	for _, a := range acls.NetworkAcls[0].Associations {
		if *a.SubnetId == l.subA {
			assoc = *a.NetworkAclAssociationId
		}
	}
	_, err = e.ec2.ReplaceNetworkAclAssociation(ctx(), &ec2.ReplaceNetworkAclAssociationInput{
		AssociationId: aws.String(assoc), NetworkAclId: aws.String(l.acl)})
	e.must(err)
	e.settle()
	return l
}

// entry creates (or, replace, replaces) an entry of A's ACL for 10.0.2.0/24 (subnet B).
func (l *aclLab) entry(egress bool, n int32, proto, action string, from, to int32, replace ...bool) {
	l.t.Helper()
	var ports *types.PortRange
	if proto == "6" || proto == "17" {
		ports = &types.PortRange{From: aws.Int32(from), To: aws.Int32(to)}
	}
	cidr := "10.0.2.0/24"
	if proto == "-1" {
		cidr = "0.0.0.0/0"
	}
	var err error
	if len(replace) > 0 && replace[0] {
		_, err = l.ec2.ReplaceNetworkAclEntry(ctx(), &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(l.acl),
			Egress: aws.Bool(egress), RuleNumber: aws.Int32(n), Protocol: aws.String(proto),
			RuleAction: types.RuleAction(action), CidrBlock: aws.String(cidr), PortRange: ports})
	} else {
		_, err = l.ec2.CreateNetworkAclEntry(ctx(), &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(l.acl),
			Egress: aws.Bool(egress), RuleNumber: aws.Int32(n), Protocol: aws.String(proto),
			RuleAction: types.RuleAction(action), CidrBlock: aws.String(cidr), PortRange: ports})
	}
	l.must(err)
}

// TestNetworkACLs: through the EC2 API, A's ACL filters what crosses A's boundary (B to
// A and back), not what stays in A; a deny before the allow blocks, ReplaceNetworkAclEntry
// lifts it; replies need the ephemeral ports outbound; a running UDP stream stops when its
// port is denied and goes on when allowed again.
func TestNetworkACLs(t *testing.T) {
	l := newACLLab(t)
	l.entry(false, 90, "6", "deny", 80, 80)
	l.settle()
	l.noReach(l.client, l.webIP+":80")
	l.reach(l.peer, l.webIP+":80", "web") // within A: not filtered

	l.entry(false, 90, "6", "allow", 80, 80, true)
	l.reach(l.client, l.webIP+":80", "web")

	// Stateless: the replies go to the client's ephemeral port and need A's outbound.
	l.entry(true, 100, "6", "allow", 80, 80, true)
	l.settle()
	l.noReach(l.client, l.webIP+":80")
	l.entry(true, 100, "6", "allow", 1024, 65535, true)
	l.reach(l.client, l.webIP+":80", "web")
	l.entry(true, 100, "-1", "allow", 0, 0, true)

	// A stream that is running: it stops when denied, goes on when allowed.
	start := time.Now()
	s := l.udpStream(t)
	l.waitFor("the UDP stream flows", func() (bool, string) { return s.repliedAfter(start), "" })
	l.entry(false, 90, "17", "deny", 7, 7, true)
	l.settle()
	denied := time.Now()
	time.Sleep(4 * failTimeout) // replies to what was sent after the deny would have come back by now
	if s.repliedAfter(denied) {
		t.Fatal("the UDP stream still flows after the deny")
	}
	l.entry(false, 90, "17", "allow", 7, 7, true)
	allowed := time.Now()
	l.waitFor("the UDP stream flows again", func() (bool, string) { return s.repliedAfter(allowed), "" })
}

// udpStream sends a numbered datagram every millisecond from the client to web's echo port
// and records when each one sent was answered.
type udpStream struct {
	mu     sync.Mutex
	sent   []time.Time // by sequence number
	lastOK int         // highest sequence number answered (-1: none)
	gotAt  time.Time   // when it was
}

func (l *aclLab) udpStream(t testing.TB) *udpStream {
	var srv *net.UDPConn
	l.must(l.plane.Do(l.web, func() (err error) { srv, err = net.ListenUDP("udp4", &net.UDPAddr{Port: 7}); return err }))
	var cl *net.UDPConn
	l.must(l.plane.Do(l.client, func() (err error) {
		cl, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(l.webIP), Port: 7})
		return err
	}))
	s := &udpStream{lastOK: -1}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); srv.Close(); cl.Close() })
	go func() {
		b := make([]byte, 64)
		for {
			n, a, err := srv.ReadFromUDP(b)
			if err != nil {
				return
			}
			_, _ = srv.WriteToUDP(b[:n], a)
		}
	}()
	go func() {
		b := make([]byte, 64)
		for {
			n, err := cl.Read(b)
			if err != nil {
				return
			}
			if n == 8 {
				seq := int(binary.BigEndian.Uint64(b))
				s.mu.Lock()
				if seq > s.lastOK {
					s.lastOK, s.gotAt = seq, time.Now()
				}
				s.mu.Unlock()
			}
		}
	}()
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		b := make([]byte, 8)
		for seq := 0; ; seq++ {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			s.mu.Lock()
			s.sent = append(s.sent, time.Now())
			s.mu.Unlock()
			binary.BigEndian.PutUint64(b, uint64(seq))
			_, _ = cl.Write(b)
		}
	}()
	return s
}

// repliedAfter: a datagram sent at or after t was answered.
func (s *udpStream) repliedAfter(t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastOK >= 0 && !s.sent[s.lastOK].Before(t)
}

// lastPassed is when the last answered datagram was sent.
func (s *udpStream) lastPassed() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastOK < 0 {
		return time.Time{}
	}
	return s.sent[s.lastOK]
}

// firstReplyAfter is when the first datagram sent at or after t was answered (zero: none yet).
func (s *udpStream) firstReplyAfter(t time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastOK >= 0 && !s.sent[s.lastOK].Before(t) {
		return s.gotAt
	}
	return time.Time{}
}

// BenchmarkNetworkACLChange: from ReplaceNetworkAclEntry's call to its effect on a
// running UDP stream (a datagram a millisecond), through the API, the agent and the
// plane: "deny-ms" is when the last datagram that still passed was sent, "allow-ms" when
// the first one sent after the call was answered (medians).
func BenchmarkNetworkACLChange(b *testing.B) {
	l := newACLLab(b)
	l.entry(false, 90, "17", "allow", 7, 7)
	start := time.Now()
	s := l.udpStream(b)
	l.waitFor("the UDP stream flows", func() (bool, string) { return s.repliedAfter(start), "" })
	var deny, allow []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		l.entry(false, 90, "17", "deny", 7, 7, true)
		l.settle()
		time.Sleep(4 * failTimeout)
		deny = append(deny, float64(max(s.lastPassed().Sub(t0), 0))/1e6)
		t1 := time.Now()
		l.entry(false, 90, "17", "allow", 7, 7, true)
		var got time.Time
		l.waitFor("the stream flows again", func() (bool, string) { got = s.firstReplyAfter(t1); return !got.IsZero(), "" })
		allow = append(allow, float64(got.Sub(t1))/1e6)
	}
	b.ReportMetric(median(deny), "deny-ms")
	b.ReportMetric(median(allow), "allow-ms")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
