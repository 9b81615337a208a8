package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/middleware"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	mw := middleware.CORS(
		middleware.CORSOrigins("https://app.example.com", "https://*.tenants.example.com", "http://localhost:*"),
		middleware.CORSMethods(http.MethodGet, http.MethodPost, http.MethodDelete),
		middleware.CORSHeaders("Authorization", "Content-Type"),
		middleware.CORSExposedHeaders("X-Request-Id"),
		middleware.CORSCredentials(),
		middleware.CORSMaxAge(90*time.Second+time.Millisecond),
	)
	var served int
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		w.WriteHeader(http.StatusTeapot)
	}))

	tests := []struct {
		name       string
		method     string
		hdr        map[string]string
		wantStatus int
		wantServed bool
		want       map[string]string // response headers; "" means absent
	}{
		{"preflight allowed", http.MethodOptions, map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE",
			"Access-Control-Request-Headers": "authorization",
		}, http.StatusNoContent, false, map[string]string{
			"Access-Control-Allow-Origin":      "https://app.example.com",
			"Access-Control-Allow-Methods":     "DELETE",
			"Access-Control-Allow-Headers":     "authorization",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Max-Age":           "91",
		}},
		{"preflight wildcard subdomain", http.MethodOptions, map[string]string{
			"Origin": "https://a.b.tenants.example.com", "Access-Control-Request-Method": "POST",
		}, http.StatusNoContent, false, map[string]string{
			"Access-Control-Allow-Origin": "https://a.b.tenants.example.com",
		}},
		{"preflight wildcard port", http.MethodOptions, map[string]string{
			"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET",
		}, http.StatusNoContent, false, map[string]string{
			"Access-Control-Allow-Origin": "http://localhost:5173",
		}},
		{"preflight foreign origin", http.MethodOptions, map[string]string{
			"Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
		}, http.StatusNoContent, false, map[string]string{
			"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": "",
		}},
		{"preflight lookalike origin", http.MethodOptions, map[string]string{
			"Origin": "https://tenants.example.com.evil.example", "Access-Control-Request-Method": "GET",
		}, http.StatusNoContent, false, map[string]string{"Access-Control-Allow-Origin": ""}},
		{"preflight method not allowed", http.MethodOptions, map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
		}, http.StatusNoContent, false, map[string]string{"Access-Control-Allow-Origin": ""}},
		{"preflight header not allowed", http.MethodOptions, map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
			"Access-Control-Request-Headers": "x-secret",
		}, http.StatusNoContent, false, map[string]string{"Access-Control-Allow-Origin": ""}},
		{"actual request allowed", http.MethodGet, map[string]string{
			"Origin": "https://APP.example.com",
		}, http.StatusTeapot, true, map[string]string{
			"Access-Control-Allow-Origin":      "https://APP.example.com",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers":    "X-Request-Id",
			"Vary":                             "Origin",
		}},
		{"actual request foreign origin is served without headers", http.MethodGet, map[string]string{
			"Origin": "https://evil.example",
		}, http.StatusTeapot, true, map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin"}},
		{"same-origin request", http.MethodGet, nil, http.StatusTeapot, true, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
		{"plain OPTIONS is not a preflight", http.MethodOptions, map[string]string{
			"Origin": "https://app.example.com",
		}, http.StatusTeapot, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served = 0
			req := httptest.NewRequest(tt.method, "/things", nil)
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if (served == 1) != tt.wantServed {
				t.Errorf("handler served = %v, want %v", served == 1, tt.wantServed)
			}
			for k, v := range tt.want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestCORSAnyOrigin(t *testing.T) {
	t.Parallel()
	h := middleware.CORS(middleware.CORSOrigins("*"))(http.NotFoundHandler())
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Origin", "https://anyone.example")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Fatalf("Access-Control-Allow-Origin = %q, want *", got)
	}
	if got := rec.Header().Get("Access-Control-Allow-Credentials"); got != "" {
		t.Fatalf("Access-Control-Allow-Credentials = %q, want none", got)
	}
}

// TestCORSMistakes: malformed values panic where the option is built, and
// options that cannot work together panic in CORS.
func TestCORSMistakes(t *testing.T) {
	t.Parallel()
	testkit.MustPanicCases(t, "forge: CORS: ", []testkit.PanicCase{
		{"no origin", func() { middleware.CORS() }, "no allowed origin"},
		{"any origin with credentials", func() { middleware.CORS(middleware.CORSOrigins("*"), middleware.CORSCredentials()) }, "cannot be combined with credentials"},
		{"nil option", func() { middleware.CORS(middleware.CORSOrigins("*"), nil) }, "nil CORSOption"},
		{"null origin", func() { middleware.CORSOrigins("null") }, "cannot be allowed"},
		{"no scheme", func() { middleware.CORSOrigins("app.example.com") }, "is not scheme://host[:port]"},
		{"trailing slash", func() { middleware.CORSOrigins("https://app.example.com/") }, "no path"},
		{"path", func() { middleware.CORSOrigins("https://app.example.com/x") }, "no path"},
		{"two wildcards", func() { middleware.CORSOrigins("https://*.example.com:*") }, "more than one '*'"},
		{"wildcard inside a label", func() { middleware.CORSOrigins("https://*example.com") }, "leading subdomains"},
		{"wildcard scheme", func() { middleware.CORSOrigins("*://example.com") }, "is not scheme://host[:port]"},
		{"empty port", func() { middleware.CORSOrigins("http://localhost:") }, "empty port"},
		{"bad method", func() { middleware.CORSMethods("GET POST") }, "invalid method"},
		{"bad header", func() { middleware.CORSHeaders("X Token") }, "invalid header name"},
		{"bad exposed header", func() { middleware.CORSExposedHeaders("X Token") }, "invalid header name"},
		{"negative max age", func() { middleware.CORSMaxAge(-time.Second) }, "negative max age"},
	})
}

// TestCORSAndWebSocketOrigins checks what the CORS documentation says: an
// origin allowed by CORS is not allowed to open a WebSocket by that alone;
// forge's WithOrigins decides, before the upgrade.
func TestCORSAndWebSocketOrigins(t *testing.T) {
	t.Parallel()
	app := forge.New(forge.WithLogger(new(logBuffer).logger()))
	r := app.Router()
	r.Use(middleware.CORS(middleware.CORSOrigins("https://app.example.com", "https://rest-only.example.com")))
	r.GET("/api", func(ctx forge.Context) error { return ctx.String(http.StatusOK, "ok") })
	r.WebSocket("/ws", func(forge.Context, forge.Connection) error { return nil },
		forge.WithOrigins("https://app.example.com"))
	srv := forgetest.Start(t, app)
	client := newClient(t)

	// The REST route answers CORS requests of both origins.
	for _, origin := range []string{"https://app.example.com", "https://rest-only.example.com"} {
		resp := get(t, client, srv.URL+"/api", http.Header{"Origin": {origin}})
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("GET /api from %s: Access-Control-Allow-Origin = %q", origin, got)
		}
	}
	// The preflight is answered at the root, before routing.
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/api", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("preflight: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	ws, _, err := srv.DialErr("/ws", http.Header{"Origin": {"https://app.example.com"}})
	if err != nil {
		t.Fatalf("WebSocket from an origin allowed by WithOrigins: %v", err)
	}
	ws.Close()
	_, resp, err = srv.DialErr("/ws", http.Header{"Origin": {"https://rest-only.example.com"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("WebSocket from an origin allowed by CORS only: %v, want 403", err)
	}
	resp.Body.Close()
}
