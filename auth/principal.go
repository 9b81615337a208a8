package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
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

// principalCell holds a context's principal; a WebSocket connection may
// replace it when the client refreshes its credentials in-band.
type principalCell struct{ p atomic.Pointer[Principal] }

// WithPrincipal returns a copy of ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	cell := &principalCell{}
	cell.p.Store(p)
	return context.WithValue(ctx, principalKey{}, cell)
}

// PrincipalFrom returns the principal an auth provider attached to ctx: the
// request's context in a REST handler, the connection's context in a
// WebSocket handler (both keep it).
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	cell, ok := ctx.Value(principalKey{}).(*principalCell)
	if !ok {
		return nil, false
	}
	p := cell.p.Load()
	return p, p != nil
}

// Reauthenticate checks a fresh credential sent in-band on a WebSocket
// connection (a refreshed token) with the guard's providers, as the
// handshake did with the Authorization header, requires the guard's scopes,
// and makes the new principal the one PrincipalFrom(ctx) returns. ctx must
// carry a principal already and r is the handshake request. The principal
// is unchanged when it fails; the error is an *Error (safe to show the
// client) or ErrNoCredentials.
//
// The providers see the handshake request with the token as its only
// credential: without its query string, cookies, subprotocols and the
// headers API-key providers read, so that a refresh whose token is
// refused cannot pass on what the client connected with.
func (g *Guard) Reauthenticate(ctx context.Context, r *http.Request, token string) (*Principal, error) {
	cell, ok := ctx.Value(principalKey{}).(*principalCell)
	if !ok {
		return nil, errors.New("forge: reauthenticate: the connection was not authenticated")
	}
	req := r.Clone(ctx) // deep-copies the header and the URL
	req.URL.RawQuery, req.URL.ForceQuery = "", false
	req.Header.Del("Cookie")
	req.Header.Del("Sec-WebSocket-Protocol")
	for _, np := range g.providers {
		if kp, ok := np.provider.(*APIKeyProvider); ok && kp.in == "header" {
			req.Header.Del(kp.name)
		}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	p, bad, _ := authenticate(req, g.providers)
	if bad != nil {
		return nil, bad
	}
	if p == nil {
		return nil, ErrNoCredentials
	}
	if missing := missingScopes(p, g.scopes); len(missing) > 0 {
		return nil, &Error{Code: "insufficient_scope", Description: "missing scope: " + strings.Join(missing, " ")}
	}
	cell.p.Store(p)
	return p, nil
}
