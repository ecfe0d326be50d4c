package imds_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsimds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/eni-net/eni/internal/imds"
)

// TestIdentityPKCS7: dynamic/instance-identity/pkcs7 and rsa2048 verify as AWS
// documents it, with openssl smime, the document and the certificate the server
// publishes; the same signature does not verify a document with another instance
// id, nor with another certificate.
func TestIdentityPKCS7(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is not installed; .ci/run installs it")
		}
		t.Skip("openssl is not installed")
	}
	f := newFixture(t)
	id, eni0 := f.launch(&ec2.RunInstancesInput{})
	f.as(*eni0.NetworkInterfaceId)
	c := f.client(aws.FalseTernary)
	get := func(p string) string {
		t.Helper()
		out, err := c.GetDynamicData(context.Background(), &awsimds.GetDynamicDataInput{Path: p})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		b, _ := io.ReadAll(out.Content)
		return string(b)
	}
	if idx := get("instance-identity/"); !strings.Contains(idx, "pkcs7") || !strings.Contains(idx, "rsa2048") {
		t.Errorf("instance-identity/ lists %q", idx)
	}
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, err := imds.Certificate(f.key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := write("certificate", string(cert))
	doc := get("instance-identity/document")
	docFile := write("document", doc)
	forged := write("forged", strings.Replace(doc, id, "i-0123456789abcdef0", 1))
	other, err := imds.LoadOrCreateKey("")
	if err != nil {
		t.Fatal(err)
	}
	otherCert, _ := imds.Certificate(other)
	otherFile := write("other", string(otherCert))
	verify := func(p7, content, certFile string) error {
		// AWS's recipe: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/verify-pkcs7.html
		cmd := exec.Command(openssl, "smime", "-verify", "-in", p7, "-inform", "PEM", "-content", content,
			"-certfile", certFile, "-noverify")
		if out, err := cmd.CombinedOutput(); err != nil {
			return &verifyError{string(out)}
		}
		return nil
	}
	for _, path := range []string{"instance-identity/pkcs7", "instance-identity/rsa2048"} {
		body := get(path)
		for _, line := range strings.Split(body, "\n") {
			if len(line) > 64 {
				t.Fatalf("%s: a line of %d characters", path, len(line))
			}
		}
		p7 := write(filepath.Base(path), "-----BEGIN PKCS7-----\n"+body+"\n-----END PKCS7-----\n")
		if err := verify(p7, docFile, certFile); err != nil {
			t.Errorf("%s does not verify: %v", path, err)
		}
		if err := verify(p7, forged, certFile); err == nil {
			t.Errorf("%s verifies a document with another instance id", path)
		}
		if err := verify(p7, docFile, otherFile); err == nil {
			t.Errorf("%s verifies with another key's certificate", path)
		}
	}
}

type verifyError struct{ out string }

func (e *verifyError) Error() string { return "openssl: " + strings.TrimSpace(e.out) }
