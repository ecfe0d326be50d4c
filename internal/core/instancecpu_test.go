package core

import (
	"slices"
	"testing"
)

// The embedded CPU table parses, every type in it is a known instance type, and
// each default is one of the type's valid counts.
func TestInstanceCPUTable(t *testing.T) {
	m, err := parseInstanceCPU(instanceCPUTSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) < 500 {
		t.Fatalf("%d types with CPU options, want AWS's 552", len(m))
	}
	for typ, c := range m {
		if _, ok := instanceType(typ); !ok {
			t.Errorf("%s: not in instance-types.tsv", typ)
		}
		if !slices.Contains(c.ValidCores, c.DefaultCores) || !slices.Contains(c.ValidThreads, c.DefaultThreads) {
			t.Errorf("%s: defaults %d×%d not among %v × %v", typ, c.DefaultCores, c.DefaultThreads, c.ValidCores, c.ValidThreads)
		}
	}
	if _, err := parseInstanceCPU("m5.large\t3\t1\t2\t1\t1,2\n"); err == nil {
		t.Error("3 vCPUs of 1 core × 2 threads accepted")
	}
}
