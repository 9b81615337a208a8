package docs

import (
	"net/http"
	"path"
	"strings"
)

// Config says where the UI is mounted and where it finds the documents.
// The zero value serves the UI at the site root with no references.
type Config struct {
	Title       string // shown in the page header; "" means DefaultTitle
	BasePath    string // where the Handler is mounted, e.g. "/docs"; "" or "/" is the root
	OpenAPIURL  string // e.g. "/openapi.json"; "" hides the REST reference
	AsyncAPIURL string // e.g. "/asyncapi.json"; "" hides the WebSocket reference
}

// DefaultTitle is the page title when Config.Title is empty.
const DefaultTitle = "API documentation"

// The pages of the UI, relative to Config.BasePath.
const (
	restDir      = "rest/"      // Swagger UI and its assets
	websocketDir = "websocket/" // forge's WebSocket reference and console
	assetsDir    = "assets/"    // the WebSocket page's CSS and JS, versioned
)

// Handler serves the UI: BasePath+"/" is an index linking both references,
// BasePath+"/rest/" the REST reference (Swagger UI) and
// BasePath+"/websocket/" the WebSocket reference with its live console.
// Everything it serves is embedded in the binary; the pages load nothing
// but their own assets and the two documents.
//
// Paths without their trailing slash are redirected to it, methods other
// than GET and HEAD get 405, and anything else under BasePath gets 404.
// Handler panics if BasePath does not start with "/": that is a
// programmer error caught at startup.
func Handler(cfg Config) http.Handler {
	base := strings.TrimSuffix(cfg.BasePath, "/")
	if cfg.BasePath != "" && !strings.HasPrefix(cfg.BasePath, "/") {
		panic("forge: docs: BasePath " + quote(cfg.BasePath) + " must start with '/'")
	}
	if base != "" && path.Clean(base) != base {
		panic("forge: docs: BasePath " + quote(cfg.BasePath) + " must be a clean path")
	}
	if cfg.Title == "" {
		cfg.Title = DefaultTitle
	}
	h := &handler{base: base, assets: newAssets()}
	h.index = mustPage("index.html", pageData{
		Title:    cfg.Title,
		REST:     cfg.OpenAPIURL != "",
		WS:       cfg.AsyncAPIURL != "",
		OpenAPI:  cfg.OpenAPIURL,
		AsyncAPI: cfg.AsyncAPIURL,
		Assets:   assetsDir + h.assets.version + "/",
	})
	if cfg.AsyncAPIURL != "" {
		h.websocket = mustPage("websocket.html", pageData{
			Title:    cfg.Title,
			REST:     cfg.OpenAPIURL != "",
			WS:       true,
			OpenAPI:  cfg.OpenAPIURL,
			AsyncAPI: cfg.AsyncAPIURL,
			Assets:   "../" + assetsDir + h.assets.version + "/",
		})
	}
	if cfg.OpenAPIURL != "" {
		h.rest = newSwagger(cfg.Title, cfg.OpenAPIURL, base+"/"+restDir, cfg.AsyncAPIURL != "")
	}
	return h
}

// handler routes the UI's few paths; it holds only what Handler built, so
// it is safe for concurrent use.
type handler struct {
	base      string // BasePath without its trailing slash
	index     *page
	websocket *page    // nil without an AsyncAPI document
	rest      *swagger // nil without an OpenAPI document
	assets    *assets
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, h.base)
	if !ok || (rel != "" && rel[0] != '/') {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	rel = strings.TrimPrefix(rel, "/")
	switch {
	case rel == "" && !strings.HasSuffix(r.URL.Path, "/"):
		redirectToDir(w, r)
	case rel == "":
		h.index.serve(w, r)
	case rel+"/" == websocketDir && h.websocket != nil:
		redirectToDir(w, r)
	case rel == websocketDir && h.websocket != nil:
		h.websocket.serve(w, r)
	case rel+"/" == restDir && h.rest != nil:
		redirectToDir(w, r)
	case rel == restDir && h.rest != nil:
		h.rest.page.serve(w, r)
	case strings.HasPrefix(rel, restDir) && h.rest != nil:
		// Swagger UI's assets answer If-None-Match from their ETag; make
		// browsers revalidate so that an upgrade of the binary shows.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.rest.assets.ServeHTTP(w, r)
	case strings.HasPrefix(rel, assetsDir):
		h.assets.serve(w, r, strings.TrimPrefix(rel, assetsDir))
	default:
		http.NotFound(w, r)
	}
}

// redirectToDir sends the client to the same path with a trailing slash,
// relative to where it is, so that it works behind a prefix-stripping proxy.
func redirectToDir(w http.ResponseWriter, r *http.Request) {
	target := path.Base(r.URL.Path) + "/"
	if r.URL.Path == "" || r.URL.Path == "/" {
		target = "/"
	}
	if q := r.URL.RawQuery; q != "" {
		target += "?" + q
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusMovedPermanently)
}

func quote(s string) string { return `"` + s + `"` }
