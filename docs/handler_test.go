package docs_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/forgekit/forge/docs"
	"github.com/forgekit/forge/internal/testkit"
)

// fullConfig mounts both references at /docs.
var fullConfig = docs.Config{
	Title:       "Chat <API>",
	BasePath:    "/docs",
	OpenAPIURL:  "/openapi.json",
	AsyncAPIURL: "/asyncapi.json",
}

// get serves one request to h and returns the response with its body read.
func get(t *testing.T, h http.Handler, method, target string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestHandlerRoutes(t *testing.T) {
	t.Parallel()
	h := docs.Handler(fullConfig)
	tests := []struct {
		name, method, path string
		status             int
		contentType        string // prefix
		location           string
		body               []string // substrings the body must contain
	}{
		{name: "base without slash redirects", method: "GET", path: "/docs", status: 301, location: "docs/"},
		{name: "redirect keeps the query", method: "GET", path: "/docs?x=1", status: 301, location: "docs/?x=1"},
		{name: "index", method: "GET", path: "/docs/", status: 200, contentType: "text/html; charset=utf-8",
			body: []string{`href="rest/"`, `href="websocket/"`, `href="/openapi.json"`, `href="/asyncapi.json"`, "Chat &lt;API&gt;"}},
		{name: "index HEAD", method: "HEAD", path: "/docs/", status: 200, contentType: "text/html; charset=utf-8"},
		{name: "websocket without slash redirects", method: "GET", path: "/docs/websocket", status: 301, location: "websocket/"},
		{name: "websocket page", method: "GET", path: "/docs/websocket/", status: 200, contentType: "text/html; charset=utf-8",
			body: []string{`data-asyncapi-url="/asyncapi.json"`, `type="module"`, "websocket.js", `id="console"`, `href="../rest/"`}},
		{name: "rest without slash redirects", method: "GET", path: "/docs/rest", status: 301, location: "rest/"},
		{name: "swagger ui page", method: "GET", path: "/docs/rest/", status: 200, contentType: "text/html; charset=utf-8",
			body: []string{"/docs/rest/swagger-ui-bundle.js", "/docs/rest/swagger-ui.css", `"swaggerJsonUrl":"/openapi.json"`, `href="../"`, "Chat &lt;API&gt;"}},
		{name: "swagger ui bundle", method: "GET", path: "/docs/rest/swagger-ui-bundle.js", status: 200, contentType: "application/javascript", body: []string{"SwaggerUIBundle"}},
		{name: "swagger ui css", method: "GET", path: "/docs/rest/swagger-ui.css", status: 200, contentType: "text/css"},
		{name: "unknown swagger file", method: "GET", path: "/docs/rest/nope.js", status: 404},
		{name: "unknown page", method: "GET", path: "/docs/nope", status: 404},
		{name: "unversioned asset", method: "GET", path: "/docs/assets/docs.css", status: 404},
		{name: "asset of another version", method: "GET", path: "/docs/assets/000000000000/docs.css", status: 404},
		{name: "path sharing the prefix", method: "GET", path: "/docsx/", status: 404},
		{name: "outside the base path", method: "GET", path: "/other", status: 404},
		{name: "POST", method: "POST", path: "/docs/", status: 405},
		{name: "PUT on an asset", method: "PUT", path: "/docs/rest/swagger-ui.css", status: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, h, tc.method, tc.path, nil)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %.200q)", res.StatusCode, tc.status, body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			if loc := res.Header.Get("Location"); loc != tc.location {
				t.Errorf("Location %q, want %q", loc, tc.location)
			}
			if tc.status == 405 && res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q, want GET, HEAD", res.Header.Get("Allow"))
			}
			if tc.method == "HEAD" && body != "" {
				t.Errorf("HEAD returned a body of %d bytes", len(body))
			}
			for _, want := range tc.body {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
		})
	}
}

// references returns the URLs in the src and href attributes of an HTML page.
var attrURL = regexp.MustCompile(`(?:src|href)="([^"]*)"`)

func references(page string) []string {
	var out []string
	for _, m := range attrURL.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// resolve returns the path that a reference on the page at base points to.
func resolve(t *testing.T, base, ref string) string {
	t.Helper()
	req := httptest.NewRequest("GET", base, nil)
	u, err := req.URL.Parse(ref)
	if err != nil {
		t.Fatalf("reference %q: %v", ref, err)
	}
	return u.Path
}

func TestPagesLoadOnlyOwnAssets(t *testing.T) {
	t.Parallel()
	h := docs.Handler(fullConfig)
	for _, page := range []string{"/docs/", "/docs/websocket/", "/docs/rest/"} {
		t.Run(page, func(t *testing.T) {
			_, body := get(t, h, "GET", page, nil)
			refs := references(body)
			if len(refs) == 0 {
				t.Fatal("no references found: the page or the test is broken")
			}
			for _, ref := range refs {
				if strings.Contains(ref, "//") || strings.Contains(ref, ":") && !strings.HasPrefix(ref, "data:") {
					t.Errorf("absolute or external reference %q", ref)
					continue
				}
				if strings.HasPrefix(ref, "data:") || ref == "/openapi.json" || ref == "/asyncapi.json" {
					continue // the documents are served by the app, not by this handler
				}
				p := resolve(t, page, ref)
				res, _ := get(t, h, "GET", p, nil)
				if res.StatusCode != 200 {
					t.Errorf("%q (%s) answered %d", ref, p, res.StatusCode)
				}
			}
		})
	}
}

func TestCaching(t *testing.T) {
	t.Parallel()
	h := docs.Handler(fullConfig)
	_, page := get(t, h, "GET", "/docs/websocket/", nil)
	var css, js string
	for _, ref := range references(page) {
		switch {
		case strings.HasSuffix(ref, "docs.css"):
			css = resolve(t, "/docs/websocket/", ref)
		case strings.HasSuffix(ref, "websocket.js"):
			js = resolve(t, "/docs/websocket/", ref)
		}
	}
	if css == "" || js == "" {
		t.Fatalf("the WebSocket page does not reference docs.css and websocket.js: %v", references(page))
	}
	if !regexp.MustCompile(`^/docs/assets/[0-9a-f]{12}/docs\.css$`).MatchString(css) {
		t.Errorf("asset path %q is not versioned", css)
	}

	tests := []struct {
		name, path, contentType, cacheControl string
	}{
		{"index", "/docs/", "text/html; charset=utf-8", "no-cache"},
		{"websocket page", "/docs/websocket/", "text/html; charset=utf-8", "no-cache"},
		{"versioned css", css, "text/css; charset=utf-8", "public, max-age=31536000, immutable"},
		{"versioned js", js, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"swagger ui page", "/docs/rest/", "text/html; charset=utf-8", "no-cache"},
		{"swagger ui bundle", "/docs/rest/swagger-ui-bundle.js", "application/javascript", "no-cache"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, h, "GET", tc.path, nil)
			if res.StatusCode != 200 || body == "" {
				t.Fatalf("status %d, %d bytes", res.StatusCode, len(body))
			}
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != tc.cacheControl {
				t.Errorf("Cache-Control %q, want %q", got, tc.cacheControl)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			res2, body2 := get(t, h, "GET", tc.path, http.Header{"If-None-Match": {etag}})
			if res2.StatusCode != http.StatusNotModified || body2 != "" {
				t.Errorf("revalidation with the ETag: status %d, %d bytes; want 304 and none", res2.StatusCode, len(body2))
			}
		})
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	h := docs.Handler(fullConfig)
	for _, page := range []string{"/docs/", "/docs/websocket/"} {
		res, _ := get(t, h, "GET", page, nil)
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self' ws://example.com wss://example.com"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", page, csp, want)
			}
		}
	}
}

func TestOptionalReferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		cfg             docs.Config
		rest, websocket bool
	}{
		{"both", docs.Config{BasePath: "/docs", OpenAPIURL: "/o.json", AsyncAPIURL: "/a.json"}, true, true},
		{"REST only", docs.Config{BasePath: "/docs", OpenAPIURL: "/o.json"}, true, false},
		{"WebSocket only", docs.Config{BasePath: "/docs", AsyncAPIURL: "/a.json"}, false, true},
		{"neither", docs.Config{BasePath: "/docs"}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := docs.Handler(tc.cfg)
			_, index := get(t, h, "GET", "/docs/", nil)
			for _, c := range []struct {
				on         bool
				link, page string
			}{{tc.rest, `href="rest/"`, "/docs/rest/"}, {tc.websocket, `href="websocket/"`, "/docs/websocket/"}} {
				if got := strings.Contains(index, c.link); got != c.on {
					t.Errorf("index links %s: %v, want %v", c.link, got, c.on)
				}
				res, _ := get(t, h, "GET", c.page, nil)
				want := 404
				if c.on {
					want = 200
				}
				if res.StatusCode != want {
					t.Errorf("%s: status %d, want %d", c.page, res.StatusCode, want)
				}
			}
			if got := strings.Contains(index, `id="no-documents"`); got != (!tc.rest && !tc.websocket) {
				t.Errorf("index says no documents: %v", got)
			}
			if !strings.Contains(index, "<title>"+docs.DefaultTitle+"</title>") {
				t.Errorf("index title is not the default title")
			}
		})
	}
}

func TestBasePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, index, swaggerAsset string
	}{
		{"root", "", "/", "/rest/swagger-ui.css"},
		{"slash", "/", "/", "/rest/swagger-ui.css"},
		{"trailing slash", "/api/docs/", "/api/docs/", "/api/docs/rest/swagger-ui.css"},
		{"nested", "/api/docs", "/api/docs/", "/api/docs/rest/swagger-ui.css"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := docs.Handler(docs.Config{BasePath: tc.base, OpenAPIURL: "/o.json", AsyncAPIURL: "/a.json"})
			for _, p := range []string{tc.index, tc.index + "websocket/", tc.index + "rest/", tc.swaggerAsset} {
				res, body := get(t, h, "GET", p, nil)
				if res.StatusCode != 200 {
					t.Errorf("GET %s: status %d", p, res.StatusCode)
				}
				if p == tc.index+"rest/" && !strings.Contains(body, tc.swaggerAsset) {
					t.Errorf("Swagger UI page does not load %s", tc.swaggerAsset)
				}
			}
		})
	}
}

func TestHandlerPanicsOnBadBasePath(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"docs", "/docs/../x", "/a//b"} {
		t.Run(base, func(t *testing.T) {
			testkit.MustPanic(t, "forge: docs: BasePath", "", func() { docs.Handler(docs.Config{BasePath: base}) })
		})
	}
}
