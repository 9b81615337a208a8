package forge_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/internal/docshapes"
	"github.com/forgekit/forge/internal/testkit"
	"github.com/forgekit/forge/router"
)

var docFiles = []string{"openapi.json", "openapi.yaml", "asyncapi.json", "asyncapi.yaml"}

// writeDocs writes app's documents into a temporary directory and returns
// it.
func writeDocs(t testing.TB, app *forge.App) string {
	t.Helper()
	dir := t.TempDir()
	if err := app.WriteDocuments(dir); err != nil {
		t.Fatalf("WriteDocuments: %v", err)
	}
	return dir
}

func readFile(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeJSON decodes a document for lookups with at.
func decodeJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at follows a path of keys ("paths|/users/{id}|get|operationId") and
// returns the compact JSON of what it finds, "null" when nothing.
func at(v any, path string) string {
	return testkit.At(v, strings.ReplaceAll(strings.ReplaceAll(path, "/", "~1"), "|", "/"))
}

type check struct{ path, want string }

func checkAll(t *testing.T, doc map[string]any, checks []check) {
	t.Helper()
	for _, c := range checks {
		if got := at(doc, c.path); got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
}

// TestShapesDocuments finds in both documents of an app with every route
// shape what each option wrote. The integration module's tests validate
// the same documents.
func TestShapesDocuments(t *testing.T) {
	t.Parallel()
	app := docshapes.App()
	_ = app.Handler() // installs the document routes, which must stay out
	dir := writeDocs(t, app)
	oas := decodeJSON(t, readFile(t, dir, "openapi.json"))
	checkAll(t, oas, []check{
		// WithAppName, WithVersion, WithAppDescription, WithAddr.
		{"info", `{"description":"Every route shape forge documents.","title":"shapes","version":"1.2.3"}`},
		{"servers", `[{"url":"http://127.0.0.1:9000"}]`},
		// WithName, WithSummary, WithDescription, WithTags, WithResponse,
		// and a typed handler's input and output.
		{"paths|/users/{id}|get|operationId", `"getUser"`},
		{"paths|/users/{id}|get|summary", `"Get a user"`},
		{"paths|/users/{id}|get|description", `"Returns one user."`},
		{"paths|/users/{id}|get|tags", `["users"]`},
		{"paths|/users/{id}|get|responses|404", `{"content":{"application/problem+json":{"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"No such user"}`},
		{"paths|/users/{id}|get|responses|200", `{"$ref":"#/components/responses/User200"}`},
		{"paths|/users/{id}|get|responses|422", `{"$ref":"#/components/responses/Problem422"}`},
		{"paths|/users/{id}|get|responses|default", `{"$ref":"#/components/responses/ProblemDefault"}`},
		{"components|responses|User200|content|application/json|schema", `{"$ref":"#/components/schemas/User"}`},
		{"components|responses|Problem422", `{"content":{"application/problem+json":{"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The request failed validation; the problem's errors say where."}`},
		{"paths|/users/{id}|get|parameters|2", `{"description":"The user's id.","in":"path","name":"id","required":true,"schema":{"description":"The user's id.","pattern":"^[a-z0-9]+$","type":"string"}}`},
		{"paths|/users/{id}|get|parameters|3", `{"in":"header","name":"X-Request-Id","schema":{"type":"string"}}`},
		{"paths|/users|get|parameters|0", `{"in":"query","name":"limit","schema":{"default":20,"maximum":100,"minimum":1,"type":"integer"}}`},
		{"paths|/users|get|responses|200|content|application/json|schema", `{"$ref":"#/components/schemas/PageUser"}`},
		// WithStatus, a group's tags, a body.
		{"paths|/orgs/{org}/users|post|responses|201|content|application/json|schema", `{"$ref":"#/components/schemas/User"}`},
		{"paths|/orgs/{org}/users|post|responses|400", `{"$ref":"#/components/responses/Problem400"}`},
		{"paths|/orgs/{org}/users|post|tags", `["orgs"]`},
		{"paths|/orgs/{org}/users|post|requestBody|required", `true`},
		{"paths|/orgs/{org}/users|post|parameters|1", `{"in":"header","name":"Idempotency-Key","required":true,"schema":{"type":"string"}}`},
		{"paths|/orgs/{org}/users/{id}|delete|responses|204", `{"description":"No Content"}`},
		// WithDeprecated, WithRequest on an untyped handler.
		{"paths|/legacy|post|deprecated", `true`},
		{"paths|/legacy|post|parameters", `[{"in":"query","name":"trace","schema":{"type":"string"}}]`},
		{"paths|/legacy|post|requestBody|content|application/json|schema", `{"$ref":"#/components/schemas/LegacyIn"}`},
		{"paths|/legacy|post|responses", `{"202":{"description":"Accepted"}}`},
		{"paths|/items/{id}|get|parameters|0|schema", `{"pattern":"^(?:[0-9]+)$","type":"string"}`},
		// A mounted router; WithHidden; the framework's own routes.
		{"paths|/v2/ping|get|operationId", `"v2Ping"`},
		{"paths|/internal/metrics", `null`},
		{"paths|/openapi.json", `null`},
		{"paths|/asyncapi.yaml", `null`},
		// WithAuth, WithScopes: one alternative per scheme of each provider.
		{"paths|/admin/stats|get|security", `[{"apikey":["admin"]},{"jwt":["admin"]},{"jwt_query":["admin"]}]`},
		{"components|securitySchemes|apikey|in", `"header"`},
		{"components|securitySchemes|apikey|name", `"X-API-Key"`},
		{"components|securitySchemes|jwt_query", `{"description":"A JSON Web Token in a query parameter.","in":"query","name":"access_token","type":"apiKey"}`},
		{"components|securitySchemes|jwt|bearerFormat", `"JWT"`},
		{"paths|/users|get|security", `null`},
		{"components|schemas|Status", `{"enum":["online","away","offline"],"type":"string"}`},
		{"components|schemas|User|properties|manager", `{"$ref":"#/components/schemas/User"}`},
		{"components|schemas|User|properties|createdAt", `{"format":"date-time","type":"string"}`},
		{"components|schemas|User|properties|attrs", `{"additionalProperties":{"type":"integer"},"type":"object"}`},
	})
	if n := len(oas["paths"].(map[string]any)); n != 12 {
		t.Errorf("%d paths, want 12", n)
	}

	aas := decodeJSON(t, readFile(t, dir, "asyncapi.json"))
	checkAll(t, aas, []check{
		{"info", `{"description":"Every route shape forge documents.","title":"shapes","version":"1.2.3"}`},
		{"servers", `{"local":{"description":"The listen address of the application.","host":"127.0.0.1:9000","protocol":"ws"}}`},
		// ":room" becomes a declared {room}; WithWebSocketMessages gives one
		// operation per direction, from the server's point of view.
		{"channels|ws-chat-room|address", `"/ws/chat/{room}"`},
		{"channels|ws-chat-room|parameters", `{"room":{}}`},
		{"channels|ws-chat-room|summary", `"Chat room"`},
		{"operations|ws-chat-room.receive.ChatLine|action", `"receive"`},
		{"operations|ws-chat-room.send.ChatLine|action", `"send"`},
		{"operations|ws-chat-room.send.ChatLine|tags", `[{"name":"chat"}]`},
		// WithName, WithDescription, WithRequest, WithSubprotocols,
		// WithRequiredSubprotocol, WithMessages with events and a reply.
		{"channels|events|address", `"/ws/events/{topic}"`},
		{"channels|events|description", `"Subscribe to topics and receive notices."`},
		{"channels|events|parameters|topic", `{"description":"The topic to follow.","enum":["news","sport"]}`},
		{"channels|events|bindings|ws|query|required", `["token"]`},
		{"channels|events|bindings|ws|query|properties|since", `{"minimum":0,"type":"integer"}`},
		{"channels|events|bindings|ws|headers|required", `["Sec-WebSocket-Protocol"]`},
		{"channels|events|bindings|ws|headers|properties|Authorization", `{"type":"string"}`},
		{"channels|events|bindings|ws|bindingVersion", `"0.1.0"`},
		{"operations|events.receive.subscribe|summary", `"Subscribe to topics"`},
		{"operations|events.receive.subscribe|reply|messages", `[{"$ref":"#/channels/events/messages/subscribed"}]`},
		{"operations|events.receive.unsubscribe|action", `"receive"`},
		{"operations|events.send.notice|description", `"A notice on a followed topic."`},
		{"components|messages|subscribe|payload|properties|event", `{"const":"subscribe","type":"string"}`},
		{"components|messages|subscribe|payload|properties|payload", `{"$ref":"#/components/schemas/Subscribe"}`},
		{"components|messages|user|examples|0|payload|event", `"user"`},
		// Two types named FieldError, from two packages.
		{"components|messages|DocshapesFieldError|payload", `{"$ref":"#/components/schemas/DocshapesFieldError"}`},
		{"components|messages|RouterFieldError|payload", `{"$ref":"#/components/schemas/RouterFieldError"}`},
		// WithDeprecated, group tags; WithHidden; a mounted router.
		{"channels|ws-admin-old|x-deprecated", `true`},
		{"channels|ws-admin-old|tags", `[{"name":"admin"}]`},
		{"channels|ws-admin-hidden", `null`},
		{"channels|v2-ws-feed-id|address", `"/v2/ws/feed/{id}"`},
		{"operations|v2-ws-feed-id.send.Notice|action", `"send"`},
		{"operations|ws-secure.send.Ack|security", `[{"$ref":"#/components/securitySchemes/jwt"},{"$ref":"#/components/securitySchemes/jwt_query"}]`},
		{"components|securitySchemes|jwt_query", `{"description":"A JSON Web Token in a query parameter.","in":"query","name":"access_token","type":"httpApiKey"}`},
		{"components|securitySchemes|apikey", `null`},
		// How a browser presents the bearer token on a handshake.
		{"components|securitySchemes|jwt|x-forge-subprotocol-prefix", `"bearer."`},
		{"components|securitySchemes|jwt_query|x-forge-subprotocol-prefix", `null`},
		{"operations|ws-chat-room.send.ChatLine|security", `null`},
	})
	if n := len(aas["channels"].(map[string]any)); n != 5 {
		t.Errorf("%d channels, want 5", n)
	}
}

// TestDocumentsDeterministic builds the documents of two equal apps.
func TestDocumentsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := writeDocs(t, docshapes.App()), writeDocs(t, docshapes.App())
	for _, name := range docFiles {
		if !bytes.Equal(readFile(t, a, name), readFile(t, b, name)) {
			t.Errorf("%s differs between two builds of the same routes", name)
		}
	}
}

// fetch GETs path from h and returns the status, content type and body.
func fetch(t *testing.T, h http.Handler, path string) (int, string, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()
}

// TestDocumentsServed serves the documents and the docs UI, and rebuilds
// the documents when routes are added.
func TestDocumentsServed(t *testing.T) {
	t.Parallel()
	app := docshapes.App()
	h := app.Handler()
	dir := writeDocs(t, app)
	for _, tc := range []struct{ path, file, ct string }{
		{"/openapi.json", "openapi.json", "application/json"},
		{"/openapi.yaml", "openapi.yaml", "application/yaml"},
		{"/asyncapi.json", "asyncapi.json", "application/json"},
		{"/asyncapi.yaml", "asyncapi.yaml", "application/yaml"},
	} {
		status, ct, body := fetch(t, h, tc.path)
		if status != http.StatusOK || ct != tc.ct || !bytes.Equal(body, readFile(t, dir, tc.file)) {
			t.Errorf("GET %s: %d %q, body equal to %s: %v", tc.path, status, ct, tc.file, bytes.Equal(body, readFile(t, dir, tc.file)))
		}
	}
	status, ct, body := fetch(t, h, "/docs/")
	if status != http.StatusOK || !strings.HasPrefix(ct, "text/html") || !bytes.Contains(body, []byte("/openapi.json")) {
		t.Errorf("GET /docs/: %d %q %.200s", status, ct, body)
	}

	// A route added later shows in the next document.
	app.Router().GET("/late", docshapes.OKJSON, forge.WithName("late"))
	_, _, body = fetch(t, h, "/openapi.json")
	if got := at(decodeJSON(t, body), "paths|/late|get|operationId"); got != `"late"` {
		t.Errorf("after a new route, its operationId is %s", got)
	}
}

func TestDocumentOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []forge.Option
		ok   []string // paths served
		gone []string // paths answered 404
	}{
		{"defaults", nil, []string{"/openapi.json", "/asyncapi.yaml", "/docs/"}, nil},
		{"paths", []forge.Option{forge.WithDocumentPaths("/api/oas.json", "/api/aas.json"), forge.WithDocsPath("/api/ui/")},
			[]string{"/api/oas.json", "/api/oas.yaml", "/api/aas.json", "/api/aas.yaml", "/api/ui/"},
			[]string{"/openapi.json", "/asyncapi.json", "/docs/"}},
		{"no UI", []forge.Option{forge.WithoutDocsUI()}, []string{"/openapi.json"}, []string{"/docs/"}},
		{"off", []forge.Option{forge.WithoutDocs()}, nil, []string{"/openapi.json", "/openapi.yaml", "/asyncapi.json", "/docs/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := forge.New(append(tt.opts, quiet)...)
			app.Router().GET("/x", docshapes.OKJSON)
			h := app.Handler()
			for _, p := range tt.ok {
				if status, _, body := fetch(t, h, p); status != http.StatusOK {
					t.Errorf("GET %s: %d %s", p, status, body)
				}
			}
			for _, p := range tt.gone {
				if status, _, _ := fetch(t, h, p); status != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", p, status)
				}
			}
		})
	}
}

// TestDocumentServers finds the address options in the servers of both
// documents. The integration module's tests validate these documents.
func TestDocumentServers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		opts           []forge.Option
		openapi, async string
	}{
		{"any interface", []forge.Option{forge.WithAddr(":8081")},
			`[{"url":"http://localhost:8081"}]`,
			`{"local":{"description":"The listen address of the application.","host":"localhost:8081","protocol":"ws"}}`},
		{"IPv6", []forge.Option{forge.WithAddr("[::1]:80")},
			`[{"url":"http://[::1]:80"}]`,
			`{"local":{"description":"The listen address of the application.","host":"[::1]:80","protocol":"ws"}}`},
		{"public https", []forge.Option{forge.WithPublicURL("https://api.example.com/base/")},
			`[{"url":"https://api.example.com/base"}]`,
			`{"public":{"host":"api.example.com","pathname":"/base","protocol":"wss"}}`},
		{"public http", []forge.Option{forge.WithPublicURL("http://10.0.0.1:9000")},
			`[{"url":"http://10.0.0.1:9000"}]`,
			`{"public":{"host":"10.0.0.1:9000","protocol":"ws"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := forge.New(append(tt.opts, quiet)...)
			app.Router().WebSocket("/ws", docshapes.WSNoop)
			dir := writeDocs(t, app)
			if got := at(decodeJSON(t, readFile(t, dir, "openapi.json")), "servers"); got != tt.openapi {
				t.Errorf("OpenAPI servers %s, want %s", got, tt.openapi)
			}
			if got := at(decodeJSON(t, readFile(t, dir, "asyncapi.json")), "servers"); got != tt.async {
				t.Errorf("AsyncAPI servers %s, want %s", got, tt.async)
			}
		})
	}
}

// TestDocumentPathMistakes: document paths are the program's, so bad ones
// panic where they are written.
func TestDocumentPathMistakes(t *testing.T) {
	t.Parallel()
	testkit.MustPanicCases(t, "forge: ", []testkit.PanicCase{
		{"relative path", func() { forge.WithDocumentPaths("openapi.json", "/asyncapi.json") }, "WithDocumentPaths"},
		{"not json", func() { forge.WithDocumentPaths("/openapi.yaml", "/asyncapi.json") }, "WithDocumentPaths"},
		{"same path", func() { forge.WithDocumentPaths("/d.json", "/d.json") }, "both documents"},
		{"docs root", func() { forge.WithDocsPath("/") }, "WithDocsPath"},
		{"docs parameter", func() { forge.WithDocsPath("/docs/{x}") }, "WithDocsPath"},
	})
}

// TestPublicURLErrors: the public URL is the deployment's, so a bad one is
// an error from Serve.
func TestPublicURLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  forge.Option
		want string
	}{
		{"public URL scheme", forge.WithPublicURL("ftp://example.com"), "WithPublicURL"},
		{"public URL query", forge.WithPublicURL("https://example.com/?a=1"), "WithPublicURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := forge.New(tt.opt, quiet).Serve(listen(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Serve: %v, want an error about %s", err, tt.want)
			}
		})
	}
}

// TestDocumentRouteConflict: an application route where a document would
// be served makes Serve fail, and says how to fix it.
func TestDocumentRouteConflict(t *testing.T) {
	t.Parallel()
	app := forge.New(quiet)
	app.Router().GET("/openapi.json", docshapes.OKJSON)
	err := app.Serve(listen(t))
	if err == nil || !strings.Contains(err.Error(), "WithDocumentPaths") || !strings.Contains(err.Error(), "/openapi.json") {
		t.Fatalf("Serve: %v", err)
	}
	if status, _, _ := fetch(t, app.Handler(), "/x"); status != http.StatusInternalServerError {
		t.Fatalf("Handler of a misconfigured app answers %d", status)
	}
}

// TestDocumentBuildError: routes whose documents cannot be built (here
// two mounted routers use one route name) are answered with 500, logged,
// and reported by WriteDocuments.
func TestDocumentBuildError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	app := forge.New(forge.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	for _, prefix := range []string{"/a", "/b"} {
		sub := router.New(router.Config{})
		sub.GET("/x", docshapes.OKJSON, router.WithName("same"))
		app.Router().Mount(prefix, sub)
	}
	err := app.WriteDocuments(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `operationId "same" is used by GET /a/x and GET /b/x`) {
		t.Fatalf("WriteDocuments: %v", err)
	}
	if status, _, _ := fetch(t, app.Handler(), "/openapi.json"); status != http.StatusInternalServerError {
		t.Fatalf("GET /openapi.json: %d", status)
	}
	if !strings.Contains(logs.String(), "OpenAPI document") {
		t.Fatalf("the failure is not logged: %s", logs.String())
	}
}

// TestWriteDocsEnv: with FORGE_WRITE_DOCS set, Run writes the documents
// that WriteDocuments writes, and returns without serving.
func TestWriteDocsEnv(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	t.Setenv(forge.WriteDocsEnv, dir)
	app := docshapes.App(forge.WithAddr("127.0.0.1:1")) // port 1: serving would fail
	if err := app.Run(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := writeDocs(t, docshapes.App(forge.WithAddr("127.0.0.1:1")))
	for _, name := range docFiles {
		if !bytes.Equal(readFile(t, dir, name), readFile(t, want, name)) {
			t.Errorf("%s differs from what WriteDocuments writes", name)
		}
	}

	t.Setenv(forge.WriteDocsEnv, filepath.Join(dir, "openapi.json", "sub")) // a file, not a directory
	if err := docshapes.App().Run(); err == nil {
		t.Fatal("Run wrote into a file's path")
	}
}
