package router

import (
	"fmt"
	"slices"

	"github.com/forgekit/forge/middleware"
)

// WithAuth requires a request to be authenticated by one of the named auth
// providers (registered on the app with forge.WithAuthProvider), tried in
// order. It is enforced before the handler and, on WebSocket routes, before
// the upgrade: 401 with WWW-Authenticate without valid credentials, 403
// without a required scope (WithScopes), never a 101. The principal is then
// in the handler's context (middleware.PrincipalFrom). The route's security
// requirement goes into its document. On a group it applies to every route
// of the group; a route's own WithAuth replaces the group's.
//
// Enforcement sits after the middleware of the app and the groups and
// before the route's own WithMiddleware, which therefore sees the principal.
func WithAuth(providers ...string) RouteOption {
	if len(providers) == 0 || slices.Contains(providers, "") {
		panic("forge: WithAuth: name at least one auth provider")
	}
	providers = slices.Clone(providers)
	return func(s *settings) { s.auth = providers }
}

// WithScopes requires the authenticated principal to hold every scope
// given; it needs WithAuth on the route or one of its groups.
func WithScopes(scopes ...string) RouteOption {
	if len(scopes) == 0 || slices.Contains(scopes, "") {
		panic("forge: WithScopes: name at least one scope")
	}
	scopes = slices.Clone(scopes)
	return func(s *settings) { s.scopes = append(slices.Clip(s.scopes), scopes...) }
}

// insertAuth resolves the route's providers and adds the enforcement to its
// middleware chain, just before the route's own middleware. An unknown
// provider name is a registration error.
func (m *Mux) insertAuth(s *settings, mws []Middleware) []Middleware {
	if len(s.auth) == 0 {
		if len(s.scopes) > 0 && s.err == nil {
			s.err = fmt.Errorf("WithScopes %v needs WithAuth", s.scopes)
		}
		return mws
	}
	named := make([]middleware.NamedProvider, 0, len(s.auth))
	for _, name := range s.auth {
		p, ok := m.auth[name]
		if !ok {
			if s.err == nil {
				s.err = fmt.Errorf("WithAuth: no auth provider named %q (register it with forge.WithAuthProvider)", name)
			}
			return mws
		}
		named = append(named, middleware.NamedProvider{Name: name, Provider: p})
	}
	at := min(s.routeMW, len(mws))
	out := make([]Middleware, 0, len(mws)+1)
	out = append(out, mws[:at]...)
	out = append(out, middleware.RequireAuth(named, s.scopes, m.logger))
	return append(out, mws[at:]...)
}
