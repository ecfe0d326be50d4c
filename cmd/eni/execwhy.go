package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
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
	form := url.Values{"Action": {"DescribeInstances"}, "Version": {"2016-11-15"}, "InstanceId.1": {instance}}
	body := []byte(form.Encode())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if c := newAPIClient("exec", region); c.creds != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ec2", region, time.Now()); err != nil {
			return "", err
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	var out struct {
		State  []string `xml:"reservationSet>item>instancesSet>item>instanceState>name"`
		Errors []string `xml:"Errors>Error>Code"`
	}
	if err := xml.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("HTTP %d, not an EC2 reply", resp.StatusCode)
	}
	switch {
	case len(out.State) == 1:
		return out.State[0], nil
	case len(out.Errors) > 0 && out.Errors[0] == "InvalidInstanceID.NotFound":
		return "", nil
	case len(out.Errors) > 0:
		return "", fmt.Errorf("%s (HTTP %d)", out.Errors[0], resp.StatusCode)
	}
	return "", fmt.Errorf("HTTP %d, no instance in the reply", resp.StatusCode)
}
