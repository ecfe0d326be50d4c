package iamcreds

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestIssueOpen(t *testing.T) {
	is := Issuer{Key: []byte("0123456789abcdef0123456789abcdef")}
	now := time.Date(2026, 12, 3, 7, 40, 12, 0, time.UTC)
	c := Claims{Account: "111111111111", Role: "web", RoleID: "AROAABCDEFGHIJKLMNOPQ", Session: "i-0123456789abcdef0"}
	cr := is.For(c, now)
	if !strings.HasPrefix(cr.AccessKeyID, "ASIA") || len(cr.AccessKeyID) != 20 || len(cr.SecretAccessKey) != 40 {
		t.Fatalf("credentials %+v", cr)
	}
	if !cr.Issued.Equal(now.Truncate(time.Hour)) || !cr.Expires.Equal(cr.Issued.Add(Lifetime)) || cr.Expires.Sub(now) < Lifetime-Rotation {
		t.Fatalf("issued %v expires %v", cr.Issued, cr.Expires)
	}
	// The same within the hour, new ones after it.
	if again := is.For(c, now.Add(10*time.Minute)); again != cr {
		t.Fatalf("credentials changed within the rotation period")
	}
	next := is.For(c, now.Add(Rotation))
	if next.AccessKeyID == cr.AccessKeyID || next.Token == cr.Token || next.SecretAccessKey == cr.SecretAccessKey {
		t.Fatalf("credentials not rotated")
	}
	got, secret, err := is.Open(cr.AccessKeyID, cr.Token, now)
	if err != nil || secret != cr.SecretAccessKey || got.Account != c.Account || got.Role != "web" {
		t.Fatalf("Open = %+v %q %v", got, secret, err)
	}
	if got.AssumedRoleArn() != "arn:aws:sts::111111111111:assumed-role/web/i-0123456789abcdef0" || got.UserID() != "AROAABCDEFGHIJKLMNOPQ:i-0123456789abcdef0" {
		t.Fatalf("identity %s %s", got.AssumedRoleArn(), got.UserID())
	}
	// Old credentials stay good until they expire, then never again.
	if _, _, err := is.Open(cr.AccessKeyID, cr.Token, cr.Expires.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := is.Open(cr.AccessKeyID, cr.Token, cr.Expires); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
}

// The attacks: a token made with another key, a token whose claims were
// changed (another account, a later expiry), a token with another access
// key id, garbage.
func TestOpenRefusesForgeries(t *testing.T) {
	is := Issuer{Key: []byte("0123456789abcdef0123456789abcdef")}
	now := time.Now()
	c := Claims{Account: "111111111111", Role: "web", RoleID: "AROAABCDEFGHIJKLMNOPQ", Session: "i-0123456789abcdef0"}
	cr := is.For(c, now)
	other := Issuer{Key: []byte("fedcba9876543210fedcba9876543210")}.For(c, now)
	if _, _, err := is.Open(other.AccessKeyID, other.Token, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("other key's token: %v", err)
	}
	// Claims of another account spliced with the genuine MAC.
	c2 := c
	c2.Account = "222222222222"
	forged := is.For(c2, now)
	p := strings.Split(strings.TrimPrefix(forged.Token, tokenPrefix), ".")[0]
	mac := strings.Split(cr.Token, ".")[2]
	if _, _, err := is.Open(forged.AccessKeyID, tokenPrefix+p+"."+mac, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("spliced token: %v", err)
	}
	if _, _, err := is.Open(next(cr.AccessKeyID), cr.Token, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("other access key id: %v", err)
	}
	for _, tok := range []string{"", "x", tokenPrefix, tokenPrefix + ".", cr.Token + "A", strings.Repeat("A", 5000)} {
		if _, _, err := is.Open(cr.AccessKeyID, tok, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("token %.20q: %v", tok, err)
		}
	}
}

func next(id string) string {
	b := []byte(id)
	b[len(b)-1] ^= 1
	return string(b)
}

func TestLoadOrCreateKey(t *testing.T) {
	path := t.TempDir() + "/k"
	a, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateKey(path)
	if err != nil || string(a) != string(b) || len(a) != 32 {
		t.Fatalf("reloaded key differs: %v", err)
	}
}
