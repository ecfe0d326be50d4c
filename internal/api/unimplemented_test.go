package api_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/eni-net/eni/internal/apitest"
)

// An action of the EC2 API that ENI does not implement answers AWS's
// InvalidAction, 400, with AWS's own message (Terraform's provider matches
// on it) and a hint that the server, not the caller, lacks it; a name that
// is no EC2 action gets AWS's message alone.
func TestUnimplementedActionInvalidAction(t *testing.T) {
	e := apitest.New(t)
	_, err := e.Client().DescribeFleets(ctx, &ec2.DescribeFleetsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAction" {
		t.Fatalf("DescribeFleets: got %v, want InvalidAction", err)
	}
	const aws = "The action DescribeFleets is not valid for this web service."
	if msg := ae.ErrorMessage(); !strings.HasPrefix(msg, aws) || !strings.Contains(msg, "does not implement DescribeFleets yet") {
		t.Errorf("message %q: want AWS's text then the hint", msg)
	}

	status, body := post(t, e, "Action=FlyToTheMoon&Version=2016-11-15")
	if status != 400 || !strings.Contains(body, "<Message>The action FlyToTheMoon is not valid for this web service.</Message>") {
		t.Errorf("unknown action: got %d %s", status, body)
	}
}
