package core

import (
	"errors"
	"slices"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Options of an instance that Terraform's aws_instance reads after every
// change and may modify after launch: the CPU credit option of burstable
// types, automatic recovery and the Windows password. Each change is stored
// and described in the same change set, so what a client polls after a
// modify has converged.

// creditOption is the default CPU credit option of a burstable type, or "":
// AWS's defaults, standard for T2 and unlimited for T3, T3a and T4g.
func creditOption(typ string) string {
	switch {
	case strings.HasPrefix(typ, "t2."):
		return "standard"
	case strings.HasPrefix(typ, "t3.") || strings.HasPrefix(typ, "t3a.") || strings.HasPrefix(typ, "t4g."):
		return "unlimited"
	}
	return ""
}

// instanceCredits is an instance's CPU credit option: the one it was given,
// or its type's default ("" for a type that is not burstable).
func instanceCredits(i *Instance) string {
	def := creditOption(i.InstanceType)
	if def == "" || i.CPUCredits == "" {
		return def
	}
	return i.CPUCredits
}

// DescribeInstanceCreditSpecifications answers the CPU credit option of
// burstable (T-family) instances.
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
		return i.Owner == tx.Account && i.State != "terminated" && instanceCredits(i) != "" &&
			(len(in.InstanceIds) == 0 || contains(in.InstanceIds, i.ID)) && m.match(i)
	})
	page, next, err := paginate(items, func(i *Instance) string { return i.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeInstanceCreditSpecificationsOutput{NextToken: next}
	for _, i := range page {
		out.InstanceCreditSpecifications = append(out.InstanceCreditSpecifications, ec2wire.InstanceCreditSpecification{
			InstanceId: p(i.ID), CpuCredits: p(instanceCredits(i)),
		})
	}
	return out, nil
}

// ModifyInstanceCreditSpecification sets the CPU credit option of burstable
// instances. As AWS, an instance that cannot take it is listed unsuccessful
// with its error; the others change.
func (tx *Tx) ModifyInstanceCreditSpecification(in *ec2wire.ModifyInstanceCreditSpecificationInput) (*ec2wire.ModifyInstanceCreditSpecificationOutput, error) {
	out := &ec2wire.ModifyInstanceCreditSpecificationOutput{
		SuccessfulInstanceCreditSpecifications:   []ec2wire.SuccessfulInstanceCreditSpecificationItem{},
		UnsuccessfulInstanceCreditSpecifications: []ec2wire.UnsuccessfulInstanceCreditSpecificationItem{},
	}
	for _, spec := range in.InstanceCreditSpecifications {
		id, credits := str(spec.InstanceId), str(spec.CpuCredits)
		if id == "" {
			return nil, errorf(CodeMissingParameter, "The request must contain the parameter InstanceCreditSpecification.InstanceId")
		}
		if credits != "standard" && credits != "unlimited" {
			return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter cpuCredits is invalid. Valid values are 'standard' and 'unlimited'.", credits)
		}
		if err := tx.checkCreditChange(id); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				return nil, err
			}
			out.UnsuccessfulInstanceCreditSpecifications = append(out.UnsuccessfulInstanceCreditSpecifications, ec2wire.UnsuccessfulInstanceCreditSpecificationItem{
				InstanceId: p(id), Error: &ec2wire.UnsuccessfulInstanceCreditSpecificationItemError{Code: p(e.Code), Message: p(e.Message)},
			})
			continue
		}
		tx.instances.Mut(id).CPUCredits = credits
		out.SuccessfulInstanceCreditSpecifications = append(out.SuccessfulInstanceCreditSpecifications, ec2wire.SuccessfulInstanceCreditSpecificationItem{InstanceId: p(id)})
	}
	return out, nil
}

// checkCreditChange says why an instance's credit option cannot change.
func (tx *Tx) checkCreditChange(id string) error {
	inst, err := tx.getInstance(id)
	if err != nil {
		return err
	}
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be modified.", inst.ID)
	}
	if creditOption(inst.InstanceType) == "" {
		return errorf(CodeInvalidInstanceType, "The instance type %s does not support CPU credits: only burstable performance instances (T2, T3, T3a, T4g) do.", inst.InstanceType)
	}
	return nil
}

// instanceAutoRecovery is an instance's automatic recovery option.
func instanceAutoRecovery(i *Instance) string {
	if i.AutoRecovery == "" {
		return "default"
	}
	return i.AutoRecovery
}

// ModifyInstanceMaintenanceOptions sets an instance's automatic recovery
// (default or disabled).
func (tx *Tx) ModifyInstanceMaintenanceOptions(in *ec2wire.ModifyInstanceMaintenanceOptionsInput) (*ec2wire.ModifyInstanceMaintenanceOptionsOutput, error) {
	inst, err := tx.getInstance(str(in.InstanceId))
	if err != nil {
		return nil, err
	}
	v := str(in.AutoRecovery)
	switch v {
	case "":
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter AutoRecovery")
	case "default", "disabled":
	default:
		return nil, errorf(CodeInvalidParameterValue, "Value (%s) for parameter autoRecovery is invalid. Valid values are 'default' and 'disabled'.", v)
	}
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be modified.", inst.ID)
	}
	tx.instances.Mut(inst.ID).AutoRecovery = v
	return &ec2wire.ModifyInstanceMaintenanceOptionsOutput{InstanceId: p(inst.ID), AutoRecovery: p(v)}, nil
}

// GetPasswordData answers an instance's encrypted Windows administrator
// password. Every image here is Linux: as AWS answers for those, the
// password is empty (its timestamp is the launch's).
func (tx *Tx) GetPasswordData(in *ec2wire.GetPasswordDataInput) (*ec2wire.GetPasswordDataOutput, error) {
	inst, err := tx.getInstance(str(in.InstanceId))
	if err != nil {
		return nil, err
	}
	return &ec2wire.GetPasswordDataOutput{InstanceId: p(inst.ID), PasswordData: p(""), Timestamp: ec2wire.NewTime(inst.LaunchTime)}, nil
}

// MonitorInstances turns detailed monitoring on: the reply says pending, as
// AWS's; DescribeInstances shows it enabled in the same change.
func (tx *Tx) MonitorInstances(in *ec2wire.MonitorInstancesInput) (*ec2wire.MonitorInstancesOutput, error) {
	out, err := tx.setMonitoring(in.InstanceIds, true)
	if err != nil {
		return nil, err
	}
	return &ec2wire.MonitorInstancesOutput{InstanceMonitorings: out}, nil
}

// UnmonitorInstances turns detailed monitoring off (the reply says
// disabling; DescribeInstances shows it disabled).
func (tx *Tx) UnmonitorInstances(in *ec2wire.UnmonitorInstancesInput) (*ec2wire.UnmonitorInstancesOutput, error) {
	out, err := tx.setMonitoring(in.InstanceIds, false)
	if err != nil {
		return nil, err
	}
	return &ec2wire.UnmonitorInstancesOutput{InstanceMonitorings: out}, nil
}

// setMonitoring sets the detailed monitoring of instances that are not
// terminated, all or none.
func (tx *Tx) setMonitoring(ids []string, on bool) ([]ec2wire.InstanceMonitoring, error) {
	insts, err := tx.instancesByID(ids)
	if err != nil {
		return nil, err
	}
	state := "disabling"
	if on {
		state = "pending"
	}
	out := []ec2wire.InstanceMonitoring{}
	for _, inst := range insts {
		if inst.State == "terminated" || inst.State == "shutting-down" {
			return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be monitored.", inst.ID)
		}
		if inst.Monitoring != on {
			tx.instances.Mut(inst.ID).Monitoring = on
		}
		out = append(out, ec2wire.InstanceMonitoring{InstanceId: p(inst.ID), Monitoring: &ec2wire.Monitoring{State: p(state)}})
	}
	return out, nil
}

// launchCreditAndRecovery reads RunInstances' CreditSpecification and
// MaintenanceOptions. A credit option given for a type that is not
// burstable is kept and not reported, as the type's is "".
func launchCreditAndRecovery(in *ec2wire.RunInstancesInput) (credits, recovery string, err error) {
	if in.CreditSpecification != nil {
		credits = str(in.CreditSpecification.CpuCredits)
		if credits != "standard" && credits != "unlimited" {
			return "", "", errorf(CodeInvalidParameterValue, "Value (%s) for parameter cpuCredits is invalid. Valid values are 'standard' and 'unlimited'.", credits)
		}
	}
	if in.MaintenanceOptions != nil {
		recovery = str(in.MaintenanceOptions.AutoRecovery)
		if recovery != "" && recovery != "default" && recovery != "disabled" {
			return "", "", errorf(CodeInvalidParameterValue, "Value (%s) for parameter autoRecovery is invalid. Valid values are 'default' and 'disabled'.", recovery)
		}
	}
	return credits, recovery, nil
}

// capacityPreference checks a CapacityReservationSpecification: a
// preference, open or none. There are no Capacity Reservations here to
// target.
func capacityPreference(spec *ec2wire.CapacityReservationSpecification) (string, error) {
	pref := str(spec.CapacityReservationPreference)
	switch {
	case pref != "" && spec.CapacityReservationTarget != nil:
		return "", errorf(CodeInvalidParameterCombination, "You can specify only one of CapacityReservationPreference and CapacityReservationTarget.")
	case spec.CapacityReservationTarget != nil:
		return "", errorf(CodeUnsupportedOperation, "Capacity Reservations are not supported by this server.")
	case pref == "":
		return "", errorf(CodeMissingParameter, "The request must contain the parameter CapacityReservationPreference or CapacityReservationTarget")
	case pref != "open" && pref != "none":
		return "", errorf(CodeInvalidParameterValue, "Value (%s) for parameter capacityReservationPreference is invalid. Valid values are 'open' and 'none'.", pref)
	}
	return pref, nil
}

// instanceCapacityPreference is an instance's Capacity Reservation
// preference ("open" unless it was launched or modified to "none").
func instanceCapacityPreference(i *Instance) string {
	if i.CapacityPreference == "" {
		return "open"
	}
	return i.CapacityPreference
}

// ModifyInstanceCapacityReservationAttributes sets the Capacity Reservation
// preference of a stopped instance, as AWS.
func (tx *Tx) ModifyInstanceCapacityReservationAttributes(in *ec2wire.ModifyInstanceCapacityReservationAttributesInput) (*ec2wire.ModifyInstanceCapacityReservationAttributesOutput, error) {
	inst, err := tx.getInstance(str(in.InstanceId))
	if err != nil {
		return nil, err
	}
	pref, err := capacityPreference(in.CapacityReservationSpecification)
	if err != nil {
		return nil, err
	}
	if inst.State != "stopped" {
		return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in the 'stopped' state.", inst.ID)
	}
	tx.instances.Mut(inst.ID).CapacityPreference = pref
	return &ec2wire.ModifyInstanceCapacityReservationAttributesOutput{Return: p(true)}, nil
}

// checkInstanceOptions verifies that every instance's stored options are
// values AWS has, and every volume's configuration one its type allows.
func (d *db) checkInstanceOptions(bad func(format string, args ...any)) {
	for _, i := range d.instances.rows {
		if !slices.Contains([]string{"", "standard", "unlimited"}, i.CPUCredits) ||
			!slices.Contains([]string{"", "default", "disabled"}, i.AutoRecovery) ||
			!slices.Contains([]string{"", "open", "none"}, i.CapacityPreference) {
			bad("instance %s options: credits %q, auto recovery %q, capacity preference %q", i.ID, i.CPUCredits, i.AutoRecovery, i.CapacityPreference)
		}
	}
	for _, v := range d.volumes.rows {
		s := volumeSpec{size: v.Size, typ: v.Type, iops: v.Iops, tput: v.Throughput}
		if v.Type == "gp2" {
			s.iops = 0 // derived
		}
		if err := checkVolume(&s); err != nil || s.iops != v.Iops || s.tput != v.Throughput {
			bad("volume %s: %d GiB %s, %d IOPS, %d MiB/s is not a valid configuration (%v)", v.ID, v.Size, v.Type, v.Iops, v.Throughput, err)
		}
	}
}

// ModifyPrivateDnsNameOptions changes an instance's hostname options with
// the rules of its subnet (those RunInstances applies). The hostname type
// changes only while the instance is stopped, as AWS; the resource-name
// DNS records at any time.
func (tx *Tx) ModifyPrivateDnsNameOptions(in *ec2wire.ModifyPrivateDnsNameOptionsInput) (*ec2wire.ModifyPrivateDnsNameOptionsOutput, error) {
	if in.InstanceId == nil {
		return nil, errorf(CodeMissingParameter, "The request must contain the parameter InstanceId")
	}
	inst, err := tx.getInstance(*in.InstanceId)
	if err != nil {
		return nil, err
	}
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be modified.", inst.ID)
	}
	cur := inst.DNSNames
	if cur.HostnameType == "" {
		cur.HostnameType = "ip-name"
	}
	d := cur.with(in.PrivateDnsHostnameType, in.EnableResourceNameDnsARecord, in.EnableResourceNameDnsAAAARecord)
	if d.HostnameType != cur.HostnameType && inst.State != "stopped" {
		return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in the 'stopped' state.", inst.ID)
	}
	if s := tx.subnets.Get(inst.SubnetID); s != nil {
		if err := checkDNSNames(s, d); err != nil {
			return nil, err
		}
	}
	if d != cur {
		tx.instances.Mut(inst.ID).DNSNames = d
	}
	return &ec2wire.ModifyPrivateDnsNameOptionsOutput{Return: p(true)}, nil
}

// CodeUnsupportedHibernationConfiguration refuses hibernation an instance
// cannot have.
const CodeUnsupportedHibernationConfiguration = "UnsupportedHibernationConfiguration"

func init() { Codes = append(Codes, CodeUnsupportedHibernationConfiguration) }

// checkHibernation is AWS's hibernation prerequisite that a launch can
// break: the root volume (first of vols) must be encrypted.
func checkHibernation(hibernation bool, vols []volumeSpec) error {
	if hibernation && (len(vols) == 0 || !vols[0].encrypted) {
		return errorf(CodeUnsupportedHibernationConfiguration, "For hibernation, the root device volume must be encrypted.")
	}
	return nil
}
