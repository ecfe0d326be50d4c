package sigv4

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Key is one access key: the id a client puts in its Credential scope, the
// secret both sides sign with, and the account the key acts as.
type Key struct {
	AccessKeyID     string
	SecretAccessKey string
	Account         string
}

// String keeps the secret out of logs and error messages.
func (k Key) String() string { return k.AccessKeyID + " (account " + k.Account + ")" }

// GoString keeps the secret out of %#v too.
func (k Key) GoString() string { return "sigv4.Key{" + k.String() + "}" }

// Credentials are the known access keys, by access key id.
type Credentials map[string]Key

// HasAccount says whether some key of c acts for account.
func (c Credentials) HasAccount(account string) bool {
	for _, k := range c {
		if k.Account == account {
			return true
		}
	}
	return false
}

// LoadFile reads a credentials file (see Parse).
func LoadFile(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads credentials, one key per line:
//
//	ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID
//
// separated by spaces or tabs. Blank lines and lines starting with '#' are
// skipped. The account id is 12 digits; an access key id may appear once.
func Parse(r io.Reader) (Credentials, error) {
	c := Credentials{}
	firstSeen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff") // a BOM left by some editors
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want \"ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID\", got %d fields (comments must be on their own line)", n, len(f))
		}
		id, secret, account := f[0], f[1], f[2]
		if !validAccessKeyID(id) {
			return nil, fmt.Errorf("line %d: access key id %q: want 1 to 128 letters, digits, '.', '_' or '-'", n, id)
		}
		if !validAccount(account) {
			return nil, fmt.Errorf("line %d: account id %q: want 12 digits", n, account)
		}
		if prev, dup := firstSeen[id]; dup {
			return nil, fmt.Errorf("line %d: access key id %q is already defined on line %d", n, id, prev)
		}
		firstSeen[id] = n
		c[id] = Key{AccessKeyID: id, SecretAccessKey: secret, Account: account}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return c, nil
}

// validAccessKeyID accepts real ids (AKIA...) and the short ones test setups
// use ("test"), but nothing that would confuse the Credential scope
// ("AKID/date/region/service/aws4_request") or the Authorization header.
func validAccessKeyID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func validAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
