package core

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRegions(t *testing.T) {
	all := AWSRegions()
	if len(all) != 32 || !slices.IsSorted(all) {
		t.Fatalf("AWSRegions: %v", all)
	}
	for _, c := range []struct {
		spec    string
		want    []string // nil: error
		wantErr string
	}{
		{"", all, ""},
		{" , ", all, ""},
		{"us-east-1,eu-west-1", []string{"eu-west-1", "us-east-1"}, ""},
		{"eu-west-1,eu-west-1", []string{"eu-west-1"}, ""},
		{"af-south-1", []string{"af-south-1"}, ""},
		{"+my-lab-1", slices.Sorted(slices.Values(append(slices.Clone(all), "my-lab-1"))), ""},
		{"us-east-1,+my-lab-1,+zz-test-2", []string{"my-lab-1", "us-east-1", "zz-test-2"}, ""},
		{"mars-1", nil, "not a region name"},
		{"us-mars-1", nil, "not an AWS region; add a region of your own as +us-mars-1"},
		{"+us-east-1", nil, "is an AWS region"},
		{"+" + strings.Repeat("a", 40) + "-1", nil, "not a region name"},
		{"+zz/evil-1", nil, "not a region name"},
	} {
		got, err := ParseRegions(c.spec)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: got %v, %v; want error %q", c.spec, got, err, c.wantErr)
			}
		case err != nil || !slices.Equal(got, c.want):
			t.Errorf("%q: got %v, %v; want %v", c.spec, got, err, c.want)
		}
	}
}

// A core holds state only for the regions it serves: Read and Write refuse
// any other before creating anything, and loading skips their records.
func TestUnservedRegionCreatesNothing(t *testing.T) {
	c := New(Env{}, Config{Regions: []string{"eu-west-1"}})
	for _, r := range []string{"us-east-1", "zz-made-1", "zz/evil", strings.Repeat("x", 3000)} {
		who := Caller{Account: "123456789012", Region: r}
		if err := c.Read(who, nil, func(*Tx) error { return nil }); err == nil || err.(*Error).Code != "SignatureDoesNotMatch" {
			t.Fatalf("read in %.20s: %v", r, err)
		}
		if err := c.Write(who, false, nil, func(*Tx) error { return nil }); err == nil {
			t.Fatalf("write in %.20s: %v", r, err)
		}
		if hv := c.HostView(r); len(hv.Instances) != 0 {
			t.Fatalf("host view of %.20s", r)
		}
	}
	if err := c.Load("vpc", "zz/evil/vpc-1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got := c.Regions(); len(got) != 0 {
		t.Fatalf("regions: %v", got)
	}
	if got := c.SkippedRegions(); !slices.Equal(got, []string{"zz"}) {
		t.Fatalf("skipped: %v", got)
	}
	if err := c.CheckRegion("eu-west-1"); err != nil {
		t.Fatal(err)
	}
}
