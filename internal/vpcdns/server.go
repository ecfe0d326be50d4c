// Package vpcdns is the VPC resolver (Amazon-provided DNS) as an instance queries it at
// its VPC's base + 2, 169.254.169.253 or fd00:ec2::253: Answer turns a query into its
// reply from what the core says of the name (core.DNSAnswer, read from the model on each
// query), and Server answers the sockets the data plane opens in each VPC router with
// github.com/miekg/dns, over UDP and TCP.
//
// The package does not decide which VPC asks: the socket does (the data plane hands each
// VPC router's sockets over with its VPC's id; only that VPC's ENIs reach them).
package vpcdns

import (
	"log/slog"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/eni-net/eni/internal/core"
)

// TTL of every record, in seconds (AWS's private names have 60).
const TTL = 60

// Options configure a Server.
type Options struct {
	// Resolve is what the resolver of a VPC says of a name (the core's ResolveVPCDNS,
	// for the data plane's region).
	Resolve func(vpcID, name string) core.DNSAnswer
	Logger  *slog.Logger
}

// Server answers the VPC resolver's queries.
type Server struct{ opt Options }

// New returns a Server.
func New(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Server{opt: opt}
}

// ServeDNSPacket answers the UDP queries of VPC vpcID that reach pc, until it is closed.
func (s *Server) ServeDNSPacket(vpcID string, pc net.PacketConn) error {
	srv := &dns.Server{PacketConn: pc, Handler: s.handler(vpcID, true)}
	return srv.ActivateAndServe()
}

// ServeDNSStream answers the TCP queries of VPC vpcID that reach ln, until it is closed.
func (s *Server) ServeDNSStream(vpcID string, ln net.Listener) error {
	srv := &dns.Server{Listener: ln, Handler: s.handler(vpcID, false),
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }}
	return srv.ActivateAndServe()
}

func (s *Server) handler(vpcID string, udp bool) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := Answer(q, func(name string) core.DNSAnswer { return s.opt.Resolve(vpcID, name) })
		if m == nil { // the VPC's resolver is off: nothing answers
			if !udp {
				_ = w.Close() // the asker sees the connection end
			}
			return
		}
		if udp {
			size := dns.MinMsgSize
			if o := q.IsEdns0(); o != nil && int(o.UDPSize()) > size {
				size = int(o.UDPSize())
			}
			m.Truncate(size)
		}
		if err := w.WriteMsg(m); err != nil {
			s.opt.Logger.Debug("vpc resolver: reply not sent", "vpc", vpcID, "err", err)
		}
	})
}

// Answer is the reply to query q, whose names resolve says; nil when resolve refuses
// (the VPC's DNS support is off: the resolver does not answer at all, as on AWS).
// One question of class IN is answered: its A, AAAA, PTR or ANY records, NOERROR with
// no answer for another type of a known name, NXDOMAIN for an unknown name (nothing is
// forwarded); more than one question is FORMERR, another opcode NOTIMP, another class
// REFUSED.
func Answer(q *dns.Msg, resolve func(name string) core.DNSAnswer) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	if o := q.IsEdns0(); o != nil {
		m.SetEdns0(4096, false)
	}
	switch {
	case q.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
		return m
	case len(q.Question) != 1:
		m.Rcode = dns.RcodeFormatError
		return m
	}
	qn := q.Question[0]
	if qn.Qclass != dns.ClassINET && qn.Qclass != dns.ClassANY {
		m.Rcode = dns.RcodeRefused
		return m
	}
	a := resolve(qn.Name)
	switch {
	case a.Refused:
		return nil
	case !a.Exists:
		m.Rcode = dns.RcodeNameError
		return m
	}
	m.Answer = records(qn, a)
	return m
}

// records are the records of a of the type the question asks.
func records(qn dns.Question, a core.DNSAnswer) []dns.RR {
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: qn.Name, Rrtype: t, Class: dns.ClassINET, Ttl: TTL}
	}
	any := qn.Qtype == dns.TypeANY
	var out []dns.RR
	if qn.Qtype == dns.TypeA || any {
		for _, ip := range a.A {
			out = append(out, &dns.A{Hdr: hdr(dns.TypeA), A: net.IP(ip.AsSlice())})
		}
	}
	if qn.Qtype == dns.TypeAAAA || any {
		for _, ip := range a.AAAA {
			out = append(out, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: net.IP(ip.AsSlice())})
		}
	}
	if (qn.Qtype == dns.TypePTR || any) && a.PTR != "" {
		out = append(out, &dns.PTR{Hdr: hdr(dns.TypePTR), Ptr: dns.Fqdn(a.PTR)})
	}
	return out
}
