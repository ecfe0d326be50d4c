package sigv4

import (
	"fmt"

	"github.com/eni-net/eni/internal/core"
)

// The EC2 error codes Verify returns. Each error is a *core.Error, so the API
// layer writes it like any other (its status table maps AuthFailure and
// MissingAuthenticationToken to 401, SignatureDoesNotMatch to 403, the
// others to 400).
const (
	CodeAuthFailure                = core.CodeAuthFailure
	CodeSignatureDoesNotMatch      = "SignatureDoesNotMatch"
	CodeRequestExpired             = "RequestExpired"
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	CodeIncompleteSignature        = "IncompleteSignature"
)

// Messages as AWS writes them, where they are known.
const (
	msgAuthFailure       = "AWS was not able to validate the provided access credentials"
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgMissingAuth       = "Request is missing Authentication Token"
	msgRequestExpired    = "Request has expired."
)

func errAuthFailure() *core.Error {
	return &core.Error{Code: CodeAuthFailure, Message: msgAuthFailure}
}

func errMismatch() *core.Error {
	return &core.Error{Code: CodeSignatureDoesNotMatch, Message: msgSignatureMismatch}
}

func errMismatchf(format string, args ...any) *core.Error {
	return &core.Error{Code: CodeSignatureDoesNotMatch, Message: fmt.Sprintf(format, args...)}
}

func errIncomplete(format string, args ...any) *core.Error {
	return &core.Error{Code: CodeIncompleteSignature, Message: fmt.Sprintf(format, args...)}
}

func errExpired(detail string) *core.Error {
	return &core.Error{Code: CodeRequestExpired, Message: msgRequestExpired + " " + detail}
}
