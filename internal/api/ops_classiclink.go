package api

import "github.com/eni-net/eni/internal/core"

// classicLinkOps registers the ClassicLink actions, which answer what AWS
// answers since EC2-Classic was retired.
func classicLinkOps(m map[string]handler) {
	m["DescribeVpcClassicLink"] = read((*core.Tx).DescribeVpcClassicLink)
	m["DescribeVpcClassicLinkDnsSupport"] = read((*core.Tx).DescribeVpcClassicLinkDnsSupport)
	m["DescribeClassicLinkInstances"] = read((*core.Tx).DescribeClassicLinkInstances)
	m["EnableVpcClassicLink"] = write((*core.Tx).EnableVpcClassicLink)
	m["DisableVpcClassicLink"] = write((*core.Tx).DisableVpcClassicLink)
	m["EnableVpcClassicLinkDnsSupport"] = write((*core.Tx).EnableVpcClassicLinkDnsSupport)
	m["DisableVpcClassicLinkDnsSupport"] = write((*core.Tx).DisableVpcClassicLinkDnsSupport)
	m["AttachClassicLinkVpc"] = write((*core.Tx).AttachClassicLinkVpc)
	m["DetachClassicLinkVpc"] = write((*core.Tx).DetachClassicLinkVpc)
}
