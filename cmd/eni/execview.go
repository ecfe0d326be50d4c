package main

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/eni-net/eni/internal/taskrun"
)

// runInOSView runs argv in the namespace ns of target (an instance id or "internet")
// with the instance's OS view (internal/taskrun): its own /sys, its private DNS name as
// hostname, and its own /etc/resolv.conf and /etc/hosts from its VPC vpc
// (internal/taskrun); signals sent to eni go to the command, the command dies with eni,
// and eni exits as the command did.
func runInOSView(ns, target string, vpc taskrun.VPCNet, argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	forward, stop := catchSignals()
	defer stop()
	release, err := taskrun.StartOSView(ns, cmd, func() (string, taskrun.EtcFiles) {
		if target == "internet" {
			return target, taskrun.EtcFiles{}
		}
		hostname := target
		ip, err := primaryIPv4()
		if err == nil { // else the instance id
			hostname = taskrun.PrivateDNSName(ip, awsRegion())
		}
		return hostname, taskrun.EtcOf(vpc, awsRegion(), ip)
	})
	if err != nil {
		return fmt.Errorf("exec in %s: %w", ns, err)
	}
	defer release()
	forward(cmd.Process)
	err = cmd.Wait()
	taskrun.ExitAs(err)
	return err
}
