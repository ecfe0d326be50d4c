package core

import (
	"strconv"
	"time"

	"github.com/eni-net/eni/internal/ec2wire"
)

// Status checks. AWS runs a system and an instance reachability check on
// running instances; both are "initializing" for the first minutes after a
// start and "ok" (reachability "passed") once they pass. ENI has no failing
// hardware: an instance's checks pass StatusCheckDelay after it last started
// (its LaunchTime, which StartInstances moves as in AWS), computed from the
// transaction's time, so the status settles without anything having to
// happen and no waiter (instance_status_ok) can hang. Instances that are not
// running have no checks: "not-applicable", as AWS shows them.

// StatusCheckDelay is how long a started instance's status checks are
// "initializing" before they are "ok".
const StatusCheckDelay = 10 * time.Second

// instanceCheck returns the status of both checks of the instance and the
// reachability detail ("" when not applicable).
func (tx *Tx) instanceCheck(i *Instance) (status, reachability string) {
	switch {
	case i.State != "running":
		return "not-applicable", ""
	case tx.hostImpaired(i): // its host's agent lost its lease
		return "impaired", "failed"
	case tx.now.Before(i.LaunchTime.Add(StatusCheckDelay)):
		return "initializing", "initializing"
	}
	return "ok", "passed"
}

// instanceCheckOut renders one check summary.
func instanceCheckOut(status, reachability string) *ec2wire.InstanceStatusSummary {
	out := &ec2wire.InstanceStatusSummary{Status: p(status)}
	if reachability != "" {
		out.Details = []ec2wire.InstanceStatusDetails{{Name: p("reachability"), Status: p(reachability)}}
	}
	return out
}

// instanceStatusFilters are DescribeInstanceStatus' filters; instances have
// no scheduled events, so the event filters match nothing.
func (tx *Tx) instanceStatusFilters() filterSet[Instance] {
	status := func(i *Instance) []string { s, _ := tx.instanceCheck(i); return []string{s} }
	reach := func(i *Instance) []string {
		if _, r := tx.instanceCheck(i); r != "" {
			return []string{r}
		}
		return nil
	}
	none := func(*Instance) []string { return nil }
	return filterSet[Instance]{
		"availability-zone":            func(i *Instance) []string { return []string{i.AZ} },
		"instance-state-name":          func(i *Instance) []string { return []string{i.State} },
		"instance-state-code":          func(i *Instance) []string { return []string{strconv.Itoa(int(instanceStateCodes[i.State]))} },
		"instance-status.status":       status,
		"instance-status.reachability": reach,
		"system-status.status":         status,
		"system-status.reachability":   reach,
		"event.code":                   none,
		"event.description":            none,
		"event.instance-event-id":      none,
		"event.not-after":              none,
		"event.not-before":             none,
		"event.not-before-deadline":    none,
	}
}

// DescribeInstanceStatus describes the status checks of the caller's running
// instances, or of all of them with IncludeAllInstances.
func (tx *Tx) DescribeInstanceStatus(in *ec2wire.DescribeInstanceStatusInput) (*ec2wire.DescribeInstanceStatusOutput, error) {
	if len(in.InstanceIds) > 0 && in.MaxResults != nil {
		return nil, errorf(CodeInvalidParameterCombination, "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	m, err := newMatcher(tx.instanceStatusFilters(), nil, in.Filters)
	if err != nil {
		return nil, err
	}
	if _, err := tx.instancesByID(in.InstanceIds); err != nil {
		return nil, err
	}
	all := boolv(in.IncludeAllInstances)
	items := tx.instances.Sorted(func(i *Instance) bool {
		return i.Owner == tx.Account && (all || i.State == "running") &&
			(len(in.InstanceIds) == 0 || contains(in.InstanceIds, i.ID)) && m.match(i)
	})
	page, next, err := paginate(items, func(i *Instance) string { return i.ID }, in.MaxResults, in.NextToken, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2wire.DescribeInstanceStatusOutput{NextToken: next, InstanceStatuses: []ec2wire.InstanceStatus{}}
	for _, i := range page {
		status, reach := tx.instanceCheck(i)
		out.InstanceStatuses = append(out.InstanceStatuses, ec2wire.InstanceStatus{
			InstanceId: p(i.ID), AvailabilityZone: p(i.AZ), InstanceState: instanceStateOut(i.State),
			InstanceStatus: instanceCheckOut(status, reach), SystemStatus: instanceCheckOut(status, reach),
		})
	}
	return out, nil
}

// RebootInstances reboots running instances. Nothing of the model changes
// (a reboot keeps the instance running with its addresses and volumes);
// terminated instances are ignored, as AWS ignores them.
func (tx *Tx) RebootInstances(in *ec2wire.RebootInstancesInput) (*ec2wire.RebootInstancesOutput, error) {
	insts, err := tx.instancesByID(in.InstanceIds)
	if err != nil {
		return nil, err
	}
	for _, i := range insts {
		if i.State != "running" && i.State != "terminated" {
			return nil, errorf(CodeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be rebooted.", i.ID)
		}
	}
	return &ec2wire.RebootInstancesOutput{Return: p(true)}, nil
}
