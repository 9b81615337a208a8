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
// name. An empty name or a nil provider panics, and so does New when two
// providers have one name.
func WithAuthProvider(name string, p AuthProvider) Option {
	if name == "" || p == nil {
		panic(fmt.Sprintf("forge: WithAuthProvider(%q): need a name and a provider", name))
	}
	return func(c *config) {
		if c.auth[name] != nil {
			panic(fmt.Sprintf("forge: WithAuthProvider: two providers named %q", name))
		}
		if c.auth == nil {
			c.auth = make(map[string]auth.Provider)
		}
		c.auth[name] = p
	}
}

// PrincipalFrom returns the authenticated principal of a request or
// WebSocket connection: pass ctx.Context() from a handler, or a
// connection's Context().
func PrincipalFrom(ctx context.Context) (*Principal, bool) { return auth.PrincipalFrom(ctx) }

// RefreshAuth lets a WebSocket handler accept a fresh token sent in-band
// (in a message) by a client whose credentials are about to expire. The
// route's providers check token as if it came in the Authorization header
// and its scopes are required; on success the new principal is what
// PrincipalFrom returns and the WithAuthExpiry timer moves to its expiry.
// On failure nothing changes, and the error is an *auth.Error, whose Code
// and Description are safe to show the client, or auth.ErrNoCredentials
// when no provider takes the token. ctx is the handler's Context; an
// events handler calls its own Context's RefreshAuth (events.Context),
// which passes the upgrade request's.
func RefreshAuth(ctx Context, token string) (*Principal, error) {
	return router.RefreshAuth(ctx, token)
}
