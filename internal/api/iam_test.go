package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/eni-net/eni/internal/apitest"
)

const trustEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func iamClient(url, region, key, secret string) *iam.Client {
	return iam.New(iam.Options{
		Region: region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:  apitest.HTTPClient(), RetryMaxAttempts: 1,
	})
}

// makeProfile creates role and an instance profile of the same name holding it.
func makeProfile(t *testing.T, c *iam.Client, name string) *iam.GetInstanceProfileOutput {
	t.Helper()
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantIAMError(t *testing.T, err error, code string, status int) {
	t.Helper()
	apitest.WantCode(t, err, code)
	if got := httpStatusOf(t, err); got != status {
		t.Errorf("%s: HTTP %d, want %d", code, got, status)
	}
}

func TestIAMRolesAndInstanceProfiles(t *testing.T) {
	e := apitest.New(t)
	c := iamClient(e.Server.URL, "us-east-1", "test", "test")
	role, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), Path: aws.String("/app/"),
		AssumeRolePolicyDocument: aws.String(trustEC2), Description: aws.String("web servers")})
	if err != nil {
		t.Fatal(err)
	}
	r := role.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::123456789012:role/app/web" || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") ||
		len(aws.ToString(r.RoleId)) != 21 || aws.ToInt32(r.MaxSessionDuration) != 3600 || r.CreateDate == nil {
		t.Fatalf("role = %+v", r)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("WEB"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	wantIAMError(t, err, "EntityAlreadyExists", 409)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad/name"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	wantIAMError(t, err, "ValidationError", 400)
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
	wantIAMError(t, err, "NoSuchEntity", 404)
	// IAM is global: a client of another region sees the same role.
	got, err := iamClient(e.Server.URL, "eu-west-1", "test", "test").GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
	if err != nil || aws.ToString(got.Role.RoleId) != aws.ToString(r.RoleId) || aws.ToString(got.Role.AssumeRolePolicyDocument) == "" {
		t.Fatalf("GetRole from eu-west-1 = %+v, %v", got, err)
	}

	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web-profile")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web-profile")})
	wantIAMError(t, err, "EntityAlreadyExists", 409)
	add := &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), RoleName: aws.String("web")}
	if _, err := c.AddRoleToInstanceProfile(ctx, add); err != nil {
		t.Fatal(err)
	}
	_, err = c.AddRoleToInstanceProfile(ctx, add)
	wantIAMError(t, err, "LimitExceeded", 409)
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("nope"), RoleName: aws.String("web")})
	wantIAMError(t, err, "NoSuchEntity", 404)
	p, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web-profile")})
	if err != nil {
		t.Fatal(err)
	}
	ip := p.InstanceProfile
	if aws.ToString(ip.Arn) != "arn:aws:iam::123456789012:instance-profile/web-profile" || !strings.HasPrefix(aws.ToString(ip.InstanceProfileId), "AIPA") ||
		len(ip.Roles) != 1 || aws.ToString(ip.Roles[0].RoleName) != "web" {
		t.Fatalf("profile = %+v", ip)
	}

	makeProfile(t, c, "db")
	page1, err := c.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1)})
	if err != nil || len(page1.Roles) != 1 || !page1.IsTruncated || aws.ToString(page1.Roles[0].RoleName) != "db" {
		t.Fatalf("ListRoles page 1 = %+v, %v", page1, err)
	}
	page2, err := c.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1), Marker: page1.Marker})
	if err != nil || len(page2.Roles) != 1 || page2.IsTruncated || aws.ToString(page2.Roles[0].RoleName) != "web" {
		t.Fatalf("ListRoles page 2 = %+v, %v", page2, err)
	}
	byPath, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/app/")})
	if err != nil || len(byPath.Roles) != 1 {
		t.Fatalf("ListRoles /app/ = %+v, %v", byPath, err)
	}
	profiles, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	if err != nil || len(profiles.InstanceProfiles) != 2 || len(profiles.InstanceProfiles[1].Roles) != 1 {
		t.Fatalf("ListInstanceProfiles = %+v, %v", profiles, err)
	}

	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
	wantIAMError(t, err, "DeleteConflict", 409)
	_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web-profile")})
	wantIAMError(t, err, "DeleteConflict", 409)
	if _, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), RoleName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), RoleName: aws.String("web")})
	wantIAMError(t, err, "NoSuchEntity", 404)
	for _, err := range []error{
		func() error {
			_, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web-profile")})
			return err
		}(),
		func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
			return err
		}(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web-profile")})
	wantIAMError(t, err, "NoSuchEntity", 404)
}

// Each account has its own IAM: another account's role is not found.
func TestIAMPerAccount(t *testing.T) {
	e := authEnv(t)
	alice := iamClient(e.Server.URL, "us-east-1", "AKIAALICE0000000001", "alice-secret/x+y")
	bob := iamClient(e.Server.URL, "us-east-1", "AKIABOB000000000002", "bob-secret")
	out := makeProfile(t, alice, "app")
	if a := aws.ToString(out.InstanceProfile.Arn); a != "arn:aws:iam::111111111111:instance-profile/app" {
		t.Fatalf("arn %s", a)
	}
	_, err := bob.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	wantIAMError(t, err, "NoSuchEntity", 404)
	// Bob cannot launch with Alice's profile, by name or by ARN.
	bobEC2 := apitest.NewClient(e.Server.URL, "us-east-1", "AKIABOB000000000002", "bob-secret")
	_, err = bobEC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: out.InstanceProfile.Arn}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	// A bad secret is refused in IAM's error format.
	_, err = iamClient(e.Server.URL, "us-east-1", "AKIABOB000000000002", "wrong").ListRoles(ctx, nil)
	apitest.WantCode(t, err, "SignatureDoesNotMatch")
}

func TestInstanceProfileAssociations(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	ic := iamClient(e.Server.URL, "us-east-1", "test", "test")
	web := makeProfile(t, ic, "web").InstanceProfile
	db := makeProfile(t, ic, "db").InstanceProfile
	c := e.Client()

	_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("nope")}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	if !strings.Contains(err.Error(), "Value (nope) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name") {
		t.Errorf("message: %v", err)
	}
	inst := runInstance(t, c, &ec2.RunInstancesInput{IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")}})
	if inst.IamInstanceProfile == nil || aws.ToString(inst.IamInstanceProfile.Arn) != aws.ToString(web.Arn) ||
		aws.ToString(inst.IamInstanceProfile.Id) != aws.ToString(web.InstanceProfileId) {
		t.Fatalf("RunInstances IamInstanceProfile = %+v", inst.IamInstanceProfile)
	}
	id := aws.ToString(inst.InstanceId)
	// IAM lives in us-east-1; an instance of another region reads it there.
	euInst := runInstance(t, e.Client("eu-west-1"), &ec2.RunInstancesInput{IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: db.Arn}})
	if euInst.IamInstanceProfile == nil || aws.ToString(euInst.IamInstanceProfile.Arn) != aws.ToString(db.Arn) {
		t.Fatalf("eu-west-1 IamInstanceProfile = %+v", euInst.IamInstanceProfile)
	}
	plain := runInstance(t, c, &ec2.RunInstancesInput{})
	byArn, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("iam-instance-profile.arn", aws.ToString(web.Arn))}})
	if err != nil || len(byArn.Reservations) != 1 || aws.ToString(byArn.Reservations[0].Instances[0].InstanceId) != id {
		t.Fatalf("filter iam-instance-profile.arn = %+v, %v", byArn, err)
	}

	assocs, err := c.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{filter("instance-id", id), filter("state", "associated")}})
	if err != nil || len(assocs.IamInstanceProfileAssociations) != 1 {
		t.Fatalf("DescribeIamInstanceProfileAssociations = %+v, %v", assocs, err)
	}
	a := assocs.IamInstanceProfileAssociations[0]
	if a.State != types.IamInstanceProfileAssociationStateAssociated || !strings.HasPrefix(aws.ToString(a.AssociationId), "iip-assoc-") ||
		aws.ToString(a.IamInstanceProfile.Arn) != aws.ToString(web.Arn) {
		t.Fatalf("association = %+v", a)
	}
	_, err = c.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(id),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("db")}})
	apitest.WantCode(t, err, "IncorrectState")

	// Associate a plain instance, replace, disassociate.
	as, err := c.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: plain.InstanceId,
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: db.Arn}})
	if err != nil || as.IamInstanceProfileAssociation.State != types.IamInstanceProfileAssociationStateAssociating {
		t.Fatalf("Associate = %+v, %v", as, err)
	}
	rep, err := c.ReplaceIamInstanceProfileAssociation(ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{
		AssociationId: as.IamInstanceProfileAssociation.AssociationId, IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")}})
	if err != nil || aws.ToString(rep.IamInstanceProfileAssociation.AssociationId) == aws.ToString(as.IamInstanceProfileAssociation.AssociationId) {
		t.Fatalf("Replace = %+v, %v", rep, err)
	}
	if got := describeInstance(t, c, aws.ToString(plain.InstanceId)).IamInstanceProfile; got == nil || aws.ToString(got.Arn) != aws.ToString(web.Arn) {
		t.Fatalf("after replace: %+v", got)
	}
	_, err = c.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: as.IamInstanceProfileAssociation.AssociationId})
	apitest.WantCode(t, err, "InvalidAssociationID.NotFound") // replaced: that association is gone
	dis, err := c.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: rep.IamInstanceProfileAssociation.AssociationId})
	if err != nil || dis.IamInstanceProfileAssociation.State != types.IamInstanceProfileAssociationStateDisassociating {
		t.Fatalf("Disassociate = %+v, %v", dis, err)
	}
	if got := describeInstance(t, c, aws.ToString(plain.InstanceId)).IamInstanceProfile; got != nil {
		t.Fatalf("after disassociate: %+v", got)
	}

	// A launch template's profile.
	if _, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("with-profile"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{IamInstanceProfile: &types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("db")}}}); err != nil {
		t.Fatal(err)
	}
	lt := runInstance(t, c, &ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("with-profile")}})
	if lt.IamInstanceProfile == nil || aws.ToString(lt.IamInstanceProfile.Arn) != aws.ToString(db.Arn) {
		t.Fatalf("launch template's profile = %+v", lt.IamInstanceProfile)
	}

	// Durable: roles, profiles and associations survive a restart.
	path := e.Path
	e.Close()
	e2 := apitest.New(t, apitest.Options{Path: path})
	if got := describeInstance(t, e2.Client(), id).IamInstanceProfile; got == nil || aws.ToString(got.Arn) != aws.ToString(web.Arn) {
		t.Fatalf("after restart: %+v", got)
	}
	if _, err := iamClient(e2.Server.URL, "us-east-1", "test", "test").GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
}

// An IAM action this server lacks answers IAM's InvalidAction and message, with a hint
// that it is not implemented yet; so does an unsigned request of IAM's version (not
// EC2's "not valid for this web service"); an action IAM does not have gets no hint.
func TestIAMUnimplementedActions(t *testing.T) {
	e := apitest.New(t)
	c := iamClient(e.Server.URL, "us-east-1", "test", "test")
	_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(trustEC2)})
	wantIAMError(t, err, "InvalidAction", 400)
	want := "Could not find operation CreatePolicy for version 2010-05-08 (This IAM-compatible endpoint does not implement CreatePolicy yet"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("CreatePolicy: %v, want %q", err, want)
	}
	status, body := post(t, e, "Action=CreateUser&Version=2010-05-08&UserName=web")
	if status != 400 || !strings.Contains(body, "Could not find operation CreateUser for version 2010-05-08 (This IAM") {
		t.Errorf("unsigned CreateUser: %d %s", status, body)
	}
	status, body = post(t, e, "Action=Frobnicate&Version=2010-05-08")
	if status != 400 || !strings.Contains(body, "InvalidAction") || strings.Contains(body, "does not implement") {
		t.Errorf("unsigned Frobnicate: %d %s", status, body)
	}
}

// Role permissions and tags as community.aws's iam_role and Terraform's
// aws_iam_role manage them: an AWS-managed policy found by name (ListPolicies)
// and attached, an inline policy, tags, the role's instance profiles; the role
// cannot go while any is left.
func TestIAMRolePoliciesAndTags(t *testing.T) {
	e := apitest.New(t)
	c := iamClient(e.Server.URL, "us-east-1", "test", "test")
	makeProfile(t, c, "app")
	const ecsRole = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceRole"
	var found *iamtypes.Policy
	pages := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAll, MaxItems: aws.Int32(500)})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range page.Policies {
			n++
			if aws.ToString(p.PolicyName) == "AmazonEC2ContainerServiceRole" {
				found = &page.Policies[i]
			}
		}
	}
	if n < 1000 || found == nil || aws.ToString(found.Arn) != ecsRole || aws.ToString(found.Path) != "/service-role/" ||
		!strings.HasPrefix(aws.ToString(found.PolicyId), "ANPA") || aws.ToInt32(found.AttachmentCount) != 0 {
		t.Fatalf("ListPolicies: %d policies, AmazonEC2ContainerServiceRole %+v", n, found)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(ecsRole)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantIAMError(t, err, "NoSuchEntity", 404)
	att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("app")})
	if err != nil || len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "AmazonEC2ContainerServiceRole" {
		t.Fatalf("ListAttachedRolePolicies: %+v %v", att, err)
	}
	only, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{OnlyAttached: true})
	if err != nil || len(only.Policies) != 1 || aws.ToInt32(only.Policies[0].AttachmentCount) != 1 {
		t.Fatalf("ListPolicies OnlyAttached: %+v %v", only, err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read")})
	if err != nil || aws.ToString(got.PolicyDocument) != url.PathEscape(doc) {
		t.Fatalf("GetRolePolicy: %+v %v", got, err)
	}
	inl, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("app")})
	if err != nil || len(inl.PolicyNames) != 1 || inl.PolicyNames[0] != "read" {
		t.Fatalf("ListRolePolicies: %+v %v", inl, err)
	}
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("app"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("net")}, {Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("app"), TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("app")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Fatalf("ListRoleTags: %+v %v", tags, err)
	}
	if r, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")}); err != nil || len(r.Role.Tags) != 1 {
		t.Fatalf("GetRole tags: %+v %v", r, err)
	}
	ps, err := c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("app")})
	if err != nil || len(ps.InstanceProfiles) != 1 || aws.ToString(ps.InstanceProfiles[0].InstanceProfileName) != "app" {
		t.Fatalf("ListInstanceProfilesForRole: %+v %v", ps, err)
	}

	// Deleting, as iam_role does: each dependency refuses until it is gone.
	del := func(code string) {
		t.Helper()
		_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")})
		if code == "" {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		wantIAMError(t, err, code, 409)
	}
	del("DeleteConflict")
	if _, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("app"), RoleName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	del("DeleteConflict")
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(ecsRole)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(ecsRole)})
	wantIAMError(t, err, "NoSuchEntity", 404)
	del("DeleteConflict")
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("read")}); err != nil {
		t.Fatal(err)
	}
	del("")
}
