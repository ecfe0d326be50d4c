package core

import (
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Tag limits as AWS applies them.
const (
	maxTagsPerResource = 50
	maxTagKeyLen       = 128
	maxTagValueLen     = 256
)

// tagsOut renders tags sorted by key.
func tagsOut(t Tags) []ec2wire.Tag {
	if len(t) == 0 {
		return nil
	}
	out := make([]ec2wire.Tag, 0, len(t))
	for _, k := range sortedKeys(t) {
		out = append(out, ec2wire.Tag{Key: p(k), Value: p(t[k])})
	}
	return out
}

func checkTag(k, v string) error {
	if k == "" || len(k) > maxTagKeyLen {
		return errorf(CodeInvalidTagKeyMalformed, "Tag keys must be between 1 and %d characters", maxTagKeyLen)
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return errorf(CodeInvalidTagKeyMalformed, "Tag keys starting with 'aws:' are reserved for internal use")
	}
	if len(v) > maxTagValueLen {
		return errorf(CodeInvalidParameterValue, "Tag values may not exceed %d characters", maxTagValueLen)
	}
	return nil
}

// addTags merges add into t (nil allowed) after checking limits.
func addTags(t Tags, add []ec2wire.Tag) (Tags, error) {
	out := Tags{}
	for k, v := range t {
		out[k] = v
	}
	for _, tg := range add {
		k, v := str(tg.Key), str(tg.Value)
		if err := checkTag(k, v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	if len(out) > maxTagsPerResource {
		return nil, errorf(CodeTagLimitExceeded, "The maximum number of tags for a resource is %d", maxTagsPerResource)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// tagSpecs returns the tags that TagSpecification.N gives for resourceType.
// A specification for a type the call does not create is an error, as in AWS.
func tagSpecs(specs []ec2wire.TagSpecification, resourceType string, allowed ...string) (Tags, error) {
	var t Tags
	for _, s := range specs {
		rt := str(s.ResourceType)
		if rt != resourceType {
			ok := false
			for _, a := range allowed {
				ok = ok || a == rt
			}
			if !ok {
				return nil, errorf(CodeInvalidParameterValue, "'%s' is not a valid taggable resource type for this operation.", rt)
			}
			continue
		}
		var err error
		if t, err = addTags(t, s.Tags); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// tagSpecsFor returns the tags for one resource type among several that the
// call may tag (RunInstances tags instances, ENIs, volumes...).
func tagSpecsFor(specs []ec2wire.TagSpecification, resourceType string) (Tags, error) {
	var t Tags
	for _, s := range specs {
		if str(s.ResourceType) != resourceType {
			continue
		}
		var err error
		if t, err = addTags(t, s.Tags); err != nil {
			return nil, err
		}
	}
	return t, nil
}
