package core

import (
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Instance metadata options: how the instance may reach its metadata service
// (the service itself is not this file's). They are set at launch
// (MetadataOptions), changed with ModifyInstanceMetadataOptions, stored and
// described. AWS answers a change as "pending" and applies it within
// seconds; ENI applies it at once, so DescribeInstances always shows
// "applied" and nothing is left for a client to wait on.

// imageMetadataDefaults are the options of an instance launched without
// any: IMDSv2 required with a hop limit of 2 for images that declare IMDS
// v2.0 support (Amazon Linux 2023), else optional with a hop limit of 1.
func imageMetadataDefaults(imageID string) MetadataOptions {
	m := MetadataOptions{HttpTokens: "optional", HopLimit: 1, HttpEndpoint: "enabled", HttpIPv6: "disabled", Tags: "disabled"}
	if im := imageByID(imageID); im != nil && strings.HasPrefix(im.Name, "al2023") { // ImdsSupport v2.0
		m.HttpTokens, m.HopLimit = "required", 2
	}
	return m
}

// metadataEnum checks one enumerated option; "" keeps cur.
func metadataEnum(name, v, cur string, valid ...string) (string, error) {
	if v == "" {
		return cur, nil
	}
	for _, ok := range valid {
		if v == ok {
			return v, nil
		}
	}
	return "", errorf(CodeInvalidParameterValue, "Value (%s) for parameter %s is invalid. Valid values are: %s, %s.", v, name, valid[0], valid[1])
}

// applyMetadataOptions returns cur changed by the options given, checked.
func applyMetadataOptions(cur MetadataOptions, tokens, endpoint, ipv6, tags string, hops *int32) (MetadataOptions, error) {
	var err error
	if cur.HttpTokens, err = metadataEnum("HttpTokens", tokens, cur.HttpTokens, "optional", "required"); err != nil {
		return cur, err
	}
	if cur.HttpEndpoint, err = metadataEnum("HttpEndpoint", endpoint, cur.HttpEndpoint, "enabled", "disabled"); err != nil {
		return cur, err
	}
	if cur.HttpIPv6, err = metadataEnum("HttpProtocolIpv6", ipv6, cur.HttpIPv6, "enabled", "disabled"); err != nil {
		return cur, err
	}
	if cur.Tags, err = metadataEnum("InstanceMetadataTags", tags, cur.Tags, "enabled", "disabled"); err != nil {
		return cur, err
	}
	if hops != nil {
		if *hops < 1 || *hops > 64 {
			return cur, errorf(CodeInvalidParameterValue, "Value (%d) for parameter HttpPutResponseHopLimit is invalid. Valid values are integers from 1 to 64.", *hops)
		}
		cur.HopLimit = *hops
	}
	return cur, nil
}

// launchMetadata resolves a launch's MetadataOptions against its image's
// defaults.
func launchMetadata(imageID string, in *ec2wire.InstanceMetadataOptionsRequest) (MetadataOptions, error) {
	m := imageMetadataDefaults(imageID)
	if in == nil {
		return m, nil
	}
	return applyMetadataOptions(m, str(in.HttpTokens), str(in.HttpEndpoint), str(in.HttpProtocolIpv6), str(in.InstanceMetadataTags), in.HttpPutResponseHopLimit)
}

// instanceMetadata is an instance's options.
func instanceMetadata(i *Instance) MetadataOptions {
	if i.Metadata != nil {
		return *i.Metadata
	}
	return imageMetadataDefaults(i.ImageID)
}

func metadataOut(m MetadataOptions, state string) *ec2wire.InstanceMetadataOptionsResponse {
	return &ec2wire.InstanceMetadataOptionsResponse{
		State: p(state), HttpTokens: p(m.HttpTokens), HttpPutResponseHopLimit: p(m.HopLimit),
		HttpEndpoint: p(m.HttpEndpoint), HttpProtocolIpv6: p(m.HttpIPv6), InstanceMetadataTags: p(m.Tags),
	}
}

// instanceMetadataFilters adds DescribeInstances' metadata-options filters.
func instanceMetadataFilters(fs filterSet[Instance]) {
	one := func(f func(m MetadataOptions) string) func(*Instance) []string {
		return func(i *Instance) []string { return []string{f(instanceMetadata(i))} }
	}
	fs["metadata-options.http-tokens"] = one(func(m MetadataOptions) string { return m.HttpTokens })
	fs["metadata-options.http-put-response-hop-limit"] = one(func(m MetadataOptions) string { return strconv.Itoa(int(m.HopLimit)) })
	fs["metadata-options.http-endpoint"] = one(func(m MetadataOptions) string { return m.HttpEndpoint })
	fs["metadata-options.http-protocol-ipv6"] = one(func(m MetadataOptions) string { return m.HttpIPv6 })
	fs["metadata-options.instance-metadata-tags"] = one(func(m MetadataOptions) string { return m.Tags })
}

// ModifyInstanceMetadataOptions changes the options given and keeps the
// others.
func (tx *Tx) ModifyInstanceMetadataOptions(in *ec2wire.ModifyInstanceMetadataOptionsInput) (*ec2wire.ModifyInstanceMetadataOptionsOutput, error) {
	inst, err := tx.getInstance(str(in.InstanceId))
	if err != nil {
		return nil, err
	}
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a valid state for this operation.", inst.ID)
	}
	m, err := applyMetadataOptions(instanceMetadata(inst), str(in.HttpTokens), str(in.HttpEndpoint), str(in.HttpProtocolIpv6), str(in.InstanceMetadataTags), in.HttpPutResponseHopLimit)
	if err != nil {
		return nil, err
	}
	tx.instances.Mut(inst.ID).Metadata = &m
	return &ec2wire.ModifyInstanceMetadataOptionsOutput{InstanceId: p(inst.ID), InstanceMetadataOptions: metadataOut(m, "pending")}, nil
}
