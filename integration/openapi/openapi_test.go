package openapi_test

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/integration/spectest"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/openapi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type Item struct {
	Name  string `json:"name" required:"true" minLength:"1"`
	Price int    `json:"price" minimum:"0"`
}

func (Item) Examples() []any { return []any{Item{Name: "pen", Price: 2}} }

type createIn struct {
	Shop string `path:"shop"`
	Item
}

type Problem struct {
	Detail string `json:"detail"`
}

func spec() openapi.Spec {
	return openapi.Spec{
		Info:    apidoc.Info{Title: "shop", Version: "1.0.0", Description: "Sells things."},
		Servers: []openapi.Server{{URL: "https://shop.example"}},
		Routes: []apidoc.Route{
			{
				Method: "POST", Path: "/shops/{shop}/items", Params: []apidoc.Param{{Name: "shop"}},
				Name: "createItem", Summary: "Create an item", Description: "Adds an item.", Tags: []string{"items"},
				Request: &createIn{},
				Responses: []apidoc.Response{
					{Status: 201, Body: &Item{}, Description: "Created"},
					{Status: 0, Body: &Problem{}, ContentType: "application/problem+json"},
				},
			},
			{
				Method: "GET", Path: "/items/{id}/*", Params: []apidoc.Param{{Name: "id", Pattern: "[0-9]+"}, {Name: "*"}},
				Deprecated: true,
				Responses:  []apidoc.Response{{Status: 204}},
			},
			// WebSocket and hidden routes are not operations.
			{Method: "GET", Path: "/ws", WebSocket: true},
			{Method: "GET", Path: "/metrics", Hidden: true},
			// A route that documents no responses says so.
			{Method: "DELETE", Path: "/cache"},
		},
	}
}

func build(t *testing.T, s openapi.Spec) (map[string]any, []byte) {
	t.Helper()
	d, err := openapi.Build(s)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return spectest.Decode(t, d, spectest.OpenAPI)
}

func TestBuild(t *testing.T) {
	t.Parallel()
	m, j := build(t, spec())
	create := "paths/~1shops~1{shop}~1items/post"
	checks := []struct{ path, want string }{
		{"openapi", `"3.1.0"`},
		{"info", `{"description":"Sells things.","title":"shop","version":"1.0.0"}`},
		{"servers", `[{"url":"https://shop.example"}]`},
		{create + "/operationId", `"createItem"`},
		{create + "/summary", `"Create an item"`},
		{create + "/description", `"Adds an item."`},
		{create + "/tags", `["items"]`},
		{create + "/parameters", `[{"in":"path","name":"shop","required":true,"schema":{"type":"string"}}]`},
		{create + "/requestBody/required", `true`},
		{create + "/requestBody/content/application~1json/schema", `{"$ref":"#/components/schemas/CreateIn"}`},
		{create + "/requestBody/content/application~1json/examples/example1/value", `{"name":"pen","price":2}`},
		{create + "/responses/201/content/application~1json/schema", `{"$ref":"#/components/schemas/Item"}`},
		{create + "/responses/201/content/application~1json/examples/example1/value", `{"name":"pen","price":2}`},
		{create + "/responses/default/content/application~1problem+json/schema", `{"$ref":"#/components/schemas/Problem"}`},
		{create + "/responses/default/description", `"Error"`},
		{"components/schemas/Item/properties/price", `{"minimum":0,"type":"integer"}`},
		{"paths/~1items~1{id}~1*/get/parameters", `[{"in":"path","name":"id","required":true,"schema":{"pattern":"^(?:[0-9]+)$","type":"string"}}]`},
		{"paths/~1items~1{id}~1*/get/deprecated", `true`},
		{"paths/~1items~1{id}~1*/get/responses/204", `{"description":"No Content"}`},
		{"paths/~1cache/delete/responses", `{"default":{"description":"The route does not document its responses (see WithResponse)."}}`},
	}
	for _, c := range checks {
		if got := testkit.At(m, c.path); got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	if paths := m["paths"].(map[string]any); len(paths) != 3 {
		t.Errorf("paths %s, want 3 (no WebSocket route, no hidden route)", testkit.At(m, "paths"))
	}
	_, again := build(t, spec())
	if !bytes.Equal(j, again) {
		t.Error("same spec, different bytes")
	}
}

func TestBuildRejects(t *testing.T) {
	t.Parallel()
	op := apidoc.Route{Method: "GET", Path: "/x", Name: "x", Responses: []apidoc.Response{{Status: 200}}}
	tests := []struct {
		name string
		ops  []apidoc.Route
		want string
	}{
		{"operationId twice", []apidoc.Route{op, {Method: "POST", Path: "/y", Name: "x"}}, `operationId "x" is used by GET /x and POST /y`},
		{"operation twice", []apidoc.Route{op, {Method: "GET", Path: "/x"}}, "operation already exists"},
		{"bad method", []apidoc.Route{{Method: "BREW", Path: "/x"}}, "unexpected http method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := openapi.Build(openapi.Spec{Routes: tt.ops})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBuildEmpty(t *testing.T) {
	t.Parallel()
	m, _ := build(t, openapi.Spec{})
	if got := testkit.At(m, ""); got != `{"info":{"title":"forge application","version":"0.0.0"},"openapi":"3.1.0","paths":{}}` {
		t.Fatalf("empty document %s", got)
	}
}

func TestSecurity(t *testing.T) {
	t.Parallel()
	jwt := apidoc.Security{Key: "jwt", Scheme: apidoc.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT"}}
	key := apidoc.Security{Key: "key", Scheme: apidoc.SecurityScheme{Type: "apiKey", In: "header", Name: "X-Key", Description: "A key."}}
	user := apidoc.Security{Key: "user", Scheme: apidoc.SecurityScheme{Type: "http", Scheme: "basic"}}
	s := openapi.Spec{
		Routes: []apidoc.Route{
			{Method: "GET", Path: "/x", Responses: []apidoc.Response{{Status: 204}}, Security: []apidoc.Security{jwt, key}, Scopes: []string{"read"}},
			{Method: "GET", Path: "/y", Responses: []apidoc.Response{{Status: 204}}, Security: []apidoc.Security{user}},
			{Method: "GET", Path: "/ws", WebSocket: true, Security: []apidoc.Security{{Key: "ws", Scheme: user.Scheme}}},
		},
	}
	m, _ := build(t, s)
	for _, c := range []struct{ path, want string }{
		{"paths/~1x/get/security", `[{"jwt":["read"]},{"key":["read"]}]`},
		{"paths/~1y/get/security", `[{"user":[]}]`},
		{"components/securitySchemes/ws", `null`}, // only the operations' schemes
		{"components/securitySchemes/jwt", `{"bearerFormat":"JWT","scheme":"bearer","type":"http"}`},
		{"components/securitySchemes/key", `{"description":"A key.","in":"header","name":"X-Key","type":"apiKey"}`},
		{"components/securitySchemes/user", `{"scheme":"basic","type":"http"}`},
	} {
		if got := testkit.At(m, c.path); got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	s.Routes[1].Security = []apidoc.Security{{Key: "odd", Scheme: apidoc.SecurityScheme{Type: "oauth2"}}}
	if _, err := openapi.Build(s); err == nil || !strings.Contains(err.Error(), "neither http nor apiKey") {
		t.Errorf("unknown type: %v", err)
	}
}
