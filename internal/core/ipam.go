package core

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
)

// Subnet IPAM. A subnet's addresses in use are derived from its ENIs (the
// committed index plus the transaction's own writes), so nothing can hand the
// same address out twice: two ENIs of a transaction's view never share one.

// subnetPrefix parses a subnet's IPv4 CIDR.
func subnetPrefix(s *Subnet) netip.Prefix {
	p, _ := netip.ParsePrefix(s.CidrBlock) // stored CIDRs were validated
	return p.Masked()
}

func addrAdd(a netip.Addr, n uint64) netip.Addr {
	if a.Is4() {
		b := a.As4()
		v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
		v += n
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	x := new(big.Int).SetBytes(a.AsSlice())
	x.Add(x, new(big.Int).SetUint64(n))
	if x.BitLen() > 128 {
		return netip.Addr{} // past ffff:…:ffff: no such address
	}
	var out [16]byte
	x.FillBytes(out[:])
	return netip.AddrFrom16(out)
}

// prefixSize returns the number of addresses in an IPv4 prefix.
func prefixSize(p netip.Prefix) uint64 { return 1 << (32 - p.Bits()) }

// lastAddr returns the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	if p.Addr().Is4() {
		return addrAdd(p.Masked().Addr(), prefixSize(p)-1)
	}
	b := p.Masked().Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	return netip.AddrFrom16(b)
}

// reservedIPv4 reports whether a is one of the five addresses AWS keeps in
// every subnet: the network address, +1 (router), +2 (DNS), +3 and broadcast.
func reservedIPv4(p netip.Prefix, a netip.Addr) bool {
	base := p.Masked().Addr()
	for i := uint64(0); i < 4; i++ {
		if a == addrAdd(base, i) {
			return true
		}
	}
	return a == lastAddr(p)
}

// RouterIP returns the subnet's router address (base+1).
func RouterIP(cidr string) netip.Addr {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Addr{}
	}
	return addrAdd(p.Masked().Addr(), 1)
}

// ipv4Owner returns the ENI that holds a in the subnet in this transaction's
// view, as one of its addresses or inside one of its delegated prefixes, or
// "".
func (tx *Tx) ipv4Owner(subnetID string, a netip.Addr) string {
	if owner := tx.prefixOwner(subnetID, netip.PrefixFrom(a, ipv4PrefixBits).Masked()); owner != "" {
		return owner
	}
	return tx.ipv4AddrOwner(subnetID, a)
}

// ipv4AddrOwner returns the ENI that holds a as one of its addresses (not in
// a prefix), or "".
func (tx *Tx) ipv4AddrOwner(subnetID string, a netip.Addr) string {
	s := a.String()
	if owner, ok := tx.db.idx.ipv4[subnetID][a]; ok {
		if e := tx.enis.Get(owner); e != nil && e.SubnetID == subnetID && e.HasIP(s) {
			return owner
		}
	}
	for id, e := range tx.enis.over {
		if e != nil && e.SubnetID == subnetID && e.HasIP(s) {
			return id
		}
	}
	return ""
}

// ipv4PrefixBits is the size of a delegated IPv4 prefix: always a /28.
const ipv4PrefixBits = 28

// prefixOwner returns the ENI that holds the delegated prefix pf (a /28 or
// a /80) in the subnet in this transaction's view, or "".
func (tx *Tx) prefixOwner(subnetID string, pf netip.Prefix) string {
	idx, held := tx.db.idx.ipv4Prefix, func(e *ENI) []string { return e.IPv4Prefixes }
	if pf.Addr().Is6() {
		idx, held = tx.db.idx.ipv6Prefix, func(e *ENI) []string { return e.IPv6Prefixes }
	}
	// On every address lookup: no string is made unless an ENI holds prefixes.
	holds := func(e *ENI) bool {
		ps := held(e)
		return e.SubnetID == subnetID && len(ps) > 0 && slices.Contains(ps, pf.String())
	}
	if owner, ok := idx[subnetID][pf]; ok {
		if e := tx.enis.Get(owner); e != nil && holds(e) {
			return owner
		}
	}
	for id, e := range tx.enis.over {
		if e != nil && holds(e) {
			return id
		}
	}
	return ""
}

// checkIPv4Prefix validates a /28 a client asked for in the subnet: aligned,
// inside the subnet and clear of its reserved addresses.
func checkIPv4Prefix(s *Subnet, prefix string) (netip.Prefix, error) {
	if s.Ipv6Native {
		return netip.Prefix{}, errNoIPv4(s)
	}
	pf, err := netip.ParsePrefix(prefix)
	if err != nil || !pf.Addr().Is4() || pf.Bits() != ipv4PrefixBits || pf != pf.Masked() {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Invalid IPv4 prefix: %s. A prefix must be a /28 CIDR block (for example 10.0.0.16/28).", prefix)
	}
	sp := subnetPrefix(s)
	if !sp.Contains(pf.Addr()) || sp.Bits() > pf.Bits() {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Prefix %s does not fall within the subnet's address range", prefix)
	}
	if reservedIPv4(sp, pf.Addr()) || reservedIPv4(sp, lastAddr(pf)) {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Prefix %s includes addresses reserved by AWS", prefix)
	}
	return pf, nil
}

// ipv4PrefixFree reports whether no ENI holds pf or any address in it.
func (tx *Tx) ipv4PrefixFree(subnetID string, pf netip.Prefix) bool {
	if tx.prefixOwner(subnetID, pf) != "" {
		return false
	}
	for i := uint64(0); i < prefixSize(pf); i++ {
		if tx.ipv4AddrOwner(subnetID, addrAdd(pf.Addr(), i)) != "" {
			return false
		}
	}
	return true
}

// freeIPv4PrefixBlocks counts the subnet's free /28s, stopping at enough.
func (tx *Tx) freeIPv4PrefixBlocks(s *Subnet, enough int) int {
	sp := subnetPrefix(s)
	n := 0
	if sp.Bits() > ipv4PrefixBits {
		return 0
	}
	for off := uint64(0); off < prefixSize(sp) && n < enough; off += 1 << (32 - ipv4PrefixBits) {
		pf := netip.PrefixFrom(addrAdd(sp.Addr(), off), ipv4PrefixBits)
		if !reservedIPv4(sp, pf.Addr()) && !reservedIPv4(sp, lastAddr(pf)) && tx.ipv4PrefixFree(s.ID, pf) {
			n++
		}
	}
	return n
}

// allocIPv4Prefix picks a free /28 of the subnet: one in which no address is
// taken, so a subnet with free addresses may still have none (AWS answers
// InsufficientCidrBlocks then too). Callers must put the ENI that takes it
// before allocating the next one.
func (tx *Tx) allocIPv4Prefix(s *Subnet) (netip.Prefix, error) {
	if s.Ipv6Native {
		return netip.Prefix{}, errNoIPv4(s)
	}
	sp := subnetPrefix(s)
	if sp.Bits() <= ipv4PrefixBits {
		for off := uint64(0); off < prefixSize(sp); off += 1 << (32 - ipv4PrefixBits) {
			pf := netip.PrefixFrom(addrAdd(sp.Addr(), off), ipv4PrefixBits)
			if reservedIPv4(sp, pf.Addr()) || reservedIPv4(sp, lastAddr(pf)) {
				continue
			}
			if tx.ipv4PrefixFree(s.ID, pf) {
				return pf, nil
			}
		}
	}
	return netip.Prefix{}, errorf(CodeInsufficientCidrBlocks, "The specified subnet does not have enough free cidr blocks to satisfy the request.")
}

// checkIPv4 validates an address a client asked for in the subnet.
func (tx *Tx) checkIPv4(s *Subnet, addr string) (netip.Addr, error) {
	if s.Ipv6Native {
		return netip.Addr{}, errNoIPv4(s)
	}
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is4() {
		return netip.Addr{}, errorf(CodeInvalidParameterValue, "Invalid IPv4 address: %s", addr)
	}
	p := subnetPrefix(s)
	if !p.Contains(a) {
		return netip.Addr{}, errorf(CodeInvalidParameterValue, "Address %s does not fall within the subnet's address range", addr)
	}
	if reservedIPv4(p, a) {
		return netip.Addr{}, errorf(CodeInvalidParameterValue, "Address %s is reserved by AWS and cannot be assigned", addr)
	}
	return a, nil
}

// The ways of picking a private IPv4 address nobody asked for (Config.PrivateIPAllocation).
const (
	// AllocLowest gives addresses in order from the bottom of the subnet, each
	// the next free one after the last one given (10.0.1.4, 10.0.1.5, …):
	// predictable addresses for walkthroughs and tests.
	AllocLowest = "lowest"
	// AllocRandom gives a free address from a random place in the subnet, as AWS
	// does ("we select an available IP address in the subnet's IPv4 range"): a
	// client's own choice of a fixed address is then unlikely to be taken.
	AllocRandom = "random"
)

// ParsePrivateIPAllocation checks a PrivateIPAllocation value ("" is AllocLowest).
func ParsePrivateIPAllocation(s string) (string, error) {
	switch s {
	case "", AllocLowest:
		return AllocLowest, nil
	case AllocRandom:
		return AllocRandom, nil
	}
	return "", fmt.Errorf("private IP allocation %q: want %s or %s", s, AllocLowest, AllocRandom)
}

// allocIPv4 picks a free address of the subnet: the first free one from a
// start, the next address after the last one given (AllocLowest) or a random
// one (AllocRandom, as AWS). Callers must put the ENI that takes it before
// allocating the next one.
func (tx *Tx) allocIPv4(s *Subnet) (netip.Addr, error) {
	if s.Ipv6Native {
		return netip.Addr{}, errNoIPv4(s)
	}
	p := subnetPrefix(s)
	size := prefixSize(p)
	base := p.Masked().Addr()
	start := uint64(tx.db.idx.cursor[s.ID])
	if tx.cfg.PrivateIPAllocation == AllocRandom {
		var b [4]byte
		_, _ = tx.env.Rand.Read(b[:]) // the injected source does not fail (newID checks it)
		start = 4 + uint64(binary.BigEndian.Uint32(b[:]))%(size-5)
	}
	if start < 4 || start >= size-1 {
		start = 4
	}
	for i := uint64(0); i < size; i++ {
		off := 4 + (start-4+i)%(size-5)
		a := addrAdd(base, off)
		if tx.ipv4Owner(s.ID, a) == "" {
			if !tx.readOnly {
				tx.db.idx.cursor[s.ID] = uint32(off + 1) // only a hint; harmless if the tx aborts
			}
			return a, nil
		}
	}
	return netip.Addr{}, errorf(CodeInsufficientFreeAddresses, "There aren't sufficient free Ipv4 addresses or prefixes in subnet %s", s.ID)
}

// AvailableIPv4 returns the subnet's free IPv4 count in this view.
func (tx *Tx) availableIPv4(s *Subnet) int {
	const perPrefix = 1 << (32 - ipv4PrefixBits)
	used := len(tx.db.idx.ipv4[s.ID]) + perPrefix*len(tx.db.idx.ipv4Prefix[s.ID])
	for id, e := range tx.enis.over {
		if old := tx.enis.base.rows[id]; old != nil && old.SubnetID == s.ID {
			used -= len(old.PrivateIPs) + perPrefix*len(old.IPv4Prefixes)
		}
		if e != nil && e.SubnetID == s.ID {
			used += len(e.PrivateIPs) + perPrefix*len(e.IPv4Prefixes)
		}
	}
	if s.Ipv6Native {
		return 0
	}
	return int(prefixSize(subnetPrefix(s))) - 5 - used
}

// ipv6PrefixBits is the size of a delegated IPv6 prefix: always a /80.
const ipv6PrefixBits = 80

// ipv6Owner returns the ENI that holds a in the subnet, as one of its
// addresses or inside one of its delegated prefixes, or "".
func (tx *Tx) ipv6Owner(subnetID string, a netip.Addr) string {
	if owner := tx.prefixOwner(subnetID, netip.PrefixFrom(a, ipv6PrefixBits).Masked()); owner != "" {
		return owner
	}
	return tx.ipv6AddrOwner(subnetID, a)
}

// checkIPv6Prefix validates a /80 a client asked for in the subnet: aligned,
// inside the subnet's /64 and clear of its reserved addresses.
func checkIPv6Prefix(s *Subnet, prefix string) (netip.Prefix, error) {
	if s.Ipv6CidrBlock == "" {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Subnet %s does not have an IPv6 CIDR block", s.ID)
	}
	pf, err := netip.ParsePrefix(prefix)
	if err != nil || !pf.Addr().Is6() || pf.Addr().Is4In6() || pf.Bits() != ipv6PrefixBits || pf != pf.Masked() {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Invalid IPv6 prefix: %s. A prefix must be a /80 CIDR block.", prefix)
	}
	sp := netip.MustParsePrefix(s.Ipv6CidrBlock).Masked()
	if !sp.Contains(pf.Addr()) {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Prefix %s does not fall within the subnet's address range", prefix)
	}
	if pf.Addr() == sp.Addr() || lastAddr(pf) == lastAddr(sp) {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Prefix %s includes addresses reserved by AWS", prefix)
	}
	return pf, nil
}

// ipv6PrefixFree reports whether no ENI holds pf or any address in it.
func (tx *Tx) ipv6PrefixFree(subnetID string, pf netip.Prefix) bool {
	if tx.prefixOwner(subnetID, pf) != "" {
		return false
	}
	for a := range tx.db.idx.ipv6[subnetID] {
		if pf.Contains(a) && tx.ipv6AddrOwner(subnetID, a) != "" {
			return false
		}
	}
	for _, e := range tx.enis.over {
		if e == nil || e.SubnetID != subnetID {
			continue
		}
		for _, s := range e.IPv6 {
			if a, err := netip.ParseAddr(s); err == nil && pf.Contains(a) {
				return false
			}
		}
	}
	return true
}

// allocIPv6Prefix picks a free /80 of the subnet's /64, from a pseudo-random
// start as for addresses. Callers must put the ENI that takes it before
// allocating the next one.
func (tx *Tx) allocIPv6Prefix(s *Subnet) (netip.Prefix, error) {
	if s.Ipv6CidrBlock == "" {
		return netip.Prefix{}, errorf(CodeInvalidParameterValue, "Subnet %s does not have an IPv6 CIDR block", s.ID)
	}
	sp := netip.MustParsePrefix(s.Ipv6CidrBlock).Masked()
	const blocks = 1 << (ipv6PrefixBits - 64)
	var b [2]byte
	_, _ = tx.env.Rand.Read(b[:]) // the injected source does not fail (newID checks it)
	start := uint64(b[0])<<8 | uint64(b[1])
	for i := uint64(0); i < blocks; i++ {
		k := (start + i) % blocks
		if k == 0 || k == blocks-1 { // hold the reserved addresses
			continue
		}
		base := sp.Addr().As16()
		base[8], base[9] = byte(k>>8), byte(k)
		pf := netip.PrefixFrom(netip.AddrFrom16(base), ipv6PrefixBits)
		if tx.ipv6PrefixFree(s.ID, pf) {
			return pf, nil
		}
	}
	return netip.Prefix{}, errorf(CodeInsufficientCidrBlocks, "The specified subnet does not have enough free cidr blocks to satisfy the request.")
}

// ipv6AddrOwner returns the ENI that holds a as one of its addresses (not in
// a prefix), or "".
func (tx *Tx) ipv6AddrOwner(subnetID string, a netip.Addr) string {
	has := func(e *ENI) bool {
		for _, s := range e.IPv6 {
			if b, err := netip.ParseAddr(s); err == nil && b == a {
				return true
			}
		}
		return false
	}
	if owner, ok := tx.db.idx.ipv6[subnetID][a]; ok {
		if e := tx.enis.Get(owner); e != nil && e.SubnetID == subnetID && has(e) {
			return owner
		}
	}
	for id, e := range tx.enis.over {
		if e != nil && e.SubnetID == subnetID && has(e) {
			return id
		}
	}
	return ""
}

// checkIPv6 validates an IPv6 address a client asked for in the subnet.
func (tx *Tx) checkIPv6(s *Subnet, addr string) (netip.Addr, error) {
	if s.Ipv6CidrBlock == "" {
		return netip.Addr{}, errorf(CodeInvalidParameterValue, "Subnet %s does not have an IPv6 CIDR block", s.ID)
	}
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() || a.Is4In6() {
		return netip.Addr{}, errorf(CodeInvalidParameterValue, "Invalid IPv6 address: %s", addr)
	}
	p := netip.MustParsePrefix(s.Ipv6CidrBlock)
	if !p.Contains(a) {
		return netip.Addr{}, errorf(CodeInvalidParameterValue, "Address %s does not fall within the subnet's address range", addr)
	}
	base := p.Masked().Addr()
	for i := uint64(0); i < 4; i++ {
		if a == addrAdd(base, i) {
			return netip.Addr{}, errorf(CodeInvalidParameterValue, "Address %s is reserved by AWS and cannot be assigned", addr)
		}
	}
	if a == lastAddr(p) {
		return netip.Addr{}, errorf(CodeInvalidParameterValue, "Address %s is reserved by AWS and cannot be assigned", addr)
	}
	return a, nil
}

// allocIPv6 picks a free IPv6 address of the subnet's /64.
func (tx *Tx) allocIPv6(s *Subnet) (netip.Addr, error) {
	if s.Ipv6CidrBlock == "" {
		return netip.Addr{}, errorf(CodeInvalidParameterValue, "Subnet %s does not have an IPv6 CIDR block", s.ID)
	}
	base := netip.MustParsePrefix(s.Ipv6CidrBlock).Masked().Addr()
	// Pseudo-random start within the /64, as AWS does, then linear probing.
	var b [4]byte
	_, _ = tx.env.Rand.Read(b[:]) // the injected source does not fail (newID checks it)
	start := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	for i := uint64(0); i < 1<<20; i++ {
		a := addrAdd(base, 4+start+i)
		if tx.ipv6Owner(s.ID, a) == "" {
			return a, nil
		}
	}
	return netip.Addr{}, errorf(CodeInsufficientFreeAddresses, "There aren't sufficient free Ipv6 addresses in subnet %s", s.ID)
}

// publicOwner returns the Elastic IP allocation or ENI that holds public
// address a in this view, or "".
func (tx *Tx) publicOwner(a netip.Addr) string {
	s := a.String()
	if owner, ok := tx.db.idx.public[a]; ok {
		if ad := tx.addresses.Get(owner); ad != nil && ad.PublicIP == s {
			return owner
		}
		if e := tx.enis.Get(owner); e != nil && e.PublicIP == s {
			return owner
		}
	}
	for id, ad := range tx.addresses.over {
		if ad != nil && ad.PublicIP == s {
			return id
		}
	}
	for id, e := range tx.enis.over {
		if e != nil && e.PublicIP == s {
			return id
		}
	}
	return ""
}

// allocPublicIP picks a free address of the public pool.
func (tx *Tx) allocPublicIP() (netip.Addr, error) {
	for _, p := range tx.cfg.PublicPool {
		p = p.Masked()
		size := prefixSize(p)
		for off := uint64(1); off+1 < size; off++ { // skip network and broadcast
			a := addrAdd(p.Addr(), off)
			if tx.publicOwner(a) == "" {
				return a, nil
			}
		}
	}
	return netip.Addr{}, errorf(CodeAddressLimitExceeded, "The public address pool is exhausted.")
}
