package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/eni-net/eni/internal/taskrun"
)

// newAPIClient: with no credential variable and no shared files, the SDK's chain
// is not loaded (nothing to find); a shared file or a variable naming a source is
// looked at through it, and keys in a credentials file sign the requests.
func TestMayHaveCredentials(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
	}
	home := t.TempDir() // the SDK's default files, as its chain reads them
	t.Setenv("HOME", home)
	files, creds := config.DefaultSharedConfigFiles, config.DefaultSharedCredentialsFiles
	t.Cleanup(func() { config.DefaultSharedConfigFiles, config.DefaultSharedCredentialsFiles = files, creds })
	config.DefaultSharedConfigFiles = []string{filepath.Join(home, ".aws", "config")}
	config.DefaultSharedCredentialsFiles = []string{filepath.Join(home, ".aws", "credentials")}
	if taskrun.MayHaveOtherCredentials() {
		t.Fatal("no variable, no file: credentials may be found")
	}
	if tc := newAPIClient("test", "us-east-1"); tc.Creds != nil {
		t.Fatal("no variable, no file: the client signs")
	}
	t.Setenv("AWS_PROFILE", "dev")
	if !taskrun.MayHaveOtherCredentials() {
		t.Error("AWS_PROFILE set: not looked at")
	}
	t.Setenv("AWS_PROFILE", "")
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !taskrun.MayHaveOtherCredentials() {
		t.Fatal("a credentials file: not looked at")
	}
	tc := newAPIClient("test", "us-east-1")
	if tc.Creds == nil {
		t.Fatal("a credentials file: the client does not sign")
	}
	if c, err := tc.Creds(context.Background()); err != nil || c.ID != "AKIDFILE" {
		t.Errorf("credentials from the file: %v, %v", c.ID, err)
	}
}
