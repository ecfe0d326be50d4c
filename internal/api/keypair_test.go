package api_test

import (
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/eni-net/eni/internal/apitest"
	"github.com/eni-net/eni/internal/sshkey"
)

// createKey creates an RSA key pair and fails the test on error.
func createKey(t *testing.T, c *ec2.Client, name string) *ec2.CreateKeyPairOutput {
	t.Helper()
	out, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateKeyPair %s: %v", name, err)
	}
	return out
}

func hexPairs(b []byte) string {
	h := hex.EncodeToString(b)
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// CreateKeyPair returns a real private key in the format asked, with AWS's
// fingerprint; the pair is listed, tagged and deleted like AWS's.
func TestCreateKeyPair(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	out, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("deploy"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeKeyPair, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(aws.ToString(out.KeyMaterial)))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("key material %q", aws.ToString(out.KeyMaterial))
	}
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil || priv.N.BitLen() != 2048 {
		t.Fatalf("private key: %v", err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(priv)
	sum := sha1.Sum(pkcs8)
	if fp := aws.ToString(out.KeyFingerprint); fp != hexPairs(sum[:]) {
		t.Errorf("fingerprint %s, want SHA-1 of the PKCS#8 DER %s", fp, hexPairs(sum[:]))
	}
	if !strings.HasPrefix(aws.ToString(out.KeyPairId), "key-") || len(out.Tags) != 1 {
		t.Errorf("id %s tags %+v", aws.ToString(out.KeyPairId), out.Tags)
	}

	ed, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("ed"), KeyType: types.KeyTypeEd25519})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(ed.KeyMaterial), "-----BEGIN OPENSSH PRIVATE KEY-----\n") || !strings.HasSuffix(aws.ToString(ed.KeyFingerprint), "=") {
		t.Errorf("ed25519: %q %s", aws.ToString(ed.KeyMaterial), aws.ToString(ed.KeyFingerprint))
	}
	ppk, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("putty"), KeyFormat: types.KeyFormatPpk})
	if err != nil || !strings.HasPrefix(aws.ToString(ppk.KeyMaterial), "PuTTY-User-Key-File-2: ssh-rsa\n") {
		t.Fatalf("ppk: %v %v", ppk, err)
	}

	desc, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"deploy", "ed"}, IncludePublicKey: aws.Bool(true)})
	if err != nil || len(desc.KeyPairs) != 2 {
		t.Fatalf("DescribeKeyPairs: %v %v", desc, err)
	}
	for _, k := range desc.KeyPairs {
		if k.CreateTime == nil || aws.ToString(k.PublicKey) == "" || k.KeyType == "" {
			t.Errorf("key %+v", k)
		}
		if aws.ToString(k.KeyName) == "deploy" {
			pub := strings.Fields(aws.ToString(k.PublicKey))
			want := strings.Fields(sshkey.AuthorizedKey(&priv.PublicKey, ""))
			if k.KeyType != types.KeyTypeRsa || pub[0] != "ssh-rsa" || pub[1] != want[1] || aws.ToString(k.KeyFingerprint) != aws.ToString(out.KeyFingerprint) {
				t.Errorf("deploy: %+v", k)
			}
		}
	}
	for _, f := range []types.Filter{filter("key-name", "dep*"), filter("key-pair-id", *out.KeyPairId), filter("fingerprint", *out.KeyFingerprint), filter("tag:team", "net")} {
		got, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: []types.Filter{f}})
		if err != nil || len(got.KeyPairs) != 1 || aws.ToString(got.KeyPairs[0].KeyName) != "deploy" {
			t.Errorf("filter %s: %v %v", *f.Name, got, err)
		}
	}
	if got, _ := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{}); len(got.KeyPairs) != 3 || got.KeyPairs[0].PublicKey != nil {
		t.Errorf("all keys: %+v", got.KeyPairs)
	}

	// A launch names its key pair; an unknown one is refused.
	inst := runInstance(t, c, &ec2.RunInstancesInput{KeyName: aws.String("deploy")})
	if aws.ToString(inst.KeyName) != "deploy" {
		t.Errorf("instance key %v", aws.ToString(inst.KeyName))
	}
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("nope")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidKeyPair.NotFound" || ae.ErrorMessage() != "The key pair 'nope' does not exist" {
		t.Errorf("unknown key: %v", err)
	}

	// Deleting by name or id; deleting what is gone succeeds.
	if _, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("deploy")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyPairId: ed.KeyPairId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("deploy")}); err != nil {
		t.Errorf("deleting a deleted key: %v", err)
	}
	_, err = c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"deploy"}})
	apitest.WantCode(t, err, "InvalidKeyPair.NotFound")
	_, err = c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyPairIds: []string{*ed.KeyPairId}})
	apitest.WantCode(t, err, "InvalidKeyPair.NotFound")
	if got := describeInstance(t, c, *inst.InstanceId); aws.ToString(got.KeyName) != "deploy" {
		t.Errorf("instance keeps its key's name: %v", aws.ToString(got.KeyName))
	}
}

func TestKeyPairErrors(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	createKey(t, c, "taken")
	for _, tc := range []struct {
		in   *ec2.CreateKeyPairInput
		code string
	}{
		{&ec2.CreateKeyPairInput{KeyName: aws.String("taken")}, "InvalidKeyPair.Duplicate"},
		{&ec2.CreateKeyPairInput{KeyName: aws.String("x"), KeyType: "dsa"}, "InvalidParameterValue"},
		{&ec2.CreateKeyPairInput{KeyName: aws.String("x"), KeyFormat: "der"}, "InvalidParameterValue"},
		{&ec2.CreateKeyPairInput{KeyName: aws.String(strings.Repeat("k", 256))}, "InvalidParameterValue"},
		{&ec2.CreateKeyPairInput{KeyName: aws.String("caf\u00e9")}, "InvalidParameterValue"},
		{&ec2.CreateKeyPairInput{KeyName: aws.String("x"), DryRun: aws.Bool(true)}, "DryRunOperation"},
	} {
		_, err := c.CreateKeyPair(ctx, tc.in)
		apitest.WantCode(t, err, tc.code)
	}
	if got, _ := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{}); len(got.KeyPairs) != 1 {
		t.Errorf("failed creates left keys: %+v", got.KeyPairs)
	}
	_, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{})
	apitest.WantCode(t, err, "MissingParameter")
}

// ImportKeyPair takes OpenSSH, RFC 4716 and DER public keys, with AWS's
// fingerprints: MD5 of the DER public key for RSA, base64 SHA-256 for
// ED25519.
func TestImportKeyPair(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	r, _ := rsa.GenerateKey(rand.Reader, 2048)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&r.PublicKey)
	md5sum := md5.Sum(der)
	shaSum := sha256.Sum256(sshkey.Blob(edPub))
	for _, tc := range []struct {
		name, material, typ, fingerprint string
	}{
		{"rsa", sshkey.AuthorizedKey(&r.PublicKey, "me@laptop") + "\n", "rsa", hexPairs(md5sum[:])},
		{"ed", sshkey.AuthorizedKey(edPub, ""), "ed25519", base64.StdEncoding.EncodeToString(shaSum[:])},
		{"der", base64.StdEncoding.EncodeToString(der), "rsa", hexPairs(md5sum[:])},
	} {
		out, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String(tc.name), PublicKeyMaterial: []byte(tc.material)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if aws.ToString(out.KeyFingerprint) != tc.fingerprint || !strings.HasPrefix(aws.ToString(out.KeyPairId), "key-") {
			t.Errorf("%s: %+v, want fingerprint %s", tc.name, out, tc.fingerprint)
		}
		d, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{tc.name}})
		if err != nil || string(d.KeyPairs[0].KeyType) != tc.typ {
			t.Errorf("%s: %v %v", tc.name, d, err)
		}
	}
	for _, material := range []string{"not a key", "ssh-rsa AAAA", sshkey.AuthorizedKey(edPub, "")[:30]} {
		_, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("bad"), PublicKeyMaterial: []byte(material)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidKey.Format" || ae.ErrorMessage() != "Key is not in valid OpenSSH public key format" {
			t.Errorf("%q: %v", material, err)
		}
	}
	_, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("rsa"), PublicKeyMaterial: []byte(sshkey.AuthorizedKey(edPub, ""))})
	apitest.WantCode(t, err, "InvalidKeyPair.Duplicate")
	// A blob that is not base64 on the wire (the AWS CLI's file:// of a
	// text key) is no key, as AWS says.
	status, body := post(t, e, "Action=ImportKeyPair&Version=2016-11-15&KeyName=raw&PublicKeyMaterial="+strings.ReplaceAll(sshkey.AuthorizedKey(edPub, ""), "+", "%2B"))
	if status != 400 || !strings.Contains(body, "<Code>InvalidKey.Format</Code>") {
		t.Errorf("raw material: %d %s", status, body)
	}
}
