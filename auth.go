package forge

import (
	"context"
	"fmt"

	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/router"
)

// Principal is who a request or WebSocket connection acts for, as an auth
// provider established it: its subject, scopes, claims and expiry.
type Principal = auth.Principal

// AuthProvider authenticates one kind of credential; the providers of
// package auth (JWT, API key, basic, Func) implement it.
type AuthProvider = auth.Provider

// WithAuthProvider registers an auth provider under name, for WithAuth to
// name. Registering two providers under one name is an error.
func WithAuthProvider(name string, p AuthProvider) Option {
	return func(c *config) {
		switch {
		case name == "" || p == nil:
			c.fail(fmt.Errorf("forge: WithAuthProvider(%q): need a name and a provider", name))
			return
		case c.auth[name] != nil:
			c.fail(fmt.Errorf("forge: WithAuthProvider: two providers named %q", name))
			return
		}
		if c.auth == nil {
			c.auth = make(map[string]auth.Provider)
		}
		c.auth[name] = p
	}
}

// WithAuth requires authentication by one of the named providers; see
// router.WithAuth.
func WithAuth(providers ...string) RouteOption { return router.WithAuth(providers...) }

// WithScopes requires the principal to hold every scope; see
// router.WithScopes.
func WithScopes(scopes ...string) RouteOption { return router.WithScopes(scopes...) }

// PrincipalFrom returns the authenticated principal of a request or
// WebSocket connection: pass ctx.Context() from a handler, or a
// connection's Context().
func PrincipalFrom(ctx context.Context) (*Principal, bool) { return auth.PrincipalFrom(ctx) }

// WithMessageRateLimit limits the messages a client may send on a
// WebSocket route; see router.WithMessageRateLimit.
func WithMessageRateLimit(perSecond float64, burst int, closeOnExceed bool) RouteOption {
	return router.WithMessageRateLimit(perSecond, burst, closeOnExceed)
}

// WithAuthExpiry closes a WebSocket connection with code 4401 when its
// credentials expire; see router.WithAuthExpiry.
func WithAuthExpiry() RouteOption { return router.WithAuthExpiry() }

// RefreshAuth accepts a fresh token sent in-band on a WebSocket connection;
// see router.RefreshAuth.
func RefreshAuth(ctx Context, token string) (*Principal, error) {
	return router.RefreshAuth(ctx, token)
}
