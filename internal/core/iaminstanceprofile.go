package core

import (
	"strings"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// IAM instance profiles of EC2 instances: given at launch (RunInstances'
// or its launch template's IamInstanceProfile, by ARN or name, checked
// against IAM as AWS does), associated, replaced, disassociated and
// described. AWS answers a change "associating" or "disassociating" and
// settles it within seconds; here it settles at once, so that a described
// association is always "associated" and a disassociated one is gone (no
// waiter is left waiting). The instance metadata service reads the
// association on every request (MetadataView.IAM).

// ProfileAssoc is an instance's association with an instance profile.
type ProfileAssoc struct {
	ID        string    `json:"id"` // iip-assoc-...
	Arn       string    `json:"arn"`
	ProfileID string    `json:"profileId"` // AIPA...
	Since     time.Time `json:"since"`
}

// profileRef is a resolved instance profile.
type profileRef struct{ arn, id string }

// iamRead runs fn on a read-only transaction over IAM, which lives in
// IAMRegion: the transaction itself when it is that region's, else a view
// of that region's committed state under its read lock. Locks are only ever
// taken in that order (a region's, then IAM's region's), so this cannot
// deadlock.
func (tx *Tx) iamRead(fn func(iam *Tx)) {
	home := tx.core.IAMRegion()
	if tx.db.region == home {
		fn(tx)
		return
	}
	r := tx.core.region(home)
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn(tx.core.newTx(r, Caller{Account: tx.Account, Region: home}, true))
}

// resolveProfile finds the instance profile an IamInstanceProfile names,
// by ARN or by name (both: they must be the same profile).
func (tx *Tx) resolveProfile(spec *ec2wire.IamInstanceProfileSpecification) (*profileRef, error) {
	arn, name := str(spec.Arn), str(spec.Name)
	var found *profileRef
	tx.iamRead(func(iam *Tx) {
		key := name
		if arn != "" {
			key = profileNameOfArn(arn, tx.Account)
		}
		if key == "" {
			return
		}
		if p := iam.profiles.Get(iamKey(tx.Account, key)); p != nil && (arn == "" || p.Arn() == arn) && (name == "" || p.Name == name) {
			found = &profileRef{arn: p.Arn(), id: p.ID}
		}
	})
	switch {
	case found != nil:
		return found, nil
	case arn != "":
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", arn)
	default:
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", name)
	}
}

// profileNameOfArn is the name in arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME
// when ACCOUNT is account, else "".
func profileNameOfArn(arn, account string) string {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::"+account+":instance-profile/")
	if !ok {
		return ""
	}
	return rest[strings.LastIndexByte(rest, '/')+1:]
}

func (tx *Tx) newProfileAssoc(p *profileRef) *ProfileAssoc {
	return &ProfileAssoc{ID: tx.newID("iip-assoc"), Arn: p.arn, ProfileID: p.id, Since: tx.now}
}

func profileAssocOut(inst *Instance, state string) *ec2wire.IamInstanceProfileAssociation {
	a := inst.Profile
	return &ec2wire.IamInstanceProfileAssociation{AssociationId: p(a.ID), InstanceId: p(inst.ID), State: p(state),
		IamInstanceProfile: &ec2wire.IamInstanceProfile{Arn: p(a.Arn), Id: p(a.ProfileID)}, Timestamp: ec2wire.NewTime(a.Since)}
}

// instanceProfileOut is Instances[].IamInstanceProfile.
func instanceProfileOut(inst *Instance) *ec2wire.IamInstanceProfile {
	if inst.Profile == nil {
		return nil
	}
	return &ec2wire.IamInstanceProfile{Arn: p(inst.Profile.Arn), Id: p(inst.Profile.ProfileID)}
}

// instanceByAssoc finds the caller's instance whose association is id.
func (tx *Tx) instanceByAssoc(id string) (*Instance, error) {
	var found *Instance
	if validID(id, "iip-assoc") {
		tx.instances.Each(func(i *Instance) bool {
			if i.Owner == tx.Account && i.Profile != nil && i.Profile.ID == id {
				found = i
			}
			return found == nil
		})
	}
	if found == nil {
		return nil, errorf(CodeInvalidAssociationIDNotFound, "An invalid association-id of '%s' was given", id)
	}
	return found, nil
}

// AssociateIamInstanceProfile gives an instance without one an instance profile.
func (tx *Tx) AssociateIamInstanceProfile(in *ec2wire.AssociateIamInstanceProfileInput) (*ec2wire.AssociateIamInstanceProfileOutput, error) {
	if in.IamInstanceProfile == nil || (str(in.IamInstanceProfile.Arn) == "" && str(in.IamInstanceProfile.Name) == "") {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter IamInstanceProfile")
	}
	if str(in.InstanceId) == "" {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter InstanceId")
	}
	inst, err := tx.getInstance(str(in.InstanceId))
	if err != nil {
		return nil, err
	}
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a valid state for this operation.", inst.ID)
	}
	if inst.Profile != nil {
		return nil, errorf(CodeIncorrectState, "There is an existing association for instance %s", inst.ID)
	}
	ref, err := tx.resolveProfile(in.IamInstanceProfile)
	if err != nil {
		return nil, err
	}
	m := tx.instances.Mut(inst.ID)
	m.Profile = tx.newProfileAssoc(ref)
	return &ec2wire.AssociateIamInstanceProfileOutput{IamInstanceProfileAssociation: profileAssocOut(m, "associating")}, nil
}

// ReplaceIamInstanceProfileAssociation replaces an association's instance
// profile: the instance gets a new association.
func (tx *Tx) ReplaceIamInstanceProfileAssociation(in *ec2wire.ReplaceIamInstanceProfileAssociationInput) (*ec2wire.ReplaceIamInstanceProfileAssociationOutput, error) {
	if in.IamInstanceProfile == nil || (str(in.IamInstanceProfile.Arn) == "" && str(in.IamInstanceProfile.Name) == "") {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter IamInstanceProfile")
	}
	if str(in.AssociationId) == "" {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter AssociationId")
	}
	inst, err := tx.instanceByAssoc(str(in.AssociationId))
	if err != nil {
		return nil, err
	}
	ref, err := tx.resolveProfile(in.IamInstanceProfile)
	if err != nil {
		return nil, err
	}
	m := tx.instances.Mut(inst.ID)
	m.Profile = tx.newProfileAssoc(ref)
	return &ec2wire.ReplaceIamInstanceProfileAssociationOutput{IamInstanceProfileAssociation: profileAssocOut(m, "associating")}, nil
}

// DisassociateIamInstanceProfile removes an instance's instance profile.
// Credentials the metadata service handed out stay valid until they
// expire, as on AWS.
func (tx *Tx) DisassociateIamInstanceProfile(in *ec2wire.DisassociateIamInstanceProfileInput) (*ec2wire.DisassociateIamInstanceProfileOutput, error) {
	if str(in.AssociationId) == "" {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter AssociationId")
	}
	inst, err := tx.instanceByAssoc(str(in.AssociationId))
	if err != nil {
		return nil, err
	}
	out := profileAssocOut(inst, "disassociating")
	tx.instances.Mut(inst.ID).Profile = nil
	return &ec2wire.DisassociateIamInstanceProfileOutput{IamInstanceProfileAssociation: out}, nil
}

// instanceProfileFilters adds DescribeInstances' iam-instance-profile filters.
func instanceProfileFilters(fs filterSet[Instance]) {
	one := func(f func(a *ProfileAssoc) string) func(*Instance) []string {
		return func(i *Instance) []string {
			if i.Profile == nil {
				return nil
			}
			return []string{f(i.Profile)}
		}
	}
	fs["iam-instance-profile.arn"] = one(func(a *ProfileAssoc) string { return a.Arn })
	fs["iam-instance-profile.id"] = one(func(a *ProfileAssoc) string { return a.ProfileID })
	fs["iam-instance-profile.name"] = one(func(a *ProfileAssoc) string { return a.Arn[strings.LastIndexByte(a.Arn, '/')+1:] })
}

var profileAssocFilters = filterSet[Instance]{
	"instance-id": func(i *Instance) []string { return []string{i.ID} },
	"state":       func(i *Instance) []string { return []string{"associated"} },
}

// DescribeIamInstanceProfileAssociations lists the caller's associations.
func (tx *Tx) DescribeIamInstanceProfileAssociations(in *ec2wire.DescribeIamInstanceProfileAssociationsInput) (*ec2wire.DescribeIamInstanceProfileAssociationsOutput, error) {
	if len(in.AssociationIds) > 0 && (in.MaxResults != nil || in.NextToken != nil) {
		return nil, errorf(CodeInvalidParameterCombination, "The parameter AssociationIds cannot be used with the parameters MaxResults or NextToken.")
	}
	m, err := newMatcher(profileAssocFilters, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.AssociationIds {
		if _, err := tx.instanceByAssoc(id); err != nil {
			return nil, err
		}
	}
	items := tx.instances.Sorted(func(i *Instance) bool {
		return i.Owner == tx.Account && i.Profile != nil && m.match(i) &&
			(len(in.AssociationIds) == 0 || contains(in.AssociationIds, i.Profile.ID))
	})
	page, next, err := paginate(items, func(i *Instance) string { return i.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeIamInstanceProfileAssociationsOutput{NextToken: next, IamInstanceProfileAssociations: []ec2wire.IamInstanceProfileAssociation{}}
	for _, i := range page {
		out.IamInstanceProfileAssociations = append(out.IamInstanceProfileAssociations, *profileAssocOut(i, "associated"))
	}
	return out, nil
}

// MetadataIAM is what meta-data/iam/ shows: the instance's profile and the
// role its credentials are for ("" when the profile has no role).
type MetadataIAM struct {
	ProfileArn, ProfileID string
	Since                 time.Time // when the association began
	Role, RoleID          string
}

// metadataIAM is inst's MetadataIAM, nil without an association or when its
// profile is gone.
func (tx *Tx) metadataIAM(inst *Instance) *MetadataIAM {
	a := inst.Profile
	if a == nil {
		return nil
	}
	var out *MetadataIAM
	tx.iamRead(func(iam *Tx) {
		pr := iam.profiles.Get(iamKey(inst.Owner, profileNameOfArn(a.Arn, inst.Owner)))
		if pr == nil || pr.ID != a.ProfileID {
			return
		}
		out = &MetadataIAM{ProfileArn: a.Arn, ProfileID: a.ProfileID, Since: a.Since}
		if roles := iam.ProfileRoles(pr); len(roles) > 0 {
			out.Role, out.RoleID = roles[0].Name, roles[0].ID
		}
	})
	return out
}
