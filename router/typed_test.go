package router_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

type level int

type point struct{ X, Y int }

// UnmarshalText makes point a parameter type: "3,4".
func (p *point) UnmarshalText(b []byte) error {
	x, y, ok := strings.Cut(string(b), ",")
	if !ok {
		return errors.New("want X,Y")
	}
	if err := json.Unmarshal([]byte(x), &p.X); err != nil {
		return err
	}
	return json.Unmarshal([]byte(y), &p.Y)
}

type embeddedParams struct {
	Trace string `header:"X-Trace"`
}

type itemIn struct {
	embeddedParams
	ID      int64     `path:"id" minimum:"1"`
	Limit   int       `query:"limit" minimum:"1" maximum:"50" default:"10"`
	Tags    []string  `query:"tag"`
	Sizes   []uint16  `query:"size"`
	Sort    string    `query:"sort" enum:"asc,desc"`
	Since   time.Time `query:"since"`
	Near    *point    `query:"near"`
	Verbose *bool     `query:"verbose"`
	Level   level     `query:"level"`
	Langs   []string  `header:"Accept-Language"`
	Session string    `cookie:"session"`
	Token   string    `header:"X-Token" required:"true" minLength:"3"`
}

type itemOut struct {
	ID int64 `json:"id"`
}

type createIn struct {
	Org    string            `path:"org"`
	Name   string            `json:"name" required:"true" minLength:"2"`
	Count  int               `json:"count" maximum:"10"`
	Labels map[string]string `json:"labels,omitempty"`
	Items  []struct {
		SKU string `json:"sku" pattern:"^[A-Z]+$"`
	} `json:"items,omitempty"`
	Secret string // untagged: never from the body
	Owner  *owner `json:"owner"`
}

type owner struct {
	Name string `json:"name" required:"true"`
}

// typedMux registers typed routes; the last input bound by GET
// /items/{id} is stored in *last.
func typedMux(t *testing.T, last *itemIn) *router.Mux {
	m := newMux(t, router.Config{})
	router.Get(m, "/items/{id}", func(ctx router.Context, in itemIn) (itemOut, error) {
		if last != nil {
			*last = in
		}
		return itemOut{ID: in.ID}, nil
	})
	router.Post(m, "/orgs/:org/things", func(ctx router.Context, in createIn) (createIn, error) {
		if in.Name == "boom" {
			return in, router.NewHTTPError(http.StatusConflict, "exists")
		}
		return in, nil
	}, router.WithStatus(http.StatusCreated), router.WithBodyLimit(256))
	router.Delete(m, "/things/{id}", func(ctx router.Context, in struct {
		ID string `path:"id"`
	}) (struct{}, error) {
		return struct{}{}, nil
	})
	router.Put(m, "/list", func(ctx router.Context, in []int) ([]int, error) { return in, nil })
	router.Get(m, "/plain", func(ctx router.Context, _ struct{}) (*itemOut, error) { return &itemOut{}, nil })
	return m
}

func TestTypedBinds(t *testing.T) {
	t.Parallel()
	var last itemIn
	m := typedMux(t, &last)
	rec := do(t, m, http.MethodGet,
		"/items/7?tag=a&tag=b&size=1&size=2&sort=desc&since=2024-05-01T10:00:00Z&near=3,4&verbose=true&level=2",
		"", "X-Token", "abc", "Accept-Language", "en, fr", "X-Trace", "t1", "Cookie", "session=s1")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := strings.TrimSpace(rec.Body.String()); got != `{"id":7}` {
		t.Fatalf("body %s", got)
	}
	yes := true
	want := itemIn{
		embeddedParams: embeddedParams{Trace: "t1"},
		ID:             7, Limit: 10, Tags: []string{"a", "b"}, Sizes: []uint16{1, 2}, Sort: "desc",
		Since: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Near: &point{3, 4}, Verbose: &yes, Level: 2,
		Langs: []string{"en", "fr"}, Session: "s1", Token: "abc",
	}
	if !reflect.DeepEqual(last, want) {
		t.Fatalf("bound\n%+v\nwant\n%+v", last, want)
	}

	rec = do(t, m, http.MethodPost, "/orgs/acme/things",
		`{"name":"kit","count":3,"labels":{"a":"b"},"items":[{"sku":"AB"}],"Secret":"x","Org":"evil"}`,
		"Content-Type", "application/json")
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var c createIn
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Org != "acme" || c.Name != "kit" || c.Count != 3 || c.Labels["a"] != "b" || len(c.Items) != 1 || c.Secret != "" {
		t.Fatalf("bound %+v: the path must win over the body and untagged fields stay empty", c)
	}

	if rec := do(t, m, http.MethodDelete, "/things/x", ""); rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("delete: %d %q, want 204 without body", rec.Code, rec.Body)
	}
	if rec := do(t, m, http.MethodPut, "/list", "[1,2]", "Content-Type", "application/json"); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "[1,2]" {
		t.Fatalf("put: %d %q", rec.Code, rec.Body)
	}
	if rec := do(t, m, http.MethodGet, "/plain", ""); rec.Code != 200 {
		t.Fatalf("plain: %d %q", rec.Code, rec.Body)
	}
}

type fullProblem struct {
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Errors []router.FieldError `json:"errors"`
}

func TestTypedRejects(t *testing.T) {
	t.Parallel()
	m := typedMux(t, nil)
	tests := []struct {
		name, method, target, body string
		headers                    []string
		status                     int
		errors                     []router.FieldError // nil: only the status and detail are checked
		detail                     string
	}{
		{
			name: "parameters", method: http.MethodGet,
			target:  "/items/0?limit=99&sort=up&size=70000&since=yesterday&near=1&verbose=maybe&level=x&tag=ok",
			headers: []string{"X-Token", "ab"},
			status:  http.StatusUnprocessableEntity,
			errors: []router.FieldError{
				{Location: "header.X-Token", Message: "minLength: got 2, want 3", Value: "ab"},
				{Location: "path.id", Message: "minimum: got 0, want 1", Value: "0"},
				{Location: "query.level", Message: "got string, want integer", Value: "x"},
				{Location: "query.limit", Message: "maximum: got 99, want 50", Value: "99"},
				{Location: "query.near", Message: "want X,Y", Value: "1"},
				{Location: "query.since", Message: `parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`, Value: "yesterday"},
				{Location: "query.size", Message: "out of range for uint16", Value: "70000"},
				{Location: "query.sort", Message: "value must be one of 'asc', 'desc'", Value: "up"},
				{Location: "query.verbose", Message: "got string, want boolean", Value: "maybe"},
			},
		},
		{
			name: "missing header", method: http.MethodGet, target: "/items/1",
			status: http.StatusUnprocessableEntity,
			errors: []router.FieldError{{Location: "header.X-Token", Message: "required"}},
		},
		{
			name: "body values", method: http.MethodPost, target: "/orgs/a/things",
			body: `{"name":"x","count":11,"items":[{"sku":"ab"}],"labels":{"k":1},"owner":{}}`, headers: []string{"Content-Type", "application/json"},
			status: http.StatusUnprocessableEntity,
			errors: []router.FieldError{
				{Location: "body.count", Message: "maximum: got 11, want 10"},
				{Location: "body.items[0].sku", Message: "'ab' does not match pattern '^[A-Z]+$'"},
				{Location: "body.labels.k", Message: "got number, want string"},
				{Location: "body.name", Message: "minLength: got 1, want 2"},
				{Location: "body.owner.name", Message: "required"},
			},
		},
		{
			name: "missing body field", method: http.MethodPost, target: "/orgs/a/things",
			body: `{}`, headers: []string{"Content-Type", "application/json"},
			status: http.StatusUnprocessableEntity,
			errors: []router.FieldError{{Location: "body.name", Message: "required"}},
		},
		{
			name: "wrong body type", method: http.MethodPost, target: "/orgs/a/things",
			body: `[1]`, headers: []string{"Content-Type", "application/json"},
			status: http.StatusUnprocessableEntity,
			errors: []router.FieldError{{Location: "body", Message: "got array, want object"}},
		},
		{name: "not JSON", method: http.MethodPost, target: "/orgs/a/things", body: `{}`, headers: []string{"Content-Type", "text/plain"},
			status: http.StatusUnsupportedMediaType, detail: "Content-Type must be application/json"},
		{name: "malformed", method: http.MethodPost, target: "/orgs/a/things", body: `{"name":`, headers: []string{"Content-Type", "application/json"},
			status: http.StatusBadRequest, detail: "malformed JSON"},
		{name: "empty", method: http.MethodPost, target: "/orgs/a/things", headers: []string{"Content-Type", "application/json"},
			status: http.StatusBadRequest, detail: "request body is empty"},
		{name: "two values", method: http.MethodPost, target: "/orgs/a/things", body: `{"name":"ab"} {}`, headers: []string{"Content-Type", "application/json"},
			status: http.StatusBadRequest, detail: "single JSON value"},
		{name: "too large", method: http.MethodPost, target: "/orgs/a/things", body: `{"name":"` + strings.Repeat("x", 300) + `"}`,
			headers: []string{"Content-Type", "application/json"}, status: http.StatusRequestEntityTooLarge, detail: "256 bytes"},
		{name: "handler error", method: http.MethodPost, target: "/orgs/a/things", body: `{"name":"boom"}`,
			headers: []string{"Content-Type", "application/json"}, status: http.StatusConflict, detail: "exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, m, tt.method, tt.target, tt.body, tt.headers...)
			readProblem(t, rec, tt.status)
			var p fullProblem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q, want it to contain %q", p.Detail, tt.detail)
			}
			if tt.errors != nil && !reflect.DeepEqual(p.Errors, tt.errors) {
				got, _ := json.MarshalIndent(p.Errors, "", "  ")
				t.Errorf("errors:\n%s\nwant %+v", got, tt.errors)
			}
		})
	}
}

type deepIn struct {
	ID string `path:"id"`
}

func TestTypedRegistrationFails(t *testing.T) {
	t.Parallel()
	noop := func(ctx router.Context) error { return nil }
	tests := []struct {
		name string
		want string
		fn   func(m *router.Mux)
	}{
		{"pointer input", "must not be a pointer", func(m *router.Mux) {
			router.Get(m, "/x", func(router.Context, *deepIn) (int, error) { return 0, nil })
		}},
		{"path parameter missing", `has path parameter "id", which the path "/x" lacks`, func(m *router.Mux) {
			router.Get(m, "/x", func(router.Context, deepIn) (int, error) { return 0, nil })
		}},
		{"body on GET", "no body for GET requests", func(m *router.Mux) {
			router.Get(m, "/x/{org}", func(router.Context, createIn) (int, error) { return 0, nil })
		}},
		{"body on DELETE", "no body for DELETE requests", func(m *router.Mux) {
			router.Delete(m, "/x/{org}", func(router.Context, createIn) (int, error) { return 0, nil })
		}},
		{"two tags", "tagged both query and header", func(m *router.Mux) {
			router.Get(m, "/x", func(router.Context, struct {
				A string `query:"a" header:"A"`
			}) (int, error) {
				return 0, nil
			})
		}},
		{"unsupported parameter type", "cannot hold a parameter", func(m *router.Mux) {
			router.Get(m, "/x", func(router.Context, struct {
				A map[string]int `query:"a"`
			}) (int, error) {
				return 0, nil
			})
		}},
		{"bytes parameter", "use string", func(m *router.Mux) {
			router.Get(m, "/x", func(router.Context, struct {
				A []byte `query:"a"`
			}) (int, error) {
				return 0, nil
			})
		}},
		{"repeated path parameter", "only query parameters and headers may repeat", func(m *router.Mux) {
			router.Get(m, "/x/{a}", func(router.Context, struct {
				A []int `path:"a"`
			}) (int, error) {
				return 0, nil
			})
		}},
		{"WithRequest on typed", "a typed handler's request is its input type", func(m *router.Mux) {
			router.Get(m, "/x/{id}", func(router.Context, deepIn) (int, error) { return 0, nil }, router.WithRequest(&deepIn{}))
		}},
		{"WithResponse of the success status", "use WithStatus", func(m *router.Mux) {
			router.Post(m, "/x", func(router.Context, struct{}) (int, error) { return 0, nil },
				router.WithStatus(201), router.WithResponse(201, nil, "made"))
		}},
		{"WithStatus on untyped", "WithStatus applies to typed handlers", func(m *router.Mux) {
			m.GET("/x", noop, router.WithStatus(201))
		}},
		{"WithStatus on a group", "WithStatus applies to single routes", func(m *router.Mux) {
			m.Group("/g", router.WithStatus(201))
		}},
		{"WithRequest on a group", "WithRequest applies to single routes", func(m *router.Mux) {
			m.Group("/g", router.WithRequest(&deepIn{}))
		}},
		{"WithRequest with nothing", "has no path, query, header, cookie or json fields", func(m *router.Mux) {
			m.GET("/x", noop, router.WithRequest(&struct{ A int }{}))
		}},
		{"WithRequest path missing", `path parameter "id"`, func(m *router.Mux) {
			m.GET("/x", noop, router.WithRequest(&deepIn{}))
		}},
		{"WithRequest body on WebSocket", "a WebSocket handshake has none", func(m *router.Mux) {
			m.WebSocket("/ws/{org}", wsNoop, router.WithRequest(&createIn{}))
		}},
		{"WithRequest cookie on WebSocket", "cannot describe cookies of a WebSocket handshake", func(m *router.Mux) {
			m.WebSocket("/ws", wsNoop, router.WithRequest(&struct {
				S string `cookie:"s"`
			}{}))
		}},
		{"message payload not describable", "payload type *struct", func(m *router.Mux) {
			m.WebSocket("/ws", wsNoop, router.WithWebSocketMessages(&struct {
				F func() `json:"f"`
			}{}, nil))
		}},
		{"reply payload not describable", "cannot be documented", func(m *router.Mux) {
			m.WebSocket("/ws", wsNoop, router.WithMessages(apidoc.Message{Name: "a", Direction: apidoc.ClientToServer, Payload: &health{},
				Reply: &apidoc.Message{Name: "b", Direction: apidoc.ServerToClient, Payload: &struct {
					C chan int `json:"c"`
				}{}}}))
		}},
		{"response body not describable", "WithResponse(200): body type", func(m *router.Mux) {
			m.GET("/x", noop, router.WithResponse(200, &struct {
				F func() `json:"f"`
			}{}, ""))
		}},
		{"typed output not describable", "output type", func(m *router.Mux) {
			router.Get(m, "/x", func(router.Context, struct{}) (struct {
				F func() `json:"f"`
			}, error) {
				return struct {
					F func() `json:"f"`
				}{}, nil
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMux(t, router.Config{})
			testkit.MustPanic(t, "forge: ", tt.want, func() { tt.fn(m) })
		})
	}
	testkit.MustPanic(t, "forge: ", "not an HTTP status", func() { router.WithResponse(42, nil, "") })
	testkit.MustPanic(t, "forge: ", "not a success (2xx) status", func() { router.WithStatus(404) })
	testkit.MustPanic(t, "forge: ", "nil request type", func() { router.WithRequest(nil) })
}

type health struct {
	OK bool `json:"ok"`
}

// TestDocumentedRoutes checks what RouteInfo carries for the documents:
// request types, responses in order, hidden routes, mounted routers.
func TestDocumentedRoutes(t *testing.T) {
	t.Parallel()
	m := newMux(t, router.Config{Defaults: []router.GroupOption{router.WithResponse(401, &router.Problem{}, "Sign in first")}})
	router.Post(m, "/things/{org}", func(router.Context, createIn) (health, error) { return health{}, nil },
		router.WithStatus(202), router.WithResponse(409, &router.Problem{}, "Exists"), router.WithResponse(400, &router.Problem{}, "Bad"))
	m.GET("/health", ok, router.WithResponse(200, &health{}, "Up"), router.WithHidden())
	m.WebSocket("/ws/{org}", wsNoop, router.WithRequest(&struct {
		Org string `path:"org"`
		Q   string `query:"q"`
	}{}))
	sub := newMux(t, router.Config{})
	sub.GET("/ping", ok, router.WithName("ping"))
	m.Mount("/v2/{tenant}", sub)
	if got := m.RouteCount(); got != 4 {
		t.Fatalf("RouteCount = %d, want 4", got)
	}
	sub.GET("/pong", ok)
	if got := m.RouteCount(); got != 5 {
		t.Fatalf("RouteCount after a route on the mounted router = %d, want 5", got)
	}

	routes := m.Routes()
	post := routes[0]
	if _, ok := post.Request.(*createIn); !ok {
		t.Errorf("typed Request = %T, want *createIn", post.Request)
	}
	var statuses []int
	for _, r := range post.Responses {
		statuses = append(statuses, r.Status)
	}
	if want := []int{202, 400, 401, 409, 422, 0}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	if r := post.Responses[0]; r.ContentType != "application/json" || reflect.TypeOf(r.Body) != reflect.TypeFor[*health]() {
		t.Errorf("success response %+v", r)
	}
	if r := post.Responses[1]; r.Description != "Bad" || r.ContentType != "application/problem+json" {
		t.Errorf("400 response %+v: WithResponse replaces the typed handler's", r)
	}
	if h := routes[1]; !h.Hidden || len(h.Responses) != 2 || h.Responses[0].Status != 200 || h.Responses[1].Status != 401 {
		t.Errorf("health %+v", h)
	}
	if ws := routes[2]; ws.Request == nil || ws.Responses != nil {
		t.Errorf("WebSocket route: Request %T, Responses %v", ws.Request, ws.Responses)
	}
	if p := routes[3]; p.Path != "/v2/{tenant}/ping" || p.Pattern != "/v2/{tenant}/ping" || p.Name != "ping" ||
		!reflect.DeepEqual(p.Params, []apidoc.Param{{Name: "tenant"}}) {
		t.Errorf("mounted route %+v", p)
	}
	if rec := do(t, m, http.MethodGet, "/v2/acme/pong", ""); rec.Code != http.StatusOK {
		t.Errorf("mounted route answers %d", rec.Code)
	}
}

// BenchmarkTypedRequest binds, validates and answers one typed request:
// path, header and a JSON body.
func BenchmarkTypedRequest(b *testing.B) {
	m := router.New(router.Config{})
	router.Post(m, "/orgs/:org/things", func(ctx router.Context, in createIn) (health, error) {
		return health{OK: true}, nil
	})
	body := `{"name":"kit","count":3,"labels":{"a":"b"},"items":[{"sku":"AB"}]}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/orgs/acme/things", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
