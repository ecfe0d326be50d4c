package main

import (
	"fmt"
	"net/url"
)

// whyNoNamespace explains, from the server at endpoint, why an instance has
// no namespace on this host: eni exec's answer instead of "no such file".
func whyNoNamespace(endpoint, region, instance, ns, prefix string) error {
	state, err := instanceState(endpoint, region, instance)
	switch {
	case err != nil:
		return fmt.Errorf("exec: no namespace %s, and the server at %s did not say why (%v): is eni serve running there, with --dataplane linux and --dataplane-prefix %s?", ns, endpoint, err, prefix)
	case state == "":
		return fmt.Errorf("exec: the server at %s has no instance %s in %s", endpoint, instance, region)
	case state == "running" || state == "pending":
		return fmt.Errorf("exec: instance %s is %s in %s but has no namespace %s on this host: is the server's data plane on (--dataplane linux), with --dataplane-prefix %s and --dataplane-region %s?", instance, state, region, ns, prefix, region)
	}
	return fmt.Errorf("exec: instance %s is %s: only a running instance has a namespace", instance, state)
}

// instanceState asks the server (DescribeInstances, signed for "ec2" when
// the AWS credential chain has a key) for an instance's state; "" if the
// server does not know it.
func instanceState(endpoint, region, instance string) (string, error) {
	var out struct {
		State  []string `xml:"reservationSet>item>instancesSet>item>instanceState>name"`
		Errors []string `xml:"Errors>Error>Code"`
	}
	status, err := ec2Query(newAPIClient("exec", region), endpoint, url.Values{"Action": {"DescribeInstances"}, "InstanceId.1": {instance}}, &out)
	switch {
	case err != nil:
		return "", err
	case len(out.State) == 1:
		return out.State[0], nil
	case len(out.Errors) > 0 && out.Errors[0] == "InvalidInstanceID.NotFound":
		return "", nil
	case len(out.Errors) > 0:
		return "", fmt.Errorf("%s (HTTP %d)", out.Errors[0], status)
	}
	return "", fmt.Errorf("HTTP %d, no instance in the reply", status)
}
