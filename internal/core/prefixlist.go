package core

// Managed prefix lists: a customer's own lists (pl-..., versioned entries
// with a maximum) and the AWS-managed lists every region has.

import (
	"fmt"
	"hash/fnv"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// PrefixListEntry is one CIDR of a prefix list.
type PrefixListEntry struct {
	Cidr        string `json:"cidr"`
	Description string `json:"description,omitempty"`
}

// PrefixListVersion is the entries a list had at one version.
type PrefixListVersion struct {
	Version int64             `json:"version"`
	Entries []PrefixListEntry `json:"entries,omitempty"`
}

// PrefixList is a customer-managed prefix list. Its versions are kept
// (GetManagedPrefixListEntries' TargetVersion, RestoreManagedPrefixListVersion);
// the last one is the current one.
type PrefixList struct {
	ID            string              `json:"id"`
	Owner         string              `json:"owner"`
	Name          string              `json:"name"`
	AddressFamily string              `json:"addressFamily"` // IPv4 | IPv6
	MaxEntries    int32               `json:"maxEntries"`
	State         string              `json:"state"` // create-complete | modify-complete | restore-complete
	Versions      []PrefixListVersion `json:"versions"`
	Tags          Tags                `json:"tags,omitempty"`
}

func (l *PrefixList) key() string { return l.ID }
func (l *PrefixList) clone() *PrefixList {
	c := *l
	c.Versions = make([]PrefixListVersion, len(l.Versions))
	for i, v := range l.Versions {
		c.Versions[i] = PrefixListVersion{Version: v.Version, Entries: slices.Clone(v.Entries)}
	}
	c.Tags = maps.Clone(l.Tags)
	return &c
}

// getOwnPrefixList returns one of the caller's own prefix lists.
func (tx *Tx) getOwnPrefixList(id string) (*PrefixList, error) {
	if !validID(id, "pl") {
		return nil, errorf(CodeInvalidPrefixListIDMalformed, "Invalid id: \"%s\" (expecting \"pl-...\")", id)
	}
	l := tx.pls.Get(id)
	if l == nil || l.Owner != tx.Account {
		return nil, errorf(CodeInvalidPrefixListIDNotFound, "The prefix list ID '%s' does not exist", id)
	}
	return l, nil
}

const (
	plMaxEntriesLimit = 1000 // AWS's largest MaxEntries
	plMaxNameLen      = 255
	// awsOwner is the owner AWS-managed prefix lists show.
	awsOwner = "AWS"
)

// awsManagedList is an AWS-managed prefix list of a region: its name (with
// {region}), address family and weight (what a security group rule that
// references it counts against the rules quota), from AWS's list of
// AWS-managed prefix lists. gateway marks the lists DescribePrefixLists
// shows (the services of gateway endpoints).
type awsManagedList struct {
	name, family string
	weight       int
	gateway      bool
}

var awsManagedLists = []awsManagedList{
	{"com.amazonaws.{region}.s3", "IPv4", 1, true},
	{"com.amazonaws.{region}.dynamodb", "IPv4", 1, true},
	{"com.amazonaws.{region}.ec2-instance-connect", "IPv4", 2, false},
	{"com.amazonaws.{region}.ipv6.ec2-instance-connect", "IPv6", 2, false},
	{"com.amazonaws.{region}.route53-healthchecks", "IPv4", 25, false},
	{"com.amazonaws.{region}.ipv6.route53-healthchecks", "IPv6", 25, false},
	{"com.amazonaws.{region}.s3express", "IPv4", 6, false},
	{"com.amazonaws.{region}.vpc-lattice", "IPv4", 10, false},
	{"com.amazonaws.{region}.ipv6.vpc-lattice", "IPv6", 10, false},
	{"com.amazonaws.global.cloudfront.origin-facing", "IPv4", 55, false},
	{"com.amazonaws.global.ipv6.cloudfront.origin-facing", "IPv6", 55, false},
	{"com.amazonaws.global.groundstation", "IPv4", 5, false},
}

// plView is a prefix list as the Describe calls see it: a customer's own
// (list set) or an AWS-managed one of the region.
type plView struct {
	id, name, family, owner string
	list                    *PrefixList
	aws                     *awsManagedList
}

// awsListID is the id of an AWS-managed list in a region: stable, derived
// from the region and the list's name.
func awsListID(region, name string) string {
	h := fnv.New32a()
	h.Write([]byte(region + "/" + name))
	return fmt.Sprintf("pl-%08x", h.Sum32())
}

// awsLists returns the region's AWS-managed lists.
func (tx *Tx) awsLists() []*plView {
	out := make([]*plView, 0, len(awsManagedLists))
	for i := range awsManagedLists {
		m := &awsManagedLists[i]
		name := strings.ReplaceAll(m.name, "{region}", tx.Region)
		out = append(out, &plView{id: awsListID(tx.Region, name), name: name, family: m.family, owner: awsOwner, aws: m})
	}
	return out
}

func ownView(l *PrefixList) *plView {
	return &plView{id: l.ID, name: l.Name, family: l.AddressFamily, owner: l.Owner, list: l}
}

// plLookup returns the prefix list id names (AWS-managed, or the caller's).
func (tx *Tx) plLookup(id string) (*plView, error) {
	if !validID(id, "pl") {
		return nil, errorf(CodeInvalidPrefixListIDMalformed, "Invalid id: \"%s\" (expecting \"pl-...\")", id)
	}
	for _, v := range tx.awsLists() {
		if v.id == id {
			return v, nil
		}
	}
	l, err := tx.getOwnPrefixList(id)
	if err != nil {
		return nil, err
	}
	return ownView(l), nil
}

// plWeight is what a reference to the list counts against a quota: an
// AWS-managed list's weight, a customer list's maximum entries.
func (v *plView) weight() int {
	if v.aws != nil {
		return v.aws.weight
	}
	return int(v.list.MaxEntries)
}

// current returns the entries of a customer list's current version.
func (l *PrefixList) current() PrefixListVersion { return l.Versions[len(l.Versions)-1] }

// PrefixListCIDRs returns the CIDRs of a prefix list, for the data plane
// (none for AWS-managed lists: no AWS service is reachable here).
func (tx *Tx) PrefixListCIDRs(id string) []string {
	l := tx.pls.Get(id)
	if l == nil {
		return nil
	}
	var out []string
	for _, e := range l.current().Entries {
		out = append(out, e.Cidr)
	}
	return out
}

func (tx *Tx) plArn(v *plView) string {
	owner := v.owner
	if v.aws != nil {
		owner = "aws"
	}
	return fmt.Sprintf("arn:aws:ec2:%s:%s:prefix-list/%s", tx.Region, owner, v.id)
}

// plOut renders a list; state overrides the stored state (the reply of the
// call that changed it shows the transition AWS shows, settled at once).
func (tx *Tx) plOut(v *plView, state string) *ec2wire.ManagedPrefixList {
	out := &ec2wire.ManagedPrefixList{PrefixListId: p(v.id), PrefixListName: p(v.name), AddressFamily: p(v.family),
		OwnerId: p(v.owner), PrefixListArn: p(tx.plArn(v)), State: p("create-complete")}
	if l := v.list; l != nil {
		out.State, out.MaxEntries, out.Version, out.Tags = p(l.State), p(l.MaxEntries), p(l.current().Version), tagsOut(l.Tags)
	}
	if state != "" {
		out.State = p(state)
	}
	return out
}

// plCheckName checks a customer list's name.
func plCheckName(name string) error {
	switch {
	case name == "" || len(name) > plMaxNameLen:
		return errorf(CodeInvalidParameterValue, "Value (%s) for parameter PrefixListName is invalid. Length must be between 1 and %d.", truncateName(name), plMaxNameLen)
	case strings.HasPrefix(strings.ToLower(name), "com.amazonaws"):
		return errorf(CodeInvalidParameterValue, "Value (%s) for parameter PrefixListName is invalid. The prefix com.amazonaws is reserved.", name)
	}
	return nil
}

func plCheckMax(n int32) error {
	if n < 1 || n > plMaxEntriesLimit {
		return errorf(CodeInvalidParameterValue, "Value (%d) for parameter MaxEntries is invalid. It must be between 1 and %d.", n, plMaxEntriesLimit)
	}
	return nil
}

// plEntry checks an entry to add to a list of a family.
func plEntry(family string, in ec2wire.AddPrefixListEntry) (PrefixListEntry, error) {
	c := str(in.Cidr)
	pfx, err := netip.ParsePrefix(c)
	if err != nil || pfx.Addr().Is4() != (family == "IPv4") || pfx.Addr().Is4In6() {
		return PrefixListEntry{}, errorf(CodeInvalidParameterValue, "The CIDR %s is not a valid %s CIDR block.", truncateName(c), family)
	}
	d := str(in.Description)
	if len(d) > plMaxNameLen {
		return PrefixListEntry{}, errorf(CodeInvalidParameterValue, "Value for parameter Description is invalid. Length exceeds maximum of %d.", plMaxNameLen)
	}
	return PrefixListEntry{Cidr: pfx.Masked().String(), Description: d}, nil
}

// plApply returns entries with remove taken out and add put in (an added
// CIDR already there replaces its description only when it is removed in
// the same call, as AWS's remove-then-add), checked against max.
func plApply(family string, entries []PrefixListEntry, add []ec2wire.AddPrefixListEntry, remove []ec2wire.RemovePrefixListEntry, max int32) ([]PrefixListEntry, error) {
	out := slices.Clone(entries)
	for _, r := range remove {
		c := str(r.Cidr)
		if pfx, err := netip.ParsePrefix(c); err == nil {
			c = pfx.Masked().String()
		}
		i := slices.IndexFunc(out, func(e PrefixListEntry) bool { return e.Cidr == c })
		if i < 0 {
			return nil, errorf(CodeInvalidParameterValue, "The CIDR %s is not an entry of the prefix list.", truncateName(str(r.Cidr)))
		}
		out = slices.Delete(out, i, i+1)
	}
	for _, a := range add {
		e, err := plEntry(family, a)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(o PrefixListEntry) bool { return o.Cidr == e.Cidr }) {
			return nil, errorf(CodeInvalidParameterValue, "The CIDR %s is already an entry of the prefix list.", e.Cidr)
		}
		out = append(out, e)
	}
	if int32(len(out)) > max {
		return nil, errorf(CodeInvalidParameterValue, "The prefix list can hold at most %d entries (MaxEntries); the change would make %d.", max, len(out))
	}
	return out, nil
}

// CreateManagedPrefixList creates a customer-managed list at version 1.
func (tx *Tx) CreateManagedPrefixList(in *ec2wire.CreateManagedPrefixListInput) (*ec2wire.CreateManagedPrefixListOutput, error) {
	name, family := str(in.PrefixListName), str(in.AddressFamily)
	if err := plCheckName(name); err != nil {
		return nil, err
	}
	if family != "IPv4" && family != "IPv6" {
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter AddressFamily is invalid. Valid values are IPv4 and IPv6.", truncateName(family))
	}
	if in.MaxEntries == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter MaxEntries")
	}
	if err := plCheckMax(*in.MaxEntries); err != nil {
		return nil, err
	}
	entries, err := plApply(family, nil, in.Entries, nil, *in.MaxEntries)
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "prefix-list")
	if err != nil {
		return nil, err
	}
	l := &PrefixList{ID: tx.newID("pl"), Owner: tx.Account, Name: name, AddressFamily: family, MaxEntries: *in.MaxEntries,
		State: "create-complete", Versions: []PrefixListVersion{{Version: 1, Entries: entries}}, Tags: tags}
	tx.pls.Put(l)
	return &ec2wire.CreateManagedPrefixListOutput{PrefixList: tx.plOut(ownView(l), "create-in-progress")}, nil
}

// plCustomer returns the caller's list id names; AWS-managed lists cannot
// be changed.
func (tx *Tx) plCustomer(id string) (*PrefixList, error) {
	v, err := tx.plLookup(id)
	if err != nil {
		return nil, err
	}
	if v.list == nil {
		return nil, errorf(CodeInvalidPrefixListModification, "The prefix list %s is an AWS-managed prefix list and cannot be modified or deleted.", id)
	}
	return v.list, nil
}

// ModifyManagedPrefixList renames a list, changes its entries (a new
// version; CurrentVersion, when given, must be the current one) or its
// maximum (not both at once, as AWS).
func (tx *Tx) ModifyManagedPrefixList(in *ec2wire.ModifyManagedPrefixListInput) (*ec2wire.ModifyManagedPrefixListOutput, error) {
	l, err := tx.plCustomer(str(in.PrefixListId))
	if err != nil {
		return nil, err
	}
	changes := len(in.AddEntries) > 0 || len(in.RemoveEntries) > 0
	if in.CurrentVersion != nil && *in.CurrentVersion != l.current().Version {
		return nil, errorf(CodePrefixListVersionMismatch, "The prefix list has the incorrect version number.")
	}
	if changes && in.MaxEntries != nil {
		return nil, errorf(CodeInvalidParameterCombination, "You cannot modify the entries of a prefix list and its maximum number of entries in the same request.")
	}
	m := tx.pls.Mut(l.ID)
	if in.PrefixListName != nil {
		if err := plCheckName(*in.PrefixListName); err != nil {
			return nil, err
		}
		m.Name = *in.PrefixListName
	}
	if in.MaxEntries != nil {
		if err := tx.plResize(m, *in.MaxEntries); err != nil {
			return nil, err
		}
	}
	if changes {
		entries, err := plApply(m.AddressFamily, m.current().Entries, in.AddEntries, in.RemoveEntries, m.MaxEntries)
		if err != nil {
			return nil, err
		}
		m.Versions = append(m.Versions, PrefixListVersion{Version: m.current().Version + 1, Entries: entries})
	}
	m.State = "modify-complete"
	return &ec2wire.ModifyManagedPrefixListOutput{PrefixList: tx.plOut(ownView(m), "modify-in-progress")}, nil
}

// plResize changes a list's maximum: not below its entries, and not so that
// a group referencing it goes over the rules quota.
func (tx *Tx) plResize(m *PrefixList, n int32) error {
	if err := plCheckMax(n); err != nil {
		return err
	}
	if int(n) < len(m.current().Entries) {
		return errorf(CodeInvalidParameterValue, "The prefix list has %d entries, more than the new MaxEntries %d.", len(m.current().Entries), n)
	}
	old := m.MaxEntries
	m.MaxEntries = n
	var qerr error
	tx.groups.Each(func(g *SecurityGroup) bool {
		for _, rules := range [][]Rule{g.Ingress, g.Egress} {
			if v4, v6 := tx.sgWeighed(rules); v4 > sgMaxRules || v6 > sgMaxRules {
				qerr = errorf(CodeRulesPerGroupLimitExceeded, "The maximum number of rules per security group has been reached.")
			}
		}
		return qerr == nil
	})
	if qerr != nil {
		m.MaxEntries = old
	}
	return qerr
}

// RestoreManagedPrefixListVersion makes a former version's entries the
// current ones, as a new version.
func (tx *Tx) RestoreManagedPrefixListVersion(in *ec2wire.RestoreManagedPrefixListVersionInput) (*ec2wire.RestoreManagedPrefixListVersionOutput, error) {
	l, err := tx.plCustomer(str(in.PrefixListId))
	if err != nil {
		return nil, err
	}
	if in.CurrentVersion == nil || *in.CurrentVersion != l.current().Version {
		return nil, errorf(CodePrefixListVersionMismatch, "The prefix list has the incorrect version number.")
	}
	prev, err := plVersion(l, in.PreviousVersion)
	if err != nil {
		return nil, err
	}
	if int32(len(prev.Entries)) > l.MaxEntries {
		return nil, errorf(CodeInvalidParameterValue, "The prefix list can hold at most %d entries (MaxEntries); version %d has %d.", l.MaxEntries, prev.Version, len(prev.Entries))
	}
	m := tx.pls.Mut(l.ID)
	m.Versions = append(m.Versions, PrefixListVersion{Version: m.current().Version + 1, Entries: slices.Clone(prev.Entries)})
	m.State = "restore-complete"
	return &ec2wire.RestoreManagedPrefixListVersionOutput{PrefixList: tx.plOut(ownView(m), "restore-in-progress")}, nil
}

func plVersion(l *PrefixList, v *int64) (PrefixListVersion, error) {
	if v == nil {
		return l.current(), nil
	}
	for _, pv := range l.Versions {
		if pv.Version == *v {
			return pv, nil
		}
	}
	return PrefixListVersion{}, errorf(CodeInvalidParameterValue, "Version %d does not exist for prefix list %s.", *v, l.ID)
}

// plAssociations lists the caller's security groups and route tables that
// reference a list.
func (tx *Tx) plAssociations(id string) []ec2wire.PrefixListAssociation {
	var out []ec2wire.PrefixListAssociation
	for _, g := range tx.groups.Sorted(func(g *SecurityGroup) bool { return g.Owner == tx.Account }) {
		if slices.ContainsFunc(append(slices.Clip(g.Ingress), g.Egress...), func(r Rule) bool { return r.PrefixListID == id }) {
			out = append(out, ec2wire.PrefixListAssociation{ResourceId: p(g.ID), ResourceOwner: p(g.Owner)})
		}
	}
	for _, r := range tx.rtbs.Sorted(func(r *RouteTable) bool { return r.Owner == tx.Account }) {
		if slices.ContainsFunc(r.Routes, func(rt Route) bool { return rt.DestinationPrefixListID == id }) {
			out = append(out, ec2wire.PrefixListAssociation{ResourceId: p(r.ID), ResourceOwner: p(r.Owner)})
		}
	}
	return out
}

// DeleteManagedPrefixList deletes a list nothing references.
func (tx *Tx) DeleteManagedPrefixList(in *ec2wire.DeleteManagedPrefixListInput) (*ec2wire.DeleteManagedPrefixListOutput, error) {
	l, err := tx.plCustomer(str(in.PrefixListId))
	if err != nil {
		return nil, err
	}
	if as := tx.plAssociations(l.ID); len(as) > 0 {
		return nil, errorf(CodeDependencyViolation, "The prefix list %s is referenced by %s and cannot be deleted.", l.ID, str(as[0].ResourceId))
	}
	tx.pls.Delete(l.ID)
	return &ec2wire.DeleteManagedPrefixListOutput{PrefixList: tx.plOut(ownView(l), "delete-in-progress")}, nil
}

var plFilters = filterSet[plView]{
	"owner-id":         func(v *plView) []string { return []string{v.owner} },
	"prefix-list-id":   func(v *plView) []string { return []string{v.id} },
	"prefix-list-name": func(v *plView) []string { return []string{v.name} },
}

// plViews returns the region's AWS-managed lists and the caller's own,
// sorted by id, with those ids selects (all if none; each must exist).
func (tx *Tx) plViews(ids []string, awsOnly bool) ([]*plView, error) {
	for _, id := range ids {
		v, err := tx.plLookup(id)
		if err != nil {
			return nil, err
		}
		if awsOnly && (v.aws == nil || !v.aws.gateway) {
			return nil, errorf(CodeInvalidPrefixListIDNotFound, "The prefix list ID '%s' does not exist", id)
		}
	}
	var all []*plView
	for _, v := range tx.awsLists() {
		if !awsOnly || v.aws.gateway {
			all = append(all, v)
		}
	}
	if !awsOnly {
		for _, l := range tx.pls.Sorted(func(l *PrefixList) bool { return l.Owner == tx.Account }) {
			all = append(all, ownView(l))
		}
	}
	all = slices.DeleteFunc(all, func(v *plView) bool { return len(ids) > 0 && !slices.Contains(ids, v.id) })
	slices.SortFunc(all, func(a, b *plView) int { return strings.Compare(a.id, b.id) })
	return all, nil
}

// DescribeManagedPrefixLists lists the region's AWS-managed lists and the
// caller's own.
func (tx *Tx) DescribeManagedPrefixLists(in *ec2wire.DescribeManagedPrefixListsInput) (*ec2wire.DescribeManagedPrefixListsOutput, error) {
	m, err := newMatcher(plFilters, func(v *plView) Tags {
		if v.list != nil {
			return v.list.Tags
		}
		return nil
	}, in.Filters)
	if err != nil {
		return nil, err
	}
	all, err := tx.plViews(in.PrefixListIds, false)
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(v *plView) bool { return !m.match(v) })
	page, next, err := paginate(all, func(v *plView) string { return v.id }, in.MaxResults, in.NextToken, 1, 100)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeManagedPrefixListsOutput{NextToken: next}
	for _, v := range page {
		out.PrefixLists = append(out.PrefixLists, *tx.plOut(v, ""))
	}
	return out, nil
}

// DescribePrefixLists lists the AWS services' lists of gateway endpoints (S3
// and DynamoDB), the older view of AWS-managed lists.
func (tx *Tx) DescribePrefixLists(in *ec2wire.DescribePrefixListsInput) (*ec2wire.DescribePrefixListsOutput, error) {
	m, err := newMatcher(plFilters, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	all, err := tx.plViews(in.PrefixListIds, true)
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(v *plView) bool { return !m.match(v) })
	page, next, err := paginate(all, func(v *plView) string { return v.id }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribePrefixListsOutput{NextToken: next}
	for _, v := range page {
		out.PrefixLists = append(out.PrefixLists, ec2wire.PrefixList{PrefixListId: p(v.id), PrefixListName: p(v.name)})
	}
	return out, nil
}

// GetManagedPrefixListEntries lists a list's entries, of its current version
// or TargetVersion.
func (tx *Tx) GetManagedPrefixListEntries(in *ec2wire.GetManagedPrefixListEntriesInput) (*ec2wire.GetManagedPrefixListEntriesOutput, error) {
	v, err := tx.plLookup(str(in.PrefixListId))
	if err != nil {
		return nil, err
	}
	var entries []*PrefixListEntry
	if v.list != nil {
		ver, err := plVersion(v.list, in.TargetVersion)
		if err != nil {
			return nil, err
		}
		for i := range ver.Entries {
			entries = append(entries, &ver.Entries[i])
		}
	}
	slices.SortFunc(entries, func(a, b *PrefixListEntry) int { return strings.Compare(a.Cidr, b.Cidr) })
	page, next, err := paginate(entries, func(e *PrefixListEntry) string { return e.Cidr }, in.MaxResults, in.NextToken, 1, 100)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.GetManagedPrefixListEntriesOutput{NextToken: next}
	for _, e := range page {
		o := ec2wire.PrefixListEntry{Cidr: p(e.Cidr)}
		if e.Description != "" {
			o.Description = p(e.Description)
		}
		out.Entries = append(out.Entries, o)
	}
	return out, nil
}

// GetManagedPrefixListAssociations lists the caller's resources that
// reference a list.
func (tx *Tx) GetManagedPrefixListAssociations(in *ec2wire.GetManagedPrefixListAssociationsInput) (*ec2wire.GetManagedPrefixListAssociationsOutput, error) {
	v, err := tx.plLookup(str(in.PrefixListId))
	if err != nil {
		return nil, err
	}
	all := tx.plAssociations(v.id)
	items := make([]*ec2wire.PrefixListAssociation, len(all))
	for i := range all {
		items[i] = &all[i]
	}
	page, next, err := paginate(items, func(a *ec2wire.PrefixListAssociation) string { return str(a.ResourceId) }, in.MaxResults, in.NextToken, 5, 255)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.GetManagedPrefixListAssociationsOutput{NextToken: next}
	for _, a := range page {
		out.PrefixListAssociations = append(out.PrefixListAssociations, *a)
	}
	return out, nil
}

// sgWeighed counts rules against the rules quota as sgCount does, with a
// prefix-list rule counting its list's weight (AWS-managed) or maximum
// entries (customer) instead of one.
func (tx *Tx) sgWeighed(rules []Rule) (v4, v6 int) {
	v4, v6 = sgCount(rules)
	for _, r := range rules {
		if r.PrefixListID == "" {
			continue
		}
		if v, err := tx.plLookup(r.PrefixListID); err == nil {
			v4 += v.weight() - 1
			v6 += v.weight() - 1
		}
	}
	return v4, v6
}

// plCheckRules checks that the prefix lists new rules name exist.
func (tx *Tx) plCheckRules(rules []Rule) error {
	for _, r := range rules {
		if r.PrefixListID != "" {
			if _, err := tx.plLookup(r.PrefixListID); err != nil {
				return err
			}
		}
	}
	return nil
}

// plRouteDest resolves the prefix list a route names as its destination:
// one of the caller's own (AWS-managed lists are route destinations only
// through gateway endpoints, vpcendpoint.go). It returns the list
// and the family's whole range, which stands for it in the target checks.
func (tx *Tx) plRouteDest(id string) (*plView, netip.Prefix, error) {
	v, err := tx.plLookup(id)
	if err != nil {
		return nil, netip.Prefix{}, err
	}
	if v.list == nil {
		return nil, netip.Prefix{}, errorf(CodeInvalidParameterValue, "The AWS-managed prefix list %s can only be a route destination through a VPC endpoint.", id)
	}
	if v.family == "IPv6" {
		return v, netip.MustParsePrefix("::/0"), nil
	}
	return v, netip.MustParsePrefix("0.0.0.0/0"), nil
}

// plCreateRoute adds a route to a prefix list.
func (tx *Tx) plCreateRoute(r *RouteTable, in *ec2wire.CreateRouteInput) (*ec2wire.CreateRouteOutput, error) {
	v, fam, err := tx.plRouteDest(str(in.DestinationPrefixListId))
	if err != nil {
		return nil, err
	}
	if rtbFind(tx.rtbRoutes(r), v.id) >= 0 {
		return nil, errorf(CodeRouteAlreadyExists, "The route identified by %s already exists.", v.id)
	}
	rt, err := tx.rtbTarget(r, fam, rtbTargetIn{
		gateway: in.GatewayId, eni: in.NetworkInterfaceId, instance: in.InstanceId, eigw: in.EgressOnlyInternetGatewayId,
		pcx: in.VpcPeeringConnectionId,
		nat: in.NatGatewayId, gatewayLike: []*string{in.TransitGatewayId, in.LocalGatewayId, in.CarrierGatewayId},
		other: []*string{in.VpcEndpointId, in.CoreNetworkArn},
	})
	if err != nil {
		return nil, err
	}
	rt.DestinationPrefixListID, rt.Origin = v.id, "CreateRoute"
	if err := tx.rtbEdgeCheck(r, rt); err != nil {
		return nil, err
	}
	m := tx.rtbs.Mut(r.ID)
	m.Routes = append(m.Routes, rt)
	return &ec2wire.CreateRouteOutput{Return: p(true)}, nil
}

// plReplaceRoute changes the target of a route to a prefix list.
func (tx *Tx) plReplaceRoute(r *RouteTable, in *ec2wire.ReplaceRouteInput) (*ec2wire.ReplaceRouteOutput, error) {
	v, fam, err := tx.plRouteDest(str(in.DestinationPrefixListId))
	if err != nil {
		return nil, err
	}
	j := rtbFind(r.Routes, v.id)
	if j < 0 {
		return nil, errorf(CodeInvalidRouteNotFound, "There is no route defined for '%s' in the route table. Use CreateRoute instead.", v.id)
	}
	rt, err := tx.rtbTarget(r, fam, rtbTargetIn{
		gateway: in.GatewayId, eni: in.NetworkInterfaceId, instance: in.InstanceId, eigw: in.EgressOnlyInternetGatewayId,
		pcx: in.VpcPeeringConnectionId,
		nat: in.NatGatewayId, gatewayLike: []*string{in.TransitGatewayId, in.LocalGatewayId, in.CarrierGatewayId},
		other: []*string{in.VpcEndpointId, in.CoreNetworkArn},
	})
	if err != nil {
		return nil, err
	}
	rt.DestinationPrefixListID, rt.Origin = v.id, r.Routes[j].Origin
	if err := tx.rtbEdgeCheck(r, rt); err != nil {
		return nil, err
	}
	tx.rtbs.Mut(r.ID).Routes[j] = rt
	return &ec2wire.ReplaceRouteOutput{Return: p(true)}, nil
}

// plDeleteRoute removes a route to a prefix list.
func (tx *Tx) plDeleteRoute(r *RouteTable, in *ec2wire.DeleteRouteInput) (*ec2wire.DeleteRouteOutput, error) {
	id := str(in.DestinationPrefixListId)
	j := rtbFind(r.Routes, id)
	if j < 0 {
		return nil, errorf(CodeInvalidRouteNotFound, "no route with destination-prefix-list-id %s in route table %s", id, r.ID)
	}
	m := tx.rtbs.Mut(r.ID)
	m.Routes = slices.Delete(m.Routes, j, j+1)
	return &ec2wire.DeleteRouteOutput{Return: p(true)}, nil
}
