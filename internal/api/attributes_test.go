package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/eni-net/eni/internal/apitest"
)

// An Elastic IP's reverse DNS record: AWS's default name, set and reset;
// the replies say PENDING as AWS's do, and the change is applied at once.
func TestAddressAttribute(t *testing.T) {
	e := apitest.New(t)
	c := e.Client()
	a, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	def := "ec2-" + dashed(aws.ToString(a.PublicIp)) + ".compute-1.amazonaws.com."
	describe := func() types.AddressAttribute {
		t.Helper()
		out, err := c.DescribeAddressesAttribute(ctx, &ec2.DescribeAddressesAttributeInput{AllocationIds: []string{*a.AllocationId}, Attribute: types.AddressAttributeNameDomainName})
		if err != nil || len(out.Addresses) != 1 {
			t.Fatalf("DescribeAddressesAttribute: %v %v", out, err)
		}
		return out.Addresses[0]
	}
	if got := describe(); aws.ToString(got.PtrRecord) != def || aws.ToString(got.PublicIp) != aws.ToString(a.PublicIp) || got.PtrRecordUpdate != nil {
		t.Errorf("default: %+v", got)
	}
	mod, err := c.ModifyAddressAttribute(ctx, &ec2.ModifyAddressAttributeInput{AllocationId: a.AllocationId, DomainName: aws.String("Mail.Example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if u := mod.Address.PtrRecordUpdate; u == nil || aws.ToString(u.Status) != "PENDING" || aws.ToString(u.Value) != "mail.example.com." || aws.ToString(mod.Address.PtrRecord) != def {
		t.Errorf("modify reply: %+v %+v", mod.Address, mod.Address.PtrRecordUpdate)
	}
	if got := describe(); aws.ToString(got.PtrRecord) != "mail.example.com." || got.PtrRecordUpdate != nil {
		t.Errorf("after modify: %+v", got)
	}
	if _, err := c.ResetAddressAttribute(ctx, &ec2.ResetAddressAttributeInput{AllocationId: a.AllocationId, Attribute: types.AddressAttributeNameDomainName}); err != nil {
		t.Fatal(err)
	}
	if got := describe(); aws.ToString(got.PtrRecord) != def {
		t.Errorf("after reset: %+v", got)
	}
	all, err := c.DescribeAddressesAttribute(ctx, &ec2.DescribeAddressesAttributeInput{})
	if err != nil || len(all.Addresses) != 1 {
		t.Errorf("all: %v %v", all, err)
	}
	_, err = c.ModifyAddressAttribute(ctx, &ec2.ModifyAddressAttributeInput{AllocationId: a.AllocationId, DomainName: aws.String("not a name")})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.ModifyAddressAttribute(ctx, &ec2.ModifyAddressAttributeInput{AllocationId: aws.String("eipalloc-0123456789abcdef0"), DomainName: aws.String("a.example.com")})
	apitest.WantCode(t, err, "InvalidAllocationID.NotFound")
	_, err = c.ResetAddressAttribute(ctx, &ec2.ResetAddressAttributeInput{AllocationId: a.AllocationId, Attribute: "ptr"})
	apitest.WantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeAddressesAttribute(ctx, &ec2.DescribeAddressesAttributeInput{AllocationIds: []string{"eipalloc-xyz"}})
	apitest.WantCode(t, err, "InvalidAllocationID.Malformed")
}

func dashed(ip string) string {
	b := []byte(ip)
	for i := range b {
		if b[i] == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

// Metadata options: the image's defaults, MetadataOptions at launch,
// ModifyInstanceMetadataOptions (only what is given changes), stored and
// described, applied at once.
func TestInstanceMetadataOptions(t *testing.T) {
	e := apitest.New(t, apitest.Options{Durable: true})
	c := e.Client()
	md := func(id string) types.InstanceMetadataOptionsResponse {
		t.Helper()
		return *describeInstance(t, c, id).MetadataOptions
	}
	al := runInstance(t, c, &ec2.RunInstancesInput{})                               // Amazon Linux 2023: IMDSv2 required
	ub := runInstance(t, c, &ec2.RunInstancesInput{ImageId: aws.String(ubuntuAMI)}) // optional
	if m := md(*al.InstanceId); m.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(m.HttpPutResponseHopLimit) != 2 || m.State != types.InstanceMetadataOptionsStateApplied {
		t.Errorf("AL2023 defaults: %+v", m)
	}
	if m := md(*ub.InstanceId); m.HttpTokens != types.HttpTokensStateOptional || aws.ToInt32(m.HttpPutResponseHopLimit) != 1 || m.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled {
		t.Errorf("Ubuntu defaults: %+v", m)
	}
	set := runInstance(t, c, &ec2.RunInstancesInput{ImageId: aws.String(ubuntuAMI), MetadataOptions: &types.InstanceMetadataOptionsRequest{
		HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(3), InstanceMetadataTags: types.InstanceMetadataTagsStateEnabled}})
	if m := set.MetadataOptions; m.State != types.InstanceMetadataOptionsStatePending || m.HttpTokens != types.HttpTokensStateRequired {
		t.Errorf("RunInstances reply: %+v", m)
	}
	if m := md(*set.InstanceId); m.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(m.HttpPutResponseHopLimit) != 3 ||
		m.InstanceMetadataTags != types.InstanceMetadataTagsStateEnabled || m.State != types.InstanceMetadataOptionsStateApplied {
		t.Errorf("launched with options: %+v", m)
	}

	mod, err := c.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: set.InstanceId, HttpTokens: types.HttpTokensStateOptional, HttpEndpoint: types.InstanceMetadataEndpointStateDisabled})
	if err != nil {
		t.Fatal(err)
	}
	if m := mod.InstanceMetadataOptions; m.State != types.InstanceMetadataOptionsStatePending || m.HttpTokens != types.HttpTokensStateOptional || aws.ToInt32(m.HttpPutResponseHopLimit) != 3 {
		t.Errorf("modify reply: %+v", m)
	}
	// Durable, and applied.
	path := e.Path
	e.Close()
	e = apitest.New(t, apitest.Options{Path: path})
	c = e.Client()
	if m := md(*set.InstanceId); m.HttpTokens != types.HttpTokensStateOptional || m.HttpEndpoint != types.InstanceMetadataEndpointStateDisabled ||
		aws.ToInt32(m.HttpPutResponseHopLimit) != 3 || m.State != types.InstanceMetadataOptionsStateApplied {
		t.Errorf("after modify and restart: %+v", m)
	}
	byTokens, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("metadata-options.http-tokens", "required")}})
	if err != nil || len(byTokens.Reservations) != 1 || aws.ToString(byTokens.Reservations[0].Instances[0].InstanceId) != *al.InstanceId {
		t.Errorf("filter metadata-options.http-tokens: %v %v", byTokens, err)
	}

	for _, in := range []*ec2.ModifyInstanceMetadataOptionsInput{
		{InstanceId: set.InstanceId, HttpPutResponseHopLimit: aws.Int32(65)},
		{InstanceId: set.InstanceId, HttpTokens: "sometimes"},
		{InstanceId: set.InstanceId, HttpProtocolIpv6: "on"},
	} {
		_, err := c.ModifyInstanceMetadataOptions(ctx, in)
		apitest.WantCode(t, err, "InvalidParameterValue")
	}
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpPutResponseHopLimit: aws.Int32(0)}})
	apitest.WantCode(t, err, "InvalidParameterValue")
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{*ub.InstanceId}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: ub.InstanceId, HttpTokens: types.HttpTokensStateRequired})
	apitest.WantCode(t, err, "IncorrectInstanceState")
	_, err = c.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0123456789abcdef0")})
	apitest.WantCode(t, err, "InvalidInstanceID.NotFound")
}
