package docs

import (
	"bytes"
	"html"
	"html/template"
	"net/http"

	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5emb"
)

// swagger is Swagger UI (embedded by swgui, no CDN): its page, rendered
// once, and the handler of its assets.
type swagger struct {
	page   *page
	assets http.Handler
}

// newSwagger returns Swagger UI for the OpenAPI document at specURL,
// serving its page at base and its assets below it. A thin bar above it
// links back to the index and to the WebSocket page.
func newSwagger(title, specURL, base string, withWebSocket bool) *swagger {
	nav := `<nav class="forge-docs-nav"><a href="../">` + html.EscapeString(title) + `</a>` +
		`<span aria-current="page">REST API</span>`
	if withWebSocket {
		nav += `<a href="../` + websocketDir + `">WebSocket API</a>`
	}
	nav += `</nav>`
	ui := v5emb.NewHandlerWithConfig(swgui.Config{
		Title:       title,
		SwaggerJSON: specURL,
		BasePath:    base,
		SettingsUI: map[string]string{
			// Show the schemas section too: it is most of what a reader
			// of an API reference wants.
			"defaultModelsExpandDepth": "1",
		},
		AppendHead:  template.HTML(swaggerNavStyle), //nolint:gosec // a constant
		PrependHTML: template.HTML(nav),             //nolint:gosec // title is escaped
	})
	// The page depends on the configuration only: render it now, so that it
	// gets an ETag and costs nothing per request.
	req, err := http.NewRequest(http.MethodGet, base, nil)
	if err != nil {
		panic("forge: docs: Swagger UI page: " + err.Error())
	}
	rec := &recorder{header: make(http.Header), code: http.StatusOK}
	ui.ServeHTTP(rec, req)
	if rec.code != http.StatusOK {
		panic("forge: docs: Swagger UI page: " + rec.body.String())
	}
	body := rec.body.Bytes()
	return &swagger{page: &page{body: body, etag: etag(body)}, assets: ui}
}

// recorder keeps what a handler writes (net/http/httptest would register a
// command-line flag in every program that imports forge).
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

const swaggerNavStyle = `<style>
.forge-docs-nav{display:flex;gap:1.25rem;align-items:center;padding:.6rem 1.25rem;
background:#1f2933;font:14px/1.4 system-ui,sans-serif}
.forge-docs-nav a{color:#cbd2d9;text-decoration:none}
.forge-docs-nav a:hover,.forge-docs-nav a:focus{color:#fff;text-decoration:underline}
.forge-docs-nav span{color:#fff;font-weight:600}
.forge-docs-nav a:first-child{font-weight:600;color:#fff;margin-right:auto}
</style>`
