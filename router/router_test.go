package router_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

func TestParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, target string
		want               map[string]string // nil: expect 404
	}{
		{"colon", "/users/:id", "/users/42", map[string]string{"id": "42"}},
		{"brace", "/users/{id}", "/users/42", map[string]string{"id": "42"}},
		{"regexp match", "/users/{id:[0-9]+}", "/users/42", map[string]string{"id": "42"}},
		{"regexp mismatch", "/users/{id:[0-9]+}", "/users/abc", nil},
		{"mixed", "/orgs/:org/repos/{repo}", "/orgs/go/repos/chi", map[string]string{"org": "go", "repo": "chi"}},
		{"colon mid path", "/rooms/:room/members", "/rooms/lobby/members", map[string]string{"room": "lobby"}},
		{"brace in segment", "/files/{name}.json", "/files/report.json", map[string]string{"name": "report"}},
		{"wildcard", "/static/*", "/static/css/site.css", map[string]string{"*": "css/site.css"}},
		{"colon not at segment start", "/v1/items:batch", "/v1/items:batch", map[string]string{"items": ""}},
		{"missing segment", "/users/:id", "/users/", nil},
		{"unknown param", "/users/:id", "/users/7", map[string]string{"id": "7", "name": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMux(t, router.Config{})
			m.GET(tc.path, func(ctx router.Context) error {
				got := map[string]string{}
				for k := range tc.want {
					got[k] = ctx.Param(k)
				}
				return ctx.JSON(http.StatusOK, got)
			})
			rec := do(t, m, http.MethodGet, tc.target, "")
			if tc.want == nil {
				readProblem(t, rec, http.StatusNotFound)
				return
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200 (body %q)", rec.Code, rec.Body.String())
			}
			want := marshal(t, tc.want)
			if got := strings.TrimSpace(rec.Body.String()); got != want {
				t.Fatalf("params = %s, want %s", got, want)
			}
		})
	}
}

func TestParamAfterHandlerReturns(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	var saved router.Context
	m.GET("/users/:id", func(ctx router.Context) error {
		saved = ctx
		return ctx.NoContent(http.StatusNoContent)
	})
	do(t, m, http.MethodGet, "/users/7", "")
	do(t, m, http.MethodGet, "/users/8", "") // chi reuses its pooled route context
	if got := saved.Param("id"); got != "8" {
		t.Fatalf("Param after return = %q, want 8", got)
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	reg := map[string]func(string, router.Handler, ...router.RESTOption){
		http.MethodGet: m.GET, http.MethodPost: m.POST, http.MethodPut: m.PUT, http.MethodPatch: m.PATCH,
		http.MethodDelete: m.DELETE, http.MethodHead: m.HEAD, http.MethodOptions: m.OPTIONS,
	}
	for method, fn := range reg {
		fn("/thing", func(ctx router.Context) error {
			ctx.ResponseWriter().Header().Set("X-Method", method)
			return ctx.NoContent(http.StatusNoContent)
		})
	}
	for method := range reg {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			rec := do(t, m, method, "/thing", "")
			if rec.Code != http.StatusNoContent || rec.Header().Get("X-Method") != method {
				t.Fatalf("%s: status %d, X-Method %q", method, rec.Code, rec.Header().Get("X-Method"))
			}
		})
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	m.GET("/items", ok)
	m.POST("/items", ok)
	m.WebSocket("/ws", wsNoop)

	readProblem(t, do(t, m, http.MethodGet, "/nope", ""), http.StatusNotFound)
	tests := []struct {
		target, allow string
	}{
		{"/items", "GET, POST"},
		{"/ws", "GET"},
	}
	for _, tc := range tests {
		rec := do(t, m, http.MethodDelete, tc.target, "")
		readProblem(t, rec, http.StatusMethodNotAllowed)
		if got := rec.Header().Get("Allow"); got != tc.allow {
			t.Errorf("DELETE %s: Allow = %q, want %q", tc.target, got, tc.allow)
		}
	}
}

func TestMiddlewareOrder(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{Defaults: []router.GroupOption{router.WithMiddleware(trace("defaults"))}})
	m.Use(trace("app"))
	api := m.Group("/api", router.WithMiddleware(trace("group-opt")))
	api.Use(trace("group-use"))
	v1 := api.Group("/v1")
	v1.Use(trace("v1-use"))
	v1.GET("/x", func(ctx router.Context) error {
		ctx.ResponseWriter().Header().Add("X-Trace", "handler")
		return ctx.NoContent(http.StatusNoContent)
	}, router.WithMiddleware(trace("route-1"), trace("route-2")))
	m.GET("/top", ok)

	tests := []struct {
		target string
		want   []string
	}{
		{"/api/v1/x", []string{"app", "defaults", "group-opt", "group-use", "v1-use", "route-1", "route-2", "handler"}},
		{"/top", []string{"app", "defaults"}},
		{"/missing", []string{"app"}}, // app middleware runs before routing
	}
	for _, tc := range tests {
		rec := do(t, m, http.MethodGet, tc.target, "")
		if got := rec.Header().Values("X-Trace"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("GET %s: middleware ran as %q, want %q", tc.target, got, tc.want)
		}
	}
}

func TestChiMiddleware(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	m.Use(middleware.RequestID)
	m.GET("/id", func(ctx router.Context) error {
		return ctx.String(http.StatusOK, middleware.GetReqID(ctx.Context()))
	})
	if rec := do(t, m, http.MethodGet, "/id", ""); rec.Body.Len() == 0 {
		t.Fatal("chi's RequestID middleware did not reach the handler")
	}
}

func TestContextValuesREST(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	m.Use(setUser("app"))
	g := m.Group("/g")
	g.Use(setUser("group"))
	check := func(ctx router.Context) error {
		a, _ := ctx.Context().Value(userKey).(string)
		b, _ := ctx.Request().Context().Value(userKey).(string)
		return ctx.String(http.StatusOK, a+","+b)
	}
	m.GET("/a", check)
	g.GET("/b", check)
	g.GET("/c", check, router.WithMiddleware(setUser("route")))
	for target, want := range map[string]string{"/a": "app,app", "/g/b": "group,group", "/g/c": "route,route"} {
		if got := do(t, m, http.MethodGet, target, "").Body.String(); got != want {
			t.Errorf("GET %s: user = %q, want %q", target, got, want)
		}
	}
}

func TestGroupsAndRoute(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	m.Route("/api/", func(r router.Router) {
		r.GET("/", ok)
		r.Group("/users/:id").GET("/posts", func(ctx router.Context) error {
			return ctx.String(http.StatusOK, ctx.Param("id"))
		})
	})
	m.Group("").GET("/plain", ok)
	m.Group("/").GET("/slash", ok)

	tests := []struct {
		target string
		status int
		body   string
	}{
		{"/api", http.StatusOK, "ok"},
		{"/api/users/9/posts", http.StatusOK, "9"},
		{"/plain", http.StatusOK, "ok"},
		{"/slash", http.StatusOK, "ok"},
		{"/api/", http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		rec := do(t, m, http.MethodGet, tc.target, "")
		if rec.Code != tc.status || (tc.body != "" && rec.Body.String() != tc.body) {
			t.Errorf("GET %s = %d %q, want %d %q", tc.target, rec.Code, rec.Body.String(), tc.status, tc.body)
		}
	}
}

func TestMount(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{})
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("file " + r.URL.Path))
	})
	g := m.Group("/assets")
	g.Use(trace("group"))
	g.Mount("/static", http.StripPrefix("/assets/static", files))
	m.Mount("/raw", files)

	tests := []struct {
		target, body string
		trace        []string
	}{
		{"/assets/static/css/site.css", "file /css/site.css", []string{"group"}},
		{"/assets/static", "file ", []string{"group"}},
		{"/raw/a/b", "file /raw/a/b", nil},
	}
	for _, tc := range tests {
		rec := do(t, m, http.MethodGet, tc.target, "")
		if rec.Code != http.StatusOK || rec.Body.String() != tc.body {
			t.Errorf("GET %s = %d %q, want 200 %q", tc.target, rec.Code, rec.Body.String(), tc.body)
		}
		if got := rec.Header().Values("X-Trace"); !reflect.DeepEqual(got, tc.trace) {
			t.Errorf("GET %s: middleware %q, want %q", tc.target, got, tc.trace)
		}
	}
	if n := len(m.Routes()); n != 0 {
		t.Errorf("Routes() lists %d mounted handlers, want none", n)
	}
}

type chatIn struct{ Text string }
type chatOut struct{ From, Text string }

func TestRoutes(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{Defaults: []router.GroupOption{
		router.WithTags("all"), router.WithSubprotocols("default.v1"),
	}})
	m.GET("/health", ok, router.WithName("health"), router.WithSummary("Health"),
		router.WithDescription("Reports liveness."))
	api := m.Group("/api", router.WithTags("api", "all"), router.WithDeprecated())
	api.POST("/users/{id:[0-9]+}/posts/:post", ok, router.WithTags("users"))
	api.WebSocket("/ws/chat/:room", wsNoop, router.WithName("chat"), router.WithSummary("Chat room"),
		router.WithTags("chat"), router.WithWebSocketMessages(&chatIn{}, &chatOut{}),
		router.WithSubprotocols("chat.v2", "chat.v1"), router.WithRequiredSubprotocol())
	m.WebSocket("/ws/feed", wsNoop, router.WithWebSocketMessages(nil, &chatOut{}))

	want := []apidoc.Route{
		{
			Method: "GET", Path: "/health", Pattern: "/health", Name: "health", Summary: "Health",
			Description: "Reports liveness.", Tags: []string{"all"},
		},
		{
			Method: "POST", Path: "/api/users/{id}/posts/{post}", Pattern: "/api/users/{id:[0-9]+}/posts/{post}",
			Params: []apidoc.Param{{Name: "id", Pattern: "[0-9]+"}, {Name: "post"}},
			Tags:   []string{"all", "api", "users"}, Deprecated: true,
		},
		{
			Method: "GET", Path: "/api/ws/chat/{room}", Pattern: "/api/ws/chat/{room}",
			Params: []apidoc.Param{{Name: "room"}}, Name: "chat", Summary: "Chat room",
			Tags: []string{"all", "api", "chat"}, Deprecated: true, WebSocket: true,
			Messages: []apidoc.Message{
				{Direction: apidoc.ClientToServer, Payload: &chatIn{}},
				{Direction: apidoc.ServerToClient, Payload: &chatOut{}},
			},
			Subprotocols: []string{"chat.v2", "chat.v1"}, RequireSubprotocol: true,
		},
		{
			Method: "GET", Path: "/ws/feed", Pattern: "/ws/feed", Tags: []string{"all"}, WebSocket: true,
			Messages:     []apidoc.Message{{Direction: apidoc.ServerToClient, Payload: &chatOut{}}},
			Subprotocols: []string{"default.v1"},
		},
	}
	got := m.Routes()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Routes() =\n%+v\nwant\n%+v", got, want)
	}
	// The registry hands out copies.
	got[1].Tags[0] = "changed"
	got[1].Params[0].Name = "changed"
	if again := m.Routes(); !reflect.DeepEqual(again, want) {
		t.Fatalf("Routes() changed through a returned slice: %+v", again)
	}
}

func TestRegistrationPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want string
		fn   func(m *router.Mux)
	}{
		{"empty path", "must begin with '/'", func(m *router.Mux) { m.GET("", ok) }},
		{"relative path", `path "users" must begin with '/'`, func(m *router.Mux) { m.GET("users", ok) }},
		{"empty colon param", "empty name", func(m *router.Mux) { m.GET("/users/:", ok) }},
		{"empty brace param", "empty name", func(m *router.Mux) { m.GET("/users/{}", ok) }},
		{"empty brace param with regexp", "empty name", func(m *router.Mux) { m.GET("/users/{:[0-9]+}", ok) }},
		{"unclosed brace", "no closing '}'", func(m *router.Mux) { m.GET("/users/{id", ok) }},
		{"stray brace", "unexpected '}'", func(m *router.Mux) { m.GET("/users/id}", ok) }},
		{"bad regexp", "missing closing ]", func(m *router.Mux) { m.GET("/users/{id:[0-9}", ok) }},
		{"repeated param", `repeats parameter "id"`, func(m *router.Mux) { m.GET("/a/:id/b/{id}", ok) }},
		{"wildcard not last", "'*' must be the last", func(m *router.Mux) { m.GET("/a/*/b", ok) }},
		{"nil handler", "nil handler", func(m *router.Mux) { m.GET("/a", nil) }},
		{"nil websocket handler", "nil handler", func(m *router.Mux) { m.WebSocket("/a", nil) }},
		{"duplicate", "duplicate route: GET /a conflicts with GET /a", func(m *router.Mux) {
			m.GET("/a", ok)
			m.GET("/a", ok)
		}},
		{"duplicate across syntaxes", "duplicate route: GET /u/{uid} conflicts with GET /u/{id}", func(m *router.Mux) {
			m.GET("/u/:id", ok)
			m.GET("/u/{uid}", ok)
		}},
		{"duplicate through group", "duplicate route", func(m *router.Mux) {
			m.GET("/api/x", ok)
			m.Group("/api").GET("/x", ok)
		}},
		{"websocket on GET route", "duplicate route: WebSocket /a conflicts with GET /a", func(m *router.Mux) {
			m.GET("/a", ok)
			m.WebSocket("/a", wsNoop)
		}},
		{"duplicate name", `duplicate route name "n"`, func(m *router.Mux) {
			m.GET("/a", ok, router.WithName("n"))
			m.POST("/b", ok, router.WithName("n"))
		}},
		{"name on group", "WithName applies to single routes", func(m *router.Mux) {
			m.Group("/g", router.WithName("n"))
		}},
		{"nil option", "nil route option", func(m *router.Mux) { m.GET("/a", ok, nil) }},
		{"bad group prefix", `path "api" must begin with '/'`, func(m *router.Mux) { m.Group("api") }},
		{"wildcard group prefix", "must not contain '*'", func(m *router.Mux) { m.Group("/api/*") }},
		{"nil route fn", "nil function", func(m *router.Mux) { m.Route("/r", nil) }},
		{"use after route", "Use must come before the first route", func(m *router.Mux) {
			m.GET("/a", ok)
			m.Use(trace("late"))
		}},
		{"use on group after route", "Use must come before the first route", func(m *router.Mux) {
			g := m.Group("/g")
			g.Group("/sub").GET("/a", ok)
			g.Use(trace("late"))
		}},
		{"nil middleware", "nil middleware", func(m *router.Mux) { m.Use(nil) }},
		{"mount nil", "nil handler", func(m *router.Mux) { m.Mount("/m", nil) }},
		{"mount twice", "Mount", func(m *router.Mux) {
			m.Mount("/m", http.NotFoundHandler())
			m.Mount("/m", http.NotFoundHandler())
		}},
		{"required subprotocol without any", "WithRequiredSubprotocol needs WithSubprotocols", func(m *router.Mux) {
			m.WebSocket("/ws", wsNoop, router.WithRequiredSubprotocol())
		}},
		{"upgrader with origins", "WithUpgrader cannot be combined with WithOrigins", func(m *router.Mux) {
			m.WebSocket("/ws", wsNoop, router.WithOrigins("*.example.com"), router.WithUpgrader(&websocket.Upgrader{}))
		}},
		{"compression under upgrader", "WithCompression cannot be combined with WithUpgrader", func(m *router.Mux) {
			m.Group("/g", router.WithUpgrader(&websocket.Upgrader{})).
				WebSocket("/ws", wsNoop, router.WithCompression(0))
		}},
		{"upgrader and subprotocols in a group", "WithSubprotocols cannot be combined with WithUpgrader", func(m *router.Mux) {
			m.Group("/g", router.WithUpgrader(&websocket.Upgrader{}), router.WithSubprotocols("v1"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMux(t, router.Config{})
			testkit.MustPanic(t, "forge: ", tc.want, func() { tc.fn(m) })
		})
	}
}

// TestOptionKinds: an option of one kind of route has that kind's type
// only, so giving it to a route of the other kind does not compile
// (m.POST("/rest", h, router.WithReadLimit(10)) is a type error, not a
// panic). Through a group or the defaults it skips the other kind.
func TestOptionKinds(t *testing.T) {
	t.Parallel()
	wsOnly := map[string]router.WebSocketOption{
		"WithMessages":            router.WithMessages(apidoc.Message{Direction: apidoc.ClientToServer, Payload: &chatIn{}}),
		"WithMessageRateLimit":    router.WithMessageRateLimit(1, 1, false),
		"WithWebSocketMessages":   router.WithWebSocketMessages(&chatIn{}, &chatOut{}),
		"WithSubprotocols":        router.WithSubprotocols("v1"),
		"WithRequiredSubprotocol": router.WithRequiredSubprotocol(),
		"WithOrigins":             router.WithOrigins("*"),
		"WithReadLimit":           router.WithReadLimit(10),
		"WithKeepalive":           router.WithKeepalive(time.Second, time.Second),
		"WithWriteTimeout":        router.WithWriteTimeout(time.Second),
		"WithCloseTimeout":        router.WithCloseTimeout(time.Second),
		"WithQueueBytes":          router.WithQueueBytes(10),
		"WithSlowConsumerPolicy":  router.WithSlowConsumerPolicy(connection.PolicyDropOldest),
		"WithCompression":         router.WithCompression(0),
		"WithUpgrader":            router.WithUpgrader(&websocket.Upgrader{}),
	}
	for name, opt := range wsOnly {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, ok := opt.(router.RESTOption); ok {
				t.Fatalf("%s is a RESTOption too", name)
			}
			// Through a group or the defaults, the option is simply not
			// relevant to REST routes.
			m := newMux(t, router.Config{})
			m.Group("/g", opt).POST("/rest", ok)
			d := newMux(t, router.Config{Defaults: []router.GroupOption{opt}})
			d.POST("/rest", ok)
			if rec := do(t, d, http.MethodPost, "/rest", ""); rec.Code != http.StatusOK {
				t.Fatalf("REST route under a WebSocket default: status %d", rec.Code)
			}
		})
	}
	restOnly := map[string]router.RESTOption{
		"WithBodyLimit": router.WithBodyLimit(10),
		"WithResponse":  router.WithResponse(404, &router.Problem{}, "none"),
		"WithStatus":    router.WithStatus(201),
	}
	for name, opt := range restOnly {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, ok := opt.(router.WebSocketOption); ok {
				t.Fatalf("%s is a WebSocketOption too", name)
			}
		})
	}
	t.Run("REST option through a group", func(t *testing.T) {
		t.Parallel()
		m := newMux(t, router.Config{})
		m.Group("/g", router.WithBodyLimit(10), router.WithResponse(404, &router.Problem{}, "none")).WebSocket("/ws", wsNoop)
	})
	if _, ok := router.WithAuthExpiry().(router.RESTOption); ok {
		t.Error("WithAuthExpiry is a RESTOption too")
	}
	// Options of both kinds are both; these would not compile otherwise.
	var _ router.RESTOption = router.WithSummary("s")
	var _ router.WebSocketOption = router.WithSummary("s")
}

func TestOptionValuePanics(t *testing.T) {
	t.Parallel()
	testkit.MustPanicCases(t, "forge: ", []testkit.PanicCase{
		{"empty name", func() { router.WithName("") }, "WithName"},
		{"empty tag", func() { router.WithTags("a", "") }, "WithTags"},
		{"nil middleware", func() { router.WithMiddleware(nil) }, "WithMiddleware"},
		{"body limit", func() { router.WithBodyLimit(0) }, "WithBodyLimit"},
		{"no messages", func() { router.WithWebSocketMessages(nil, nil) }, "WithWebSocketMessages"},
		{"no subprotocols", func() { router.WithSubprotocols() }, "WithSubprotocols"},
		{"empty subprotocol", func() { router.WithSubprotocols("") }, "WithSubprotocols"},
		{"no origins", func() { router.WithOrigins() }, "WithOrigins"},
		{"read limit", func() { router.WithReadLimit(-1) }, "WithReadLimit"},
		{"zero ping", func() { router.WithKeepalive(0, time.Second) }, "WithKeepalive"},
		{"zero pong", func() { router.WithKeepalive(time.Second, 0) }, "WithKeepalive"},
		{"write timeout", func() { router.WithWriteTimeout(0) }, "WithWriteTimeout"},
		{"close timeout", func() { router.WithCloseTimeout(-time.Second) }, "WithCloseTimeout"},
		{"queue bytes", func() { router.WithQueueBytes(0) }, "WithQueueBytes"},
		{"policy", func() { router.WithSlowConsumerPolicy(connection.Policy(42)) }, "WithSlowConsumerPolicy"},
		{"compression", func() { router.WithCompression(-1) }, "WithCompression"},
		{"upgrader", func() { router.WithUpgrader(nil) }, "WithUpgrader"},
	})
}

func TestNewRejectsRouteOnlyDefaults(t *testing.T) {
	t.Parallel()
	testkit.MustPanic(t, "forge: ", "WithName", func() { router.New(router.Config{Defaults: []router.GroupOption{router.WithName("x")}}) })
}
