// Package taskapi is the wire format of the server's task API (internal/api's
// tasks.go), which `eni run-task` calls: plain types, shared by the server and
// the client without linking either into the other.
package taskapi

// Service is the service name task API requests are signed for.
const Service = "eni"

// Path is where the task API is served.
const Path = "/eni/v1/tasks"

// Request creates a task.
type Request struct {
	Region           string   `json:"region"`
	SubnetID         string   `json:"subnetId"`
	SecurityGroupIDs []string `json:"securityGroupIds"`
}

// Reply describes a task.
type Reply struct {
	TaskID             string `json:"taskId"`
	NetworkInterfaceID string `json:"networkInterfaceId"`
	PrivateIPAddress   string `json:"privateIpAddress,omitempty"`
	MACAddress         string `json:"macAddress,omitempty"`
	Ready              bool   `json:"ready"`
	// LeaseSeconds is how long the task lives unless renewed (PUT).
	LeaseSeconds float64 `json:"leaseSeconds,omitempty"`
	// VPCCIDR is the primary block of the task's VPC and DHCPOptions its DHCP
	// options (key -> values; null: the VPC has none, "default"), given by a
	// create: what the task's resolv.conf is made of. A server that does not give
	// them leaves VPCCIDR empty.
	VPCCIDR     string              `json:"vpcCidrBlock,omitempty"`
	DHCPOptions map[string][]string `json:"dhcpOptions"`
}
