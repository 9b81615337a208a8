package router

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/connection"
)

// WithAuth requires a request to be authenticated by one of the named auth
// providers (registered on the app with forge.WithAuthProvider), tried in
// order. It is enforced before the handler and, on WebSocket routes, before
// the upgrade: 401 with WWW-Authenticate without valid credentials, 403
// without a required scope (WithScopes), never a 101. The principal is then
// in the handler's context (auth.PrincipalFrom). The route's security
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
func (m *Mux) insertAuth(s *settings, mws []Middleware, pattern string) []Middleware {
	if len(s.auth) == 0 {
		if len(s.scopes) > 0 && s.err == nil {
			s.err = fmt.Errorf("WithScopes %v needs WithAuth", s.scopes)
		}
		if s.authExpiry && s.err == nil {
			s.err = fmt.Errorf("WithAuthExpiry needs WithAuth")
		}
		return mws
	}
	for _, name := range s.auth {
		if m.auth[name] == nil {
			if s.err == nil {
				s.err = fmt.Errorf("WithAuth: no auth provider named %q (register it with forge.WithAuthProvider)", name)
			}
			return mws
		}
	}
	s.guard = auth.NewGuard(m.auth, s.auth, s.scopes, m.logger)
	at := min(s.routeMW, len(mws))
	out := make([]Middleware, 0, len(mws)+1)
	out = append(out, mws[:at]...)
	if s.websocket {
		out = append(out, countRefusals(m.tracker, pattern, s.guard.Wrap))
	} else {
		out = append(out, s.guard.Wrap)
	}
	return append(out, mws[at:]...)
}

// countRefusals wraps a WebSocket route's auth guard so that the
// handshakes it refuses count in the tracker's Stats().Refused, as the
// refusals of the upgrade itself do.
func countRefusals(t *connection.Tracker, pattern string, guard Middleware) Middleware {
	if t == nil {
		return guard
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			passed := false
			guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				passed = true
				next.ServeHTTP(w, r)
			})).ServeHTTP(w, r)
			if !passed {
				t.Refuse(pattern, connection.RefusedAuth)
			}
		})
	}
}

// security lists the security schemes of the named providers, in order,
// under their keys in the documents.
func (m *Mux) security(names []string) []apidoc.Security {
	var out []apidoc.Security
	for _, name := range names {
		p := m.auth[name]
		if p == nil {
			continue // refused by insertAuth
		}
		for _, s := range p.Schemes() {
			key := name
			if s.Suffix != "" {
				key += "_" + s.Suffix
			}
			out = append(out, apidoc.Security{Key: key, Scheme: s})
		}
	}
	return out
}

// WithAuthExpiry closes a WebSocket connection with
// connection.CloseTokenExpired (4401) when the credentials it was opened
// with expire (the principal's ExpiresAt), unless the handler refreshed them
// in-band with RefreshAuth. It needs WithAuth.
func WithAuthExpiry() WebSocketOption {
	return webSocketOnly(func(s *settings) {
		if s.wsOnly("WithAuthExpiry") {
			s.authExpiry = true
		}
	})
}

// authSession enforces a WebSocket connection's credential expiry and
// lets its handler refresh them.
type authSession struct {
	guard  *auth.Guard
	expiry bool

	conn *connection.Conn // with expiry, set by watch before the handler runs

	mu      sync.Mutex  // guards the fields below
	timer   *time.Timer // closes the connection at expiry; nil until there is one
	stopped bool        // the connection ended: a refresh must not arm timer again
}

// watch arms the expiry timer for the connection's principal.
func (a *authSession) watch(conn *connection.Conn) {
	if a == nil || !a.expiry {
		return
	}
	a.conn = conn
	p, ok := auth.PrincipalFrom(conn.Context())
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expireAt(p.ExpiresAt)
}

// expireAt moves the expiry to t: the connection is closed then, or never
// when t is zero. a.mu must be held, and watch must have run.
func (a *authSession) expireAt(t time.Time) {
	switch {
	case a.stopped:
		// A listening connection's refresh may finish after the
		// connection ended and stop ran (at the end of its context,
		// not after the last callback): the timer stays stopped.
	case t.IsZero():
		if a.timer != nil {
			a.timer.Stop()
		}
	case a.timer != nil:
		a.timer.Reset(time.Until(t))
	default:
		conn := a.conn
		a.timer = time.AfterFunc(time.Until(t), func() {
			conn.CloseWith(connection.CloseTokenExpired, "token expired")
		})
	}
}

func (a *authSession) stop() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopped = true
	if a.timer != nil {
		a.timer.Stop()
	}
}

// ErrNoAuth is returned by RefreshAuth on a route without WithAuth.
var ErrNoAuth = errors.New("forge: refresh auth: the route has no WithAuth")

// RefreshAuth lets a WebSocket handler accept a fresh token sent in-band
// (in a message) by a client whose credentials are about to expire: token
// is checked by the route's providers as if sent in the Authorization
// header, the route's scopes are required, and on success the new principal
// is what PrincipalFrom returns and the expiry timer (WithAuthExpiry) moves
// to the new expiry. On failure nothing changes and the error is an
// *auth.Error, whose Code and Description are safe to show the client, or
// auth.ErrNoCredentials when no provider takes the token (ErrNoAuth on a
// route without WithAuth).
func RefreshAuth(ctx Context, token string) (*auth.Principal, error) {
	c, ok := ctx.(*reqContext)
	if !ok || c.auth == nil || c.conn == nil {
		return nil, ErrNoAuth
	}
	p, err := c.auth.guard.Reauthenticate(c.conn.Context(), c.r, token)
	if err != nil {
		return nil, err
	}
	if c.auth.expiry {
		c.auth.mu.Lock()
		c.auth.expireAt(p.ExpiresAt)
		c.auth.mu.Unlock()
	}
	return p, nil
}
