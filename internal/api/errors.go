package api

import (
	"fmt"
	"slices"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/ec2wire"
)

// statusOf maps EC2 error codes to HTTP statuses. Codes not listed are client
// errors (400); InternalError is 500. A test checks that every core code is
// known here or is a plain 400.
var statusOf = map[string]int{
	core.CodeDryRunOperation:       412,
	core.CodeAuthFailure:           401,
	core.CodeUnauthorizedOperation: 403,
	"SignatureDoesNotMatch":        403,
	"IncompleteSignature":          400,
	"MissingAuthenticationToken":   401,
	"InvalidClientTokenId":         401,
	"RequestExpired":               400,
	"RequestLimitExceeded":         503,
	"ServiceUnavailable":           503,
	"Unavailable":                  503,
	"RequestEntityTooLarge":        413,
	core.CodeInternalError:         500,
	// AWS's server-side capacity error (cluster placement): a 5xx, which
	// the SDKs retry
	core.CodeInsufficientInstanceCapacity: 500,
	core.CodeNoSuchEntity:                 404, // IAM's
	core.CodeEntityAlreadyExists:          409,
	core.CodeDeleteConflict:               409,
	core.CodeLimitExceeded:                409,
}

func httpStatus(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return 400
}

// invalidAction is the error of an action this server does not know: AWS's
// InvalidAction with AWS's own message (clients such as Terraform's
// provider match on "is not valid for this web service" to skip optional
// reads), and, for an action of the EC2 API that ENI does not implement
// yet, a hint that says so, so that a user knows it is not their mistake.
func invalidAction(action string) error {
	msg := fmt.Sprintf("The action %s is not valid for this web service.", action)
	if _, ok := slices.BinarySearch(ec2wire.ModelOperations, action); ok {
		msg += fmt.Sprintf(" (This EC2-compatible server does not implement %s yet.)", action)
	}
	return &core.Error{Code: core.CodeInvalidAction, Message: msg}
}
