package core

import (
	"bytes"
	"compress/flate"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTokensExpire(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New(Env{Now: func() time.Time { return now }, Rand: newTestCore(t).env.Rand}, DefaultConfig())
	put := func(key string) {
		if err := mutate(t, c, func(tx *Tx) error { tx.PutToken(&Token{Key: key, Hash: "h", Output: []byte("x")}); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		put(fmt.Sprintf("old-%d", i))
	}
	got := func(key string) *Token {
		var tok *Token
		_ = view(t, c, func(tx *Tx) error { tok = tx.Token(key); return nil })
		return tok
	}
	now = now.Add(TokenLifetime - time.Minute)
	if got("old-3") == nil {
		t.Fatal("a token vanished before its lifetime")
	}
	now = now.Add(2 * time.Minute)
	if got("old-3") != nil {
		t.Fatal("an expired token still answers")
	}
	// New tokens push the expired ones out of the store, a few at a time.
	for i := 0; i < 5; i++ {
		put(fmt.Sprintf("new-%d", i))
	}
	n := 0
	for k := range c.Dump() {
		if len(k) > 6 && k[:6] == "token/" {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("%d tokens stored, want only the 5 fresh ones", n)
	}
}

func TestTokenBinaryForm(t *testing.T) {
	in := &Token{Key: "123456789012/CreateNetworkInterface/abc", Hash: "h", Output: []byte{1, 2, 3}, Deflated: true, Dict: 1,
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	b, err := encodeRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Token
	if err := decodeRecord(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Key != in.Key || out.Hash != in.Hash || string(out.Output) != string(in.Output) || !out.Deflated || out.Dict != 1 || !out.CreatedAt.Equal(in.CreatedAt) {
		t.Fatalf("round trip: %+v", out)
	}
	// JSON written before the binary form still loads.
	if err := decodeRecord([]byte(`{"key":"k","hash":"h","output":"AQI="}`), &out); err != nil || out.Key != "k" {
		t.Fatalf("JSON token: %+v %v", out, err)
	}
	// Every truncation is an error, never a panic.
	for i := 0; i < len(b); i++ {
		if err := decodeRecord(b[:i], &out); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
}

// Replies are stored compressed against tokenDictV1 and come back intact;
// a token compressed without a dictionary (as stored before it) still reads.
func TestTokenCompression(t *testing.T) {
	c := newTestCore(t)
	reply := []byte(strings.Replace(tokenDictV1[strings.Index(tokenDictV1, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateNetworkInterfaceResponse"):], "web", "db", -1))
	old := &Token{Key: "a/CreateVpc/old", Hash: "h", Deflated: true}
	{
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestSpeed)
		w.Write([]byte("<old/>"))
		w.Close()
		old.Output = buf.Bytes()
	}
	if err := mutate(t, c, func(tx *Tx) error {
		tx.PutToken(&Token{Key: "a/CreateNetworkInterface/t", Hash: "h", Output: bytes.Clone(reply)})
		tx.tokens.Put(old)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_ = view(t, c, func(tx *Tx) error {
		stored := tx.tokens.Get("a/CreateNetworkInterface/t")
		if stored.Dict != 1 || len(stored.Output) > 300 || cap(stored.Output) > len(stored.Output)*9/8+16 {
			t.Errorf("stored: dict %d, %d bytes (cap %d) for a %d-byte reply", stored.Dict, len(stored.Output), cap(stored.Output), len(reply))
		}
		if got := tx.Token("a/CreateNetworkInterface/t"); got == nil || !bytes.Equal(got.Output, reply) {
			t.Errorf("reply did not come back intact: %+v", got)
		}
		if got := tx.Token("a/CreateVpc/old"); got == nil || string(got.Output) != "<old/>" {
			t.Errorf("token without a dictionary: %+v", got)
		}
		return nil
	})
}
