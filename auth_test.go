package forge_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
)

var authSecret = []byte("test secret of at least 32 bytes!!")

func token(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	c := jwt.MapClaims{"sub": "ann", "exp": time.Now().Add(time.Hour).Unix(), "scope": "chat"}
	for k, v := range claims {
		c[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(authSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func authApp(t *testing.T, logs *testkit.Buffer) *forgetest.Server {
	t.Helper()
	jwtp, err := auth.JWT(auth.JWTConfig{HMACSecret: authSecret, Cookie: "session"})
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.StaticAPIKeys("header", "X-API-Key", map[string]auth.Principal{"k-123": {Subject: "robot"}})
	app := forge.New(
		forge.WithLogger(testkit.TextLogger(logs)),
		forge.WithAuthProvider("jwt", jwtp),
		forge.WithAuthProvider("apikey", keys),
	)
	r := app.Router()
	whoami := func(ctx forge.Context) error {
		p, ok := forge.PrincipalFrom(ctx.Context())
		if !ok {
			return forge.NewHTTPError(500, "no principal")
		}
		return ctx.JSON(200, map[string]any{"sub": p.Subject, "provider": p.Provider})
	}
	r.GET("/me", whoami, forge.WithAuth("jwt", "apikey"))
	r.GET("/admin", whoami, forge.WithAuth("jwt"), forge.WithScopes("admin"))
	r.GET("/public", func(ctx forge.Context) error { return ctx.String(200, "hi") })
	r.WebSocket("/ws/chat", func(ctx forge.Context, conn forge.Connection) error {
		p, _ := forge.PrincipalFrom(conn.Context())
		return conn.WriteJSON(map[string]string{"sub": p.Subject, "subprotocol": conn.Subprotocol()})
	}, forge.WithAuth("jwt"), forge.WithSubprotocols("chat.v1"))
	return forgetest.Start(t, app)
}

func TestAuthREST(t *testing.T) {
	var logs testkit.Buffer
	srv := authApp(t, &logs)
	good := token(t, nil)
	expired := token(t, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()})
	tests := []struct {
		name      string
		path      string
		header    http.Header
		status    int
		challenge string // substring of WWW-Authenticate
		detail    string // substring of the problem detail
		sub       string
	}{
		{"no credentials", "/me", nil, 401, `Bearer realm="api"`, "authentication required", ""},
		{"garbled token", "/me", http.Header{"Authorization": {"Bearer abc.def"}}, 401, `error="invalid_token"`, "token is malformed", ""},
		{"expired token", "/me", http.Header{"Authorization": {"Bearer " + expired}}, 401, `error_description="token has expired"`, "token has expired", ""},
		{"valid token", "/me", http.Header{"Authorization": {"Bearer " + good}}, 200, "", "", "ann"},
		{"api key", "/me", http.Header{"X-Api-Key": {"k-123"}}, 200, "", "", "robot"},
		{"wrong api key", "/me", http.Header{"X-Api-Key": {"nope"}}, 401, `APIKey in="header"`, "unknown API key", ""},
		{"missing scope", "/admin", http.Header{"Authorization": {"Bearer " + good}}, 403, `error="insufficient_scope"`, "missing scope: admin", ""},
		{"scope granted", "/admin", http.Header{"Authorization": {"Bearer " + token(t, jwt.MapClaims{"scope": "chat admin"})}}, 200, "", "", "ann"},
		{"public route", "/public", nil, 200, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, raw := testkit.Do(t, req, tt.status)
			if tt.challenge != "" && !strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), "; "), tt.challenge) {
				t.Fatalf("WWW-Authenticate %q, want %q", resp.Header.Values("WWW-Authenticate"), tt.challenge)
			}
			var body map[string]any
			json.Unmarshal(raw, &body)
			if tt.detail != "" {
				if resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body["detail"].(string), tt.detail) {
					t.Fatalf("body %v, want problem detail %q", body, tt.detail)
				}
			}
			if tt.sub != "" && body["sub"] != tt.sub {
				t.Fatalf("principal %v, want %q", body, tt.sub)
			}
		})
	}
	if strings.Contains(logs.String(), good) || strings.Contains(logs.String(), expired) {
		t.Fatal("a token reached the logs")
	}
}

func TestAuthWebSocket(t *testing.T) {
	var logs testkit.Buffer
	srv := authApp(t, &logs)
	good := token(t, nil)
	tests := []struct {
		name   string
		header http.Header
		protos []string
		status int // 0: upgraded
	}{
		{"no credentials: 401, no upgrade", nil, []string{"chat.v1"}, 401},
		{"expired token: 401", http.Header{"Authorization": {"Bearer " + token(t, jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()})}}, nil, 401},
		{"header token", http.Header{"Authorization": {"Bearer " + good}}, []string{"chat.v1"}, 0},
		{"subprotocol token (browsers)", nil, []string{"chat.v1", "bearer." + good}, 0},
		{"cookie, same origin", http.Header{"Cookie": {"session=" + good}, "Origin": {srv.URL}}, []string{"chat.v1"}, 0},
		{"cookie, foreign origin (cross-site hijacking)", http.Header{"Cookie": {"session=" + good}, "Origin": {"https://evil.example"}}, []string{"chat.v1"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, resp, err := srv.DialErr("/ws/chat", tt.header, tt.protos...)
			if tt.status != 0 {
				if err == nil {
					ws.Close()
					t.Fatal("upgraded")
				}
				if resp == nil || resp.StatusCode != tt.status {
					t.Fatalf("response %v, want %d", resp, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v (%v)", err, resp)
			}
			defer ws.Close()
			if len(tt.protos) > 0 && ws.Subprotocol() != "chat.v1" {
				t.Fatalf("negotiated %q, want the route's own chat.v1 (never the token entry)", ws.Subprotocol())
			}
			var got map[string]string
			ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			if err := ws.ReadJSON(&got); err != nil {
				t.Fatal(err)
			}
			if got["sub"] != "ann" {
				t.Fatalf("handler saw principal %v", got)
			}
		})
	}
	if strings.Contains(logs.String(), good) {
		t.Fatal("a token reached the logs")
	}
}

func TestAuthUnknownProviderFailsAtRegistration(t *testing.T) {
	app := forge.New()
	testkit.MustPanic(t, "forge: ", `no auth provider named "jwt"`, func() {
		app.Router().GET("/x", func(forge.Context) error { return nil }, forge.WithAuth("jwt"))
	})
}

func TestOversizedHeaders(t *testing.T) {
	var logs testkit.Buffer
	srv := authApp(t, &logs)
	req, _ := http.NewRequest("GET", srv.URL+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 2<<20))
	resp, body := testkit.Do(t, req, http.StatusRequestHeaderFieldsTooLarge)
	// As problem+json, like forge's other refusals (net/http writes it as
	// plain text by itself).
	var p struct{ Status int }
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(body, &p) != nil || p.Status != 431 {
		t.Fatalf("431 as %q: %s", ct, body)
	}
	// The server goes on serving.
	testkit.Get(t, srv.URL+"/public")
}

func TestMessageRateLimitRouteOption(t *testing.T) {
	app := forge.New(forge.WithLogger(slog.New(slog.DiscardHandler)))
	app.Router().WebSocket("/ws", func(ctx forge.Context, conn forge.Connection) error {
		for {
			if _, err := conn.Read(); err != nil {
				return err
			}
		}
	}, forge.WithMessageRateLimit(0.001, 1, true))
	srv := forgetest.Start(t, app)
	ws := srv.Dial(t, "/ws", nil)
	ws.SendText("one")
	ws.SendText("two: over the limit")
	ws.ExpectClose(1008)
	if got := app.Stats().RateLimited; got != 1 {
		t.Fatalf("rate limited %d, want 1", got)
	}
}

func TestAuthExpiryAndInBandRefresh(t *testing.T) {
	jwtp, err := auth.JWT(auth.JWTConfig{HMACSecret: authSecret})
	if err != nil {
		t.Fatal(err)
	}
	app := forge.New(forge.WithLogger(slog.New(slog.DiscardHandler)), forge.WithAuthProvider("jwt", jwtp))
	app.Router().WebSocket("/ws", func(ctx forge.Context, conn forge.Connection) error {
		for {
			var msg struct{ Refresh, Say string }
			if err := conn.ReadJSON(&msg); err != nil {
				return err
			}
			if msg.Refresh != "" {
				if _, err := forge.RefreshAuth(ctx, msg.Refresh); err != nil {
					var bad *auth.Error
					if !errors.As(err, &bad) {
						return err
					}
					conn.WriteJSON(map[string]string{"error": bad.Description})
					continue
				}
			}
			p, _ := forge.PrincipalFrom(conn.Context())
			conn.WriteJSON(map[string]string{"sub": p.Subject, "say": msg.Say})
		}
	}, forge.WithAuth("jwt"), forge.WithAuthExpiry())
	// A listening connection outlives its handler: the expiry still holds.
	app.Router().WebSocket("/listen", func(_ forge.Context, conn forge.Connection) error {
		return conn.Listen(func(_ forge.MessageType, data []byte) error { return conn.Write(data) })
	}, forge.WithAuth("jwt"), forge.WithAuthExpiry())
	srv := forgetest.Start(t, app)
	soon := func(sub string, d time.Duration) string {
		return token(t, jwt.MapClaims{"sub": sub, "exp": time.Now().Add(d).Unix()})
	}

	t.Run("closed with 4401 at expiry", func(t *testing.T) {
		ws := srv.Dial(t, "/ws", http.Header{"Authorization": {"Bearer " + soon("ann", 2*time.Second)}})
		if reason := ws.ExpectClose(4401); reason != "token expired" {
			t.Fatalf("reason %q", reason)
		}
	})
	t.Run("listening, closed with 4401 at expiry", func(t *testing.T) {
		ws := srv.Dial(t, "/listen", http.Header{"Authorization": {"Bearer " + soon("ann", 2*time.Second)}})
		ws.SendText("hello")
		if got := ws.ReadText(); got != "hello" {
			t.Fatalf("echo %q", got)
		}
		if reason := ws.ExpectClose(4401); reason != "token expired" {
			t.Fatalf("reason %q", reason)
		}
	})
	t.Run("refreshed in-band", func(t *testing.T) {
		ws := srv.Dial(t, "/ws", http.Header{"Authorization": {"Bearer " + soon("ann", 2*time.Second)}})
		ws.SendJSON(map[string]string{"refresh": "garbage"})
		var got map[string]string
		ws.ReadJSON(&got)
		if !strings.Contains(got["error"], "malformed") {
			t.Fatalf("bad refresh: %v", got)
		}
		ws.SendJSON(map[string]string{"refresh": soon("ann2", time.Hour)})
		ws.ReadJSON(&got)
		if got["sub"] != "ann2" {
			t.Fatalf("after refresh: %v", got)
		}
		time.Sleep(3 * time.Second) // past the first token's expiry
		ws.SendJSON(map[string]string{"say": "still here"})
		ws.ReadJSON(&got)
		if got["say"] != "still here" {
			t.Fatalf("got %v", got)
		}
	})
}
