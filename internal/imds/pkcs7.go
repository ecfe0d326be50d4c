package imds

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"slices"
	"strings"
)

// PKCS#7 signatures of identity documents (dynamic/instance-identity/pkcs7 and
// rsa2048), as AWS serves them: the base64 of a DER PKCS#7 SignedData (RFC 2315) of
// the document, detached (the document is not in it) and without certificates, in
// lines of 64 characters, so that between "-----BEGIN PKCS7-----" and "-----END
// PKCS7-----" it is PEM, and
//
//	openssl smime -verify -in pkcs7 -inform PEM -content document -certfile certificate -noverify
//
// verifies it with the certificate the server publishes (Certificate). The signer is
// named by that certificate's issuer and serial number; the signed attributes are the
// content type and the document's SHA-256 digest, signed with RSA (PKCS #1 v1.5,
// SHA-256). Without a signing time the same document always has the same signature.

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
)

// DER tags used below.
const (
	tagSequence = 0x30
	tagSet      = 0x31
	tagOctets   = 0x04
	tagCtx0     = 0xa0 // [0], constructed
)

// PKCS7 is the detached PKCS#7 SignedData of doc by key, whose certificate is cert.
func PKCS7(doc []byte, key *rsa.PrivateKey, cert *x509.Certificate) ([]byte, error) {
	digest := sha256.Sum256(doc)
	attrs := derSetOf(
		derSeq(derOID(oidContentType), der(tagSet, derOID(oidData))),
		derSeq(derOID(oidMessageDigest), der(tagSet, der(tagOctets, digest[:]))),
	)
	// The signature covers the attributes' DER as a SET OF (RFC 2315 9.3).
	h := sha256.Sum256(attrs)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	if err != nil {
		return nil, err
	}
	attrs[0] = tagCtx0 // [0] IMPLICIT in the SignerInfo
	sha256Alg := derSeq(derOID(oidSHA256), derNull())
	signer := derSeq(
		derInt(big.NewInt(1)),
		derSeq(cert.RawIssuer, derInt(cert.SerialNumber)),
		sha256Alg,
		attrs,
		derSeq(derOID(oidRSA), derNull()),
		der(tagOctets, sig),
	)
	signed := derSeq(
		derInt(big.NewInt(1)),
		der(tagSet, sha256Alg),
		derSeq(derOID(oidData)), // detached: no content
		der(tagSet, signer),
	)
	return derSeq(derOID(oidSignedData), der(tagCtx0, signed)), nil
}

// pkcs7Text is the form the metadata service serves: base64 in lines of 64.
func pkcs7Text(p []byte) string {
	s := base64.StdEncoding.EncodeToString(p)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s)
	return b.String()
}

// der is one DER TLV of the concatenated contents.
func der(tag byte, contents ...[]byte) []byte {
	n := 0
	for _, c := range contents {
		n += len(c)
	}
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	default:
		var l []byte
		for m := n; m > 0; m >>= 8 {
			l = append([]byte{byte(m)}, l...)
		}
		out = append(append(out, 0x80|byte(len(l))), l...)
	}
	for _, c := range contents {
		out = append(out, c...)
	}
	return out
}

func derSeq(contents ...[]byte) []byte { return der(tagSequence, contents...) }

// derSetOf is a DER SET OF: its elements in ascending order of their encodings.
func derSetOf(elems ...[]byte) []byte {
	sorted := slices.Clone(elems)
	slices.SortFunc(sorted, bytes.Compare)
	return der(tagSet, sorted...)
}

func derOID(o asn1.ObjectIdentifier) []byte { b, _ := asn1.Marshal(o); return b } // a valid OID always marshals
func derInt(i *big.Int) []byte              { b, _ := asn1.Marshal(i); return b } // as does an integer
func derNull() []byte                       { return []byte{0x05, 0x00} }
