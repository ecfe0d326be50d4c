// Package sha is SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104) over byte slices, in
// plain Go that imports neither crypto nor anything with an initialisation: what SigV4
// signing needs, for eni-run-task. Linking crypto/hmac and crypto/sha256 brought some
// thirty packages of the FIPS module (their initialisation, a DRBG, SHA-3, AES-GCM's
// registration) and the page faults of their code and data to every task's start: a
// program that signs with them started 0.45-1.4 ms later here than one that does nothing.
// It is checked against crypto/sha256 and crypto/hmac (sha_test.go). (The server's
// verifier signs with the SDK's signer, and with this package, through canon, only the
// requests it rebuilds.) The compression function is Go's generic one
// (crypto/internal/fips140/sha256/sha256block.go; its licence: LICENSE.go-authors).
package sha

import (
	"encoding/binary"
	"math/bits"
)

// Size is the length of a SHA-256 sum.
const Size = 32

const block = 64

// Sum256 is the SHA-256 sum of data.
func Sum256(data []byte) [Size]byte {
	h := [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
	n := len(data) / block * block
	blocks(&h, data[:n])
	var tail [2 * block]byte
	rest := copy(tail[:], data[n:])
	tail[rest] = 0x80
	end := block
	if rest >= block-8 {
		end = 2 * block
	}
	binary.BigEndian.PutUint64(tail[end-8:end], uint64(len(data))<<3)
	blocks(&h, tail[:end])
	var out [Size]byte
	for i, v := range h {
		binary.BigEndian.PutUint32(out[i*4:], v)
	}
	return out
}

// HMAC is the HMAC-SHA256 of data under key.
func HMAC(key, data []byte) [Size]byte {
	var k [block]byte
	if len(key) > block {
		s := Sum256(key)
		copy(k[:], s[:])
	} else {
		copy(k[:], key)
	}
	in := make([]byte, block+max(len(data), Size))
	for i := range k {
		in[i] = k[i] ^ 0x36
	}
	copy(in[block:], data)
	inner := Sum256(in[:block+len(data)])
	for i := range k {
		in[i] = k[i] ^ 0x5c
	}
	copy(in[block:], inner[:])
	return Sum256(in[:block+Size])
}

var k256 = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// blocks runs SHA-256's compression over p, whole blocks (Go's blockGeneric).
func blocks(dig *[8]uint32, p []byte) {
	var w [64]uint32
	h0, h1, h2, h3, h4, h5, h6, h7 := dig[0], dig[1], dig[2], dig[3], dig[4], dig[5], dig[6], dig[7]
	for len(p) >= block {
		a, b, c, d, e, f, g, h := h0, h1, h2, h3, h4, h5, h6, h7
		for i := range 64 {
			if i < 16 {
				w[i] = binary.BigEndian.Uint32(p[i*4:])
			} else {
				v1 := w[i-2]
				t1 := bits.RotateLeft32(v1, -17) ^ bits.RotateLeft32(v1, -19) ^ (v1 >> 10)
				v2 := w[i-15]
				t2 := bits.RotateLeft32(v2, -7) ^ bits.RotateLeft32(v2, -18) ^ (v2 >> 3)
				w[i] = t1 + w[i-7] + t2 + w[i-16]
			}
			t1 := h + (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) + ((e & f) ^ (^e & g)) + k256[i] + w[i]
			t2 := (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) + ((a & b) ^ (a & c) ^ (b & c))
			h, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
		}
		h0 += a
		h1 += b
		h2 += c
		h3 += d
		h4 += e
		h5 += f
		h6 += g
		h7 += h
		p = p[block:]
	}
	dig[0], dig[1], dig[2], dig[3], dig[4], dig[5], dig[6], dig[7] = h0, h1, h2, h3, h4, h5, h6, h7
}
