package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/auth"
	"github.com/forgekit/forge/internal/testkit"
)

func TestAPIKeyPlaces(t *testing.T) {
	t.Parallel()
	keys := map[string]auth.Principal{"k1": {Subject: "svc"}}
	tests := []struct {
		in   string
		req  func() *http.Request
		want string // "ok", "missing", "invalid"
	}{
		{"header", func() *http.Request { return withHeader("X-Key", "k1") }, "ok"},
		{"header", func() *http.Request { return httptest.NewRequest("GET", "/?X-Key=k1", nil) }, "missing"},
		{"query", func() *http.Request { return httptest.NewRequest("GET", "/?key=k1", nil) }, "ok"},
		{"query", func() *http.Request { return httptest.NewRequest("GET", "/?key=k2", nil) }, "invalid"},
		{"cookie", func() *http.Request { return withHeader("Cookie", "key=k1") }, "ok"},
		{"cookie", func() *http.Request { return withHeader("X-Key", "k1") }, "missing"},
	}
	for _, tt := range tests {
		name := map[string]string{"header": "X-Key", "query": "key", "cookie": "key"}[tt.in]
		p := auth.StaticAPIKeys(tt.in, name, keys)
		pr, err := p.Authenticate(tt.req())
		var ae *auth.Error
		switch {
		case tt.want == "ok" && (err != nil || pr.Subject != "svc"):
			t.Errorf("%s: %v %v", tt.in, pr, err)
		case tt.want == "missing" && !errors.Is(err, auth.ErrNoCredentials):
			t.Errorf("%s: err %v, want ErrNoCredentials", tt.in, err)
		case tt.want == "invalid" && !errors.As(err, &ae):
			t.Errorf("%s: err %v, want an *auth.Error", tt.in, err)
		}
	}
}

// TestProviderMistakes: what no program should pass panics, as forge's
// setup mistakes do.
func TestProviderMistakes(t *testing.T) {
	t.Parallel()
	lookup := func(context.Context, string) (*auth.Principal, error) { return nil, nil }
	testkit.MustPanicCases(t, "forge: auth: ", []testkit.PanicCase{
		{"bad location", func() { auth.APIKey("body", "k", lookup) }, "want header, query or cookie"},
		{"no name", func() { auth.APIKey("header", "", lookup) }, "needs a name and a lookup"},
		{"no lookup", func() { auth.APIKey("header", "X-Key", nil) }, "needs a name and a lookup"},
		{"nil option", func() { auth.APIKey("header", "X-Key", lookup, nil) }, "nil APIKeyOption"},
		{"query without a name", func() { auth.APIKeyFromQuery("") }, "APIKeyFromQuery"},
		{"basic without verify", func() { auth.Basic("admin", nil) }, "verify function"},
		{"func without a scheme", func() { auth.Func(func(*http.Request) (*auth.Principal, error) { return nil, nil }, "") }, "security scheme"},
		{"func without a function", func() { auth.Func(nil, "", apidoc.SecurityScheme{Type: "http", Scheme: "bearer"}) }, "security scheme"},
	})
}

func TestBasic(t *testing.T) {
	t.Parallel()
	p := auth.Basic("admin", func(_ context.Context, user, pass string) (*auth.Principal, error) {
		if user == "ann" && pass == "s3cret" {
			return &auth.Principal{Scopes: []string{"admin"}}, nil
		}
		return nil, nil
	})
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("ann", "s3cret")
	if pr, err := p.Authenticate(r); err != nil || pr.Subject != "ann" || !pr.HasScope("admin") {
		t.Fatalf("good credentials: %v %v", pr, err)
	}
	r.SetBasicAuth("ann", "wrong")
	var ae *auth.Error
	if _, err := p.Authenticate(r); !errors.As(err, &ae) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := p.Authenticate(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, auth.ErrNoCredentials) {
		t.Fatalf("no credentials: %v", err)
	}
	if _, err := p.Authenticate(withHeader("Authorization", "Bearer x")); !errors.Is(err, auth.ErrNoCredentials) {
		t.Fatalf("a bearer token is not basic credentials: %v", err)
	}
	if p.Challenge() != `Basic realm="admin", charset="UTF-8"` {
		t.Fatalf("challenge %q", p.Challenge())
	}
}

func TestFuncProviderBehindGuard(t *testing.T) {
	t.Parallel()
	fp := auth.Func(func(r *http.Request) (*auth.Principal, error) {
		switch r.Header.Get("X-Device") {
		case "":
			return nil, auth.ErrNoCredentials
		case "trusted":
			return &auth.Principal{Subject: "device-1"}, nil
		}
		return nil, &auth.Error{Code: "invalid_token", Description: "unknown device"}
	}, `Device realm="iot"`, apidoc.SecurityScheme{Type: "apiKey", In: "header", Name: "X-Device"})
	h := auth.NewGuard(map[string]auth.Provider{"device": fp}, []string{"device"}, nil, nil).Wrap(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := auth.PrincipalFrom(r.Context())
			w.Write([]byte(p.Subject + "/" + p.Provider))
		}))
	for _, tt := range []struct {
		device, body string
		status       int
	}{
		{"", "", 401}, {"evil", "", 401}, {"trusted", "device-1/device", 200},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		if tt.device != "" {
			req.Header.Set("X-Device", tt.device)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status || (tt.body != "" && rec.Body.String() != tt.body) {
			t.Errorf("device %q: %d %q", tt.device, rec.Code, rec.Body)
		}
		if tt.status == 401 && rec.Header().Get("WWW-Authenticate") != `Device realm="iot"` {
			t.Errorf("challenge %q", rec.Header().Get("WWW-Authenticate"))
		}
	}
}

func TestAPIKeySources(t *testing.T) {
	t.Parallel()
	keys := map[string]auth.Principal{"k1": {Subject: "svc"}}
	upgrade := func(r *http.Request) *http.Request {
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		return r
	}
	mustKeys := func(opts ...auth.APIKeyOption) *auth.APIKeyProvider {
		p := auth.StaticAPIKeys("header", "X-Key", keys, opts...)
		return p
	}
	tests := []struct {
		name string
		p    *auth.APIKeyProvider
		req  *http.Request
		want string // "ok", "missing", "invalid"
	}{
		{"subprotocol on a handshake", mustKeys(), upgrade(withHeader("Sec-WebSocket-Protocol", "notes.v1, apikey.k1")), "ok"},
		{"wrong key in a subprotocol", mustKeys(), upgrade(withHeader("Sec-WebSocket-Protocol", "notes.v1, apikey.k2")), "invalid"},
		{"subprotocol outside a handshake", mustKeys(), withHeader("Sec-WebSocket-Protocol", "apikey.k1"), "missing"},
		{"subprotocol disabled", mustKeys(auth.APIKeyFromSubprotocol("")), upgrade(withHeader("Sec-WebSocket-Protocol", "apikey.k1")), "missing"},
		{"own prefix", mustKeys(auth.APIKeyFromSubprotocol("key-")), upgrade(withHeader("Sec-WebSocket-Protocol", "key-k1")), "ok"},
		{"query when enabled", mustKeys(auth.APIKeyFromQuery("api_key")), httptest.NewRequest("GET", "/?api_key=k1", nil), "ok"},
		{"query when not enabled", mustKeys(), httptest.NewRequest("GET", "/?api_key=k1", nil), "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pr, err := tt.p.Authenticate(tt.req)
			var ae *auth.Error
			switch {
			case tt.want == "ok" && (err != nil || pr.Subject != "svc"):
				t.Errorf("%v %v, want svc", pr, err)
			case tt.want == "missing" && !errors.Is(err, auth.ErrNoCredentials):
				t.Errorf("err %v, want ErrNoCredentials", err)
			case tt.want == "invalid" && !errors.As(err, &ae):
				t.Errorf("err %v, want an *auth.Error", err)
			}
		})
	}

	schemes := mustKeys(auth.APIKeyFromQuery("api_key")).Schemes()
	if len(schemes) != 2 || schemes[0].Subprotocol != "apikey." || schemes[1].In != "query" || schemes[1].Name != "api_key" {
		t.Errorf("schemes %+v, want the header with its subprotocol prefix, and the query parameter", schemes)
	}
}

// TestChallengeNamesTheTriedScheme checks that the error of refused
// credentials goes on the challenge of the provider that refused them, not
// on every Bearer challenge: a wrong API key is not an invalid bearer token.
func TestChallengeNamesTheTriedScheme(t *testing.T) {
	t.Parallel()
	jwtp, err := auth.JWT(auth.JWTConfig{HMACSecret: hmacSecret})
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.StaticAPIKeys("header", "X-Key", map[string]auth.Principal{"k1": {Subject: "svc"}})
	providers := map[string]auth.Provider{"jwt": jwtp, "key": keys}
	h := auth.NewGuard(providers, []string{"jwt", "key"}, []string{"admin"}, nil).Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tests := []struct {
		name   string
		header string
		value  string
		status int
		want   []string
	}{
		{"wrong API key", "X-Key", "nope", 401, []string{
			`Bearer realm="api"`,
			`APIKey in="header", name="X-Key", error="invalid_token", error_description="unknown API key"`}},
		{"bad token", "Authorization", "Bearer abc.def", 401, []string{
			`Bearer realm="api", error="invalid_token", error_description="token is malformed"`,
			`APIKey in="header", name="X-Key"`}},
		{"right API key without the scope", "X-Key", "k1", 403, []string{
			`APIKey in="header", name="X-Key", error="insufficient_scope", scope="admin"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, withHeader(tt.header, tt.value))
			if got := rec.Header().Values("WWW-Authenticate"); rec.Code != tt.status || !slices.Equal(got, tt.want) {
				t.Errorf("%d %q, want %d %q", rec.Code, got, tt.status, tt.want)
			}
		})
	}
}
