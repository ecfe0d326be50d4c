package core

import "testing"

// The embedded catalogue of AWS-managed policies parses, holds the policies the
// tools name, and its ids are IAM-shaped and distinct.
func TestManagedPolicyCatalogue(t *testing.T) {
	list, err := parseManagedPolicies(iamPoliciesTSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 1000 {
		t.Fatalf("%d managed policies", len(list))
	}
	ids := map[string]bool{}
	for _, m := range list {
		if id := m.ID(); len(id) != 21 || ids[id] {
			t.Errorf("%s: id %s", m.Name, id)
		} else {
			ids[id] = true
		}
	}
	for _, arn := range []string{"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess",
		"arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceRole", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"} {
		if iamManagedPolicy(arn) == nil {
			t.Errorf("%s not in the catalogue", arn)
		}
	}
	if _, err := parseManagedPolicies("X\tno-slash\tv1\t2020-01-01T00:00:00Z\t2020-01-01T00:00:00Z\n"); err == nil {
		t.Error("a path without slashes accepted")
	}
}
