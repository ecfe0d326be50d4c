package api

import "github.com/eni-net/eni/internal/core"

// instanceOptionOps registers what Terraform's aws_instance and aws_vpc read
// and modify beyond the instance's networking: CPU credits, automatic
// recovery, Capacity Reservation preference, hostname options, detailed monitoring, the Windows password, VPC tenancy.
func instanceOptionOps(m map[string]handler) {
	m["ModifyInstanceCreditSpecification"] = write((*core.Tx).ModifyInstanceCreditSpecification)
	m["ModifyInstanceMaintenanceOptions"] = write((*core.Tx).ModifyInstanceMaintenanceOptions)
	m["GetPasswordData"] = read((*core.Tx).GetPasswordData)
	m["ModifyVpcTenancy"] = write((*core.Tx).ModifyVpcTenancy)
	m["MonitorInstances"] = write((*core.Tx).MonitorInstances)
	m["UnmonitorInstances"] = write((*core.Tx).UnmonitorInstances)
	m["ModifyInstanceCapacityReservationAttributes"] = write((*core.Tx).ModifyInstanceCapacityReservationAttributes)
	m["ModifyPrivateDnsNameOptions"] = write((*core.Tx).ModifyPrivateDnsNameOptions)
}
