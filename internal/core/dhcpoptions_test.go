package core

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// An account bootstrapped before DHCP options sets were records (its VPCs
// name dopt-<account[:8]>, no set exists) gets its default set under that
// id on its next request, and its VPCs keep pointing at it.
func TestDhcpDefaultSetMigration(t *testing.T) {
	c := newTestCore(t)
	if err := view(t, c, func(*Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	old := newTestCore(t)
	for key, val := range c.Dump() {
		kind, rest, _ := strings.Cut(key, "/")
		switch kind {
		case "dopt":
			continue // no sets then
		case "meta":
			var m Meta
			if err := json.Unmarshal([]byte(val), &m); err != nil {
				t.Fatal(err)
			}
			m.DhcpDefaults = nil
			b, _ := json.Marshal(&m)
			val = string(b)
		case "vpc":
			var v VPC
			if err := json.Unmarshal([]byte(val), &v); err != nil {
				t.Fatal(err)
			}
			v.DhcpOptionsID = "dopt-12345678"
			b, _ := json.Marshal(&v)
			val = string(b)
		}
		if err := old.Load(kind, rest, []byte(val)); err != nil {
			t.Fatal(err)
		}
	}
	old.Rebuild()
	err := view(t, old, func(tx *Tx) error {
		out, err := tx.DescribeDhcpOptions(&ec2wire.DescribeDhcpOptionsInput{DhcpOptionsIds: []string{"dopt-12345678"}})
		if err != nil {
			return err
		}
		if len(out.DhcpOptions) != 1 || len(out.DhcpOptions[0].DhcpConfigurations) != 2 {
			t.Errorf("migrated default set %+v", out.DhcpOptions)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs := old.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
