package api

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/ec2query"
	"github.com/eni-net/eni/internal/ec2wire"
	"github.com/eni-net/eni/internal/sshkey"
)

// keyPairOps registers the actions of key pairs.
func keyPairOps(m map[string]handler) {
	m["CreateKeyPair"] = createKeyPair
	m["ImportKeyPair"] = write((*core.Tx).ImportKeyPair)
	m["DescribeKeyPairs"] = read((*core.Tx).DescribeKeyPairs)
	m["DeleteKeyPair"] = write((*core.Tx).DeleteKeyPair)
}

// createKeyPair makes the key CreateKeyPair asks for (the core checks the
// request first, and again with the key in its transaction), outside the
// region's lock: an RSA key takes tens of milliseconds.
func createKeyPair(s *Server, r *request, buf *bytes.Buffer) error {
	in := new(ec2wire.CreateKeyPairInput)
	if err := ec2query.Decode(r.params, in); err != nil {
		return err
	}
	typ, format, err := core.KeyPairRequest(in)
	if err != nil {
		return err
	}
	key, err := newKey(typ, format, *in.KeyName)
	if err != nil {
		return err
	}
	return write(func(tx *core.Tx, in *ec2wire.CreateKeyPairInput) (*ec2wire.CreateKeyPairOutput, error) {
		return tx.CreateKeyPair(in, key)
	})(s, r, buf)
}

// newKey generates a key pair of type typ, its private key in format (pem
// or ppk) with the key's name as comment, and AWS's fingerprint.
func newKey(typ, format, name string) (*core.NewKey, error) {
	priv, err := sshkey.Generate(typ, rand.Reader)
	if err != nil {
		return nil, err
	}
	fp, err := sshkey.CreatedFingerprint(priv)
	if err != nil {
		return nil, err
	}
	var material string
	if format == "ppk" {
		material, err = sshkey.PPK(priv, name)
	} else {
		var check [4]byte
		_, _ = rand.Read(check[:]) // crypto/rand does not fail on Linux
		material, err = sshkey.PEM(priv, name, binary.BigEndian.Uint32(check[:]))
	}
	if err != nil {
		return nil, err
	}
	return &core.NewKey{PublicKey: sshkey.AuthorizedKey(priv.Public(), name), Fingerprint: fp, Material: material}, nil
}
