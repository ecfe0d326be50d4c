package imds

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/iamcreds"
)

// meta-data/iam/ of an instance with an IAM instance profile, as AWS serves it:
// iam/info (the profile's ARN and id) and, when the profile holds a role,
// iam/security-credentials/ listing the role and iam/security-credentials/<role>
// with temporary credentials of that role for this instance (Type AWS-HMAC, an
// ASIA access key id, a session token, hours of validity, new ones every
// iamcreds.Rotation). They are made by the server's issuer (Options.Credentials)
// on each request and checked by the API under --auth sigv4 without any state
// per credential (internal/iamcreds).

// addIAM adds v's iam/ entries to t.
func (s *Server) addIAM(t Tree, v core.MetadataView) {
	if v.IAM == nil {
		return
	}
	now := s.opt.Now()
	updated := now.UTC().Truncate(iamcreds.Rotation)
	var creds *iamcreds.Credentials
	if v.IAM.Role != "" && s.opt.Credentials != nil {
		c := s.opt.Credentials.For(iamcreds.Claims{Account: v.AccountID, Role: v.IAM.Role, RoleID: v.IAM.RoleID,
			Session: v.InstanceID, Instance: v.InstanceID}, now)
		creds, updated = &c, c.Issued
	}
	t.leaves["meta-data/iam/info"] = jsonFields([][2]string{
		{"Code", "Success"}, {"LastUpdated", imdsTime(updated)},
		{"InstanceProfileArn", v.IAM.ProfileArn}, {"InstanceProfileId", v.IAM.ProfileID},
	})
	if creds == nil {
		return
	}
	t.leaves["meta-data/iam/security-credentials/"+v.IAM.Role] = jsonFields([][2]string{
		{"Code", "Success"}, {"LastUpdated", imdsTime(creds.Issued)}, {"Type", "AWS-HMAC"},
		{"AccessKeyId", creds.AccessKeyID}, {"SecretAccessKey", creds.SecretAccessKey},
		{"Token", creds.Token}, {"Expiration", imdsTime(creds.Expires)},
	})
}

func imdsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// jsonFields is a JSON object of string fields in the given order, as the
// metadata service writes them: "key" : "value", two spaces of indent.
func jsonFields(fields [][2]string) string {
	q := func(s string) string {
		b, _ := json.Marshal(s) // a string always marshals
		return string(b)
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, f := range fields {
		b.WriteString("  " + q(f[0]) + " : " + q(f[1]))
		if i < len(fields)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}")
	return b.String()
}
