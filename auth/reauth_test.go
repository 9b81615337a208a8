package auth_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/forgekit/forge/auth"
)

// TestReauthenticateChecksTheTokenOnly: a refresh is judged on its token
// alone. The connection came in with an API key in its query string, in
// a header and in a cookie; a refresh with a token the JWT provider
// refuses must fail rather than pass on a key, and a good token must give
// its own principal.
func TestReauthenticateChecksTheTokenOnly(t *testing.T) {
	keys := map[string]auth.Principal{"k1": {Subject: "keyholder"}}
	registered := map[string]auth.Provider{
		"jwt":    mustJWT(t, auth.JWTConfig{HMACSecret: hmacSecret}),
		"query":  auth.StaticAPIKeys("query", "key", keys),
		"header": auth.StaticAPIKeys("header", "X-API-Key", keys),
		"cookie": auth.StaticAPIKeys("cookie", "key", keys),
		"proto":  auth.StaticAPIKeys("header", "X-Unused", keys, auth.APIKeyFromSubprotocol("key.")),
	}
	for _, name := range []string{"query", "header", "cookie", "proto"} {
		t.Run(name, func(t *testing.T) {
			g := auth.NewGuard(registered, []string{"jwt", name}, nil, nil)
			r := httptest.NewRequest("GET", "/ws?key=k1", nil)
			r.Header.Set("X-API-Key", "k1")
			r.Header.Set("Cookie", "key=k1")
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Sec-WebSocket-Protocol", "chat, key.k1")
			ctx := auth.WithPrincipal(r.Context(), &auth.Principal{Subject: "keyholder"})

			p, err := g.Reauthenticate(ctx, r, "garbage")
			var bad *auth.Error
			if err == nil || !errors.As(err, &bad) {
				t.Fatalf("refresh with a refused token: principal %v, error %v; want an *auth.Error", p, err)
			}
			if got, _ := auth.PrincipalFrom(ctx); got.Subject != "keyholder" {
				t.Fatalf("principal after a failed refresh: %q", got.Subject)
			}
			tok := sign(t, jwt.SigningMethodHS256, hmacSecret, claims(map[string]any{"sub": "ann2"}), "")
			if p, err = g.Reauthenticate(ctx, r, tok); err != nil || p.Subject != "ann2" {
				t.Fatalf("refresh with a good token: %v, %v", p, err)
			}
			if got, _ := auth.PrincipalFrom(ctx); got.Subject != "ann2" {
				t.Fatalf("principal after the refresh: %q", got.Subject)
			}
		})
	}
}
