package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/eni-net/eni/internal/taskrun"
)

// runTask is `eni run-task --subnet S [--security-group G]... -- CMD...`
// (internal/taskrun; the eni-run-task binary is the same command, started
// faster), with the SDK's whole credential chain.
func runTask(args []string) error {
	fs, o := taskrun.Flags("eni run-task")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	argv, err := o.Command(fs.Args())
	if err != nil {
		return &usageError{cmd: "run-task", err: err}
	}
	return taskrun.Run(o, argv, newAPIClient("run-task", o.Region))
}

// newAPIClient is a client of the eni command cmd, signing with the credentials
// of the standard AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
// AWS_PROFILE and the shared files, ...) when it finds any, and speaking https://
// too. The instance metadata service is not asked: a role's session credentials
// are never in eni serve's keys.
func newAPIClient(cmd, region string) *taskrun.Client {
	c := taskrun.NewClient(cmd, region, sdkCredentials(cmd, region))
	c.Dial = dialEndpoint
	return c
}

// sdkCredentials are the keys of the environment, else of the SDK's chain; nil
// when there are none.
func sdkCredentials(cmd, region string) taskrun.Credentials {
	if creds := taskrun.EnvCredentials(); creds != nil || !taskrun.MayHaveOtherCredentials() {
		// Keys in the environment, taken as they are without loading the SDK's
		// configuration (milliseconds of a task's start); none at all: the SDK's
		// chain would find none either, unsigned.
		return creds
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	if err != nil {
		fmt.Fprintf(os.Stderr, "eni %s: no AWS configuration (%v); requests are not signed\n", cmd, err)
		return nil
	}
	if cfg.Credentials != nil {
		if _, err := cfg.Credentials.Retrieve(ctx); err == nil {
			return func(ctx context.Context) (taskrun.Keys, error) {
				c, err := cfg.Credentials.Retrieve(ctx)
				return taskrun.Keys{ID: c.AccessKeyID, Secret: c.SecretAccessKey, Token: c.SessionToken}, err
			}
		}
	}
	return nil
}

// dialEndpoint connects to an endpoint's addr that taskrun does not dial itself:
// https:// over TLS, its certificate for host checked against the system's
// roots; http:// to a host name over TCP.
func dialEndpoint(ctx context.Context, scheme, addr, host string) (taskrun.Conn, error) {
	if scheme == "https" {
		d := tls.Dialer{Config: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}}
		return d.DialContext(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// envOr is the variable k, or def when it is empty.
func envOr(k, def string) string { return taskrun.EnvOr(k, def) }
