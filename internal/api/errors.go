package api

import "github.com/eni-net/eni/internal/core"

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
	"Unavailable":                  503,
	"RequestEntityTooLarge":        413,
	core.CodeInternalError:         500,
}

func httpStatus(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return 400
}
