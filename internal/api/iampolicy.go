package api

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/core"
)

// IAM role permissions and tags (core/iampolicy.go): the AWS-managed policy
// catalogue, managed policies attached to roles, inline role policies, role
// tags and the instance profiles of a role.

var iamPolicyActions = map[string]func(tx *core.Tx, q url.Values) (any, error){
	"ListPolicies": iamListPolicies,
	"AttachRolePolicy": func(tx *core.Tx, q url.Values) (any, error) {
		return nil, tx.AttachRolePolicy(q.Get("RoleName"), q.Get("PolicyArn"))
	},
	"DetachRolePolicy": func(tx *core.Tx, q url.Values) (any, error) {
		return nil, tx.DetachRolePolicy(q.Get("RoleName"), q.Get("PolicyArn"))
	},
	"ListAttachedRolePolicies": iamListAttached,
	"PutRolePolicy": func(tx *core.Tx, q url.Values) (any, error) {
		return nil, tx.PutRolePolicy(q.Get("RoleName"), q.Get("PolicyName"), q.Get("PolicyDocument"))
	},
	"GetRolePolicy": iamGetRolePolicy,
	"DeleteRolePolicy": func(tx *core.Tx, q url.Values) (any, error) {
		return nil, tx.DeleteRolePolicy(q.Get("RoleName"), q.Get("PolicyName"))
	},
	"ListRolePolicies":            iamListRolePolicies,
	"ListInstanceProfilesForRole": iamListProfilesForRole,
	"TagRole": func(tx *core.Tx, q url.Values) (any, error) {
		return nil, tx.TagRole(q.Get("RoleName"), iamTagsParam(q))
	},
	"UntagRole": func(tx *core.Tx, q url.Values) (any, error) {
		return nil, tx.UntagRole(q.Get("RoleName"), iamMembers(q, "TagKeys"))
	},
	"ListRoleTags": iamListRoleTags,
}

func init() {
	maps.Copy(iamActions, iamPolicyActions)
	for _, a := range []string{"ListPolicies", "ListAttachedRolePolicies", "GetRolePolicy", "ListRolePolicies", "ListInstanceProfilesForRole", "ListRoleTags"} {
		iamReads[a] = true
	}
}

// iamMembers is the list parameter name.member.1, .2, …
func iamMembers(q url.Values, name string) []string {
	var out []string
	for i := 1; q.Has(name + ".member." + strconv.Itoa(i)); i++ {
		out = append(out, q.Get(name+".member."+strconv.Itoa(i)))
	}
	return out
}

// iamTagsParam is Tags.member.N.Key / .Value.
func iamTagsParam(q url.Values) []core.IAMTag {
	var out []core.IAMTag
	for i := 1; q.Has("Tags.member." + strconv.Itoa(i) + ".Key"); i++ {
		p := "Tags.member." + strconv.Itoa(i)
		out = append(out, core.IAMTag{Key: q.Get(p + ".Key"), Value: q.Get(p + ".Value")})
	}
	return out
}

type iamTagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func iamTagsXML(tags []core.IAMTag) []iamTagXML {
	out := []iamTagXML{}
	for _, t := range tags {
		out = append(out, iamTagXML(t))
	}
	return out
}

type iamPolicyXML struct {
	PolicyName                    string `xml:"PolicyName"`
	PolicyID                      string `xml:"PolicyId"`
	Arn                           string `xml:"Arn"`
	Path                          string `xml:"Path"`
	DefaultVersionID              string `xml:"DefaultVersionId"`
	AttachmentCount               int    `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int    `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool   `xml:"IsAttachable"`
	CreateDate                    string `xml:"CreateDate"`
	UpdateDate                    string `xml:"UpdateDate"`
}

// iamListPolicies lists the AWS-managed policies (Scope All or AWS; there are
// no customer-managed ones, Scope Local lists none), by PathPrefix and
// OnlyAttached.
func iamListPolicies(tx *core.Tx, q url.Values) (any, error) {
	scope := q.Get("Scope")
	switch scope {
	case "", "All", "AWS", "Local":
	default:
		return nil, &core.Error{Code: core.CodeValidationError, Message: "1 validation error detected: Value '" + scope + "' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"}
	}
	var list []*core.ManagedPolicy
	for _, m := range core.AWSManagedPolicies() {
		if scope != "Local" && strings.HasPrefix(m.Path, q.Get("PathPrefix")) &&
			(q.Get("OnlyAttached") != "true" || tx.PolicyAttachments(m.Arn()) > 0) {
			list = append(list, m)
		}
	}
	keys := make([]string, len(list))
	for i, m := range list {
		keys[i] = m.Name
	}
	lo, hi, marker, err := iamPage(q, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		Policies    []iamPolicyXML `xml:"Policies>member"`
		IsTruncated bool           `xml:"IsTruncated"`
		Marker      string         `xml:"Marker,omitempty"`
	}{Policies: []iamPolicyXML{}, IsTruncated: marker != "", Marker: marker}
	for _, m := range list[lo:hi] {
		out.Policies = append(out.Policies, iamPolicyXML{PolicyName: m.Name, PolicyID: m.ID(), Arn: m.Arn(), Path: m.Path,
			DefaultVersionID: m.Version, AttachmentCount: tx.PolicyAttachments(m.Arn()), IsAttachable: true,
			CreateDate: iamDate(m.Created), UpdateDate: iamDate(m.Updated)})
	}
	return out, nil
}

// iamListAttached lists a role's managed policies, by ARN.
func iamListAttached(tx *core.Tx, q url.Values) (any, error) {
	r, err := tx.GetRole(q.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	type attached struct {
		PolicyName string `xml:"PolicyName"`
		PolicyArn  string `xml:"PolicyArn"`
	}
	arns := slices.Sorted(slices.Values(r.Attached))
	arns = slices.DeleteFunc(arns, func(a string) bool {
		return !strings.HasPrefix(strings.TrimPrefix(a, "arn:aws:iam::aws:policy"), q.Get("PathPrefix"))
	})
	lo, hi, marker, err := iamPage(q, arns)
	if err != nil {
		return nil, err
	}
	out := struct {
		AttachedPolicies []attached `xml:"AttachedPolicies>member"`
		IsTruncated      bool       `xml:"IsTruncated"`
		Marker           string     `xml:"Marker,omitempty"`
	}{AttachedPolicies: []attached{}, IsTruncated: marker != "", Marker: marker}
	for _, a := range arns[lo:hi] {
		out.AttachedPolicies = append(out.AttachedPolicies, attached{PolicyName: a[strings.LastIndex(a, "/")+1:], PolicyArn: a})
	}
	return out, nil
}

func iamGetRolePolicy(tx *core.Tx, q url.Values) (any, error) {
	doc, err := tx.GetRolePolicy(q.Get("RoleName"), q.Get("PolicyName"))
	if err != nil {
		return nil, err
	}
	return struct {
		RoleName       string `xml:"RoleName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{q.Get("RoleName"), q.Get("PolicyName"), url.PathEscape(doc)}, nil
}

func iamListRolePolicies(tx *core.Tx, q url.Values) (any, error) {
	r, err := tx.GetRole(q.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(r.Inline))
	lo, hi, marker, err := iamPage(q, names)
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyNames []string `xml:"PolicyNames>member"`
		IsTruncated bool     `xml:"IsTruncated"`
		Marker      string   `xml:"Marker,omitempty"`
	}{append([]string{}, names[lo:hi]...), marker != "", marker}, nil
}

func iamListProfilesForRole(tx *core.Tx, q url.Values) (any, error) {
	ps, err := tx.ListInstanceProfilesForRole(q.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.Account + ":" + strings.ToLower(p.Name)
	}
	lo, hi, marker, err := iamPage(q, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		InstanceProfiles []iamProfileXML `xml:"InstanceProfiles>member"`
		IsTruncated      bool            `xml:"IsTruncated"`
		Marker           string          `xml:"Marker,omitempty"`
	}{InstanceProfiles: []iamProfileXML{}, IsTruncated: marker != "", Marker: marker}
	for _, p := range ps[lo:hi] {
		out.InstanceProfiles = append(out.InstanceProfiles, profileXML(tx, p))
	}
	return out, nil
}

func iamListRoleTags(tx *core.Tx, q url.Values) (any, error) {
	r, err := tx.GetRole(q.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	return struct {
		Tags        []iamTagXML `xml:"Tags>member"`
		IsTruncated bool        `xml:"IsTruncated"`
	}{iamTagsXML(r.Tags), false}, nil
}
