package vpcdns

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/eni-net/eni/internal/core"
)

func resolveFixed(name string) core.DNSAnswer {
	switch name {
	case "ip-10-0-1-4.ec2.internal.":
		return core.DNSAnswer{Exists: true, A: []netip.Addr{netip.MustParseAddr("10.0.1.4")}}
	case "i-0123456789abcdef0.ec2.internal.":
		return core.DNSAnswer{Exists: true, A: []netip.Addr{netip.MustParseAddr("10.0.1.5")}, AAAA: []netip.Addr{netip.MustParseAddr("2001:db8::5")}}
	case "4.1.0.10.in-addr.arpa.":
		return core.DNSAnswer{Exists: true, PTR: "ip-10-0-1-4.ec2.internal"}
	case "off.":
		return core.DNSAnswer{Refused: true}
	}
	return core.DNSAnswer{}
}

func query(name string, t uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, t)
	return m
}

// Answer: the records of the type asked, NODATA for another type of a known name,
// NXDOMAIN for an unknown one, no reply when the VPC's DNS is off, and the errors of
// malformed queries.
func TestAnswer(t *testing.T) {
	for _, c := range []struct {
		what  string
		q     *dns.Msg
		rcode int
		rrs   []string
	}{
		{"A", query("ip-10-0-1-4.ec2.internal.", dns.TypeA), dns.RcodeSuccess, []string{"ip-10-0-1-4.ec2.internal.\t60\tIN\tA\t10.0.1.4"}},
		{"AAAA of an IPv4 name: NODATA", query("ip-10-0-1-4.ec2.internal.", dns.TypeAAAA), dns.RcodeSuccess, nil},
		{"MX: NODATA", query("ip-10-0-1-4.ec2.internal.", dns.TypeMX), dns.RcodeSuccess, nil},
		{"AAAA", query("i-0123456789abcdef0.ec2.internal.", dns.TypeAAAA), dns.RcodeSuccess, []string{"i-0123456789abcdef0.ec2.internal.\t60\tIN\tAAAA\t2001:db8::5"}},
		{"ANY", query("i-0123456789abcdef0.ec2.internal.", dns.TypeANY), dns.RcodeSuccess, []string{
			"i-0123456789abcdef0.ec2.internal.\t60\tIN\tA\t10.0.1.5", "i-0123456789abcdef0.ec2.internal.\t60\tIN\tAAAA\t2001:db8::5"}},
		{"PTR", query("4.1.0.10.in-addr.arpa.", dns.TypePTR), dns.RcodeSuccess, []string{"4.1.0.10.in-addr.arpa.\t60\tIN\tPTR\tip-10-0-1-4.ec2.internal."}},
		{"unknown", query("example.com.", dns.TypeA), dns.RcodeNameError, nil},
		{"class CH", func() *dns.Msg {
			m := query("ip-10-0-1-4.ec2.internal.", dns.TypeA)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}(), dns.RcodeRefused, nil},
		{"two questions", func() *dns.Msg {
			m := query("ip-10-0-1-4.ec2.internal.", dns.TypeA)
			m.Question = append(m.Question, m.Question[0])
			return m
		}(), dns.RcodeFormatError, nil},
		{"UPDATE", func() *dns.Msg { m := query("ec2.internal.", dns.TypeSOA); m.Opcode = dns.OpcodeUpdate; return m }(), dns.RcodeNotImplemented, nil},
	} {
		m := Answer(c.q, resolveFixed)
		if m == nil {
			t.Errorf("%s: no reply", c.what)
			continue
		}
		if !m.Response || m.Id != c.q.Id || m.Rcode != c.rcode || !m.RecursionAvailable || m.Authoritative {
			t.Errorf("%s: reply %v", c.what, m)
		}
		var got []string
		for _, rr := range m.Answer {
			got = append(got, rr.String())
		}
		if len(got) != len(c.rrs) {
			t.Errorf("%s: answer %q, want %q", c.what, got, c.rrs)
			continue
		}
		for i := range got {
			if got[i] != c.rrs[i] {
				t.Errorf("%s: answer %q, want %q", c.what, got, c.rrs)
			}
		}
	}
	if m := Answer(query("off.", dns.TypeA), resolveFixed); m != nil {
		t.Errorf("DNS support off: reply %v, want none", m)
	}
	q := query("ip-10-0-1-4.ec2.internal.", dns.TypeA)
	q.SetEdns0(1232, false)
	if m := Answer(q, resolveFixed); m.IsEdns0() == nil {
		t.Errorf("EDNS query: reply without OPT")
	}
}
