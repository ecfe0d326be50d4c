package main

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"

	"github.com/eni-net/eni/internal/api"
	"github.com/eni-net/eni/internal/console"
	"github.com/eni-net/eni/internal/core"
)

// consoleOptions are the serve flags the web console depends on.
type consoleOptions struct {
	Enabled  bool
	Token    string // --console-token (or ENI_CONSOLE_TOKEN)
	AuthMode string // --auth
}

// newConsole decides how the web console is served. Under --auth none it
// answers whoever may call the API (a loopback address unless
// --allow-insecure-bind): the API shows them as much. Under --auth sigv4 the
// console shows every account, so it answers loopback clients only and asks
// for a token (--console-token, else a random one for this run, printed at
// start as a login URL). It returns nil when disabled.
func newConsole(o consoleOptions, c *core.Core, srv *api.Server) *console.Console {
	if !o.Enabled {
		return nil
	}
	opt := console.Options{Core: c, View: srv.View, Token: o.Token}
	if o.AuthMode == "sigv4" {
		opt.LoopbackOnly = true
		if opt.Token == "" {
			var b [16]byte
			_, _ = rand.Read(b[:]) // crypto/rand does not fail on Linux
			opt.Token = hex.EncodeToString(b[:])
		}
	}
	return console.New(opt)
}

// consoleURL is where to open the console of a server listening on addr
// (with the token, if one is asked for).
func consoleURL(addr net.Addr, token string) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	u := "http://" + net.JoinHostPort(host, port) + "/"
	if token != "" {
		u += "console/login?token=" + url.QueryEscape(token)
	}
	return u
}
