package core

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base32"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// IAM role permissions and tags: the AWS-managed policies (their catalogue,
// iam-policies.tsv, compiled in; there are no customer-managed policies here)
// attached to roles, inline role policies and role tags, as community.aws's
// iam_role and Terraform's aws_iam_role manage them. No policy is evaluated.

//go:embed iam-policies.tsv
var iamPoliciesTSV string

// ManagedPolicy is an AWS-managed policy of the catalogue.
type ManagedPolicy struct {
	Name, Path, Version string
	Created, Updated    time.Time
}

// Arn is the policy's ARN.
func (m *ManagedPolicy) Arn() string { return "arn:aws:iam::aws:policy" + m.Path + m.Name }

// ID is the policy's unique id: ANPA and 17 characters derived from its ARN
// (the catalogue has no ids; the same on every server).
func (m *ManagedPolicy) ID() string {
	d := sha256.Sum256([]byte(m.Arn()))
	return "ANPA" + base32.StdEncoding.EncodeToString(d[:])[:17]
}

var (
	iamPoliciesOnce  sync.Once
	iamPoliciesList  []*ManagedPolicy // sorted by name
	iamPoliciesByArn map[string]*ManagedPolicy
)

// AWSManagedPolicies is the catalogue, sorted by name. A malformed embedded
// file is a build defect: it panics (a test parses it).
func AWSManagedPolicies() []*ManagedPolicy {
	iamPoliciesOnce.Do(func() {
		list, err := parseManagedPolicies(iamPoliciesTSV)
		if err != nil {
			panic(err)
		}
		iamPoliciesList, iamPoliciesByArn = list, map[string]*ManagedPolicy{}
		for _, m := range list {
			iamPoliciesByArn[m.Arn()] = m
		}
	})
	return iamPoliciesList
}

func parseManagedPolicies(text string) ([]*ManagedPolicy, error) {
	var out []*ManagedPolicy
	for n, line := range strings.Split(text, "\n") {
		f := strings.Split(line, "\t")
		if line == "" || strings.HasPrefix(line, "#") || f[0] == "name" {
			continue
		}
		if len(f) != 5 {
			return nil, fmt.Errorf("iam-policies.tsv line %d: %d fields", n+1, len(f))
		}
		c, err1 := time.Parse(time.RFC3339, f[3])
		u, err2 := time.Parse(time.RFC3339, f[4])
		if err1 != nil || err2 != nil || !iamPathRE.MatchString(f[1]) {
			return nil, fmt.Errorf("iam-policies.tsv line %d: bad path or date", n+1)
		}
		out = append(out, &ManagedPolicy{Name: f[0], Path: f[1], Version: f[2], Created: c, Updated: u})
	}
	slices.SortFunc(out, func(a, b *ManagedPolicy) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// iamManagedPolicy is the catalogue's policy of arn, or nil.
func iamManagedPolicy(arn string) *ManagedPolicy {
	AWSManagedPolicies()
	return iamPoliciesByArn[arn]
}

// IAMTag is a tag of an IAM entity (IAM keeps their order).
type IAMTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// IAM's quotas and limits of role permissions and tags.
const (
	iamManagedPerRole = 10
	iamTagsPerRole    = 50
	iamTagKeyMax      = 128
	iamTagValueMax    = 256
	iamPolicyNameMax  = 128
)

// iamPolicyNotAttachable is AttachRolePolicy's answer for an ARN that names no
// policy of the catalogue.
func iamPolicyNotAttachable(arn string) error {
	return errorf(CodeNoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
}

// AttachRolePolicy attaches an AWS-managed policy to a role (again: nothing).
func (tx *Tx) AttachRolePolicy(role, arn string) error {
	r, err := tx.GetRole(role)
	if err != nil {
		return err
	}
	if arn == "" {
		return iamRequired("policyArn")
	}
	if iamManagedPolicy(arn) == nil {
		return iamPolicyNotAttachable(arn)
	}
	if slices.Contains(r.Attached, arn) {
		return nil
	}
	if len(r.Attached) >= iamManagedPerRole {
		return errorf(CodeLimitExceeded, "Cannot exceed quota for PoliciesPerRole: %d", iamManagedPerRole)
	}
	m := tx.roles.Mut(r.key())
	m.Attached = append(slices.Clone(r.Attached), arn)
	return nil
}

// DetachRolePolicy detaches a managed policy from a role.
func (tx *Tx) DetachRolePolicy(role, arn string) error {
	r, err := tx.GetRole(role)
	if err != nil {
		return err
	}
	if !slices.Contains(r.Attached, arn) {
		return errorf(CodeNoSuchEntity, "Policy %s was not found.", arn)
	}
	m := tx.roles.Mut(r.key())
	m.Attached = slices.DeleteFunc(slices.Clone(r.Attached), func(a string) bool { return a == arn })
	return nil
}

// PolicyAttachments is how many of the account's roles a policy is attached to.
func (tx *Tx) PolicyAttachments(arn string) int {
	n := 0
	tx.roles.Each(func(r *IAMRole) bool {
		if r.Account == tx.Account && slices.Contains(r.Attached, arn) {
			n++
		}
		return true
	})
	return n
}

// checkRolePolicyName checks an inline policy's name.
func checkRolePolicyName(name string) error {
	return checkIAMName(name, "policyName", iamPolicyNameMax)
}

// PutRolePolicy sets a role's inline policy name to doc.
func (tx *Tx) PutRolePolicy(role, name, doc string) error {
	r, err := tx.GetRole(role)
	if err != nil {
		return err
	}
	if err := checkRolePolicyName(name); err != nil {
		return err
	}
	if err := checkPolicyDocument(doc, "policyDocument"); err != nil {
		return err
	}
	m := tx.roles.Mut(r.key())
	m.Inline = maps.Clone(r.Inline)
	if m.Inline == nil {
		m.Inline = map[string]string{}
	}
	m.Inline[name] = doc
	return nil
}

// GetRolePolicy is a role's inline policy name.
func (tx *Tx) GetRolePolicy(role, name string) (string, error) {
	r, err := tx.GetRole(role)
	if err != nil {
		return "", err
	}
	doc, ok := r.Inline[name]
	if !ok {
		return "", errorf(CodeNoSuchEntity, "The role policy with name %s cannot be found.", name)
	}
	return doc, nil
}

// DeleteRolePolicy deletes a role's inline policy.
func (tx *Tx) DeleteRolePolicy(role, name string) error {
	if _, err := tx.GetRolePolicy(role, name); err != nil {
		return err
	}
	m := tx.roles.Mut(iamKey(tx.Account, role))
	m.Inline = maps.Clone(m.Inline)
	delete(m.Inline, name)
	return nil
}

// ListInstanceProfilesForRole lists the instance profiles holding a role.
func (tx *Tx) ListInstanceProfilesForRole(role string) ([]*IAMInstanceProfile, error) {
	r, err := tx.GetRole(role)
	if err != nil {
		return nil, err
	}
	return tx.profiles.Sorted(func(p *IAMInstanceProfile) bool {
		return p.Account == tx.Account && containsFold(p.Roles, r.Name)
	}), nil
}

// checkIAMTags checks tags given to a role.
func checkIAMTags(tags []IAMTag) error {
	for _, t := range tags {
		switch {
		case t.Key == "" || len(t.Key) > iamTagKeyMax:
			return iamValidation(t.Key, "tags.member.key", fmt.Sprintf("Member must have length between 1 and %d", iamTagKeyMax))
		case len(t.Value) > iamTagValueMax:
			return iamValidation(t.Value, "tags.member.value", fmt.Sprintf("Member must have length less than or equal to %d", iamTagValueMax))
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return errorf(CodeInvalidInput, "User is not authorized to perform tag operations with keys starting with aws:")
		}
	}
	return nil
}

// mergeIAMTags is tags with add set over them (a key again: its new value).
func mergeIAMTags(tags, add []IAMTag) ([]IAMTag, error) {
	if err := checkIAMTags(add); err != nil {
		return nil, err
	}
	out := slices.Clone(tags)
	for _, t := range add {
		if i := slices.IndexFunc(out, func(o IAMTag) bool { return o.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	if len(out) > iamTagsPerRole {
		return nil, errorf(CodeLimitExceeded, "Cannot exceed quota for TagsPerRole: %d", iamTagsPerRole)
	}
	return out, nil
}

// TagRole adds or changes a role's tags.
func (tx *Tx) TagRole(role string, tags []IAMTag) error {
	r, err := tx.GetRole(role)
	if err != nil {
		return err
	}
	out, err := mergeIAMTags(r.Tags, tags)
	if err != nil {
		return err
	}
	tx.roles.Mut(r.key()).Tags = out
	return nil
}

// UntagRole removes a role's tags by key.
func (tx *Tx) UntagRole(role string, keys []string) error {
	r, err := tx.GetRole(role)
	if err != nil {
		return err
	}
	tx.roles.Mut(r.key()).Tags = slices.DeleteFunc(slices.Clone(r.Tags), func(t IAMTag) bool { return slices.Contains(keys, t.Key) })
	return nil
}

// roleDeleteConflict is why a role cannot be deleted yet, or nil.
func (tx *Tx) roleDeleteConflict(r *IAMRole) error {
	inProfile := false
	tx.profiles.Each(func(p *IAMInstanceProfile) bool {
		inProfile = p.Account == tx.Account && containsFold(p.Roles, r.Name)
		return !inProfile
	})
	switch {
	case inProfile:
		return errorf(CodeDeleteConflict, "Cannot delete entity, must remove roles from instance profile first.")
	case len(r.Attached) > 0:
		return errorf(CodeDeleteConflict, "Cannot delete entity, must detach all policies first.")
	case len(r.Inline) > 0:
		return errorf(CodeDeleteConflict, "Cannot delete entity, must delete policies first.")
	}
	return nil
}
