//go:build !linux

package main

import "errors"

func devClusterCmd([]string) error {
	return errors.New("dev-cluster: needs Linux (network namespaces)")
}
