package api

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The endpoint CA outlives a restart (read back from its directory, the same
// certificate), a directory with half of it is refused, and the leaves it issues verify
// for the region's EC2 names and the address connected to, and for nothing else.
func TestEndpointCA(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreateEndpointCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateEndpointCA(dir)
	if err != nil || !again.Cert.Equal(ca.Cert) {
		t.Fatalf("CA read back: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, EndpointCAKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	half := t.TempDir()
	if err := os.WriteFile(filepath.Join(half, EndpointCAFile), ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateEndpointCA(half); err == nil {
		t.Fatal("a CA without its key was taken")
	}
	other, keyPEM, err := NewEndpointCA()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseEndpointCA(ca.PEM, keyPEM); err == nil {
		t.Fatal("another CA's key was taken")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &EndpointServer{Region: "eu-west-1", CA: again, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ec2") })}
	go func() { _ = s.ServeEndpoint(ln, "ec2", true) }()
	t.Cleanup(func() { _ = ln.Close() })
	get := func(roots *x509.CertPool, name string) error {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: name}}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "ec2" {
			t.Errorf("%s: %q", name, b)
		}
		return nil
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	for _, name := range []string{"ec2.eu-west-1.amazonaws.com", "vpce-0123456789abcdef0-abcdefgh.ec2.eu-west-1.vpce.amazonaws.com", "127.0.0.1"} {
		if err := get(roots, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"ec2.us-east-1.amazonaws.com", "sts.eu-west-1.amazonaws.com", "127.0.0.2"} {
		if err := get(roots, name); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: %v, want a certificate error", name, err)
		}
	}
	otherRoots := x509.NewCertPool()
	otherRoots.AppendCertsFromPEM(other.PEM)
	if err := get(otherRoots, "ec2.eu-west-1.amazonaws.com"); err == nil {
		t.Error("another CA's clients trusted the endpoint")
	}
}
