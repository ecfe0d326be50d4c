// Package console is the web console of `eni serve`: a page at / that draws
// one account's network in one region (VPCs, zones, subnets, instances with
// their ENIs, Elastic IPs, internet gateways, route tables, security groups)
// and redraws it live as the model changes.
//
// It is an edge, like the API: it reads the model through a read-only view
// of the core (the API server's View, so it shows only what is durable),
// renders the EC2 API's own Describe* outputs as JSON, and is told of
// changes by the API server's commit hook, which it passes to the page as
// server-sent events. It holds no EC2 rules and changes nothing.
//
// Routes (everything else goes to the EC2 API):
//
//	GET /                    the page (only without a query string: GET /?Action=… is the API's)
//	GET /console/static/…    its script and style (embedded, no build step)
//	GET /console/login       ?token=… sets the console's cookie, then goes to /
//	GET /console/api/state   ?region=&account=&vpc= the snapshot the page draws (JSON)
//	GET /console/api/events  server-sent events: "change" with the regions changed
package console

import (
	"crypto/subtle"
	"embed"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/eni-net/eni/internal/core"
)

//go:embed static
var static embed.FS

// Options configure a Console.
type Options struct {
	Core *core.Core
	// View reads the model as who (api.Server.View: a read-only view that
	// answers only what is durable).
	View func(who core.Caller, fn func(*core.Tx) error) error
	// Token, if set, is asked of every call of the console's API: the
	// cookie that /console/login?token=… sets, or "Authorization: Bearer".
	Token string
	// LoopbackOnly serves the console to loopback clients only; to others
	// GET / is the API's, as if there were no console.
	LoopbackOnly bool
	// MaxStreams bounds the open event streams (default 64).
	MaxStreams int
	// MaxDrawn bounds the instances, and the ENIs, a snapshot carries
	// (default 2000): a picture of more is unreadable, and its JSON would be
	// megabytes per change. Beyond it they are left out, and the page says
	// so; choosing a VPC draws fewer.
	MaxDrawn int
	Logger   *slog.Logger
}

// Console is the web console's HTTP handler.
type Console struct {
	opt    Options
	mux    *http.ServeMux
	hub    *hub
	assets fs.FS
}

// New returns a Console.
func New(opt Options) *Console {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.MaxStreams <= 0 {
		opt.MaxStreams = 64
	}
	if opt.MaxDrawn <= 0 {
		opt.MaxDrawn = 2000
	}
	assets, _ := fs.Sub(static, "static") // the directory is embedded: Sub does not fail
	c := &Console{opt: opt, hub: newHub(opt.MaxStreams), assets: assets}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.page)
	mux.HandleFunc("GET /console/{$}", c.page)
	mux.HandleFunc("GET /favicon.ico", c.favicon)
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /console/login", c.login)
	mux.Handle("GET /console/api/state", c.authorized(c.state))
	mux.Handle("GET /console/api/events", c.authorized(c.events))
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	c.mux = mux
	return c
}

// Wrap returns a handler that serves the console's routes and hands every
// other request to api unchanged.
func (c *Console) Wrap(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.owns(r) {
			api.ServeHTTP(w, r)
			return
		}
		if msg := c.refuse(r); msg != "" {
			http.Error(w, msg, http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		c.mux.ServeHTTP(w, r)
	})
}

// owns reports whether a request is the console's. The EC2 API answers
// POSTs on any path and GETs with a query string (presigned or query-form
// calls), so the console takes only a bare GET of /, /favicon.ico and
// /console/…; a client the console does not serve gets the API at /.
func (c *Console) owns(r *http.Request) bool {
	p := r.URL.Path
	if p == "/console" || strings.HasPrefix(p, "/console/") {
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if p == "/" && r.URL.RawQuery == "" || p == "/favicon.ico" {
		return !c.opt.LoopbackOnly || loopbackAddr(r.RemoteAddr)
	}
	return false
}

// refuse says why a request may not use the console, or "".
func (c *Console) refuse(r *http.Request) string {
	if c.opt.LoopbackOnly && !loopbackAddr(r.RemoteAddr) {
		return "the ENI console answers loopback clients only (reach it through an SSH tunnel)"
	}
	if c.opt.Token == "" && !literalHost(r.Host) {
		// Without a token, a page of another site could read the console
		// through DNS rebinding (its name resolving to 127.0.0.1): only
		// addresses and localhost are served.
		return "open the ENI console by address (http://127.0.0.1:PORT/) or as localhost, not by name " + sanitize(r.Host)
	}
	return ""
}

// authorized checks the console token, if there is one.
func (c *Console) authorized(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.opt.Token != "" && !c.tokenOK(r) {
			writeJSONError(w, http.StatusUnauthorized, "a console token is required: open the console URL that eni serve printed at start (/console/login?token=…)")
			return
		}
		h(w, r)
	})
}

func (c *Console) tokenOK(r *http.Request) bool {
	got := ""
	if ck, err := r.Cookie(cookieName(r)); err == nil {
		got = ck.Value
	}
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		got = a
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.opt.Token)) == 1
}

// login turns the token of the URL eni serve printed into a cookie, so that
// the page's requests (and its EventSource, which cannot set headers) carry
// it, and takes the token out of the address bar.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if c.opt.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(c.opt.Token)) != 1 {
		http.Error(w, "wrong console token", http.StatusUnauthorized)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: tok, Path: "/console/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// cookieName is per port: browsers share cookies between the ports of a
// host, and two servers on one host have two tokens.
func cookieName(r *http.Request) string {
	_, port, err := net.SplitHostPort(r.Host)
	if err != nil || port == "" {
		port = "80"
	}
	return "eni_console_" + port
}

func (c *Console) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, c.assets, "index.html")
}

func (c *Console) favicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "max-age=86400")
	http.ServeFileFS(w, r, c.assets, "favicon.svg")
}

// Notify tells the open pages that change sets of these regions are
// durable: it is the API server's OnChange. It does not block.
func (c *Console) Notify(regions []string) {
	if c == nil {
		return
	}
	c.hub.notify(regions)
}

// Token is the token the console asks for ("" if none).
func (c *Console) Token() string { return c.opt.Token }

// Close ends every open event stream (call it when the HTTP server shuts
// down: http.Server.RegisterOnShutdown).
func (c *Console) Close() { c.hub.close() }

// loopbackAddr reports whether a remote address (host:port) is loopback.
func loopbackAddr(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// literalHost reports whether a Host header names the server by address or
// as localhost.
func literalHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	h = strings.ToLower(h)
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// sanitize keeps a client's text printable and short for a message.
func sanitize(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
