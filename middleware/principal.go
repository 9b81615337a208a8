package middleware

import (
	"context"
	"slices"
	"time"
)

// Principal is who a request or a WebSocket connection acts for, as an auth
// provider established it.
type Principal struct {
	// Subject identifies the principal: a JWT's sub, an API key's owner,
	// a basic-auth user name.
	Subject string
	// Scopes are the permissions granted, e.g. from a JWT's "scope" claim.
	Scopes []string
	// Claims holds everything else the credential carried (all JWT claims).
	Claims map[string]any
	// Provider is the name the authenticating provider is registered under.
	Provider string
	// ExpiresAt is when the credential stops being valid; zero if never.
	ExpiresAt time.Time
}

// HasScope reports whether p was granted scope.
func (p *Principal) HasScope(scope string) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

type principalKey struct{}

func (principalKey) String() string { return "forge principal" }

// WithPrincipal returns a copy of ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal an auth provider attached to ctx: the
// request's context in a REST handler, the connection's context in a
// WebSocket handler (both keep it).
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
