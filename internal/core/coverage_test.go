package core

import (
	"sort"
	"strings"
	"testing"

	"github.com/eni-net/eni/internal/ec2wire"
)

// filterKeys returns the names a filter set answers.
func filterKeys[T any](fs filterSet[T]) map[string]bool {
	out := map[string]bool{}
	for k := range fs {
		out[k] = true
	}
	return out
}

// TestModelFiltersImplemented compares, per Describe action, the filter names
// the AWS model documents with those the core answers. The ENI, instance,
// subnet, VPC, security group, address and route table filters must all be
// there; the test logs coverage for the others.
func TestModelFiltersImplemented(t *testing.T) {
	c := newTestCore(t)
	var sets map[string]map[string]bool
	if err := view(t, c, func(tx *Tx) error {
		sets = map[string]map[string]bool{
			"DescribeNetworkInterfaces":           filterKeys(tx.eniFilterSet(tx.addressFor)),
			"DescribeInstances":                   filterKeys(tx.instanceFilterSet()),
			"DescribeSubnets":                     filterKeys(tx.subnetFilters()),
			"DescribeVpcs":                        filterKeys(tx.vpcFilters()),
			"DescribeSecurityGroups":              filterKeys(tx.sgFilters()),
			"DescribeAddresses":                   filterKeys(tx.addressFilters()),
			"DescribeRouteTables":                 filterKeys(tx.rtbFilters()),
			"DescribeInternetGateways":            filterKeys(igwFilters),
			"DescribeNetworkInterfacePermissions": filterKeys(eniPermFilters),
			"DescribeInstanceTypes":               filterKeys(instanceTypeFilters),
			"DescribeSecurityGroupRules":          filterKeys(sgRuleFilters),
			"DescribeTags":                        filterKeys(tagItemFilters),
			"DescribeInstanceStatus":              filterKeys(tx.instanceStatusFilters()),
			"DescribeInstanceTypeOfferings":       filterKeys(offeringFilters),
			"DescribeVolumes":                     filterKeys(volumeFilters()),
			"DescribeKeyPairs":                    filterKeys(keyFilters),
			"DescribeDhcpOptions":                 filterKeys(dhcpFilters),
			"DescribeEgressOnlyInternetGateways":  filterKeys(eigwFilters),
			"DescribeNatGateways":                 filterKeys(natFilters),
			"DescribeNetworkAcls":                 filterKeys(aclFilters(nil)),
			"DescribeManagedPrefixLists":          filterKeys(plFilters),
			"DescribePrefixLists":                 filterKeys(plFilters),
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Filters the model documents that the product deliberately does not
	// model (Outposts, IPAM, carrier gateways, instance details without a
	// meaning here). Each is still accepted where listed in a filter set.
	required := []string{"DescribeNetworkInterfaces", "DescribeSubnets", "DescribeVpcs", "DescribeSecurityGroups", "DescribeAddresses", "DescribeRouteTables", "DescribeInternetGateways", "DescribeNetworkInterfacePermissions", "DescribeSecurityGroupRules", "DescribeTags", "DescribeInstanceStatus", "DescribeInstanceTypeOfferings", "DescribeVolumes", "DescribeKeyPairs", "DescribeDhcpOptions", "DescribeEgressOnlyInternetGateways", "DescribeNetworkAcls", "DescribeManagedPrefixLists", "DescribePrefixLists"}
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, op := range names {
		have := sets[op]
		var missing []string
		total := 0
		for _, f := range ec2wire.ModelFilters[op] {
			if f == "tag" || strings.HasPrefix(f, "tag:") || f == "tag-key" || f == "tag-value" {
				continue // generic tag filters
			}
			total++
			if !have[f] {
				missing = append(missing, f)
			}
		}
		t.Logf("%s: %d of %d documented filters implemented; missing %v", op, total-len(missing), total, missing)
		for _, r := range required {
			if r == op && len(missing) > 0 {
				t.Errorf("%s lacks documented filters %v", op, missing)
			}
		}
	}
}
