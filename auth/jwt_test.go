package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/forgekit/forge/auth"
)

var (
	hmacSecret      = []byte("0123456789abcdef0123456789abcdef")
	rsaKey, _       = rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _        = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edKey, _ = ed25519.GenerateKey(rand.Reader)
)

func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func claims(extra map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "ann", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "scope": "chat:read chat:write"}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func mustJWT(t testing.TB, cfg auth.JWTConfig) *auth.JWTProvider {
	t.Helper()
	p, err := auth.JWT(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJWTAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    *auth.JWTProvider
		tok  string
	}{
		{"HS256", mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret}), sign(t, jwt.SigningMethodHS256, hmacSecret, claims(nil), "")},
		{"RS256", mustJWT(t, auth.JWTConfig{PublicKey: &rsaKey.PublicKey}), sign(t, jwt.SigningMethodRS256, rsaKey, claims(nil), "")},
		{"PS384", mustJWT(t, auth.JWTConfig{PublicKey: &rsaKey.PublicKey}), sign(t, jwt.SigningMethodPS384, rsaKey, claims(nil), "")},
		{"ES256", mustJWT(t, auth.JWTConfig{PublicKey: &ecKey.PublicKey}), sign(t, jwt.SigningMethodES256, ecKey, claims(nil), "")},
		{"EdDSA", mustJWT(t, auth.JWTConfig{PublicKey: edPub}), sign(t, jwt.SigningMethodEdDSA, edKey, claims(nil), "")},
		{"within leeway", mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret}), sign(t, jwt.SigningMethodHS256, hmacSecret, claims(map[string]any{"exp": time.Now().Add(-10 * time.Second).Unix()}), "")},
		{"issuer and audience", mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret, Issuer: "https://issuer.test", Audience: []string{"forge-api"}}),
			sign(t, jwt.SigningMethodHS256, hmacSecret, claims(map[string]any{"iss": "https://issuer.test", "aud": []string{"other", "forge-api"}}), "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := tt.p.Authenticate(bearer(tt.tok))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if p.Subject != "ann" || !p.HasScope("chat:write") || p.ExpiresAt.IsZero() {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}

func TestJWTRejects(t *testing.T) {
	t.Parallel()
	hs := mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret, Issuer: "iss", Audience: []string{"aud"}})
	rs := mustJWT(t, auth.JWTConfig{PublicKey: &rsaKey.PublicKey})
	good := map[string]any{"iss": "iss", "aud": "aud"}
	with := func(m map[string]any) jwt.MapClaims {
		c := claims(good)
		for k, v := range m {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, with(nil), "")
	tests := []struct {
		name string
		p    *auth.JWTProvider
		tok  string
		want string
	}{
		{"garbled", hs, "not-a-token", "token is malformed"},
		{"expired", hs, sign(t, jwt.SigningMethodHS256, hmacSecret, with(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}), ""), "token has expired"},
		{"no exp", hs, sign(t, jwt.SigningMethodHS256, hmacSecret, with(map[string]any{"exp": nil}), ""), "token lacks a required claim"},
		{"not yet valid", hs, sign(t, jwt.SigningMethodHS256, hmacSecret, with(map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}), ""), "token is not valid yet"},
		{"wrong audience", hs, sign(t, jwt.SigningMethodHS256, hmacSecret, with(map[string]any{"aud": "someone-else"}), ""), "token audience is not accepted"},
		{"wrong issuer", hs, sign(t, jwt.SigningMethodHS256, hmacSecret, with(map[string]any{"iss": "evil"}), ""), "token issuer is not accepted"},
		{"wrong secret", hs, sign(t, jwt.SigningMethodHS256, []byte("another secret, 32 bytes or more!"), with(nil), ""), "token signature or algorithm is not accepted"},
		{"alg none", hs, none, "token signature or algorithm is not accepted"},
		{"HS256 signed with the RSA public key", rs, sign(t, jwt.SigningMethodHS256, pubDER, with(nil), ""), "token signature or algorithm is not accepted"},
		{"RS256 token to an HMAC provider", hs, sign(t, jwt.SigningMethodRS256, rsaKey, with(nil), ""), "token signature or algorithm is not accepted"},
		{"pinned algorithm", mustJWT(t, auth.JWTConfig{PublicKey: &rsaKey.PublicKey, Algorithms: []string{"RS256"}}),
			sign(t, jwt.SigningMethodPS256, rsaKey, with(nil), ""), "token signature or algorithm is not accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.p.Authenticate(bearer(tt.tok))
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Code != "invalid_token" || ae.Description != tt.want {
				t.Fatalf("got %v, want invalid_token: %s", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.tok) {
				t.Fatal("the error repeats the token")
			}
		})
	}
}

func TestJWTTokenSources(t *testing.T) {
	t.Parallel()
	tok := sign(t, jwt.SigningMethodHS256, hmacSecret, claims(nil), "")
	upgrade := func(r *http.Request) *http.Request {
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		return r
	}
	tests := []struct {
		name string
		p    *auth.JWTProvider
		req  *http.Request
		ok   bool
	}{
		{"subprotocol on a handshake", mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret}),
			upgrade(withHeader("Sec-WebSocket-Protocol", "chat.v1, bearer."+tok)), true},
		{"subprotocol outside a handshake", mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret}),
			withHeader("Sec-WebSocket-Protocol", "bearer."+tok), false},
		{"subprotocol disabled", mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret, DisableSubprotocol: true}),
			upgrade(withHeader("Sec-WebSocket-Protocol", "bearer."+tok)), false},
		{"query when enabled", mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret, Query: "access_token"}),
			httptest.NewRequest("GET", "/?access_token="+tok, nil), true},
		{"query when not enabled", mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret}),
			httptest.NewRequest("GET", "/?access_token="+tok, nil), false},
		{"cookie when enabled", mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret, Cookie: "session"}),
			withHeader("Cookie", "session="+tok), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := tt.p.Authenticate(tt.req)
			if tt.ok != (err == nil) {
				t.Fatalf("principal %v, err %v; want ok=%v", p, err, tt.ok)
			}
			if !tt.ok && !errors.Is(err, auth.ErrNoCredentials) {
				t.Fatalf("err %v, want ErrNoCredentials", err)
			}
		})
	}
}

func withHeader(k, v string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set(k, v)
	return r
}

func TestJWTConfigErrors(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]auth.JWTConfig{
		"no key":               {},
		"short secret":         {HMACSecret: []byte("short")},
		"two keys":             {HMACSecret: hmacSecret, PublicKey: &rsaKey.PublicKey},
		"none alg":             {HMACSecret: hmacSecret, Algorithms: []string{"none"}},
		"empty alg":            {HMACSecret: hmacSecret, Algorithms: []string{""}},
		"unsupported key type": {PublicKey: "not a key"},
	} {
		if _, err := auth.JWT(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestJWTLeeway checks JWTConfig.Leeway's zero value (30 s) and that a
// negative one allows no skew at all.
func TestJWTLeeway(t *testing.T) {
	t.Parallel()
	expired := sign(t, jwt.SigningMethodHS256, hmacSecret, claims(map[string]any{"exp": time.Now().Add(-10 * time.Second).Unix()}), "")
	if _, err := mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret}).Authenticate(bearer(expired)); err != nil {
		t.Errorf("default leeway refused a token 10 s past exp: %v", err)
	}
	if _, err := mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret, Leeway: -1}).Authenticate(bearer(expired)); err == nil {
		t.Error("no leeway accepted a token 10 s past exp")
	}
}

// jwksServer serves a key set and counts fetches.
func jwksServer(t *testing.T, keys ...map[string]any) (*httptest.Server, *atomic.Int32, *atomic.Value) {
	var fetches atomic.Int32
	var set atomic.Value
	set.Store(keys)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"keys": set.Load()})
	}))
	t.Cleanup(srv.Close)
	return srv, &fetches, &set
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecJWK := map[string]any{"kty": "EC", "kid": "ec", "crv": "P-256", "x": b64(ecKey.X.FillBytes(make([]byte, 32))), "y": b64(ecKey.Y.FillBytes(make([]byte, 32)))}
	edJWK := map[string]any{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(edPub)}
	srv, fetches, set := jwksServer(t, rsaJWK("k1", &rsaKey.PublicKey), ecJWK, edJWK, map[string]any{"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"})
	p := mustJWT(t, auth.JWTConfig{KeySet: auth.NewJWKS(srv.URL, auth.JWKSCache(time.Hour, 0))})

	for name, tok := range map[string]string{
		"RSA":   sign(t, jwt.SigningMethodRS256, rsaKey, claims(nil), "k1"),
		"EC":    sign(t, jwt.SigningMethodES256, ecKey, claims(nil), "ec"),
		"EdDSA": sign(t, jwt.SigningMethodEdDSA, edKey, claims(nil), "ed"),
	} {
		if _, err := p.Authenticate(bearer(tok)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1 (cached)", n)
	}
	// A key whose JWK pins RS256 refuses a PS256 token.
	if _, err := p.Authenticate(bearer(sign(t, jwt.SigningMethodPS256, rsaKey, claims(nil), "k1"))); err == nil {
		t.Fatal("PS256 accepted by an RS256 key")
	}
	// Rotation: an unknown kid triggers a refresh.
	set.Store([]map[string]any{rsaJWK("k2", &other.PublicKey)})
	if _, err := p.Authenticate(bearer(sign(t, jwt.SigningMethodRS256, other, claims(nil), "k2"))); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if _, err := p.Authenticate(bearer(sign(t, jwt.SigningMethodRS256, other, claims(nil), "nope"))); err == nil {
		t.Fatal("unknown kid accepted")
	}
}
