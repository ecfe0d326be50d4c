package api

import (
	"bytes"
	"encoding/xml"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eni-net/eni/internal/core"
)

// The IAM Query API, as much of it as instance profiles need (roles and
// instance profiles), on the same endpoint: a request is IAM's when its
// signature is scoped to the service "iam", or, unsigned, when it names an
// IAM action with IAM's version. IAM is global: every call runs in the
// core's IAMRegion whatever region the client signed for.

const iamVersion = "2010-05-08"

const iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"

// iamActions are the IAM actions served.
var iamActions = map[string]func(tx *core.Tx, q url.Values) (any, error){
	"CreateRole":            iamCreateRole,
	"GetRole":               iamGetRole,
	"DeleteRole":            func(tx *core.Tx, q url.Values) (any, error) { return nil, tx.DeleteRole(q.Get("RoleName")) },
	"ListRoles":             iamListRoles,
	"CreateInstanceProfile": iamCreateProfile,
	"GetInstanceProfile":    iamGetProfile,
	"ListInstanceProfiles":  iamListProfiles,
	"DeleteInstanceProfile": func(tx *core.Tx, q url.Values) (any, error) {
		return nil, tx.DeleteInstanceProfile(q.Get("InstanceProfileName"))
	},
	"AddRoleToInstanceProfile":      iamAddRole,
	"RemoveRoleFromInstanceProfile": iamRemoveRole,
}

// iamReads are the actions that change nothing.
var iamReads = map[string]bool{"GetRole": true, "ListRoles": true, "GetInstanceProfile": true, "ListInstanceProfiles": true}

// isIAM says whether a request is for IAM: signed for "iam", or an IAM
// action of IAM's version.
func isIAM(service, action, version string) bool {
	if service != "" {
		return service == "iam"
	}
	_, ok := iamActions[action]
	_, known := slices.BinarySearch(iamOperations, action)
	return (ok || known) && version == iamVersion
}

// serveIAM runs one IAM action (req.who is set) and writes its reply.
func (s *Server) serveIAM(req *request, buf *bytes.Buffer) error {
	fn, ok := iamActions[req.action]
	if !ok {
		return iamInvalidAction(req.action)
	}
	var out any
	run := func(tx *core.Tx) error {
		var err error
		out, err = fn(tx, req.params)
		return err
	}
	var err error
	if iamReads[req.action] {
		err = s.core.Read(req.who, s.commit, run)
	} else {
		err = s.core.Write(req.who, false, s.commit, run)
	}
	if err != nil {
		return err
	}
	writeIAMReply(buf, req.action, out, req.id)
	return nil
}

// iamInvalidAction is IAM's answer to an action it does not know, with a hint
// when the action is IAM's and only this server lacks it.
func iamInvalidAction(action string) error {
	msg := "Could not find operation " + action + " for version " + iamVersion
	if _, ok := slices.BinarySearch(iamOperations, action); ok {
		msg += " (This IAM-compatible endpoint does not implement " + action + " yet: it has roles, their policies and tags, and instance profiles only.)"
	}
	return &core.Error{Code: core.CodeInvalidAction, Message: msg}
}

type iamRoleXML struct {
	Path                     string      `xml:"Path"`
	RoleName                 string      `xml:"RoleName"`
	RoleID                   string      `xml:"RoleId"`
	Arn                      string      `xml:"Arn"`
	CreateDate               string      `xml:"CreateDate"`
	AssumeRolePolicyDocument string      `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string      `xml:"Description,omitempty"`
	MaxSessionDuration       int32       `xml:"MaxSessionDuration,omitempty"`
	Tags                     []iamTagXML `xml:"Tags>member,omitempty"`
}

type iamProfileXML struct {
	Path                string       `xml:"Path"`
	InstanceProfileName string       `xml:"InstanceProfileName"`
	InstanceProfileID   string       `xml:"InstanceProfileId"`
	Arn                 string       `xml:"Arn"`
	CreateDate          string       `xml:"CreateDate"`
	Roles               []iamRoleXML `xml:"Roles>member"`
}

func iamDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// roleXML is a role as IAM shows it; the trust policy URL-encoded, as IAM
// sends it.
func roleXML(r *core.IAMRole, full bool) iamRoleXML {
	x := iamRoleXML{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.Arn(), CreateDate: iamDate(r.Created),
		AssumeRolePolicyDocument: url.PathEscape(r.Policy), Description: r.Description}
	if full {
		x.MaxSessionDuration = r.MaxSession
		if len(r.Tags) > 0 {
			x.Tags = iamTagsXML(r.Tags)
		}
	}
	return x
}

func profileXML(tx *core.Tx, p *core.IAMInstanceProfile) iamProfileXML {
	x := iamProfileXML{Path: p.Path, InstanceProfileName: p.Name, InstanceProfileID: p.ID, Arn: p.Arn(), CreateDate: iamDate(p.Created), Roles: []iamRoleXML{}}
	for _, r := range tx.ProfileRoles(p) {
		x.Roles = append(x.Roles, roleXML(r, false))
	}
	return x
}

func iamCreateRole(tx *core.Tx, q url.Values) (any, error) {
	in := core.RoleInput{Name: q.Get("RoleName"), Path: q.Get("Path"), Policy: q.Get("AssumeRolePolicyDocument"), Description: q.Get("Description"), Tags: iamTagsParam(q)}
	if v := q.Get("MaxSessionDuration"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return nil, &core.Error{Code: core.CodeValidationError, Message: "1 validation error detected: Value '" + v + "' at 'maxSessionDuration' failed to satisfy constraint: Member must be a number"}
		}
		in.MaxSession = int32(n)
	}
	r, err := tx.CreateRole(in)
	if err != nil {
		return nil, err
	}
	return struct {
		Role iamRoleXML `xml:"Role"`
	}{roleXML(r, true)}, nil
}

func iamGetRole(tx *core.Tx, q url.Values) (any, error) {
	r, err := tx.GetRole(q.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	return struct {
		Role iamRoleXML `xml:"Role"`
	}{roleXML(r, true)}, nil
}

// iamPage is one page of names after Marker, MaxItems long (default 100,
// 1 to 1000).
func iamPage(q url.Values, names []string) (lo, hi int, marker string, err error) {
	max := 100
	if v := q.Get("MaxItems"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > 1000 {
			return 0, 0, "", &core.Error{Code: core.CodeValidationError, Message: "1 validation error detected: Value '" + v + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"}
		}
		max = n
	}
	if m := q.Get("Marker"); m != "" {
		for lo < len(names) && names[lo] <= m {
			lo++
		}
	}
	hi = min(lo+max, len(names))
	if hi < len(names) {
		marker = names[hi-1]
	}
	return lo, hi, marker, nil
}

func iamListRoles(tx *core.Tx, q url.Values) (any, error) {
	roles := tx.ListRoles(q.Get("PathPrefix"))
	keys := make([]string, len(roles))
	for i, r := range roles {
		keys[i] = r.Account + ":" + strings.ToLower(r.Name)
	}
	lo, hi, marker, err := iamPage(q, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		Roles       []iamRoleXML `xml:"Roles>member"`
		IsTruncated bool         `xml:"IsTruncated"`
		Marker      string       `xml:"Marker,omitempty"`
	}{Roles: []iamRoleXML{}, IsTruncated: marker != "", Marker: marker}
	for _, r := range roles[lo:hi] {
		out.Roles = append(out.Roles, roleXML(r, true))
	}
	return out, nil
}

func iamCreateProfile(tx *core.Tx, q url.Values) (any, error) {
	p, err := tx.CreateInstanceProfile(q.Get("InstanceProfileName"), q.Get("Path"))
	if err != nil {
		return nil, err
	}
	return struct {
		InstanceProfile iamProfileXML `xml:"InstanceProfile"`
	}{profileXML(tx, p)}, nil
}

func iamGetProfile(tx *core.Tx, q url.Values) (any, error) {
	p, err := tx.GetInstanceProfile(q.Get("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	return struct {
		InstanceProfile iamProfileXML `xml:"InstanceProfile"`
	}{profileXML(tx, p)}, nil
}

func iamListProfiles(tx *core.Tx, q url.Values) (any, error) {
	ps := tx.ListInstanceProfiles(q.Get("PathPrefix"))
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

func iamAddRole(tx *core.Tx, q url.Values) (any, error) {
	return nil, tx.AddRoleToInstanceProfile(q.Get("InstanceProfileName"), q.Get("RoleName"))
}

func iamRemoveRole(tx *core.Tx, q url.Values) (any, error) {
	return nil, tx.RemoveRoleFromInstanceProfile(q.Get("InstanceProfileName"), q.Get("RoleName"))
}

// writeIAMReply writes <ActionResponse><ActionResult>out</ActionResult>
// <ResponseMetadata/></ActionResponse> (no Result for actions without one).
func writeIAMReply(buf *bytes.Buffer, action string, out any, requestID string) {
	buf.Reset()
	buf.WriteString(xml.Header)
	buf.WriteString(`<` + action + `Response xmlns="` + iamNS + `">`)
	if out != nil {
		_ = xml.NewEncoder(buf).EncodeElement(out, xml.StartElement{Name: xml.Name{Local: action + "Result"}}) // a bytes.Buffer does not fail
	}
	buf.WriteString(`<ResponseMetadata><RequestId>` + requestID + `</RequestId></ResponseMetadata></` + action + `Response>`)
}

// writeIAMError writes IAM's error envelope.
func writeIAMError(buf *bytes.Buffer, code, message, requestID string) {
	type e struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type envelope struct {
		XMLName   xml.Name `xml:"https://iam.amazonaws.com/doc/2010-05-08/ ErrorResponse"`
		Error     e        `xml:"Error"`
		RequestID string   `xml:"RequestId"`
	}
	typ := "Sender"
	if httpStatus(code) >= 500 {
		typ = "Receiver"
	}
	buf.Reset()
	buf.WriteString(xml.Header)
	_ = xml.NewEncoder(buf).Encode(envelope{Error: e{typ, code, message}, RequestID: requestID}) // a bytes.Buffer does not fail
}
