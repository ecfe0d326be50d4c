package main

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"

	"github.com/eni-net/eni/internal/taskrun"
)

// The EC2 calls of eni exec (its instance's VPC, for the command's resolv.conf;
// why it has no namespace): eni-run-task links no XML, and a task's reply names its
// VPC.

// ec2Query calls an EC2 Query action on the server at endpoint (signed for "ec2")
// and decodes its XML reply into out: an error reply too, with the HTTP status
// returned.
func ec2Query(c *taskrun.Client, endpoint string, form url.Values, out any) (int, error) {
	form.Set("Version", "2016-11-15")
	status, raw, err := c.Do("POST", endpoint, "application/x-www-form-urlencoded; charset=utf-8", "ec2", []byte(form.Encode()))
	if err != nil {
		return 0, err
	}
	if err := xml.Unmarshal(raw, out); err != nil {
		return status, fmt.Errorf("%s: HTTP %d, not an EC2 reply", form.Get("Action"), status)
	}
	return status, nil
}

// vpcNetOf asks the server at endpoint for the VPC of instance id ("i-…") or of ENI
// id ("eni-…", a task's); zero when it does not answer.
func vpcNetOf(c *taskrun.Client, endpoint, id string) taskrun.VPCNet {
	vpc, err := vpcOf(c, endpoint, id)
	if err != nil {
		return taskrun.VPCNet{}
	}
	n, err := vpcNet(c, endpoint, vpc)
	if err != nil {
		return taskrun.VPCNet{}
	}
	return n
}

// vpcOf is the VPC of an instance or ENI.
func vpcOf(c *taskrun.Client, endpoint, id string) (string, error) {
	if strings.HasPrefix(id, "eni-") {
		var out struct {
			VPC []string `xml:"networkInterfaceSet>item>vpcId"`
		}
		if err := ec2Action(c, endpoint, url.Values{"Action": {"DescribeNetworkInterfaces"}, "NetworkInterfaceId.1": {id}}, &out); err != nil || len(out.VPC) != 1 {
			return "", fmt.Errorf("no VPC for %s: %v", id, err)
		}
		return out.VPC[0], nil
	}
	var out struct {
		VPC []string `xml:"reservationSet>item>instancesSet>item>vpcId"`
	}
	if err := ec2Action(c, endpoint, url.Values{"Action": {"DescribeInstances"}, "InstanceId.1": {id}}, &out); err != nil || len(out.VPC) != 1 {
		return "", fmt.Errorf("no VPC for %s: %v", id, err)
	}
	return out.VPC[0], nil
}

// vpcNet is a VPC's primary block and DHCP options.
func vpcNet(c *taskrun.Client, endpoint, vpc string) (taskrun.VPCNet, error) {
	var v struct {
		CIDR []string `xml:"vpcSet>item>cidrBlock"`
		DHCP []string `xml:"vpcSet>item>dhcpOptionsId"`
	}
	if err := ec2Action(c, endpoint, url.Values{"Action": {"DescribeVpcs"}, "VpcId.1": {vpc}}, &v); err != nil || len(v.CIDR) != 1 {
		return taskrun.VPCNet{}, fmt.Errorf("VPC %s: %v", vpc, err)
	}
	n := taskrun.VPCNet{CIDR: v.CIDR[0]}
	if len(v.DHCP) != 1 || v.DHCP[0] == "" || v.DHCP[0] == "default" {
		return n, nil
	}
	var d struct {
		Configs []struct {
			Key    string   `xml:"key"`
			Values []string `xml:"valueSet>item>value"`
		} `xml:"dhcpOptionsSet>item>dhcpConfigurationSet>item"`
	}
	if err := ec2Action(c, endpoint, url.Values{"Action": {"DescribeDhcpOptions"}, "DhcpOptionsId.1": {v.DHCP[0]}}, &d); err != nil {
		return n, err
	}
	n.DHCP = map[string][]string{}
	for _, cf := range d.Configs {
		n.DHCP[cf.Key] = cf.Values
	}
	return n, nil
}

// ec2Action is ec2Query with an error for a reply other than 200.
func ec2Action(c *taskrun.Client, endpoint string, form url.Values, out any) error {
	status, err := ec2Query(c, endpoint, form, out)
	if err == nil && status != 200 {
		err = fmt.Errorf("%s: HTTP %d", form.Get("Action"), status)
	}
	return err
}
