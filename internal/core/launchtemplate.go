package core

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Launch templates: named, numbered versions of launch parameters.
// A version's data is kept as given (RequestLaunchTemplateData) and shown
// in the response's shape, member by member (launchTemplateDataOut). AWS
// does not validate a template's parameters when it is made; RunInstances
// does, after merging the template under its own parameters
// (launchTemplateMerge): every rule of a launch then applies to the result.

// launchTemplateNameRE is AWS's pattern for a launch template name.
var launchTemplateNameRE = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

// launchTemplateVersionsMax is how many versions one request may delete,
// and how many one page may describe.
const launchTemplateVersionsMax = 200

// Tags AWS puts on every instance launched from a template.
const (
	tagLaunchTemplateID      = "aws:ec2launchtemplate:id"
	tagLaunchTemplateVersion = "aws:ec2launchtemplate:version"
)

// checkLaunchTemplateName checks a new template's name.
func checkLaunchTemplateName(name string) error {
	if name == "" {
		return errorf(CodeMissingParameter, "The request must contain the parameter LaunchTemplateName")
	}
	if !launchTemplateNameRE.MatchString(name) {
		return errorf(CodeLaunchTemplateNameMalformed, "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'")
	}
	return nil
}

// launchTemplateByName returns the caller's template called name, or nil.
func (tx *Tx) launchTemplateByName(name string) *LaunchTemplate {
	var found *LaunchTemplate
	tx.templates.Each(func(t *LaunchTemplate) bool {
		if t.Owner == tx.Account && t.Name == name {
			found = t
		}
		return found == nil
	})
	return found
}

// findLaunchTemplate returns the caller's template named by id or by name
// (exactly one of them).
func (tx *Tx) findLaunchTemplate(id, name string) (*LaunchTemplate, error) {
	switch {
	case id != "" && name != "":
		return nil, errorf(CodeInvalidParameterCombination, "Specify either the launch template ID or the launch template name, but not both.")
	case id == "" && name == "":
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter LaunchTemplateName or LaunchTemplateId")
	case id != "":
		if !validID(id, "lt") {
			return nil, errorf(CodeLaunchTemplateIDMalformed, "Invalid id: \"%s\" (expecting \"lt-...\")", id)
		}
		if t := tx.templates.Get(id); t != nil && t.Owner == tx.Account {
			return t, nil
		}
		return nil, errorf(CodeLaunchTemplateIDNotFound, "The specified launch template, with template ID %s, does not exist.", id)
	}
	if t := tx.launchTemplateByName(name); t != nil {
		return t, nil
	}
	return nil, errorf(CodeLaunchTemplateNameNotFound, "The specified launch template, with template name %s, does not exist.", name)
}

// latest is the template's highest version number.
func (t *LaunchTemplate) latest() int64 { return t.Versions[len(t.Versions)-1].Number }

// versionNotFound is the error for a version the template does not have.
func (t *LaunchTemplate) versionNotFound(v string) error {
	return errorf(CodeLaunchTemplateVersionNotFound, "Could not find the specified version %s for the launch template with ID %s.", v, t.ID)
}

// version resolves "$Latest", "$Default" or a version number ("" is the
// default version, as RunInstances takes it).
func (t *LaunchTemplate) version(v string) (*LaunchTemplateVersion, error) {
	n := t.DefaultVersion
	switch strings.ToLower(v) {
	case "", "$default":
	case "$latest":
		n = t.latest()
	default:
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, t.versionNotFound(v)
		}
	}
	i, ok := slices.BinarySearchFunc(t.Versions, n, func(x LaunchTemplateVersion, n int64) int { return int(x.Number - n) })
	if !ok {
		return nil, t.versionNotFound(v)
	}
	return &t.Versions[i], nil
}

// launchTemplateOut renders a template as DescribeLaunchTemplates shows it.
func (tx *Tx) launchTemplateOut(t *LaunchTemplate) *ec2wire.LaunchTemplate {
	return &ec2wire.LaunchTemplate{
		LaunchTemplateId: p(t.ID), LaunchTemplateName: p(t.Name), CreateTime: ec2wire.NewTime(t.CreateTime),
		CreatedBy: p(launchTemplateCreator(t.Owner)), DefaultVersionNumber: p(t.DefaultVersion),
		LatestVersionNumber: p(t.latest()), Tags: tagsOut(t.Tags),
	}
}

// launchTemplateCreator is the ARN AWS shows as a template's creator: the
// account's root (requests carry no IAM principal here).
func launchTemplateCreator(account string) string { return "arn:aws:iam::" + account + ":root" }

// launchTemplateVersionOut renders one version as DescribeLaunchTemplateVersions shows it.
func launchTemplateVersionOut(t *LaunchTemplate, v *LaunchTemplateVersion) ec2wire.LaunchTemplateVersion {
	out := ec2wire.LaunchTemplateVersion{
		LaunchTemplateId: p(t.ID), LaunchTemplateName: p(t.Name), VersionNumber: p(v.Number),
		CreateTime: ec2wire.NewTime(v.CreateTime), CreatedBy: p(launchTemplateCreator(t.Owner)),
		DefaultVersion: p(v.Number == t.DefaultVersion), LaunchTemplateData: &ec2wire.ResponseLaunchTemplateData{},
	}
	if v.Description != "" {
		out.VersionDescription = p(v.Description)
	}
	copyByName(reflect.ValueOf(out.LaunchTemplateData).Elem(), reflect.ValueOf(v.Data))
	return out
}

// copyByName copies src into dst member by member: members with the same
// name, of the same or a like shape (a request structure into its response
// twin, a template's parameters into RunInstances'), at any depth. Members
// dst lacks are left out; the wire shapes of one parameter differ only in
// their names and in members one side does not have.
func copyByName(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() || dst.Kind() != reflect.Pointer {
			return
		}
		v := reflect.New(dst.Type().Elem())
		copyByName(v.Elem(), src.Elem())
		dst.Set(v)
	case reflect.Slice:
		if src.Len() == 0 || dst.Kind() != reflect.Slice {
			return // an empty list is a list not given: shown as absent, as AWS
		}
		s := reflect.MakeSlice(dst.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyByName(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Struct:
		if dst.Kind() != reflect.Struct {
			return
		}
		for i := range src.NumField() {
			if f := dst.FieldByName(src.Type().Field(i).Name); f.IsValid() && f.CanSet() {
				copyByName(f, src.Field(i))
			}
		}
	default:
		if src.Type().ConvertibleTo(dst.Type()) && src.Kind() == dst.Kind() {
			dst.Set(src.Convert(dst.Type()))
		}
	}
}

// overlayData returns base with every parameter over gives replacing
// base's (CreateLaunchTemplateVersion's SourceVersion).
func overlayData(base, over ec2wire.RequestLaunchTemplateData) ec2wire.RequestLaunchTemplateData {
	b, o := reflect.ValueOf(&base).Elem(), reflect.ValueOf(over)
	for i := range o.NumField() {
		if !o.Field(i).IsZero() {
			b.Field(i).Set(o.Field(i))
		}
	}
	return base
}

// checkLaunchTemplateData checks what AWS checks of a template's data when
// it is stored: the tags it will put on launched resources.
func checkLaunchTemplateData(d *ec2wire.RequestLaunchTemplateData) error {
	var specs []ec2wire.TagSpecification
	copyByName(reflect.ValueOf(&specs).Elem(), reflect.ValueOf(d.TagSpecifications))
	_, err := tagSpecs(specs, "instance", "volume", "network-interface", "spot-instances-request", "elastic-gpu")
	return err
}

// checkVersionDescription checks a version's description (255 characters at most).
func checkVersionDescription(s string) error {
	if len(s) > 255 {
		return errorf(CodeInvalidParameterValue, "Value for parameter versionDescription is invalid. Length exceeds maximum of 255.")
	}
	return nil
}

// CreateLaunchTemplate creates a template with its first version.
func (tx *Tx) CreateLaunchTemplate(in *ec2wire.CreateLaunchTemplateInput) (*ec2wire.CreateLaunchTemplateOutput, error) {
	name := str(in.LaunchTemplateName)
	if err := checkLaunchTemplateName(name); err != nil {
		return nil, err
	}
	if in.LaunchTemplateData == nil {
		return nil, errorf(CodeMissingParameter, "No launch template data was provided. Launch template data is required to create a launch template.")
	}
	if err := checkLaunchTemplateData(in.LaunchTemplateData); err != nil {
		return nil, err
	}
	if err := checkVersionDescription(str(in.VersionDescription)); err != nil {
		return nil, err
	}
	tags, err := tagSpecs(in.TagSpecifications, "launch-template")
	if err != nil {
		return nil, err
	}
	if tx.launchTemplateByName(name) != nil {
		return nil, errorf(CodeLaunchTemplateNameDuplicate, "Launch template name already in use.")
	}
	t := &LaunchTemplate{ID: tx.newID("lt"), Owner: tx.Account, Name: name, CreateTime: tx.Now(), DefaultVersion: 1, NextVersion: 2, Tags: tags,
		Versions: []LaunchTemplateVersion{{Number: 1, Description: str(in.VersionDescription), CreateTime: tx.Now(), Data: *in.LaunchTemplateData}}}
	tx.templates.Put(t)
	return &ec2wire.CreateLaunchTemplateOutput{LaunchTemplate: tx.launchTemplateOut(t)}, nil
}

// CreateLaunchTemplateVersion adds a version: the data given, over the
// SourceVersion's if one is named.
func (tx *Tx) CreateLaunchTemplateVersion(in *ec2wire.CreateLaunchTemplateVersionInput) (*ec2wire.CreateLaunchTemplateVersionOutput, error) {
	t, err := tx.findLaunchTemplate(str(in.LaunchTemplateId), str(in.LaunchTemplateName))
	if err != nil {
		return nil, err
	}
	if in.LaunchTemplateData == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter LaunchTemplateData")
	}
	if err := checkVersionDescription(str(in.VersionDescription)); err != nil {
		return nil, err
	}
	data := *in.LaunchTemplateData
	if in.SourceVersion != nil {
		src, err := t.version(*in.SourceVersion)
		if err != nil {
			return nil, err
		}
		data = overlayData(src.Data, data)
	}
	if err := checkLaunchTemplateData(&data); err != nil {
		return nil, err
	}
	m := tx.templates.Mut(t.ID)
	m.Versions = append(m.Versions, LaunchTemplateVersion{Number: m.NextVersion, Description: str(in.VersionDescription), CreateTime: tx.Now(), Data: data})
	m.NextVersion++
	v := launchTemplateVersionOut(m, &m.Versions[len(m.Versions)-1])
	return &ec2wire.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: &v}, nil
}

// ModifyLaunchTemplate sets the default version.
func (tx *Tx) ModifyLaunchTemplate(in *ec2wire.ModifyLaunchTemplateInput) (*ec2wire.ModifyLaunchTemplateOutput, error) {
	t, err := tx.findLaunchTemplate(str(in.LaunchTemplateId), str(in.LaunchTemplateName))
	if err != nil {
		return nil, err
	}
	if in.DefaultVersion != nil {
		v, err := t.version(*in.DefaultVersion)
		if err != nil || strings.HasPrefix(*in.DefaultVersion, "$") {
			return nil, t.versionNotFound(*in.DefaultVersion)
		}
		t = tx.templates.Mut(t.ID)
		t.DefaultVersion = v.Number
	}
	return &ec2wire.ModifyLaunchTemplateOutput{LaunchTemplate: tx.launchTemplateOut(t)}, nil
}

// DeleteLaunchTemplate deletes a template and all its versions.
func (tx *Tx) DeleteLaunchTemplate(in *ec2wire.DeleteLaunchTemplateInput) (*ec2wire.DeleteLaunchTemplateOutput, error) {
	t, err := tx.findLaunchTemplate(str(in.LaunchTemplateId), str(in.LaunchTemplateName))
	if err != nil {
		return nil, err
	}
	tx.templates.Delete(t.ID)
	return &ec2wire.DeleteLaunchTemplateOutput{LaunchTemplate: tx.launchTemplateOut(t)}, nil
}

// DeleteLaunchTemplateVersions deletes versions one by one: each that
// cannot go (not a version of the template, or its default) is listed
// with its error in the reply, as AWS does, and the others go.
func (tx *Tx) DeleteLaunchTemplateVersions(in *ec2wire.DeleteLaunchTemplateVersionsInput) (*ec2wire.DeleteLaunchTemplateVersionsOutput, error) {
	t, err := tx.findLaunchTemplate(str(in.LaunchTemplateId), str(in.LaunchTemplateName))
	if err != nil {
		return nil, err
	}
	if len(in.Versions) == 0 {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter LaunchTemplateVersion")
	}
	if len(in.Versions) > launchTemplateVersionsMax {
		return nil, errorf(CodeInvalidParameterValue, "You can specify at most %d launch template versions in a single request.", launchTemplateVersionsMax)
	}
	out := &ec2wire.DeleteLaunchTemplateVersionsOutput{
		SuccessfullyDeletedLaunchTemplateVersions:   []ec2wire.DeleteLaunchTemplateVersionsResponseSuccessItem{},
		UnsuccessfullyDeletedLaunchTemplateVersions: []ec2wire.DeleteLaunchTemplateVersionsResponseErrorItem{},
	}
	m := tx.templates.Mut(t.ID)
	for _, s := range in.Versions {
		n, code, msg := m.deleteVersion(s)
		if code != "" {
			item := ec2wire.DeleteLaunchTemplateVersionsResponseErrorItem{LaunchTemplateId: p(t.ID), LaunchTemplateName: p(t.Name),
				ResponseError: &ec2wire.ResponseError{Code: p(code), Message: p(msg)}}
			if n > 0 {
				item.VersionNumber = p(n)
			}
			out.UnsuccessfullyDeletedLaunchTemplateVersions = append(out.UnsuccessfullyDeletedLaunchTemplateVersions, item)
			continue
		}
		out.SuccessfullyDeletedLaunchTemplateVersions = append(out.SuccessfullyDeletedLaunchTemplateVersions,
			ec2wire.DeleteLaunchTemplateVersionsResponseSuccessItem{LaunchTemplateId: p(t.ID), LaunchTemplateName: p(t.Name), VersionNumber: p(n)})
	}
	return out, nil
}

// deleteVersion removes version s (a number) from t, or says why not with
// a LaunchTemplateErrorCode of the model.
func (t *LaunchTemplate) deleteVersion(s string) (n int64, code, msg string) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, "launchTemplateVersionDoesNotExist", "Could not find launch template version"
	}
	i := slices.IndexFunc(t.Versions, func(v LaunchTemplateVersion) bool { return v.Number == n })
	switch {
	case i < 0:
		return n, "launchTemplateVersionDoesNotExist", "Could not find launch template version"
	case n == t.DefaultVersion:
		return n, "unexpectedError", "Cannot delete the default version of a launch template. Set another version as the default first."
	}
	t.Versions = slices.Delete(t.Versions, i, i+1)
	return n, "", ""
}

var launchTemplateFilters = filterSet[LaunchTemplate]{
	"launch-template-name": func(t *LaunchTemplate) []string { return []string{t.Name} },
	"launch-template-id":   func(t *LaunchTemplate) []string { return []string{t.ID} },
	"create-time":          func(t *LaunchTemplate) []string { return []string{t.CreateTime.UTC().Format(ec2wire.TimeFormat)} },
}

// DescribeLaunchTemplates lists the caller's templates.
func (tx *Tx) DescribeLaunchTemplates(in *ec2wire.DescribeLaunchTemplatesInput) (*ec2wire.DescribeLaunchTemplatesOutput, error) {
	m, err := newMatcher(launchTemplateFilters, func(t *LaunchTemplate) Tags { return t.Tags }, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.LaunchTemplateIds {
		if !validID(id, "lt") {
			return nil, errorf(CodeLaunchTemplateIDMalformed, "Invalid id: \"%s\" (expecting \"lt-...\")", id)
		}
	}
	items := tx.templates.Sorted(func(t *LaunchTemplate) bool {
		return t.Owner == tx.Account && (len(in.LaunchTemplateIds) == 0 || contains(in.LaunchTemplateIds, t.ID)) &&
			(len(in.LaunchTemplateNames) == 0 || contains(in.LaunchTemplateNames, t.Name))
	})
	for _, id := range in.LaunchTemplateIds {
		if !slices.ContainsFunc(items, func(t *LaunchTemplate) bool { return t.ID == id }) {
			return nil, errorf(CodeLaunchTemplateIDNotFound, "At least one of the launch templates specified in the request does not exist.")
		}
	}
	for _, name := range in.LaunchTemplateNames {
		if !slices.ContainsFunc(items, func(t *LaunchTemplate) bool { return t.Name == name }) {
			return nil, errorf(CodeLaunchTemplateNameNotFound, "At least one of the launch templates specified in the request does not exist.")
		}
	}
	items = slices.DeleteFunc(items, func(t *LaunchTemplate) bool { return !m.match(t) })
	page, next, err := paginate(items, func(t *LaunchTemplate) string { return t.ID }, in.MaxResults, in.NextToken, 1, launchTemplateVersionsMax)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeLaunchTemplatesOutput{LaunchTemplates: []ec2wire.LaunchTemplate{}, NextToken: next}
	for _, t := range page {
		out.LaunchTemplates = append(out.LaunchTemplates, *tx.launchTemplateOut(t))
	}
	return out, nil
}

// versionRef is one version of one template, as DescribeLaunchTemplateVersions
// lists and filters them.
type versionRef struct {
	t *LaunchTemplate
	v *LaunchTemplateVersion
}

// versionRefKey orders versions by template, newest first, as AWS lists them.
func versionRefKey(r *versionRef) string {
	return r.t.ID + "/" + strconv.FormatInt(1<<62-r.v.Number, 10)
}

var launchTemplateVersionFilters = filterSet[versionRef]{
	"create-time":        func(r *versionRef) []string { return []string{r.v.CreateTime.UTC().Format(ec2wire.TimeFormat)} },
	"is-default-version": func(r *versionRef) []string { return []string{strconv.FormatBool(r.v.Number == r.t.DefaultVersion)} },
	"image-id":           func(r *versionRef) []string { return ltOne(str(r.v.Data.ImageId)) },
	"instance-type":      func(r *versionRef) []string { return ltOne(str(r.v.Data.InstanceType)) },
	"kernel-id":          func(r *versionRef) []string { return ltOne(str(r.v.Data.KernelId)) },
	"ram-disk-id":        func(r *versionRef) []string { return ltOne(str(r.v.Data.RamDiskId)) },
	"ebs-optimized": func(r *versionRef) []string {
		if r.v.Data.EbsOptimized == nil {
			return nil
		}
		return []string{strconv.FormatBool(*r.v.Data.EbsOptimized)}
	},
	"iam-instance-profile": func(r *versionRef) []string {
		if ip := r.v.Data.IamInstanceProfile; ip != nil {
			return ltOne(str(ip.Arn))
		}
		return nil
	},
	"http-endpoint": func(r *versionRef) []string {
		if md := r.v.Data.MetadataOptions; md != nil {
			return ltOne(str(md.HttpEndpoint))
		}
		return nil
	},
	"http-tokens": func(r *versionRef) []string {
		if md := r.v.Data.MetadataOptions; md != nil {
			return ltOne(str(md.HttpTokens))
		}
		return nil
	},
	"http-protocol-ipv6": func(r *versionRef) []string {
		if md := r.v.Data.MetadataOptions; md != nil {
			return ltOne(str(md.HttpProtocolIpv6))
		}
		return nil
	},
	"network-card-index": func(r *versionRef) []string {
		var out []string
		for _, n := range r.v.Data.NetworkInterfaces {
			if n.NetworkCardIndex != nil {
				out = append(out, strconv.Itoa(int(*n.NetworkCardIndex)))
			}
		}
		return out
	},
}

// DescribeLaunchTemplateVersions lists versions of one template (by
// Versions, MinVersion and MaxVersion), or the $Latest and/or $Default
// versions of every template of the caller's.
func (tx *Tx) DescribeLaunchTemplateVersions(in *ec2wire.DescribeLaunchTemplateVersionsInput) (*ec2wire.DescribeLaunchTemplateVersionsOutput, error) {
	m, err := newMatcher(launchTemplateVersionFilters, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	var refs []*versionRef
	if in.LaunchTemplateId != nil || in.LaunchTemplateName != nil {
		t, err := tx.findLaunchTemplate(str(in.LaunchTemplateId), str(in.LaunchTemplateName))
		if err != nil {
			return nil, err
		}
		if refs, err = t.selectVersions(in.Versions, in.MinVersion, in.MaxVersion); err != nil {
			return nil, err
		}
	} else if refs, err = tx.aliasVersions(in.Versions); err != nil {
		return nil, err
	}
	refs = slices.DeleteFunc(refs, func(r *versionRef) bool { return !m.match(r) })
	slices.SortFunc(refs, func(a, b *versionRef) int { return strings.Compare(versionRefKey(a), versionRefKey(b)) })
	page, next, err := paginate(refs, versionRefKey, in.MaxResults, in.NextToken, 1, launchTemplateVersionsMax)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeLaunchTemplateVersionsOutput{LaunchTemplateVersions: []ec2wire.LaunchTemplateVersion{}, NextToken: next}
	for _, r := range page {
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, launchTemplateVersionOut(r.t, r.v))
	}
	return out, nil
}

// selectVersions picks the versions of t that Versions names (every
// version if none), within MinVersion and MaxVersion.
func (t *LaunchTemplate) selectVersions(versions []string, minV, maxV *string) ([]*versionRef, error) {
	lo, hi := int64(0), int64(1<<62)
	for _, b := range []struct {
		s   *string
		dst *int64
	}{{minV, &lo}, {maxV, &hi}} {
		if b.s == nil {
			continue
		}
		n, err := strconv.ParseInt(*b.s, 10, 64)
		if err != nil {
			return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter version is invalid. Expecting a version number.", *b.s)
		}
		*b.dst = n
	}
	want := map[int64]bool{}
	for _, s := range versions {
		v, err := t.version(s)
		if err != nil {
			return nil, err
		}
		want[v.Number] = true
	}
	var refs []*versionRef
	for i := range t.Versions {
		v := &t.Versions[i]
		if (len(want) == 0 || want[v.Number]) && v.Number >= lo && v.Number <= hi {
			refs = append(refs, &versionRef{t, v})
		}
	}
	return refs, nil
}

// aliasVersions picks, across the caller's templates, the versions that
// $Latest and $Default name (both if Versions is empty); numbers need a
// template.
func (tx *Tx) aliasVersions(versions []string) ([]*versionRef, error) {
	if len(versions) == 0 {
		versions = []string{"$Latest", "$Default"}
	}
	for _, s := range versions {
		if l := strings.ToLower(s); l != "$latest" && l != "$default" {
			return nil, errorf(CodeInvalidParameterCombination, "A launch template ID or name must be specified to describe version %s.", s)
		}
	}
	var refs []*versionRef
	for _, t := range tx.templates.Sorted(func(t *LaunchTemplate) bool { return t.Owner == tx.Account }) {
		seen := map[int64]bool{}
		for _, s := range versions {
			if v, err := t.version(s); err == nil && !seen[v.Number] {
				seen[v.Number] = true
				refs = append(refs, &versionRef{t, v})
			}
		}
	}
	return refs, nil
}

// ltOne is a filter's value list: s, or nothing when s is empty.
func ltOne(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// launchTemplateRef is the template version a launch was made from.
type launchTemplateRef struct {
	id      string
	version int64
}

// tagInstance adds the tags AWS puts on an instance launched from a
// template (users cannot make, change or delete aws: tags).
func (r *launchTemplateRef) tagInstance(t Tags) Tags {
	if r == nil {
		return t
	}
	out := Tags{}
	for k, v := range t {
		out[k] = v
	}
	out[tagLaunchTemplateID] = r.id
	out[tagLaunchTemplateVersion] = strconv.FormatInt(r.version, 10)
	return out
}

// launchTemplateMerge resolves RunInstances' LaunchTemplate (its default
// version unless Version says otherwise) and returns the launch's
// parameters: the template's, overridden by those RunInstances gives (in
// is not changed). A launch without a template is returned as it is.
func (tx *Tx) launchTemplateMerge(in *ec2wire.RunInstancesInput) (*ec2wire.RunInstancesInput, *launchTemplateRef, error) {
	spec := in.LaunchTemplate
	if spec == nil {
		return in, nil, nil
	}
	t, err := tx.findLaunchTemplate(str(spec.LaunchTemplateId), str(spec.LaunchTemplateName))
	if err != nil {
		return nil, nil, err
	}
	v, err := t.version(str(spec.Version))
	if err != nil {
		return nil, nil, err
	}
	var from ec2wire.RunInstancesInput
	copyByName(reflect.ValueOf(&from).Elem(), reflect.ValueOf(v.Data))
	out := mergeRunInput(*in, from)
	return &out, &launchTemplateRef{id: t.ID, version: v.Number}, nil
}

// mergeRunInput is AWS's override rule: a parameter given to RunInstances
// replaces the template's; in the lists of structures, an item replaces the
// template's item for the same thing (a tag's resource type and key, a block
// device's name, a network interface's card and device index) and the
// template's other items stay. Conflicts between what the template gives
// and what the launch gives (network interfaces with instance-level groups
// or subnet...) are then refused by RunInstances' own rules.
func mergeRunInput(given, from ec2wire.RunInstancesInput) ec2wire.RunInstancesInput {
	out := given
	out.TagSpecifications = mergeTagSpecs(from.TagSpecifications, given.TagSpecifications)
	out.BlockDeviceMappings = mergeItems(from.BlockDeviceMappings, given.BlockDeviceMappings,
		func(b ec2wire.BlockDeviceMapping) string { return str(b.DeviceName) })
	out.NetworkInterfaces = mergeItems(from.NetworkInterfaces, given.NetworkInterfaces,
		func(n ec2wire.InstanceNetworkInterfaceSpecification) string {
			return strconv.Itoa(int(i32(n.NetworkCardIndex))) + "/" + strconv.Itoa(int(i32(n.DeviceIndex)))
		})
	o, f := reflect.ValueOf(&out).Elem(), reflect.ValueOf(from)
	for i := range o.NumField() {
		if o.Field(i).IsZero() {
			o.Field(i).Set(f.Field(i))
		}
	}
	return out
}

// mergeItems returns base's items with those of over replacing the ones of
// the same key, and over's others after them.
func mergeItems[T any](base, over []T, key func(T) string) []T {
	if len(base) == 0 || len(over) == 0 {
		return append(slices.Clip(base), over...)
	}
	out := slices.Clone(base)
	for _, o := range over {
		if i := slices.IndexFunc(out, func(b T) bool { return key(b) == key(o) }); i >= 0 {
			out[i] = o
		} else {
			out = append(out, o)
		}
	}
	return out
}

// mergeTagSpecs merges tags per resource type: a key given to RunInstances
// takes its value there, the template's other keys stay.
func mergeTagSpecs(base, over []ec2wire.TagSpecification) []ec2wire.TagSpecification {
	out := slices.Clone(base)
	for _, o := range over {
		i := slices.IndexFunc(out, func(b ec2wire.TagSpecification) bool { return str(b.ResourceType) == str(o.ResourceType) })
		if i < 0 {
			out = append(out, o)
			continue
		}
		out[i].Tags = mergeItems(out[i].Tags, o.Tags, func(t ec2wire.Tag) string { return str(t.Key) })
	}
	return out
}

// checkLaunchTemplates checks the invariants of launch templates: one name
// per owner, versions ascending below the next number, the default among them.
func (d *db) checkLaunchTemplates(bad func(string, ...any)) {
	names := map[string]string{}
	for _, t := range d.templates.rows {
		if o, ok := names[t.Owner+"/"+t.Name]; ok {
			bad("launch template name %q held by %s and %s", t.Name, o, t.ID)
		}
		names[t.Owner+"/"+t.Name] = t.ID
		if len(t.Versions) == 0 {
			bad("launch template %s has no version", t.ID)
			continue
		}
		if !slices.IsSortedFunc(t.Versions, func(a, b LaunchTemplateVersion) int { return int(a.Number - b.Number) }) || t.latest() >= t.NextVersion {
			bad("launch template %s versions out of order (next %d)", t.ID, t.NextVersion)
		}
		if !slices.ContainsFunc(t.Versions, func(v LaunchTemplateVersion) bool { return v.Number == t.DefaultVersion }) {
			bad("launch template %s default version %d is missing", t.ID, t.DefaultVersion)
		}
	}
}
