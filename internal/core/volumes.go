package core

import (
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Terraform's aws_instance reads more than networking: the CPU credit option
// of burstable instances and the instance's volumes. ENI answers both so
// that such tools work; it models no block storage, so there are no volumes.

// DescribeInstanceCreditSpecifications answers the CPU credit option of
// burstable (T-family) instances: AWS's defaults, standard for T2 and
// unlimited for T3, T3a and T4g.
func (tx *Tx) DescribeInstanceCreditSpecifications(in *ec2wire.DescribeInstanceCreditSpecificationsInput) (*ec2wire.DescribeInstanceCreditSpecificationsOutput, error) {
	fs := filterSet[Instance]{"instance-id": func(i *Instance) []string { return []string{i.ID} }}
	m, err := newMatcher(fs, nil, in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.InstanceIds {
		if _, err := tx.getInstance(id); err != nil {
			return nil, err
		}
	}
	items := tx.instances.Sorted(func(i *Instance) bool {
		return i.Owner == tx.Account && i.State != "terminated" && creditOption(i.InstanceType) != "" &&
			(len(in.InstanceIds) == 0 || contains(in.InstanceIds, i.ID)) && m.match(i)
	})
	page, next, err := paginate(items, func(i *Instance) string { return i.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeInstanceCreditSpecificationsOutput{NextToken: next}
	for _, i := range page {
		out.InstanceCreditSpecifications = append(out.InstanceCreditSpecifications, ec2wire.InstanceCreditSpecification{
			InstanceId: p(i.ID), CpuCredits: p(creditOption(i.InstanceType)),
		})
	}
	return out, nil
}

// creditOption is the default CPU credit option of a burstable type, or "".
func creditOption(typ string) string {
	switch {
	case strings.HasPrefix(typ, "t2."):
		return "standard"
	case strings.HasPrefix(typ, "t3.") || strings.HasPrefix(typ, "t3a.") || strings.HasPrefix(typ, "t4g."):
		return "unlimited"
	}
	return ""
}

// DescribeVolumes answers that there are no volumes: every documented filter
// is accepted, and a volume id does not exist.
func (tx *Tx) DescribeVolumes(in *ec2wire.DescribeVolumesInput) (*ec2wire.DescribeVolumesOutput, error) {
	fs := filterSet[struct{}]{}
	for _, name := range ec2wire.ModelFilters["DescribeVolumes"] {
		fs[name] = func(*struct{}) []string { return nil }
	}
	if _, err := newMatcher(fs, func(*struct{}) Tags { return nil }, in.Filters); err != nil {
		return nil, err
	}
	for _, id := range in.VolumeIds {
		if !validID(id, "vol") {
			return nil, errorf(CodeInvalidVolumeIDMalformed, "Invalid id: \"%s\" (expecting \"vol-...\")", id)
		}
		return nil, errorf(CodeInvalidVolumeNotFound, "The volume '%s' does not exist.", id)
	}
	if _, _, err := paginate([]*struct{}{}, func(*struct{}) string { return "" }, in.MaxResults, in.NextToken, 5, 500); err != nil {
		return nil, err
	}
	return &ec2wire.DescribeVolumesOutput{Volumes: []ec2wire.Volume{}}, nil
}
