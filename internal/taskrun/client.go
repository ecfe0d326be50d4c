package taskrun

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/eni-net/eni/internal/sigv4/canon"
	"github.com/eni-net/eni/internal/sigv4/sha"
	"github.com/eni-net/eni/internal/taskapi"
)

// Keys are the credentials a request is signed with.
type Keys struct{ ID, Secret, Token string }

// Credentials gives the keys to sign with (the SDK's chain, in eni run-task).
type Credentials func(context.Context) (Keys, error)

// Client calls the server's task API, and EC2 actions, signed (SigV4) with
// Creds when it has them; a server with --auth none needs none. It speaks
// HTTP/1.1 itself (wire.go): net/http's initialisation alone is milliseconds of a
// task's start.
type Client struct {
	Cmd    string // the command, in messages
	Region string
	Creds  Credentials // nil: unsigned
	// Dial connects to an endpoint's addr (host:port) that the client does not
	// dial itself (DialsItself): over TLS for https://, its certificate for host
	// (eni's), over TCP for http:// to a host name; nil: the client reaches only
	// http:// endpoints at an IP address or localhost (eni-run-task hands the
	// others to eni run-task).
	Dial func(ctx context.Context, scheme, addr, host string) (Conn, error)
}

// Conn is a connection to the server: a net.Conn, or the *os.File of a socket
// the client dialled itself.
type Conn interface {
	io.ReadWriteCloser
	SetDeadline(time.Time) error
}

// NewClient is a client of the command cmd in region, signing with creds (nil:
// unsigned).
func NewClient(cmd, region string, creds Credentials) *Client {
	return &Client{Cmd: cmd, Region: region, Creds: creds}
}

// EnvCredentials are the keys in the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), first in the SDK's chain too,
// taken as they are; nil when there are none.
func EnvCredentials() Credentials {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return nil
	}
	k := Keys{ID: id, Secret: secret, Token: os.Getenv("AWS_SESSION_TOKEN")}
	return func(context.Context) (Keys, error) { return k, nil }
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
	status, reply, err := c.Do(method, u, "application/json", taskapi.Service, body)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Cmd, err)
	}
	if status != 200 {
		var e struct{ Code, Message string }
		_ = json.Unmarshal(reply, &e) // best effort: the status says enough
		return fmt.Errorf("%s: %s: %s (HTTP %d)", c.Cmd, e.Code, e.Message, status)
	}
	if d, ok := out.(interface{ DecodeJSON([]byte) error }); ok {
		return d.DecodeJSON(reply) // a task's reply, without encoding/json's first use
	}
	if out != nil {
		return json.Unmarshal(reply, out)
	}
	return nil
}

// Do sends one request with a body of contentType, signed for service when c has
// credentials, and returns the reply's status and body.
func (c *Client) Do(method, rawURL, contentType, service string, body []byte) (status int, reply []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := parseEndpoint(rawURL)
	if err != nil {
		return 0, nil, err
	}
	hdr := [][2]string{{"content-type", contentType}, {"host", u.Host}}
	if c.Creds != nil {
		if hdr, err = c.sign(ctx, method, u, hdr, service, body); err != nil {
			return 0, nil, err
		}
	}
	conn, err := c.dial(ctx, u)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	return roundTrip(ctx, conn, method, u, hdr, body)
}

// sign adds to hdr (lower-case names, sorted, host among them) the date, the
// session token and the Authorization that signs them all.
func (c *Client) sign(ctx context.Context, method string, u *url.URL, hdr [][2]string, service string, body []byte) ([][2]string, error) {
	k, err := c.Creds(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	now := time.Now().UTC()
	hdr = append(hdr, [2]string{"x-amz-date", now.Format(canon.DateLayout)})
	if k.Token != "" {
		hdr = append(hdr, [2]string{"x-amz-security-token", k.Token})
	}
	sum := sha.Sum256(body)
	r := canon.Request{Method: method, EscapedPath: u.EscapedPath(), RawQuery: u.RawQuery, PayloadHash: hex.EncodeToString(sum[:])}
	vals := map[string]string{}
	for _, h := range hdr {
		r.SignedHeaders = append(r.SignedHeaders, h[0])
		vals[h[0]] = canon.HeaderValue([]string{h[1]})
	}
	r.Value = func(name string) string { return vals[name] }
	return append(hdr, [2]string{"authorization", canon.Authorization(r, now, k.ID, k.Secret, c.Region, service)}), nil
}

// parseEndpoint parses a URL with a host.
func parseEndpoint(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, errors.New("the endpoint " + u.Redacted() + " is not a URL with a host")
	}
	return u, nil
}

// dial connects to u's host: itself for http:// to an IP address or localhost
// (dialDirect), else with c.Dial.
func (c *Client) dial(ctx context.Context, u *url.URL) (Conn, error) {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if u.Scheme == "http" {
		if conn, ok, err := dialDirect(ctx, u.Hostname(), port); ok {
			return conn, err
		}
	}
	switch {
	case (u.Scheme == "http" || u.Scheme == "https") && c.Dial != nil:
		return c.Dial(ctx, u.Scheme, joinHostPort(u.Hostname(), port), u.Hostname())
	case u.Scheme == "https":
		return nil, errors.New("the endpoint " + u.Redacted() + " is https:// (https:// needs eni run-task)")
	case u.Scheme == "http":
		return nil, errors.New("the endpoint " + u.Redacted() + " names a host (not an IP address or localhost: that needs eni run-task)")
	}
	return nil, errors.New("the endpoint " + u.Redacted() + " is not http:// (https:// needs eni run-task)")
}

// joinHostPort is net.JoinHostPort (net is not linked into eni-run-task).
func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
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
