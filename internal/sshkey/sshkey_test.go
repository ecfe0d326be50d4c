package sshkey

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tool returns the path of an external program, or skips the test.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not on PATH", name)
	}
	return p
}

func run(t *testing.T, shell string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", shell).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, out)
	}
	return strings.TrimSpace(string(out))
}

// OpenSSH reads the private keys CreateKeyPair returns and derives the same
// public key and fingerprint.
func TestPEMReadByOpenSSH(t *testing.T) {
	tool(t, "ssh-keygen")
	dir := t.TempDir()
	for _, typ := range []string{RSA, ED25519} {
		priv, err := Generate(typ, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pemText, err := PEM(priv, "my-key", 0x01020304)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, typ)
		if err := os.WriteFile(f, []byte(pemText), 0o600); err != nil {
			t.Fatal(err)
		}
		derived := strings.Fields(run(t, "ssh-keygen -y -f "+f))
		want := strings.Fields(AuthorizedKey(priv.Public(), "my-key"))
		if derived[0] != want[0] || derived[1] != want[1] {
			t.Errorf("%s: ssh-keygen derives %v, want %v", typ, derived, want)
		}
		if err := os.WriteFile(f+".pub", []byte(AuthorizedKey(priv.Public(), "my-key")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if typ == ED25519 {
			fp, _ := CreatedFingerprint(priv)
			line := run(t, "ssh-keygen -l -E sha256 -f "+f+".pub")
			if !strings.Contains(line, "SHA256:"+strings.TrimRight(fp, "=")+" ") || !strings.HasSuffix(fp, "=") {
				t.Errorf("ED25519 fingerprint %s, ssh-keygen says %s", fp, line)
			}
		}
		// RFC 4716, as ssh-keygen -e writes it, is read back.
		pub, err := ParsePublic([]byte(run(t, "ssh-keygen -e -f "+f+".pub")))
		if err != nil || AuthorizedKey(pub, "") != AuthorizedKey(priv.Public(), "") {
			t.Errorf("%s: RFC 4716 read back as %v, %v", typ, pub, err)
		}
	}
}

// The RSA fingerprints are those AWS documents: the openssl pipelines of
// the EC2 user guide.
func TestRSAFingerprintsAsAWSComputesThem(t *testing.T) {
	tool(t, "openssl")
	tool(t, "ssh-keygen")
	dir := t.TempDir()
	priv, err := Generate(RSA, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemText, _ := PEM(priv, "", 0)
	f := filepath.Join(dir, "k")
	os.WriteFile(f, []byte(pemText), 0o600)
	os.WriteFile(f+".pub", []byte(AuthorizedKey(priv.Public(), "k")+"\n"), 0o644)
	created, _ := CreatedFingerprint(priv)
	if want := lastField(run(t, "openssl pkcs8 -in "+f+" -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c")); created != want {
		t.Errorf("created fingerprint %s, openssl %s", created, want)
	}
	imported, _ := ImportedFingerprint(priv.Public())
	if want := lastField(run(t, "ssh-keygen -e -m PKCS8 -f "+f+".pub | openssl pkey -pubin -outform DER | openssl md5 -c")); imported != want {
		t.Errorf("imported fingerprint %s, openssl %s", imported, want)
	}
}

func lastField(s string) string {
	f := strings.Fields(s)
	return f[len(f)-1]
}

func TestParsePublic(t *testing.T) {
	r, _ := rsa.GenerateKey(rand.Reader, 2048)
	e, _, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&r.PublicKey)
	for _, tc := range []struct {
		name, material string
		ok             bool
	}{
		{"rsa line", AuthorizedKey(&r.PublicKey, "me@host") + "\n", true},
		{"ed25519 line", AuthorizedKey(e, ""), true},
		{"base64 DER", base64.StdEncoding.EncodeToString(der), true},
		{"wrong algorithm name", "ssh-ed25519 " + strings.Fields(AuthorizedKey(&r.PublicKey, ""))[1], false},
		{"truncated", AuthorizedKey(e, "")[:40], false},
		{"dsa", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", false},
		{"text", "hello", false},
		{"unterminated RFC 4716", "---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n", false},
	} {
		_, err := ParsePublic([]byte(tc.material))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// The PPK file has PuTTY's layout and a MAC over its parts.
func TestPPK(t *testing.T) {
	for _, typ := range []string{RSA, ED25519} {
		priv, _ := Generate(typ, rand.Reader)
		s, err := PPK(priv, "my-key")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		alg := strings.Fields(AuthorizedKey(priv.Public(), ""))[0]
		if lines[0] != "PuTTY-User-Key-File-2: "+alg || lines[1] != "Encryption: none" || lines[2] != "Comment: my-key" ||
			!strings.HasPrefix(lines[3], "Public-Lines: ") || !strings.HasPrefix(lines[len(lines)-1], "Private-MAC: ") {
			t.Errorf("%s: PPK layout:\n%s", typ, s)
		}
		if !strings.Contains(strings.Join(lines, ""), base64.StdEncoding.EncodeToString(Blob(priv.Public()))[:60]) {
			t.Errorf("%s: PPK lacks the public blob", typ)
		}
	}
}
