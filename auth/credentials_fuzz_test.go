package auth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/forgekit/forge/auth"
)

// FuzzCredentials sends any Authorization header, Sec-WebSocket-Protocol
// entries, query string and cookie to a guard of every provider kind: a
// JWT (HMAC), an API key (header, subprotocol and query) and basic
// credentials. Only the one valid credential of each kind gets in, as its
// own principal; anything else gets 401 as problem+json, and no answer or
// log line repeats what the client sent as a credential.
func FuzzCredentials(f *testing.F) {
	// A fixed token, the same in every fuzzing process.
	valid := sign(f, jwt.SigningMethodHS256, hmacSecret, claims(map[string]any{"iat": 1700000000, "exp": 4102444800}), "")
	const key, user, pass = "k3y-0f-ann", "ann", "s3cret pass"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	for _, s := range [][4]string{
		{"Bearer " + valid, "", "", ""},
		{"bearer  " + valid + " ", "", "", ""},
		{"Bearer " + valid[:len(valid)-2], "", "", ""},
		{"Bearer", "", "", ""},
		{"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbm4ifQ.", "", "", ""},
		{"", "chat.v1, bearer." + valid, "", ""},
		{"", "apikey." + key, "", ""},
		{"", ", ,apikey.,bearer.", "", ""},
		{"", "", "key=" + key, ""},
		{"", "", "key=" + key + "&key=x", ""},
		{"", "", "", "session=" + key},
		{basic, "", "", ""},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":wrong")), "", "", ""},
		{"Basic !!!", "", "", ""},
		{"Digest username=ann", "", "", ""},
		{"", "", "key=%zz", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	jwtp := mustJWT(f, auth.JWTConfig{HMACSecret: hmacSecret})
	keyp := auth.StaticAPIKeys("header", "X-API-Key", map[string]auth.Principal{key: {Subject: "key-ann"}}, auth.APIKeyFromQuery("key"))
	basicp := auth.Basic("api", func(_ context.Context, u, p string) (*auth.Principal, error) {
		if u == user && p == pass {
			return &auth.Principal{Subject: "basic-ann"}, nil
		}
		return nil, nil
	})
	providers := map[string]auth.Provider{"jwt": jwtp, "key": keyp, "basic": basicp}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	guard := auth.NewGuard(providers, []string{"jwt", "key", "basic"}, nil, logger)
	var got *auth.Principal
	h := guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = auth.PrincipalFrom(r.Context())
	}))
	f.Fuzz(func(t *testing.T, authorization, protocols, query, cookie string) {
		u, err := url.Parse("/ws?" + query)
		if err != nil || u.RawQuery != query {
			t.Skip("not a query string")
		}
		r := httptest.NewRequest(http.MethodGet, "/ws", nil)
		r.URL = u
		set := func(name, v string) {
			if v != "" {
				r.Header.Set(name, v)
			}
		}
		set("Authorization", authorization)
		set("Cookie", cookie)
		if protocols != "" {
			set("Upgrade", "websocket")
			set("Connection", "Upgrade")
			set("Sec-WebSocket-Protocol", protocols)
		}
		got = nil
		logs.Reset()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

		if rec.Code == http.StatusOK {
			switch {
			case got == nil:
				t.Fatal("admitted without a principal")
			case got.Provider == "jwt" && got.Subject == "ann" && strings.Contains(authorization+protocols+query+cookie, valid):
			case got.Provider == "key" && got.Subject == "key-ann" && strings.Contains(protocols+query, key):
			case got.Provider == "basic" && got.Subject == "basic-ann" && strings.HasPrefix(strings.ToLower(authorization), "basic "):
			default:
				t.Fatalf("admitted %+v for %q %q %q %q", got, authorization, protocols, query, cookie)
			}
			return
		}
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("Content-Type") != "application/problem+json" || len(rec.Header().Values("WWW-Authenticate")) != 3 {
			t.Fatalf("status %d %q, challenges %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Values("WWW-Authenticate"))
		}
		// No credential comes back: not in the answer, not in the log.
		answer := rec.Body.String() + strings.Join(rec.Header().Values("WWW-Authenticate"), "\n") + logs.String()
		for _, cred := range credentials(authorization, protocols, u.Query(), cookie) {
			if len(cred) >= 8 && strings.Contains(answer, cred) {
				t.Fatalf("credential %q repeated in %q", cred, answer)
			}
		}
	})
}

// credentials lists what a request carries as credentials: the
// Authorization value after its scheme, subprotocol entries after their
// prefix, query values and the cookie's value.
func credentials(authorization, protocols string, query url.Values, cookie string) []string {
	var out []string
	if _, v, ok := strings.Cut(authorization, " "); ok {
		out = append(out, strings.TrimSpace(v))
	}
	for p := range strings.SplitSeq(protocols, ",") {
		p = strings.TrimSpace(p)
		for _, prefix := range []string{"bearer.", "apikey."} {
			if v, ok := strings.CutPrefix(p, prefix); ok {
				out = append(out, v)
			}
		}
	}
	for _, vs := range query {
		out = append(out, vs...)
	}
	if _, v, ok := strings.Cut(cookie, "="); ok {
		out = append(out, v)
	}
	return out
}
