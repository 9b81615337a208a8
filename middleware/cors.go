package middleware

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rs/cors"
)

// CORSOption configures CORS. A malformed value panics where the option
// is built, as forge's other setup mistakes do.
type CORSOption func(*corsConfig)

type corsConfig struct {
	opts   cors.Options
	maxAge time.Duration
}

// CORSOrigins adds origins that may read responses cross-origin, as
// "scheme://host[:port]" without a path. One '*' may stand for leading
// subdomains ("https://*.example.com" matches https://a.example.com and
// https://a.b.example.com, not https://example.com) or for the port
// ("http://localhost:*"); "*" alone allows every origin, without
// credentials. Origins compare case-insensitively. A malformed origin (a
// path, a trailing slash, a misplaced '*', "null") panics.
func CORSOrigins(origins ...string) CORSOption {
	for _, o := range origins {
		if err := checkCORSOrigin(o); err != nil {
			panic(err.Error())
		}
	}
	origins = slices.Clone(origins)
	return func(c *corsConfig) { c.opts.AllowedOrigins = append(c.opts.AllowedOrigins, origins...) }
}

// CORSMethods sets the methods cross-origin requests may use; the default
// is GET, HEAD and POST. Methods are case-sensitive, as in HTTP.
func CORSMethods(methods ...string) CORSOption {
	for _, m := range methods {
		if !isToken(m) {
			panic(fmt.Sprintf("forge: CORS: invalid method %q", m))
		}
	}
	methods = slices.Clone(methods)
	return func(c *corsConfig) { c.opts.AllowedMethods = append(c.opts.AllowedMethods, methods...) }
}

// CORSHeaders sets the request headers cross-origin requests may send
// beyond the CORS-safelisted ones; the default is Accept, Content-Type and
// X-Requested-With. A browser sending a bearer token needs "Authorization"
// here. "*" allows any header.
func CORSHeaders(headers ...string) CORSOption {
	headers = checkHeaderNames(headers)
	return func(c *corsConfig) { c.opts.AllowedHeaders = append(c.opts.AllowedHeaders, headers...) }
}

// CORSExposedHeaders lists the response headers that cross-origin scripts
// may read beyond the CORS-safelisted ones (X-Request-Id, Retry-After...).
func CORSExposedHeaders(headers ...string) CORSOption {
	headers = checkHeaderNames(headers)
	return func(c *corsConfig) { c.opts.ExposedHeaders = append(c.opts.ExposedHeaders, headers...) }
}

// CORSCredentials lets cross-origin requests carry cookies and HTTP
// authentication, and their scripts read the responses. It cannot be
// combined with the "*" origin.
func CORSCredentials() CORSOption {
	return func(c *corsConfig) { c.opts.AllowCredentials = true }
}

// CORSMaxAge lets browsers cache a preflight's answer for d (rounded up to
// whole seconds; browsers cap it, Chromium at 2 hours). Without it browsers
// cache it for 5 seconds. A negative d panics.
func CORSMaxAge(d time.Duration) CORSOption {
	if d < 0 {
		panic(fmt.Sprintf("forge: CORS: negative max age %v", d))
	}
	return func(c *corsConfig) { c.maxAge = d }
}

// checkHeaderNames panics unless every name is a header name or "*", and
// returns a copy of names.
func checkHeaderNames(names []string) []string {
	for _, h := range names {
		if h != "*" && !isToken(h) {
			panic(fmt.Sprintf("forge: CORS: invalid header name %q", h))
		}
	}
	return slices.Clone(names)
}

// CORS returns middleware that answers CORS preflight requests and adds the
// CORS response headers for the allowed origins, built on
// github.com/rs/cors. Its options check their values where they are
// built; CORS itself panics, as forge's setup mistakes do, when no origin
// is given or credentials are combined with the "*" origin.
//
// Use it on the root router (App.Router().Use): a preflight is an OPTIONS
// request, which reaches route middleware only for routes that accept
// OPTIONS; on the root it is answered (204) before routing.
//
// CORS only tells browsers which responses a page from another origin may
// read; it refuses no request. A request from a disallowed origin is still
// served, just without the headers. Protection against cross-site requests
// that change state is another concern (net/http's CrossOriginProtection,
// tokens in headers rather than cookies).
//
// WebSocket handshakes are not governed by CORS: browsers send them with an
// Origin header but without a preflight, and never stop a page from
// reading a WebSocket. The server must check the Origin itself, which forge
// does on every WebSocket route before the upgrade: same host by default,
// the allow-list of the route option WithOrigins otherwise (with the same
// wildcard style). Allowing an origin here does not allow it there; a page
// served from another origin that uses both REST and WebSocket routes
// needs both settings.
func CORS(opts ...CORSOption) func(http.Handler) http.Handler {
	var c corsConfig
	for _, o := range opts {
		if o == nil {
			panic("forge: CORS: nil CORSOption")
		}
		o(&c)
	}
	if len(c.opts.AllowedOrigins) == 0 {
		panic("forge: CORS: no allowed origin (use CORSOrigins)")
	}
	if c.opts.AllowCredentials && slices.Contains(c.opts.AllowedOrigins, "*") {
		panic(`forge: CORS: the "*" origin cannot be combined with credentials: list the origins`)
	}
	if c.maxAge > 0 {
		c.opts.MaxAge = int((c.maxAge + time.Second - 1) / time.Second)
	}
	return cors.New(c.opts).Handler
}

// checkCORSOrigin accepts "*" and "scheme://host[:port]" with at most one
// '*' for leading subdomains or the port, the shapes rs/cors matches
// safely. A '*' anywhere else would match too much: "https://*example.com"
// matches https://evilexample.com.
func checkCORSOrigin(o string) error {
	if o == "*" {
		return nil
	}
	bad := func(why string) error { return fmt.Errorf("forge: CORS: origin %q %s", o, why) }
	if o == "null" {
		return bad(`cannot be allowed: sandboxed pages and local files of any site send it`)
	}
	scheme, hostport, ok := strings.Cut(o, "://")
	if !ok || !isScheme(scheme) || hostport == "" {
		return bad("is not scheme://host[:port]")
	}
	if strings.ContainsAny(hostport, "/?#@ ") {
		return bad("must have no path, query, user or trailing slash")
	}
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, port = hostport[:i], hostport[i+1:]
		if port == "" {
			return bad("has an empty port")
		}
	}
	switch n := strings.Count(o, "*"); {
	case n > 1:
		return bad("has more than one '*'")
	case n == 1 && port == "*":
	case n == 1 && strings.HasPrefix(host, "*.") && len(host) > 2:
	case n == 1:
		return bad(`may use '*' only for leading subdomains ("https://*.example.com") or the port ("http://localhost:*")`)
	}
	if host == "" || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") {
		return bad("has no valid host")
	}
	return nil
}

func isScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2), the
// syntax of method and header names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isLetter(c) || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
