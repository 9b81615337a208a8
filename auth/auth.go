package auth

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/internal/problem"
)

// Provider authenticates requests with one kind of credential. forge runs
// a route's providers before its handler and, for WebSocket routes, before
// the upgrade.
type Provider interface {
	// Authenticate returns the request's principal. When the request
	// carries none of the provider's credentials it returns an error
	// wrapping ErrNoCredentials; for credentials that are present but not
	// valid, an *Error.
	Authenticate(r *http.Request) (*Principal, error)
	// Challenge returns the WWW-Authenticate challenge a 401 carries for
	// this provider, e.g. `Bearer realm="api"`.
	Challenge() string
	// Schemes describes, for the API documents, every way the provider
	// accepts credentials.
	Schemes() []apidoc.SecurityScheme
}

// ErrNoCredentials reports a request that carries no credential for a
// provider; another provider of the route may still accept it.
var ErrNoCredentials = errors.New("forge: no credentials")

// Error reports credentials that are present but not acceptable. Code and
// Description are safe to show to the client (they never contain the
// credential), and are what a 401 response carries; Error's text adds
// the "forge: " prefix of errors meant for the program and its logs.
type Error struct {
	// Code is the RFC 6750 error code: "invalid_token" or
	// "invalid_request".
	Code string
	// Description says what is wrong, e.g. "token has expired".
	Description string
	// Err is the underlying cause, for logs and errors.Is.
	Err error
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "forge: " + e.Code
	}
	return "forge: " + e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Err }

func invalid(desc string, err error) *Error {
	return &Error{Code: "invalid_token", Description: desc, Err: err}
}

// namedProvider is a provider with the name it is registered under, which
// the principal records and the challenges are matched by.
type namedProvider struct {
	name     string
	provider Provider
}

// Guard enforces a route's authentication: one of its providers, tried in
// order, must authenticate the request, and the principal must hold every
// required scope. forge builds one per route that has forge.WithAuth;
// create one with NewGuard to protect a plain http.Handler the same way.
// A Guard is safe for concurrent use.
type Guard struct {
	providers []namedProvider
	scopes    []string
	logger    *slog.Logger
}

// NewGuard returns the guard that admits a request when one of the
// providers registered under names (looked up in registered, tried in the
// order of names) authenticates it and the principal holds every scope in
// scopes. logger receives refusals of invalid credentials and missing
// scopes, never a credential; nil means slog.Default(). NewGuard panics
// when names is empty or names a provider registered lacks: a route that
// requires no one, or someone unknown, is a programming error.
func NewGuard(registered map[string]Provider, names, scopes []string, logger *slog.Logger) *Guard {
	if len(names) == 0 {
		panic("forge: auth.NewGuard: no provider names")
	}
	g := &Guard{scopes: slices.Clone(scopes), logger: cmp.Or(logger, slog.Default())}
	for _, name := range names {
		p := registered[name]
		if p == nil {
			panic(fmt.Sprintf("forge: auth.NewGuard: no provider named %q", name))
		}
		g.providers = append(g.providers, namedProvider{name: name, provider: p})
	}
	return g
}

// Wrap returns next behind the guard. A request without valid credentials
// gets 401 with a WWW-Authenticate challenge per provider, one lacking a
// scope 403, both as problem+json; for a WebSocket route that happens
// before the upgrade. An admitted request reaches next with its principal
// in the context (PrincipalFrom).
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, bad, by := authenticate(r, g.providers)
		if p == nil {
			unauthorized(w, r, g.providers, bad, by, g.logger)
			return
		}
		if missing := missingScopes(p, g.scopes); len(missing) > 0 {
			forbid(w, r, g.providers, missing, g.logger, p)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// authenticate asks providers in order and returns the first principal,
// its Provider set. Without one it returns the first rejection as an
// *Error (a provider's own, or "invalid_token" around any other
// error) and the index of the provider that rejected, or nil and -1 when
// no provider found credentials at all.
func authenticate(r *http.Request, providers []namedProvider) (*Principal, *Error, int) {
	var bad *Error
	by := -1
	for i, np := range providers {
		p, err := np.provider.Authenticate(r)
		if err == nil && p != nil {
			p.Provider = np.name
			return p, nil, -1
		}
		if errors.Is(err, ErrNoCredentials) || err == nil || bad != nil {
			continue
		}
		if !errors.As(err, &bad) {
			bad = &Error{Code: "invalid_token", Description: "credentials rejected", Err: err}
		}
		by = i
	}
	return nil, bad, by
}

func missingScopes(p *Principal, scopes []string) []string {
	var missing []string
	for _, s := range scopes {
		if !p.HasScope(s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// unauthorized answers 401 with every provider's challenge. The error of
// rejected credentials goes on the challenge of the provider that rejected
// them (providers[by]), so that it names the scheme the client tried.
func unauthorized(w http.ResponseWriter, r *http.Request, providers []namedProvider, bad *Error, by int, logger *slog.Logger) {
	for i, np := range providers {
		ch := np.provider.Challenge()
		if ch == "" {
			continue
		}
		if bad != nil && i == by && takesErrorParams(ch) {
			ch += fmt.Sprintf(`, error=%q, error_description=%q`, bad.Code, bad.Description)
		}
		w.Header().Add("WWW-Authenticate", ch)
	}
	detail := "authentication required: " + describe(providers)
	if bad != nil {
		detail = "invalid credentials: " + bad.Description
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request refused: invalid credentials",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", bad.Error()))
	}
	problem.Write(w, http.StatusUnauthorized, detail)
}

// takesErrorParams reports whether a challenge is of a scheme that carries
// RFC 6750's error parameters: Bearer, and the API key provider's own. The
// syntax of other schemes' challenges (a Func provider's) is not known.
func takesErrorParams(challenge string) bool {
	scheme, _, _ := strings.Cut(challenge, " ")
	return strings.EqualFold(scheme, "Bearer") || scheme == apiKeyScheme
}

// forbid answers 403. The insufficient_scope error goes on the challenge
// of the provider that authenticated the principal: the scheme it used.
func forbid(w http.ResponseWriter, r *http.Request, providers []namedProvider, missing []string, logger *slog.Logger, p *Principal) {
	scope := strings.Join(missing, " ")
	for _, np := range providers {
		if ch := np.provider.Challenge(); np.name == p.Provider && takesErrorParams(ch) {
			w.Header().Add("WWW-Authenticate", ch+fmt.Sprintf(`, error="insufficient_scope", scope=%q`, scope))
		}
	}
	logger.LogAttrs(r.Context(), slog.LevelInfo, "request refused: missing scope",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("subject", p.Subject), slog.String("missing_scopes", scope))
	problem.Write(w, http.StatusForbidden, "missing scope: "+scope)
}

// describe lists how credentials may be sent, for the 401 detail.
func describe(providers []namedProvider) string {
	var ways []string
	for _, np := range providers {
		for _, s := range np.provider.Schemes() {
			switch s.Type {
			case "http":
				ways = append(ways, "Authorization: "+titleScheme(s.Scheme))
			case "apiKey":
				ways = append(ways, s.In+" "+s.Name)
			}
		}
	}
	if len(ways) == 0 {
		return "send credentials"
	}
	return "send one of: " + strings.Join(ways, ", ")
}

func titleScheme(s string) string {
	switch s {
	case "bearer":
		return "Bearer <token>"
	case "basic":
		return "Basic <credentials>"
	}
	return s
}
