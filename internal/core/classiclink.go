package core

import "github.com/eni-net/eni/internal/ec2wire"

// ClassicLink linked EC2-Classic instances to VPCs. AWS retired EC2-Classic
// (and with it ClassicLink) in 2022; since then every ClassicLink action
// answers UnsupportedOperation, and tools (Ansible's ec2_vpc_net, older
// Terraform providers) call DescribeVpcClassicLink and
// DescribeVpcClassicLinkDnsSupport on every VPC and treat exactly that error
// as "ClassicLink disabled". ENI answers as AWS does today.

// classicLinkUnsupported is AWS's answer to every ClassicLink action.
func classicLinkUnsupported() error {
	return errorf(CodeUnsupportedOperation, "The functionality you requested is not available in this region.")
}

// DescribeVpcClassicLink answers that ClassicLink is not available.
func (tx *Tx) DescribeVpcClassicLink(*ec2wire.DescribeVpcClassicLinkInput) (*ec2wire.DescribeVpcClassicLinkOutput, error) {
	return nil, classicLinkUnsupported()
}

// DescribeVpcClassicLinkDnsSupport answers that ClassicLink is not available.
func (tx *Tx) DescribeVpcClassicLinkDnsSupport(*ec2wire.DescribeVpcClassicLinkDnsSupportInput) (*ec2wire.DescribeVpcClassicLinkDnsSupportOutput, error) {
	return nil, classicLinkUnsupported()
}

// EnableVpcClassicLink answers that ClassicLink is not available.
func (tx *Tx) EnableVpcClassicLink(*ec2wire.EnableVpcClassicLinkInput) (*ec2wire.EnableVpcClassicLinkOutput, error) {
	return nil, classicLinkUnsupported()
}

// DisableVpcClassicLink answers that ClassicLink is not available.
func (tx *Tx) DisableVpcClassicLink(*ec2wire.DisableVpcClassicLinkInput) (*ec2wire.DisableVpcClassicLinkOutput, error) {
	return nil, classicLinkUnsupported()
}

// EnableVpcClassicLinkDnsSupport answers that ClassicLink is not available.
func (tx *Tx) EnableVpcClassicLinkDnsSupport(*ec2wire.EnableVpcClassicLinkDnsSupportInput) (*ec2wire.EnableVpcClassicLinkDnsSupportOutput, error) {
	return nil, classicLinkUnsupported()
}

// DisableVpcClassicLinkDnsSupport answers that ClassicLink is not available.
func (tx *Tx) DisableVpcClassicLinkDnsSupport(*ec2wire.DisableVpcClassicLinkDnsSupportInput) (*ec2wire.DisableVpcClassicLinkDnsSupportOutput, error) {
	return nil, classicLinkUnsupported()
}

// AttachClassicLinkVpc answers that ClassicLink is not available.
func (tx *Tx) AttachClassicLinkVpc(*ec2wire.AttachClassicLinkVpcInput) (*ec2wire.AttachClassicLinkVpcOutput, error) {
	return nil, classicLinkUnsupported()
}

// DetachClassicLinkVpc answers that ClassicLink is not available.
func (tx *Tx) DetachClassicLinkVpc(*ec2wire.DetachClassicLinkVpcInput) (*ec2wire.DetachClassicLinkVpcOutput, error) {
	return nil, classicLinkUnsupported()
}

// DescribeClassicLinkInstances answers that ClassicLink is not available.
func (tx *Tx) DescribeClassicLinkInstances(*ec2wire.DescribeClassicLinkInstancesInput) (*ec2wire.DescribeClassicLinkInstancesOutput, error) {
	return nil, classicLinkUnsupported()
}
