package iamcreds

import (
	"errors"
	"time"

	"github.com/eni-net/eni/internal/core"
	"github.com/eni-net/eni/internal/sigv4"
)

// Session is sigv4.Verifier.Session for is's credentials: the key a session
// token stands for, acting as the token's account. A token that is not
// is's, or not for that access key id, is AuthFailure (as AWS answers a bad
// token); an expired one RequestExpired.
func (is Issuer) Session(now func() time.Time) func(accessKeyID, token string) (sigv4.Key, error) {
	return func(accessKeyID, token string) (sigv4.Key, error) {
		c, secret, err := is.Open(accessKeyID, token, now())
		switch {
		case errors.Is(err, ErrExpired):
			return sigv4.Key{}, &core.Error{Code: sigv4.CodeRequestExpired, Message: "The security token included in the request is expired"}
		case err != nil:
			return sigv4.Key{}, &core.Error{Code: sigv4.CodeAuthFailure, Message: "AWS was not able to validate the provided access credentials"}
		}
		return sigv4.Key{AccessKeyID: accessKeyID, SecretAccessKey: secret, Account: c.Account}, nil
	}
}

// Identity is what sts GetCallerIdentity answers for a request signed with
// is's credentials (its session token and access key id): the assumed
// role's ARN and user id, and the account; ok is false for anything else.
func (is Issuer) Identity(now func() time.Time) func(accessKeyID, token string) (arn, userID, account string, ok bool) {
	return func(accessKeyID, token string) (string, string, string, bool) {
		c, _, err := is.Open(accessKeyID, token, now())
		if err != nil {
			return "", "", "", false
		}
		return c.AssumedRoleArn(), c.UserID(), c.Account, true
	}
}
