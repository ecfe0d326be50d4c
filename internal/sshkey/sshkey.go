// Package sshkey holds the SSH key formats of EC2 key pairs: the OpenSSH
// public key line, the formats ImportKeyPair accepts, the fingerprints AWS
// computes, and the private key formats CreateKeyPair returns (PEM and
// PuTTY's PPK). It is pure: generation takes its randomness from the caller.
package sshkey

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// Key types, as EC2 names them.
const (
	RSA     = "rsa"
	ED25519 = "ed25519"
)

// RSABits is the size of the RSA keys CreateKeyPair makes.
const RSABits = 2048

// ErrFormat says the material is no RSA or ED25519 public key in a format
// EC2 accepts.
var ErrFormat = errors.New("sshkey: not an RSA or ED25519 public key in OpenSSH, RFC 4716 or DER format")

// Generate makes a key of type typ (RSA or ED25519) from rand.
func Generate(typ string, rand io.Reader) (crypto.Signer, error) {
	switch typ {
	case RSA:
		return rsa.GenerateKey(rand, RSABits)
	case ED25519:
		_, k, err := ed25519.GenerateKey(rand)
		return k, err
	}
	return nil, fmt.Errorf("sshkey: unknown key type %q", typ)
}

// Type returns the EC2 key type of a public key.
func Type(pub crypto.PublicKey) string {
	if _, ok := pub.(ed25519.PublicKey); ok {
		return ED25519
	}
	return RSA
}

// algorithm is the SSH name of a public key's algorithm.
func algorithm(pub crypto.PublicKey) string {
	if Type(pub) == ED25519 {
		return "ssh-ed25519"
	}
	return "ssh-rsa"
}

// wire appends SSH wire-format fields: strings ([]byte, string) and mpints
// (*big.Int), RFC 4251 section 5.
func wire(b []byte, fields ...any) []byte {
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		case []byte:
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		case *big.Int:
			m := v.Bytes()
			if len(m) > 0 && m[0]&0x80 != 0 {
				m = append([]byte{0}, m...) // positive: a leading zero byte
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(m)))
			b = append(b, m...)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		default:
			panic(fmt.Sprintf("sshkey: wire field %T", f))
		}
	}
	return b
}

// Blob is the public key in SSH wire format (the base64 part of an
// authorized_keys line).
func Blob(pub crypto.PublicKey) []byte {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return wire(nil, "ssh-rsa", big.NewInt(int64(k.E)), k.N)
	case ed25519.PublicKey:
		return wire(nil, "ssh-ed25519", []byte(k))
	}
	panic(fmt.Sprintf("sshkey: public key %T", pub))
}

// AuthorizedKey is the public key as an OpenSSH authorized_keys line,
// without a trailing newline.
func AuthorizedKey(pub crypto.PublicKey, comment string) string {
	s := algorithm(pub) + " " + base64.StdEncoding.EncodeToString(Blob(pub))
	if comment != "" {
		s += " " + comment
	}
	return s
}

// colonHex writes a digest as aa:bb:cc...
func colonHex(d []byte) string {
	h := hex.EncodeToString(d)
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// sha256Fingerprint is OpenSSH's default fingerprint, base64 of the
// SHA-256 of the wire-format key, as EC2 shows it (with padding).
func sha256Fingerprint(pub crypto.PublicKey) string {
	d := sha256.Sum256(Blob(pub))
	return base64.StdEncoding.EncodeToString(d[:])
}

// ImportedFingerprint is the fingerprint EC2 gives an imported public key:
// for RSA the MD5 of its DER (SubjectPublicKeyInfo) form, in hex pairs; for
// ED25519 the base64 SHA-256 of its SSH form.
func ImportedFingerprint(pub crypto.PublicKey) (string, error) {
	if Type(pub) == ED25519 {
		return sha256Fingerprint(pub), nil
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	d := md5.Sum(der)
	return colonHex(d[:]), nil
}

// CreatedFingerprint is the fingerprint EC2 gives a key pair it made: for
// RSA the SHA-1 of the private key's DER (PKCS #8) form, in hex pairs; for
// ED25519 the base64 SHA-256 of the public key's SSH form.
func CreatedFingerprint(priv crypto.Signer) (string, error) {
	if Type(priv.Public()) == ED25519 {
		return sha256Fingerprint(priv.Public()), nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	d := sha1.Sum(der)
	return colonHex(d[:]), nil
}

// PEM is the private key as CreateKeyPair's "pem" format gives it: PKCS #1
// ("RSA PRIVATE KEY") for RSA, OpenSSH's own format ("OPENSSH PRIVATE
// KEY") for ED25519. check is the OpenSSH format's random check word.
func PEM(priv crypto.Signer, comment string, check uint32) (string, error) {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})), nil
	case ed25519.PrivateKey:
		return string(pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: openSSHPrivate(k, comment, check)})), nil
	}
	return "", fmt.Errorf("sshkey: private key %T", priv)
}

// openSSHPrivate is an unencrypted ED25519 key in the openssh-key-v1 format
// (OpenSSH's PROTOCOL.key).
func openSSHPrivate(k ed25519.PrivateKey, comment string, check uint32) []byte {
	pub := k.Public().(ed25519.PublicKey)
	priv := wire(nil, check, check, "ssh-ed25519", []byte(pub), []byte(k), comment)
	for i := byte(1); len(priv)%8 != 0; i++ {
		priv = append(priv, i) // padding to the cipher block size (8 for none)
	}
	b := append([]byte("openssh-key-v1"), 0)
	return wire(b, "none", "none", "", uint32(1), Blob(pub), priv)
}

// PPK is the private key in PuTTY's format, version 2 (unencrypted).
func PPK(priv crypto.Signer, comment string) (string, error) {
	var private []byte
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if len(k.Primes) != 2 {
			return "", errors.New("sshkey: RSA key without two primes")
		}
		private = wire(nil, k.D, k.Primes[0], k.Primes[1], new(big.Int).ModInverse(k.Primes[1], k.Primes[0]))
	case ed25519.PrivateKey:
		private = wire(nil, k.Seed())
	default:
		return "", fmt.Errorf("sshkey: private key %T", priv)
	}
	alg, public := algorithm(priv.Public()), Blob(priv.Public())
	macKey := sha1.Sum([]byte("putty-private-key-file-mac-key")) // an empty passphrase
	mac := hmac.New(sha1.New, macKey[:])
	mac.Write(wire(nil, alg, "none", comment, public, private))
	var b strings.Builder
	fmt.Fprintf(&b, "PuTTY-User-Key-File-2: %s\nEncryption: none\nComment: %s\n", alg, comment)
	ppkLines(&b, "Public", public)
	ppkLines(&b, "Private", private)
	fmt.Fprintf(&b, "Private-MAC: %x\n", mac.Sum(nil))
	return b.String(), nil
}

// ppkLines writes a PPK blob: its line count, then base64 in 64-column lines.
func ppkLines(b *strings.Builder, label string, blob []byte) {
	s := base64.StdEncoding.EncodeToString(blob)
	fmt.Fprintf(b, "%s-Lines: %d\n", label, (len(s)+63)/64)
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n")
}

// ParsePublic reads the public key material ImportKeyPair accepts: an
// OpenSSH authorized_keys line, an RFC 4716 ("---- BEGIN SSH2 PUBLIC KEY
// ----") file, or a base64 DER (SubjectPublicKeyInfo) RSA key.
func ParsePublic(material []byte) (crypto.PublicKey, error) {
	body := bytes.TrimSpace(material)
	switch {
	case bytes.HasPrefix(body, []byte("---- BEGIN SSH2 PUBLIC KEY ----")):
		blob, err := rfc4716(string(body))
		if err != nil {
			return nil, ErrFormat
		}
		return parseBlob(blob)
	case bytes.HasPrefix(body, []byte("ssh-")):
		fields := strings.Fields(string(body))
		if len(fields) < 2 {
			return nil, ErrFormat
		}
		blob, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			return nil, ErrFormat
		}
		pub, err := parseBlob(blob)
		if err != nil || algorithm(pub) != fields[0] {
			return nil, ErrFormat
		}
		return pub, nil
	}
	der, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		return nil, ErrFormat
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if k, ok := pub.(*rsa.PublicKey); err == nil && ok {
		return k, nil
	}
	return nil, ErrFormat
}

// rfc4716 returns the key blob of an RFC 4716 public key file.
func rfc4716(s string) ([]byte, error) {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var b64 strings.Builder
	header, cont, ended := true, false, false
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		switch {
		case cont:
			cont = strings.HasSuffix(l, "\\")
		case l == "---- END SSH2 PUBLIC KEY ----":
			ended = true
		case ended:
			if l != "" {
				return nil, ErrFormat
			}
		case header && strings.Contains(l, ":"):
			cont = strings.HasSuffix(l, "\\")
		default:
			header = false
			b64.WriteString(l)
		}
	}
	if !ended {
		return nil, ErrFormat
	}
	return base64.StdEncoding.DecodeString(b64.String())
}

// parseBlob reads an SSH wire-format RSA or ED25519 public key.
func parseBlob(b []byte) (crypto.PublicKey, error) {
	alg, b, ok := readString(b)
	if !ok {
		return nil, ErrFormat
	}
	switch string(alg) {
	case "ssh-rsa":
		e, b, ok1 := readString(b)
		n, b, ok2 := readString(b)
		if !ok1 || !ok2 || len(b) != 0 || len(e) == 0 || len(e) > 4 || len(n) == 0 || n[0]&0x80 != 0 {
			return nil, ErrFormat
		}
		k := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if k.N.BitLen() < 1024 || k.E < 3 || k.E%2 == 0 {
			return nil, ErrFormat
		}
		return k, nil
	case "ssh-ed25519":
		k, b, ok := readString(b)
		if !ok || len(b) != 0 || len(k) != ed25519.PublicKeySize {
			return nil, ErrFormat
		}
		return ed25519.PublicKey(k), nil
	}
	return nil, ErrFormat
}

// readString reads one SSH string field.
func readString(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}
