package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// JWTOption configures a JWT provider.
type JWTOption func(*JWTProvider) error

// JWTProvider authenticates bearer JSON Web Tokens (golang-jwt/jwt/v5).
// Tokens are looked for in the Authorization header; on WebSocket
// handshakes also in a Sec-WebSocket-Protocol entry "bearer.<token>"
// (browsers cannot set headers on a WebSocket), and, when enabled, in a
// query parameter or a cookie. The algorithms are pinned: a token signed
// with any other (including "none", or HS256 against an RSA public key) is
// rejected. Expiry is required and checked with the configured leeway, as
// are not-before, issuer and audience. Create it with JWT.
type JWTProvider struct {
	keyFunc     jwt.Keyfunc
	algs        []string
	issuer      string
	audience    []string
	leeway      time.Duration
	optionalExp bool
	scopeClaim  string
	realm       string
	query       string // query parameter name; "" disables
	cookie      string // cookie name; "" disables
	subprotocol string // Sec-WebSocket-Protocol prefix; "" disables
	hasKey      bool
	parser      *jwt.Parser // built once from the fields above
}

// JWT returns a JWT provider. Exactly one key source is required:
// JWTHMAC, JWTPublicKey or JWTKeySet.
func JWT(opts ...JWTOption) (*JWTProvider, error) {
	p := &JWTProvider{scopeClaim: "scope", subprotocol: "bearer.", realm: "api", leeway: 30 * time.Second}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	if !p.hasKey {
		return nil, errors.New("forge: JWT provider needs a key: JWTHMAC, JWTPublicKey or JWTKeySet")
	}
	popts := []jwt.ParserOption{jwt.WithValidMethods(p.algs), jwt.WithLeeway(p.leeway), jwt.WithIssuedAt()}
	if !p.optionalExp {
		popts = append(popts, jwt.WithExpirationRequired())
	}
	if p.issuer != "" {
		popts = append(popts, jwt.WithIssuer(p.issuer))
	}
	if len(p.audience) > 0 {
		popts = append(popts, jwt.WithAudience(p.audience...))
	}
	p.parser = jwt.NewParser(popts...)
	return p, nil
}

func (p *JWTProvider) setKey(kf jwt.Keyfunc, algs []string) error {
	if p.hasKey {
		return errors.New("forge: JWT provider takes one key source")
	}
	p.keyFunc, p.hasKey = kf, true
	if p.algs == nil {
		p.algs = algs
	}
	return nil
}

// JWTHMAC verifies HS256/HS384/HS512 tokens with a shared secret of at
// least 32 bytes.
func JWTHMAC(secret []byte) JWTOption {
	return func(p *JWTProvider) error {
		if len(secret) < 32 {
			return errors.New("forge: JWT HMAC secret must be at least 32 bytes")
		}
		key := slices.Clone(secret)
		return p.setKey(func(*jwt.Token) (any, error) { return key, nil }, []string{"HS256", "HS384", "HS512"})
	}
}

// JWTPublicKey verifies tokens signed with the private half of key: RSA
// (RS256/384/512, PS256/384/512), ECDSA (ES256/384/512) or Ed25519 (EdDSA).
func JWTPublicKey(key crypto.PublicKey) JWTOption {
	return func(p *JWTProvider) error {
		algs, err := algsFor(key)
		if err != nil {
			return err
		}
		return p.setKey(func(*jwt.Token) (any, error) { return key, nil }, algs)
	}
}

// JWTKeySet verifies tokens with the keys of a JWKS (see NewJWKS), picked
// by the token's "kid".
func JWTKeySet(set *JWKS) JWTOption {
	return func(p *JWTProvider) error {
		return p.setKey(set.keyFunc, []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
	}
}

func algsFor(key crypto.PublicKey) ([]string, error) {
	switch key.(type) {
	case *rsa.PublicKey:
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}, nil
	case *ecdsa.PublicKey:
		return []string{"ES256", "ES384", "ES512"}, nil
	case ed25519.PublicKey:
		return []string{"EdDSA"}, nil
	}
	return nil, fmt.Errorf("forge: JWT public key of type %T is not supported", key)
}

// JWTAlgorithms pins the accepted signing algorithms (default: every one
// the key type allows).
func JWTAlgorithms(algs ...string) JWTOption {
	return func(p *JWTProvider) error {
		for _, a := range algs {
			if a == "" || strings.EqualFold(a, "none") {
				return fmt.Errorf("forge: JWT algorithm %q is not allowed", a)
			}
		}
		p.algs = slices.Clone(algs)
		return nil
	}
}

// JWTIssuer requires the "iss" claim to equal issuer.
func JWTIssuer(issuer string) JWTOption {
	return func(p *JWTProvider) error { p.issuer = issuer; return nil }
}

// JWTAudience requires the "aud" claim to contain one of audiences.
func JWTAudience(audiences ...string) JWTOption {
	return func(p *JWTProvider) error { p.audience = slices.Clone(audiences); return nil }
}

// JWTLeeway is the clock skew allowed when checking exp, nbf and iat
// (default 30 s).
func JWTLeeway(d time.Duration) JWTOption {
	return func(p *JWTProvider) error {
		if d < 0 {
			return errors.New("forge: JWT leeway must not be negative")
		}
		p.leeway = d
		return nil
	}
}

// JWTExpiryOptional accepts tokens without an "exp" claim (they are
// required by default).
func JWTExpiryOptional() JWTOption {
	return func(p *JWTProvider) error { p.optionalExp = true; return nil }
}

// JWTScopeClaim names the claim holding scopes: a space-separated string or
// an array of strings (default "scope").
func JWTScopeClaim(name string) JWTOption {
	return func(p *JWTProvider) error { p.scopeClaim = name; return nil }
}

// JWTRealm sets the realm of the WWW-Authenticate challenge (default "api").
func JWTRealm(realm string) JWTOption {
	return func(p *JWTProvider) error { p.realm = realm; return nil }
}

// JWTFromQuery also accepts the token from query parameter name. Query
// strings end up in proxy logs; prefer the subprotocol for browsers.
func JWTFromQuery(name string) JWTOption {
	return func(p *JWTProvider) error { p.query = name; return nil }
}

// JWTFromCookie also accepts the token from cookie name. Pair it with an
// origin check (forge's default for WebSocket routes) against cross-site
// WebSocket hijacking.
func JWTFromCookie(name string) JWTOption {
	return func(p *JWTProvider) error { p.cookie = name; return nil }
}

// JWTFromSubprotocol sets the prefix of the Sec-WebSocket-Protocol entry
// carrying the token on WebSocket handshakes (default "bearer."); "" turns
// it off. The handshake is answered with the route's own subprotocol, never
// with the token entry, so a browser client must also offer one of the
// route's subprotocols.
func JWTFromSubprotocol(prefix string) JWTOption {
	return func(p *JWTProvider) error { p.subprotocol = prefix; return nil }
}

// Challenge implements Provider.
func (p *JWTProvider) Challenge() string { return fmt.Sprintf("Bearer realm=%q", p.realm) }

// Schemes implements Provider: the header, plus each enabled alternative.
func (p *JWTProvider) Schemes() []SecurityScheme {
	desc := "A JSON Web Token in the Authorization header."
	if p.subprotocol != "" {
		desc += fmt.Sprintf(" On WebSocket handshakes the token may instead be sent as a Sec-WebSocket-Protocol entry %q followed by the token, next to one of the route's subprotocols (browsers cannot set headers on a WebSocket).", p.subprotocol)
	}
	s := []SecurityScheme{{Type: "http", Scheme: "bearer", BearerFormat: "JWT", Subprotocol: p.subprotocol, Description: desc}}
	if p.query != "" {
		s = append(s, SecurityScheme{Suffix: "query", Type: "apiKey", In: "query", Name: p.query, Description: "A JSON Web Token in a query parameter."})
	}
	if p.cookie != "" {
		s = append(s, SecurityScheme{Suffix: "cookie", Type: "apiKey", In: "cookie", Name: p.cookie, Description: "A JSON Web Token in a cookie."})
	}
	return s
}

// Authenticate implements Provider.
func (p *JWTProvider) Authenticate(r *http.Request) (*Principal, error) {
	raw, err := p.token(r)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	if _, err := p.parser.ParseWithClaims(raw, claims, p.keyFunc); err != nil {
		return nil, invalid(jwtProblem(err), err)
	}
	pr := &Principal{Claims: claims}
	pr.Subject, _ = claims.GetSubject()
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		pr.ExpiresAt = exp.Time
	}
	pr.Scopes = scopesOf(claims[p.scopeClaim])
	return pr, nil
}

// token finds the raw token; it never logs or echoes it.
func (p *JWTProvider) token(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", fmt.Errorf("%w: Authorization is not a Bearer token", ErrNoCredentials)
		}
		if tok = strings.TrimSpace(tok); tok == "" {
			return "", &Error{Code: "invalid_request", Description: "empty bearer token"}
		}
		return tok, nil
	}
	if p.subprotocol != "" && websocket.IsWebSocketUpgrade(r) {
		for _, proto := range offeredSubprotocols(r) {
			if tok, ok := strings.CutPrefix(proto, p.subprotocol); ok && tok != "" {
				return tok, nil
			}
		}
	}
	if p.query != "" {
		if tok := r.URL.Query().Get(p.query); tok != "" {
			return tok, nil
		}
	}
	if p.cookie != "" {
		if c, err := r.Cookie(p.cookie); err == nil && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", ErrNoCredentials
}

// jwtProblem says what is wrong with a token in words safe for the client.
func jwtProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token was issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience is not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token issuer is not accepted"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token lacks a required claim"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token signature or algorithm is not accepted"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token is malformed"
	}
	return "token is not valid"
}

func scopesOf(v any) []string {
	switch s := v.(type) {
	case string:
		return strings.Fields(s)
	case []any:
		out := make([]string, 0, len(s))
		for _, x := range s {
			if str, ok := x.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

func offeredSubprotocols(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Sec-Websocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
