package api

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"
)

// STS GetCallerIdentity is answered on the same endpoint, because
// infrastructure tools (Terraform's AWS provider, many scripts) call it
// first to learn the account. It uses the plain Query protocol: a
// <GetCallerIdentityResult> wrapper and <ResponseMetadata>.

const stsVersion = "2011-06-15"

func isSTS(action, version string) bool {
	return action == "GetCallerIdentity" && version == stsVersion
}

func writeCallerIdentity(buf *bytes.Buffer, account, accessKey, requestID string) {
	arn, userID := "arn:aws:iam::"+account+":root", account
	if accessKey != "" {
		arn, userID = "arn:aws:iam::"+account+":user/"+accessKey, accessKey
	}
	writeIdentity(buf, account, arn, userID, requestID)
}

// securityToken is a request's session token (header or presigned query).
func securityToken(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Security-Token"); t != "" {
		return t
	}
	return r.URL.Query().Get("X-Amz-Security-Token")
}

// writeIdentity writes GetCallerIdentity's reply.
func writeIdentity(buf *bytes.Buffer, account, arn, userID, requestID string) {
	type result struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	type reply struct {
		XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
		Result    result   `xml:"GetCallerIdentityResult"`
		RequestID string   `xml:"ResponseMetadata>RequestId"`
	}
	r := reply{Result: result{Arn: arn, UserID: userID, Account: account}, RequestID: requestID}
	buf.WriteString(xml.Header)
	_ = xml.NewEncoder(buf).Encode(r) // a bytes.Buffer does not fail
}

// writeSTSError writes the Query protocol's error envelope.
func writeSTSError(buf *bytes.Buffer, code, message, requestID string) {
	type e struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type envelope struct {
		XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
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

// credentialScope returns the access key and service of a SigV4 request's
// credential scope, or "".
func credentialScope(r *http.Request) (accessKey, service string) {
	if parts := credentialParts(r); len(parts) >= 5 {
		return parts[0], parts[3]
	}
	return "", ""
}

// credentialParts splits a SigV4 credential scope
// (AKID/date/region/service/aws4_request), from the Authorization header or
// the presigned query.
func credentialParts(r *http.Request) []string {
	cred := ""
	if a := r.Header.Get("Authorization"); a != "" {
		if i := strings.Index(a, "Credential="); i >= 0 {
			cred = a[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	return strings.Split(cred, "/")
}
