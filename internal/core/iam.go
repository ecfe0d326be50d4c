package core

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// IAM, the part of it this server needs: roles and instance profiles, which
// RunInstances and AssociateIamInstanceProfile name and the instance metadata
// service turns into credentials. IAM is global per account; its records
// live in one region's database, IAMRegion (us-east-1, where AWS's IAM
// control plane is, when it is served), and every region reads them there.
// IAM's own error codes (NoSuchEntity 404, EntityAlreadyExists 409,
// DeleteConflict 409, LimitExceeded 409, ValidationError 400) are the API's
// to map; names are unique per account whatever their case, as in IAM.

// IAMRole is an IAM role.
type IAMRole struct {
	Account     string    `json:"account"`
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	ID          string    `json:"id"` // AROA...
	Policy      string    `json:"policy"`
	Description string    `json:"description,omitempty"`
	MaxSession  int32     `json:"maxSession"`
	Created     time.Time `json:"created"`
	// Its permissions and tags (iampolicy.go): the managed policies attached
	// (ARNs, in attach order), inline policies by name, tags in IAM's order.
	Attached []string          `json:"attached,omitempty"`
	Inline   map[string]string `json:"inline,omitempty"`
	Tags     []IAMTag          `json:"tags,omitempty"`
}

func (r *IAMRole) key() string { return iamKey(r.Account, r.Name) }
func (r *IAMRole) clone() *IAMRole {
	c := *r
	c.Attached, c.Inline, c.Tags = slices.Clone(r.Attached), maps.Clone(r.Inline), slices.Clone(r.Tags)
	return &c
}

// Arn is the role's ARN.
func (r *IAMRole) Arn() string { return "arn:aws:iam::" + r.Account + ":role" + r.Path + r.Name }

// IAMInstanceProfile is an IAM instance profile: a container of at most one
// role that EC2 instances are launched with.
type IAMInstanceProfile struct {
	Account string    `json:"account"`
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	ID      string    `json:"id"` // AIPA...
	Roles   []string  `json:"roles,omitempty"`
	Created time.Time `json:"created"`
}

func (p *IAMInstanceProfile) key() string { return iamKey(p.Account, p.Name) }
func (p *IAMInstanceProfile) clone() *IAMInstanceProfile {
	c := *p
	c.Roles = append([]string(nil), p.Roles...)
	return &c
}

// Arn is the instance profile's ARN.
func (p *IAMInstanceProfile) Arn() string {
	return "arn:aws:iam::" + p.Account + ":instance-profile" + p.Path + p.Name
}

func iamKey(account, name string) string { return account + ":" + strings.ToLower(name) }

// IAM's error codes.
const (
	CodeNoSuchEntity          = "NoSuchEntity"
	CodeEntityAlreadyExists   = "EntityAlreadyExists"
	CodeDeleteConflict        = "DeleteConflict"
	CodeLimitExceeded         = "LimitExceeded"
	CodeValidationError       = "ValidationError"
	CodeMalformedPolicyDoc    = "MalformedPolicyDocument"
	CodeInvalidInput          = "InvalidInput"
	iamDefaultMaxSession      = 3600
	iamProfileRoleQuota       = 1
	iamNamePattern            = `[\w+=,.@-]+`
	iamPathPattern            = `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`
	iamMaxPolicy              = 131072
	iamMaxDescription         = 1000
	iamRoleNameMax            = 64
	iamProfileNameMax         = 128
	iamMaxSessionLo, iamMaxHi = 3600, 43200
)

var (
	iamNameRE = regexp.MustCompile(`^` + iamNamePattern + `$`)
	iamPathRE = regexp.MustCompile(`^/([!-~]*/)?$`)
)

// IAMRegion is the region whose database holds IAM: us-east-1 when served,
// else the first region served.
func (c *Core) IAMRegion() string {
	if c.served["us-east-1"] {
		return "us-east-1"
	}
	return c.cfg.Regions[0]
}

func iamValidation(value, member, constraint string) error {
	return errorf(CodeValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

func iamRequired(member string) error {
	return errorf(CodeValidationError, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// checkIAMName checks a role's or profile's name (member: roleName...).
func checkIAMName(name, member string, max int) error {
	switch {
	case name == "":
		return iamRequired(member)
	case len(name) > max:
		return iamValidation(name, member, fmt.Sprintf("Member must have length less than or equal to %d", max))
	case !iamNameRE.MatchString(name):
		return iamValidation(name, member, "Member must satisfy regular expression pattern: "+iamNamePattern)
	}
	return nil
}

// iamPath is a path given or "/", checked.
func iamPath(path string) (string, error) {
	if path == "" {
		return "/", nil
	}
	if len(path) > 512 {
		return "", iamValidation(path, "path", "Member must have length less than or equal to 512")
	}
	if !iamPathRE.MatchString(path) {
		return "", iamValidation(path, "path", "Member must satisfy regular expression pattern: "+iamPathPattern)
	}
	return path, nil
}

// iamID is an IAM unique id: the kind's prefix (AROA, AIPA) and 17
// upper-case letters and digits.
func (tx *Tx) iamID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [17]byte
	if _, err := tx.env.Rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("core: id source failed: %v", err)) // the injected source is crypto/rand or a test rand
	}
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return prefix + string(b[:])
}

func roleNotFound(name string) error {
	return errorf(CodeNoSuchEntity, "The role with name %s cannot be found.", name)
}

func profileNotFound(name string) error {
	return errorf(CodeNoSuchEntity, "Instance Profile %s cannot be found.", name)
}

// RoleInput is CreateRole's parameters.
type RoleInput struct {
	Name, Path, Policy, Description string
	MaxSession                      int32 // 0: one hour
	Tags                            []IAMTag
}

// checkPolicyDocument checks a policy document's size and that it is a JSON
// object (member: the parameter's name in IAM's messages).
func checkPolicyDocument(doc, member string) error {
	if doc == "" {
		return iamRequired(member)
	}
	if len(doc) > iamMaxPolicy {
		return iamValidation("...", member, fmt.Sprintf("Member must have length less than or equal to %d", iamMaxPolicy))
	}
	if !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return errorf(CodeMalformedPolicyDoc, "This policy contains invalid Json")
	}
	return nil
}

// CreateRole creates a role.
func (tx *Tx) CreateRole(in RoleInput) (*IAMRole, error) {
	if err := checkIAMName(in.Name, "roleName", iamRoleNameMax); err != nil {
		return nil, err
	}
	path, err := iamPath(in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkPolicyDocument(in.Policy, "assumeRolePolicyDocument"); err != nil {
		return nil, err
	}
	if len(in.Description) > iamMaxDescription {
		return nil, iamValidation(in.Description, "description", fmt.Sprintf("Member must have length less than or equal to %d", iamMaxDescription))
	}
	session := in.MaxSession
	if session == 0 {
		session = iamDefaultMaxSession
	}
	if session < iamMaxSessionLo || session > iamMaxHi {
		return nil, iamValidation(fmt.Sprint(session), "maxSessionDuration", fmt.Sprintf("Member must have value less than or equal to %d", iamMaxHi))
	}
	tags, err := mergeIAMTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	if tx.roles.Get(iamKey(tx.Account, in.Name)) != nil {
		return nil, errorf(CodeEntityAlreadyExists, "Role with name %s already exists.", in.Name)
	}
	r := &IAMRole{Account: tx.Account, Name: in.Name, Path: path, ID: tx.iamID("AROA"), Policy: in.Policy,
		Description: in.Description, MaxSession: session, Created: tx.now, Tags: tags}
	tx.roles.Put(r)
	return r, nil
}

// GetRole returns the role named name.
func (tx *Tx) GetRole(name string) (*IAMRole, error) {
	if err := checkIAMName(name, "roleName", iamRoleNameMax); err != nil {
		return nil, err
	}
	r := tx.roles.Get(iamKey(tx.Account, name))
	if r == nil {
		return nil, roleNotFound(name)
	}
	return r, nil
}

// DeleteRole deletes a role that no instance profile holds, with no policy.
func (tx *Tx) DeleteRole(name string) error {
	r, err := tx.GetRole(name)
	if err != nil {
		return err
	}
	if err := tx.roleDeleteConflict(r); err != nil {
		return err
	}
	tx.roles.Delete(r.key())
	return nil
}

// ListRoles lists the account's roles whose path begins with prefix ("":
// all), sorted by name.
func (tx *Tx) ListRoles(prefix string) []*IAMRole {
	return tx.roles.Sorted(func(r *IAMRole) bool {
		return r.Account == tx.Account && strings.HasPrefix(r.Path, prefix)
	})
}

// CreateInstanceProfile creates an instance profile, with no role.
func (tx *Tx) CreateInstanceProfile(name, path string) (*IAMInstanceProfile, error) {
	if err := checkIAMName(name, "instanceProfileName", iamProfileNameMax); err != nil {
		return nil, err
	}
	path, err := iamPath(path)
	if err != nil {
		return nil, err
	}
	if tx.profiles.Get(iamKey(tx.Account, name)) != nil {
		return nil, errorf(CodeEntityAlreadyExists, "Instance Profile %s already exists.", name)
	}
	p := &IAMInstanceProfile{Account: tx.Account, Name: name, Path: path, ID: tx.iamID("AIPA"), Created: tx.now}
	tx.profiles.Put(p)
	return p, nil
}

// GetInstanceProfile returns the instance profile named name.
func (tx *Tx) GetInstanceProfile(name string) (*IAMInstanceProfile, error) {
	if err := checkIAMName(name, "instanceProfileName", iamProfileNameMax); err != nil {
		return nil, err
	}
	p := tx.profiles.Get(iamKey(tx.Account, name))
	if p == nil {
		return nil, profileNotFound(name)
	}
	return p, nil
}

// ProfileRoles are the roles of p (a role deleted since is left out).
func (tx *Tx) ProfileRoles(p *IAMInstanceProfile) []*IAMRole {
	var out []*IAMRole
	for _, n := range p.Roles {
		if r := tx.roles.Get(iamKey(p.Account, n)); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// ListInstanceProfiles lists the account's instance profiles whose path
// begins with prefix, sorted by name.
func (tx *Tx) ListInstanceProfiles(prefix string) []*IAMInstanceProfile {
	return tx.profiles.Sorted(func(p *IAMInstanceProfile) bool {
		return p.Account == tx.Account && strings.HasPrefix(p.Path, prefix)
	})
}

// DeleteInstanceProfile deletes an instance profile that holds no role.
// Instances associated with it keep the association, as on AWS, and get no
// credentials from it.
func (tx *Tx) DeleteInstanceProfile(name string) error {
	p, err := tx.GetInstanceProfile(name)
	if err != nil {
		return err
	}
	if len(p.Roles) > 0 {
		return errorf(CodeDeleteConflict, "Cannot delete entity, must remove roles from instance profile first.")
	}
	tx.profiles.Delete(p.key())
	return nil
}

// AddRoleToInstanceProfile puts a role in an instance profile (one at most).
func (tx *Tx) AddRoleToInstanceProfile(profile, role string) error {
	p, err := tx.GetInstanceProfile(profile)
	if err != nil {
		return err
	}
	r, err := tx.GetRole(role)
	if err != nil {
		return err
	}
	if containsFold(p.Roles, r.Name) {
		return errorf(CodeLimitExceeded, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", iamProfileRoleQuota)
	}
	if len(p.Roles) >= iamProfileRoleQuota {
		return errorf(CodeLimitExceeded, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", iamProfileRoleQuota)
	}
	tx.profiles.Mut(p.key()).Roles = append(p.Roles, r.Name)
	return nil
}

// RemoveRoleFromInstanceProfile takes a role out of an instance profile.
func (tx *Tx) RemoveRoleFromInstanceProfile(profile, role string) error {
	p, err := tx.GetInstanceProfile(profile)
	if err != nil {
		return err
	}
	if err := checkIAMName(role, "roleName", iamRoleNameMax); err != nil {
		return err
	}
	if !containsFold(p.Roles, role) {
		return roleNotFound(role)
	}
	m := tx.profiles.Mut(p.key())
	m.Roles = nil
	for _, n := range p.Roles {
		if !strings.EqualFold(n, role) {
			m.Roles = append(m.Roles, n)
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
