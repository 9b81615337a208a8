package auth

import (
	"cmp"
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

	"github.com/forgekit/forge/apidoc"
)

// JWTConfig configures a JWT provider. Exactly one key source must be set:
// HMACSecret, PublicKey or KeySet. The zero value of every other field is
// the safe default: every algorithm the key type allows, no issuer or
// audience check, 30 s of leeway, "exp" required, scopes in the "scope"
// claim, realm "api", and the token taken from the Authorization header
// or, on WebSocket handshakes, from a Sec-WebSocket-Protocol entry
// "bearer.<token>".
type JWTConfig struct {
	// HMACSecret verifies HS256, HS384 and HS512 tokens with a shared
	// secret of at least 32 bytes.
	HMACSecret []byte
	// PublicKey verifies tokens signed with its private half: an
	// *rsa.PublicKey (RS256/384/512, PS256/384/512), an *ecdsa.PublicKey
	// (ES256/384/512) or an ed25519.PublicKey (EdDSA).
	PublicKey crypto.PublicKey
	// KeySet verifies tokens with the keys of a JWKS (see NewJWKS),
	// picked by the token's "kid".
	KeySet *JWKS

	// Algorithms pins the accepted signing algorithms; empty accepts every
	// one the key type allows. "none" is refused.
	Algorithms []string
	// Issuer, when set, must equal the "iss" claim.
	Issuer string
	// Audience, when set, must share a value with the "aud" claim.
	Audience []string
	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	// Zero means 30 s; a negative value allows none.
	Leeway time.Duration
	// ExpiryOptional accepts tokens without an "exp" claim, which are
	// refused by default.
	ExpiryOptional bool
	// ScopeClaim names the claim holding scopes, a space-separated string
	// or an array of strings; "" means "scope".
	ScopeClaim string
	// Realm is the realm of the WWW-Authenticate challenge; "" means
	// "api".
	Realm string

	// Query, when set, names a query parameter that also carries the
	// token. Query strings end up in proxy logs; prefer the subprotocol
	// entry for browsers.
	Query string
	// Cookie, when set, names a cookie that also carries the token. Pair
	// it with an origin check (forge's default for WebSocket routes)
	// against cross-site WebSocket hijacking.
	Cookie string
	// SubprotocolPrefix is the prefix of the Sec-WebSocket-Protocol entry
	// carrying the token on WebSocket handshakes; "" means "bearer.". The
	// handshake is answered with the route's own subprotocol, never with
	// the token entry, so a browser client must also offer one of the
	// route's subprotocols.
	SubprotocolPrefix string
	// DisableSubprotocol turns the Sec-WebSocket-Protocol entry off: the
	// token then travels in the header, the query or the cookie only.
	DisableSubprotocol bool
}

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
	scopeClaim  string
	realm       string
	query       string // query parameter name; "" disables
	cookie      string // cookie name; "" disables
	subprotocol string // Sec-WebSocket-Protocol prefix; "" disables
	parser      *jwt.Parser
}

// JWT returns a provider configured by cfg. It refuses a configuration
// without exactly one key source, with an HMAC secret shorter than 32
// bytes, a public key of another type than RSA, ECDSA or Ed25519, or the
// algorithm "none".
func JWT(cfg JWTConfig) (*JWTProvider, error) {
	keyFunc, algs, err := cfg.key()
	if err != nil {
		return nil, err
	}
	if len(cfg.Algorithms) > 0 {
		for _, a := range cfg.Algorithms {
			if a == "" || strings.EqualFold(a, "none") {
				return nil, fmt.Errorf("forge: JWT algorithm %q is not allowed", a)
			}
		}
		algs = slices.Clone(cfg.Algorithms)
	}
	leeway := cfg.Leeway
	switch {
	case leeway == 0:
		leeway = 30 * time.Second
	case leeway < 0:
		leeway = 0
	}
	// Strict decoding refuses base64 that is not the canonical encoding
	// (padding, or low bits set past the last byte): otherwise several
	// token strings carry one signature, and a token altered in those bits
	// would still be admitted.
	popts := []jwt.ParserOption{jwt.WithValidMethods(algs), jwt.WithLeeway(leeway), jwt.WithIssuedAt(), jwt.WithStrictDecoding()}
	if !cfg.ExpiryOptional {
		popts = append(popts, jwt.WithExpirationRequired())
	}
	if cfg.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(cfg.Issuer))
	}
	if len(cfg.Audience) > 0 {
		popts = append(popts, jwt.WithAudience(slices.Clone(cfg.Audience)...))
	}
	p := &JWTProvider{
		keyFunc:     keyFunc,
		scopeClaim:  cmp.Or(cfg.ScopeClaim, "scope"),
		realm:       cmp.Or(cfg.Realm, "api"),
		query:       cfg.Query,
		cookie:      cfg.Cookie,
		subprotocol: cmp.Or(cfg.SubprotocolPrefix, "bearer."),
		parser:      jwt.NewParser(popts...),
	}
	if cfg.DisableSubprotocol {
		p.subprotocol = ""
	}
	return p, nil
}

// key returns the key function of the configuration's one key source and
// the algorithms its key type allows.
func (cfg *JWTConfig) key() (jwt.Keyfunc, []string, error) {
	n := 0
	for _, set := range []bool{cfg.HMACSecret != nil, cfg.PublicKey != nil, cfg.KeySet != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, nil, errors.New("forge: JWT provider needs exactly one key: HMACSecret, PublicKey or KeySet")
	}
	switch {
	case cfg.HMACSecret != nil:
		if len(cfg.HMACSecret) < 32 {
			return nil, nil, errors.New("forge: JWT HMAC secret must be at least 32 bytes")
		}
		key := slices.Clone(cfg.HMACSecret)
		return func(*jwt.Token) (any, error) { return key, nil }, []string{"HS256", "HS384", "HS512"}, nil
	case cfg.PublicKey != nil:
		key := cfg.PublicKey
		algs, err := algsFor(key)
		if err != nil {
			return nil, nil, err
		}
		return func(*jwt.Token) (any, error) { return key, nil }, algs, nil
	}
	return cfg.KeySet.keyFunc, []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}, nil
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

// Challenge implements Provider.
func (p *JWTProvider) Challenge() string { return fmt.Sprintf("Bearer realm=%q", p.realm) }

// Schemes implements Provider: the header, plus each enabled alternative.
func (p *JWTProvider) Schemes() []apidoc.SecurityScheme {
	desc := "A JSON Web Token in the Authorization header."
	if p.subprotocol != "" {
		desc += fmt.Sprintf(" On WebSocket handshakes the token may instead be sent as a Sec-WebSocket-Protocol entry %q followed by the token, next to one of the route's subprotocols (browsers cannot set headers on a WebSocket).", p.subprotocol)
	}
	s := []apidoc.SecurityScheme{{Type: "http", Scheme: "bearer", BearerFormat: "JWT", Subprotocol: p.subprotocol, Description: desc}}
	if p.query != "" {
		s = append(s, apidoc.SecurityScheme{Suffix: "query", Type: "apiKey", In: "query", Name: p.query, Description: "A JSON Web Token in a query parameter."})
	}
	if p.cookie != "" {
		s = append(s, apidoc.SecurityScheme{Suffix: "cookie", Type: "apiKey", In: "cookie", Name: p.cookie, Description: "A JSON Web Token in a cookie."})
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
