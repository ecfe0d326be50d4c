package taskrun

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/eni-net/eni/internal/taskapi"
)

// Client calls the server's task API, and EC2 actions, signed (SigV4) with
// Creds when it has them; a server with --auth none needs none.
type Client struct {
	Cmd    string // the command, in messages
	Region string
	Creds  aws.CredentialsProvider // nil: unsigned
	signer *v4.Signer
}

// NewClient is a client of the command cmd in region, signing with creds (nil:
// unsigned).
func NewClient(cmd, region string, creds aws.CredentialsProvider) *Client {
	return &Client{Cmd: cmd, Region: region, Creds: creds, signer: v4.NewSigner()}
}

// EnvCredentials are the keys in the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), first in the SDK's chain too,
// taken as they are; nil when there are none.
func EnvCredentials() aws.CredentialsProvider {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return nil
	}
	return credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))
}

// MayHaveOtherCredentials reports whether the SDK's credential chain (the instance
// metadata service left out) could find credentials beyond EnvCredentials': a
// shared config or credentials file (the SDK's default ones, under the home
// directory), or a variable naming another source (keys under their old names, a
// profile, web identity, a container's endpoint). Without one, loading the
// SDK's configuration finds nothing, and costs milliseconds of a task's start (it
// parses $AWS_CA_BUNDLE whole: 8 ms here).
func MayHaveOtherCredentials() bool {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	home, err := os.UserHomeDir()
	if err != nil { // no $HOME (a service, env -i): the SDK looks up the user's home, as here
		u, uerr := user.Current()
		if uerr != nil {
			return true // the files might be anywhere: let the SDK's chain look
		}
		home = u.HomeDir
	}
	for _, f := range []string{"config", "credentials"} {
		if _, err := os.Stat(filepath.Join(home, ".aws", f)); err == nil {
			return true
		}
	}
	return false
}

// Call calls the task API: method on u with a JSON body, the JSON reply decoded
// into out (when not nil); an error reply is "CODE: message (HTTP status)".
func (c *Client) Call(method, u string, body []byte, out any) error {
	resp, err := c.do(method, u, "application/json", taskapi.Service, body)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Cmd, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct{ Code, Message string }
		_ = json.NewDecoder(resp.Body).Decode(&e) // best effort: the status says enough
		return fmt.Errorf("%s: %s: %s (HTTP %d)", c.Cmd, e.Code, e.Message, resp.StatusCode)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// EC2Query calls an EC2 Query action on the server at endpoint (signed for
// "ec2") and decodes its XML reply into out: an error reply too, with the HTTP
// status returned.
func (c *Client) EC2Query(endpoint string, form url.Values, out any) (int, error) {
	form.Set("Version", "2016-11-15")
	resp, err := c.do(http.MethodPost, endpoint, "application/x-www-form-urlencoded; charset=utf-8", "ec2", []byte(form.Encode()))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if err := xml.Unmarshal(raw, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s: HTTP %d, not an EC2 reply", form.Get("Action"), resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// do sends one request, signed for service when c has credentials.
func (c *Client) do(method, u, contentType, service string, body []byte) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if c.Creds != nil {
		creds, err := c.Creds.Retrieve(ctx)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("credentials: %w", err)
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, c.Region, time.Now()); err != nil {
			cancel()
			return nil, fmt.Errorf("signing: %w", err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// EnvOr is the variable k, or def when it is empty.
func EnvOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// multiFlag is a repeatable, comma-separated string flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*m = append(*m, s)
		}
	}
	return nil
}
