package sha

import (
	"crypto/hmac"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

func stdHMAC(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func check(t *testing.T, key, data []byte) {
	t.Helper()
	if got, want := Sum256(data), sha256.Sum256(data); got != want {
		t.Fatalf("Sum256 of %d bytes: %x, want %x", len(data), got, want)
	}
	if got, want := HMAC(key, data), stdHMAC(key, data); string(got[:]) != string(want) {
		t.Fatalf("HMAC, key of %d bytes, data of %d: %x, want %x", len(key), len(data), got, want)
	}
}

// TestAgainstStdlib: every length to past two blocks (the padding's three cases: room
// for the length in the last block, none, an exact block), longer ones, and keys shorter
// than, as long as and longer than a block (a longer key is hashed first).
func TestAgainstStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 5000)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	for n := 0; n <= 200; n++ {
		check(t, buf[n:n+n%130], buf[:n])
	}
	for _, n := range []int{255, 256, 257, 1000, 4095, 4096, 5000} {
		check(t, buf[:64], buf[:n])
		check(t, buf[:65], buf[:n])
	}
	check(t, nil, nil)
	// FIPS 180-4's own example, "abc".
	if got := Sum256([]byte("abc")); string(got[:]) != "\xba\x78\x16\xbf\x8f\x01\xcf\xea\x41\x41\x40\xde\x5d\xae\x22\x23\xb0\x03\x61\xa3\x96\x17\x7a\x9c\xb4\x10\xff\x61\xf2\x00\x15\xad" {
		t.Fatalf("Sum256(abc) = %x", got)
	}
}

func FuzzAgainstStdlib(f *testing.F) {
	f.Add([]byte("key"), []byte("The quick brown fox jumps over the lazy dog"))
	f.Add(make([]byte, 100), make([]byte, 119))
	f.Fuzz(func(t *testing.T, key, data []byte) { check(t, key, data) })
}
