package core

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strings"
)

// newID returns prefix-<17 hex>, like AWS's long ids.
func (tx *Tx) newID(prefix string) string {
	var b [9]byte
	if _, err := tx.env.Rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("core: id source failed: %v", err)) // the injected source is crypto/rand or a test rand
	}
	return prefix + "-" + hex.EncodeToString(b[:])[:17]
}

// validID reports whether id is prefix-<8 or 17 lower-case hex>.
func validID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"-")
	if !ok || (len(rest) != 8 && len(rest) != 17) {
		return false
	}
	for _, c := range rest {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// nextMAC hands out a locally administered unicast MAC that was never handed
// out before in this region: 02:RR:CC:CC:CC:CC with RR from the region name
// and a persisted counter.
func (tx *Tx) nextMAC() string {
	m := tx.meta.Mut("meta")
	m.MACCounter++
	h := fnv.New32a()
	h.Write([]byte(tx.Region))
	r := byte(h.Sum32())
	n := m.MACCounter
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", r, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
