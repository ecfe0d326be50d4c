package core

import (
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// wildcardRegexp is the reference for Wildcard: the EC2 filter pattern as a
// regular expression ('*' any run, '?' any one character, '\' quotes the next
// character; a trailing '\' is itself).
func wildcardRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '*':
			b.WriteString(`.*`)
		case c == '?':
			b.WriteString(`.`)
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

// FuzzWildcard compares Wildcard with the regular-expression reference on
// valid UTF-8 ('?' matches one character, as in AWS).
func FuzzWildcard(f *testing.F) {
	for _, s := range [][2]string{
		{"*", ""}, {"a*b?c", "axxbyc"}, {`\*x`, "*x"}, {`\*x`, "ax"}, {`a\`, `a\`}, {"**?*", "z"},
		{"eni-*", "eni-0123456789abcdef0"}, {"10.0.*.5", "10.0.12.5"}, {"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{`\?`, "?"}, {`\?`, "a"}, {"?", ""}, {"a*", "a\nb"}, {"?", "é"}, {"t?st-*", "tést-1"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 64 || len(s) > 256 || !utf8.ValidString(p) || !utf8.ValidString(s) {
			t.Skip()
		}
		want := wildcardRegexp(p).MatchString(s)
		if got := Wildcard(p, s); got != want {
			t.Fatalf("Wildcard(%q, %q) = %v, reference says %v", p, s, got, want)
		}
	})
}

// FuzzCIDR checks the VPC CIDR validation and the IPv4 address helpers of
// the IPAM on arbitrary strings and offsets.
func FuzzCIDR(f *testing.F) {
	for _, s := range []string{"10.0.0.0/16", "172.31.0.0/16", "10.0.0.1/28", "10.0.0.0/29", "10.0.0.0/15",
		"0.0.0.0/0", "255.255.255.255/32", "10.0.0.0/016", "::ffff:10.0.0.0/112", "2600:1f18::/56", "10.0.0.0",
		" 10.0.0.0/16", "10.0.0.0/16\n", "1.2.3.4/33", "01.2.3.4/16"} {
		f.Add(s, uint64(1))
	}
	f.Fuzz(func(t *testing.T, cidr string, n uint64) {
		p, err := checkVPCCidr(cidr)
		parsed, perr := netip.ParsePrefix(cidr)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || (ce.Code != CodeInvalidParameterValue && ce.Code != CodeInvalidVpcRange) {
				t.Fatalf("checkVPCCidr(%q) = %v", cidr, err)
			}
			if perr == nil && parsed.Addr().Is4() && parsed.Bits() >= 16 && parsed.Bits() <= 28 {
				t.Fatalf("checkVPCCidr(%q) rejected a valid block: %v", cidr, err)
			}
		} else {
			if perr != nil || !p.Addr().Is4() || p.Bits() < 16 || p.Bits() > 28 || p != p.Masked() || p != parsed.Masked() {
				t.Fatalf("checkVPCCidr(%q) = %v", cidr, p)
			}
		}
		if perr != nil || !parsed.Addr().Is4() {
			return
		}
		// IPv4 helpers: offsets are plain 32-bit arithmetic on the base.
		base := parsed.Masked().Addr()
		b4 := base.As4()
		u := uint32(b4[0])<<24 | uint32(b4[1])<<16 | uint32(b4[2])<<8 | uint32(b4[3])
		off := n % prefixSize(parsed)
		a := addrAdd(base, off)
		if !parsed.Contains(a) || a.As4() != u32to4(u+uint32(off)) {
			t.Fatalf("addrAdd(%s, %d) = %s", base, off, a)
		}
		last := lastAddr(parsed)
		if !parsed.Contains(last) || last != addrAdd(base, prefixSize(parsed)-1) {
			t.Fatalf("lastAddr(%s) = %s", parsed, last)
		}
		if parsed.Bits() <= 28 {
			if r := RouterIP(cidr); r != addrAdd(base, 1) || !reservedIPv4(parsed, r) {
				t.Fatalf("RouterIP(%q) = %s", cidr, r)
			}
			if !reservedIPv4(parsed, base) || !reservedIPv4(parsed, last) || reservedIPv4(parsed, addrAdd(base, 4)) {
				t.Fatalf("reservedIPv4 wrong for %s", parsed)
			}
		}
	})
}

func u32to4(v uint32) [4]byte { return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
