//go:build !linux

package taskrun

import "context"

// dialDirect is Linux's: elsewhere the Client's Dial connects.
func dialDirect(context.Context, string, string) (Conn, bool, error) { return nil, false, nil }

// DialsItself is Linux's: elsewhere the Client's Dial connects.
func DialsItself(string) bool { return false }
