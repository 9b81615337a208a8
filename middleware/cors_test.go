package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/forgetest"
	"github.com/forgekit/forge/middleware"
)

func mustCORS(t *testing.T, opts ...middleware.CORSOption) func(http.Handler) http.Handler {
	t.Helper()
	mw, err := middleware.CORS(opts...)
	if err != nil {
		t.Fatalf("CORS: %v", err)
	}
	return mw
}

func TestCORS(t *testing.T) {
	t.Parallel()
	mw := mustCORS(t,
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
	h := mustCORS(t, middleware.CORSOrigins("*"))(http.NotFoundHandler())
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

func TestCORSErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []middleware.CORSOption
		want string
	}{
		{"no origin", nil, "no allowed origin"},
		{"any origin with credentials", []middleware.CORSOption{middleware.CORSOrigins("*"), middleware.CORSCredentials()}, "cannot be combined with credentials"},
		{"null origin", []middleware.CORSOption{middleware.CORSOrigins("null")}, "cannot be allowed"},
		{"no scheme", []middleware.CORSOption{middleware.CORSOrigins("app.example.com")}, "is not scheme://host[:port]"},
		{"trailing slash", []middleware.CORSOption{middleware.CORSOrigins("https://app.example.com/")}, "no path"},
		{"path", []middleware.CORSOption{middleware.CORSOrigins("https://app.example.com/x")}, "no path"},
		{"two wildcards", []middleware.CORSOption{middleware.CORSOrigins("https://*.example.com:*")}, "more than one '*'"},
		{"wildcard inside a label", []middleware.CORSOption{middleware.CORSOrigins("https://*example.com")}, "leading subdomains"},
		{"wildcard scheme", []middleware.CORSOption{middleware.CORSOrigins("*://example.com")}, "is not scheme://host[:port]"},
		{"empty port", []middleware.CORSOption{middleware.CORSOrigins("http://localhost:")}, "empty port"},
		{"bad method", []middleware.CORSOption{middleware.CORSOrigins("https://a.example"), middleware.CORSMethods("GET POST")}, "invalid method"},
		{"bad header", []middleware.CORSOption{middleware.CORSOrigins("https://a.example"), middleware.CORSHeaders("X Token")}, "invalid header name"},
		{"negative max age", []middleware.CORSOption{middleware.CORSOrigins("https://a.example"), middleware.CORSMaxAge(-time.Second)}, "negative max age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mw, err := middleware.CORS(tt.opts...)
			if err == nil || mw != nil {
				t.Fatalf("CORS returned middleware %t and error %v; want only an error", mw != nil, err)
			}
			if !strings.HasPrefix(err.Error(), "forge: CORS: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestCORSAndWebSocketOrigins checks what the CORS documentation says: an
// origin allowed by CORS is not allowed to open a WebSocket by that alone;
// forge's WithOrigins decides, before the upgrade.
func TestCORSAndWebSocketOrigins(t *testing.T) {
	t.Parallel()
	app := forge.New(forge.WithLogger(new(logBuffer).logger()))
	r := app.Router()
	r.Use(mustCORS(t, middleware.CORSOrigins("https://app.example.com", "https://rest-only.example.com")))
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
