// Package iamcreds issues and checks the temporary credentials the instance
// metadata service hands to instances with an IAM instance profile
// (meta-data/iam/security-credentials/<role>), without keeping any state per
// credential: the session token carries what the credentials are for (the
// account, the role, the instance, the expiry) under an HMAC of the
// server's key, and the access key id and secret are HMACs of the token's
// content. The server that holds the key can thus check a request signed
// with them (internal/sigv4's Verifier.Session) and say who signed it (sts
// GetCallerIdentity's assumed-role ARN), and nobody else can make them.
//
// Credentials are good until they expire, as AWS's are: disassociating the
// instance profile or terminating the instance does not revoke those
// already handed out. The key lives in the data directory
// (LoadOrCreateKey), so credentials survive a restart of the server.
package iamcreds

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Claims are what a session's credentials are for.
type Claims struct {
	Account  string    `json:"a"`
	Role     string    `json:"r"`  // role name
	RoleID   string    `json:"ri"` // AROA...
	Session  string    `json:"s"`  // role session name: the instance id
	Issued   time.Time `json:"i"`
	Expires  time.Time `json:"e"`
	Instance string    `json:"in,omitempty"`
}

// Credentials are one session's temporary credentials.
type Credentials struct {
	AccessKeyID, SecretAccessKey, Token string
	Issued, Expires                     time.Time
}

// Issuer makes and checks credentials with its key.
type Issuer struct{ Key []byte }

const tokenPrefix = "ENIv1."

// Lifetime is how long credentials are valid; Rotation how often the metadata
// service hands out new ones (so what it serves always has at least
// Lifetime-Rotation left, as AWS's have hours left and change before they
// expire).
const (
	Lifetime = 6 * time.Hour
	Rotation = time.Hour
)

// For returns the credentials the metadata service serves at now for c's
// account, role and session: the same during each Rotation period.
func (is Issuer) For(c Claims, now time.Time) Credentials {
	c.Issued = now.UTC().Truncate(Rotation)
	c.Expires = c.Issued.Add(Lifetime)
	return is.Issue(c)
}

// Issue makes the credentials of c.
func (is Issuer) Issue(c Claims) Credentials {
	c.Issued, c.Expires = c.Issued.UTC().Truncate(time.Second), c.Expires.UTC().Truncate(time.Second)
	payload, _ := json.Marshal(c) // plain data: Marshal does not fail
	p := base64.RawURLEncoding.EncodeToString(payload)
	token := tokenPrefix + p + "." + base64.RawURLEncoding.EncodeToString(is.mac("token", p))
	return Credentials{AccessKeyID: is.accessKeyID(p), SecretAccessKey: is.secret(p), Token: token, Issued: c.Issued, Expires: c.Expires}
}

// Errors of Open.
var (
	ErrInvalid = errors.New("iamcreds: invalid session token")
	ErrExpired = errors.New("iamcreds: session token expired")
)

// Open checks that token is one this issuer made for accessKeyID and has not
// expired at now, and returns its claims and its secret access key.
func (is Issuer) Open(accessKeyID, token string, now time.Time) (Claims, string, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	p, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || len(token) > 4096 {
		return Claims{}, "", ErrInvalid
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, is.mac("token", p)) {
		return Claims{}, "", ErrInvalid
	}
	if !hmac.Equal([]byte(accessKeyID), []byte(is.accessKeyID(p))) {
		return Claims{}, "", ErrInvalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	var c Claims
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return Claims{}, "", ErrInvalid
	}
	if !now.Before(c.Expires) {
		return Claims{}, "", ErrExpired
	}
	return c, is.secret(p), nil
}

// AssumedRoleArn is the ARN sts GetCallerIdentity answers for c.
func (c Claims) AssumedRoleArn() string {
	return "arn:aws:sts::" + c.Account + ":assumed-role/" + c.Role + "/" + c.Session
}

// UserID is GetCallerIdentity's UserId for c: ROLEID:SESSION.
func (c Claims) UserID() string { return c.RoleID + ":" + c.Session }

func (is Issuer) mac(purpose, payload string) []byte {
	m := hmac.New(sha256.New, is.Key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// accessKeyID is ASIA and 16 upper-case letters and digits, as AWS's
// temporary access key ids.
func (is Issuer) accessKeyID(payload string) string {
	return "ASIA" + base32.StdEncoding.EncodeToString(is.mac("akid", payload))[:16]
}

func (is Issuer) secret(payload string) string {
	return base64.StdEncoding.EncodeToString(is.mac("secret", payload))[:40]
}

// LoadOrCreateKey reads the issuer's key from path, or makes a new one and
// writes it there (mode 0600). An empty path makes a key for this run only.
func LoadOrCreateKey(path string) ([]byte, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err == nil {
			if len(b) < 32 {
				return nil, fmt.Errorf("%s: key too short (%d bytes)", path, len(b))
			}
			return b, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand does not fail
	if path == "" {
		return key, nil
	}
	// Written whole, then renamed into place: a crash leaves no short key.
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}
