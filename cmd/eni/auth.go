package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/eni-net/eni/internal/sigv4"
)

// authOptions are the serve flags that decide how requests are authenticated.
type authOptions struct {
	Mode          string // none or sigv4
	Credentials   string // file of "ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID" lines
	Listen        string
	AllowInsecure bool // --allow-insecure-bind
	// Session checks session tokens (the instance credentials of the
	// metadata service, internal/iamcreds); nil refuses them.
	Session func(accessKeyID, token string) (sigv4.Key, error)
}

// authenticator returns the api.Options.Authenticate function for the flags
// (nil for --auth none) and a description for the startup log.
func authenticator(o authOptions) (func(r *http.Request, body []byte) (string, error), string, error) {
	switch o.Mode {
	case "none":
		if o.Credentials != "" {
			return nil, "", fmt.Errorf("--credentials is only used with --auth sigv4")
		}
		if !loopbackListen(o.Listen) && !o.AllowInsecure {
			return nil, "", fmt.Errorf("--auth none on %s would let anyone on the network act as the default account: "+
				"listen on a loopback address, use --auth sigv4 --credentials FILE, or pass --allow-insecure-bind", o.Listen)
		}
		return nil, "none", nil
	case "sigv4":
		if o.Credentials == "" {
			return nil, "", fmt.Errorf("--auth sigv4 needs --credentials FILE (lines of \"ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID\")")
		}
		keys, err := sigv4.LoadFile(o.Credentials)
		if err != nil {
			return nil, "", fmt.Errorf("--credentials: %w", err)
		}
		if len(keys) == 0 {
			return nil, "", fmt.Errorf("--credentials %s: no keys", o.Credentials)
		}
		v := &sigv4.Verifier{Keys: keys, Now: time.Now, Session: o.Session} // the API checks the scope's service per action (ec2, or sts for GetCallerIdentity)
		return v.Verify, fmt.Sprintf("sigv4 (%d keys)", len(keys)), nil
	default:
		return nil, "", fmt.Errorf("--auth %q: want none or sigv4", o.Mode)
	}
}

// loopbackListen reports whether a listen address only accepts local
// connections. An empty host (":4566") or a wildcard listens everywhere; a
// host name other than localhost may resolve to anything, so it counts as
// not loopback.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
