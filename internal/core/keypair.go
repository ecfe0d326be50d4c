package core

import (
	"encoding/base64"
	"slices"

	"github.com/eni-net/eni/internal/ec2wire"
	"github.com/eni-net/eni/internal/sshkey"
)

// Key pairs. CreateKeyPair's key is generated outside the core (the API
// layer holds the randomness and the private key, which is returned once
// and never stored): the core checks the request, then records the public
// half and AWS's fingerprint. ImportKeyPair parses the public key here.
// RunInstances refuses a KeyName that names no key pair.

// NewKey is a key pair made for CreateKeyPair by the caller of the core.
type NewKey struct {
	PublicKey   string // OpenSSH authorized_keys line
	Fingerprint string // as AWS computes it for a created key
	Material    string // the private key, in the requested format
}

// keyNameMax is the longest key pair name AWS accepts.
const keyNameMax = 255

// checkKeyName checks a key pair name: 1 to 255 ASCII characters.
func checkKeyName(name string) error {
	if name == "" {
		return errorf(CodeMissingParameter, "The request must contain the parameter KeyName")
	}
	if len(name) > keyNameMax {
		return errorf(CodeInvalidParameterValue, "Value for parameter KeyName is invalid. Length exceeds maximum of %d.", keyNameMax)
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] > 0x7e {
			return errorf(CodeInvalidParameterValue, "Value (%s) for parameter KeyName is invalid. Character sets beyond ASCII are not supported.", name)
		}
	}
	return nil
}

// KeyPairRequest checks a CreateKeyPair request and returns the key type
// and private key format to generate (AWS's defaults: rsa, pem).
func KeyPairRequest(in *ec2wire.CreateKeyPairInput) (keyType, format string, err error) {
	if err := checkKeyName(str(in.KeyName)); err != nil {
		return "", "", err
	}
	keyType, format = str(in.KeyType), str(in.KeyFormat)
	if keyType == "" {
		keyType = sshkey.RSA
	}
	if format == "" {
		format = "pem"
	}
	if keyType != sshkey.RSA && keyType != sshkey.ED25519 {
		return "", "", errorf(CodeInvalidParameterValue, "Value (%s) for parameter keyType is invalid. Valid values are: rsa, ed25519.", keyType)
	}
	if format != "pem" && format != "ppk" {
		return "", "", errorf(CodeInvalidParameterValue, "Value (%s) for parameter keyFormat is invalid. Valid values are: pem, ppk.", format)
	}
	return keyType, format, nil
}

// keyByName returns the caller's key pair called name, or nil.
func (tx *Tx) keyByName(name string) *KeyPair {
	var found *KeyPair
	tx.keys.Each(func(k *KeyPair) bool {
		if k.Owner == tx.Account && k.Name == name {
			found = k
		}
		return found == nil
	})
	return found
}

// keyNotFound is the error for a key pair name or id that does not exist.
func keyNotFound(what string) error {
	return errorf(CodeInvalidKeyPairNotFound, "The key pair '%s' does not exist", what)
}

// putKey records a new key pair, unless the name is taken.
func (tx *Tx) putKey(name, typ, fingerprint, public string, specs []ec2wire.TagSpecification) (*KeyPair, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	tags, err := tagSpecs(specs, "key-pair")
	if err != nil {
		return nil, err
	}
	if tx.keyByName(name) != nil {
		return nil, errorf(CodeInvalidKeyPairDuplicate, "The keypair '%s' already exists.", name)
	}
	k := &KeyPair{ID: tx.newID("key"), Owner: tx.Account, Name: name, Type: typ, Fingerprint: fingerprint,
		PublicKey: public, CreateTime: tx.Now(), Tags: tags}
	tx.keys.Put(k)
	return k, nil
}

// CreateKeyPair records the key pair key, made for this request.
func (tx *Tx) CreateKeyPair(in *ec2wire.CreateKeyPairInput, key *NewKey) (*ec2wire.CreateKeyPairOutput, error) {
	typ, _, err := KeyPairRequest(in)
	if err != nil {
		return nil, err
	}
	k, err := tx.putKey(str(in.KeyName), typ, key.Fingerprint, key.PublicKey, in.TagSpecifications)
	if err != nil {
		return nil, err
	}
	return &ec2wire.CreateKeyPairOutput{KeyName: p(k.Name), KeyPairId: p(k.ID), KeyFingerprint: p(k.Fingerprint),
		KeyMaterial: p(key.Material), Tags: tagsOut(k.Tags)}, nil
}

// ImportKeyPair records the public key of a key pair made elsewhere.
// PublicKeyMaterial is a blob: base64 on the wire, as every SDK sends it.
func (tx *Tx) ImportKeyPair(in *ec2wire.ImportKeyPairInput) (*ec2wire.ImportKeyPairOutput, error) {
	name := str(in.KeyName)
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	bad := errorf(CodeInvalidKeyFormat, "Key is not in valid OpenSSH public key format")
	material, err := base64.StdEncoding.DecodeString(str(in.PublicKeyMaterial))
	if err != nil {
		return nil, bad
	}
	pub, err := sshkey.ParsePublic(material)
	if err != nil {
		return nil, bad
	}
	fp, err := sshkey.ImportedFingerprint(pub)
	if err != nil {
		return nil, bad
	}
	k, err := tx.putKey(name, sshkey.Type(pub), fp, sshkey.AuthorizedKey(pub, name), in.TagSpecifications)
	if err != nil {
		return nil, err
	}
	return &ec2wire.ImportKeyPairOutput{KeyName: p(k.Name), KeyPairId: p(k.ID), KeyFingerprint: p(k.Fingerprint), Tags: tagsOut(k.Tags)}, nil
}

var keyFilters = filterSet[KeyPair]{
	"key-pair-id": func(k *KeyPair) []string { return []string{k.ID} },
	"key-name":    func(k *KeyPair) []string { return []string{k.Name} },
	"fingerprint": func(k *KeyPair) []string { return []string{k.Fingerprint} },
	"key-type":    func(k *KeyPair) []string { return []string{k.Type} },
}

// DescribeKeyPairs lists the caller's key pairs (not paginated, as AWS).
func (tx *Tx) DescribeKeyPairs(in *ec2wire.DescribeKeyPairsInput) (*ec2wire.DescribeKeyPairsOutput, error) {
	m, err := newMatcher(keyFilters, func(k *KeyPair) Tags { return k.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	items := tx.keys.Sorted(func(k *KeyPair) bool { return k.Owner == tx.Account })
	for _, v := range in.KeyNames {
		if !slices.ContainsFunc(items, func(k *KeyPair) bool { return k.Name == v }) {
			return nil, keyNotFound(v)
		}
	}
	for _, v := range in.KeyPairIds {
		if !slices.ContainsFunc(items, func(k *KeyPair) bool { return k.ID == v }) {
			return nil, keyNotFound(v)
		}
	}
	out := &ec2wire.DescribeKeyPairsOutput{KeyPairs: []ec2wire.KeyPairInfo{}}
	for _, k := range items {
		if (len(in.KeyNames) > 0 && !contains(in.KeyNames, k.Name)) || (len(in.KeyPairIds) > 0 && !contains(in.KeyPairIds, k.ID)) || !m.match(k) {
			continue
		}
		info := ec2wire.KeyPairInfo{KeyName: p(k.Name), KeyPairId: p(k.ID), KeyFingerprint: p(k.Fingerprint), KeyType: p(k.Type),
			CreateTime: ec2wire.NewTime(k.CreateTime), Tags: tagsOut(k.Tags)}
		if boolv(in.IncludePublicKey) {
			info.PublicKey = p(k.PublicKey + "\n")
		}
		out.KeyPairs = append(out.KeyPairs, info)
	}
	return out, nil
}

// DeleteKeyPair deletes a key pair by name or id; one that does not exist
// is already deleted, as AWS answers. Instances launched with it keep its
// name.
func (tx *Tx) DeleteKeyPair(in *ec2wire.DeleteKeyPairInput) (*ec2wire.DeleteKeyPairOutput, error) {
	name, id := str(in.KeyName), str(in.KeyPairId)
	if name == "" && id == "" {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter KeyName or KeyPairId")
	}
	var found *KeyPair
	if id != "" {
		if k := tx.keys.Get(id); k != nil && k.Owner == tx.Account {
			found = k
		}
	} else {
		found = tx.keyByName(name)
	}
	if found != nil {
		tx.keys.Delete(found.ID)
	}
	return &ec2wire.DeleteKeyPairOutput{Return: p(true)}, nil
}

// checkLaunchKey checks a launch's KeyName: it must name a key pair.
func (tx *Tx) checkLaunchKey(name string) error {
	if name != "" && tx.keyByName(name) == nil {
		return keyNotFound(name)
	}
	return nil
}
