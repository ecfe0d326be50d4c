package core

import (
	"slices"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// TestENITagIndexFollowsTags checks that tag:<key> filters, answered from
// the tag index, see tags added, changed and removed, ENIs deleted, the
// transaction's own writes, and a Rebuild.
func TestENITagIndexFollowsTags(t *testing.T) {
	f := newENIFix(t)
	a := *f.mustCreate(t, f.subA).NetworkInterfaceId
	b := *f.mustCreate(t, f.subA).NetworkInterfaceId
	c := *f.mustCreate(t, f.subB).NetworkInterfaceId
	tag := func(k, v string, ids ...string) {
		t.Helper()
		eniMust(t, mutate(t, f.c, func(tx *Tx) error {
			_, err := tx.CreateTags(&ec2wire.CreateTagsInput{Resources: ids, Tags: []ec2wire.Tag{{Key: p(k), Value: p(v)}}})
			return err
		}))
	}
	find := func(k string, vals ...string) []string {
		t.Helper()
		var got []string
		eniMust(t, view(t, f.c, func(tx *Tx) error {
			out, err := tx.DescribeNetworkInterfaces(&ec2wire.DescribeNetworkInterfacesInput{Filters: []ec2wire.Filter{{Name: p("tag:" + k), Values: vals}}})
			if err != nil {
				return err
			}
			for _, n := range out.NetworkInterfaces {
				got = append(got, *n.NetworkInterfaceId)
			}
			return nil
		}))
		slices.Sort(got)
		return got
	}
	want := func(got []string, ids ...string) {
		t.Helper()
		slices.Sort(ids)
		if !slices.Equal(got, ids) {
			t.Fatalf("got %v, want %v", got, ids)
		}
		if errs := f.c.Check(); len(errs) > 0 {
			t.Fatal(errs)
		}
	}
	tag("team", "red", a, b)
	tag("team", "blue", c)
	want(find("team", "red"), a, b)
	want(find("team", "red", "blue"), a, b, c)
	want(find("team", "r*"), a, b) // a wildcard: a scan, same answer
	tag("team", "blue", b)         // changed value
	want(find("team", "red"), a)
	want(find("team", "blue"), b, c)
	eniMust(t, mutate(t, f.c, func(tx *Tx) error {
		_, err := tx.DeleteTags(&ec2wire.DeleteTagsInput{Resources: []string{c}, Tags: []ec2wire.Tag{{Key: p("team")}}})
		return err
	}))
	want(find("team", "blue"), b)
	eniMust(t, mutate(t, f.c, func(tx *Tx) error { tx.deleteENI(a); return nil }))
	want(find("team", "red"))
	// The transaction's own writes count.
	eniMust(t, mutate(t, f.c, func(tx *Tx) error {
		tx.enis.Mut(c).Tags = Tags{"team": "red"}
		out, err := tx.DescribeNetworkInterfaces(&ec2wire.DescribeNetworkInterfacesInput{Filters: []ec2wire.Filter{{Name: p("tag:team"), Values: []string{"red"}}}})
		if err != nil {
			return err
		}
		if n := out.NetworkInterfaces; len(n) != 1 || *n[0].NetworkInterfaceId != c {
			t.Errorf("in the transaction: got %d ENIs, want %s", len(n), c)
		}
		return nil
	}))
	f.c.Rebuild()
	want(find("team", "red"), c)
	want(find("team", "blue"), b)
}
