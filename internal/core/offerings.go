package core

import (
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Instance type offerings: every type of the built-in table is offered in
// the region and in each of its availability zones, since RunInstances
// launches any of them anywhere.

// offering is one instance type offered at one location.
type offering struct{ typ, location string }

var offeringFilters = filterSet[offering]{
	"instance-type": func(o *offering) []string { return []string{o.typ} },
	"location":      func(o *offering) []string { return []string{o.location} },
}

// offeringLocations returns the locations of a location type.
func (tx *Tx) offeringLocations(locationType string) ([]string, error) {
	switch locationType {
	case "", "region":
		return []string{tx.Region}, nil
	case "availability-zone", "availability-zone-id":
		var out []string
		for _, z := range tx.AZs() {
			if locationType == "availability-zone" {
				out = append(out, z.Name)
			} else {
				out = append(out, z.ID)
			}
		}
		return out, nil
	}
	return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter locationType is invalid. Valid values are: region, availability-zone, availability-zone-id.", locationType)
}

// DescribeInstanceTypeOfferings lists the instance types offered in the
// region, or in each zone by name or id.
func (tx *Tx) DescribeInstanceTypeOfferings(in *ec2wire.DescribeInstanceTypeOfferingsInput) (*ec2wire.DescribeInstanceTypeOfferingsOutput, error) {
	locType := str(in.LocationType)
	locations, err := tx.offeringLocations(locType)
	if err != nil {
		return nil, err
	}
	if locType == "" {
		locType = "region"
	}
	m, err := newMatcher(offeringFilters, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	_, names := instanceTypes()
	var items []*offering
	for _, n := range names {
		for _, l := range locations {
			if o := (&offering{typ: n, location: l}); m.match(o) {
				items = append(items, o)
			}
		}
	}
	key := func(o *offering) string { return o.typ + "\x00" + o.location }
	slices.SortFunc(items, func(a, b *offering) int { return strings.Compare(key(a), key(b)) }) // the pages' order
	page, next, err := paginate(items, key, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeInstanceTypeOfferingsOutput{NextToken: next, InstanceTypeOfferings: []ec2wire.InstanceTypeOffering{}}
	for _, o := range page {
		out.InstanceTypeOfferings = append(out.InstanceTypeOfferings, ec2wire.InstanceTypeOffering{
			InstanceType: p(o.typ), Location: p(o.location), LocationType: p(locType),
		})
	}
	return out, nil
}
